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

// TestPhaseRing checks the sorted keys and the median of a phase ring
// against a sorted copy of the last six values stored, after each store of
// every sequence of nine values from -1.5, -0.5, 0.5, 1.5 (with repeats)
// into a ring New leaves unfilled (+Inf).
func TestPhaseRing(t *testing.T) {
	var seq [9]float64
	for code := range 1 << (2 * len(seq)) { // 4^9 sequences
		c := code
		for i := range seq {
			seq[i] = float64(c%4) - 1.5
			c /= 4
		}
		inf := key(math.Inf(1))
		pr := phaseRing{ring: [6]int64{inf, inf, inf, inf, inf, inf}, srt: [6]int64{inf, inf, inf, inf, inf, inf}}
		for i, v := range seq {
			pr.add(key(v))
			m := min(i+1, 6)
			s := slices.Clone(seq[max(0, i+1-6) : i+1])
			slices.Sort(s)
			for j := range 6 {
				want := inf
				if j < m {
					want = key(s[j])
				}
				if pr.srt[j] != want {
					t.Fatalf("after storing %v: sorted keys %v, want %v at %d", seq[:i+1], pr.srt, want, j)
				}
			}
			if m < 3 {
				continue
			}
			want := s[m/2]
			if m%2 == 0 {
				want = (s[m/2-1] + s[m/2]) / 2
			}
			if got := pr.median(m); got != want {
				t.Fatalf("median after storing %v = %v, want %v", seq[:i+1], got, want)
			}
		}
	}
}

// TestMedian8 checks median8 against a sorted copy for every fill m of
// 1..8 and every assignment of -1.5..1.5 in steps of one to the eight
// slots (unfilled slots hold stale values, as the recent ring's do).
func TestMedian8(t *testing.T) {
	var r [recentN]float64
	for code := range 1 << (2 * recentN) { // 4^8
		c := code
		for i := range r {
			r[i] = float64(c%4) - 1.5
			c /= 4
		}
		for m := 1; m <= recentN; m++ {
			s := slices.Clone(r[:m])
			slices.Sort(s)
			want := s[m/2]
			if m%2 == 0 {
				want = (s[m/2-1] + s[m/2]) / 2
			}
			if got := median8(&r, m); got != want {
				t.Fatalf("median8(%v, %d) = %v, want %v", r, m, got, want)
			}
		}
	}
}
