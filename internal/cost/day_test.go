package cost

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestDay: Day is the same Time value (==, so map keys agree) as
// time.Date's UTC midnight of the UTC calendar day, for instants in any
// zone, before 1970, with a monotonic reading, and at the edges of a day.
func TestDay(t *testing.T) {
	ref := func(t time.Time) time.Time {
		t = t.UTC()
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	}
	tokyo := time.FixedZone("JST", 9*3600)
	samoa := time.FixedZone("WST", -11*3600)
	cases := []time.Time{
		time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 12, 3, 23, 59, 59, 999999999, time.UTC),
		time.Date(2026, 12, 3, 8, 59, 59, 0, tokyo), // 2 Dec in UTC
		time.Date(2026, 12, 3, 13, 0, 0, 0, samoa),  // 4 Dec in UTC
		time.Date(1969, 12, 31, 23, 59, 59, 1, time.UTC),
		time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC),
		time.Date(1, 1, 1, 12, 0, 0, 0, time.UTC),
		time.Date(2024, 2, 29, 12, 0, 0, 0, time.UTC),
		time.Now(),
		{},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		cases = append(cases, time.Unix(rng.Int64N(1<<36)-1<<35, rng.Int64N(1e9)).In(samoa))
	}
	for _, c := range cases {
		if got, want := Day(c), ref(c); got != want {
			t.Fatalf("Day(%v) = %#v, want %#v", c, got, want)
		}
	}
}

func BenchmarkDay(b *testing.B) {
	t := time.Date(2026, 12, 3, 17, 4, 5, 6, time.UTC)
	var sink time.Time
	for i := 0; b.Loop(); i++ {
		sink = Day(t.Add(time.Duration(i) * time.Hour))
	}
	_ = sink
}

// BenchmarkDay_Date is the baseline: the time.Date way Day used to take.
func BenchmarkDay_Date(b *testing.B) {
	t := time.Date(2026, 12, 3, 17, 4, 5, 6, time.UTC)
	var sink time.Time
	for i := 0; b.Loop(); i++ {
		u := t.Add(time.Duration(i) * time.Hour).UTC()
		sink = time.Date(u.Year(), u.Month(), u.Day(), 0, 0, 0, 0, time.UTC)
	}
	_ = sink
}
