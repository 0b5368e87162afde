package store_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/costbot/costbot/internal/cost"
	"github.com/costbot/costbot/internal/store"
)

func TestDB_UsageOf(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	day := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for _, acct := range []string{"a", "b"} {
		var rows []cost.Usage
		for d := 0; d < 10; d++ {
			rows = append(rows, cost.Usage{Service: "Workers", Day: day.AddDate(0, 0, d), Cost: float64(d), CostKnown: true, Currency: "USD"})
		}
		snap := cost.Snapshot{Account: cost.Account{ID: acct}, Usage: rows, Range: cost.Period{Start: day, End: day.AddDate(0, 0, 10)}, FetchedAt: day.AddDate(0, 0, 10)}
		if err := db.SaveSnapshot(ctx, snap); err != nil {
			t.Fatal(err)
		}
	}
	all, err := db.Usage(ctx, day.AddDate(0, 0, 2), day.AddDate(0, 0, 5))
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.UsageOf(ctx, "b", day.AddDate(0, 0, 2), day.AddDate(0, 0, 5))
	if err != nil {
		t.Fatal(err)
	}
	var want []cost.Usage
	for _, u := range all {
		if u.Account == "b" {
			want = append(want, u)
		}
	}
	if len(got) != 3 || len(want) != 3 {
		t.Fatalf("UsageOf(b, days 2..4) = %d rows, Usage filtered = %d; want 3", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("row %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}
