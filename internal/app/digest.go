package app

import (
	"context"
	"fmt"
	"math"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/costbot/costbot/internal/cost"
	"github.com/costbot/costbot/internal/rules"
)

// Mover is one service's change between the last 7 days and the 7 before.
type Mover struct {
	Service  string
	Last     float64
	Previous float64
}

// Change is Last - Previous.
func (m Mover) Change() float64 { return m.Last - m.Previous }

// AccountDigest is the daily summary of one account.
type AccountDigest struct {
	Account  cost.Account
	Period   cost.Period // current billing period
	Currency string
	Spent    float64 // billing period to date
	Forecast float64 // whole billing period
	Movers   []Mover // largest absolute 7-day changes first, at most 5
}

// digest builds the daily summary from stored data as of now.
func digest(in rules.Input) []AccountDigest {
	end := cost.Day(in.Now)
	var out []AccountDigest
	for _, acc := range in.Accounts {
		d := AccountDigest{Account: acc}
		daily := map[time.Time]float64{}
		last, prev := map[string]float64{}, map[string]float64{}
		for _, u := range in.Usage {
			if u.Account != acc.ID || !u.CostKnown {
				continue
			}
			if u.BillingPeriod.End.After(d.Period.End) {
				d.Period = u.BillingPeriod
			}
			d.Currency = u.Currency
			switch age := int(end.Sub(u.Day).Hours() / 24); {
			case age >= 1 && age <= 7:
				last[u.Service] += u.Cost
			case age >= 8 && age <= 14:
				prev[u.Service] += u.Cost
			}
		}
		if d.Period.IsZero() {
			continue
		}
		for _, u := range in.Usage {
			if u.Account == acc.ID && u.CostKnown && u.BillingPeriod == d.Period {
				d.Spent += u.Cost
				if !u.Correction {
					daily[u.Day] += u.Cost
				}
			}
		}
		// Forecast from the account's daily totals over the last 4 weeks.
		var days []time.Time
		var vals []float64
		for t := end.AddDate(0, 0, -28); t.Before(end); t = t.AddDate(0, 0, 1) {
			if v, ok := daily[t]; ok || !t.Before(d.Period.Start) {
				days, vals = append(days, t), append(vals, v)
			}
		}
		d.Forecast, _ = rules.Forecast(days, vals, d.Period, in.Now)
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

// globs reports whether an account pattern (a rule scope) matches acct.
func globs(pattern string, acct cost.Account) bool {
	if !strings.ContainsAny(pattern, "*?[") {
		return false
	}
	okName, _ := path.Match(pattern, acct.Name)
	okID, _ := path.Match(pattern, acct.ID)
	return okName || okID
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

// digestFinding renders one account digest as a finding for the notifiers,
// with the rule problems that concern the account.
func digestFinding(d AccountDigest, day time.Time, notifiers []string, problems []cost.Finding) cost.Finding {
	var b strings.Builder
	fmt.Fprintf(&b, "Billing period %s to date: %s %.2f; forecast for the period: %s %.2f.\n",
		d.Period.Start.Format("Jan 2")+" – "+d.Period.End.AddDate(0, 0, -1).Format("Jan 2"), d.Currency, d.Spent, d.Currency, d.Forecast)
	if len(d.Movers) > 0 {
		b.WriteString("Top movers, last 7 days vs the 7 before:\n")
		for _, m := range d.Movers {
			pct := ""
			if m.Previous > 0 {
				pct = fmt.Sprintf(" (%+.0f%%)", 100*m.Change()/m.Previous)
			}
			fmt.Fprintf(&b, "• %s: %.2f → %.2f%s\n", m.Service, m.Previous, m.Last, pct)
		}
	}
	var mine []string
	for _, p := range problems {
		if acct := p.Scope.Account; acct == "" || acct == d.Account.ID || acct == d.Account.Name || globs(acct, d.Account) {
			mine = append(mine, p.Title)
		}
	}
	if len(mine) > 0 {
		b.WriteString("Rules that cannot be evaluated (silent until fixed):\n")
		for _, t := range mine {
			fmt.Fprintf(&b, "• %s\n", t)
		}
	}
	return cost.Finding{
		Kind:      cost.KindDigest,
		Rule:      "daily-digest",
		Scope:     cost.Scope{Account: d.Account.ID},
		Period:    cost.Period{Start: day, End: day.AddDate(0, 0, 1)},
		Threshold: "digest",
		Severity:  cost.SeverityInfo,
		Notifiers: notifiers,
		Title:     fmt.Sprintf("Daily cost digest — %s", d.Account.Name),
		Summary:   strings.TrimSpace(b.String()),
		Currency:  d.Currency,
		Actual:    d.Spent,
		Forecast:  d.Forecast,
	}
}

// Digest sends the daily digest (one per account per day, deduplicated like
// any alert, so a failed send is retried and a restart does not repeat it).
func (a *App) Digest(ctx context.Context, now time.Time) (*Report, error) {
	a.jobs.Lock()
	defer a.jobs.Unlock()
	rep := &Report{Now: now}
	in, err := a.input(ctx, now, nil)
	if err != nil {
		return rep, err
	}
	var problems []cost.Finding
	a.mu.Lock()
	if a.last != nil {
		problems = problemsOf(a.last.Findings)
	}
	a.mu.Unlock()
	for _, d := range digest(in) {
		rep.Findings = append(rep.Findings, digestFinding(d, cost.Day(now), a.cfg.Schedule.DigestNotifiers, problems))
	}
	rep.Deliveries, err = a.deliver(ctx, rep.Findings, nil)
	return rep, err
}
