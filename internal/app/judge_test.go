package app

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/costbot/costbot/internal/billing/fakecf"
	"github.com/costbot/costbot/internal/config"
	"github.com/costbot/costbot/internal/cost"
	"github.com/costbot/costbot/internal/notify"
	"github.com/costbot/costbot/internal/rules"
	"github.com/costbot/costbot/internal/slackcmd"
)

const liveAccount = "0123456789abcdef0123456789abcdef"

// swapHandler serves whatever handler the test last set, so the fake
// Cloudflare can change its data between cycles (late rows, revisions).
type swapHandler struct {
	mu sync.Mutex
	h  http.Handler
}

func (s *swapHandler) set(h http.Handler) { s.mu.Lock(); s.h = h; s.mu.Unlock() }

func (s *swapHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	h := s.h
	s.mu.Unlock()
	h.ServeHTTP(w, r)
}

// capture is a notifier that keeps every alert it gets.
type capture struct {
	name string
	mu   *sync.Mutex
	got  *[]cost.Alert
}

func (c capture) Name() string { return c.name }

func (c capture) Notify(_ context.Context, a cost.Alert) (*cost.MessageRef, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	*c.got = append(*c.got, a)
	return nil, nil
}

// liveEnv is the daemon's real path: a fake Cloudflare over HTTP, the
// billing client, a SQLite state file and the alert tracker.
type liveEnv struct {
	t      *testing.T
	cf     *swapHandler
	cfg    *config.Config
	set    *rules.Set
	mu     sync.Mutex
	alerts []cost.Alert
	now    time.Time
	a      *App
	source string
	// usageOnly serves FOCUS rows without cost columns.
	usageOnly bool
}

const liveRules = `anomalies:
  - name: spikes
    scope: {account: "*"}
    direction: both
    min_impact: 5
    notify: [team]
`

func newLiveEnv(t *testing.T, ruleYAML string) *liveEnv {
	t.Helper()
	return newLiveEnvSource(t, ruleYAML, "paygo")
}

