package app

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/costbot/costbot/internal/billing"
	"github.com/costbot/costbot/internal/billing/fakecf"
	"github.com/costbot/costbot/internal/config"
	"github.com/costbot/costbot/internal/cost"
	"github.com/costbot/costbot/internal/notify"
	"github.com/costbot/costbot/internal/rules"
)

// discard is a notifier that forgets what it is sent.
type discard struct{}

func (discard) Name() string { return "team" }

func (discard) Notify(context.Context, cost.Alert) (*cost.MessageRef, error) { return nil, nil }

// refreshAccount is the account of TestApp_Cycle_RefreshSchedule.
const refreshAccount = "0123456789abcdef0123456789abcdef"

// switchable serves whichever fake Cloudflare was set last, so a test can
// revise billing data between cycles.
type switchable struct{ h atomic.Pointer[fakecf.Server] }

func (s *switchable) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.h.Load().ServeHTTP(w, r) }

// refreshFleet is one account with three services billed every day of the
// 60 days before end; revised adds 5 to the cost of "Workers" on day rev.
func refreshFleet(end, rev time.Time, revised bool) *fakecf.Server {
	acct := fakecf.Account{ID: refreshAccount, Name: "prod"}
	for d := range 60 {
		day := end.AddDate(0, 0, d-60)
		for i, svc := range []string{"Workers", "R2", "D1"} {
			c := float64(10 * (i + 1))
			if revised && svc == "Workers" && day.Equal(rev) {
				c += 5
			}
			acct.Days = append(acct.Days, fakecf.Day{Service: svc, Family: svc, Day: day, Cost: c, Quantity: 1, Unit: "requests"})
		}
	}
	return fakecf.New(acct)
}

