package detect

import (
	"math"
	"slices"
	"testing"
)

// TestKey checks that key orders values as < does and that unkey inverts it.
func TestKey(t *testing.T) {
	vs := []float64{math.Inf(-1), -math.MaxFloat64, -1e300, -2.5, -1, -math.SmallestNonzeroFloat64, math.Copysign(0, -1), 0,
		math.SmallestNonzeroFloat64, 1e-300, 1, 2.5, 1e300, math.MaxFloat64, math.Inf(1)}
	for i, a := range vs {
		if got := unkey(key(a)); math.Float64bits(got) != math.Float64bits(a) {
			t.Errorf("unkey(key(%v)) = %v", a, got)
		}
		for _, b := range vs[i+1:] {
			if key(a) >= key(b) {
				t.Errorf("key(%v) >= key(%v)", a, b)
			}
		}
	}
}

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
			var ring [6]int64
			for i := range ring {
				ring[i] = key(math.Inf(1))
				if i < m {
					ring[i] = key(r[i] - 2.5) // negative values too
				}
			}
			s := slices.Clone(r[:m])
			for i := range s {
				s[i] -= 2.5
			}
			slices.Sort(s)
			want := s[m/2]
			if m%2 == 0 {
				want = (s[m/2-1] + s[m/2]) / 2
			}
			if got := median6(&ring, m); got != want {
				t.Fatalf("median6(%v, %d) = %v, want %v", r, m, got, want)
			}
		}
	}
}
