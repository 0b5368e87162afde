package rules

import (
	"fmt"
	"math"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/costbot/costbot/internal/cost"
	"github.com/costbot/costbot/internal/detect"
	"github.com/costbot/costbot/internal/detect/costgen"
)

// fleetRules judges every series twice: all rises, and R2 both ways with a
// lower floor; a budget per account keeps the rest of Run in the output.
const fleetRules = `budgets:
  - {name: monthly, amount: 20000, currency: USD, thresholds: [{percent: 50}, {percent: 100, on: forecast}]}
anomalies:
  - {name: spikes, direction: up, severity: warning}
  - {name: r2-both, scope: {family: "R2"}, direction: both, min_impact: 1, severity: critical}
`

// fleet is a realistic multi-account bill: accounts x services series of
// days days ending the day before last+1 (costgen's realistic generator, so
// spikes, shifts, ramps, outages, month-start charges and zero days). The
// series start on different days and some carry zones. Account 0 has a day
// without any data and a correction row, one service of account 1 has
// unknown cost on its last days, every series of account 2 quadruples 12
// days before the end, and the last account is known only by its id.
func fleet(tb testing.TB, accounts, services, days int, last time.Time) ([]cost.Account, []cost.Usage) {
	tb.Helper()
	g := costgen.RealisticOptions()
	g.Days = days
	families := []string{"Workers", "R2", "D1", "Queues"}
	var accts []cost.Account
	var usage []cost.Usage
	for a := range accounts {
		id := fmt.Sprintf("%032x", 0xacc0+a)
		if a < accounts-1 {
			accts = append(accts, cost.Account{ID: id, Name: fmt.Sprintf("acct-%d", a)})
		}
		gap := last.AddDate(0, 0, -days/2)
		shift := last.AddDate(0, 0, -12)
		for s := range services {
			v := costgen.Realistic(costgen.Tuning, uint64(1000*a+s), g).Values
			v = v[(s%4)*15:] // later first days
			first := last.AddDate(0, 0, -(days-1)+(s%4)*15)
			u := cost.Usage{Account: id, Family: families[s%len(families)], Service: fmt.Sprintf("svc-%02d", s), Currency: "USD"}
			if s%5 == 3 {
				u.Zone = fmt.Sprintf("zone-%d.example", s%3)
			}
			for i, c := range v {
				d := first.AddDate(0, 0, i)
				if a == 0 && d.Equal(gap) {
					continue
				}
				r := u
				r.Day, r.BillingPeriod, r.Cost, r.CostKnown = d, billing(d), c, true
				if a == 2 && !d.Before(shift) {
					r.Cost *= 4
				}
				if a == 1 && s == services-1 && !d.Before(last.AddDate(0, 0, -2)) {
					r.Cost, r.CostKnown = 0, false
				}
				usage = append(usage, r)
			}
		}
		if a == 0 {
			d := last.AddDate(0, 0, -5)
			usage = append(usage, cost.Usage{Account: id, Family: "Workers", Service: "svc-00", Day: d, BillingPeriod: billing(d),
				Cost: -500, CostKnown: true, Currency: "USD", Correction: true})
		}
	}
	return accts, usage
}

// fleetCycles runs the daily cycles a daemon would over the last days of a
// fleet, with Judged carried from cycle to cycle: a first cycle, daily ones,
// a five-day downtime (late episodes, catch-up summaries), a revised day, a
// user's mark and two stale cycles. It returns every cycle's output.
func fleetCycles(tb testing.TB, set *Set, workers int) []Output {
	return fleetCyclesVia(tb, set, workers, false)
}

// fleetCyclesVia is fleetCycles, handing the usage over as an
// Input.History when history is set.
func fleetCyclesVia(tb testing.TB, set *Set, workers int, history bool) []Output {
	tb.Helper()
	const accounts, services, days = 4, 12, 160
	end := date(2026, 11, 30)
	accts, usage := fleet(tb, accounts, services, days, end)
	var outs []Output
	var judged map[string]Judged
	cycle := 0
	for d := end.AddDate(0, 0, -18); !d.After(end); d = d.AddDate(0, 0, 1) {
		cycle++
		if cycle >= 6 && cycle < 11 {
			continue // costbot was down
		}
		in := Input{Now: d.Add(36 * time.Hour), Accounts: accts, Usage: usage, Judged: judged, Workers: workers}
		switch cycle {
		case 12: // a day's bill revised
			usage = slices.Clone(usage)
			for i, u := range usage {
				if u.Service == "svc-01" && u.Day.Equal(d.AddDate(0, 0, -3)) {
					usage[i].Cost *= 9
				}
			}
			in.Usage = usage
		case 14:
			in.Expected = map[string]time.Time{
				cost.SeriesKey{Account: accts[1].ID, Family: "R2", Service: "svc-01"}.String():   d.AddDate(0, 0, -2),
				cost.SeriesKey{Account: "acct-0", Family: "Workers", Service: "svc-04"}.String(): d,
			}
		case 15, 16:
			in.Stale = map[string]error{accts[2].ID: errTest}
		}
		if history {
			in.History, in.Usage = newSliceHistory(in.Usage), nil
		}
		o := set.Run(in)
		for k, j := range o.Judged {
			if judged == nil {
				judged = map[string]Judged{}
			}
			judged[k] = j
		}
		outs = append(outs, o)
	}
	return outs
}

