package store_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/costbot/costbot/internal/alert"
	"github.com/costbot/costbot/internal/cost"
	"github.com/costbot/costbot/internal/store"
)

// openPG opens n handles on one fresh PostgreSQL schema, as n replicas
// would; it skips without a server.
func openPG(t *testing.T, n int) []*store.DB {
	t.Helper()
	dsn := pgState(t, filepath.Join(t.TempDir(), "shared"))
	dbs := make([]*store.DB, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range dbs {
		wg.Go(func() { dbs[i], errs[i] = store.Open(context.Background(), dsn) }) // replicas start together
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("replica %d: Open: %v", i, err)
		}
		t.Cleanup(func() { dbs[i].Close() })
	}
	return dbs
}

func TestLease(t *testing.T) {
	ctx := context.Background()
	dbs := openPG(t, 2) // and both migrated the same schema at once without error
	a, b := dbs[0], dbs[1]
	if !a.Shared() {
		t.Fatal("a PostgreSQL state is not Shared")
	}
	if v, err := b.SchemaVersion(ctx); err != nil || v != 7 {
		t.Fatalf("SchemaVersion = %d, %v; want 7", v, err)
	}
	const ttl = 400 * time.Millisecond
	steps := []struct {
		name       string
		db         *store.DB
		holder     string
		release    bool
		wait       time.Duration
		wantHeld   bool
		wantHolder string
		wantEpoch  int64
	}{
		{name: "FreeLeaseIsTaken", db: a, holder: "a", wantHeld: true, wantHolder: "a", wantEpoch: 1},
		{name: "HeldLeaseIsRefused", db: b, holder: "b", wantHolder: "a", wantEpoch: 1},
		{name: "RenewalKeepsEpoch", db: a, holder: "a", wantHeld: true, wantHolder: "a", wantEpoch: 1},
		{name: "ExpiredLeaseIsTakenWithNextEpoch", db: b, holder: "b", wait: ttl + 100*time.Millisecond, wantHeld: true, wantHolder: "b", wantEpoch: 2},
		{name: "OldHolderIsRefused", db: a, holder: "a", wantHolder: "b", wantEpoch: 2},
		{name: "ReleasedLeaseIsTakenAtOnce", db: a, holder: "a", release: true, wantHeld: true, wantHolder: "a", wantEpoch: 3},
		{name: "OwnExpiredLeaseGetsNextEpoch", db: a, holder: "a", wait: ttl + 100*time.Millisecond, wantHeld: true, wantHolder: "a", wantEpoch: 4},
	}
	for _, s := range steps {
		time.Sleep(s.wait)
		if s.release {
			if err := b.ReleaseLease(ctx, "b"); err != nil {
				t.Fatalf("%s: ReleaseLease: %v", s.name, err)
			}
		}
		l, err := s.db.AcquireLease(ctx, s.holder, ttl)
		if err != nil {
			t.Fatalf("%s: AcquireLease: %v", s.name, err)
		}
		if l.Held != s.wantHeld || l.Holder != s.wantHolder || l.Epoch != s.wantEpoch {
			t.Fatalf("%s: lease = %+v; want held %v by %q in epoch %d", s.name, l, s.wantHeld, s.wantHolder, s.wantEpoch)
		}
	}
}

