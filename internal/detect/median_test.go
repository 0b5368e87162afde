package detect

import (
	"math"
	"slices"
	"testing"
)

// TestMedian6 checks the sorting network against a sorted copy for every
// assignment of the values 0..5 (with repeats) to the six slots and every
// fill of 3..6 slots (the others +Inf, as New leaves them).
func TestMedian6(t *testing.T) {
	var r [6]float64
	for code := range 46656 { // 6^6
		c := code
		for i := range r {
			r[i] = float64(c % 6)
			c /= 6
		}
		for m := 3; m <= 6; m++ {
			ring := r
			for i := m; i < 6; i++ {
				ring[i] = math.Inf(1)
			}
			s := slices.Clone(ring[:m])
			slices.Sort(s)
			want := s[m/2]
			if m%2 == 0 {
				want = (s[m/2-1] + s[m/2]) / 2
			}
			if got := median6(&ring, m); got != want {
				t.Fatalf("median6(%v, %d) = %v, want %v", ring, m, got, want)
			}
		}
	}
}
