package store_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/costbot/costbot/internal/alert"
	"github.com/costbot/costbot/internal/cost"
	"github.com/costbot/costbot/internal/store"
)

const acct = "0123456789abcdef0123456789abcdef"

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func mustOpen(tb testing.TB, path string) *store.DB {
	tb.Helper()
	if *backend == "postgres" {
		path = pgState(tb, path)
	}
	db, err := store.Open(context.Background(), path)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func tempDB(tb testing.TB) (*store.DB, string) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "costbot.db")
	return mustOpen(tb, path), path
}

func nov() cost.Period { return cost.Period{Start: day(2026, 11, 1), End: day(2026, 12, 1)} }

func TestDB_Open(t *testing.T) {
	sqliteOnly(t)
	t.Run("OK", func(t *testing.T) {
		db, _ := tempDB(t)
		v, err := db.SchemaVersion(context.Background())
		if err != nil || v != 7 {
			t.Fatalf("SchemaVersion = %d, %v; want 7", v, err)
		}
		for pragma, want := range map[string]string{"journal_mode": "wal", "foreign_keys": "1", "busy_timeout": "5000"} {
			if got, err := db.PragmaForTest(context.Background(), pragma); err != nil || got != want {
				t.Errorf("PRAGMA %s = %q, %v; want %q", pragma, got, err, want)
			}
		}
	})
	t.Run("OKIdempotent", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "x y?#%.db") // characters a URI must escape
		for range 3 {
			db, err := store.Open(context.Background(), path)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if v, _ := db.SchemaVersion(context.Background()); v != 7 {
				t.Fatalf("SchemaVersion = %d, want 7", v)
			}
			db.Close()
		}
		if _, err := os.Stat(path); err != nil {
			t.Errorf("database not at the literal path: %v", err)
		}
	})
	t.Run("ErrNewerSchema", func(t *testing.T) {
		db, path := tempDB(t)
		if _, err := db.ExecForTest(context.Background(), "PRAGMA user_version = 99"); err != nil {
			t.Fatal(err)
		}
		db.Close()
		_, err := store.Open(context.Background(), path)
		if err == nil || !strings.Contains(err.Error(), "newer") {
			t.Fatalf("Open = %v, want a newer-schema error", err)
		}
	})
	t.Run("ErrEmptyPath", func(t *testing.T) {
		if _, err := store.Open(context.Background(), ""); err == nil {
			t.Fatal("Open(\"\") succeeded")
		}
	})
}

func sampleUsage() []cost.Usage {
	return []cost.Usage{
		{Account: acct, Service: "Workers Requests", Family: "Workers", Zone: "", Day: day(2026, 11, 2),
			BillingPeriod: nov(), Cost: 0.1 + 0.2, CostKnown: true, Currency: "USD", Quantity: 1e7 / 3, Unit: "requests"},
		{Account: acct, Service: "R2 Storage", Family: "R2", Zone: "example.com", Day: day(2026, 11, 2),
			BillingPeriod: nov(), Cost: 0, CostKnown: false, Currency: "USD", Quantity: 12.5, Unit: "GB-month"},
		{Account: acct, Service: "Workers Requests", Family: "Workers", Day: day(2026, 11, 3),
			BillingPeriod: nov(), Cost: math.SmallestNonzeroFloat64, CostKnown: true, Currency: "EUR",
			Quantity: math.MaxFloat64, Unit: "requests"},
		// A correction for October, fetched with November's range.
		{Account: acct, Service: "Workers Requests", Family: "Workers", Day: day(2026, 10, 30),
			BillingPeriod: nov(), Cost: -1.25, CostKnown: true, Currency: "USD", Quantity: -3, Unit: "requests",
			Correction: true},
	}
}

