package app

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/costbot/costbot/internal/cost"
)

// history is the daemon's in-memory copy of the stored usage, so a cycle
// reads the whole history without a full table scan: it is loaded from the
// store once and then updated with each saved snapshot exactly as the store
// updates itself (store.DB.SaveSnapshot). Guarded by App.jobs.
type history struct {
	byAcct map[string][]cost.Usage // each ordered like store.DB.Usage: day, family, service, zone, correction
	loaded bool
}

// usage returns the stored rows with a charge day before end.
func (a *App) usage(ctx context.Context, end time.Time) ([]cost.Usage, error) {
	if !a.hist.loaded {
		rows, err := a.db.Usage(ctx, time.Unix(0, 0).UTC(), time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC))
		if err != nil {
			return nil, err
		}
		a.hist = history{byAcct: map[string][]cost.Usage{}, loaded: true}
		for _, u := range rows {
			a.hist.byAcct[u.Account] = append(a.hist.byAcct[u.Account], u)
		}
	}
	accts := make([]string, 0, len(a.hist.byAcct))
	n := 0
	for id, rows := range a.hist.byAcct {
		accts = append(accts, id)
		n += len(rows)
	}
	slices.Sort(accts)
	out := make([]cost.Usage, 0, n)
	for _, id := range accts {
		for _, u := range a.hist.byAcct[id] {
			if u.Day.Before(end) {
				out = append(out, u)
			}
		}
	}
	return out, nil
}

// apply mirrors a saved snapshot: the account's rows in snap.Range are
// replaced, and so are rows outside it with the same account, service,
// family, zone, day and correction flag as a saved row.
func (h *history) apply(snap cost.Snapshot) {
	if !h.loaded {
		return // loaded from the store, which has the snapshot, on first use
	}
	acct := snap.Account.ID
	type key struct {
		service, family, zone string
		day                   time.Time
		correction            bool
	}
	outside := map[key]bool{}
	for _, u := range snap.Usage {
		if !snap.Range.Contains(u.Day) {
			outside[key{u.Service, u.Family, u.Zone, u.Day, u.Correction}] = true
		}
	}
	old := h.byAcct[acct]
	kept := make([]cost.Usage, 0, len(old)+len(snap.Usage))
	for _, u := range old {
		if (!snap.Range.IsZero() && snap.Range.Contains(u.Day)) || outside[key{u.Service, u.Family, u.Zone, u.Day, u.Correction}] {
			continue
		}
		kept = append(kept, u)
	}
	for _, u := range snap.Usage {
		if u.Account == "" {
			u.Account = acct
		}
		kept = append(kept, u)
	}
	slices.SortStableFunc(kept, func(x, y cost.Usage) int {
		return cmp.Or(x.Day.Compare(y.Day), strings.Compare(x.Family, y.Family),
			strings.Compare(x.Service, y.Service), strings.Compare(x.Zone, y.Zone), boolCmp(x.Correction, y.Correction))
	})
	h.byAcct[acct] = kept
}

func boolCmp(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}