// TestLease_Fencing: a fenced write fails once its lease is lost and
// writes nothing; a fenced transaction in flight keeps the lease from
// changing hands until it ends.
func TestLease_Fencing(t *testing.T) {
	ctx := context.Background()
	dbs := openPG(t, 2)
	a, b := dbs[0], dbs[1]
	const ttl = 300 * time.Millisecond
	la, err := a.AcquireLease(ctx, "a", ttl)
	if err != nil || !la.Held {
		t.Fatalf("AcquireLease = %+v, %v", la, err)
	}
	t0 := time.Date(2026, 11, 10, 8, 0, 0, 0, time.UTC)
	st := outboxAlert(t, a, t0)
	msg := cost.Alert{Finding: st.Finding, Fingerprint: st.Fingerprint, Status: cost.StatusFiring, StartsAt: t0}
	fenced := store.WithFence(ctx, la.Fence())
	if err := a.SavePlan(fenced, nil, []alert.Delivery{{Notifier: "hook", Alert: msg}}, t0); err != nil {
		t.Fatalf("fenced SavePlan while leading: %v", err)
	}
	rows, err := a.Outbox(ctx)
	if err != nil || len(rows) != 1 {
		t.Fatalf("Outbox = %v, %v", rows, err)
	}

	time.Sleep(ttl + 100*time.Millisecond) // a stalls past its lease; b takes over
	if lb, err := b.AcquireLease(ctx, "b", time.Minute); err != nil || !lb.Held || lb.Epoch != la.Epoch+1 {
		t.Fatalf("takeover = %+v, %v", lb, err)
	}
	err = a.ClaimDelivery(fenced, rows[0].ID, t0.Add(time.Minute))
	if !errors.Is(err, store.ErrNotLeader) {
		t.Fatalf("ClaimDelivery by the deposed leader = %v, want ErrNotLeader", err)
	}
	if rows, _ := b.Outbox(ctx); len(rows) != 1 || rows[0].Claims != 0 {
		t.Fatalf("outbox after the refused claim = %+v; want the row unclaimed", rows)
	}
	// b's fence, held in a long transaction, keeps c from taking the lease
	// even after it expires: the takeover waits for the commit.
	if err := b.ReleaseLease(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	lb, err := b.AcquireLease(ctx, "b", ttl)
	if err != nil || !lb.Held {
		t.Fatalf("re-acquire = %+v, %v", lb, err)
	}
	inTx := make(chan struct{})
	release := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- b.TxForTest(store.WithFence(ctx, lb.Fence()), func() error {
			close(inTx)
			<-release
			return nil
		})
	}()
	<-inTx
	time.Sleep(ttl + 100*time.Millisecond) // the lease expires while the fenced transaction is open
	took := make(chan store.Lease, 1)
	go func() {
		l, err := a.AcquireLease(ctx, "a", time.Minute)
		if err != nil {
			t.Error(err)
		}
		took <- l
	}()
	select {
	case l := <-took:
		t.Fatalf("lease changed hands during a fenced transaction: %+v", l)
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("fenced transaction: %v", err)
	}
	if l := <-took; !l.Held || l.Holder != "a" {
		t.Fatalf("after the commit: %+v, want a holding the lease", l)
	}
}

func TestOpenPostgres_Errors(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name, dsn, want string
	}{
		{name: "ErrUnreachable", dsn: "postgres://costbot:s3cret-pw@127.0.0.1:1/costbot?sslmode=disable&connect_timeout=2", want: "postgres costbot@127.0.0.1:1/costbot"},
		{name: "ErrBadURL", dsn: "postgres://costbot:s3cret-pw@127.0.0.1:notaport/x", want: "not a valid PostgreSQL URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := store.Open(ctx, tt.dsn)
			if err == nil {
				db.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "s3cret-pw") {
				t.Errorf("error = %q; want it to contain %q and no password", err, tt.want)
			}
		})
	}
}

// TestPostgresSchemaMirrorsSQLite: every table has the same columns on
// both backends, so one set of queries serves both.
func TestPostgresSchemaMirrorsSQLite(t *testing.T) {
	ctx := context.Background()
	pg := openPG(t, 1)[0]
	lite, err := store.Open(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	want, err := lite.ColumnsForTest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pg.ColumnsForTest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for table, cols := range want {
		g := slices.DeleteFunc(slices.Clone(got[table]), func(c string) bool { return c == "rowid" })
		if !slices.Equal(g, cols) {
			t.Errorf("table %s: PostgreSQL columns %v, SQLite %v", table, got[table], cols)
		}
	}
	for table := range got {
		if _, ok := want[table]; !ok && table != "leader" && table != "costbot_schema" {
			t.Errorf("table %s is only in the PostgreSQL schema", table)
		}
	}
}

// TestLease_SQLiteHasNone: a SQLite state has no lease to take (its file
// lock admits one process); asking for one is an error, not a fake tenure.
func TestLease_SQLiteHasNone(t *testing.T) {
	sqliteOnly(t)
	db, _ := tempDB(t)
	if db.Shared() {
		t.Fatal("a SQLite state is Shared")
	}
	if l, err := db.AcquireLease(context.Background(), "a", time.Second); err == nil || l.Held {
		t.Errorf("AcquireLease on SQLite = %+v, %v; want an error", l, err)
	}
}