// Judging series on a pool gives the output judging them one by one does,
// whatever the pool size: the same findings in the same order, the same
// problems and the same judged state, cycle after cycle.
func TestSet_Run_Workers(t *testing.T) {
	set := mustParse(t, fleetRules)
	want := fleetCycles(t, set, 1)
	var kinds = map[string]int{}
	for _, o := range want {
		for _, f := range o.Findings {
			switch {
			case f.Clear != "":
				kinds["cleared"]++
			case f.Threshold == "catch-up":
				kinds["catch-up"]++
			case f.Kind == cost.KindAnomaly && strings.HasPrefix(f.Summary, "Detected "):
				kinds["late"]++
			default:
				kinds[f.Kind.String()]++
			}
		}
		if len(o.Problems) > 0 {
			kinds["problem"]++
		}
	}
	t.Logf("sequential findings over %d cycles: %v", len(want), kinds)
	for _, k := range []string{"anomaly", "catch-up", "budget", "problem"} {
		if kinds[k] == 0 {
			t.Fatalf("the fixture gives no %s findings (%v): it would not test their order", k, kinds)
		}
	}
	tests := []struct {
		name    string
		workers int
	}{
		{"OK/workers=2", 2},
		{"OK/workers=8", 8},
		{"OK/workers=GOMAXPROCS", 0},
		{"OK/workers=more-than-series", 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := fleetCycles(t, set, tt.workers)
			if len(got) != len(want) {
				t.Fatalf("%d cycles, want %d", len(got), len(want))
			}
			for i := range want {
				if diff := firstDiff(dump(got[i]), dump(want[i])); diff != "" {
					t.Errorf("cycle %d: output differs from workers=1: %s", i, diff)
				}
			}
		})
	}
}

// A detector that panics on a worker panics on the caller's goroutine, as
// it does when series are judged one by one, so a caller's recover still
// sees it.
func TestSet_Run_WorkersPanic(t *testing.T) {
	for _, workers := range []int{1, 4} {
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) {
			set := mustParse(t, "anomalies:\n  - {name: a}\n")
			set.Detector = func(values []float64, _ detect.Options, _ []int) []detect.Result {
				if len(values) == 30 {
					panic("bad series")
				}
				return make([]detect.Result, len(values))
			}
			var usage []cost.Usage
			for s := range 8 {
				usage = append(usage, rows(acctID, "Workers", fmt.Sprintf("svc-%d", s), date(2026, 10, 1+s), date(2026, 11, 1), flat(1))...)
			}
			defer func() {
				if p := recover(); p != "bad series" {
					t.Errorf("recovered %v, want the detector's panic", p)
				}
			}()
			set.Run(Input{Now: date(2026, 11, 2), Accounts: []cost.Account{prod}, Usage: usage, Workers: workers})
			t.Error("Run returned")
		})
	}
}

func TestForEach(t *testing.T) {
	for _, tt := range []struct{ n, workers int }{{0, 4}, {1, 4}, {7, 1}, {7, 3}, {100, 8}, {5, 0}} {
		t.Run(fmt.Sprintf("OK/n=%d,workers=%d", tt.n, tt.workers), func(t *testing.T) {
			calls := make([]int, tt.n)
			forEach(tt.n, tt.workers, func(i int) { calls[i]++ })
			for i, c := range calls {
				if c != 1 {
					t.Errorf("f(%d) called %d times", i, c)
				}
			}
		})
	}
}

