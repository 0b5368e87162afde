package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/costbot/costbot/internal/alert"
	"github.com/costbot/costbot/internal/store"
)

func TestDB_Silences(t *testing.T) {
	ctx := context.Background()
	db, path := tempDB(t)
	now := time.Date(2026, 11, 10, 8, 0, 0, 0, time.UTC)
	ms, err := alert.ParseMatchers(`service=~"R2.*", account="production"`, `zone!=example.org`)
	if err != nil {
		t.Fatal(err)
	}
	s, err := alert.CheckSilence(alert.Silence{Matchers: ms, EndsAt: now.Add(2 * time.Hour), CreatedBy: "alice", Comment: "R2 migration"}, now)
	if err != nil {
		t.Fatal(err)
	}
	added, err := db.AddSilence(ctx, s)
	if err != nil || added.ID == "" {
		t.Fatalf("AddSilence = %+v, %v", added, err)
	}
	later, err := db.AddSilence(ctx, alert.Silence{ID: "later", Matchers: ms[:1], StartsAt: now.Add(time.Hour),
		EndsAt: now.Add(3 * time.Hour), CreatedBy: "bob", Comment: "c", UpdatedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddSilence(ctx, later); err == nil {
		t.Error("AddSilence with a taken id: no error")
	}

	db.Close()
	db = mustOpen(t, path) // survives a restart
	got, err := db.Silences(ctx, now)
	if err != nil || len(got) != 2 || got[0].ID != added.ID || got[1].ID != "later" {
		t.Fatalf("Silences = %+v, %v", got, err)
	}
	if got[0].Matchers.String() != ms.String() || !got[0].EndsAt.Equal(s.EndsAt) || got[0].CreatedBy != "alice" || got[0].Comment != "R2 migration" {
		t.Errorf("round trip: got %+v, want %+v", got[0], s)
	}
	l := map[string]string{"service": "R2 Storage", "account": "production", "zone": "example.com"}
	if got[0].State(now) != alert.SilenceActive || !got[0].Matches(l) {
		t.Errorf("silence %s: state %v, matches %v", got[0].Matchers, got[0].State(now), got[0].Matches(l))
	}

	exp, changed, err := db.ExpireSilence(ctx, added.ID, now.Add(time.Minute))
	if err != nil || !changed || exp.State(now.Add(time.Minute)) != alert.SilenceExpired {
		t.Fatalf("ExpireSilence = %+v, %v, %v", exp, changed, err)
	}
	if _, changed, err := db.ExpireSilence(ctx, added.ID, now.Add(2*time.Minute)); err != nil || changed {
		t.Errorf("ExpireSilence again = %v, %v; want unchanged", changed, err)
	}
	if _, _, err := db.ExpireSilence(ctx, "nope", now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ExpireSilence unknown: %v, want ErrNotFound", err)
	}
	if _, err := db.Silence(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Silence unknown: %v, want ErrNotFound", err)
	}
	if got, err := db.Silences(ctx, now.Add(time.Minute)); err != nil || len(got) != 1 || got[0].ID != "later" {
		t.Errorf("Silences after expiry = %+v, %v; want only later", got, err)
	}
	if all, err := db.Silences(ctx, time.Time{}); err != nil || len(all) != 2 {
		t.Errorf("all Silences = %d, %v; want 2", len(all), err)
	}
}

// `costbot silence add` runs beside the daemon, which holds the lock.
func TestOpenShared(t *testing.T) {
	sqliteOnly(t)
	ctx := context.Background()
	daemon, path := tempDB(t)
	cli, err := store.OpenShared(ctx, path)
	if err != nil {
		t.Fatalf("OpenShared beside a daemon: %v", err)
	}
	defer cli.Close()
	now := time.Date(2026, 11, 10, 8, 0, 0, 0, time.UTC)
	ms, _ := alert.ParseMatchers(`kind="anomaly"`)
	if _, err := cli.AddSilence(ctx, alert.Silence{ID: "s1", Matchers: ms, StartsAt: now, EndsAt: now.Add(time.Hour), CreatedBy: "a", Comment: "c", UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if got, err := daemon.Silences(ctx, now); err != nil || len(got) != 1 {
		t.Errorf("daemon sees %d silences, %v; want 1", len(got), err)
	}
	if _, err := store.Open(ctx, path); !errors.Is(err, store.ErrLocked) {
		t.Errorf("Open beside a daemon: %v, want ErrLocked", err)
	}
}
