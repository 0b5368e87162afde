package detect

import (
	"math"
	"math/rand/v2"
	"testing"
)

// ulps is the distance between a and b in units in the last place.
func ulps(a, b float64) int64 {
	d := int64(math.Float64bits(a)) - int64(math.Float64bits(b))
	if math.Signbit(a) != math.Signbit(b) {
		return math.MaxInt64
	}
	if d < 0 {
		d = -d
	}
	return d
}

// TestFastLog compares fastLog with math.Log: at most 2 ulp apart over
// ratios near 1 (where observed/expected mostly lies), wide ranges,
// powers of two, every table interval's edges and the special values.
func TestFastLog(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var xs []float64
	for range 2_000_000 {
		xs = append(xs, 1+(rng.Float64()-0.5)*0.02, math.Exp((rng.Float64()-0.5)*10), math.Exp((rng.Float64()-0.5)*1400))
	}
	for i := range logN + 1 {
		b := logOff + uint64(i)<<(52-logBits)
		for _, d := range []int64{-2, -1, 0, 1, 2} {
			xs = append(xs, math.Float64frombits(uint64(int64(b)+d)))
		}
	}
	for k := -1074; k <= 1023; k++ {
		xs = append(xs, math.Ldexp(1, k), math.Nextafter(math.Ldexp(1, k), 0), math.Nextafter(math.Ldexp(1, k), math.Inf(1)))
	}
	xs = append(xs, 1, math.Nextafter(1, 0), math.Nextafter(1, 2), math.MaxFloat64, math.SmallestNonzeroFloat64)
	var worst int64
	for _, x := range xs {
		got, want := fastLog(x), math.Log(x)
		if u := ulps(got, want); u > worst && !(got == 0 && want == 0) {
			worst = u
			if u > 2 {
				t.Errorf("fastLog(%v) = %v, math.Log %v: %d ulp", x, got, want, u)
			}
		}
	}
	for _, x := range []float64{0, -1, math.Inf(1), math.NaN()} {
		if got, want := fastLog(x), math.Log(x); math.Float64bits(got) != math.Float64bits(want) && !(math.IsNaN(got) && math.IsNaN(want)) {
			t.Errorf("fastLog(%v) = %v, want %v", x, got, want)
		}
	}
	t.Logf("worst: %d ulp over %d arguments", worst, len(xs))
}

func BenchmarkLog(b *testing.B) {
	xs := make([]float64, 1024)
	for i := range xs {
		xs[i] = 0.5 + float64(i)/512
	}
	b.Run("math", func(b *testing.B) {
		var s float64
		for i := range b.N {
			s += math.Log(xs[i&1023])
		}
		_ = s
	})
	b.Run("fast", func(b *testing.B) {
		var s float64
		for i := range b.N {
			s += fastLog(xs[i&1023])
		}
		_ = s
	})
}
