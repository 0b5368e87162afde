package app

import (
	"context"
	"flag"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/costbot/costbot/internal/billing/fakecf"
	"github.com/costbot/costbot/internal/config"
	"github.com/costbot/costbot/internal/cost"
	"github.com/costbot/costbot/internal/detect"
	"github.com/costbot/costbot/internal/detect/costgen"
	"github.com/costbot/costbot/internal/rules"
)

var fullBacktest = flag.Bool("backtest.full", false, "compare the live path with costbot detect on 200 realistic series (slow)")

// The daemon's cycles, day by day over a fake Cloudflare and a real state
// file, send exactly what `costbot backtest` says they would.
func TestBacktest_EqualsLiveCycles(t *testing.T) {
	ctx := context.Background()
	aug := func(d int) time.Time { return day(2026, 8, d) }
	data := func(s string, d time.Time, v float64) (float64, bool) {
		switch {
		case s == "R2 Storage" && d.Equal(aug(3)):
			return v * 6, true
		case s == "D1 Rows Read" && !d.Before(aug(10)):
			return v * 3, true
		case s == "Workers Standard" && !d.Before(aug(14)) && d.Before(aug(18)):
			return 0, true
		}
		return v, true
	}
	e := newLiveEnv(t, liveRules+`budgets:
  - {name: monthly, amount: 5000, currency: USD, thresholds: [{percent: 80}, {percent: 100, on: forecast}], notify: [team]}
`)
	e.serve(liveSeries(liveStart, aug(31), data))
	from, to := day(2026, 7, 20), aug(28)
	var live []Event
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		now := EvalInstant(d)
		_, alerts := e.cycle(now)
		for _, a := range alerts {
			live = append(live, EventOf(now, a))
		}
	}
	bt, err := Backtest(ctx, BacktestOptions{Config: e.cfg, Rules: e.set, From: from, To: to, Source: HistoryCloudflare})
	if err != nil {
		t.Fatal(err)
	}
	if len(live) < 5 {
		t.Fatalf("only %d live events; the scenario should alert on a spike, a shift, an outage and the budget", len(live))
	}
	if !slices.Equal(live, bt) {
		t.Errorf("live cycles and backtest differ\nlive:\n%s\nbacktest:\n%s", eventsText(live), eventsText(bt))
	}
}

func eventsText(evs []Event) string {
	var s string
	for _, e := range evs {
		s += fmt.Sprintf("  %s %s %s %s %s %s\n", e.At.Format(time.DateOnly), e.Status, e.Reason, e.Kind, e.Service, e.Day)
	}
	return s
}

