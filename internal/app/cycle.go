package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/costbot/costbot/internal/alert"
	"github.com/costbot/costbot/internal/cost"
	"github.com/costbot/costbot/internal/notify"
	"github.com/costbot/costbot/internal/rules"
	"github.com/costbot/costbot/internal/slackcmd"
	"github.com/costbot/costbot/internal/store"
)

// AccountReport is how one account's fetch went.
type AccountReport struct {
	Account cost.Account
	Range   cost.Period
	Rows    int
	// Card reports that the fetch read the account's payment card.
	Card bool
	Err  error
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
// now: data on or after now's UTC day is neither fetched nor evaluated, and
// now is the only clock the alert stage sees. Then it deletes alerts that
// ended more than alerts.retention_days before now.
//
// When now is earlier than the state file records and the App was given an
// evaluation clock (costbot once --now with an old date), the whole cycle
// runs on a throwaway copy of the state: the live file is left as it was,
// and nothing the cycle decides is kept (what it sends is still sent).
func (a *App) Cycle(ctx context.Context, now time.Time) (rep *Report, err error) {
	a.jobs.Lock()
	defer a.jobs.Unlock()
	rep = &Report{Now: now}
	start := a.wall()
	defer func() { a.recordCycle(rep, err, start) }()
	latest, err := a.db.LatestRecorded(ctx)
	if err != nil {
		return rep, err
	}
	if !now.Before(latest) || !a.evalClock {
		if now.Before(latest.Add(-time.Minute)) {
			a.log.WarnContext(ctx, "the clock is earlier than the state file records; recording anyway",
				"now", now.UTC().Format(time.RFC3339), "state_latest", latest.Format(time.RFC3339))
		}
		return rep, a.cycle(ctx, a.db, now, rep, true)
	}
	a.log.InfoContext(ctx, "evaluation instant is earlier than the state file records; running on a throwaway copy",
		"now", now.UTC().Format(time.RFC3339), "state_latest", latest.Format(time.RFC3339))
	db, done, err := a.throwaway(ctx)
	if err != nil {
		return rep, err
	}
	defer done()
	// The usage history in memory is the live state's: load it before the
	// copy's fetches apply on top, and drop it after.
	if _, err := a.usage(ctx, cost.Day(now)); err != nil {
		return rep, err
	}
	defer func() { a.hist = history{} }()
	return rep, a.cycle(ctx, db, now, rep, false)
}

// throwaway opens a consistent copy of the state in a temporary directory;
// done closes and deletes it.
func (a *App) throwaway(ctx context.Context) (*store.DB, func(), error) {
	dir, err := os.MkdirTemp("", "costbot-state-")
	if err != nil {
		return nil, nil, fmt.Errorf("copy state: %w", err)
	}
	path := filepath.Join(dir, "state.db")
	if err := a.db.CopyTo(ctx, path); err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	db, err := store.Open(ctx, path)
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	return db, func() {
		if err := db.Close(); err != nil {
			a.log.WarnContext(ctx, "close throwaway state", "error", err)
		}
		os.RemoveAll(dir)
	}, nil
}

// cycle is one Cycle on db; live says db is the state file slash commands
// read, so the cycle publishes its data.
func (a *App) cycle(ctx context.Context, db *store.DB, now time.Time, rep *Report, live bool) error {
	if err := a.loadHistory(ctx); err != nil {
		return err
	}
	stale := map[string]error{}
	cards := map[string]bool{}
	for _, ar := range a.fetchAll(ctx, db, now) {
		acc := ar.Account
		rep.Accounts = append(rep.Accounts, ar)
		if ar.Err != nil {
			stale[acc.ID] = ar.Err
			a.log.WarnContext(ctx, "fetch failed", "account", acc.Name, "error", ar.Err)
		} else if ar.Card {
			cards[acc.ID] = true
		}
	}
	in, err := a.inputFrom(ctx, db, now, stale)
	if err != nil {
		return err
	}
	out := a.rules.Run(in)
	findings, problems := out.Findings, out.Problems
	rep.Problems = problems
	for _, p := range problems {
		a.log.WarnContext(ctx, "rule evaluation problem", "error", p)
	}
	sf, err := a.staleFindings(ctx, db, now, stale)
	if err != nil {
		return err
	}
	findings = append(findings, sf...)
	rep.Findings = findings

	fresh := alert.Freshness{Usage: map[string]bool{}, Cards: cards}
	for _, acc := range a.accounts {
		if _, bad := stale[acc.ID]; !bad {
			fresh.Usage[acc.ID] = true
		}
	}
	if len(stale) == 0 {
		fresh.Usage["*"] = true
		fresh.Usage[""] = true
	}
	rep.Deliveries, err = a.deliverAt(ctx, db, findings, fresh, now)
	if err != nil {
		return err
	}
	// What was judged is kept once its alerts are planned: a failed send is
	// retried from the alert state, and the episode stays reported.
	if err := a.saveJudged(ctx, db, in.JudgedOf, out.Judged); err != nil {
		return err
	}
	if live && !a.replay {
		a.publish(ctx, in, out.Budgets, findings)
	}
	return a.prune(ctx, db, now)
}

// prune deletes alerts that resolved or closed more than
// alerts.retention_days before now, with their sends and actions. It runs
// after the cycle recorded its sends; an earlier --now deletes less.
func (a *App) prune(ctx context.Context, db *store.DB, now time.Time) error {
	days := a.cfg.Alerts.RetentionDays
	if days <= 0 {
		return nil
	}
	n, err := db.PruneAlerts(ctx, now.AddDate(0, 0, -days))
	if err != nil {
		return err
	}
	if n > 0 {
		a.log.InfoContext(ctx, "pruned old alerts", "alerts", n, "retention_days", days)
	}
	return nil
}

// fetchAll loads every account (fetch), up to
// cloudflare.fetch_concurrency of them at once: the requests of all of
// them share the billing client's one rate limiter. Each answer is
// checked and saved in account order, one at a time, while later
// accounts are still being fetched; the reports are in account order.
func (a *App) fetchAll(ctx context.Context, db *store.DB, now time.Time) []AccountReport {
	workers := min(max(a.cfg.Cloudflare.FetchConcurrency, 1), len(a.accounts))
	type result struct {
		snap cost.Snapshot
		err  error
		done chan struct{}
	}
	plans := make([]fetchPlan, len(a.accounts))
	res := make([]result, len(a.accounts))
	for i, acc := range a.accounts {
		plans[i] = a.plan(ctx, db, acc, now)
		res[i].done = make(chan struct{})
	}
	// sem bounds the accounts fetched and not yet saved, so answers never
	// pile up behind a slow account.
	sem := make(chan struct{}, max(workers, 1))
	go func() {
		for i := range plans {
			sem <- struct{}{}
			go func() {
				defer close(res[i].done)
				defer func() {
					// One account's bad answer must not take the daemon
					// down with the others' fetches (the cycle ran them
					// on its own goroutine before).
					if p := recover(); p != nil {
						res[i].err = fmt.Errorf("fetch panicked: %v", p)
					}
				}()
				p := plans[i]
				fctx, cancel := context.WithTimeout(ctx, a.cfg.Cloudflare.Timeout)
				defer cancel()
				res[i].snap, res[i].err = a.fetchRange(fctx, p.acc, p.rng, p.backfill)
			}()
		}
	}()
	out := make([]AccountReport, len(a.accounts))
	for i, p := range plans {
		<-res[i].done
		out[i] = a.keep(ctx, db, p, res[i].snap, res[i].err, now)
		res[i].snap = cost.Snapshot{} // saved and in the history: its rows can go
		<-sem
	}
	return out
}

// fetchPlan is what one account's fetch asks for.
type fetchPlan struct {
	acc cost.Account
	rng cost.Period
	// backfill: the whole history_days, the first time or after a long gap.
	backfill bool
}

// plan decides one account's range: the whole history_days the first time
// (or when the stored history no longer reaches back far enough), the
// late-data window refresh_days once every cloudflare.refresh_interval
// and after a failed or held-back fetch, and only the last recent_days in
// between.
func (a *App) plan(ctx context.Context, db *store.DB, acc cost.Account, now time.Time) fetchPlan {
	cf := a.cfg.Cloudflare
	end := cost.Day(now)
	days := cf.HistoryDays
	// Refreshing is enough while the stored history still reaches back far
	// enough: the last good fetch is at most history-refresh days old.
	if last, err := db.LastGoodFetch(ctx, acc.ID); err == nil && !last.IsZero() && !last.After(now) &&
		!last.Before(end.AddDate(0, 0, cf.RefreshDays-days)) {
		days = cf.RefreshDays
		if cf.RecentDays < cf.RefreshDays && !a.refreshDue(ctx, db, acc, now) {
			days = cf.RecentDays
		}
	}
	return fetchPlan{acc: acc, rng: cost.Period{Start: end.AddDate(0, 0, -days), End: end}, backfill: days > cf.RefreshDays}
}

// refreshDue reports whether acc's whole refresh_days window is due: its
// last fetch failed (or was held back as suspect), or its last good fetch
// of the whole window is refresh_interval old or more, or later than now.
// A store error counts as due: reloading more is always safe.
func (a *App) refreshDue(ctx context.Context, db *store.DB, acc cost.Account, now time.Time) bool {
	cf := a.cfg.Cloudflare
	if cf.RefreshInterval <= 0 {
		return true
	}
	if f, err := db.LastFetch(ctx, acc.ID); err != nil || !f.OK {
		return true
	}
	full, err := db.LastFullFetch(ctx, acc.ID, cf.RefreshDays)
	if err != nil || full.IsZero() || full.After(now) {
		return true
	}
	return now.Sub(full) >= cf.RefreshInterval
}

// keep records one account's fetch: a failure, or an answer that admit
// holds back, goes to the fetch log; an admitted answer is saved and
// applied to the in-memory history.
func (a *App) keep(ctx context.Context, db *store.DB, p fetchPlan, snap cost.Snapshot, err error, now time.Time) AccountReport {
	acc := p.acc
	ar := AccountReport{Account: acc, Range: p.rng}
	if err == nil {
		snap.FetchedAt = now
		snap.Range = p.rng
		err = a.admit(ctx, db, acc, snap)
	}
	if err != nil {
		ar.Err = err
		if rerr := db.RecordFetchError(ctx, acc.ID, now, err); rerr != nil {
			a.log.ErrorContext(ctx, "record fetch error", "account", acc.Name, "error", rerr)
		}
		return ar
	}
	save := db.SaveSnapshot
	if db == a.db && a.hist.holds(snap) {
		// Most refreshes answer what is stored: only the card and the
		// fetch log are written, and the rows are not read back.
		save = db.SaveFetch
	}
	if err := save(ctx, snap); err != nil {
		ar.Err = fmt.Errorf("save: %w", err)
		a.hist = history{} // reload from the store: it rolled back
		return ar
	}
	a.hist.apply(snap)
	ar.Rows = len(snap.Usage)
	ar.Card = snap.Card != nil
	return ar
}

// admit checks a fetched snapshot against the rows stored for its window
// (package plausible): an empty answer, or one that drops most stored
// service-days, replaces nothing and resolves nothing until a second fetch
// gives the same answer. The account then counts as not fresh, like a
// failed fetch, and goes stale after alerts.stale_after.
func (a *App) admit(ctx context.Context, db *store.DB, acc cost.Account, snap cost.Snapshot) error {
	stored, err := a.storedRows(ctx, db, acc.ID, snap.Range)
	if err != nil {
		return fmt.Errorf("read stored rows to check the answer: %w", err)
	}
	confirmed, err := a.plausible.Admit(acc.ID, stored, snap.Usage)
	if err != nil {
		return fmt.Errorf("%w; the stored rows are kept until a second fetch gives the same answer", err)
	}
	if confirmed {
		a.log.WarnContext(ctx, "a suspect billing answer came twice and replaces the stored rows",
			"account", acc.Name, "rows", len(snap.Usage), "stored", len(stored))
	}
	return nil
}

// storedRows returns the account's stored rows in rng: from the daemon's
// in-memory history when it mirrors db, else from db's (account, day)
// index.
func (a *App) storedRows(ctx context.Context, db *store.DB, account string, rng cost.Period) ([]cost.Usage, error) {
	if db != a.db || !a.hist.loaded {
		return db.UsageOf(ctx, account, rng.Start, rng.End)
	}
	return a.hist.rowsIn(account, rng), nil
}

// input reads what rules need from the store: the whole stored history up
// to now's day (anomaly detectors run over all of it, as a backtest does),
// and what was judged before.
func (a *App) input(ctx context.Context, now time.Time, stale map[string]error) (rules.Input, error) {
	return a.inputFrom(ctx, a.db, now, stale)
}

func (a *App) inputFrom(ctx context.Context, db *store.DB, now time.Time, stale map[string]error) (rules.Input, error) {
	end := cost.Day(now)
	usage, err := a.usage(ctx, end)
	if err != nil {
		return rules.Input{}, err
	}
	judged, err := a.judged(ctx, db)
	if err != nil {
		return rules.Input{}, err
	}
	cards, err := db.Cards(ctx)
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
	marks, err := db.Actions(ctx, alert.ActionFilter{Kind: alert.ActionExpected})
	if err != nil {
		return rules.Input{}, fmt.Errorf("load expected marks: %w", err)
	}
	expected := alert.Expected(marks)
	return rules.Input{Now: now, Accounts: a.accounts, History: usage, Cards: mine, Stale: stale, Expected: expected,
		JudgedOf: judged, Settle: a.cfg.Alerts.SettleAfter, Lookback: a.cfg.Alerts.LookbackDays}, nil
}

// judged returns the anomaly state stored in db, for rules.Input.JudgedOf:
// the daemon's packed copy (history.judged) when db is the live state,
// read once.
func (a *App) judged(ctx context.Context, db *store.DB) (func(key string) rules.Judged, error) {
	if db == a.db && a.hist.judged != nil {
		return a.hist.judgedOf, nil
	}
	js, err := db.Judged(ctx)
	if err != nil {
		return nil, err
	}
	if db != a.db {
		return func(k string) rules.Judged { return js[k] }, nil
	}
	a.hist.judged = make(map[string]packedJudged, len(js))
	for k, j := range js {
		a.hist.judged[k] = packJudged(j)
	}
	return a.hist.judgedOf, nil
}

// saveJudged stores the series of out whose state differs from prev's,
// the state the cycle started from (rules.Output.Judged holds the changed
// series only), and keeps the daemon's copy in step.
func (a *App) saveJudged(ctx context.Context, db *store.DB, prev func(key string) rules.Judged, out map[string]rules.Judged) error {
	changed := make(map[string]rules.Judged)
	for k, j := range out {
		if !prev(k).Equal(j) {
			changed[k] = j
		}
	}
	if len(changed) == 0 {
		return nil
	}
	if err := db.SaveJudged(ctx, changed); err != nil {
		if db == a.db {
			a.hist.judged = nil // read it again
		}
		return err
	}
	if db == a.db && a.hist.judged != nil {
		for k, j := range changed {
			a.hist.judged[k] = packJudged(j)
		}
	}
	return nil
}

// staleFindings raises a staleness warning for accounts whose last good
// fetch is older than alerts.stale_after (or that never had one).
func (a *App) staleFindings(ctx context.Context, db *store.DB, now time.Time, stale map[string]error) ([]cost.Finding, error) {
	last := map[string]time.Time{}
	for id := range stale {
		t, err := db.LastGoodFetch(ctx, id)
		if err != nil {
			return nil, err
		}
		last[id] = t
	}
	return rules.StaleFindings(a.accounts, rules.Staleness{Now: now, After: a.cfg.Alerts.StaleAfter, Failed: stale, LastGood: last}), nil
}

// oneLine is err's text on one line, at most 300 bytes (cost.OneLine).
func oneLine(err error) string { return cost.OneLine(err) }

// deliver plans and sends on the live state as of the app's clock, with
// usage freshness only (nil: nothing resolves by absence). The digest uses it.
func (a *App) deliver(ctx context.Context, findings []cost.Finding, usage map[string]bool) ([]notify.Result, error) {
	return a.deliverAt(ctx, a.db, findings, alert.Freshness{Usage: usage}, a.now())
}

// deliverAt is the alert stage of a cycle at now: it records sends an
// earlier cycle could not, loads the alert state for findings from db,
// plans (alert.Plan), saves the changes and an outbox row per delivery in
// one transaction, then sends what the outbox holds and marks each row
// done with its send record (sendOutbox; see outbox.go).
func (a *App) deliverAt(ctx context.Context, db *store.DB, findings []cost.Finding, fresh alert.Freshness, now time.Time) ([]notify.Result, error) {
	if err := a.recordUnmarked(ctx, db); err != nil {
		return nil, err
	}
	snap, err := db.AlertSnapshot(ctx, alert.Groups(findings))
	if err != nil {
		return nil, fmt.Errorf("plan alerts: %w", err)
	}
	o, err := a.alertOptions(ctx, db, now)
	if err != nil {
		return nil, err
	}
	ch, ds := alert.Plan(snap, findings, fresh, now, o)
	a.logHeld(ctx, ds)
	for _, u := range ch.UnknownNotifiers {
		a.log.WarnContext(ctx, "finding names an unknown notifier", "rule", u.Rule, "notifier", u.Notifier)
	}
	if plan := alert.Deliveries(ds); len(ch.Alerts) > 0 || len(plan) > 0 {
		if err := db.SavePlan(ctx, ch.Alerts, plan, now); err != nil {
			return nil, fmt.Errorf("plan alerts: %w", err)
		}
	}
	byFP := make(map[string]alert.State, len(ch.Alerts))
	for _, st := range ch.Alerts {
		byFP[st.Fingerprint] = st
	}
	for _, fp := range ch.Moved {
		st := byFP[fp]
		args := []any{"fingerprint", st.Fingerprint, "rule", st.Finding.Rule, "scope", st.Finding.Scope.String(),
			"threshold", st.Finding.Threshold, "reason", string(st.Reason)}
		if st.Why != "" {
			args = append(args, "why", st.Why)
		}
		a.log.InfoContext(ctx, "alert "+st.Status.String(), args...)
	}
	for _, d := range ds {
		a.log.DebugContext(ctx, "alert decision", "fingerprint", d.Fingerprint, "notifier", d.Notifier,
			"reason", string(d.Reason), "send", d.Delivery != nil)
	}
	return a.sendOutbox(ctx, db, now)
}

// recordCycle keeps how the last cycle went for /healthz, /readyz and
// /metrics.
func (a *App) recordCycle(rep *Report, err error, start time.Time) {
	if err == nil {
		err = rep.Err()
	}
	end := a.wall()
	a.metrics.Cycle(end.Sub(start), end, err)
	for _, ar := range rep.Accounts {
		a.metrics.Fetch(ar.Account.ID, ar.Rows, end, ar.Err)
	}
	kinds := map[string]int{}
	for _, f := range rep.Findings {
		kinds[f.Kind.String()]++
	}
	a.metrics.Findings(kinds)
	for _, d := range rep.Deliveries {
		switch {
		case errors.Is(d.Err, notify.ErrDisabled):
			a.metrics.Send(d.Job.Notifier, "disabled")
		case d.Err != nil:
			a.metrics.Send(d.Job.Notifier, "error")
		case d.Sent:
			a.metrics.Send(d.Job.Notifier, "ok")
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.last, a.lastErr, a.lastAt = rep, err, end
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

// publish hands the slash-command handler a fresh snapshot; budgets are the
// statuses the cycle's rules.Run returned (Output.Budgets).
func (a *App) publish(ctx context.Context, in rules.Input, budgets []cost.BudgetStatus, findings []cost.Finding) {
	states, err := a.db.Alerts(ctx, nil)
	if err != nil {
		a.log.WarnContext(ctx, "read open alerts", "error", err)
	}
	open := alert.Open(states)
	var fetched time.Time
	for _, acc := range a.accounts {
		if t, err := a.db.LastGoodFetch(ctx, acc.ID); err == nil && (fetched.IsZero() || t.Before(fetched)) {
			fetched = t
		}
	}
	a.cmds.SetData(slackcmd.Data{
		Accounts:  in.Accounts,
		History:   in.History,
		Cards:     in.Cards,
		Budgets:   budgets,
		Problems:  problemsOf(findings),
		Open:      open,
		FetchedAt: fetched,
		Interval:  a.cfg.Schedule.Cycle,

		CardStages: cardStages(a.rules),
	})
}

// CardCheck fetches every account's billing profile and sends card-expiry
// warnings that are due. It touches no usage data.
func (a *App) CardCheck(ctx context.Context, now time.Time) (*Report, error) {
	a.jobs.Lock()
	defer a.jobs.Unlock()
	rep := &Report{Now: now}
	var cards []cost.Card
	fresh := alert.Freshness{Cards: map[string]bool{}}
	for _, acc := range a.accounts {
		c, err := a.cf.Card(ctx, acc)
		rep.Accounts = append(rep.Accounts, AccountReport{Account: acc, Err: err, Card: c != nil})
		if err != nil {
			a.log.WarnContext(ctx, "card check failed", "account", acc.Name, "error", err)
			continue
		}
		if c != nil {
			if c.Account == "" {
				c.Account = acc.ID
			}
			cards = append(cards, *c)
			fresh.Cards[acc.ID] = true
			if err := a.db.SaveCard(ctx, *c, now); err != nil {
				return rep, err
			}
		}
	}
	all, _ := a.rules.Evaluate(rules.Input{Now: now, Accounts: a.accounts, Cards: cards})
	for _, f := range all {
		if f.Kind == cost.KindCardExpiry {
			rep.Findings = append(rep.Findings, f)
		}
	}
	var err error
	rep.Deliveries, err = a.deliverAt(ctx, a.db, rep.Findings, fresh, now)
	return rep, err
}
