package app

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/costbot/costbot/internal/alert"
	"github.com/costbot/costbot/internal/cost"
	"github.com/costbot/costbot/internal/demo"
	"github.com/costbot/costbot/internal/rules"
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

// TestApp_Cycle_RenameReFiresNothing renames the account in the config:
// alerts are keyed by account id, so nothing is sent again and the stored
// alerts carry the new name.
func TestApp_Cycle_RenameReFiresNothing(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 17, 0, 0, 0, time.UTC)
	e, a, first := cycled(t, now)
	if len(first.Deliveries) == 0 {
		t.Fatal("first cycle sent nothing")
	}
	a.Close()
	// The user renames the account in the config and in the rules that name it.
	e.cfg.Cloudflare.Accounts[0].Name = "prod-eu"
	dir := e.cfg.Path(e.cfg.Rules)
	if err := os.WriteFile(filepath.Join(dir, "r.yaml"), []byte(strings.ReplaceAll(testRules, "account: production", "account: prod-eu")), 0o644); err != nil {
		t.Fatal(err)
	}
	set, err := rules.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	e.set = set
	posts := e.slack.count()
	for i := range 3 {
		at := now.Add(time.Duration(i+1) * time.Hour)
		a = e.app(t, at)
		rep, err := a.Cycle(ctx, at)
		if err != nil || rep.Err() != nil {
			t.Fatalf("cycle %d: %v %v", i+2, err, rep.Err())
		}
		for _, d := range rep.Deliveries {
			t.Errorf("cycle %d after rename sent %s %s %s", i+2, d.Job.Alert.Kind, d.Job.Alert.Status, d.Job.Alert.Reason)
		}
		if i < 2 {
			a.Close()
		}
	}
	if e.slack.count() != posts {
		t.Errorf("slack posts after rename = %d, want %d", e.slack.count(), posts)
	}
	states, err := a.db.Alerts(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range states {
		if st.Status == alert.StatusFiring && st.Finding.Kind != cost.KindStale &&
			(st.Finding.Scope.Account != demo.AccountID || st.Finding.Scope.AccountName != "prod-eu") {
			t.Errorf("alert %s scope %+v, want id %s named prod-eu", st.Fingerprint, st.Finding.Scope, demo.AccountID)
		}
	}
}

// TestApp_UpgradeKeepsOpenAlerts writes a state file as the previous release
// did (alerts keyed by the account's name, with their sends and Slack
// threads) and checks that the first cycle after the upgrade re-sends
// nothing and keeps each alert's thread.
func TestApp_UpgradeKeepsOpenAlerts(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 17, 0, 0, 0, time.UTC)
	// What the previous release found and sent, from a run on other state.
	_, _, ref := cycled(t, now)
	type sent struct{ fp, notifier string }
	var sends []sent
	old := map[string]alert.State{}
	for _, d := range ref.Deliveries {
		if !d.Sent {
			continue
		}
		f := d.Job.Alert.Finding
		f.Scope.Account, f.Scope.AccountName = "production", "" // the old identity: the configured name
		st := alert.State{Fingerprint: alert.Fingerprint(f), Group: alert.Group(f), Finding: f, Status: alert.StatusFiring,
			Reason: alert.Reason(d.Job.Alert.Reason), Episode: 1, StartsAt: now, UpdatedAt: now}
		old[st.Fingerprint] = st
		sends = append(sends, sent{st.Fingerprint, d.Job.Notifier})
	}
	if len(old) < 3 {
		t.Fatalf("reference run sent %d alerts, want several", len(old))
	}

	e := newEnv(t, now)
	db, err := store.Open(ctx, e.state)
	if err != nil {
		t.Fatal(err)
	}
	var states []alert.State
	for _, st := range old {
		states = append(states, st)
	}
	if err := db.SaveAlerts(ctx, states); err != nil {
		t.Fatal(err)
	}
	for i, s := range sends {
		snd := alert.Send{Fingerprint: s.fp, Notifier: s.notifier, Status: cost.StatusFiring, SentAt: now}
		if s.notifier == "finops" {
			snd.Channel, snd.TS = "C0123456789", fmt.Sprintf("1700000000.%06d", i)
		}
		if err := db.RecordSend(ctx, snd); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	a := e.app(t, now.Add(time.Hour))
	rep, err := a.Cycle(ctx, now.Add(time.Hour))
	if err != nil || rep.Err() != nil {
		t.Fatalf("cycle after upgrade: %v %v", err, rep.Err())
	}
	for _, d := range rep.Deliveries {
		t.Errorf("after upgrade sent %s %s %q (%s)", d.Job.Alert.Kind, d.Job.Alert.Reason, d.Job.Alert.Title, d.Job.Notifier)
	}
	got, err := a.db.Alerts(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, st := range got {
		if _, stale := old[st.Fingerprint]; stale {
			t.Errorf("alert %s still keyed by the account name", st.Fingerprint)
		}
		if st.Status == alert.StatusFiring && st.Finding.Scope.Account == demo.AccountID {
			ids = append(ids, st.Fingerprint)
		}
	}
	if len(ids) != len(old) {
		t.Errorf("firing alerts keyed by id after upgrade = %d, want %d", len(ids), len(old))
	}
	snap, err := a.db.AlertSnapshot(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var threads []string
	for _, s := range snap.Sends {
		if slices.Contains(ids, s.Fingerprint) && s.TS != "" {
			threads = append(threads, s.TS)
		}
	}
	if n := strings.Count(strings.Join(threads, " "), "1700000000."); n == 0 || n != len(threads) {
		t.Errorf("threads after upgrade = %v, want the old Slack messages", threads)
	}
}

// TestApp_Cycle_WallClockStepBackStaysLive checks that a daemon on the wall
// clock (no evaluation clock) whose clock stepped back keeps recording in
// the live state: a throwaway copy would forget what it sent.
func TestApp_Cycle_WallClockStepBackStaysLive(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 17, 0, 0, 0, time.UTC)
	e, a, _ := cycled(t, now)
	a.Close()
	before := dumpState(t, e.state)
	a, err := New(ctx, Options{Config: e.cfg, Rules: e.set, RetryWait: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.Cycle(ctx, now.Add(-time.Hour))
	a.Close()
	if err != nil {
		t.Fatal(err)
	}
	if after := dumpState(t, e.state); after == before {
		t.Error("a wall-clock cycle earlier than the state recorded nothing in the live state")
	}
}
