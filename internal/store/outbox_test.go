package store_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/costbot/costbot/internal/alert"
	"github.com/costbot/costbot/internal/cost"
	"github.com/costbot/costbot/internal/store"
)

func TestOpen_EmptyFile(t *testing.T) {
	t.Run("ErrEmptyFile", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "costbot.db")
		if err := os.WriteFile(path, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		db, err := store.Open(context.Background(), path)
		if err == nil {
			db.Close()
		}
		if !errors.Is(err, store.ErrEmptyFile) {
			t.Fatalf("Open(empty file) = %v, want ErrEmptyFile", err)
		}
		if fi, err := os.Stat(path); err != nil || fi.Size() != 0 {
			t.Errorf("the empty file was touched: %v, %v", fi, err)
		}
	})
	t.Run("OKMissingFileIsCreated", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "costbot.db")
		db := mustOpen(t, path)
		db.Close()
		mustOpen(t, path) // and reopened: no longer empty
	})
}

func outboxAlert(t *testing.T, db *store.DB, t0 time.Time) alert.State {
	t.Helper()
	f := cost.Finding{Kind: cost.KindBudget, Rule: "monthly", Scope: cost.Scope{Account: acct}, Period: nov(),
		Threshold: "80%", Severity: cost.SeverityWarning, Title: "80% of budget", Currency: "USD", Actual: 80}
	st := alert.State{Fingerprint: alert.Fingerprint(f), Group: alert.Group(f), Finding: f, Status: alert.StatusFiring,
		Reason: alert.ReasonFirst, Episode: 1, StartsAt: t0, UpdatedAt: t0}
	if err := db.SaveAlerts(context.Background(), []alert.State{st}); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestDB_Outbox(t *testing.T) {
	ctx := context.Background()
	db, path := tempDB(t)
	t0 := time.Date(2026, 11, 10, 8, 0, 0, 0, time.UTC)
	st := outboxAlert(t, db, t0)
	msg := cost.Alert{Finding: st.Finding, Fingerprint: st.Fingerprint, Status: cost.StatusFiring, StartsAt: t0,
		Reason: "first", Thread: &cost.MessageRef{Notifier: "slack", Channel: "C1", TS: "1.1"}}
	plan := []alert.Delivery{{Notifier: "slack", Alert: msg}, {Notifier: "hook", Alert: msg}}
	if err := db.SavePlan(ctx, []alert.State{st}, plan, t0); err != nil {
		t.Fatal(err)
	}
	// The same plan again (the next cycle's retry) adds nothing.
	if err := db.SavePlan(ctx, nil, plan, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db = mustOpen(t, path) // rows survive a restart

	rows, err := db.Outbox(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 {
		t.Fatalf("%d pending rows, want 2: %+v", len(rows), rows)
	}
	want := st.Fingerprint + "-1-firing-slack-1"
	if rows[0].ID != want || rows[0].Notifier != "slack" || rows[0].Episode != 1 || !rows[0].Live ||
		rows[0].Unsure() || rows[0].Alert.Thread == nil || rows[0].Alert.Thread.TS != "1.1" ||
		rows[0].Alert.Title != "80% of budget" || !rows[0].PlannedAt.Equal(t0) {
		t.Errorf("row 0 = %+v, want id %q", rows[0], want)
	}

	if err := db.ClaimDelivery(ctx, rows[0].ID, t0); err != nil {
		t.Fatal(err)
	}
	rows, _ = db.Outbox(ctx)
	if !rows[0].Unsure() || !rows[0].ClaimedAt.Equal(t0) {
		t.Errorf("after a claim: %+v, want unsure", rows[0])
	}
	s := alert.Send{Fingerprint: st.Fingerprint, Episode: 1, Notifier: "slack", Status: cost.StatusFiring,
		SentAt: t0, Channel: "C1", TS: "2.2"}
	if err := db.CompleteDelivery(ctx, rows[0].ID, store.OutcomeSent, s); err != nil {
		t.Fatal(err)
	}
	if err := db.CompleteDelivery(ctx, rows[0].ID, store.OutcomeSent, s); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("CompleteDelivery twice = %v, want ErrNotFound", err)
	}
	if err := db.ClaimDelivery(ctx, rows[0].ID, t0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ClaimDelivery(done) = %v, want ErrNotFound", err)
	}
	sends, err := db.Sends(ctx, []string{st.Fingerprint})
	if err != nil || len(sends) != 1 || sends[0].TS != "2.2" {
		t.Fatalf("Sends = %+v, %v; want the completed one", sends, err)
	}
	// A repeat of a delivered message is a new row with the next sequence.
	if err := db.SavePlan(ctx, nil, plan[:1], t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	rows, _ = db.Outbox(ctx)
	if len(rows) != 2 || rows[1].ID != st.Fingerprint+"-1-firing-slack-2" {
		t.Fatalf("after a repeat: %+v, want hook's row and slack seq 2", rows)
	}
	if err := db.DropDelivery(ctx, rows[1].ID, "notifier not configured", t0); err != nil {
		t.Fatal(err)
	}

	// A firing row whose alert resolved is stale.
	st.Status, st.EndsAt = alert.StatusResolved, t0.Add(3*time.Hour)
	if err := db.SaveAlerts(ctx, []alert.State{st}); err != nil {
		t.Fatal(err)
	}
	rows, _ = db.Outbox(ctx)
	if len(rows) != 1 || rows[0].Notifier != "hook" || rows[0].Live {
		t.Errorf("after resolving: %+v, want hook's row, not live", rows)
	}
	// Pruning the alert takes its rows.
	if n, err := db.PruneAlerts(ctx, t0.Add(24*time.Hour)); err != nil || n != 1 {
		t.Fatalf("PruneAlerts = %d, %v", n, err)
	}
	if rows, err := db.Outbox(ctx); err != nil || len(rows) != 0 {
		t.Errorf("after pruning: %+v, %v; want none", rows, err)
	}
}

// TestDB_CompleteDelivery_Atomic: when the send cannot be recorded (a full
// disk, here a trigger failing the insert), the row stays pending.
func TestDB_CompleteDelivery_Atomic(t *testing.T) {
	ctx := context.Background()
	db, _ := tempDB(t)
	t0 := time.Date(2026, 11, 10, 8, 0, 0, 0, time.UTC)
	st := outboxAlert(t, db, t0)
	msg := cost.Alert{Finding: st.Finding, Fingerprint: st.Fingerprint, Status: cost.StatusFiring, StartsAt: t0}
	if err := db.SavePlan(ctx, nil, []alert.Delivery{{Notifier: "hook", Alert: msg}}, t0); err != nil {
		t.Fatal(err)
	}
	full := `CREATE TRIGGER full BEFORE INSERT ON sends
		BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`
	if *backend == "postgres" {
		full = `CREATE FUNCTION disk_full() RETURNS trigger LANGUAGE plpgsql AS
			$$ BEGIN RAISE EXCEPTION 'could not extend file: No space left on device'; END $$;
			CREATE TRIGGER disk_full BEFORE INSERT ON sends FOR EACH ROW EXECUTE FUNCTION disk_full()`
	}
	if _, err := db.ExecForTest(ctx, full); err != nil {
		t.Fatal(err)
	}
	rows, _ := db.Outbox(ctx)
	err := db.CompleteDelivery(ctx, rows[0].ID, store.OutcomeSent, alert.Send{Fingerprint: st.Fingerprint,
		Episode: 1, Notifier: "hook", Status: cost.StatusFiring, SentAt: t0})
	if err == nil {
		t.Fatal("CompleteDelivery succeeded on a full disk")
	}
	if rows, _ := db.Outbox(ctx); len(rows) != 1 {
		t.Errorf("%d pending rows after a failed completion, want 1", len(rows))
	}
}
