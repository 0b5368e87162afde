package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/costbot/costbot/internal/alert"
	"github.com/costbot/costbot/internal/cost"
	"github.com/costbot/costbot/internal/notify"
	"github.com/costbot/costbot/internal/rules"
	"github.com/costbot/costbot/internal/slackcmd"
)

// AccountReport is how one account's fetch went.
type AccountReport struct {
	Account cost.Account
	Range   cost.Period
	Rows    int
	Err     error
}

// Report summarizes one cycle.
type Report struct {
	Now        time.Time
	Accounts   []AccountReport
	Findings   []cost.Finding
	Problems   []error // data problems from rule evaluation (currency mismatch, unknown cost)
	Deliveries []notify.Result
}

// Err is nil when every fetch and every send succeeded.
func (r *Report) Err() error {
	var errs []error
	for _, a := range r.Accounts {
		if a.Err != nil {
			errs = append(errs, fmt.Errorf("fetch account %q: %w", a.Account.Name, a.Err))
		}
	}
	for _, d := range r.Deliveries {
		if d.Err != nil {
			errs = append(errs, fmt.Errorf("send %s to %q: %w", d.Job.Alert.Fingerprint, d.Job.Notifier, d.Err))
		}
	}
	return errors.Join(errs...)
}

// Sent counts deliveries that went out.
func (r *Report) Sent() int {
	n := 0
	for _, d := range r.Deliveries {
		if d.Sent {
			n++
		}
	}
	return n
}

// Cycle runs fetch -> save -> evaluate -> plan -> notify -> record once, as of
// now: data on or after now's UTC day is neither fetched nor evaluated. Then
// it deletes alerts that ended more than alerts.retention_days before now.
func (a *App) Cycle(ctx context.Context, now time.Time) (rep *Report, err error) {
	a.jobs.Lock()
	defer a.jobs.Unlock()
	rep = &Report{Now: now}
	defer func() { a.recordCycle(rep, err) }()
	stale := map[string]error{}
	for _, acc := range a.accounts {
		ar := a.fetch(ctx, acc, now)
		rep.Accounts = append(rep.Accounts, ar)
		if ar.Err != nil {
			stale[acc.ID] = ar.Err
			a.log.WarnContext(ctx, "fetch failed", "account", acc.Name, "error", ar.Err)
		}
	}
	in, err := a.input(ctx, now, stale)
	if err != nil {
		return rep, err
	}
	out := a.rules.Run(in)
	findings, problems := out.Findings, out.Problems
	rep.Problems = problems
	for _, p := range problems {
		a.log.WarnContext(ctx, "rule evaluation problem", "error", p)
	}
	sf, err := a.staleFindings(ctx, now, stale)
	if err != nil {
		return rep, err
	}
	findings = append(findings, sf...)
	rep.Findings = findings

	evaluated := map[string]bool{}
	for _, acc := range a.accounts {
		if _, bad := stale[acc.ID]; !bad {
			evaluated[acc.ID] = true
			evaluated[acc.Name] = true
		}
	}
	if len(stale) == 0 {
		evaluated["*"] = true
		evaluated[""] = true
	}
	rep.Deliveries, err = a.deliver(ctx, findings, evaluated)
	if err != nil {
		return rep, err
	}
	// What was judged is kept once its alerts are planned: a failed send is
	// retried from the alert state, and the episode stays reported.
	if err := a.db.SaveJudged(ctx, out.Judged); err != nil {
		return rep, err
	}
	if !a.replay {
		a.publish(ctx, in, findings)
	}
	if err := a.prune(ctx, now); err != nil {
		return rep, err
	}
	return rep, nil
}

// prune deletes alerts that resolved or closed more than
// alerts.retention_days before now, with their sends and actions. It runs
// after the cycle recorded its sends; an earlier --now deletes less.
func (a *App) prune(ctx context.Context, now time.Time) error {
	days := a.cfg.Alerts.RetentionDays
	if days <= 0 {
		return nil
	}
	n, err := a.db.PruneAlerts(ctx, now.AddDate(0, 0, -days))
	if err != nil {
		return err
	}
	if n > 0 {
		a.log.InfoContext(ctx, "pruned old alerts", "alerts", n, "retention_days", days)
	}
	return nil
}