// On labelled realistic series, the live path (backtest: a cycle per day
// through rules, alert state and notifiers) alerts like `costbot detect`
// with the rule's options: the same onsets, so the same F1 and false
// alerts per series-year (goal: within 0.02 F1 and at most 10% more false
// alerts). Both are scored on alert onsets with costgen.Score.
func TestBacktest_MatchesDetect(t *testing.T) {
	n, perAccount := 4, 4
	if *fullBacktest {
		n, perAccount = 200, 25
	}
	g := costgen.RealisticOptions()
	gen := func(i int) costgen.Series { return costgen.Realistic(costgen.HeldOut, 7000+uint64(i), g) }
	set, err := rules.Parse("bt.yaml", []byte("anomalies:\n  - {name: spikes, notify: [team]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	opts := set.AnomalyRules[0].Options()

	// costbot detect: alert onsets of detect.Series with the rule's options.
	detectRep := costgen.Score(n, gen, g.Quiet, func(s costgen.Series) []detect.Result {
		o := opts
		o.Start = s.Start
		return onsetsOnly(detect.Series(s.Values, o))
	})

	// The live path: batches of series, each the one service of its own
	// account (series of one account would share its last data day).
	live := map[int][]detect.Result{}
	for b := 0; b < n; b += perAccount {
		var usage []cost.Usage
		series := map[string]int{}
		starts := map[int]time.Time{}
		var first, end time.Time
		for i := b; i < min(b+perAccount, n); i++ {
			s := gen(i)
			svc := fmt.Sprintf("svc-%03d", i)
			acct := fmt.Sprintf("acct-%03d", i)
			series[svc] = i
			starts[i] = s.Start
			if q := s.Start.AddDate(0, 0, g.Quiet-1); first.IsZero() || q.Before(first) {
				first = q
			}
			if e := s.Start.AddDate(0, 0, len(s.Values)-1); e.After(end) {
				end = e
			}
			days := len(s.Values)
			for j, v := range s.Values {
				d := s.Start.AddDate(0, 0, j)
				usage = append(usage, cost.Usage{Account: acct, Service: svc, Family: "Fam", Day: d, Cost: v, CostKnown: true,
					Currency: "USD", BillingPeriod: cost.Period{Start: time.Date(d.Year(), d.Month(), 1, 0, 0, 0, 0, time.UTC),
						End: time.Date(d.Year(), d.Month()+1, 1, 0, 0, 0, 0, time.UTC)}})
			}
			live[i] = make([]detect.Result, days)
			for j := range live[i] {
				live[i][j].Since = -1
			}
		}
		cfg := config.Default()
		for i := b; i < min(b+perAccount, n); i++ {
			cfg.Cloudflare.Accounts = append(cfg.Cloudflare.Accounts, config.CFAccount{ID: fmt.Sprintf("acct-%03d", i)})
		}
		cfg.Cloudflare.HistoryDays = 400
		var instants []time.Time
		for d := first; !d.After(end); d = d.AddDate(0, 0, 1) {
			instants = append(instants, EvalInstant(d))
		}
		evs, err := Replay(context.Background(), ReplayOptions{Config: &cfg, Rules: set, Usage: usage, Instants: instants})
		if err != nil {
			t.Fatal(err)
		}
		fired := map[string]int{}
		for _, ev := range evs {
			if ev.Kind != "anomaly" || ev.Status != "firing" || ev.Threshold != "anomaly" {
				continue
			}
			if fired[ev.Fingerprint]++; fired[ev.Fingerprint] > 1 {
				t.Errorf("episode %s of %s fired again at %s: a resolve-then-refire inside an episode", ev.Day, ev.Service, ev.At.Format(time.DateOnly))
			}
			d, _ := time.Parse(time.DateOnly, ev.Day)
			i := series[ev.Service]
			j := int(d.Sub(starts[i]) / (24 * time.Hour))
			live[i][j] = detect.Result{Anomaly: true, Since: j}
		}
	}
	liveRep := costgen.Score(n, gen, g.Quiet, func(s costgen.Series) []detect.Result {
		for i := range n {
			if gen(i).Start.Equal(s.Start) && slices.Equal(gen(i).Values, s.Values) {
				return live[i]
			}
		}
		return nil
	})
	t.Logf("costbot detect (onsets): F1 %.3f, precision %.3f, recall %.3f, %.3f false alerts per series-year", detectRep.F1, detectRep.Precision, detectRep.Recall, detectRep.FalsePerYear)
	t.Logf("live path (backtest):    F1 %.3f, precision %.3f, recall %.3f, %.3f false alerts per series-year", liveRep.F1, liveRep.Precision, liveRep.Recall, liveRep.FalsePerYear)
	if liveRep.F1 < detectRep.F1-0.02 {
		t.Errorf("live F1 %.3f is more than 0.02 below detect's %.3f", liveRep.F1, detectRep.F1)
	}
	if liveRep.FalseAlerts > detectRep.FalseAlerts+detectRep.FalseAlerts/10+1 {
		t.Errorf("live false alerts %d, detect %d: more than 10%% more", liveRep.FalseAlerts, detectRep.FalseAlerts)
	}
}

// onsetsOnly keeps the first point of each anomalous episode: what an alert
// stream shows.
func onsetsOnly(res []detect.Result) []detect.Result {
	out := make([]detect.Result, len(res))
	for i, r := range res {
		out[i] = detect.Result{Since: -1}
		if r.Anomaly && r.Since == i {
			out[i] = detect.Result{Anomaly: true, Since: i}
		}
	}
	return out
}

// BenchmarkBacktest replays 90 days over 200 services of one account with
// 120 days of history before them (the issue's "90 days x 200 services in a
// few seconds"); the baseline is judging the same series once with
// detect.Series, in the same run.
func BenchmarkBacktest(b *testing.B) {
	const services, history, days = 200, 120, 90
	start := day(2026, 1, 1)
	var usage []cost.Usage
	series := make([][]float64, services)
	for s := range services {
		svc := fmt.Sprintf("svc-%03d", s)
		for j := range history + days {
			d := start.AddDate(0, 0, j)
			v := float64(10+s) * (1 + 0.05*float64((j*7+s)%5-2))
			series[s] = append(series[s], v)
			usage = append(usage, cost.Usage{Account: liveAccount, Service: svc, Family: "Fam", Day: d, Cost: v, CostKnown: true,
				Currency: "USD", BillingPeriod: cost.Period{Start: time.Date(d.Year(), d.Month(), 1, 0, 0, 0, 0, time.UTC),
					End: time.Date(d.Year(), d.Month()+1, 1, 0, 0, 0, 0, time.UTC)}})
		}
	}
	set, err := rules.Parse("bt.yaml", []byte("anomalies:\n  - {name: spikes, notify: [team]}\n"))
	if err != nil {
		b.Fatal(err)
	}
	cfg := config.Default()
	cfg.Cloudflare.Accounts = []config.CFAccount{{ID: liveAccount, Name: "production"}}
	var instants []time.Time
	for j := history; j < history+days; j++ {
		instants = append(instants, EvalInstant(start.AddDate(0, 0, j)))
	}
	b.Run("baseline=detect.Series", func(b *testing.B) {
		o := set.AnomalyRules[0].Options()
		for b.Loop() {
			for _, v := range series {
				detect.Series(v, o)
			}
		}
	})
	b.Run("replay", func(b *testing.B) {
		for b.Loop() {
			if _, err := Replay(context.Background(), ReplayOptions{Config: &cfg, Rules: set, Usage: usage, Instants: instants}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// Backtest judges the series of each day's cycle on a pool of GOMAXPROCS
// workers (rules.Input.Workers left at 0, as in the daemon); it sends what
// it sends when they are judged one by one (GOMAXPROCS 1 against 8). The
// history is three accounts of realistic services (spikes, shifts, ramps,
// outages, month-start charges) from a fake Cloudflare over HTTP, with a
// spike in each account and every service of one shifting at once.
func TestBacktest_Workers(t *testing.T) {
	ctx := context.Background()
	from, to := day(2026, 8, 1), day(2026, 8, 20)
	g := costgen.RealisticOptions()
	g.Days = 150
	first := to.AddDate(0, 0, -(g.Days - 2))
	var accts []fakecf.Account
	var cfgAccts []string
	for a := range 3 {
		id := fmt.Sprintf("%032x", 0xb0+a)
		acct := fakecf.Account{ID: id, Name: fmt.Sprintf("acct-%d", a)}
		for s := range 6 {
			v := costgen.Realistic(costgen.Tuning, uint64(100*a+s), g).Values
			zone := ""
			if s%4 == 3 {
				zone = "example.com"
			}
			for i, c := range v {
				d := first.AddDate(0, 0, i)
				switch {
				case s == a && d.Equal(from.AddDate(0, 0, 4+7*a)):
					c *= 6 // a spike in each account
				case a == 1 && !d.Before(from.AddDate(0, 0, 14)):
					c *= 3 // every service of one account shifts
				}
				acct.Days = append(acct.Days, fakecf.Day{Service: fmt.Sprintf("svc-%d", s), Family: []string{"Workers", "R2"}[s%2],
					Zone: zone, Day: d, Cost: c, Quantity: 10 * c, Unit: "units"})
			}
		}
		accts = append(accts, acct)
		cfgAccts = append(cfgAccts, fmt.Sprintf("{id: %s, name: %s, source: paygo}", id, acct.Name))
	}
	srv := httptest.NewServer(fakecf.New(accts...))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	cfg, err := config.Parse(path, []byte(fmt.Sprintf(`cloudflare:
  base_url: %s
  api_token: test-token
  accounts: [%s]
  max_retry_wait: 1ms
  history_days: 120
notifiers:
  - name: team
    console: {}
state: costbot.db
`, srv.URL, strings.Join(cfgAccts, ", "))), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	set, err := rules.Parse("bt.yaml", []byte(`anomalies:
  - {name: spikes, direction: up, notify: [team]}
  - {name: r2, scope: {family: R2}, direction: both, min_impact: 1, notify: [team]}
`))
	if err != nil {
		t.Fatal(err)
	}
	backtest := func(procs int) []Event {
		t.Helper()
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		evs, err := Backtest(ctx, BacktestOptions{Config: cfg, Rules: set, From: from, To: to, Source: HistoryCloudflare})
		if err != nil {
			t.Fatal(err)
		}
		return evs
	}
	want := backtest(1)
	alerting := map[string]bool{}
	for _, e := range want {
		if e.Kind == "anomaly" {
			alerting[e.Account] = true
		}
	}
	if len(alerting) < 2 {
		t.Fatalf("anomaly events in %d accounts (%d events); the scenario should alert in several", len(alerting), len(want))
	}
	t.Logf("one by one: %d events, anomalies in %d accounts", len(want), len(alerting))
	for _, procs := range []int{8} {
		t.Run(fmt.Sprintf("OK/GOMAXPROCS=%d", procs), func(t *testing.T) {
			if got := backtest(procs); !slices.Equal(got, want) {
				t.Errorf("events differ from GOMAXPROCS=1\ngot:\n%s\nwant:\n%s", eventsText(got), eventsText(want))
			}
		})
	}
}
