package app

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/costbot/costbot/internal/billing"
	"github.com/costbot/costbot/internal/cost"
)

// backfillWindow is the span of one step of a first backfill when the
// billing client cannot say how it splits a range (see usager.Windows).
const backfillWindow = 30 * 24 * time.Hour

// usager is the part of *billing.Client a stepped backfill needs besides
// Fetch: the windows the client requests one at a time (PayGo billing
// periods, 30-day FOCUS chunks), and usage alone, without the card.
type usager interface {
	Windows(ctx context.Context, acct cost.Account, src billing.Source, days cost.Period) ([]cost.Period, error)
	Usage(ctx context.Context, acct cost.Account, src billing.Source, days cost.Period) ([]cost.Usage, error)
}

var _ usager = (*billing.Client)(nil)

// fetchRange fetches acc's usage for rng. A first backfill (first is true)
// longer than one window is fetched a window at a time, oldest first, and
// logs a progress line after each: the account (n of the accounts), the
// window (n of the account's), account-windows done of all accounts',
// rows so far, elapsed time and an ETA from the pace so far, which assumes
// the accounts after this one need a backfill too, as on a first start.
// The windows are the billing client's (Windows): each sends one usage
// request, so every PayGo billing period is read and decoded once. They
// make one snapshot, saved once, exactly as one Fetch of rng would return:
// the card comes with the last window.
func (a *App) fetchRange(ctx context.Context, acc cost.Account, rng cost.Period, first bool) (cost.Snapshot, error) {
	src := a.sources[acc.ID]
	u, ok := a.cf.(usager)
	if !first || !ok || rng.End.Sub(rng.Start) <= backfillWindow {
		return a.cf.Fetch(ctx, acc, src, rng)
	}
	windows, err := u.Windows(ctx, acc, src, rng)
	if err != nil {
		return cost.Snapshot{}, fmt.Errorf("backfill: %w", err)
	}
	if len(windows) < 2 {
		return a.cf.Fetch(ctx, acc, src, rng)
	}
	accounts := len(a.accounts)
	idx := slices.IndexFunc(a.accounts, func(x cost.Account) bool { return x.ID == acc.ID })
	if idx < 0 {
		idx, accounts = 0, 1
	}
	total := (accounts - idx) * len(windows) // account-windows left in this backfill, this account's included
	start := a.wall()
	a.log.InfoContext(ctx, "backfill started", "account", acc.Name, "range", rng.String(), "days", int(rng.End.Sub(rng.Start)/(24*time.Hour)), "windows", len(windows))
	var (
		parts [][]cost.Usage // each window's rows, joined once at the end
		rows  int
		snap  cost.Snapshot
	)
	for i, w := range windows {
		var us []cost.Usage
		if i < len(windows)-1 {
			var err error
			if us, err = u.Usage(ctx, acc, src, w); err != nil {
				return cost.Snapshot{}, fmt.Errorf("backfill window %d of %d: %w", i+1, len(windows), err)
			}
		} else {
			var err error
			if snap, err = a.cf.Fetch(ctx, acc, src, w); err != nil {
				return cost.Snapshot{}, fmt.Errorf("backfill window %d of %d: %w", i+1, len(windows), err)
			}
			us = snap.Usage
		}
		parts = append(parts, us)
		rows += len(us)
		elapsed := a.wall().Sub(start)
		done := i + 1
		eta := time.Duration(float64(elapsed) / float64(done) * float64(total-done))
		a.log.InfoContext(ctx, "backfill progress", "account", acc.Name,
			"account_n", fmt.Sprintf("%d/%d", idx+1, accounts),
			"window", fmt.Sprintf("%d/%d", done, len(windows)),
			"done", fmt.Sprintf("%d/%d", idx*len(windows)+done, accounts*len(windows)),
			"rows", rows, "elapsed", elapsed.Round(time.Second), "eta", eta.Round(time.Second))
	}
	snap.Range = rng
	snap.Usage = slices.Concat(parts...) // one copy, not one per doubling
	return snap, nil
}
