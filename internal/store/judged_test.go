package store_test

import (
	"context"
	"maps"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/costbot/costbot/internal/cost"
	"github.com/costbot/costbot/internal/rules"
	"github.com/costbot/costbot/internal/store"
)

// TestDB_Judged_Keys: judged keys join rule and series with a NUL
// (rules.JudgedKey); they round-trip on both backends (PostgreSQL's text
// holds no NUL) and through a copy, backslashes and all.
func TestDB_Judged_Keys(t *testing.T) {
	ctx := context.Background()
	db, _ := tempDB(t)
	through := day(2026, 11, 20)
	keys := []string{
		rules.JudgedKey("service-spikes", cost.SeriesKey{Account: acct, Service: "D1 Rows Read"}),
		rules.JudgedKey(`odd\rule`, cost.SeriesKey{Account: acct, Service: `C:\0 path\\`}),
		"plain",
	}
	js := map[string]rules.Judged{}
	for i, k := range keys {
		js[k] = rules.Judged{Through: through, Values: map[time.Time]float64{through: float64(i)},
			Reported: map[time.Time]time.Time{}, Summarized: map[time.Time]time.Time{}}
	}
	if err := db.SaveJudged(ctx, js); err != nil {
		t.Fatal(err)
	}
	check := func(what string, db *store.DB) {
		t.Helper()
		got, err := db.Judged(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if g, w := slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(js)); !slices.Equal(g, w) {
			t.Fatalf("%s: keys %q, want %q", what, g, w)
		}
		for i, k := range keys {
			if v := got[k].Values[through]; v != float64(i) {
				t.Errorf("%s: %q value %v, want %d", what, k, v, i)
			}
		}
	}
	check("state", db)
	dst := filepath.Join(t.TempDir(), "copy.db")
	if err := db.CopyTo(ctx, dst); err != nil {
		t.Fatal(err)
	}
	cp, err := store.Open(ctx, dst)
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	check("copy", cp)
}