func TestDB_SaveSnapshot(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 11, 4, 6, 0, 0, 123456789, time.UTC)
	rng := cost.Period{Start: day(2026, 11, 1), End: day(2026, 11, 4)}
	card := &cost.Card{Account: acct, ExpiryMonth: 12, ExpiryYear: 2026, Masked: "************4242"}

	t.Run("OKRoundTrip", func(t *testing.T) {
		db, path := tempDB(t)
		in := sampleUsage()
		if err := db.SaveSnapshot(ctx, cost.Snapshot{Account: cost.Account{ID: acct, Name: "prod"}, FetchedAt: at,
			Range: rng, Usage: in, Card: card}); err != nil {
			t.Fatal(err)
		}
		db.Close()
		db = mustOpen(t, path) // reopen keeps data
		got, err := db.Usage(ctx, day(2026, 10, 1), day(2026, 12, 1))
		if err != nil {
			t.Fatal(err)
		}
		want := []cost.Usage{in[3], in[1], in[0], in[2]} // account, day, family, service order
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Usage =\n%+v\nwant\n%+v", got, want)
		}
		cards, err := db.Cards(ctx)
		if err != nil || len(cards) != 1 || cards[0] != *card {
			t.Errorf("Cards = %+v, %v; want %+v", cards, err, *card)
		}
		fi, err := db.LastFetch(ctx, acct)
		want2 := store.FetchInfo{Account: acct, At: at, Range: rng, Rows: 4, OK: true}
		if err != nil || fi != want2 {
			t.Errorf("LastFetch = %+v, %v; want %+v", fi, err, want2)
		}
	})

	t.Run("OKReplacesRange", func(t *testing.T) {
		db, _ := tempDB(t)
		snap := cost.Snapshot{Account: cost.Account{ID: acct}, FetchedAt: at, Range: rng, Usage: sampleUsage()}
		for range 2 {
			if err := db.SaveSnapshot(ctx, snap); err != nil {
				t.Fatal(err)
			}
		}
		got, _ := db.Usage(ctx, day(2026, 10, 1), day(2026, 12, 1))
		if len(got) != 4 {
			t.Fatalf("after re-save: %d rows, want 4 (no duplicates)", len(got))
		}
		// A corrected re-fetch of Nov 3 only: Nov 2 and the October correction stay.
		fixed := cost.Usage{Account: acct, Service: "Workers Requests", Family: "Workers", Day: day(2026, 11, 3),
			BillingPeriod: nov(), Cost: 9, CostKnown: true, Currency: "USD", Quantity: 9, Unit: "requests"}
		if err := db.SaveSnapshot(ctx, cost.Snapshot{Account: cost.Account{ID: acct}, FetchedAt: at,
			Range: cost.Period{Start: day(2026, 11, 3), End: day(2026, 11, 4)}, Usage: []cost.Usage{fixed}}); err != nil {
			t.Fatal(err)
		}
		got, _ = db.Usage(ctx, day(2026, 11, 3), day(2026, 11, 4))
		if len(got) != 1 || got[0] != fixed {
			t.Errorf("Nov 3 = %+v, want only %+v", got, fixed)
		}
		all, _ := db.Usage(ctx, day(2026, 10, 1), day(2026, 12, 1))
		if len(all) != 4 {
			t.Errorf("all rows = %d, want 4", len(all))
		}
		// Another account's rows are untouched.
		other := cost.Usage{Account: "other", Service: "Workers Requests", Day: day(2026, 11, 3), CostKnown: true, Cost: 1}
		if err := db.SaveSnapshot(ctx, cost.Snapshot{Account: cost.Account{ID: "other"}, FetchedAt: at, Range: rng,
			Usage: []cost.Usage{other}}); err != nil {
			t.Fatal(err)
		}
		got, _ = db.Usage(ctx, day(2026, 11, 3), day(2026, 11, 4))
		if len(got) != 2 {
			t.Errorf("Nov 3 across accounts = %d rows, want 2", len(got))
		}
	})

	t.Run("OKNaN", func(t *testing.T) {
		db, _ := tempDB(t)
		u := cost.Usage{Account: acct, Service: "s", Day: day(2026, 11, 2), Cost: math.NaN(), Quantity: math.Inf(1)}
		if err := db.SaveSnapshot(ctx, cost.Snapshot{Account: cost.Account{ID: acct}, Range: rng,
			Usage: []cost.Usage{u}}); err != nil {
			t.Fatal(err)
		}
		got, _ := db.Usage(ctx, rng.Start, rng.End)
		if len(got) != 1 || !math.IsNaN(got[0].Cost) || !math.IsInf(got[0].Quantity, 1) || !got[0].BillingPeriod.IsZero() {
			t.Errorf("Usage = %+v, want NaN cost, +Inf quantity and a zero billing period", got)
		}
	})

	t.Run("OKNilCardKeepsCard", func(t *testing.T) {
		db, _ := tempDB(t)
		for _, c := range []*cost.Card{card, nil} {
			if err := db.SaveSnapshot(ctx, cost.Snapshot{Account: cost.Account{ID: acct}, FetchedAt: at, Range: rng,
				Card: c}); err != nil {
				t.Fatal(err)
			}
		}
		if cards, _ := db.Cards(ctx); len(cards) != 1 {
			t.Errorf("Cards = %+v, want the first card kept", cards)
		}
	})

	t.Run("ErrForeignAccount", func(t *testing.T) {
		db, _ := tempDB(t)
		u := sampleUsage()[0]
		u.Account = "someone-else"
		err := db.SaveSnapshot(ctx, cost.Snapshot{Account: cost.Account{ID: acct}, Range: rng, Usage: []cost.Usage{u}})
		if err == nil || !strings.Contains(err.Error(), `"someone-else"`) {
			t.Fatalf("SaveSnapshot = %v, want an error naming the account", err)
		}
		if got, _ := db.Usage(ctx, rng.Start, rng.End); len(got) != 0 {
			t.Errorf("rows saved despite the error: %v", got)
		}
	})
}

