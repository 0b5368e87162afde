package app

import (
	"context"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/costbot/costbot/internal/cost"
	"github.com/costbot/costbot/internal/rules"
)

// TestHistory_Apply: applying a snapshot gives the rows the general path
// (every row compared, all sorted again) gives, whether it changes nothing,
// revises, adds or drops rows, or carries rows outside its range; a
// snapshot that changes nothing leaves the history as it was, uncopied.
func TestHistory_Apply(t *testing.T) {
	d0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	day := func(i int) time.Time { return d0.AddDate(0, 0, i) }
	row := func(acct string, i int, svc string, c float64) cost.Usage {
		return cost.Usage{Account: acct, Service: svc, Family: "F", Day: day(i), Cost: c, CostKnown: true, Currency: "USD",
			BillingPeriod: cost.Period{Start: d0, End: d0.AddDate(0, 1, 0)}}
	}
	var base []cost.Usage
	for _, acct := range []string{"a", "b"} {
		for i := range 10 {
			for _, svc := range []string{"R2", "Workers"} {
				base = append(base, row(acct, i, svc, float64(i)))
			}
		}
	}
	rng := cost.Period{Start: day(7), End: day(10)}
	same := func() []cost.Usage {
		var out []cost.Usage
		for i := 7; i < 10; i++ {
			// The client's order (day, service) with a NaN quantity.
			out = append(out, row("", i, "Workers", float64(i)), row("a", i, "R2", float64(i)))
		}
		return out
	}
	tests := []struct {
		name    string
		rng     cost.Period
		usage   func() []cost.Usage
		changed bool
	}{
		{name: "OK_Unchanged", rng: rng, usage: same},
		{name: "OK_Revised", rng: rng, changed: true, usage: func() []cost.Usage {
			u := same()
			u[2].Cost = 99
			return u
		}},
		{name: "OK_NewDay", rng: cost.Period{Start: day(7), End: day(11)}, changed: true, usage: func() []cost.Usage {
			return append(same(), row("a", 10, "Workers", 10))
		}},
		{name: "OK_RowsGone", rng: rng, changed: true, usage: func() []cost.Usage { return same()[:3] }},
		{name: "OK_Empty", rng: rng, changed: true, usage: func() []cost.Usage { return nil }},
		{name: "OK_RowOutsideRange", rng: rng, changed: true, usage: func() []cost.Usage {
			return append(same(), row("a", 2, "Workers", 42))
		}},
		{name: "OK_NoRange", changed: true, usage: func() []cost.Usage { return []cost.Usage{row("a", 3, "R2", 7)} }},
		{name: "OK_NaNCost", rng: rng, changed: true, usage: func() []cost.Usage {
			u := same()
			u[0].Cost = math.NaN()
			return u
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &App{}
			a.hist = history{byAcct: map[string]*block{}, loaded: true}
			a.hist.point(slices.Clone(base))
			ctx := context.Background()
			before := a.hist.byAcct["a"]
			handed, err := a.usage(ctx, day(30))
			if err != nil {
				t.Fatal(err)
			}
			snap := cost.Snapshot{Account: cost.Account{ID: "a"}, Range: tt.rng, Usage: tt.usage()}
			want := wantApply(base, snap)
			a.hist.apply(snap)
			if changed := a.hist.byAcct["a"] != before; changed != tt.changed {
				t.Errorf("new block = %t, want %t", changed, tt.changed)
			}
			got, err := a.flatUsage(ctx, day(30))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.EqualFunc(got, want, sameRow) {
				t.Errorf("rows =\n%v\nwant\n%v", got, want)
			}
			if !slices.EqualFunc(flatten(handed), base, sameRow) {
				t.Error("apply changed the rows of a view handed out before")
			}
		})
	}
}

// flatUsage is every row of the history before end, ordered by account
// and then like store.DB.Usage: what the history held as one slice.
func (a *App) flatUsage(ctx context.Context, end time.Time) ([]cost.Usage, error) {
	v, err := a.usage(ctx, end)
	if err != nil {
		return nil, err
	}
	return flatten(v), nil
}

func flatten(v *view) []cost.Usage {
	var out []cost.Usage
	for _, id := range v.Accounts() {
		out = append(out, v.Rows(id, nil)...)
	}
	return out
}

