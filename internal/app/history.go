package app

import (
	"cmp"
	"context"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/costbot/costbot/internal/cost"
	"github.com/costbot/costbot/internal/rules"
)

// history is the daemon's in-memory copy of the stored usage, so a cycle
// reads the whole history without a full table scan: it is loaded from the
// store once and then updated with each saved snapshot exactly as the store
// updates itself (store.DB.SaveSnapshot). Guarded by App.jobs.
//
// The rows live in one slice, all, ordered by account id and then like
// store.DB.Usage; byAcct holds each account's block of it. A snapshot that
// changes an account's rows gives that account a new block (rows already
// handed out are never written) and marks all for a rebuild on the next
// read; a snapshot that changes nothing, as most hourly refreshes, costs
// a comparison and no copy.
type history struct {
	byAcct map[string][]cost.Usage // each ordered like store.DB.Usage: day, family, service, zone, correction
	all    []cost.Usage            // every block of byAcct, by account id; stale while dirty
	last   time.Time               // the latest charge day in all
	dirty  bool
	loaded bool
	// judged is the live state's anomaly state (store.DB.Judged), read
	// once and kept in step by App.saveJudged; nil until read.
	judged map[string]rules.Judged
}

// usage returns the stored rows with a charge day before end, ordered by
// account id and then like store.DB.Usage. The slice is shared: callers
// must not modify it.
func (a *App) usage(ctx context.Context, end time.Time) ([]cost.Usage, error) {
	if err := a.loadHistory(ctx); err != nil {
		return nil, err
	}
	h := &a.hist
	if h.dirty {
		accts := make([]string, 0, len(h.byAcct))
		n := 0
		for id, rows := range h.byAcct {
			accts = append(accts, id)
			n += len(rows)
		}
		slices.Sort(accts)
		all := make([]cost.Usage, 0, n)
		for _, id := range accts {
			all = append(all, h.byAcct[id]...)
		}
		h.point(all)
		h.dirty = false
	}
	if h.last.Before(end) {
		return h.all, nil
	}
	out := make([]cost.Usage, 0, len(h.all))
	for _, u := range h.all {
		if u.Day.Before(end) {
			out = append(out, u)
		}
	}
	return out, nil
}

// loadHistory reads the live state's usage into the history, unless it
// is loaded. A cycle loads it before it fetches, so that what it saves is
// applied to the history rather than read back (on a first backfill, every
// row).
func (a *App) loadHistory(ctx context.Context) error {
	if a.hist.loaded {
		return nil
	}
	rows, err := a.db.Usage(ctx, time.Unix(0, 0).UTC(), time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		return err
	}
	judged := a.hist.judged
	a.hist = history{byAcct: map[string][]cost.Usage{}, loaded: true, judged: judged}
	a.hist.point(rows)
	return nil
}

// point makes all (ordered by account) the history's rows and each
// account's block a capped sub-slice of it.
func (h *history) point(all []cost.Usage) {
	h.all, h.last = all, time.Time{}
	clear(h.byAcct)
	for lo := 0; lo < len(all); {
		hi := lo + 1
		for hi < len(all) && all[hi].Account == all[lo].Account {
			hi++
		}
		h.byAcct[all[lo].Account] = all[lo:hi:hi]
		lo = hi
	}
	for i := range all {
		if all[i].Day.After(h.last) {
			h.last = all[i].Day
		}
	}
}

// apply mirrors a saved snapshot: the account's rows in snap.Range are
// replaced, and so are rows outside it with the same account, service,
// family, zone, day and correction flag as a saved row.
func (h *history) apply(snap cost.Snapshot) {
	if !h.loaded {
		return // loaded from the store, which has the snapshot, on first use
	}
	acct := snap.Account.ID
	old := h.byAcct[acct]
	in, lo, hi, inside := h.block(snap)
	if !inside {
		h.replace(acct, h.applyAny(snap, old, in))
		return
	}
	// Every saved row lies in the range: the range's block of the
	// account's rows (ordered by day first) is replaced by in, unless it
	// holds the same rows already.
	if slices.EqualFunc(old[lo:hi], in, sameRow) {
		return
	}
	rows := make([]cost.Usage, 0, len(old)-(hi-lo)+len(in))
	rows = append(rows, old[:lo]...)
	rows = append(rows, in...)
	rows = append(rows, old[hi:]...)
	h.replace(acct, rows)
}