// fetch loads one account: the whole history the first time, then only the
// most recent refresh_days (late data and corrections).
func (a *App) fetch(ctx context.Context, acc cost.Account, now time.Time) AccountReport {
	end := cost.Day(now)
	days := a.cfg.Cloudflare.HistoryDays
	// Refreshing is enough while the stored history still reaches back far
	// enough: the last good fetch is at most history-refresh days old.
	if last, err := a.db.LastGoodFetch(ctx, acc.ID); err == nil && !last.IsZero() && !last.After(now) &&
		!last.Before(end.AddDate(0, 0, a.cfg.Cloudflare.RefreshDays-days)) {
		days = a.cfg.Cloudflare.RefreshDays
	}
	rng := cost.Period{Start: end.AddDate(0, 0, -days), End: end}
	ar := AccountReport{Account: acc, Range: rng}
	fctx, cancel := context.WithTimeout(ctx, a.cfg.Cloudflare.Timeout)
	defer cancel()
	snap, err := a.fetchRange(fctx, acc, rng, days > a.cfg.Cloudflare.RefreshDays)
	if err != nil {
		ar.Err = err
		if rerr := a.db.RecordFetchError(ctx, acc.ID, now, err); rerr != nil {
			a.log.ErrorContext(ctx, "record fetch error", "account", acc.Name, "error", rerr)
		}
		return ar
	}
	snap.FetchedAt = now
	snap.Range = rng
	if err := a.db.SaveSnapshot(ctx, snap); err != nil {
		ar.Err = fmt.Errorf("save: %w", err)
		a.hist = history{} // reload from the store: it rolled back
		return ar
	}
	a.hist.apply(snap)
	ar.Rows = len(snap.Usage)
	return ar
}

// input reads what rules need from the store: the whole stored history up
// to now's day (anomaly detectors run over all of it, as a backtest does),
// and what was judged before.
func (a *App) input(ctx context.Context, now time.Time, stale map[string]error) (rules.Input, error) {
	end := cost.Day(now)
	usage, err := a.usage(ctx, end)
	if err != nil {
		return rules.Input{}, err
	}
	judged, err := a.db.Judged(ctx)
	if err != nil {
		return rules.Input{}, err
	}
	cards, err := a.db.Cards(ctx)
	if err != nil {
		return rules.Input{}, err
	}
	known := map[string]bool{}
	for _, acc := range a.accounts {
		known[acc.ID] = true
	}
	var mine []cost.Card
	for _, c := range cards {
		if known[c.Account] {
			mine = append(mine, c)
		}
	}
	expected, err := a.tracker.Expected(ctx)
	if err != nil {
		return rules.Input{}, err
	}
	return rules.Input{Now: now, Accounts: a.accounts, Usage: usage, Cards: mine, Stale: stale, Expected: expected,
		Judged: judged, Settle: a.cfg.Alerts.SettleAfter, Lookback: a.cfg.Alerts.LookbackDays}, nil
}

// staleFindings raises a staleness warning for accounts whose last good
// fetch is older than alerts.stale_after (or that never had one).
func (a *App) staleFindings(ctx context.Context, now time.Time, stale map[string]error) ([]cost.Finding, error) {
	var out []cost.Finding
	for _, acc := range a.accounts {
		ferr, bad := stale[acc.ID]
		if !bad {
			continue
		}
		last, err := a.db.LastGoodFetch(ctx, acc.ID)
		if err != nil {
			return nil, err
		}
		if !last.IsZero() && now.Sub(last) < a.cfg.Alerts.StaleAfter {
			continue
		}
		since := "never fetched successfully"
		if !last.IsZero() {
			since = "last good data " + now.Sub(last).Round(time.Minute).String() + " ago (" + last.UTC().Format(time.RFC3339) + ")"
		}
		out = append(out, cost.Finding{
			Kind:      cost.KindStale,
			Rule:      "data-freshness",
			Scope:     cost.Scope{Account: acc.ID},
			Threshold: "stale",
			Severity:  cost.SeverityWarning,
			Title:     fmt.Sprintf("No fresh billing data for %s", acc.Name),
			Summary:   fmt.Sprintf("Fetching account %s (%s) failed: %s. %s. Budgets and anomaly checks for it are paused, not resolved.", acc.Name, acc.ID, oneLine(ferr), since),
		})
	}
	return out, nil
}