func TestDB_RecordFetchError(t *testing.T) {
	ctx := context.Background()
	db, _ := tempDB(t)
	at := time.Date(2026, 11, 4, 6, 0, 0, 0, time.UTC)
	if _, err := db.LastFetch(ctx, acct); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("LastFetch before any fetch = %v, want ErrNotFound", err)
	}
	if err := db.SaveSnapshot(ctx, cost.Snapshot{Account: cost.Account{ID: acct}, FetchedAt: at}); err != nil {
		t.Fatal(err)
	}
	secret := "s3cr3t-t0ken-value"
	fetchErr := fmt.Errorf("get https://api.cloudflare.com/x?token=%s: Authorization: Bearer %s api_key=%q: 403", secret, secret, secret)
	if err := db.RecordFetchError(ctx, acct, at.Add(time.Hour), fetchErr); err != nil {
		t.Fatal(err)
	}
	if good, err := db.LastGoodFetch(ctx, acct); err != nil || !good.Equal(at) {
		t.Errorf("LastGoodFetch = %v, %v; want %v", good, err, at)
	}
	if good, err := db.LastGoodFetch(ctx, "b"); err != nil || !good.IsZero() {
		t.Errorf("LastGoodFetch(never) = %v, %v; want zero", good, err)
	}
	fi, err := db.LastFetch(ctx, acct)
	if err != nil || fi.OK || !fi.At.Equal(at.Add(time.Hour)) || !strings.Contains(fi.Err, "403") {
		t.Fatalf("LastFetch = %+v, %v; want the failure", fi, err)
	}
	if strings.Contains(fi.Err, secret) {
		t.Errorf("stored error leaks the secret: %q", fi.Err)
	}
	if err := db.RecordFetchError(ctx, "b", at, errors.New(strings.Repeat("x", 5000))); err != nil {
		t.Fatal(err)
	}
	all, err := db.Fetches(ctx)
	if err != nil || len(all) != 2 || all[0].Account != acct || all[1].Account != "b" || len(all[1].Err) > 1100 {
		t.Errorf("Fetches = %+v, %v", all, err)
	}
}

