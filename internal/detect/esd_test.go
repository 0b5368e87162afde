package detect

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestESDStrength_MatchesExact compares esdStrength with esdExact, the test
// as it ran before its sums changed order, on rings of residuals of several
// shapes: the same outlier verdict and a strength within 1e-10 relative,
// times 1 + mean^2/variance of the window: both take the variance as
// mean(x^2) - mean(x)^2, which loses that factor to rounding whatever the
// order of the additions.
func TestESDStrength_MatchesExact(t *testing.T) {
	shapes := []struct {
		name string
		gen  func(rng *rand.Rand) float64
	}{
		{"normal", func(rng *rand.Rand) float64 { return rng.NormFloat64() * 100 }},
		{"heavy tails", func(rng *rand.Rand) float64 {
			return rng.NormFloat64() / math.Max(rng.Float64(), 0.01)
		}},
		{"outliers", func(rng *rand.Rand) float64 {
			if rng.IntN(8) == 0 {
				return rng.NormFloat64() * 1e6
			}
			return rng.NormFloat64()
		}},
		{"cents (ties)", func(rng *rand.Rand) float64 { return float64(rng.IntN(7)-3) * 0.01 }},
		{"cents near 0.01", func(rng *rand.Rand) float64 {
			return []float64{0, 0.01, 0.009999999999999998, -0.01, 0.005000000000000001}[rng.IntN(5)]
		}},
		{"offset", func(rng *rand.Rand) float64 { return -41.9 + float64(rng.IntN(7))*0.01 }},
		{"constant", func(*rand.Rand) float64 { return 3 }},
	}
	for _, sh := range shapes {
		t.Run(sh.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			d, err := New(DefaultOptions())
			if err != nil {
				t.Fatal(err)
			}
			d.esdCnt = esdN - 1
			for range 20000 {
				for i := range esdN - 1 {
					d.esd[i] = sh.gen(rng)
				}
				r := sh.gen(rng)
				if rng.IntN(3) == 0 {
					r *= 1 + 5*rng.Float64() // a larger current residual
				}
				for _, needOut := range []bool{false, true} {
					got, gotOut := d.esdStrength(r, needOut)
					want, wantOut := d.esdExact(r, needOut)
					if gotOut != wantOut || math.Abs(got-want) > 1e-10*cond(d.esd[:esdN-1], r)*math.Max(got, want) {
						t.Fatalf("ring %v, r %v, needOut %v: %v %v, exact %v %v", d.esd[:esdN-1], r, needOut, got, gotOut, want, wantOut)
					}
				}
			}
		})
	}
}

// cond is 1 + mean^2/variance of ring and r, by two passes.
func cond(ring []float64, r float64) float64 {
	all := append(append([]float64(nil), ring...), r)
	var s float64
	for _, v := range all {
		s += v
	}
	mean := s / float64(len(all))
	var q float64
	for _, v := range all {
		q += (v - mean) * (v - mean)
	}
	if q == 0 {
		return 1
	}
	return 1 + mean*mean/(q/float64(len(all)))
}
