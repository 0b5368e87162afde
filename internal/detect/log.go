package detect

import "math"

// logOff places the log table's intervals so that 1 is in the middle of
// one (c = 1 there: no cancellation for ratios near 1, the common case).
const (
	logBits = 7
	logN    = 1 << logBits
	logOff  = 0x3fe6000000000000 - 1<<(52-logBits-1)
	ln2Hi   = 0x1.62e42fefa3800p-1 // ln 2 split so k*ln2Hi is exact for |k| < 2^11
	ln2Lo   = 0x1.ef35793c76730p-45
)

// logTab holds 1/c and log(c) for each of logN intervals of the reduced
// argument z in [2^-k x], c near the middle of the interval (c = 1 for
// the interval holding 1).
var logTab = func() (t [logN]struct{ invc, logc float64 }) {
	for i := range t {
		lo := math.Float64frombits(logOff + uint64(i)<<(52-logBits))
		hi := math.Float64frombits(logOff + uint64(i+1)<<(52-logBits))
		if lo <= 1 && 1 < hi {
			t[i].invc, t[i].logc = 1, 0
			continue
		}
		t[i].invc = 2 / (lo + hi)
		t[i].logc = -math.Log(t[i].invc)
	}
	return t
}()

// fastLog is the natural logarithm of x > 0, within 2 ulp of math.Log
// (TestFastLog), without a division: a table of 128 intervals and a
// degree-8 polynomial for log(1+r), |r| < 2^-8, after the exact reduction
// r = z/c - 1 (one fused multiply-add). Zero, subnormal, infinite and NaN
// arguments go to math.Log.
func fastLog(x float64) float64 {
	ix := math.Float64bits(x)
	if !logNormal(ix) {
		return math.Log(x) // zero, subnormal, negative, Inf or NaN
	}
	return logOf(ix)
}

// logNormal reports whether the float64 with bits ix is positive, finite
// and normal: fastLog's table and polynomial (logOf) cover it.
func logNormal(ix uint64) bool {
	return ix-0x0010000000000000 < 0x7ff0000000000000-0x0010000000000000
}

// logOf is fastLog of the positive normal float64 with bits ix, in parts
// small enough that Step inlines them: the table's interval and the exact
// reduction r = z/c - 1 (logReduce), then w = k ln 2 + log c, w + r + logPoly(r) (logJoin).
func logOf(ix uint64) float64 {
	return logJoin(logReduce(ix))
}

func logReduce(ix uint64) (r, kd, w float64) {
	tmp := ix - logOff
	e := &logTab[(tmp>>(52-logBits))%logN]
	kd = float64(int64(tmp) >> 52)
	return math.FMA(math.Float64frombits(ix-tmp&(0xfff<<52)), e.invc, -1), kd, kd*ln2Hi + e.logc
}

func logJoin(r, kd, w float64) float64 {
	hi := w + r
	return w - hi + r + kd*ln2Lo + logPoly(r) + hi
}

// logPoly is log(1+r) - r for |r| < 2^-8: r^2 (a + r^2 b + r^4 c) by
// Estrin's scheme, a short dependency chain, as z (and so every detector)
// waits for it.
func logPoly(r float64) float64 {
	r2 := r * r
	a := math.FMA(r, 1.0/3, -0.5)
	b := math.FMA(r, 0.2, -0.25)
	c := math.FMA(r2, -0.125, math.FMA(r, 1.0/7, -1.0/6))
	return r2 * math.FMA(r2*r2, c, math.FMA(r2, b, a))
}