func TestDB_Alerts(t *testing.T) {
	ctx := context.Background()
	db, path := tempDB(t)
	t0 := time.Date(2026, 11, 10, 8, 0, 0, 1, time.UTC)
	f := cost.Finding{Kind: cost.KindAnomaly, Rule: "spikes", Scope: cost.Scope{Account: acct, AccountName: "production", Service: "R2"},
		Period: cost.Period{Start: day(2026, 11, 9), End: day(2026, 11, 10)}, Threshold: "score>=0.9",
		Severity: cost.SeverityWarning, Notifiers: []string{"slack"}, Title: "R2 spiked", Currency: "USD",
		Actual: 1.5, Anomaly: &cost.AnomalyDetail{Expected: 1, Observed: 3, Sigma: math.Inf(1), Impact: 2,
			Score: 0.95, Detector: "mad", Since: day(2026, 11, 9), Day: day(2026, 11, 9)},
		Chart: &cost.Chart{Title: "R2", Days: []time.Time{day(2026, 11, 8), day(2026, 11, 9)},
			Values: []float64{math.NaN(), 3}, Reference: []float64{1, 1}, ReferenceLabel: "baseline"}}
	st := alert.State{Fingerprint: alert.Fingerprint(f), Group: alert.Group(f), Finding: f, Status: alert.StatusFiring,
		Reason: alert.ReasonFirst, Episode: 1, StartsAt: t0, UpdatedAt: t0}
	if err := db.SaveAlerts(ctx, []alert.State{st}); err != nil {
		t.Fatal(err)
	}
	if err := db.RecordSend(ctx, alert.Send{Fingerprint: st.Fingerprint, Notifier: "slack", Status: cost.StatusFiring,
		SentAt: t0, Channel: "C1", TS: "1.1"}); err != nil {
		t.Fatal(err)
	}
	// A repeat keeps the first message reference and moves SentAt.
	if err := db.RecordSend(ctx, alert.Send{Fingerprint: st.Fingerprint, Notifier: "slack", Status: cost.StatusFiring,
		SentAt: t0.Add(time.Hour), Channel: "C1", TS: "2.2"}); err != nil {
		t.Fatal(err)
	}
	if err := db.RecordSend(ctx, alert.Send{Fingerprint: "nope", Notifier: "slack", Status: cost.StatusFiring,
		SentAt: t0}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RecordSend(unknown) = %v, want ErrNotFound", err)
	}
	if err := db.AddAction(ctx, alert.Action{Fingerprint: st.Fingerprint, Kind: alert.ActionSnooze, User: "U1",
		At: t0, Until: t0.Add(24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := db.AddAction(ctx, alert.Action{Fingerprint: "nope", Kind: alert.ActionAck}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("AddAction(unknown) = %v, want ErrNotFound", err)
	}
	db.Close()
	db = mustOpen(t, path)

	got, err := db.Alert(ctx, st.Fingerprint)
	if err != nil {
		t.Fatal(err)
	}
	// NaN != NaN, so compare the chart separately.
	if v := got.Finding.Chart.Values; len(v) != 2 || !math.IsNaN(v[0]) || v[1] != 3 {
		t.Errorf("chart values = %v", v)
	}
	got.Finding.Chart.Values, st.Finding.Chart.Values = nil, nil
	if !reflect.DeepEqual(got, st) {
		t.Errorf("Alert =\n%+v\nwant\n%+v", got, st)
	}
	if _, err := db.Alert(ctx, "nope"); !errors.Is(err, alert.ErrNotFound) {
		t.Errorf("Alert(unknown) = %v, want ErrNotFound", err)
	}
	sends, err := db.Sends(ctx, []string{st.Fingerprint})
	wantSend := alert.Send{Fingerprint: st.Fingerprint, Episode: 1, Notifier: "slack", Status: cost.StatusFiring,
		FirstSentAt: t0, SentAt: t0.Add(time.Hour), Channel: "C1", TS: "1.1"}
	if err != nil || len(sends) != 1 || sends[0] != wantSend {
		t.Errorf("Sends = %+v, %v; want %+v", sends, err, wantSend)
	}
	acts, err := db.Actions(ctx, alert.ActionFilter{Kind: alert.ActionSnooze})
	if err != nil || len(acts) != 1 || !acts[0].Until.Equal(t0.Add(24*time.Hour)) || acts[0].User != "U1" {
		t.Errorf("Actions = %+v, %v", acts, err)
	}
	if acts, _ := db.Actions(ctx, alert.ActionFilter{Kind: alert.ActionAck}); len(acts) != 0 {
		t.Errorf("Actions(ack) = %+v, want none", acts)
	}
	open, err := db.Alerts(ctx, nil)
	if err != nil || len(open) != 1 {
		t.Errorf("Alerts(nil) = %d alerts, %v; want the firing one", len(open), err)
	}

	// Resolved with the resolution owed to slack: still returned. Once sent: not.
	st.Status, st.EndsAt, st.Why = alert.StatusResolved, t0.Add(2*time.Hour), "fresh data no longer shows it"
	if err := db.SaveAlerts(ctx, []alert.State{st}); err != nil {
		t.Fatal(err)
	}
	if open, _ := db.Alerts(ctx, nil); len(open) != 1 || open[0].Why != st.Why {
		t.Errorf("resolution owed: Alerts(nil) = %+v, want 1 with why %q", open, st.Why)
	}
	if err := db.RecordSend(ctx, alert.Send{Fingerprint: st.Fingerprint, Notifier: "slack", Status: cost.StatusResolved,
		SentAt: t0.Add(2 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if open, _ := db.Alerts(ctx, nil); len(open) != 0 {
		t.Errorf("resolution sent: Alerts(nil) = %d, want 0", len(open))
	}
	if byGroup, _ := db.Alerts(ctx, []string{st.Group}); len(byGroup) != 1 {
		t.Errorf("Alerts(group) = %d, want 1", len(byGroup))
	}
	// Saving again updates in place: sends stay attached (no cascade delete).
	if sends, _ := db.Sends(ctx, []string{st.Fingerprint}); len(sends) != 2 {
		t.Errorf("sends after re-save = %d, want 2", len(sends))
	}
}

func TestDB_Concurrent(t *testing.T) {
	ctx := context.Background()
	db, _ := tempDB(t)
	errc := make(chan error, 8)
	for i := range 8 {
		go func() {
			a := fmt.Sprintf("acct%d", i)
			u := cost.Usage{Account: a, Service: "s", Day: day(2026, 11, 2), CostKnown: true, Cost: float64(i)}
			err := db.SaveSnapshot(ctx, cost.Snapshot{Account: cost.Account{ID: a}, Range: nov(), Usage: []cost.Usage{u}})
			if err == nil {
				_, err = db.Usage(ctx, nov().Start, nov().End)
			}
			errc <- err
		}()
	}
	for range 8 {
		if err := <-errc; err != nil {
			t.Error(err)
		}
	}
	if got, _ := db.Usage(ctx, nov().Start, nov().End); len(got) != 8 {
		t.Errorf("rows = %d, want 8", len(got))
	}
}

func TestDB_PruneAlerts(t *testing.T) {
	ctx := context.Background()
	db, path := tempDB(t)
	now := time.Date(2027, 12, 20, 6, 0, 0, 0, time.UTC)
	cutoff := now.AddDate(0, 0, -400)
	tests := []struct {
		name      string
		rule, th  string // the group is the rule's; th tells thresholds apart
		status    alert.Status
		ends      time.Time
		wantKept  bool
		wantSends int // of the kept alert
	}{
		{name: "OldResolvedGoes", rule: "a", status: alert.StatusResolved, ends: cutoff.Add(-time.Hour)},
		{name: "OldClosedGoes", rule: "b", status: alert.StatusClosed, ends: cutoff.AddDate(0, 0, -100)},
		{name: "OldSupersededGoes", rule: "c", status: alert.StatusSuperseded, ends: cutoff.Add(-time.Second)},
		{name: "RecentResolvedStays", rule: "d", status: alert.StatusResolved, ends: cutoff.Add(time.Hour), wantKept: true, wantSends: 2},
		{name: "ResolvedAtCutoffStays", rule: "e", status: alert.StatusResolved, ends: cutoff, wantKept: true, wantSends: 2},
		{name: "OldFiringStays", rule: "f", status: alert.StatusFiring, wantKept: true, wantSends: 1},
		// The group still fires, so its earlier alerts stay for threading.
		{name: "OldResolvedOfFiringGroupStays", rule: "f", th: "low", status: alert.StatusResolved,
			ends: cutoff.AddDate(0, 0, -30), wantKept: true, wantSends: 2},
	}
	fps := make([]string, len(tests))
	for i, tt := range tests {
		f := cost.Finding{Kind: cost.KindBudget, Rule: tt.rule, Scope: cost.Scope{Account: acct},
			Period: cost.Period{Start: day(2026, 1, 1), End: day(2026, 2, 1)}, Threshold: "actual>=100%" + tt.th}
		starts := day(2026, 1, 20)
		st := alert.State{Fingerprint: alert.Fingerprint(f), Group: alert.Group(f), Finding: f, Status: tt.status,
			Reason: alert.ReasonFirst, Episode: 1, StartsAt: starts, EndsAt: tt.ends, UpdatedAt: tt.ends}
		if tt.status == alert.StatusFiring {
			st.UpdatedAt = now
		}
		fps[i] = st.Fingerprint
		if err := db.SaveAlerts(ctx, []alert.State{st}); err != nil {
			t.Fatal(err)
		}
		if err := db.RecordSend(ctx, alert.Send{Fingerprint: st.Fingerprint, Notifier: "slack", Status: cost.StatusFiring,
			SentAt: starts, Channel: "C1", TS: "1.1"}); err != nil {
			t.Fatal(err)
		}
		if tt.status != alert.StatusFiring {
			if err := db.RecordSend(ctx, alert.Send{Fingerprint: st.Fingerprint, Notifier: "slack",
				Status: cost.StatusResolved, SentAt: st.UpdatedAt}); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.AddAction(ctx, alert.Action{Fingerprint: st.Fingerprint, Kind: alert.ActionAck, User: "U1",
			At: starts.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}

	n, err := db.PruneAlerts(ctx, cutoff)
	if err != nil || n != 3 {
		t.Fatalf("PruneAlerts = %d, %v; want 3", n, err)
	}
	db.Close()
	db = mustOpen(t, path)
	if n, err := db.PruneAlerts(ctx, cutoff); err != nil || n != 0 {
		t.Errorf("PruneAlerts again = %d, %v; want 0", n, err)
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := db.Alert(ctx, fps[i])
			if kept := !errors.Is(err, store.ErrNotFound); kept != tt.wantKept || kept && err != nil {
				t.Errorf("Alert = %v; want kept %v", err, tt.wantKept)
			}
			sends, err := db.Sends(ctx, fps[i:i+1])
			if err != nil || len(sends) != tt.wantSends {
				t.Errorf("Sends = %d, %v; want %d", len(sends), err, tt.wantSends)
			}
			wantActs := 0
			if tt.wantKept {
				wantActs = 1
			}
			acts, err := db.Actions(ctx, alert.ActionFilter{Fingerprints: fps[i : i+1]})
			if err != nil || len(acts) != wantActs {
				t.Errorf("Actions = %d, %v; want %d", len(acts), err, wantActs)
			}
		})
	}
}
