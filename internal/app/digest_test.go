package app

import (
	"strings"
	"testing"
	"time"

	"github.com/costbot/costbot/internal/cost"
	"github.com/costbot/costbot/internal/rules"
)

// digestInput is two accounts with invoices anchored on the 15th: one billed
// in EUR with a weekly pattern, one in CHF with a correction on the current
// invoice. Data ends yesterday, as in production.
func digestInput(now time.Time) rules.Input {
	accts := []cost.Account{{ID: "0123456789abcdef0123456789abcdef", Name: "production"}, {ID: "fedcba9876543210fedcba9876543210", Name: "zurich"}}
	bp := func(d time.Time) cost.Period {
		s := time.Date(d.Year(), d.Month(), 15, 0, 0, 0, 0, time.UTC)
		if d.Day() < 15 {
			s = s.AddDate(0, -1, 0)
		}
		return cost.Period{Start: s, End: s.AddDate(0, 1, 0)}
	}
	end := cost.Day(now)
	var us []cost.Usage
	for i := 60; i >= 1; i-- {
		d := end.AddDate(0, 0, -i)
		us = append(us,
			cost.Usage{Account: accts[0].ID, Service: "Workers Requests", Family: "Workers", Day: d, BillingPeriod: bp(d),
				Cost: 30 + 4*float64(d.Weekday()), CostKnown: true, Currency: "EUR"},
			cost.Usage{Account: accts[0].ID, Service: "R2 Storage", Family: "R2", Day: d, BillingPeriod: bp(d),
				Cost: 7.25, CostKnown: true, Currency: "EUR"},
			cost.Usage{Account: accts[1].ID, Service: "Argo", Family: "Argo", Day: d, BillingPeriod: bp(d),
				Cost: 41.33, CostKnown: true, Currency: "CHF"},
		)
	}
	us = append(us, cost.Usage{Account: accts[1].ID, Service: "Argo", Family: "Argo", Day: bp(end).Start.AddDate(0, 0, -3),
		BillingPeriod: bp(end), Cost: -12.4, CostKnown: true, Currency: "CHF", Correction: true})
	return rules.Input{Now: now, Accounts: accts, Usage: us}
}

// The digest shows exactly what a budget over the account's total and
// billing period computes, written by the same money and period functions.
func TestDigest_SameFactsAsBudgets(t *testing.T) {
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	in := digestInput(now)
	set, err := rules.Parse("budgets.yaml", []byte(`
budgets:
  - {name: prod, scope: {account: production}, period: billing_period, amount: 2000, currency: EUR,
     thresholds: [{percent: 80, on: actual, severity: warning}]}
  - {name: zurich, scope: {account: zurich}, period: billing_period, amount: 2000, currency: CHF,
     thresholds: [{percent: 80, on: actual, severity: warning}]}
`))
	if err != nil {
		t.Fatal(err)
	}
	budgets := set.Budgets(in)
	ds := rules.Digest(in, false)
	if len(ds) != 2 || len(budgets) != 2 {
		t.Fatalf("%d digests, %d budgets", len(ds), len(budgets))
	}
	for i, d := range ds {
		b := budgets[i]
		t.Run(d.Account.Name, func(t *testing.T) {
			if d.Period != b.Period || d.Spent != b.Actual || d.Forecast != b.Forecast || d.Currency != b.Currency {
				t.Errorf("digest %s %s spent %v forecast %v; budget %s %s actual %v forecast %v",
					d.Period, d.Currency, d.Spent, d.Forecast, b.Period, b.Currency, b.Actual, b.Forecast)
			}
			f := rules.DigestFinding(d, false, nil, nil)
			want := "Billing period " + cost.FormatPeriod(b.Period) + " to date: " + cost.Money(b.Actual, b.Currency) +
				"; forecast for the period: " + cost.Money(b.Forecast, b.Currency) + "."
			if !strings.Contains(f.Summary, want) {
				t.Errorf("summary lacks %q:\n%s", want, f.Summary)
			}
			if f.Actual != b.Actual || f.Forecast != b.Forecast {
				t.Errorf("finding figures %v/%v, budget %v/%v", f.Actual, f.Forecast, b.Actual, b.Forecast)
			}
		})
	}
}

func TestDigestFinding_Text(t *testing.T) {
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	ds := rules.Digest(digestInput(now), false)
	tests := []struct {
		name      string
		d         rules.AccountDigest
		weekly    bool
		want, not []string
	}{
		{"OK/euro", ds[0], false, []string{
			"Billing period 15 Nov – 14 Dec 2026 to date: €",
			"Yesterday (24 Nov 2026): €45.25 (+9.7% vs 23 Nov 2026).",
			"• R2 Storage: €50.75 → €50.75 (+0.0%)",
		}, []string{"EUR ", "Nov 15"}},
		{"OK/franc", ds[1], false, []string{"to date: CHF 400.90; forecast for the period: CHF 1,227.50.", "Yesterday (24 Nov 2026): CHF 41.33 (+0.0% vs 23 Nov 2026)."}, []string{"CHF4", "41.33 CHF"}},
		{"OK/weekly", rules.Digest(digestInput(now), true)[1], true, []string{"Last 7 days (18 Nov – 24 Nov 2026): CHF 289.31 (+0.0% vs 11 Nov – 17 Nov 2026)."}, nil},
		{"problem", rules.AccountDigest{Account: cost.Account{Name: "x"}, Currency: "USD", Problem: "currency mismatch: data is in EUR, USD; forecast skipped",
			Period: cost.Period{Start: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}}, false,
			[]string{"Billing period 1 Nov – 30 Nov 2026: spend and forecast unknown (currency mismatch: data is in EUR, USD; forecast skipped)."}, []string{"to date"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := rules.DigestFinding(tt.d, tt.weekly, nil, nil)
			for _, w := range tt.want {
				if !strings.Contains(f.Summary, w) {
					t.Errorf("summary lacks %q", w)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(f.Summary, n) {
					t.Errorf("summary has %q", n)
				}
			}
			if t.Failed() {
				t.Logf("summary:\n%s", f.Summary)
			}
		})
	}
}

// The weekly digest is its own alert identity per 7-day window; the daily
// one keeps one per day.
func TestDigestFinding_Identity(t *testing.T) {
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	daily := rules.DigestFinding(rules.Digest(digestInput(now), false)[0], false, nil, nil)
	weekly := rules.DigestFinding(rules.Digest(digestInput(now), true)[0], true, nil, nil)
	if daily.Rule != "daily-digest" || daily.Period.String() != "2026-11-25..2026-11-26" || !strings.HasPrefix(daily.Title, "Daily cost digest") {
		t.Errorf("daily: %s %s %q", daily.Rule, daily.Period, daily.Title)
	}
	if weekly.Rule != "weekly-digest" || weekly.Period.String() != "2026-11-18..2026-11-25" || !strings.HasPrefix(weekly.Title, "Weekly cost digest") {
		t.Errorf("weekly: %s %s %q", weekly.Rule, weekly.Period, weekly.Title)
	}
}
