package app

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/costbot/costbot/internal/alert"
	"github.com/costbot/costbot/internal/cost"
	"github.com/costbot/costbot/internal/store"
)

// dumpState renders what a state file holds: alerts with their sends and
// actions, the fetch log, the latest recorded instant, usage and cards.
func dumpState(t *testing.T, path string) string {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	states, err := db.Alerts(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var groups []string
	for _, st := range states {
		groups = append(groups, st.Group)
	}
	snap, err := db.AlertSnapshot(ctx, groups)
	if err != nil {
		t.Fatal(err)
	}
	fetches, err := db.Fetches(ctx)
	if err != nil {
		t.Fatal(err)
	}
	latest, err := db.LatestRecorded(ctx)
	if err != nil {
		t.Fatal(err)
	}
	usage, err := db.Usage(ctx, time.Unix(0, 0).UTC(), time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	cards, err := db.Cards(ctx)
	if err != nil {
		t.Fatal(err)
	}
	judged, err := db.Judged(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(struct {
		Snap    alert.Snapshot
		Fetches []store.FetchInfo
		Latest  time.Time
		Usage   int
		Cards   []cost.Card
		Judged  int
	}{snap, fetches, latest, len(usage), cards, len(judged)})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestApp_Cycle_EarlierNowLeavesStateAlone is `costbot once --now` with an
// instant earlier than the live state records: the cycle runs, on a
// throwaway copy, and the live state file is left exactly as it was.
func TestApp_Cycle_EarlierNowLeavesStateAlone(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 17, 0, 0, 0, time.UTC)
	e, a, _ := cycled(t, now)
	if _, err := a.Cycle(ctx, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	a.Close()
	before := dumpState(t, e.state)

	earlier := now.AddDate(0, 0, -6)
	a = e.app(t, earlier)
	rep, err := a.Cycle(ctx, earlier)
	if err != nil || rep.Err() != nil {
		t.Fatalf("earlier cycle: %v %v", err, rep.Err())
	}
	if len(rep.Accounts) != 1 || rep.Accounts[0].Rows == 0 || len(rep.Findings) == 0 {
		t.Errorf("earlier cycle did not fetch and evaluate: %+v", rep)
	}
	a.Close()
	if after := dumpState(t, e.state); after != before {
		t.Errorf("an earlier --now changed the live state:\nbefore %s\nafter  %s", before, after)
	}

	// Later cycles carry on from the live state as if nothing happened.
	a = e.app(t, now.Add(2*time.Hour))
	rep, err = a.Cycle(ctx, now.Add(2*time.Hour))
	if err != nil || rep.Err() != nil {
		t.Fatalf("later cycle: %v %v", err, rep.Err())
	}
	if len(rep.Deliveries) != 0 {
		t.Errorf("later cycle sent %d messages, want none", len(rep.Deliveries))
	}
}