// newRefreshApp is an App on a fresh state file for url watching
// refreshAccount and the accounts of more (YAML flow mappings), with the
// given cloudflare settings appended to the config.
func newRefreshApp(t *testing.T, url, more, extra string, now *time.Time) *App {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "rules"), 0o755); err != nil {
		t.Fatal(err)
	}
	budget := "budgets:\n  - {name: monthly, amount: 1000000, currency: USD, thresholds: [{percent: 80}]}\n"
	if err := os.WriteFile(filepath.Join(dir, "rules", "r.yaml"), []byte(budget), 0o644); err != nil {
		t.Fatal(err)
	}
	yml := fmt.Sprintf(`cloudflare:
  base_url: %s
  api_token: test-token
  accounts: [{id: %s, name: prod, source: paygo}%s]
  max_retry_wait: 1ms
  history_days: 50
%snotifiers:
  - name: team
    console: {}
rules: rules
state: costbot.db
`, url, refreshAccount, more, extra)
	cfg, err := config.Parse(filepath.Join(dir, "config.yaml"), []byte(yml), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	set, err := rules.LoadDir(cfg.Path(cfg.Rules))
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(context.Background(), Options{Config: cfg, Rules: set, Now: func() time.Time { return *now },
		Notifiers: []notify.Notifier{discard{}}, RetryWait: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// TestApp_Cycle_RefreshSchedule: cycles between two whole refreshes reload
// only recent_days, and a revision of a day older than that (20 days back)
// is not lost: the next whole refresh_days reload, refresh_interval after
// the last, or the first fetch after a failed one, picks it up.
func TestApp_Cycle_RefreshSchedule(t *testing.T) {
	end := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	rev := end.AddDate(0, 0, -20)
	start := end.Add(10 * time.Hour)
	type step struct {
		at      time.Duration // after start
		revised bool          // the fake serves the revision from this cycle on
		down    bool          // the fetch fails
		days    int           // the fetch's range, in days
		cost    float64       // stored cost of Workers on day rev afterwards
	}
	tests := []struct {
		name  string
		extra string
		steps []step
	}{
		{name: "OK_RevisionAtTheNextDailyRefresh", extra: "", steps: []step{
			{at: 0, days: 50, cost: 10},
			{at: time.Hour, revised: true, days: 3, cost: 10},
			{at: 23 * time.Hour, revised: true, days: 3, cost: 10},
			{at: 24 * time.Hour, revised: true, days: 40, cost: 15},
			{at: 25 * time.Hour, revised: true, days: 3, cost: 15},
		}},
		{name: "OK_RevisionAfterAFailedFetch", extra: "", steps: []step{
			{at: 0, days: 50, cost: 10},
			{at: time.Hour, revised: true, down: true, days: 3, cost: 10},
			{at: 2 * time.Hour, revised: true, days: 40, cost: 15},
			{at: 3 * time.Hour, revised: true, days: 3, cost: 15},
		}},
		{name: "OK_EveryCycleWhole", extra: "  recent_days: 40\n", steps: []step{
			{at: 0, days: 50, cost: 10},
			{at: time.Hour, revised: true, days: 40, cost: 15},
		}},
		{name: "OK_IntervalZero", extra: "  refresh_interval: 0s\n", steps: []step{
			{at: 0, days: 50, cost: 10},
			{at: time.Hour, revised: true, days: 40, cost: 15},
		}},
		{name: "OK_ShortInterval", extra: "  refresh_interval: 2h\n  recent_days: 5\n", steps: []step{
			{at: 0, days: 50, cost: 10},
			{at: time.Hour, revised: true, days: 5, cost: 10},
			{at: 2 * time.Hour, revised: true, days: 40, cost: 15},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			plain, revised := refreshFleet(end, rev, false), refreshFleet(end, rev, true)
			sw := &switchable{}
			sw.h.Store(plain)
			srv := httptest.NewServer(sw)
			defer srv.Close()
			now := start
			a := newRefreshApp(t, srv.URL, "", tt.extra, &now)
			for i, s := range tt.steps {
				if s.revised {
					sw.h.Store(revised)
				}
				if s.down {
					plain.FailNext(100, http.StatusForbidden, "")
					revised.FailNext(100, http.StatusForbidden, "")
				}
				now = start.Add(s.at)
				rep, err := a.Cycle(ctx, now)
				if err != nil {
					t.Fatalf("step %d: cycle: %v", i, err)
				}
				if s.down {
					plain.FailNext(0, 0, "")
					revised.FailNext(0, 0, "")
				}
				ar := rep.Accounts[0]
				if (ar.Err != nil) != s.down {
					t.Fatalf("step %d: fetch error %v, want failure %t", i, ar.Err, s.down)
				}
				if got := ar.Range.Days(); got != s.days {
					t.Errorf("step %d (+%s): fetch covers %d days, want %d", i, s.at, got, s.days)
				}
				rows, err := a.db.UsageOf(ctx, refreshAccount, rev, rev.AddDate(0, 0, 1))
				if err != nil {
					t.Fatal(err)
				}
				got := math.NaN()
				for _, u := range rows {
					if u.Service == "Workers" {
						got = u.Cost
					}
				}
				if got != s.cost {
					t.Errorf("step %d (+%s): stored Workers cost on %s = %v, want %v", i, s.at, rev.Format(time.DateOnly), got, s.cost)
				}
				// The in-memory history the rules read agrees with the store.
				in, err := a.input(ctx, now, nil)
				if err != nil {
					t.Fatal(err)
				}
				in.Usage = flatten(in.History.(*view))
				stored, err := a.db.Usage(ctx, time.Unix(0, 0), cost.Day(now))
				if err != nil {
					t.Fatal(err)
				}
				if len(in.Usage) != len(stored) {
					t.Fatalf("step %d: history has %d rows, the store %d", i, len(in.Usage), len(stored))
				}
				for j := range stored {
					if !sameRow(in.Usage[j], stored[j]) {
						t.Fatalf("step %d: history row %d = %+v, store %+v", i, j, in.Usage[j], stored[j])
					}
				}
			}
		})
	}
}

// panicky is a Billing whose Fetch panics for one account.
type panicky struct {
	Billing
	bad string
}

func (p panicky) Fetch(ctx context.Context, acct cost.Account, src billing.Source, days cost.Period) (cost.Snapshot, error) {
	if acct.ID == p.bad {
		panic("boom")
	}
	return p.Billing.Fetch(ctx, acct, src, days)
}

// TestApp_Cycle_FetchPanics: a fetch that panics on its worker fails its
// account only; the other accounts are fetched and saved.
func TestApp_Cycle_FetchPanics(t *testing.T) {
	end := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	acct := func(id, name string) fakecf.Account {
		a := fakecf.Account{ID: id, Name: name}
		for d := range 40 {
			a.Days = append(a.Days, fakecf.Day{Service: "Workers", Family: "Workers", Day: end.AddDate(0, 0, d-40), Cost: 3})
		}
		return a
	}
	const other = "fedcba9876543210fedcba9876543210"
	srv := httptest.NewServer(fakecf.New(acct(refreshAccount, "prod"), acct(other, "dev")))
	defer srv.Close()
	now := end.Add(10 * time.Hour)
	a := newRefreshApp(t, srv.URL, ", {id: "+other+", name: dev}", "  fetch_concurrency: 2\n", &now)
	a.cf = panicky{Billing: a.cf, bad: refreshAccount}
	rep, err := a.Cycle(context.Background(), now)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Accounts) != 2 {
		t.Fatalf("%d account reports, want 2", len(rep.Accounts))
	}
	if err := rep.Accounts[0].Err; err == nil || !strings.Contains(err.Error(), "fetch panicked: boom") {
		t.Errorf("prod: err = %v, want the panic", err)
	}
	if ar := rep.Accounts[1]; ar.Err != nil || ar.Rows != 40 {
		t.Errorf("dev: %d rows, err %v; want 40 rows", ar.Rows, ar.Err)
	}
}