// holds reports whether the history is loaded and holds exactly snap's
// rows in snap.Range, and snap has no rows outside it: saving snap would
// change no stored row.
func (h *history) holds(snap cost.Snapshot) bool {
	if !h.loaded {
		return false
	}
	in, lo, hi, inside := h.block(snap)
	return inside && slices.EqualFunc(h.byAcct[snap.Account.ID][lo:hi], in, sameRow)
}

// block returns snap's rows with their account filled in, ordered like the
// history; lo and hi bound the account's rows in snap.Range; inside is
// false when snap has no range or rows outside it.
func (h *history) block(snap cost.Snapshot) (in []cost.Usage, lo, hi int, inside bool) {
	acct := snap.Account.ID
	in = make([]cost.Usage, len(snap.Usage))
	inside = !snap.Range.IsZero()
	for i, u := range snap.Usage {
		if u.Account == "" {
			u.Account = acct
		}
		in[i] = u
		inside = inside && snap.Range.Contains(u.Day)
	}
	slices.SortStableFunc(in, rowCmp)
	old := h.byAcct[acct]
	lo = sort.Search(len(old), func(i int) bool { return !old[i].Day.Before(snap.Range.Start) })
	hi = sort.Search(len(old), func(i int) bool { return !old[i].Day.Before(snap.Range.End) })
	return in, lo, hi, inside
}

// applyAny is apply for a snapshot with rows outside its range (or no
// range): every kept row is compared with the saved ones and the whole
// account sorted again.
func (h *history) applyAny(snap cost.Snapshot, old, in []cost.Usage) []cost.Usage {
	type key struct {
		service, family, zone string
		day                   time.Time
		correction            bool
	}
	outside := map[key]bool{}
	for _, u := range in {
		if !snap.Range.Contains(u.Day) {
			outside[key{u.Service, u.Family, u.Zone, u.Day, u.Correction}] = true
		}
	}
	kept := make([]cost.Usage, 0, len(old)+len(in))
	for _, u := range old {
		if (!snap.Range.IsZero() && snap.Range.Contains(u.Day)) || outside[key{u.Service, u.Family, u.Zone, u.Day, u.Correction}] {
			continue
		}
		kept = append(kept, u)
	}
	kept = append(kept, in...)
	slices.SortStableFunc(kept, rowCmp)
	return kept
}

// replace gives acct the new block rows; all is rebuilt on the next read.
func (h *history) replace(acct string, rows []cost.Usage) {
	if len(rows) == 0 {
		delete(h.byAcct, acct)
	} else {
		h.byAcct[acct] = rows
	}
	h.dirty = true
}

// rowCmp orders an account's rows like store.DB.Usage.
func rowCmp(x, y cost.Usage) int {
	return cmp.Or(x.Day.Compare(y.Day), strings.Compare(x.Family, y.Family),
		strings.Compare(x.Service, y.Service), strings.Compare(x.Zone, y.Zone), boolCmp(x.Correction, y.Correction))
}

// sameRow reports whether x and y store the same row (NaN equals NaN).
func sameRow(x, y cost.Usage) bool {
	return x.Account == y.Account && x.Service == y.Service && x.Family == y.Family && x.Zone == y.Zone &&
		x.Day.Equal(y.Day) && x.BillingPeriod.Start.Equal(y.BillingPeriod.Start) &&
		x.BillingPeriod.End.Equal(y.BillingPeriod.End) && math.Float64bits(x.Cost) == math.Float64bits(y.Cost) &&
		x.CostKnown == y.CostKnown && x.Currency == y.Currency &&
		math.Float64bits(x.Quantity) == math.Float64bits(y.Quantity) && x.Unit == y.Unit && x.Correction == y.Correction
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
