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
	"github.com/costbot/costbot/internal/slackcmd"
)

// history is the daemon's in-memory copy of the stored usage, so a cycle
// reads the whole history without a full table scan: it is loaded from the
// store once and then updated with each saved snapshot exactly as the store
// updates itself (store.DB.SaveSnapshot). Guarded by App.jobs.
//
// Each account's rows are one block in a compact form (block): what rows
// share (the strings, the billing period) is kept once per account, and a
// row is its cost, quantity, day and flags, 24 bytes instead of a
// cost.Usage's 200. A block is never written once made: a snapshot that
// changes an account's rows gives it a new block, and one that changes
// nothing, as most hourly refreshes, costs a comparison and no copy. Rules
// and slash commands read the rows one account at a time through a view.
type history struct {
	byAcct map[string]*block
	last   time.Time // the latest charge day in byAcct
	loaded bool
	// judged is the live state's anomaly state (store.DB.Judged), packed,
	// read once and kept in step by App.saveJudged; nil until read.
	judged map[string]packedJudged
}

// packedJudged is a rules.Judged with its days in slices, 16 bytes a day
// instead of a map entry (4 kB a series of 62 days).
type packedJudged struct {
	through              time.Time
	values               []dayValue
	reported, summarized []dayPair
}

type dayValue struct {
	day int64 // Unix milliseconds
	v   float64
}

type dayPair struct{ day, at int64 } // Unix milliseconds

func packJudged(j rules.Judged) packedJudged {
	p := packedJudged{through: j.Through}
	if len(j.Values) > 0 {
		p.values = make([]dayValue, 0, len(j.Values))
		for d, v := range j.Values {
			p.values = append(p.values, dayValue{d.UnixMilli(), v})
		}
	}
	pairs := func(m map[time.Time]time.Time) []dayPair {
		if len(m) == 0 {
			return nil
		}
		out := make([]dayPair, 0, len(m))
		for d, at := range m {
			out = append(out, dayPair{d.UnixMilli(), at.UnixMilli()})
		}
		return out
	}
	p.reported, p.summarized = pairs(j.Reported), pairs(j.Summarized)
	return p
}

// unpack is the rules.Judged p packs, with maps of its own.
func (p *packedJudged) unpack() rules.Judged {
	j := rules.Judged{Through: p.through, Values: make(map[time.Time]float64, len(p.values)),
		Reported: make(map[time.Time]time.Time, len(p.reported)), Summarized: make(map[time.Time]time.Time, len(p.summarized))}
	for _, dv := range p.values {
		j.Values[time.UnixMilli(dv.day).UTC()] = dv.v
	}
	for _, m := range []struct {
		from []dayPair
		to   map[time.Time]time.Time
	}{{p.reported, j.Reported}, {p.summarized, j.Summarized}} {
		for _, dp := range m.from {
			m.to[time.UnixMilli(dp.day).UTC()] = time.UnixMilli(dp.at).UTC()
		}
	}
	return j
}

// judgedOf is rules.Input.JudgedOf over the packed states; safe for
// concurrent use while nothing writes h.judged.
func (h *history) judgedOf(key string) rules.Judged {
	p, ok := h.judged[key]
	if !ok {
		return rules.Judged{}
	}
	return p.unpack()
}

// block is one account's rows, ordered like store.DB.Usage (day, family,
// service, zone, correction).
type block struct {
	// series are the distinct rows with Day, BillingPeriod, Cost,
	// Quantity, CostKnown and Correction cleared: account, service,
	// family, zone, currency and unit; periods the distinct billing
	// periods; attrs the distinct pairs of both the rows use.
	series  []cost.Usage
	periods []cost.Period
	attrs   []attr
	// days are the rows' charge days in Unix milliseconds (UTC, as the
	// store keeps them), ascending like the rows.
	days []int64
	rows []packedRow
	last int64 // the latest day of rows (Unix milliseconds)
}

// attr is what rows share beyond their day: indexes into block.series
// and block.periods.
type attr struct{ series, period uint32 }

