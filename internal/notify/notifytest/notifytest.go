// Package notifytest holds sample alerts of every kind for notifier tests and
// golden files, so that all adapters render the same situations.
package notifytest

import (
	"math"
	"time"

	"github.com/costbot/costbot/internal/cost"
)

// Now is the instant the sample alerts are evaluated at (UTC).
var Now = time.Date(2026, 7, 21, 9, 30, 0, 0, time.UTC)

// Names lists the sample alerts in a stable order.
var Names = []string{"budget", "forecast", "anomaly", "card_expiry", "stale", "resolved", "escalation"}

// Alerts returns fresh copies of the sample alerts keyed by Names.
func Alerts() map[string]cost.Alert {
	july := cost.Period{Start: time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)}
	day := func(d int) time.Time { return time.Date(2026, 7, d, 0, 0, 0, 0, time.UTC) }
	budgetChart := func() *cost.Chart {
		c := &cost.Chart{Title: "Daily spend, production", ReferenceLabel: "Budget/day"}
		for d := 1; d <= 21; d++ { // 21 days: renderers keep the last 20
			c.Days = append(c.Days, day(d))
			v := 6 + float64(d%7)
			if d == 9 {
				v = math.NaN()
			}
			c.Values = append(c.Values, v)
			c.Reference = append(c.Reference, 250.0/31)
		}
		return c
	}
	budget := cost.Alert{
		Finding: cost.Finding{
			Kind: cost.KindBudget, Rule: "prod-monthly", Scope: cost.Scope{Account: "production"},
			Period: july, Threshold: "actual>=80%", Severity: cost.SeverityWarning,
			Title:    "production spend passed 80% of the July budget",
			Summary:  "Spend so far is $212.40 of $250.00 with 10 days left.",
			Currency: "USD", Actual: 212.4, Budget: 250, Limit: 200, Forecast: 318.2,
			CrossDate: day(24), Chart: budgetChart(),
		},
		Fingerprint: "3f9a1c0b7d2e4f51", Status: cost.StatusFiring,
		StartsAt: time.Date(2026, 7, 21, 9, 0, 0, 0, time.UTC), Reason: cost.ReasonFirst,
	}
	forecast := cost.Alert{
		Finding: cost.Finding{
			Kind: cost.KindForecast, Rule: "workers-forecast", Scope: cost.Scope{Account: "production", Family: "Workers"},
			Period: july, Threshold: "forecast>=100%", Severity: cost.SeverityWarning,
			Title:    "Workers forecast exceeds the July budget",
			Summary:  "At the current pace Workers will cost $148.90, 49% over the $100.00 budget.",
			Currency: "USD", Actual: 71.3, Budget: 100, Limit: 100, Forecast: 148.9, CrossDate: day(27),
		},
		Fingerprint: "a1b2c3d4e5f60718", Status: cost.StatusFiring,
		StartsAt: time.Date(2026, 7, 21, 9, 0, 0, 0, time.UTC), Reason: cost.ReasonFirst,
	}
	anomalyChart := &cost.Chart{Title: "Workers Requests, production", ReferenceLabel: "Expected"}
	for d := 2; d <= 21; d++ {
		anomalyChart.Days = append(anomalyChart.Days, day(d))
		v := 4.1 + 0.1*float64(d%3)
		if d == 21 {
			v = 19.75
		}
		anomalyChart.Values = append(anomalyChart.Values, v)
		anomalyChart.Reference = append(anomalyChart.Reference, 4.2)
	}
	anomaly := cost.Alert{
		Finding: cost.Finding{
			Kind: cost.KindAnomaly, Rule: "service-spikes",
			Scope:  cost.Scope{Account: "production", Service: "Workers Requests", Zone: "example.com"},
			Period: cost.Period{Start: day(21), End: day(22)}, Threshold: "anomaly:up", Severity: cost.SeverityCritical,
			Title:    "Workers Requests cost spiked on example.com",
			Summary:  "Cost on 2026-07-21 was $19.75 against an expected $4.20.",
			Currency: "USD", Actual: 19.75,
			Anomaly: &cost.AnomalyDetail{
				Expected: 4.2, Observed: 19.75, Sigma: 8.37, Impact: 15.55, Score: 0.97,
				Detector: "seasonal_mad+esd", Since: day(21), Day: day(21),
			},
			Chart: anomalyChart,
		},
		Fingerprint: "0c1d2e3f40516273", Status: cost.StatusFiring,
		StartsAt: time.Date(2026, 7, 21, 9, 0, 0, 0, time.UTC), Reason: cost.ReasonFirst,
	}
	card := cost.Alert{
		Finding: cost.Finding{
			Kind: cost.KindCardExpiry, Rule: "card-expiry", Scope: cost.Scope{Account: "production"},
			Period:    cost.Period{Start: day(1), End: july.End},
			Threshold: "card<=14d", Severity: cost.SeverityWarning,
			Title:   "Payment card expires in 11 days",
			Summary: "Update the card on the Cloudflare billing profile before it stops working.",
			Card:    &cost.CardDetail{Masked: "************4242", ExpiresAt: july.End, DaysLeft: 11},
		},
		Fingerprint: "77aa88bb99cc00dd", Status: cost.StatusFiring,
		StartsAt: time.Date(2026, 7, 21, 9, 0, 0, 0, time.UTC), Reason: cost.ReasonFirst,
	}
	stale := cost.Alert{
		Finding: cost.Finding{
			Kind: cost.KindStale, Rule: "stale-data", Scope: cost.Scope{Account: "staging"},
			Period: cost.Period{Start: day(21), End: day(22)}, Threshold: "stale>=48h", Severity: cost.SeverityWarning,
			Title:   "No billing data for staging since 2026-07-19",
			Summary: "billing API answered 403: authentication error (code 10000)",
		},
		Fingerprint: "5e5e5e5e12121212", Status: cost.StatusFiring,
		StartsAt: time.Date(2026, 7, 21, 9, 0, 0, 0, time.UTC), Reason: cost.ReasonFirst,
	}
	resolved := budget
	resolved.Chart = nil
	resolved.Status = cost.StatusResolved
	resolved.Reason = cost.ReasonResolved
	resolved.EndsAt = time.Date(2026, 8, 1, 0, 5, 0, 0, time.UTC)
	resolved.Title = "production spend is back under 80% of the budget"
	resolved.Summary = "The July period closed; the August budget starts fresh."
	resolved.Thread = &cost.MessageRef{Notifier: "slack", Channel: "C0123ABCD", TS: "1784625000.000100"}

	escalation := budget
	escalation.Chart = nil
	escalation.Threshold = "actual>=100%"
	escalation.Severity = cost.SeverityCritical
	escalation.Limit = 250
	escalation.Actual = 251.9
	escalation.Title = "production spend passed 100% of the July budget"
	escalation.Summary = "Spend so far is $251.90 of $250.00 with 6 days left."
	escalation.Fingerprint = "9d8c7b6a59483726"
	escalation.Reason = cost.ReasonEscalated
	escalation.StartsAt = time.Date(2026, 7, 25, 9, 0, 0, 0, time.UTC)
	escalation.Thread = &cost.MessageRef{Notifier: "slack", Channel: "C0123ABCD", TS: "1784625000.000100"}

	return map[string]cost.Alert{
		"budget": budget, "forecast": forecast, "anomaly": anomaly, "card_expiry": card,
		"stale": stale, "resolved": resolved, "escalation": escalation,
	}
}
