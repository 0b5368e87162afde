package store_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/costbot/costbot/internal/alert"
	"github.com/costbot/costbot/internal/cost"
	"github.com/costbot/costbot/internal/store"
)

// oldStateFile writes a state file as costbot wrote it before alerts were
// keyed by account id (schema version 3): the migrations of that release,
// then an alert keyed by the account's name, inserted with that release's
// statement, with a firing send to Slack and an "expected" mark.
func oldStateFile(tb testing.TB, f cost.Finding, at time.Time) (path, fingerprint string) {
	tb.Helper()
	ctx := context.Background()
	path = filepath.Join(tb.TempDir(), "costbot.db")
	raw, err := store.OpenRawForTest(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer raw.Close()
	for _, name := range []string{"0001_usage.sql", "0002_alerts.sql", "0003_judged.sql"} {
		script, err := store.MigrationForTest(name)
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := raw.ExecContext(ctx, script); err != nil {
			tb.Fatalf("apply %s: %v", name, err)
		}
	}
	if _, err := raw.ExecContext(ctx, "PRAGMA user_version = 3"); err != nil {
		tb.Fatal(err)
	}
	body, err := store.EncodeFindingForTest(f)
	if err != nil {
		tb.Fatal(err)
	}
	fp, ts := alert.Fingerprint(f), at.UTC().Format(time.RFC3339Nano)
	if _, err := raw.ExecContext(ctx, `INSERT INTO alerts (fingerprint, group_key, kind, rule, account, family,
			service, zone, period_start, period_end, threshold, severity, status, reason, episode, starts_at, ends_at,
			updated_at, finding) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		fp, alert.Group(f), f.Kind.String(), f.Rule, f.Scope.Account, f.Scope.Family, f.Scope.Service, f.Scope.Zone,
		f.Period.Start.Format(time.RFC3339Nano), f.Period.End.Format(time.RFC3339Nano), f.Threshold, f.Severity.String(),
		"firing", "first", 1, ts, "", ts, body); err != nil {
		tb.Fatal(err)
	}
	if _, err := raw.ExecContext(ctx, `INSERT INTO sends (fingerprint, episode, notifier, status, first_sent_at,
			sent_at, channel, ts) VALUES (?, 1, 'slack', 'firing', ?, ?, 'C1', '1.1')`, fp, ts, ts); err != nil {
		tb.Fatal(err)
	}
	if _, err := raw.ExecContext(ctx, `INSERT INTO actions (fingerprint, kind, user_name, at, until, series)
			VALUES (?, 'expected', 'U1', ?, '', ?)`, fp, ts, "production/R2 Storage"); err != nil {
		tb.Fatal(err)
	}
	return path, fp
}

func TestDB_RekeyAlerts(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 10, 8, 0, 0, 0, time.UTC)
	byID := cost.Finding{Kind: cost.KindAnomaly, Rule: "spikes", Scope: cost.Scope{Account: acct, Service: "R2 Storage"},
		Period: cost.Period{Start: day(2026, 11, 9), End: day(2026, 11, 10)}, Threshold: "score>=0.9",
		Severity: cost.SeverityWarning, Title: "R2 spiked"}
	byName := byID
	byName.Scope.Account = "production"
	sqliteOnly(t) // a state file an older costbot (SQLite only) wrote
	path, oldFP := oldStateFile(t, byName, t0)

	db := mustOpen(t, path) // migrates to the current schema
	if v, err := db.SchemaVersion(ctx); err != nil || v != 7 {
		t.Fatalf("SchemaVersion = %d, %v; want 7", v, err)
	}
	ids := map[string]string{"production": acct, "staging": "fedcba9876543210fedcba9876543210"}
	n, err := db.RekeyAlerts(ctx, ids)
	if err != nil || n != 1 {
		t.Fatalf("RekeyAlerts = %d, %v; want 1", n, err)
	}
	newFP := alert.Fingerprint(byID)
	snap, err := db.AlertSnapshot(ctx, alert.Groups([]cost.Finding{byID}))
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Alerts) != 1 {
		t.Fatalf("alerts after rekey = %+v, want one", snap.Alerts)
	}
	st := snap.Alerts[0]
	if st.Fingerprint != newFP || st.Group != alert.Group(byID) || st.Status != alert.StatusFiring || st.Episode != 1 ||
		!st.StartsAt.Equal(t0) || st.Finding.Scope != (cost.Scope{Account: acct, AccountName: "production", Service: "R2 Storage"}) {
		t.Errorf("alert after rekey = %+v", st)
	}
	if len(snap.Sends) != 1 || snap.Sends[0].Fingerprint != newFP || snap.Sends[0].TS != "1.1" {
		t.Errorf("sends after rekey = %+v, want the firing send moved", snap.Sends)
	}
	if len(snap.Actions) != 1 || snap.Actions[0].Fingerprint != newFP || snap.Actions[0].Series != acct+"/R2 Storage" {
		t.Errorf("actions after rekey = %+v, want the mark moved to the id's series", snap.Actions)
	}
	if _, err := db.Alert(ctx, oldFP); err == nil {
		t.Error("the name-keyed alert is still stored")
	}
	// Idempotent.
	if n, err := db.RekeyAlerts(ctx, ids); err != nil || n != 0 {
		t.Errorf("second RekeyAlerts = %d, %v; want 0", n, err)
	}
}

func TestDB_AlertSnapshot(t *testing.T) {
	ctx := context.Background()
	db, _ := tempDB(t)
	t0 := time.Date(2026, 11, 10, 8, 0, 0, 0, time.UTC)
	mk := func(rule string, status alert.Status) alert.State {
		f := cost.Finding{Kind: cost.KindBudget, Rule: rule, Scope: cost.Scope{Account: acct}, Period: nov(), Threshold: "actual>=80%"}
		return alert.State{Fingerprint: alert.Fingerprint(f), Group: alert.Group(f), Finding: f, Status: status,
			Reason: alert.ReasonFirst, Episode: 1, StartsAt: t0, UpdatedAt: t0}
	}
	firing, closed, other := mk("firing", alert.StatusFiring), mk("closed", alert.StatusClosed), mk("other", alert.StatusClosed)
	if err := db.SaveAlerts(ctx, []alert.State{firing, closed, other}); err != nil {
		t.Fatal(err)
	}
	if err := db.RecordSend(ctx, alert.Send{Fingerprint: firing.Fingerprint, Notifier: "slack", Status: cost.StatusFiring, SentAt: t0}); err != nil {
		t.Fatal(err)
	}
	if err := db.AddAction(ctx, alert.Action{Fingerprint: firing.Fingerprint, Kind: alert.ActionAck, At: t0}); err != nil {
		t.Fatal(err)
	}
	snap, err := db.AlertSnapshot(ctx, []string{closed.Group})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, st := range snap.Alerts {
		got = append(got, st.Finding.Rule)
	}
	slices.Sort(got)
	if want := []string{"closed", "firing"}; !slices.Equal(got, want) || len(snap.Sends) != 1 || len(snap.Actions) != 1 {
		t.Errorf("snapshot = %v with %d sends, %d actions; want %v with 1 and 1", got, len(snap.Sends), len(snap.Actions), want)
	}
}

func TestDB_LatestRecordedAndCopyTo(t *testing.T) {
	ctx := context.Background()
	db, _ := tempDB(t)
	if got, err := db.LatestRecorded(ctx); err != nil || !got.IsZero() {
		t.Fatalf("LatestRecorded(empty) = %v, %v; want zero", got, err)
	}
	t0 := time.Date(2026, 11, 10, 8, 0, 0, 0, time.UTC)
	f := cost.Finding{Kind: cost.KindBudget, Rule: "r", Scope: cost.Scope{Account: acct}, Period: nov(), Threshold: "actual>=80%"}
	st := alert.State{Fingerprint: alert.Fingerprint(f), Group: alert.Group(f), Finding: f, Status: alert.StatusFiring,
		Episode: 1, StartsAt: t0, UpdatedAt: t0.Add(time.Hour)}
	if err := db.SaveAlerts(ctx, []alert.State{st}); err != nil {
		t.Fatal(err)
	}
	if err := db.RecordSend(ctx, alert.Send{Fingerprint: st.Fingerprint, Notifier: "slack", Status: cost.StatusFiring, SentAt: t0.Add(2 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if got, err := db.LatestRecorded(ctx); err != nil || !got.Equal(t0.Add(2*time.Hour)) {
		t.Errorf("LatestRecorded = %v, %v; want %v", got, err, t0.Add(2*time.Hour))
	}
	dst := filepath.Join(t.TempDir(), "copy.db")
	if err := db.CopyTo(ctx, dst); err != nil {
		t.Fatal(err)
	}
	cp, err := store.Open(ctx, dst) // a SQLite file, from either backend
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	if got, err := cp.Alert(ctx, st.Fingerprint); err != nil || got.Status != alert.StatusFiring {
		t.Errorf("copy: Alert = %+v, %v", got, err)
	}
}
