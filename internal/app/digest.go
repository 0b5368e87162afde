package app

import (
	"context"
	"errors"
	"time"

	"github.com/costbot/costbot/internal/cost"
	"github.com/costbot/costbot/internal/rules"
	"github.com/costbot/costbot/internal/slackcmd"
)

// billingForecast is rules.BillingForecast for slackcmd, whose users read a
// data problem's message without the rule prefix.
func billingForecast(rows []cost.Usage, match func(cost.Usage) bool, now time.Time) (cost.BudgetStatus, error) {
	st, err := rules.BillingForecast(rows, match, now)
	var de *rules.DataError
	if errors.As(err, &de) {
		return st, errors.New(de.Msg)
	}
	return st, err
}

// cardStages evaluates the card rules of set alone, so /costbot card warns
// at the stages the card alerts use. The cycle hands it the set it ran
// with: a reload swaps a.rules under the jobs lock, which slash commands do
// not take.
func cardStages(set *rules.Set) slackcmd.CardFunc {
	return func(now time.Time, accounts []cost.Account, cards []cost.Card) []cost.Finding {
		fs, _ := set.Evaluate(rules.Input{Now: now, Accounts: accounts, Cards: cards})
		return fs
	}
}

// Digest sends the daily digest (one per account per day, deduplicated like
// any alert, so a failed send is retried and a restart does not repeat it).
func (a *App) Digest(ctx context.Context, now time.Time) (*Report, error) {
	return a.sendDigest(ctx, now, false)
}

// WeeklyDigest sends the weekly digest: the same figures as the daily one,
// looking back on the last 7 complete days; one per account per 7-day window.
func (a *App) WeeklyDigest(ctx context.Context, now time.Time) (*Report, error) {
	return a.sendDigest(ctx, now, true)
}

func (a *App) sendDigest(ctx context.Context, now time.Time, weekly bool) (*Report, error) {
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
	for _, d := range rules.Digest(in, weekly) {
		rep.Findings = append(rep.Findings, rules.DigestFinding(d, weekly, a.cfg.Schedule.DigestNotifiers, problems))
	}
	rep.Deliveries, err = a.deliver(ctx, rep.Findings, nil)
	return rep, err
}
