package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/costbot/costbot/internal/cost"
	"github.com/costbot/costbot/internal/cputime"
)

// benchData is 10 accounts × 8 services × 400 days.
func benchData() []cost.Snapshot {
	start := day(2025, 10, 1)
	rng := cost.Period{Start: start, End: start.AddDate(0, 0, 400)}
	snaps := make([]cost.Snapshot, 10)
	for a := range snaps {
		id := fmt.Sprintf("%032x", a)
		s := cost.Snapshot{Account: cost.Account{ID: id}, FetchedAt: rng.End, Range: rng}
		for d := range 400 {
			for svc := range 8 {
				s.Usage = append(s.Usage, cost.Usage{Account: id, Service: fmt.Sprintf("service-%d", svc),
					Family: "family", Day: start.AddDate(0, 0, d), BillingPeriod: nov(), Cost: float64(d*svc) / 7,
					CostKnown: true, Currency: "USD", Quantity: float64(d), Unit: "requests"})
			}
		}
		snaps[a] = s
	}
	return snaps
}

// BenchmarkSaveSnapshot re-saves all ten accounts (32,000 rows) per iteration.
func BenchmarkSaveSnapshot(b *testing.B) {
	ctx := context.Background()
	db, _ := tempDB(b)
	snaps := benchData()
	b.ReportAllocs()
	for b.Loop() {
		for _, s := range snaps {
			if err := db.SaveSnapshot(ctx, s); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/32000, "ns/row")
}

// BenchmarkUsage reads all 32,000 rows back per iteration.
func BenchmarkUsage(b *testing.B) {
	ctx := context.Background()
	db, _ := tempDB(b)
	snaps := benchData()
	for _, s := range snaps {
		if err := db.SaveSnapshot(ctx, s); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		got, err := db.Usage(ctx, snaps[0].Range.Start, snaps[0].Range.End)
		if err != nil || len(got) != 32000 {
			b.Fatalf("Usage = %d rows, %v", len(got), err)
		}
	}
}

// BenchmarkSaveSnapshot_New saves all ten accounts (32,000 rows) into an
// empty state file per iteration: the inserts of a first backfill. Besides
// wall time per row it reports cpu-ns/row, the process's CPU time per row
// (getrusage, the background checkpoints and GC included), which a busy
// machine does not inflate.
func BenchmarkSaveSnapshot_New(b *testing.B) {
	ctx := context.Background()
	snaps := benchData()
	b.ReportAllocs()
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		db, _ := tempDB(b)
		b.StartTimer()
		start := cputime.Process()
		for _, s := range snaps {
			if err := db.SaveSnapshot(ctx, s); err != nil {
				b.Fatal(err)
			}
		}
		cpu += cputime.Process() - start
		b.StopTimer()
		db.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/32000, "ns/row")
	if cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N)/32000, "cpu-ns/row")
	}
}