// packedRow is one usage row of a block, 24 bytes.
type packedRow struct {
	cost     float64
	quantity float64
	day      uint32 // index into block.days
	// attr indexes block.attrs in its low 30 bits; the top two are
	// flagCostKnown and flagCorrection.
	attr uint32
}

const (
	flagCostKnown  uint32 = 1 << 31
	flagCorrection uint32 = 1 << 30
	attrMask              = flagCorrection - 1
)

// seriesKey is what rows of one series share.
type seriesKey struct{ account, service, family, zone, currency, unit string }

// blockBuilder packs rows of one account, in order, into a new block.
type blockBuilder struct {
	b       *block
	series  map[seriesKey]uint32
	periods map[cost.Period]uint32
	attrs   map[attr]uint32
	// from maps the attrs of an old block to the new one's (old attr + 1;
	// 0: not mapped yet), so copied rows skip the maps.
	from  *block
	remap []uint32
}

func newBlockBuilder(n int) *blockBuilder {
	return &blockBuilder{b: &block{rows: make([]packedRow, 0, n)}, series: map[seriesKey]uint32{},
		periods: map[cost.Period]uint32{}, attrs: map[attr]uint32{}}
}

// intern returns the index of the attr of u's strings and period (its
// series and period given as a template row).
func (bb *blockBuilder) intern(u *cost.Usage) uint32 {
	k := seriesKey{u.Account, u.Service, u.Family, u.Zone, u.Currency, u.Unit}
	si, ok := bb.series[k]
	if !ok {
		si = uint32(len(bb.b.series))
		bb.series[k] = si
		bb.b.series = append(bb.b.series, cost.Usage{Account: u.Account, Service: u.Service, Family: u.Family,
			Zone: u.Zone, Currency: u.Currency, Unit: u.Unit})
	}
	pi, ok := bb.periods[u.BillingPeriod]
	if !ok {
		pi = uint32(len(bb.b.periods))
		bb.periods[u.BillingPeriod] = pi
		bb.b.periods = append(bb.b.periods, u.BillingPeriod)
	}
	at := attr{si, pi}
	id, ok := bb.attrs[at]
	if !ok {
		id = uint32(len(bb.b.attrs))
		if id > attrMask {
			panic("app: more distinct usage rows in one account than a block holds")
		}
		bb.attrs[at] = id
		bb.b.attrs = append(bb.b.attrs, at)
	}
	return id
}

// day returns the index of the charge day ms, a new one unless it is the
// last row's.
func (bb *blockBuilder) day(ms int64) uint32 {
	if n := len(bb.b.days); n > 0 && bb.b.days[n-1] == ms {
		return uint32(n - 1)
	}
	bb.b.days = append(bb.b.days, ms)
	return uint32(len(bb.b.days) - 1)
}

// add packs u.
func (bb *blockBuilder) add(u *cost.Usage) {
	id := bb.intern(u)
	if u.CostKnown {
		id |= flagCostKnown
	}
	if u.Correction {
		id |= flagCorrection
	}
	bb.b.rows = append(bb.b.rows, packedRow{cost: u.Cost, quantity: u.Quantity, day: bb.day(u.Day.UnixMilli()), attr: id})
}

// copyRows appends rows of old as they are.
func (bb *blockBuilder) copyRows(old *block, rows []packedRow) {
	if bb.from != old {
		bb.from, bb.remap = old, make([]uint32, len(old.attrs))
	}
	for _, r := range rows {
		a := r.attr & attrMask
		id := bb.remap[a]
		if id == 0 {
			at := old.attrs[a]
			tmpl := old.series[at.series]
			tmpl.BillingPeriod = old.periods[at.period]
			id = bb.intern(&tmpl) + 1
			bb.remap[a] = id
		}
		r.attr = id - 1 | r.attr&^attrMask
		r.day = bb.day(old.days[r.day])
		bb.b.rows = append(bb.b.rows, r)
	}
}

func (bb *blockBuilder) done() *block {
	b := bb.b
	b.series, b.periods, b.attrs, b.days = slices.Clip(b.series), slices.Clip(b.periods), slices.Clip(b.attrs), slices.Clip(b.days)
	b.last = math.MinInt64
	for _, d := range b.days {
		b.last = max(b.last, d)
	}
	return b
}

