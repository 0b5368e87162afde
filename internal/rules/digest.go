package rules

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/costbot/costbot/internal/cost"
)

// The daily and weekly digests are findings like the others (kind digest),
// produced here from the same Input and with the same billing-period
// figures as budgets, so the digest and /costbot budgets agree.

// Digest rule names: the rule of a digest finding.
const (
	DailyDigestRule  = "daily-digest"
	WeeklyDigestRule = "weekly-digest"
)

// Mover is one service's change between the last 7 complete days and the 7 before.
type Mover struct {
	Service  string
	Last     float64
	Previous float64
}

// Change is Last - Previous.
func (m Mover) Change() float64 { return m.Last - m.Previous }

// AccountDigest is the summary of one account. Its billing-period figures
// are the ones a budget over the account's total with period billing_period
// computes (BillingForecast), so the digest and /costbot budgets agree.
type AccountDigest struct {
	Account  cost.Account
	Period   cost.Period // current billing period
	Currency string
	Spent    float64 // billing period to date
	Forecast float64 // whole billing period
	// Problem says why Spent and Forecast are unknown (a cost is unknown,
	// the rows are in more than one currency); "" when they are known.
	Problem string
	// Window is the last complete days the digest looks back on (1 for the
	// daily digest, 7 for the weekly one) and Before the same span before it.
	Window, Before cost.Period
	// WindowSpent and BeforeSpent are the account's spend in Window and
	// Before, in Currency.
	WindowSpent, BeforeSpent float64
	Movers                   []Mover // largest absolute 7-day changes first, at most 5
}

// Digest builds the daily summary (weekly: the weekly one) from stored data
// as of now. Only complete days count: the window ends with yesterday.
func Digest(in Input, weekly bool) []AccountDigest {
	end := cost.Day(in.Now)
	span := 1
	if weekly {
		span = 7
	}
	window := cost.Period{Start: end.AddDate(0, 0, -span), End: end}
	before := cost.Period{Start: window.Start.AddDate(0, 0, -span), End: window.Start}
	last7 := cost.Period{Start: end.AddDate(0, 0, -7), End: end}
	prev7 := cost.Period{Start: last7.Start.AddDate(0, 0, -7), End: last7.Start}
	byAccount := map[string][]cost.Usage{}
	if in.History == nil {
		for _, u := range in.Usage {
			byAccount[u.Account] = append(byAccount[u.Account], u)
		}
	}
	var out []AccountDigest
	var buf []cost.Usage
	for _, acc := range in.Accounts {
		rows := byAccount[acc.ID]
		if in.History != nil {
			buf = in.History.Rows(acc.ID, buf)
			rows = buf
		}
		if len(rows) == 0 {
			continue
		}
		d := AccountDigest{Account: acc, Window: window, Before: before}
		st, err := BillingForecast(rows, nil, in.Now)
		var de *DataError
		switch {
		case errors.As(err, &de) && de.Cause == CauseNoPeriod:
			continue // nothing billed yet
		case errors.As(err, &de):
			d.Problem = de.Msg
		case err != nil:
			d.Problem = err.Error()
		}
		d.Period, d.Currency, d.Spent, d.Forecast = st.Period, st.Currency, st.Actual, st.Forecast
		if d.Currency == "" {
			d.Currency = rows[0].Currency
		}
		last, prev := map[string]float64{}, map[string]float64{}
		for _, u := range rows {
			// Amounts in another currency are never added to these.
			if !u.CostKnown || u.Correction || !strings.EqualFold(u.Currency, d.Currency) {
				continue
			}
			day := cost.Day(u.Day)
			switch {
			case window.Contains(day):
				d.WindowSpent += u.Cost
			case before.Contains(day):
				d.BeforeSpent += u.Cost
			}
			switch {
			case last7.Contains(day):
				last[u.Service] += u.Cost
			case prev7.Contains(day):
				prev[u.Service] += u.Cost
			}
		}
		for s := range unionKeys(last, prev) {
			d.Movers = append(d.Movers, Mover{Service: s, Last: last[s], Previous: prev[s]})
		}
		sort.Slice(d.Movers, func(i, j int) bool {
			ci, cj := math.Abs(d.Movers[i].Change()), math.Abs(d.Movers[j].Change())
			if ci != cj {
				return ci > cj
			}
			return d.Movers[i].Service < d.Movers[j].Service
		})
		if len(d.Movers) > 5 {
			d.Movers = d.Movers[:5]
		}
		out = append(out, d)
	}
	return out
}

func unionKeys(a, b map[string]float64) map[string]bool {
	u := map[string]bool{}
	for k := range a {
		u[k] = true
	}
	for k := range b {
		u[k] = true
	}
	return u
}

// DigestFinding renders one account digest as a finding for the notifiers,
// with the rule problems that concern the account. Money and periods are
// written by cost.Money and cost.FormatPeriod, as on every other surface.
func DigestFinding(d AccountDigest, weekly bool, notifiers []string, problems []cost.Finding) cost.Finding {
	cur := d.Currency
	var b strings.Builder
	if d.Problem != "" {
		fmt.Fprintf(&b, "Billing period %s: spend and forecast unknown (%s).\n", cost.FormatPeriod(d.Period), d.Problem)
	} else {
		fmt.Fprintf(&b, "Billing period %s to date: %s; forecast for the period: %s.\n",
			cost.FormatPeriod(d.Period), cost.Money(d.Spent, cur), cost.Money(d.Forecast, cur))
	}
	what := "Yesterday"
	if weekly {
		what = "Last 7 days"
	}
	fmt.Fprintf(&b, "%s (%s): %s (%s vs %s).\n", what, cost.FormatPeriod(d.Window), cost.Money(d.WindowSpent, cur),
		cost.Change(d.WindowSpent, d.BeforeSpent), cost.FormatPeriod(d.Before))
	if len(d.Movers) > 0 {
		b.WriteString("Top movers, last 7 days vs the 7 before:\n")
		for _, m := range d.Movers {
			fmt.Fprintf(&b, "• %s: %s → %s (%s)\n", m.Service, cost.Money(m.Previous, cur), cost.Money(m.Last, cur), cost.Change(m.Last, m.Previous))
		}
	}
	var mine []string
	for _, p := range problems {
		if (Scope{Account: p.Scope.Account}).matchAccount(d.Account) { // as the rule's own scope matches
			mine = append(mine, p.Title)
		}
	}
	if len(mine) > 0 {
		b.WriteString("Rules that cannot be evaluated (silent until fixed):\n")
		for _, t := range mine {
			fmt.Fprintf(&b, "• %s\n", t)
		}
	}
	rule, title := DailyDigestRule, "Daily cost digest"
	// One digest per account per day (weekly: per 7-day window).
	period := cost.Period{Start: d.Window.End, End: d.Window.End.AddDate(0, 0, 1)}
	if weekly {
		rule, title, period = WeeklyDigestRule, "Weekly cost digest", d.Window
	}
	return cost.Finding{
		Kind:      cost.KindDigest,
		Rule:      rule,
		Scope:     cost.Scope{Account: d.Account.ID},
		Period:    period,
		Threshold: "digest",
		Severity:  cost.SeverityInfo,
		Notifiers: notifiers,
		Title:     fmt.Sprintf("%s — %s", title, d.Account.Name),
		Summary:   strings.TrimSpace(b.String()),
		Currency:  cur,
		Actual:    d.Spent,
		Forecast:  d.Forecast,
	}
}
