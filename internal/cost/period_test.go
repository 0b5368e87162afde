package cost_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/costbot/costbot/internal/cost"
)

func d(s string) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t
}

// TestBillingPeriod is a table of real invoice periods: anchors 1, 15, 28,
// 29, 30 and 31 across month ends, February in 2026, 2024 and 2028 (leap
// years), 2100 (not a leap year), and days on a period boundary.
func TestBillingPeriod(t *testing.T) {
	tests := []struct {
		day        string
		anchor     int
		start, end string
	}{
		{"2026-01-01", 1, "2026-01-01", "2026-02-01"},
		{"2026-01-31", 1, "2026-01-01", "2026-02-01"},
		{"2026-12-31", 1, "2026-12-01", "2027-01-01"},
		{"2026-03-14", 15, "2026-02-15", "2026-03-15"},
		{"2026-03-15", 15, "2026-03-15", "2026-04-15"},
		{"2026-01-10", 15, "2025-12-15", "2026-01-15"},
		{"2026-02-28", 28, "2026-02-28", "2026-03-28"},
		{"2026-02-27", 28, "2026-01-28", "2026-02-28"},
		{"2024-02-29", 28, "2024-02-28", "2024-03-28"},
		// Anchor 29.
		{"2026-02-28", 29, "2026-02-28", "2026-03-29"},
		{"2026-02-27", 29, "2026-01-29", "2026-02-28"},
		{"2026-03-28", 29, "2026-02-28", "2026-03-29"},
		{"2026-03-29", 29, "2026-03-29", "2026-04-29"},
		{"2024-02-28", 29, "2024-01-29", "2024-02-29"},
		{"2024-02-29", 29, "2024-02-29", "2024-03-29"},
		{"2028-02-29", 29, "2028-02-29", "2028-03-29"},
		{"2100-02-28", 29, "2100-02-28", "2100-03-29"},
		// Anchor 30.
		{"2026-01-30", 30, "2026-01-30", "2026-02-28"},
		{"2026-02-28", 30, "2026-02-28", "2026-03-30"},
		{"2026-03-29", 30, "2026-02-28", "2026-03-30"},
		{"2026-05-30", 30, "2026-05-30", "2026-06-30"},
		{"2024-02-29", 30, "2024-02-29", "2024-03-30"},
		{"2024-02-28", 30, "2024-01-30", "2024-02-29"},
		// Anchor 31: Jan 31 - Feb 28, Feb 28 - Mar 31, Mar 31 - Apr 30,
		// Apr 30 - May 31, and the year end.
		{"2026-02-01", 31, "2026-01-31", "2026-02-28"},
		{"2026-02-27", 31, "2026-01-31", "2026-02-28"},
		{"2026-02-28", 31, "2026-02-28", "2026-03-31"},
		{"2026-03-30", 31, "2026-02-28", "2026-03-31"},
		{"2026-03-31", 31, "2026-03-31", "2026-04-30"},
		{"2026-04-29", 31, "2026-03-31", "2026-04-30"},
		{"2026-04-30", 31, "2026-04-30", "2026-05-31"},
		{"2026-05-31", 31, "2026-05-31", "2026-06-30"},
		{"2026-06-30", 31, "2026-06-30", "2026-07-31"},
		{"2026-08-15", 31, "2026-07-31", "2026-08-31"},
		{"2026-12-31", 31, "2026-12-31", "2027-01-31"},
		{"2027-01-15", 31, "2026-12-31", "2027-01-31"},
		{"2024-02-28", 31, "2024-01-31", "2024-02-29"},
		{"2024-02-29", 31, "2024-02-29", "2024-03-31"},
		{"2028-02-29", 31, "2028-02-29", "2028-03-31"},
		{"2028-03-01", 31, "2028-02-29", "2028-03-31"},
		// Out-of-range anchors clamp to 1..31.
		{"2026-02-28", 40, "2026-02-28", "2026-03-31"},
		{"2026-02-28", 0, "2026-02-01", "2026-03-01"},
	}
	for _, tt := range tests {
		t.Run(tt.day+"/anchor"+strconv.Itoa(tt.anchor), func(t *testing.T) {
			// Any time of day (and any zone) on that UTC day gives the same period.
			at := d(tt.day).Add(23*time.Hour + 59*time.Minute)
			got := cost.BillingPeriod(at, tt.anchor)
			want := cost.Period{Start: d(tt.start), End: d(tt.end)}
			if !got.Start.Equal(want.Start) || !got.End.Equal(want.End) {
				t.Fatalf("BillingPeriod(%s, %d) = %s, want %s", tt.day, tt.anchor, got, want)
			}
			if !got.Contains(d(tt.day)) {
				t.Errorf("%s does not contain %s", got, tt.day)
			}
			// The next period starts where this one ends.
			next := cost.BillingPeriod(got.End, tt.anchor)
			if !next.Start.Equal(got.End) {
				t.Errorf("next period %s does not start at %s", next, got.End)
			}
			if a := max(1, min(tt.anchor, 31)); cost.AnchorDayOf(got) != a {
				t.Errorf("AnchorDayOf(%s) = %d, want %d", got, cost.AnchorDayOf(got), a)
			}
		})
	}
}

// TestBillingPeriod_Chain walks four years of periods for every anchor: each
// period ends where the next starts, lasts 28 to 31 days, and starts on the
// anchor day or, when the month is shorter, on its last day.
func TestBillingPeriod_Chain(t *testing.T) {
	for anchor := 1; anchor <= 31; anchor++ {
		p := cost.BillingPeriod(d("2024-01-01"), anchor)
		for range 48 {
			next := cost.BillingPeriod(p.End, anchor)
			if !next.Start.Equal(p.End) {
				t.Fatalf("anchor %d: %s followed by %s", anchor, p, next)
			}
			if n := p.Days(); n < 28 || n > 31 {
				t.Fatalf("anchor %d: %s has %d days", anchor, p, n)
			}
			last := time.Date(p.Start.Year(), p.Start.Month()+1, 0, 0, 0, 0, 0, time.UTC).Day()
			if want := min(anchor, last); p.Start.Day() != want {
				t.Fatalf("anchor %d: %s starts on day %d, want %d", anchor, p, p.Start.Day(), want)
			}
			p = next
		}
	}
}

func TestAnchorDayOf(t *testing.T) {
	if got := cost.AnchorDayOf(cost.Period{}); got != 0 {
		t.Errorf("AnchorDayOf(zero) = %d", got)
	}
}