func packRows(rows []cost.Usage) *block {
	bb := newBlockBuilder(len(rows))
	for i := range rows {
		bb.add(&rows[i])
	}
	return bb.done()
}

// row unpacks row i.
func (b *block) row(i int) cost.Usage {
	r := &b.rows[i]
	at := b.attrs[r.attr&attrMask]
	u := b.series[at.series]
	u.BillingPeriod = b.periods[at.period]
	u.Day = time.UnixMilli(b.days[r.day]).UTC()
	u.Cost, u.Quantity = r.cost, r.quantity
	u.CostKnown, u.Correction = r.attr&flagCostKnown != 0, r.attr&flagCorrection != 0
	return u
}

// appendRange appends the unpacked rows [lo, hi) to buf.
func (b *block) appendRange(buf []cost.Usage, lo, hi int) []cost.Usage {
	buf = slices.Grow(buf, hi-lo)
	for i := lo; i < hi; i++ {
		buf = append(buf, b.row(i))
	}
	return buf
}

// search returns the first row whose day is not before ms.
func (b *block) search(ms int64) int {
	return sort.Search(len(b.rows), func(i int) bool { return b.days[b.rows[i].day] >= ms })
}

// view is the usage history as of one cycle, the rows with a charge day
// before end: a rules.History and a slackcmd.History. Its blocks are never
// written, so it stays valid (and safe for concurrent use) while later
// cycles change the history.
type view struct {
	blocks map[string]*block
	ids    []string // the accounts with rows before end, sorted
	end    int64    // Unix milliseconds; math.MaxInt64: every row
}

var (
	_ rules.History    = (*view)(nil)
	_ slackcmd.History = (*view)(nil)
)

// Accounts lists the accounts with rows, sorted; the slice is shared.
func (v *view) Accounts() []string { return v.ids }

// Rows returns the account's rows before the view's end, appended to
// buf[:0].
func (v *view) Rows(account string, buf []cost.Usage) []cost.Usage {
	b := v.blocks[account]
	if b == nil {
		return buf[:0]
	}
	hi := len(b.rows)
	if v.end != math.MaxInt64 {
		hi = b.search(v.end)
	}
	return b.appendRange(buf[:0], 0, hi)
}

// usage returns the stored rows with a charge day before end, as a view
// for rules.Input.History and slackcmd.Data.History.
func (a *App) usage(ctx context.Context, end time.Time) (*view, error) {
	if err := a.loadHistory(ctx); err != nil {
		return nil, err
	}
	h := &a.hist
	v := &view{blocks: make(map[string]*block, len(h.byAcct)), end: math.MaxInt64}
	if !h.last.Before(end) {
		v.end = end.UnixMilli()
	}
	for id, b := range h.byAcct {
		v.blocks[id] = b
		if len(b.rows) > 0 && b.days[b.rows[0].day] < v.end { // ordered by day first
			v.ids = append(v.ids, id)
		}
	}
	slices.Sort(v.ids)
	return v, nil
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
	a.hist = history{byAcct: map[string]*block{}, loaded: true, judged: judged}
	a.hist.point(rows)
	return nil
}

// point makes rows (ordered by account, then like store.DB.Usage) the
// history's rows, a block per account.
func (h *history) point(rows []cost.Usage) {
	clear(h.byAcct)
	for lo := 0; lo < len(rows); {
		hi := lo + 1
		for hi < len(rows) && rows[hi].Account == rows[lo].Account {
			hi++
		}
		h.byAcct[rows[lo].Account] = packRows(rows[lo:hi])
		lo = hi
	}
	h.updateLast()
}

// updateLast sets last to the latest charge day of every block.
func (h *history) updateLast() {
	h.last = time.Time{}
	for _, b := range h.byAcct {
		if d := time.UnixMilli(b.last).UTC(); len(b.rows) > 0 && d.After(h.last) {
			h.last = d
		}
	}
}

