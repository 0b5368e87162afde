package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/costbot/costbot/internal/cost"
	"github.com/costbot/costbot/internal/store"
)

// twins are two rows of one key (account, day, family, service, zone,
// correction) that differ in their unit: the read order keeps them in the
// order they were saved.
func twins() []cost.Usage {
	u := cost.Usage{Account: acct, Service: "Workers CPU", Family: "Workers", Day: day(2026, 11, 2),
		BillingPeriod: nov(), Cost: 1, CostKnown: true, Currency: "USD", Quantity: 1, Unit: "requests"}
	v := u
	v.Unit, v.Cost = "GB-s", 2
	return []cost.Usage{v, u} // not in unit order
}

// TestDB_SaveSnapshot_EqualKeys: rows of one key read back in the order
// saved, and a row added later to that key reads after them, as SQLite's
// rowid ordered them before the table was clustered.
func TestDB_SaveSnapshot_EqualKeys(t *testing.T) {
	ctx := context.Background()
	db, _ := tempDB(t)
	rng := cost.Period{Start: day(2026, 11, 1), End: day(2026, 11, 4)}
	in := append(sampleUsage(), twins()...)
	if err := db.SaveSnapshot(ctx, cost.Snapshot{Account: cost.Account{ID: acct}, Range: rng, Usage: in}); err != nil {
		t.Fatal(err)
	}
	got, err := db.UsageOf(ctx, acct, day(2026, 11, 2), day(2026, 11, 3))
	if err != nil {
		t.Fatal(err)
	}
	var mine []cost.Usage
	for _, u := range got {
		if u.Service == "Workers CPU" {
			mine = append(mine, u)
		}
	}
	tw := twins()
	if !reflect.DeepEqual(mine, tw) {
		t.Fatalf("equal keys read as\n%+v\nwant the saved order\n%+v", mine, tw)
	}
	// The next fetch of that day keeps both and adds a third of the key.
	third := tw[0]
	third.Unit, third.Cost = "ms", 3
	again := append(append(sampleUsage(), third), twins()...)
	if err := db.SaveSnapshot(ctx, cost.Snapshot{Account: cost.Account{ID: acct}, Range: rng, Usage: again}); err != nil {
		t.Fatal(err)
	}
	got, _ = db.UsageOf(ctx, acct, day(2026, 11, 2), day(2026, 11, 3))
	mine = mine[:0]
	for _, u := range got {
		if u.Service == "Workers CPU" {
			mine = append(mine, u)
		}
	}
	if want := append(twins(), third); !reflect.DeepEqual(mine, want) {
		t.Errorf("after a re-fetch, equal keys read as\n%+v\nwant the stored ones, then the new one\n%+v", mine, want)
	}
}

// TestDB_Open_MigratesUsage: a state file of schema 6 (usage rows in a
// rowid table with two indexes) migrates to the clustered table with every
// row, read in the same order as before: by key, equal keys by rowid.
func TestDB_Open_MigratesUsage(t *testing.T) {
	sqliteOnly(t) // a state file an older costbot (SQLite only) wrote
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "costbot.db")
	raw, err := store.OpenRawForTest(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"0001_usage.sql", "0002_alerts.sql", "0003_judged.sql", "0004_alert_why.sql",
		"0005_silences.sql", "0006_outbox.sql"} {
		script, err := store.MigrationForTest(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := raw.ExecContext(ctx, script); err != nil {
			t.Fatalf("apply %s: %v", name, err)
		}
	}
	if _, err := raw.ExecContext(ctx, "PRAGMA user_version = 6"); err != nil {
		t.Fatal(err)
	}
	// Saved in an order that is not the key's (the twins too: rowid gives
	// them the order "requests", "GB-s"), as the
	// release before this one inserted them.
	rows := append(sampleUsage(), twins()...)
	for i := len(rows) - 1; i >= 0; i-- {
		u := rows[i]
		if _, err := raw.ExecContext(ctx, `INSERT INTO usage (account, service, family, zone, day, period_start,
			period_end, cost, cost_known, currency, quantity, unit, correction) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			acct, u.Service, u.Family, u.Zone, u.Day.UnixMilli(), u.BillingPeriod.Start.UnixMilli(),
			u.BillingPeriod.End.UnixMilli(), u.Cost, u.CostKnown, u.Currency, u.Quantity, u.Unit, u.Correction); err != nil {
			t.Fatal(err)
		}
	}
	var before []string
	q, err := raw.QueryContext(ctx, `SELECT service, family, zone, day, unit FROM usage
		ORDER BY account, day, family, service, zone, correction, rowid`)
	if err != nil {
		t.Fatal(err)
	}
	for q.Next() {
		var s, f, z, unit string
		var d int64
		if err := q.Scan(&s, &f, &z, &d, &unit); err != nil {
			t.Fatal(err)
		}
		before = append(before, fmt.Sprint(s, f, z, d, unit))
	}
	q.Close()
	raw.Close()

	db := mustOpen(t, path)
	if v, err := db.SchemaVersion(ctx); err != nil || v != 7 {
		t.Fatalf("SchemaVersion = %d, %v; want 7", v, err)
	}
	got, err := db.Usage(ctx, day(2026, 1, 1), day(2027, 1, 1))
	if err != nil {
		t.Fatal(err)
	}
	var after []string
	for _, u := range got {
		after = append(after, fmt.Sprint(u.Service, u.Family, u.Zone, u.Day.UnixMilli(), u.Unit))
	}
	if len(before) != len(rows) || !reflect.DeepEqual(after, before) {
		t.Errorf("after the migration rows read as\n%q\nbefore\n%q", after, before)
	}
	// New rows go after the migrated ones of their key.
	third := twins()[0]
	third.Unit = "ms"
	if err := db.SaveSnapshot(ctx, cost.Snapshot{Account: cost.Account{ID: acct},
		Range: cost.Period{Start: day(2026, 11, 1), End: day(2026, 11, 4)}, Usage: append(rows, third)}); err != nil {
		t.Fatal(err)
	}
	got, _ = db.Usage(ctx, day(2026, 1, 1), day(2027, 1, 1))
	if len(got) != len(rows)+1 {
		t.Fatalf("after a save: %d rows, want %d", len(got), len(rows)+1)
	}
	var units []string
	for _, u := range got {
		if u.Service == third.Service && u.Day.Equal(third.Day) {
			units = append(units, u.Unit)
		}
	}
	if want := []string{"requests", "GB-s", "ms"}; !reflect.DeepEqual(units, want) {
		t.Errorf("units of the key = %q, want %q (migrated in rowid order, then the new row)", units, want)
	}
}