// Packing keeps every field of a row exactly: days (UTC midnight, the
// zero time), billing periods, NaN and unknown costs, flags and strings,
// and a view's end leaves out the rows on or after it.
func TestHistory_PackRows(t *testing.T) {
	d := time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)
	bp := cost.Period{Start: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	rows := []cost.Usage{
		{Account: "a", Day: time.Time{}, Service: "S"},
		{Account: "a", Service: "Workers", Family: "Workers", Zone: "z.example", Day: d, BillingPeriod: bp, Cost: 1.25,
			CostKnown: true, Currency: "USD", Quantity: 3, Unit: "requests"},
		{Account: "a", Service: "R2", Day: d.AddDate(0, 0, 1), BillingPeriod: bp, Cost: math.NaN(), Quantity: math.NaN()},
		{Account: "a", Service: "R2", Day: d.AddDate(0, 0, 1), Cost: -2, CostKnown: true, Correction: true, Currency: "EUR"},
		{Account: "a", Service: "R2", Day: d.AddDate(0, 0, 2), BillingPeriod: bp, Cost: 7, CostKnown: true, Currency: "USD"},
	}
	b := packRows(rows)
	if len(b.attrs) >= len(rows)+1 {
		t.Errorf("%d attrs for %d rows", len(b.attrs), len(rows))
	}
	for _, tt := range []struct {
		name string
		end  time.Time
		want []cost.Usage
	}{
		{"OK/all", d.AddDate(0, 0, 10), rows},
		{"OK/before end", d.AddDate(0, 0, 2), rows[:4]},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := &App{}
			a.hist = history{byAcct: map[string]*block{"a": b}, loaded: true}
			a.hist.updateLast()
			got, err := a.flatUsage(context.Background(), tt.end)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.EqualFunc(got, tt.want, sameRow) {
				t.Errorf("rows =\n%v\nwant\n%v", got, tt.want)
			}
			for i := range got {
				if got[i].Day != tt.want[i].Day || got[i].BillingPeriod != tt.want[i].BillingPeriod {
					t.Errorf("row %d: day %#v, period %#v; want %#v, %#v", i, got[i].Day, got[i].BillingPeriod, tt.want[i].Day, tt.want[i].BillingPeriod)
				}
			}
		})
	}
}

// wantApply is the store's rule applied to rows in the plainest way: the
// account's rows in the range, and those with the key of a saved row, go;
// the saved rows come in; all sorted by account, then like the store.
func wantApply(rows []cost.Usage, snap cost.Snapshot) []cost.Usage {
	type key struct {
		service, family, zone string
		day                   time.Time
		correction            bool
	}
	saved := map[key]bool{}
	for _, u := range snap.Usage {
		saved[key{u.Service, u.Family, u.Zone, u.Day, u.Correction}] = true
	}
	var out []cost.Usage
	for _, u := range rows {
		if u.Account == snap.Account.ID && ((!snap.Range.IsZero() && snap.Range.Contains(u.Day)) ||
			saved[key{u.Service, u.Family, u.Zone, u.Day, u.Correction}]) {
			continue
		}
		out = append(out, u)
	}
	for _, u := range snap.Usage {
		u.Account = snap.Account.ID
		out = append(out, u)
	}
	slices.SortStableFunc(out, func(x, y cost.Usage) int {
		if x.Account != y.Account {
			if x.Account < y.Account {
				return -1
			}
			return 1
		}
		return rowCmp(x, y)
	})
	return out
}

// A packed anomaly state unpacks to the state packed: values (NaN
// included), reported and summarized episodes, the zero state.
func TestHistory_PackJudged(t *testing.T) {
	d := time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)
	full := rules.Judged{Through: d, Values: map[time.Time]float64{d: 1.5, d.AddDate(0, 0, -1): math.NaN(), d.AddDate(0, 0, -2): 0},
		Reported: map[time.Time]time.Time{d.AddDate(0, 0, -1): d}, Summarized: map[time.Time]time.Time{d.AddDate(0, 0, -1): d.AddDate(0, 0, -2)}}
	for _, tt := range []struct {
		name string
		j    rules.Judged
	}{
		{"OK/full", full},
		{"OK/empty maps", rules.Judged{Through: d, Values: map[time.Time]float64{}, Reported: map[time.Time]time.Time{}, Summarized: map[time.Time]time.Time{}}},
		{"OK/zero", rules.Judged{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := packJudged(tt.j)
			got := p.unpack()
			if !got.Equal(tt.j) {
				t.Errorf("unpacked %+v, want %+v", got, tt.j)
			}
			for day := range tt.j.Values {
				if _, ok := got.Values[day]; !ok {
					t.Errorf("day %v lost (map key no longer equal)", day)
				}
			}
		})
	}
}
