package app

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
)

// A rule that cannot be evaluated reaches its notifiers once, shows in
// /costbot budgets and /readyz, and resolves when it clears.
func TestCycle_RuleProblems(t *testing.T) {
	aug := func(d int) time.Time { return day(2026, 8, d) }
	tests := []struct {
		name, rules, source string
		usageOnly           bool
		want                string
		title               string
	}{
		{"TypoInFamily", "budgets:\n  - {name: workers, scope: {family: Wrokers}, amount: 100, currency: USD, thresholds: [{percent: 80}], notify: [team]}\n",
			"paygo", false, "firing rule_problem", "Rule workers cannot be evaluated for account=production family=Wrokers: its scope matches no usage"},
		{"CurrencyDiffersFromBill", "budgets:\n  - {name: eur, amount: 100, currency: EUR, thresholds: [{percent: 80}], notify: [team]}\n",
			"paygo", false, "firing rule_problem", "Rule eur cannot be evaluated for account=production: its currency differs from the bill's"},
		{"FocusWithoutCostFields", "budgets:\n  - {name: all, amount: 100, currency: USD, thresholds: [{percent: 80}], notify: [team]}\n",
			"focus", true, "firing rule_problem 2026-08-01", "Rule all cannot be evaluated for account=production: part of the cost is unknown"},
		{"AnomalyRuleWithoutCostFields", liveRules, "focus", true, "firing rule_problem",
			"Rule spikes cannot be evaluated for account=production: part of the cost is unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newLiveEnvSource(t, tt.rules, tt.source)
			e.usageOnly = tt.usageOnly
			e.serve(liveSeries(liveStart, aug(10), nil))
			got, alerts := e.cycle(noon(aug(10)))
			if !slices.Equal(got, []string{tt.want}) || alerts[0].Title != tt.title {
				var titles []string
				for _, a := range alerts {
					titles = append(titles, a.Title)
				}
				t.Fatalf("sent %q %q, want %q %q", got, titles, tt.want, tt.title)
			}
			// /readyz says why the daemon is not doing its job.
			rec := httptest.NewRecorder()
			e.a.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
			var body struct{ Reasons []string }
			_ = json.Unmarshal(rec.Body.Bytes(), &body)
			if rec.Code != http.StatusServiceUnavailable || !slices.Contains(body.Reasons, tt.title) {
				t.Errorf("/readyz %d %s", rec.Code, rec.Body)
			}
			if ps := e.a.cmds.Data().Problems; len(ps) != 1 || ps[0].Title != tt.title {
				t.Errorf("slash data problems %+v", ps)
			}
			// Once per rule, cause and period.
			if got, _ := e.cycle(noon(aug(10)).Add(time.Hour)); len(got) != 0 {
				t.Errorf("second cycle sent %q", got)
			}
		})
	}
	t.Run("ResolvesWhenCostFieldsArrive", func(t *testing.T) {
		e := newLiveEnvSource(t, "budgets:\n  - {name: all, amount: 100000, currency: USD, thresholds: [{percent: 80}], notify: [team]}\n", "focus")
		e.usageOnly = true
		e.serve(liveSeries(liveStart, aug(10), nil))
		if got, _ := e.cycle(noon(aug(10))); len(got) != 1 {
			t.Fatalf("sent %q", got)
		}
		e.usageOnly = false
		e.serve(liveSeries(liveStart, aug(11), nil))
		got, _ := e.cycle(noon(aug(11)))
		if !slices.Equal(got, []string{"resolved rule_problem 2026-08-01"}) {
			t.Errorf("sent %q, want the problem resolved", got)
		}
		rec := httptest.NewRecorder()
		e.a.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"ready"`) {
			t.Errorf("/readyz %d %s", rec.Code, rec.Body)
		}
	})
}