func newLiveEnvSource(t *testing.T, ruleYAML, source string) *liveEnv {
	t.Helper()
	e := &liveEnv{t: t, cf: &swapHandler{h: fakecf.New()}, source: source}
	srv := httptest.NewServer(e.cf)
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "rules"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "rules", "r.yaml"), []byte(ruleYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	yml := fmt.Sprintf(`cloudflare:
  base_url: %s
  api_token: test-token
  accounts: [{id: %s, name: production, source: %s}]
  max_retry_wait: 1ms
  history_days: 150
notifiers:
  - name: team
    console: {}
rules: rules
state: costbot.db
`, srv.URL, liveAccount, source)
	path := filepath.Join(dir, "config.yaml")
	cfg, err := config.Parse(path, []byte(yml), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	set, err := rules.LoadDir(cfg.Path(cfg.Rules))
	if err != nil {
		t.Fatal(err)
	}
	e.cfg, e.set = cfg, set
	a, err := New(context.Background(), Options{Config: cfg, Rules: set, Now: func() time.Time { return e.now },
		Notifiers: []notify.Notifier{capture{name: "team", mu: &e.mu, got: &e.alerts}}, RetryWait: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	e.a = a
	return e
}

// serve makes the fake Cloudflare answer with days.
func (e *liveEnv) serve(days []fakecf.Day) {
	e.cf.set(fakecf.New(fakecf.Account{ID: liveAccount, Name: "production", Days: days, UsageOnly: e.usageOnly}))
}

// cycle runs one live cycle at now and returns the alerts it sent, as
// "status kind service day" lines.
func (e *liveEnv) cycle(now time.Time) ([]string, []cost.Alert) {
	e.t.Helper()
	e.now = now
	e.mu.Lock()
	e.alerts = nil
	e.mu.Unlock()
	rep, err := e.a.Cycle(context.Background(), now)
	if err != nil {
		e.t.Fatalf("cycle at %s: %v", now.Format(time.RFC3339), err)
	}
	if err := rep.Err(); err != nil {
		e.t.Fatalf("cycle at %s: %v", now.Format(time.RFC3339), err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	var lines []string
	for _, a := range e.alerts {
		lines = append(lines, eventLine(EventOf(now, a)))
	}
	return lines, slices.Clone(e.alerts)
}

func eventLine(ev Event) string {
	s := ev.Status + " " + ev.Kind
	if ev.Service != "" {
		s += " " + ev.Service
	}
	if ev.Threshold != "anomaly" && ev.Kind == "anomaly" {
		s += " " + ev.Threshold
	}
	if ev.Day != "" {
		s += " " + ev.Day
	}
	return s
}

// liveSeries is three services with a weekly pattern and a few percent of
// deterministic noise; f may change a service's day (ok false: no row).
func liveSeries(from, to time.Time, f func(svc string, d time.Time, v float64) (float64, bool)) []fakecf.Day {
	base := map[string]float64{"Workers Standard": 120, "R2 Storage": 60, "D1 Rows Read": 25}
	var out []fakecf.Day
	for d := from; d.Before(to); d = d.AddDate(0, 0, 1) {
		for i, svc := range []string{"D1 Rows Read", "R2 Storage", "Workers Standard"} {
			v := base[svc] * (1 + 0.04*math.Sin(float64(d.YearDay()*(i+3))))
			if d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
				v *= 0.8
			}
			ok := true
			if f != nil {
				v, ok = f(svc, d, v)
			}
			if ok {
				out = append(out, fakecf.Day{Service: svc, Family: strings.Fields(svc)[0], Day: d, Cost: v, Quantity: v * 10, Unit: "units"})
			}
		}
	}
	return out
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// noon is the cycle instant on day d: 12:00 UTC.
func noon(d time.Time) time.Time { return d.Add(12 * time.Hour) }

var liveStart = day(2026, 4, 1)

// spikeOn multiplies service svc by x on the given days.
func spikeOn(svc string, x float64, days ...time.Time) func(string, time.Time, float64) (float64, bool) {
	return func(s string, d time.Time, v float64) (float64, bool) {
		if s == svc && slices.ContainsFunc(days, d.Equal) {
			return v * x, true
		}
		return v, true
	}
}

// upTo leaves out every row on or after end (data not in yet).
func upTo(end time.Time, f func(string, time.Time, float64) (float64, bool)) func(string, time.Time, float64) (float64, bool) {
	return func(s string, d time.Time, v float64) (float64, bool) {
		if !d.Before(end) {
			return 0, false
		}
		if f == nil {
			return v, true
		}
		return f(s, d, v)
	}
}

// TestCycle_JudgesEverySettledDay covers how the daemon judges anomalies on
// real, late and revised billing data; each case fails on the judge that
// only looked at the last day.
func TestCycle_JudgesEverySettledDay(t *testing.T) {
	aug := func(d int) time.Time { return day(2026, 8, d) }
	type step struct {
		at   time.Time
		data func(string, time.Time, float64) (float64, bool)
		want []string
		// note must appear in the summary of the step's first alert
		note string
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"SpikeTwoDaysBackOnFreshInstall", []step{
			{at: noon(aug(11)), data: spikeOn("R2 Storage", 6, aug(9)),
				want: []string{"firing anomaly R2 Storage 2026-08-09"}, note: "Detected 1 day after it started"},
		}},
		{"SpikeDuringFourDaysOfDowntime", []step{
			{at: noon(aug(7)), data: spikeOn("R2 Storage", 6, aug(8))},
			{at: noon(aug(11)), want: []string{"firing anomaly R2 Storage 2026-08-08"}, note: "Detected 2 days after it started"},
		}},
		{"TwoDaysInOneFetch", []step{
			{at: noon(aug(9)), data: upTo(aug(8), spikeOn("R2 Storage", 6, aug(8)))},
			{at: noon(aug(10)), data: spikeOn("R2 Storage", 6, aug(8)),
				want: []string{"firing anomaly R2 Storage 2026-08-08"}},
		}},
		{"MissingRowIsUnknownThenLateSpikeAlerts", []step{
			{at: aug(11).Add(6 * time.Hour), data: func(s string, d time.Time, v float64) (float64, bool) {
				if !d.Before(aug(11)) {
					return 0, false
				}
				return v, !(s == "R2 Storage" && d.Equal(aug(10)))
			}},
			{at: noon(aug(11)), data: upTo(aug(11), spikeOn("R2 Storage", 6, aug(10))),
				want: []string{"firing anomaly R2 Storage 2026-08-10"}},
		}},
		{"MissingRowSettledIsAnOutage", []step{
			{at: noon(aug(11)), data: func(s string, d time.Time, v float64) (float64, bool) {
				return v, !(s == "R2 Storage" && !d.Before(aug(9)))
			}, want: []string{"firing anomaly R2 Storage 2026-08-09"}},
		}},
		{"RevisedUpAlerts", []step{
			{at: noon(aug(11)), data: upTo(aug(11), nil)},
			{at: noon(aug(12)), data: upTo(aug(12), spikeOn("R2 Storage", 6, aug(9))),
				want: []string{"firing anomaly R2 Storage 2026-08-09"}, note: "Found in revised data for Aug 9"},
		}},
		{"RevisedDownResolves", []step{
			{at: noon(aug(11)), data: upTo(aug(11), spikeOn("R2 Storage", 6, aug(9))),
				want: []string{"firing anomaly R2 Storage 2026-08-09"}},
			{at: noon(aug(12)), data: upTo(aug(12), nil),
				want: []string{"resolved anomaly R2 Storage 2026-08-09"}, note: "revised data for Aug 9 no longer shows it"},
		}},
		{"ProvisionalSpikeRevisedAway", []step{
			{at: noon(aug(10)), data: upTo(aug(10), spikeOn("R2 Storage", 6, aug(9))),
				want: []string{"firing anomaly R2 Storage 2026-08-09"}, note: "Provisional"},
			{at: noon(aug(11)), data: upTo(aug(11), nil),
				want: []string{"resolved anomaly R2 Storage 2026-08-09"}, note: "the final data for Aug 9 no longer shows it"},
		}},
		{"OneAlertPerEpisodeThenResolvedAfterQuietWeek", []step{
			{at: noon(aug(6)), data: upTo(aug(6), spikeOn("R2 Storage", 6, aug(5), aug(8))),
				want: []string{"firing anomaly R2 Storage 2026-08-05"}},
			{at: noon(aug(7))},
			{at: noon(aug(8))},
			{at: noon(aug(9)), data: upTo(aug(9), spikeOn("R2 Storage", 6, aug(5), aug(8)))},
			{at: noon(aug(10)), data: upTo(aug(10), spikeOn("R2 Storage", 6, aug(5), aug(8)))},
			{at: noon(aug(16)), data: upTo(aug(16), spikeOn("R2 Storage", 6, aug(5), aug(8)))},
			{at: noon(aug(17)), data: upTo(aug(17), spikeOn("R2 Storage", 6, aug(5), aug(8))),
				want: []string{"resolved anomaly R2 Storage 2026-08-05"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newLiveEnv(t, liveRules)
			var data func(string, time.Time, float64) (float64, bool)
			for i, s := range tt.steps {
				if s.data != nil {
					data = s.data
				}
				e.serve(liveSeries(liveStart, cost.Day(s.at), data))
				got, alerts := e.cycle(s.at)
				if !slices.Equal(got, s.want) {
					t.Errorf("step %d at %s: sent %q, want %q", i, s.at.Format(time.RFC3339), got, s.want)
				}
				if s.note != "" && (len(alerts) == 0 || !strings.Contains(alerts[0].Title+"\n"+alerts[0].Summary, s.note)) {
					var text string
					if len(alerts) > 0 {
						text = alerts[0].Title + "\n" + alerts[0].Summary
					}
					t.Errorf("step %d: message %q lacks %q", i, text, s.note)
				}
			}
		})
	}
}

// A user marks a level shift expected: the alert resolves without
// re-firing, and a spike against the new level three days later alerts.
func TestCycle_MarkExpectedThenSpike(t *testing.T) {
	ctx := context.Background()
	aug := func(d int) time.Time { return day(2026, 8, d) }
	e := newLiveEnv(t, liveRules)
	data := func(s string, d time.Time, v float64) (float64, bool) {
		if s == "R2 Storage" && !d.Before(aug(3)) {
			v *= 3
		}
		if s == "R2 Storage" && d.Equal(aug(9)) {
			v *= 5
		}
		return v, true
	}
	e.serve(liveSeries(liveStart, aug(5), data))
	got, alerts := e.cycle(noon(aug(5)))
	if !slices.Equal(got, []string{"firing anomaly R2 Storage 2026-08-03"}) {
		t.Fatalf("shift: sent %q", got)
	}
	if err := (actions{e.a}).Apply(ctx, slackcmd.Action{Fingerprint: alerts[0].Fingerprint, Kind: "expected", User: "U1", At: noon(aug(5)).Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	var sent []string
	for d := 6; d <= 11; d++ {
		e.serve(liveSeries(liveStart, aug(d), data))
		got, _ := e.cycle(noon(aug(d)))
		sent = append(sent, got...)
	}
	want := []string{"resolved anomaly R2 Storage 2026-08-03", "firing anomaly R2 Storage 2026-08-09"}
	if !slices.Equal(sent, want) {
		t.Errorf("after mark expected: sent %q, want %q", sent, want)
	}
}

// A long downtime with anomalies in many services sends one summary for
// the rule instead of one alert each.
func TestCycle_CatchUpSummary(t *testing.T) {
	aug := func(d int) time.Time { return day(2026, 8, d) }
	var svcs []string
	for i := range 8 {
		svcs = append(svcs, fmt.Sprintf("Service %d", i))
	}
	days := func(end time.Time) []fakecf.Day {
		var out []fakecf.Day
		for d := liveStart; d.Before(end); d = d.AddDate(0, 0, 1) {
			for i, s := range svcs {
				v := 40 * (1 + 0.03*math.Sin(float64(d.YearDay()*(i+2))))
				if d.Equal(aug(3 + i%6)) {
					v *= 6
				}
				out = append(out, fakecf.Day{Service: s, Family: "Fam", Day: d, Cost: v, Quantity: 1, Unit: "u"})
			}
		}
		return out
	}
	e := newLiveEnv(t, liveRules)
	e.serve(days(aug(2)))
	if got, _ := e.cycle(noon(aug(2))); len(got) != 0 {
		t.Fatalf("before the downtime: %q", got)
	}
	e.serve(days(aug(10)))
	got, alerts := e.cycle(noon(aug(10)))
	if len(got) != 1 || !strings.HasPrefix(alerts[0].Title, "8 anomalies in production found late") {
		t.Fatalf("after the downtime: sent %q", got)
	}
	for _, s := range svcs {
		if !strings.Contains(alerts[0].Summary, s) {
			t.Errorf("summary lacks %s: %s", s, alerts[0].Summary)
		}
	}
	e.serve(days(aug(11)))
	if got, _ := e.cycle(noon(aug(11))); len(got) != 0 {
		t.Errorf("next cycle: sent %q, want nothing (the summary stays open)", got)
	}
}