// rowsIn returns the account's stored rows with a charge day in rng,
// ordered like store.DB.Usage.
func (h *history) rowsIn(account string, rng cost.Period) []cost.Usage {
	b := h.byAcct[account]
	if b == nil {
		return nil
	}
	return b.appendRange(nil, b.search(rng.Start.UnixMilli()), b.search(rng.End.UnixMilli()))
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
		var rows []cost.Usage
		if old != nil {
			rows = old.appendRange(nil, 0, len(old.rows))
		}
		h.replace(acct, packRows(h.applyAny(snap, rows, in.all())))
		return
	}
	// Every saved row lies in the range: the range's part of the account's
	// rows (ordered by day first) is replaced by in, unless it holds the
	// same rows already.
	if h.sameRange(old, lo, hi, in) {
		return
	}
	n := len(in.order)
	if old != nil {
		n += len(old.rows) - (hi - lo)
	}
	if n == 0 {
		h.replace(acct, nil)
		return
	}
	bb := newBlockBuilder(n)
	if old != nil {
		bb.copyRows(old, old.rows[:lo])
	}
	for k := range in.order {
		u := in.at(k)
		bb.add(&u)
	}
	if old != nil {
		bb.copyRows(old, old.rows[hi:])
	}
	h.replace(acct, bb.done())
}

// sameRange reports whether old's rows [lo, hi) are the rows in.
func (h *history) sameRange(old *block, lo, hi int, in incoming) bool {
	if hi-lo != len(in.order) {
		return false
	}
	for k := range in.order {
		if !sameRow(old.row(lo+k), in.at(k)) {
			return false
		}
	}
	return true
}

// holds reports whether the history is loaded and holds exactly snap's
// rows in snap.Range, and snap has no rows outside it: saving snap would
// change no stored row.
func (h *history) holds(snap cost.Snapshot) bool {
	if !h.loaded || snap.Range.IsZero() {
		return false
	}
	lo, hi := h.bounds(snap.Account.ID, snap.Range)
	if hi-lo != len(snap.Usage) { // a first fetch, or rows added or gone
		return false
	}
	in, lo, hi, inside := h.block(snap)
	return inside && h.sameRange(h.byAcct[snap.Account.ID], lo, hi, in)
}

// bounds returns the account's rows in rng as [lo, hi).
func (h *history) bounds(acct string, rng cost.Period) (lo, hi int) {
	if old := h.byAcct[acct]; old != nil {
		lo, hi = old.search(rng.Start.UnixMilli()), old.search(rng.End.UnixMilli())
	}
	return lo, hi
}

// incoming is a snapshot's rows in the history's order, read in place.
type incoming struct {
	rows  []cost.Usage // cost.Snapshot.Usage, not written
	acct  string       // the account of rows without one
	order []int32      // rows[order[k]] is the k-th row in the history's order
}

// at returns the k-th row with its account filled in.
func (in incoming) at(k int) cost.Usage {
	u := in.rows[in.order[k]]
	if u.Account == "" {
		u.Account = in.acct
	}
	return u
}

// all returns the rows in order, as a new slice.
func (in incoming) all() []cost.Usage {
	out := make([]cost.Usage, len(in.order))
	for k := range in.order {
		out[k] = in.at(k)
	}
	return out
}

// block returns snap's rows ordered like the history, without copying
// them; lo and hi bound the account's rows in snap.Range; inside is false
// when snap has no range or rows outside it.
func (h *history) block(snap cost.Snapshot) (in incoming, lo, hi int, inside bool) {
	in = incoming{rows: snap.Usage, acct: snap.Account.ID, order: make([]int32, len(snap.Usage))}
	inside = !snap.Range.IsZero()
	for i := range snap.Usage {
		in.order[i] = int32(i)
		inside = inside && snap.Range.Contains(snap.Usage[i].Day)
	}
	slices.SortStableFunc(in.order, func(x, y int32) int { return rowCmp(snap.Usage[x], snap.Usage[y]) })
	lo, hi = h.bounds(snap.Account.ID, snap.Range)
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

// replace gives acct the new block b (nil or empty: no rows).
func (h *history) replace(acct string, b *block) {
	if b == nil || len(b.rows) == 0 {
		delete(h.byAcct, acct)
	} else {
		h.byAcct[acct] = b
	}
	h.updateLast()
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
