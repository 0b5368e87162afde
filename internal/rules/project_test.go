package rules

import (
	"errors"
	"testing"
	"time"

	"github.com/costbot/costbot/internal/cost"
)

// BillingForecast is the budget's own computation: for the same account,
// scope and billing period it returns exactly what Budgets reports.
func TestBillingForecast_MatchesBudgets(t *testing.T) {
	set := mustParse(t, `
budgets:
  - {name: total, scope: {account: production}, period: billing_period, amount: 1000, currency: USD,
     thresholds: [{percent: 80, on: actual, severity: warning}]}
  - {name: workers, scope: {account: production, family: "Workers*"}, period: billing_period, amount: 500, currency: USD,
     thresholds: [{percent: 80, on: actual, severity: warning}]}
`)
	now := date(2026, 11, 25).Add(14 * time.Hour)
	weekly := func(d time.Time) float64 { return 10 + float64(d.Weekday()) }
	var us []cost.Usage
	us = append(us, rows(acctID, "Workers", "Workers Requests", date(2026, 9, 1), date(2026, 11, 24), weekly)...)
	us = append(us, rows(acctID, "R2", "R2 Storage", date(2026, 9, 20), date(2026, 11, 25), flat(3.25))...)
	// A correction on the current invoice for an October day.
	us = append(us, cost.Usage{Account: acctID, Service: "Workers Requests", Family: "Workers", Day: date(2026, 10, 30),
		BillingPeriod: billing(now), Cost: -4.5, CostKnown: true, Currency: "USD", Correction: true})
	in := Input{Now: now, Accounts: []cost.Account{prod}, Usage: us}
	statuses := set.Budgets(in)
	if len(statuses) != 2 {
		t.Fatalf("%d budget statuses, want 2", len(statuses))
	}
	matchers := map[string]func(cost.Usage) bool{
		"total":   nil,
		"workers": func(u cost.Usage) bool { return globMatch("Workers*", u.Family) },
	}
	for _, want := range statuses {
		t.Run(want.Rule, func(t *testing.T) {
			got, err := BillingForecast(us, matchers[want.Rule], now)
			if err != nil {
				t.Fatal(err)
			}
			if got.Period != want.Period || got.Actual != want.Actual || got.Forecast != want.Forecast ||
				got.DaysLeft != want.DaysLeft || got.Currency != "USD" {
				t.Errorf("BillingForecast = %+v\nBudgets        = %+v", got, want)
			}
			if got.Period != billing(now) {
				t.Errorf("period %s, want the billing period %s", got.Period, billing(now))
			}
		})
	}
}

func TestBillingForecast_Errors(t *testing.T) {
	now := date(2026, 11, 25)
	usd := rows(acctID, "Workers", "Workers Requests", date(2026, 11, 1), date(2026, 11, 25), flat(10))
	eur := rows(acctID, "R2", "R2 Storage", date(2026, 11, 1), date(2026, 11, 25), flat(1))
	for i := range eur {
		eur[i].Currency = "EUR"
	}
	unknown := append([]cost.Usage(nil), usd...)
	unknown[len(unknown)-1].CostKnown = false
	noPeriod := append([]cost.Usage(nil), usd...)
	for i := range noPeriod {
		noPeriod[i].BillingPeriod = cost.Period{}
	}
	tests := []struct {
		name  string
		rows  []cost.Usage
		cause Cause
		msg   string
	}{
		{"ErrCurrency", append(append([]cost.Usage(nil), usd...), eur...), CauseCurrency, "currency mismatch: data is in EUR, USD; forecast skipped"},
		{"ErrUnknownCost", unknown, CauseUnknownCost, "cost unknown for Workers Requests"},
		{"ErrNoPeriod", noPeriod, CauseNoPeriod, "no billing period in the data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := BillingForecast(tt.rows, nil, now)
			var de *DataError
			if !errors.As(err, &de) || de.Cause != tt.cause || len(de.Msg) < len(tt.msg) || de.Msg[:len(tt.msg)] != tt.msg {
				t.Errorf("err = %v, want a %v DataError starting %q", err, tt.cause, tt.msg)
			}
		})
	}
}
