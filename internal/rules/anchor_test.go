package rules_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/costbot/costbot/internal/cost"
	"github.com/costbot/costbot/internal/rules"
)

const anchorAcct = "0123456789abcdef0123456789abcdef"

// anchorRows is one row a day in [from, to) whose BillingPeriod is what the
// billing client gives for a billing-cycle anchor on anchorDay.
func anchorRows(from, to time.Time, anchorDay int, perDay float64) []cost.Usage {
	var out []cost.Usage
	for d := from; d.Before(to); d = d.AddDate(0, 0, 1) {
		out = append(out, cost.Usage{Account: anchorAcct, Service: "Workers Standard", Family: "Workers", Day: d,
			BillingPeriod: cost.BillingPeriod(d, anchorDay), Cost: perDay, CostKnown: true, Currency: "USD"})
	}
	return out
}

func utc(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// findingsOf lists each finding as "threshold period" and each problem.
func findingsOf(set *rules.Set, now time.Time, usage []cost.Usage) []string {
	fs, errs := set.Evaluate(rules.Input{Now: now, Accounts: []cost.Account{{ID: anchorAcct, Name: "production"}}, Usage: usage})
	var out []string
	for _, f := range fs {
		out = append(out, fmt.Sprintf("%s %s", f.Threshold, f.Period))
	}
	for _, e := range errs {
		out = append(out, "problem: "+e.Error())
	}
	return out
}

// TestEvaluate_AnchorRollover: while the first day of a new billing period
// has no rows yet (data lags a day), the budget's period is rolled forward
// from the last one the rows carry. For anchors 29-31 that must be the
// period the next day's rows will carry, or the forecast alert changes
// period (a spurious RESOLVED and a new alert) and a Feb 28 start finds "no
// billing period".
func TestEvaluate_AnchorRollover(t *testing.T) {
	set, err := rules.Parse("anchor.yaml", []byte(`
budgets:
  - name: bp
    scope: {account: production}
    amount: 300
    currency: USD
    thresholds: [{percent: 50}, {percent: 100, on: forecast}]
`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		anchor int
		start  time.Time // first day of the new period
		want   cost.Period
	}{
		{"OK/Anchor31Mar31", 31, utc(2026, 3, 31), cost.Period{Start: utc(2026, 3, 31), End: utc(2026, 4, 30)}},
		{"OK/Anchor31Feb28", 31, utc(2026, 2, 28), cost.Period{Start: utc(2026, 2, 28), End: utc(2026, 3, 31)}},
		{"OK/Anchor31May31", 31, utc(2026, 5, 31), cost.Period{Start: utc(2026, 5, 31), End: utc(2026, 6, 30)}},
		{"OK/Anchor30Feb28", 30, utc(2026, 2, 28), cost.Period{Start: utc(2026, 2, 28), End: utc(2026, 3, 30)}},
		{"OK/Anchor30May30", 30, utc(2026, 5, 30), cost.Period{Start: utc(2026, 5, 30), End: utc(2026, 6, 30)}},
		{"OK/Anchor29LeapFeb29", 29, utc(2028, 2, 29), cost.Period{Start: utc(2028, 2, 29), End: utc(2028, 3, 29)}},
		{"OK/Anchor15", 15, utc(2026, 3, 15), cost.Period{Start: utc(2026, 3, 15), End: utc(2026, 4, 15)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := cost.BillingPeriod(tt.start, tt.anchor); got != tt.want {
				t.Fatalf("test table: BillingPeriod(%s) = %s, want %s", tt.start, got, tt.want)
			}
			from := tt.start.AddDate(0, 0, -40)
			// Day one: rows up to the day before the new period.
			day1 := findingsOf(set, tt.start.Add(12*time.Hour), anchorRows(from, tt.start, tt.anchor, 20))
			// Day two: the new period's first row has arrived.
			next := tt.start.AddDate(0, 0, 1)
			day2 := findingsOf(set, next.Add(12*time.Hour), anchorRows(from, next, tt.anchor, 20))
			wantForecast := "forecast>=100% " + tt.want.String()
			for day, got := range map[string][]string{"first day": day1, "second day": day2} {
				found := false
				for _, f := range got {
					if strings.HasPrefix(f, "problem:") {
						t.Errorf("%s: %s", day, f)
					}
					found = found || f == wantForecast
				}
				if !found {
					t.Errorf("%s: findings %q, want %q among them", day, got, wantForecast)
				}
			}
		})
	}
}