// dump renders v one leaf per line with its path, deterministically:
// pointers and interfaces followed, map entries sorted, floats exactly (NaN
// equal to NaN, which reflect.DeepEqual would not give), times in RFC 3339.
func dump(v any) []string {
	var lines []string
	var walk func(path string, v reflect.Value)
	walk = func(path string, v reflect.Value) {
		if v.Kind() == reflect.Struct && v.Type() == reflect.TypeFor[time.Time]() && v.CanInterface() {
			t := v.Interface().(time.Time)
			lines = append(lines, path+"="+t.Format(time.RFC3339Nano)+" "+t.Location().String())
			return
		}
		switch v.Kind() {
		case reflect.Invalid:
			lines = append(lines, path+"=<nil>")
		case reflect.Pointer, reflect.Interface:
			if v.IsNil() {
				lines = append(lines, path+"=nil")
				return
			}
			walk(path, v.Elem())
		case reflect.Struct:
			for i := range v.NumField() {
				walk(path+"."+v.Type().Field(i).Name, v.Field(i))
			}
		case reflect.Slice, reflect.Array:
			if v.Kind() == reflect.Slice && v.IsNil() {
				lines = append(lines, path+"=nil")
				return
			}
			lines = append(lines, path+".len="+strconv.Itoa(v.Len()))
			for i := range v.Len() {
				walk(path+"["+strconv.Itoa(i)+"]", v.Index(i))
			}
		case reflect.Map:
			if v.IsNil() {
				lines = append(lines, path+"=nil")
				return
			}
			type entry struct {
				key string
				val reflect.Value
			}
			var es []entry
			for it := v.MapRange(); it.Next(); {
				k := dump(it.Key().Interface())
				es = append(es, entry{key: strings.Join(k, ","), val: it.Value()})
			}
			slices.SortFunc(es, func(a, b entry) int { return strings.Compare(a.key, b.key) })
			lines = append(lines, path+".len="+strconv.Itoa(len(es)))
			for _, e := range es {
				walk(path+"{"+e.key+"}", e.val)
			}
		case reflect.Float32, reflect.Float64:
			f := v.Float()
			s := strconv.FormatFloat(f, 'g', -1, 64)
			if math.IsNaN(f) {
				s = "NaN"
			}
			lines = append(lines, path+"="+s)
		default:
			lines = append(lines, path+"="+fmt.Sprint(v))
		}
	}
	walk("", reflect.ValueOf(v))
	return lines
}

// firstDiff describes the first line where got and want differ; "" when
// they are the same.
func firstDiff(got, want []string) string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf("line %d:\n got  %s\n want %s", i, got[i], want[i])
		}
	}
	if len(got) != len(want) {
		return fmt.Sprintf("%d lines, want %d", len(got), len(want))
	}
	return ""
}

// BenchmarkSet_Run_Workers evaluates 2,000 realistic series of 365 days
// (10 accounts x 200 services, one anomaly rule) one by one and on a pool
// of GOMAXPROCS workers. The speedup sub-benchmark runs both back to back
// in each iteration, so both see the same machine load, and reports
// x_speedup: the one-by-one time over the pool's.
func BenchmarkSet_Run_Workers(b *testing.B) {
	const accounts, services, days = 10, 200, 365
	end := date(2026, 11, 30)
	accts, usage := fleet(b, accounts, services, days+45, end)
	set := mustParse(b, "anomalies:\n  - {name: spikes}\n")
	in := Input{Now: end.Add(36 * time.Hour), Accounts: accts, Usage: usage}
	series := len(set.Run(in).Judged)
	n := runtime.GOMAXPROCS(0)
	for _, w := range []int{1, n} {
		b.Run(fmt.Sprintf("workers=%d", w), func(b *testing.B) {
			in := in
			in.Workers = w
			for b.Loop() {
				set.Run(in)
			}
			b.ReportMetric(float64(b.N*series)/b.Elapsed().Seconds(), "series/s")
		})
	}
	b.Run(fmt.Sprintf("speedup=1-vs-%d", n), func(b *testing.B) {
		seq, par := in, in
		seq.Workers, par.Workers = 1, n
		tSeq, tPar := timePair(b, func() { set.Run(seq) }, func() { set.Run(par) })
		b.ReportMetric(tSeq.Seconds()/tPar.Seconds(), "x_speedup")
	})
}

// BenchmarkSet_Standing is what a standby replica pays to rebuild its
// slash data (budgets and rule problems) against a full Run, on 10 accounts
// x 200 services x 410 days with a budget and an anomaly rule: both in
// each iteration, so they see the same load; x_run_over_standing is the
// ratio.
func BenchmarkSet_Standing(b *testing.B) {
	end := date(2026, 11, 30)
	accts, usage := fleet(b, 10, 200, 365+45, end)
	set := mustParse(b, "budgets:\n  - {name: all, amount: 100000, currency: USD, thresholds: [{percent: 80}]}\nanomalies:\n  - {name: spikes}\n")
	in := Input{Now: end.Add(36 * time.Hour), Accounts: accts, Usage: usage}
	tRun, tStanding := timePair(b, func() { set.Run(in) }, func() { set.Standing(in) })
	b.ReportMetric(tRun.Seconds()/tStanding.Seconds(), "x_run_over_standing")
	b.ReportMetric(float64(tStanding.Nanoseconds())/float64(b.N), "standing-ns/op")
}

// timePair runs x then y in every iteration of b, so both see the same
// load, and returns the time each took in all.
func timePair(b *testing.B, x, y func()) (tx, ty time.Duration) {
	for b.Loop() {
		t0 := time.Now()
		x()
		t1 := time.Now()
		y()
		tx += t1.Sub(t0)
		ty += time.Since(t1)
	}
	return tx, ty
}
