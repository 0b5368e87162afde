package detect

import (
	"testing"
	"time"
)

func TestDaysIn(t *testing.T) {
	for y := -401; y <= 2401; y++ {
		for m := 1; m <= 12; m++ {
			if got, want := daysIn(y, m), time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day(); got != want {
				t.Fatalf("daysIn(%d, %d) = %d, want %d", y, m, got, want)
			}
		}
	}
}