func oneLine(err error) string {
	s := strings.ReplaceAll(err.Error(), "\n", "; ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// deliver plans deliveries and sends them; each success is recorded at once.
func (a *App) deliver(ctx context.Context, findings []cost.Finding, evaluated map[string]bool) ([]notify.Result, error) {
	plan, err := a.tracker.Plan(ctx, findings, evaluated, a.notifiers)
	if err != nil {
		return nil, fmt.Errorf("plan alerts: %w", err)
	}
	if len(plan) == 0 {
		return nil, nil
	}
	jobs := make([]notify.Job, len(plan))
	for i, d := range plan {
		jobs[i] = notify.Job{Notifier: d.Notifier, Alert: d.Alert}
	}
	record := func(ctx context.Context, j notify.Job, ref *cost.MessageRef) error {
		return a.tracker.Record(ctx, alert.Delivery{Notifier: j.Notifier, Alert: j.Alert}, ref)
	}
	res := a.dispatcher.Dispatch(ctx, jobs, record)
	for _, r := range res {
		if r.Err != nil {
			a.log.WarnContext(ctx, "send failed; will retry next cycle", "notifier", r.Job.Notifier, "fingerprint", r.Job.Alert.Fingerprint, "error", r.Err)
		}
	}
	return res, nil
}

// recordCycle keeps how the last cycle went for /healthz and /readyz.
func (a *App) recordCycle(rep *Report, err error) {
	if err == nil {
		err = rep.Err()
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.last, a.lastErr, a.lastAt = rep, err, a.wall()
}

// problemsOf returns the rule_problem findings among fs.
func problemsOf(fs []cost.Finding) []cost.Finding {
	var out []cost.Finding
	for _, f := range fs {
		if f.Kind == cost.KindRuleProblem {
			out = append(out, f)
		}
	}
	return out
}

// publish hands the slash-command handler a fresh snapshot.
func (a *App) publish(ctx context.Context, in rules.Input, findings []cost.Finding) {
	open, err := a.tracker.Open(ctx)
	if err != nil {
		a.log.WarnContext(ctx, "read open alerts", "error", err)
	}
	var fetched time.Time
	for _, acc := range a.accounts {
		if t, err := a.db.LastGoodFetch(ctx, acc.ID); err == nil && (fetched.IsZero() || t.Before(fetched)) {
			fetched = t
		}
	}
	a.cmds.SetData(slackcmd.Data{
		Accounts:  in.Accounts,
		Usage:     in.Usage,
		Cards:     in.Cards,
		Budgets:   a.rules.Budgets(in),
		Problems:  problemsOf(findings),
		Open:      open,
		FetchedAt: fetched,
		Interval:  a.cfg.Schedule.Cycle,
	})
}

// CardCheck fetches every account's billing profile and sends card-expiry
// warnings that are due. It touches no usage data.
func (a *App) CardCheck(ctx context.Context, now time.Time) (*Report, error) {
	a.jobs.Lock()
	defer a.jobs.Unlock()
	rep := &Report{Now: now}
	var cards []cost.Card
	for _, acc := range a.accounts {
		c, err := a.cf.Card(ctx, acc)
		rep.Accounts = append(rep.Accounts, AccountReport{Account: acc, Err: err})
		if err != nil {
			a.log.WarnContext(ctx, "card check failed", "account", acc.Name, "error", err)
			continue
		}
		if c != nil {
			cards = append(cards, *c)
		}
	}
	all, _ := a.rules.Evaluate(rules.Input{Now: now, Accounts: a.accounts, Cards: cards})
	for _, f := range all {
		if f.Kind == cost.KindCardExpiry {
			rep.Findings = append(rep.Findings, f)
		}
	}
	var err error
	rep.Deliveries, err = a.deliver(ctx, rep.Findings, nil)
	return rep, err
}
