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

// TestDB_SaveFetch: a fetch whose rows are stored already logs the fetch
// (range, rows, ok) and stores the card as SaveSnapshot would, leaving the
// rows alone; LastFullFetch finds the last good fetch of at least n days.
func TestDB_SaveFetch(t *testing.T) {
	ctx := context.Background()
	db, _ := tempDB(t)
	d0 := day(2026, 11, 1)
	var rows []cost.Usage
	for d := range 10 {
		rows = append(rows, cost.Usage{Service: "Workers", Day: d0.AddDate(0, 0, d), Cost: float64(d), CostKnown: true, Currency: "USD"})
	}
	acct := cost.Account{ID: "a"}
	full := cost.Snapshot{Account: acct, Usage: rows, Range: cost.Period{Start: d0, End: d0.AddDate(0, 0, 10)}, FetchedAt: d0.AddDate(0, 0, 10)}
	if err := db.SaveSnapshot(ctx, full); err != nil {
		t.Fatal(err)
	}
	at := d0.AddDate(0, 0, 10).Add(time.Hour)
	card := &cost.Card{ExpiryMonth: 3, ExpiryYear: 2027, Masked: "**42"}
	short := cost.Snapshot{Account: acct, Usage: rows[7:], Range: cost.Period{Start: d0.AddDate(0, 0, 7), End: d0.AddDate(0, 0, 10)},
		FetchedAt: at, Card: card}
	if err := db.SaveFetch(ctx, short); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveFetch(ctx, cost.Snapshot{}); err == nil {
		t.Error("SaveFetch without an account: no error")
	}
	f, err := db.LastFetch(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if !f.OK || !f.At.Equal(at) || f.Rows != 3 || f.Range != short.Range {
		t.Errorf("last fetch = %+v, want ok at %s, 3 rows, range %s", f, at, short.Range)
	}
	got, err := db.UsageOf(ctx, "a", d0, d0.AddDate(0, 0, 10))
	if err != nil || len(got) != 10 {
		t.Fatalf("UsageOf = %d rows, %v; want the 10 stored", len(got), err)
	}
	cards, err := db.Cards(ctx)
	if err != nil || len(cards) != 1 || cards[0].Masked != "**42" {
		t.Errorf("cards = %+v, %v; want the fetch's", cards, err)
	}
	for _, tt := range []struct {
		days int
		want time.Time
	}{{3, at}, {10, full.FetchedAt}, {11, time.Time{}}} {
		got, err := db.LastFullFetch(ctx, "a", tt.days)
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("LastFullFetch(%d) = %s, %v; want %s", tt.days, got, err, tt.want)
		}
	}
}
