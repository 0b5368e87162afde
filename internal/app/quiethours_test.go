package app

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/costbot/costbot/internal/config"
	"github.com/costbot/costbot/internal/demo"
	"github.com/costbot/costbot/internal/rules"
)

// quietRules make the budget's 80% threshold critical and its forecast a
// warning; the anomaly and card rules name finops, so routes do not apply
// to them.
const quietRules = `budgets:
  - name: workers
    scope: {account: production, family: "Workers*"}
    amount: 250
    currency: USD
    thresholds:
      - {percent: 80, on: actual, severity: critical}
      - {percent: 100, on: forecast, severity: warning}
anomalies:
  - name: spikes
    scope: {account: "*"}
    min_impact: 5
    notify: [finops]
cards:
  - name: card
    account: "*"
    notify: [finops]
`

// quietRouting is the config's routing: critical alerts at once, everything
// else held from 20:00 to 08:00 UTC.
const quietRouting = `time_intervals:
  - name: quiet-hours
    time_intervals:
      - times: [{start_time: "20:00", end_time: "24:00"}, {start_time: "00:00", end_time: "08:00"}]
routes:
  - matchers: ['severity="critical"']
    notifiers: [finops, ops-hook]
  - notifiers: [finops, ops-hook]
    mute_time_intervals: [quiet-hours]
`

// Quiet hours from the config, through real cycles and the state file: at
// 21:00 the critical budget goes out at once and the forecast warning waits;
// the alerts whose rules name a notifier (notify:) bypass routes and go out
// too; at 08:00 the warning goes out to both notifiers. A forecast that
// resolves in quiet hours (its period ended) sends its resolved message at
// 08:00, not at once.
func TestApp_Cycle_QuietHours(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 21, 0, 0, 0, time.UTC)
	e := newEnv(t, now)
	yml, err := os.ReadFile(e.cfg.File)
	if err != nil {
		t.Fatal(err)
	}
	yml = append(yml, quietRouting...)
	if e.cfg, err = config.Parse(e.cfg.File, yml, func(k string) (string, bool) { return demo.Token, k == "CF" }); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(e.cfg.Path(e.cfg.Rules), "r.yaml"), []byte(quietRules), 0o644); err != nil {
		t.Fatal(err)
	}
	if e.set, err = rules.LoadDir(e.cfg.Path(e.cfg.Rules)); err != nil {
		t.Fatal(err)
	}
	a := e.app(t, now)

	// sent returns "kind severity period-start notifier reason" per delivery
	// of a cycle at; a resolved message must say when (resolvedAt) and why
	// the alert resolved, however late it goes out.
	resolvedAt := time.Date(2026, 12, 7, 21, 0, 0, 0, time.UTC)
	sent := func(at time.Time) []string {
		t.Helper()
		rep, err := a.Cycle(ctx, at)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, d := range rep.Deliveries {
			al := d.Job.Alert
			out = append(out, strings.Join([]string{al.Kind.String(), al.Severity.String(), al.Period.Start.Format(time.DateOnly),
				d.Job.Notifier, string(al.Reason)}, " "))
			if al.Reason == "resolved" && (!al.EndsAt.Equal(resolvedAt) || !strings.HasPrefix(al.Why, "period ended: closed at")) {
				t.Errorf("resolved message ends %s, why %q; want %s and the closing figure", al.EndsAt, al.Why, resolvedAt)
			}
		}
		slices.Sort(out)
		return out
	}
	for _, tt := range []struct {
		at   time.Time
		want []string
	}{
		{at: now, want: []string{
			"anomaly warning 2026-11-24 finops first",
			"budget critical 2026-11-07 finops first", "budget critical 2026-11-07 ops-hook first",
			"card_expiry warning 2026-11-01 finops first",
		}},
		{at: time.Date(2026, 11, 26, 7, 59, 0, 0, time.UTC), want: nil},
		{at: time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC), want: []string{
			"forecast warning 2026-11-07 finops retry", "forecast warning 2026-11-07 ops-hook retry",
		}},
		// The billing period ended at 00:00: at 21:00, in quiet hours, its
		// forecast alert resolves and the next period's fires; both wait.
		// The expired card's rule names finops: no route, sent at once.
		{at: resolvedAt, want: []string{"card_expiry critical 2026-11-01 finops escalated"}},
		{at: time.Date(2026, 12, 8, 8, 0, 0, 0, time.UTC), want: []string{
			"forecast warning 2026-11-07 finops resolved", "forecast warning 2026-11-07 ops-hook resolved",
			"forecast warning 2026-12-07 finops retry", "forecast warning 2026-12-07 ops-hook retry",
		}},
		{at: time.Date(2026, 12, 8, 9, 0, 0, 0, time.UTC), want: nil},
	} {
		if got := sent(tt.at); !slices.Equal(got, tt.want) {
			t.Errorf("cycle at %s sent\n%q\nwant\n%q", tt.at.Format(time.RFC3339), got, tt.want)
		}
	}
}
