package cost

import (
	"fmt"
	"strconv"
	"time"
)

// Fact is one figure of an alert as every surface shows it: the console
// and Slack print Label and Text, the webhook sends Values as annotations.
// A fact without a Label is for machines only.
type Fact struct {
	Label string
	// Text is for people: amounts by Money, days as "Mon 2 Jan 2006".
	Text string
	// Values are the webhook annotations this fact carries: amounts as
	// decimal strings with two places in the alert's currency, days as
	// YYYY-MM-DD, instants as RFC 3339 (UTC).
	Values [][2]string
}

// DayText is how a single day is written for people on every surface.
func DayText(t time.Time) string { return t.UTC().Format("Mon 2 Jan 2006") }

// InstantText is how an instant (an alert's start, end, an update) is
// written for people on every surface: UTC to the minute.
func InstantText(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 MST") }

func amount(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

func isoDay(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02")
}

// Facts returns the figures of a's kind, in the order surfaces show them:
// the one list the console, Slack and the webhook render.
func Facts(a Alert) []Fact {
	cur := a.Currency
	var fs []Fact
	add := func(label, text string, values ...[2]string) {
		var vs [][2]string
		for _, v := range values {
			if v[1] != "" {
				vs = append(vs, v)
			}
		}
		if text != "" || len(vs) > 0 {
			fs = append(fs, Fact{Label: label, Text: text, Values: vs})
		}
	}
	switch a.Kind {
	case KindBudget, KindForecast:
		if a.Budget != 0 {
			add("Spend", fmt.Sprintf("%s of %s (%s)", Money(a.Actual, cur), Money(a.Budget, cur), Percent(a.Actual, a.Budget)),
				[2]string{"actual", amount(a.Actual)}, [2]string{"budget", amount(a.Budget)},
				[2]string{"percent", strconv.FormatFloat(100*a.Actual/a.Budget, 'f', 1, 64)})
		} else {
			add("Spend", Money(a.Actual, cur), [2]string{"actual", amount(a.Actual)})
		}
		if a.Limit != 0 {
			text := Money(a.Limit, cur)
			if a.Threshold != "" {
				text += " (" + a.Threshold + ")"
			}
			add("Threshold", text, [2]string{"limit", amount(a.Limit)})
		}
		if a.Forecast != 0 {
			text := Money(a.Forecast, cur)
			if a.Budget != 0 {
				text += " (" + Percent(a.Forecast, a.Budget) + " of budget)"
			}
			add("Forecast", text, [2]string{"forecast", amount(a.Forecast)})
		}
		if !a.CrossDate.IsZero() {
			add("Forecast crosses", DayText(a.CrossDate), [2]string{"cross_date", isoDay(a.CrossDate)})
		}
	case KindAnomaly:
		d := a.Anomaly
		if d == nil {
			break
		}
		add("Observed", Money(d.Observed, cur), [2]string{"observed", amount(d.Observed)})
		add("Expected", Money(d.Expected, cur), [2]string{"expected", amount(d.Expected)})
		add("Deviation", fmt.Sprintf("%+.1fσ (robust)", d.Sigma), [2]string{"sigma", strconv.FormatFloat(d.Sigma, 'f', 2, 64)})
		add("Impact", SignedMoney(d.Impact, cur)+"/day", [2]string{"impact", amount(d.Impact)})
		add("", "", [2]string{"score", strconv.FormatFloat(d.Score, 'f', 2, 64)})
		add("Detector", d.Detector, [2]string{"detector", d.Detector})
		if !d.Since.IsZero() {
			add("Since", DayText(d.Since), [2]string{"since", isoDay(d.Since)})
		}
		add("", "", [2]string{"day", isoDay(d.Day)})
		if d.Outage {
			add("Outage", "cost dropped to near zero", [2]string{"outage", "true"})
		}
	case KindCardExpiry:
		c := a.Card
		if c == nil {
			break
		}
		last4 := Card{Masked: c.Masked}.Last4()
		shown := last4
		if shown == "" {
			shown = "????"
		}
		add("Card", "•••• "+shown, [2]string{"card_last4", last4})
		if !c.ExpiresAt.IsZero() {
			// ExpiresAt is the first day it no longer works.
			add("Expires", "end of "+c.ExpiresAt.UTC().AddDate(0, 0, -1).Format("01/2006"),
				[2]string{"card_expires_at", c.ExpiresAt.UTC().Format(time.RFC3339)})
		}
		left := "expired"
		if c.DaysLeft > 0 {
			left = strconv.Itoa(c.DaysLeft)
		}
		add("Days left", left, [2]string{"days_left", strconv.Itoa(c.DaysLeft)})
	case KindStale:
		acct := a.Scope.AccountLabel()
		if acct == "" {
			acct = "—"
		}
		add("Account", acct)
	}
	return fs
}
