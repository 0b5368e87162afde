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
	if ix-0x0010000000000000 >= 0x7ff0000000000000-0x0010000000000000 {
		return math.Log(x) // zero, subnormal, negative, Inf or NaN
	}
	tmp := ix - logOff
	i := (tmp >> (52 - logBits)) % logN
	k := int64(tmp) >> 52
	z := math.Float64frombits(ix - tmp&(0xfff<<52))
	e := &logTab[i]
	r := math.FMA(z, e.invc, -1)
	kd := float64(k)
	w := kd*ln2Hi + e.logc
	hi := w + r
	lo := w - hi + r + kd*ln2Lo
	// log(1+r) - r = r^2 (a + r^2 b + r^4 c), Estrin's scheme: a short
	// dependency chain, as z (and so every detector) waits for it
	r2 := r * r
	a := math.FMA(r, 1.0/3, -0.5)
	b := math.FMA(r, 0.2, -0.25)
	c := math.FMA(r2, -0.125, math.FMA(r, 1.0/7, -1.0/6))
	q := math.FMA(r2*r2, c, math.FMA(r2, b, a))
	return lo + r2*q + hi
}
