package detect

import (
	"math"
	"sync"

	"gonum.org/v1/gonum/stat/distuv"
)

// thresholds are the documented detector thresholds behind a Sensitivity.
type thresholds struct {
	spikeZ   float64 // seasonal: |residual| in robust sigmas
	cusumH   float64 // cusum: decision interval h (k = 1), input clipped to ±4
	rampA    float64 // ramp: one-sided significance of the slope t-test
	rampRise float64 // ramp: minimum rise over the window, in robust sigmas
	esdA     float64 // esd: significance of Rosner's test
}

var sensitivityThresholds = map[Sensitivity]thresholds{
	// medium (the default) was "low" until the realistic held-out family
	// preferred it (F1 0.835 / 0.37 false alerts a series-year, against 0.830 /
	// 0.64 for the former medium, now high)
	SensitivityLow:    {spikeZ: 6, cusumH: 8, rampA: 1e-5, rampRise: 5, esdA: 0.005},
	SensitivityMedium: {spikeZ: 5, cusumH: 5, rampA: 1e-4, rampRise: 4, esdA: 0.01},
	SensitivityHigh:   {spikeZ: 4, cusumH: 4, rampA: 1e-3, rampRise: 3, esdA: 0.05},
}

const (
	cusumK      = 1.0  // cusum reference value, in sigmas
	cusumCur    = 1.5  // cusum counts only while the current point is >= 1.5 sigmas off
	cusumClip   = 4    // standardized residuals are clipped to ±4 before cusum and ramp
	outageRatio = 0.1  // observed <= 10% of expected is "near zero"
	outageZ     = 3    // and at least 3 robust sigmas below expected
	esdN        = 28   // esd window (points, including the current one)
	esdMaxOut   = 3    // esd: at most 3 outliers in the window
	esdPrefilt  = 2    // esd runs only when |z| >= 2 (it cannot fire below)
	esdAlone    = 0.9  // esd counts only when the seasonal strength is >= 0.9
	monthlyLo   = 28   // daily data: a deviation like one 28..31 days ago is a
	monthlyHi   = 31   // recurring monthly event (batch jobs), not an anomaly
	monthlyRel  = 0.25 // and rose by at least this share of the current relative rise
	lkShort     = 10   // likelihood: short window
	lkLog       = 3.5  // likelihood: -log10(tail) at the threshold
	recentN     = 8    // fallback baseline: median of the last 8 points
	episodeGap  = 3    // an episode ends after max(3, season) points in a row that are not anomalous
	sigmaToMAD  = 1.2533
	logK        = 1.3       // a rise's z is 1.3 x log(observed/expected) in robust log sigmas (tuning family)
	logFloor    = 0.005     // log sigma floor (0.5%)
	gateK       = 2.0       // a rise must clear MinImpact by this many robust sigmas
	gateLog     = 1.0       // and at its value this many robust log sigmas lower (tuning family)
	biasA       = 1.0 / 112 // cusum input is z minus its bias over ~16 weeks (warm-started)
	lowA        = 1.0 / 56  // rate of the near-zero share
	lowTail     = 0.002     // an outage needs a near-zero run this unlikely given the share
	interShare  = 0.05      // a series with this share of near-zero days is intermittent (see zeroDay)
	interTail   = 1e-4      // an intermittent series' outage needs a zero run this unlikely
	reOnset     = 2         // inside an episode, a point this much stronger than its peak after a quiet day is a new alert
	zRingN      = 8         // days of z kept to settle a day of the month's neighbours (see settle)
	domN        = 3         // occurrences of each day of the month kept for the monthly check
	monthlyAge  = 190       // days an occurrence of a day of the month counts (about six months)
)

// Detector judges one series point by point. Step costs O(K + season-free
// constants) and allocates nothing; memory is O(season).
type Detector struct {
	opts Options
	th   thresholds
	s    int // season
	k    int // history per phase

	phase  []float64   // s*k ring buffers of past values per phase (k != 6)
	pk     []phaseRing // k = 6: the rings as order keys, in arrival order and sorted
	pkBuf  [7]phaseRing
	phaseN []int     // values seen per phase
	phaseW []int     // next write position per phase ring (phaseN mod k; k != 6, see phaseRing)
	sorted []float64 // s*k: the same values per phase, sorted (first min(n,k) valid); none for k = 6 (pk)
	recent [recentN]float64
	nRec   int

	absDev  float64 // EWMA of clipped |residual|
	absUp   float64 // the same over positive residuals only (cost noise is skewed up)
	absLog  float64 // EWMA of clipped |log(observed/expected)| (multiplicative noise)
	nLog    int
	level   float64 // EWMA of |value|, for the sigma floor
	mean    float64 // EWMA of value
	disp    float64 // EWMA of |value-mean|, for the sigma floor
	nRes    int
	alphaLo float64 // 1/nLo
	nLo     int

	cp, cn float64 // cusum up / down
	bias   float64 // EWMA of clipped z over quiet points: the baseline's lag on a growing series
	nBias  int     // quiet points in bias
	lowP   float64 // EWMA share of near-zero points (intermittent services bill zero days)
	lowRun int     // near-zero points in a row
	neg    bool    // a negative value was seen (rebase then shifts instead of scaling)
	epPeak float64 // strongest detector strength of the current episode
	zRing  [zRingN]float64
	zRingP int
	pend   [2]int // days of the month marked one and two points ago (0: none; see settle)

	zMax, zDecay float64 // decaying max of |z| (novelty)

	lkBuf   [lkShort]float64 // backs lkWin
	lkWin   window           // mean of the last lkShort min(|z|/8, 1)
	lk      ewmv             // long-run mean and variance of min(|z|/8, 1)
	lkAlpha float64
	gap     int // points without anomaly that end an episode

	rampW          int
	ramp           []float64 // ring of clipped z
	rampPos, rampN int
	r0, r1, r2     float64 // sum y, sum j*y, sum y*y over the ring (j = age order)
	rampT          float64 // one-sided t critical value
	rampSx, rampSS float64 // sum j, sum (j-mean)^2

	esd    [esdN]float64 // ring of residuals
	esdPos int
	ratioV [3]float64 // last observed and expected values (see ratios)
	ratioE [3]float64
	nRatio int
	esdCnt int
	esdLam [esdMaxOut + 1]float64
	zHist  [monthlyHi + 1]float64 // ring of residuals (daily data only) ...
	zDen   [monthlyHi + 1]float64 // ... and what makes them relative (zHist/zDen)
	zsHist [monthlyHi + 1]float64 // ring of z (daily data only)
	// calendar of the next point when Options.Start is set (daily data)
	dom, mdays  int // day of month 1..31 (0 = unknown), days in its month
	month, year int
	domHist     [domN][32]domMark // last occurrences of each day of month, newest first
	zHistPos    int

	t        int // points stepped, including missing ones
	ph       int // phase of the next point: t mod s
	seen     int // non-missing points stepped
	since    int
	lastFlag int
	lastHeld int // last point a sustained shift held the episode open
	adapt    int
	flBuf    [14]float64 // ramp for the default season
	inBuf    [14]int     // phaseN and phaseW for seasons up to 7
}

// New returns a Detector for opts, or an error naming every invalid field.
func New(opts Options) (*Detector, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	s := opts.Season
	if s == 0 {
		s = 7
	}
	k := 6
	if s == 1 {
		k = 16
	}
	d := &Detector{opts: opts, th: sensitivityThresholds[opts.Sensitivity], s: s, k: k, since: -1}
	// one block for the float slices and one for the int ones
	d.rampW = min(2*max(s, 7), 512)
	ns := s * k // the rings and their sorted copies (pk holds them for k = 6)
	if k == 6 {
		ns = 0
		if s <= len(d.pkBuf) {
			d.pk = d.pkBuf[:s]
		} else {
			d.pk = make([]phaseRing, s)
		}
		inf := key(math.Inf(1)) // unfilled (see phaseRing)
		for i := range d.pk {
			d.pk[i].ring = [6]int64{inf, inf, inf, inf, inf, inf}
			d.pk[i].srt = d.pk[i].ring
		}
	}
	var fl []float64
	if ns == 0 && d.rampW <= len(d.flBuf) {
		fl = d.flBuf[:] // the default season: no allocation besides d
	} else {
		fl = make([]float64, 2*ns+d.rampW)
	}
	d.phase, fl = fl[:ns:ns], fl[ns:]
	d.sorted, fl = fl[:ns:ns], fl[ns:]
	d.ramp = fl[:d.rampW]
	var in []int
	if s <= len(d.inBuf)/2 {
		in = d.inBuf[:2*s]
	} else {
		in = make([]int, 2*s)
	}
	d.phaseN, d.phaseW = in[:s:s], in[s:]
	d.nLo = min(4*max(s, 7), 256)
	d.alphaLo = 1 / float64(d.nLo)
	d.adapt = max(s, 7)
	d.gap = EpisodeGap(s)
	d.zDecay = 1 - 1/float64(max(s, 28))
	d.lkAlpha = 1 / float64(max(4*s, 500))
	d.lkWin = window{buf: d.lkBuf[:]}
	d.ratioE = [3]float64{1, 1, 1} // 0/1: no ratio yet reads 0
	for i := range d.zDen {
		d.zDen[i] = 1
	}
	w := float64(d.rampW)
	d.rampSx = w * (w - 1) / 2
	d.rampSS = w * (w*w - 1) / 12
	c := criticalTable()[opts.Sensitivity]
	d.esdLam = c.esdLam
	if d.rampW == c.rampW {
		d.rampT = c.rampT
	} else {
		d.rampT = rampCritical(d.rampW, d.th.rampA)
	}
	if !opts.Start.IsZero() && s == 7 {
		st := opts.Start.UTC()
		d.dom, d.month, d.year = st.Day(), int(st.Month()), st.Year()
		d.mdays = daysIn(d.year, d.month)
	}
	return d, nil
}

type critical struct {
	esdLam [esdMaxOut + 1]float64
	rampW  int
	rampT  float64
}

// criticalTable holds the Student t critical values for each sensitivity,
// computed once: quantiles are too slow to compute per detector.
var criticalTable = sync.OnceValue(func() map[Sensitivity]critical {
	m := map[Sensitivity]critical{}
	for sens, th := range sensitivityThresholds {
		var c critical
		n := float64(esdN)
		for i := 1; i <= esdMaxOut; i++ {
			fi := float64(i)
			p := 1 - th.esdA/(2*(n-fi+1))
			tq := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: n - fi - 1}.Quantile(p)
			c.esdLam[i] = (n - fi) * tq / math.Sqrt((n-fi-1+tq*tq)*(n-fi+1))
		}
		c.rampW = 14
		c.rampT = rampCritical(c.rampW, th.rampA)
		m[sens] = c
	}
	return m
})

// rampCritical is the one-sided t critical value of an OLS slope over w points.
func rampCritical(w int, alpha float64) float64 {
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(w - 2)}.Quantile(1 - alpha)
}

// nextDay advances the calendar by one day.
func (d *Detector) nextDay() {
	if d.dom != 0 {
		d.nextDom()
	}
}

// nextDom is nextDay's work, kept out of line so nextDay inlines.
//
//go:noinline
func (d *Detector) nextDom() {
	if d.dom++; d.dom > d.mdays {
		d.dom = 1
		if d.month++; d.month > 12 {
			d.month, d.year = 1, d.year+1
		}
		d.mdays = daysIn(d.year, d.month)
	}
}

// daysIn returns the number of days in month m (1..12) of year y of the
// proleptic Gregorian calendar, as time.Date counts them (nextDay's
// calendar).
func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// Index returns the index the next Step judges (points stepped so far).
func (d *Detector) Index() int { return d.t }

// Season returns the season length in use.
func (d *Detector) Season() int { return d.s }

func medianSmall(a []float64) float64 {
	for i := 1; i < len(a); i++ {
		v := a[i]
		j := i - 1
		for j >= 0 && a[j] > v {
			a[j+1] = a[j]
			j--
		}
		a[j+1] = v
	}
	n := len(a)
	if n%2 == 1 {
		return a[n/2]
	}
	return (a[n/2-1] + a[n/2]) / 2
}

// baseline returns the expected value for phase p, and false when there is
// no history at all.
func (d *Detector) baseline(p int) (float64, bool) {
	if n := d.phaseN[p]; n >= 3 {
		m := min(n, d.k)
		if d.k == 6 {
			return d.pk[p].median(m), true
		}
		a := d.sorted[p*d.k : p*d.k+m]
		if m%2 == 1 {
			return a[m/2], true
		}
		return (a[m/2-1] + a[m/2]) / 2, true
	}
	if d.nRec == 0 {
		return 0, false
	}
	return median8(&d.recent, min(d.nRec, recentN)), true
}

// median8 returns the median of the first m (1..8) values of r: Batcher's
// 19-exchange sorting network over their order keys (see key), the others
// +Inf, without a branch (an insertion sort of the warm-up's recent values
// mispredicted about seven times a point).
func median8(r *[recentN]float64, m int) float64 {
	var k [8]int64
	inf := key(math.Inf(1))
	for i := range k {
		x := key(r[i])
		if i >= m {
			x = inf
		}
		k[i] = x
	}
	cx := func(i, j int) { k[i], k[j] = min(k[i], k[j]), max(k[i], k[j]) }
	cx(0, 1)
	cx(2, 3)
	cx(4, 5)
	cx(6, 7)
	cx(0, 2)
	cx(1, 3)
	cx(4, 6)
	cx(5, 7)
	cx(1, 2)
	cx(5, 6)
	cx(0, 4)
	cx(1, 5)
	cx(2, 6)
	cx(3, 7)
	cx(2, 4)
	cx(3, 5)
	cx(1, 2)
	cx(3, 4)
	cx(5, 6)
	if m%2 == 1 {
		return unkey(k[m/2])
	}
	return (unkey(k[m/2-1]) + unkey(k[m/2])) / 2
}

func (d *Detector) sigma() float64 {
	floor := fmax(fmax(0.005*d.level, 0.1*d.disp), 1e-9)
	if d.nRes == 0 {
		return fmax(0.1*d.level, floor)
	}
	return fmax(sigmaToMAD*d.absDev, floor)
}

func (d *Detector) dirOK(z float64) bool {
	switch d.opts.Direction {
	case DirectionUp:
		return z > 0
	case DirectionDown:
		return z < 0
	}
	return true
}

// recip[n] is 1/float64(n), the warm-start rate of the n-th value of an
// EWMA, to the bit.
var recip = func() (t [512]float64) {
	for n := range t {
		t[n] = 1 / float64(n)
	}
	return t
}()

// rateLo is ewmaRate(n, d.alphaLo) for n >= 1: alphaLo is 1/nLo exactly
// (nLo <= 256), so the rate is recip[n] below nLo and alphaLo from there.
func (d *Detector) rateLo(n int) float64 {
	if n < d.nLo {
		return recip[n]
	}
	return d.alphaLo
}

// ewmaRate returns fmax(1/float64(n), lo) for n >= 1, mostly without a
// division.
func ewmaRate(n int, lo float64) float64 {
	if uint(n) < uint(len(recip)) {
		return fmax(recip[n], lo)
	}
	return fmax(1/float64(n), lo)
}

func fmax(a, b float64) float64 {
	if a > b {
		return a
	}
	return b
}

// fsel returns a if c, else b, by a conditional move of their bits: no
// branch to mispredict when c is a coin toss (the sign of a residual).
func fsel(c bool, a, b float64) float64 {
	x, y := math.Float64bits(a), math.Float64bits(b)
	if c {
		y = x
	}
	return math.Float64frombits(y)
}

// fmaxs is fmax by fsel, for operands whose order is unpredictable.
func fmaxs(a, b float64) float64 {
	return fsel(a > b, a, b)
}

// fmins is fmin by fsel.
func fmins(a, b float64) float64 {
	return fsel(a < b, a, b)
}

func fmin(a, b float64) float64 {
	if a < b {
		return a
	}
	return b
}

func clip(x, c float64) float64 {
	if x > c {
		return c
	}
	if x < -c {
		return -c
	}
	return x
}

// esdStrength runs the generalized ESD test over the residual window plus r
// and returns R_j/lambda_j for the step j that removed r (0 if never removed)
// and whether r is one of the outliers. Without needOut the second result
// is not wanted: the test stops once r is removed. With needOut it is
// wanted only for a ratio over 0.99 (Step caps the strength at 0.99 unless
// r is an outlier), so the test stops at a smaller ratio too.
//
// One pass sums the ring in three independent chains and finds its largest
// and smallest values; each step then removes the value farthest from the
// mean (the largest or the smallest ring value left, or r), subtracts it
// from the sums in O(1) and, when it came from the ring, finds the next one
// on that side. When r is as far from the mean as the farthest ring value,
// or the largest as far as the smallest (to 2^-40, see esdTie), which one
// goes first decides the answer: esdExact, the test as it always ran,
// decides it.
func (d *Detector) esdStrength(r float64, needOut bool) (float64, bool) {
	const n = esdN
	if d.esdCnt < n-1 {
		return 0, false
	}
	ring := (*[n - 1]float64)(d.esd[:])
	var a0, a1, a2, q0, q1, q2 float64
	mx, mn := ring[0], ring[0]
	for j := 0; j < len(ring); j += 3 {
		u, v, w := ring[j], ring[j+1], ring[j+2]
		a0 += u
		a1 += v
		a2 += w
		q0 += u * u
		q1 += v * v
		q2 += w * w
		if u > mx {
			mx = u
		}
		if u < mn {
			mn = u
		}
		if v > mx {
			mx = v
		}
		if v < mn {
			mn = v
		}
		if w > mx {
			mx = w
		}
		if w < mn {
			mn = w
		}
	}
	s := a0 + a1 + a2 + r
	s2 := q0 + q1 + q2 + r*r
	s2all := s2
	// after the first removal from the ring, xe is the ring with the
	// removed values NaN (no comparison picks them)
	var xe [n - 1]float64
	copied := false
	rIn := true // r not removed yet
	removedAt, numOut := 0, 0
	var ratio float64
	m := float64(n)
	for i := 1; ; i++ {
		mean := s / m
		sd := math.Sqrt(fmax(s2/m-mean*mean, 0) * m / (m - 1))
		if sd == 0 {
			break
		}
		dh, dl := mx-mean, mean-mn
		if esdTie(dh, dl) && mx != mn {
			return d.esdExact(r, needOut)
		}
		best, top := dh, true
		if dl > dh {
			best, top = dl, false
		}
		isR := false
		if rIn {
			a := math.Abs(r - mean)
			if esdTie(a, best) {
				return d.esdExact(r, needOut)
			}
			if a > best {
				best, isR = a, true
			}
		}
		R := best / sd
		if R > d.esdLam[i] {
			numOut = i
		}
		if isR {
			removedAt = i
			ratio = R / d.esdLam[i]
		}
		if removedAt > 0 && (!needOut || numOut >= removedAt || ratio <= 0.99) || i == esdMaxOut {
			break // later steps cannot change the answer
		}
		x := r
		if isR {
			rIn = false
		} else {
			if !copied {
				xe, copied = *ring, true
			}
			x = mn
			if top {
				x = mx
			}
			for j, v := range xe {
				if v == x {
					xe[j] = math.NaN()
					break
				}
			}
			if top {
				mx = esdMax(&xe)
			} else {
				mn = esdMin(&xe)
			}
		}
		m--
		s -= x
		s2 -= x * x
		if s2 < 0x1p-16*s2all && copied {
			// the sums lost more than 16 bits to the removed values: sum
			// what is left again
			s, s2 = 0, 0
			for _, v := range xe {
				if v == v { // not removed
					s += v
					s2 += v * v
				}
			}
			if rIn {
				s += r
				s2 += r * r
			}
		}
	}
	return ratio, removedAt > 0 && removedAt <= numOut
}

// esdTie reports whether two distances from the mean are equal or so close
// (2^-40 relative) that the order of the additions behind the mean could
// decide which is larger.
func esdTie(a, b float64) bool {
	return math.Abs(a-b) <= 0x1p-40*(math.Abs(a)+math.Abs(b))
}

// esdMax returns the largest value of x but NaN.
func esdMax(x *[esdN - 1]float64) float64 {
	v := math.Inf(-1)
	for _, y := range x {
		if y > v {
			v = y
		}
	}
	return v
}

// esdMin returns the smallest value of x but NaN.
func esdMin(x *[esdN - 1]float64) float64 {
	v := math.Inf(1)
	for _, y := range x {
		if y < v {
			v = y
		}
	}
	return v
}

// esdExact is esdStrength as the test always ran: each step sums the active
// values in array order and removes the first one farthest from the mean by
// swapping the last active one into its place (r is last at first), so
// equally far values leave in that order.
func (d *Detector) esdExact(r float64, needOut bool) (float64, bool) {
	const n = esdN
	if d.esdCnt < n-1 {
		return 0, false
	}
	// The ring holds the last n-1 residuals in any order; the current is
	// last. Each step sums the active values in array order and removes the
	// first one farthest from the mean by swapping the last active one into
	// its place. The first step also finds the ring's extremes: v-mean rounds
	// monotonically in v, so the largest |v-mean| of the ring is that of one
	// of them, and no scan is needed when r is the farthest.
	ring := (*[n - 1]float64)(d.esd[:])
	var s, s2 float64
	mx, mn := ring[0], ring[0]
	for _, v := range ring {
		s += v
		s2 += v * v
		if v > mx {
			mx = v
		}
		if v < mn {
			mn = v
		}
	}
	s += r
	s2 += r * r
	mean := s / n
	sd := math.Sqrt(fmax(s2/n-mean*mean, 0) * n / (n - 1))
	if sd == 0 {
		return 0, false
	}
	cur, bi := n-1, n-1
	best := fmax(mx-mean, mean-mn)
	if a := math.Abs(r - mean); a > best {
		best = a
	} else {
		for j, v := range ring {
			if math.Abs(v-mean) == best {
				bi = j
				break
			}
		}
	}
	var x [esdN]float64
	removedAt, numOut := 0, 0
	var ratio float64
	m := n
	for i := 1; ; i++ {
		R := best / sd
		if R > d.esdLam[i] {
			numOut = i
		}
		if bi == cur {
			removedAt = i
			ratio = R / d.esdLam[i]
		}
		if removedAt > 0 && (!needOut || numOut >= removedAt || ratio <= 0.99) || i == esdMaxOut {
			break // later steps cannot change the answer
		}
		if i == 1 {
			copy(x[:], ring[:])
			x[n-1] = r
		}
		// remove bi by swapping with the last active element
		x[bi] = x[m-1]
		if cur == m-1 {
			cur = bi
		} else if bi == cur {
			cur = -1
		}
		m--
		s, s2 = 0, 0
		mx, mn = x[0], x[0]
		for _, v := range x[:m] {
			s += v
			s2 += v * v
			if v > mx {
				mx = v
			}
			if v < mn {
				mn = v
			}
		}
		mean = s / float64(m)
		sd = math.Sqrt(fmax(s2/float64(m)-mean*mean, 0) * float64(m) / float64(m-1))
		if sd == 0 {
			break
		}
		// the first value farthest from the mean, as a scan for the
		// largest |v-mean| finds it, knowing how far that is
		best, bi = fmax(mx-mean, mean-mn), 0
		for j, v := range x[:m] {
			if math.Abs(v-mean) == best {
				bi = j
				break
			}
		}
	}
	return ratio, removedAt > 0 && removedAt <= numOut
}

// EpisodeGap is the longest run of points that are not anomalous inside one
// anomalous episode for a season of s points: max(3, s), a week for daily
// cost. An anomaly at most that many points after the episode's last one
// continues it (same Result.Since); after a longer quiet run a new episode
// starts.
func EpisodeGap(s int) int {
	if s == 0 {
		s = 7
	}
	return max(episodeGap, s)
}

// Step judges the next point. v = NaN marks a missing point: nothing is
// learned from it and it is never anomalous.
func (d *Detector) Step(v float64) Result {
	idx := d.t
	d.t++
	p := d.ph
	if d.ph++; d.ph == d.s {
		d.ph = 0
	}
	var exp float64
	var ok bool
	if n := d.phaseN[p]; n >= 6 && d.k == 6 {
		exp, ok = d.pk[p].mid(), true // baseline's common case
	} else {
		exp, ok = d.baseline(p)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		if !ok {
			exp = math.NaN()
		}
		d.skipDay(true)
		return Result{Expected: exp, Observed: math.NaN(), Since: -1, Sigma: math.NaN(), Impact: math.NaN()}
	}
	if ok && d.lowP >= interShare && v <= outageRatio*d.level {
		if sg, done := d.zeroDay(idx, v, exp); done {
			return Result{Expected: exp, Observed: v, Sigma: sg, Impact: v - exp, Since: -1}
		}
	}
	if !ok {
		exp = v
	}
	r := v - exp
	sig := d.sigma()
	var z float64 // one division
	lsig := 0.0   // robust log sigma of a rise judged in log space (0: not)
	pos := v > 0 && exp > 0
	lr := 0.0 // log(v/exp) when pos, computed once: the log spread learns from it below
	if pos {
		// fastLog(v / exp), inlined
		if ix := math.Float64bits(v / exp); logNormal(ix) {
			lr = logJoin(logReduce(ix))
		} else {
			lr = math.Log(v / exp)
		}
	}
	switch {
	case r > 0 && d.nRes >= 5 && pos && !d.neg && d.nLog >= 5:
		// cost noise is multiplicative: on a positive series a rise is
		// measured in log space, so a noisy service's ordinary 2x day is
		// not a 5-sigma event
		lsig = fmax(sigmaToMAD*d.absLog, logFloor)
		z = logK * lr / lsig
	case r > 0 && d.nRes >= 5:
		z = r / fmax(sig, sigmaToMAD*d.absUp) // upward deviations against the upward spread
	default:
		z = r / sig
	}
	judged := d.seen >= d.opts.WarmUp && ok

	th := &d.th
	zok := d.dirOK(z)
	zc := clip(z, cusumClip)
	zb := clip(z-d.bias, cusumClip) // growth makes the lagging median's residuals one-sided
	// detector strengths: 1 = at the detector's threshold
	var eR, eO, eE float64
	eS := fsel(zok, math.Abs(z-d.bias)/th.spikeZ, 0)
	if judged {
		d.cp = fmaxs(0, d.cp+zb-cusumK)
		d.cn = fmaxs(0, d.cn-zb-cusumK)
	}
	var eC float64
	switch {
	case d.opts.Direction == DirectionUp: // the default, without a branch on z's sign
		eC = fsel(z > 0, fmins(d.cp/th.cusumH, z/cusumCur), 0)
	case z > 0 && d.opts.Direction != DirectionDown:
		eC = fmin(d.cp/th.cusumH, z/cusumCur)
	case z < 0:
		eC = fmin(d.cn/th.cusumH, -z/cusumCur)
	}
	// ramp: OLS slope of clipped z over the window (j = 0 oldest .. W-1 newest)
	W := d.rampW
	if d.rampN == W {
		old := d.ramp[d.rampPos]
		d.r1 = d.r1 - (d.r0 - old) + float64(W-1)*zc
		d.r0 += zc - old
		d.r2 += zc*zc - old*old
	} else {
		d.r1 += float64(d.rampN) * zc
		d.r0 += zc
		d.r2 += zc * zc
		d.rampN++
	}
	d.ramp[d.rampPos] = zc
	if d.rampPos++; d.rampPos == W {
		d.rampPos = 0
	}
	// outage: near zero against a clearly positive baseline, either far below
	// in sigmas or on a series whose spread is below its level (a drop to
	// zero on a noisy series), and a run of near-zero points unlikely given
	// how often the series bills near zero anyway (intermittent services)
	low := v <= outageRatio*d.level
	if low {
		d.lowRun++
	} else {
		d.lowRun = 0
	}
	outage := v <= outageRatio*exp && exp > 0 && (z <= -outageZ || sig < exp) && exp >= 0.5*d.level &&
		math.Pow(fmax(d.lowP, lowTail), float64(d.lowRun)) <= lowTail
	if outage {
		eO = 1.5
	}
	// learn the spreads and the level now: nothing below reads them, and
	// the processor can do it while the ESD sums (a long chain of
	// dependent additions) run
	if v < 0 {
		d.neg = true
	}
	ar := math.Abs(r)
	if d.nRes >= 5 {
		ar = fmin(ar, 3*sig)
	}
	aRes := d.rateLo(d.nRes + 1)
	d.absDev += aRes * (ar - d.absDev)
	d.absUp = fsel(r > 0, d.absUp+2*aRes*(fmin(r, 3*sig)-d.absUp), d.absUp)
	d.nRes++
	if pos {
		al := math.Abs(lr)
		if d.nLog >= 5 {
			al = fmin(al, 3*sigmaToMAD*d.absLog)
		}
		d.absLog += d.rateLo(d.nLog+1) * (al - d.absLog)
		d.nLog++
	}
	d.learnLevelAt(v, d.rateLo(d.seen+1))
	// ESD's strength is at most 0.99 unless the point is alone (eS >=
	// esdAlone): it cannot matter when another detector is already that
	// strong, nor to a method other than the ensemble and ESD itself
	if m := d.opts.Method; math.Abs(z) >= esdPrefilt && zok && (m == MethodESD ||
		m == MethodEnsemble && (eS >= esdAlone || fmax(eC, eO) < 0.99)) {
		ratio, out := d.esdStrength(r, eS >= esdAlone)
		if out && eS >= esdAlone {
			eE = ratio
		} else {
			eE = fmin(ratio, 0.99)
		}
	}
	// the ramp's slope t-test, last: eR is at most min(rise, |z|/1.5) in
	// its units, so when that can neither be the strongest strength nor
	// name the ramp the test is skipped (other methods never use eR)
	if d.rampN == W && (z >= 1 || z <= -1) && zok && (d.opts.Method == MethodEnsemble || d.opts.Method == MethodRamp) {
		w := float64(W)
		sxy := d.r1 - d.rampSx*d.r0/w
		b := sxy / d.rampSS
		rise := b * (w - 1)
		eRise, eZ := math.Abs(rise)/th.rampRise, math.Abs(z)/1.5
		if bound := fmin(eRise, eZ); bound >= 1 || d.opts.Method == MethodRamp || bound > fmax(fmax(eS, eC), fmax(eO, eE)) {
			syy := d.r2 - d.r0*d.r0/w
			sse := fmax(syy-b*sxy, 1e-12)
			se := math.Sqrt(sse / (w - 2) / d.rampSS)
			tst := b / se
			if (tst > 0) == (z > 0) {
				eR = fmin(fmin(math.Abs(tst)/d.rampT, eRise), eZ)
			}
		}
	}
	if d.opts.Method != MethodEnsemble {
		var e float64
		switch d.opts.Method {
		case MethodSeasonal:
			e = eS
		case MethodCUSUM:
			e = eC
		case MethodRamp:
			e = eR
		case MethodOutage:
			e = eO
		case MethodESD:
			e = eE
		}
		eS, eC, eR, eO, eE = 0, 0, 0, 0, 0
		switch d.opts.Method {
		case MethodSeasonal:
			eS = e
		case MethodCUSUM:
			eC = e
		case MethodRamp:
			eR = e
		case MethodOutage:
			eO = e
		case MethodESD:
			eE = e
		}
	}
	E := fmaxs(fmaxs(fmaxs(eS, eC), fmaxs(eR, eO)), eE)
	// novelty: deviations no larger than the recent ones (decaying max of
	// |z| over about max(season, 28) points) are not news
	az := math.Abs(z)
	if d.zMax > th.spikeZ && !outage { // nv > 1 needs zMax > spikeZ
		if nv := d.zMax / th.spikeZ; nv > 1 {
			E /= nv
			eS, eC, eR, eE = eS/nv, eC/nv, eR/nv, eE/nv
		}
	}
	zNews := fsel(zok, az, 0) // what this point adds to the novelty memory (see below)
	if outage {
		zNews = 0 // a drop does not make the next rise ordinary
	}
	// anomaly likelihood: is the short-term mean of clipped |z| unusual
	// against its long-term distribution?
	if d.opts.Method == MethodEnsemble && judged {
		a := fmin(az/8, 1)
		short := d.lkWin.push(a)
		// x > 3 needs dx^2 > 9 var (8.99 leaves room for rounding), so
		// most points skip the square root and the division
		if dx := short - d.lk.mean; d.lk.n > 100 && dx*dx > 8.99*fmax(d.lk.v, 1e-6) && dx > 0 {
			sd := math.Sqrt(fmax(d.lk.v, 1e-6))
			x := (short - d.lk.mean) / sd
			if x > 3 {
				eL := -math.Log10(distuv.UnitNormal.Survival(x)) / lkLog
				if eL > E {
					E = eL
					eS = fmax(eS, eL)
				}
			}
		}
		d.lk.add(a, d.lkAlpha)
	}
	// a recurring monthly event (daily data, see Options.Start)
	den := fmax(math.Abs(exp), 1e-12) // the relative residual is r/den
	if d.s == 7 && E >= 1 && !outage && z > 0 {
		rel := r / den
		if d.dom > 0 {
			// the same day one or two months ago rose alike, alone (not
			// inside an elevated stretch such as an earlier shift or ramp)
			if d.recurring(idx, rel) {
				E, zNews = fmin(E, 0.9), 0 // a recurring charge is not news either
			}
		} else {
			for lag := monthlyLo; lag <= monthlyHi; lag++ {
				j := (d.zHistPos - lag + 2*len(d.zHist)) % len(d.zHist)
				if zr := d.zHist[j] / d.zDen[j]; d.zsHist[j] >= 2 && zr >= 0.5*rel && zr <= 2*rel {
					E, zNews = fmin(E, 0.9), 0
					break
				}
			}
		}
	}
	d.pushZ(z)
	if d.s == 7 {
		d.zHist[d.zHistPos], d.zDen[d.zHistPos], d.zsHist[d.zHistPos] = r, den, z
		if d.zHistPos++; d.zHistPos == len(d.zHist) {
			d.zHistPos = 0
		}
		if d.dom > 0 {
			d.markDay(domMark{rel: r / den, z: z, t: idx, nb: math.Inf(1)})
			d.settle(d.dom)
		}
	}
	d.nextDay()
	flagged := E >= 1 && judged
	score := 0.0
	if judged {
		score = E * E / (1 + E*E)
	}
	// a rise must clear MinImpact by gateK (two) robust sigmas: a noisy $10 service's
	// ordinary $4 wobble plus a $2 bump is not a $5 anomaly (an outage's
	// impact is not noise)
	margin := 0.0
	if !outage {
		margin = gateK * sig
	}
	gated := math.Abs(r)-margin < d.opts.MinImpact || math.Abs(r) < d.opts.MinChange*math.Abs(exp)
	if !gated && flagged && lsig > 0 && r > 0 && !outage { // (it matters only then)
		// and so must its lower bound under multiplicative noise: a tiny
		// service's +$3.50 day that its noise made +$6 is not a $5 anomaly
		// (the margin above is the baseline's spread, cents there)
		gated = v*math.Exp(-gateLog*lsig)-exp < d.opts.MinImpact
	}
	if gated && score >= 0.5 {
		score = 0.49
	}
	anomaly := flagged && !gated
	if anomaly {
		zNews = 0 // an anomaly was news: it does not make the next one ordinary
	}
	d.zMax = fmaxs(fmin(zNews, 50), d.zMax*d.zDecay)

	since, name := -1, ""
	if anomaly {
		// a much stronger point after a quiet day is a new event, not the
		// tail of a weaker (perhaps false) start
		if d.since < 0 || idx-d.lastFlag > 1 && E >= reOnset*d.epPeak {
			d.since, d.epPeak = idx, 0
		}
		d.epPeak = fmax(d.epPeak, E)
		d.lastFlag = idx
		since, name = d.since, d.names(eS, eC, eR, eO, eE)
	} else if d.since >= 0 {
		if d.sustained(zb) {
			d.lastHeld = idx
		}
		if idx-max(d.lastFlag, d.lastHeld) > d.gap {
			d.since = -1
		}
	}

	// learn: anomalous points enter the baseline clipped to ±2 sigma, so the
	// baseline does not absorb them; sigma learns from residuals clipped to 3 sigma
	// (a point under MinImpact or MinChange is not an anomaly and is learned
	// as it is, so a small real change becomes the normal)
	stored := v
	if anomaly {
		stored = exp + clip(r, 2*sig)
	}
	if judged && !flagged {
		d.nBias++
		d.bias += ewmaRate(d.nBias, biasA) * (clip(z, 3) - d.bias)
	}
	if !anomaly {
		l := 0.0
		if low {
			l = 1
		}
		d.lowP += lowA * (l - d.lowP)
	}
	if d.k == 6 {
		d.pk[p].add(key(stored)) // storeKey, inlined
		d.phaseN[p]++
	} else {
		d.storePhase(p, stored)
	}
	d.recent[d.nRec&(recentN-1)] = stored // recentN is a power of two
	d.nRec++
	d.esd[d.esdPos] = r
	d.ratioV[d.nRatio], d.ratioE[d.nRatio] = v, exp
	if d.nRatio++; d.nRatio == len(d.ratioV) {
		d.nRatio = 0
	}
	if d.esdPos++; d.esdPos == esdN-1 {
		d.esdPos = 0
	}
	if d.esdCnt < esdN-1 {
		d.esdCnt++
	}
	d.seen++
	if anomaly && idx-d.since+1 >= d.adapt {
		d.readapt(sig)
	}
	return Result{Score: score, Anomaly: anomaly, Expected: exp, Observed: v, Sigma: z, Impact: r, Detector: name, Since: since, Outage: anomaly && outage}
}

// learnLevel updates the typical level, mean and dispersion (the sigma
// floor and the near-zero test) with a non-missing point.
func (d *Detector) learnLevel(v float64) {
	d.learnLevelAt(v, d.rateLo(d.seen+1))
}

// learnLevelAt is learnLevel with its rate, small enough to inline in Step.
func (d *Detector) learnLevelAt(v, a float64) {
	d.level += a * (math.Abs(v) - d.level)
	d.disp += a * (math.Abs(v-d.mean) - d.disp)
	d.mean += a * (v - d.mean)
}

// skipDay advances the calendar and the z memories over a point that
// teaches nothing (missing, or a zero day of an intermittent service);
// clear forgets the day of month's last rise (missing data).
func (d *Detector) skipDay(clear bool) {
	d.pushZ(0)
	if d.s != 7 {
		return
	}
	d.zHist[d.zHistPos], d.zDen[d.zHistPos], d.zsHist[d.zHistPos] = 0, 1, 0
	if d.dom > 0 {
		if clear {
			d.markDay(domMark{t: -1})
		}
		d.settle(0)
	}
	d.nextDay()
	if d.zHistPos++; d.zHistPos == len(d.zHist) {
		d.zHistPos = 0
	}
}

// zeroDay judges a near-zero point of a service that often bills (near)
// zero: a hurdle model. Such a day says nothing about the billed level, so
// the baseline, the spread and the change detectors learn from billed days
// only and the day is judged by the outage test alone, with a run of zero
// days as unlikely as interTail given their share. It returns the
// point's sigma and true, or false when the point is an outage, to be
// judged and learned as an anomaly.
func (d *Detector) zeroDay(idx int, v, exp float64) (sigma float64, done bool) {
	run := d.lowRun + 1
	if exp > 0 && v <= outageRatio*exp && exp >= 0.5*d.level && d.seen >= d.opts.WarmUp &&
		math.Pow(d.lowP, float64(run)) <= interTail {
		return 0, false
	}
	d.lowRun = run
	d.lowP += lowA * (1 - d.lowP)
	d.learnLevel(v)
	d.seen++
	if d.since >= 0 && idx-d.lastFlag > d.gap {
		d.since = -1
	}
	d.skipDay(false)
	return (v - exp) / d.sigma(), true
}

// storeKey appends v to phase p's ring of keys (k = 6, see phaseRing).
func (d *Detector) storeKey(p int, v float64) {
	d.pk[p].add(key(v))
	d.phaseN[p]++
}

// storePhase appends v to phase p's ring, keeping the sorted copy sorted in
// O(k) without allocating.
func (d *Detector) storePhase(p int, v float64) {
	k := d.k
	base := p * k
	w := d.phaseW[p] // write position in the ring: phaseN[p] mod k
	if k == 6 {
		d.storeKey(p, v)
		return
	}
	srt := d.sorted[base : base+k]
	ring := d.phase[base : base+k]
	m := min(d.phaseN[p], k)
	if m == k {
		old := ring[w]
		// remove old from the sorted copy
		i := 0
		for i < m-1 && srt[i] != old {
			i++
		}
		for ; i < m-1; i++ {
			srt[i] = srt[i+1]
		}
		m--
	}
	j := m
	for j > 0 && srt[j-1] > v {
		srt[j] = srt[j-1]
		j--
	}
	srt[j] = v
	ring[w] = v
	if w++; w == k {
		w = 0
	}
	d.phaseW[p] = w
	d.phaseN[p]++
}

// readapt makes a persistent change the new normal: once an episode has
// lasted adapt points (one season, at least 7) and the last 3 residuals still
// sit at least 2 sigmas off on the same side, every stored value moves by the
// median of the last 3 residuals and the change detectors restart.
func (d *Detector) readapt(sig float64) {
	if d.esdCnt < 3 {
		return
	}
	var last [3]float64
	for i := range last {
		last[i] = d.esd[(d.esdPos-1-i+2*(esdN-1))%(esdN-1)]
	}
	delta := medianSmall(last[:])
	if !(last[0] >= 2*sig && last[1] >= 2*sig && last[2] >= 2*sig) && !(last[0] <= -2*sig && last[1] <= -2*sig && last[2] <= -2*sig) {
		return
	}
	// an outage stays an outage: the level does not become (near) zero
	if f := d.ratioMedian(); !(f > outageRatio) && !d.neg {
		return
	}
	d.rebase(delta)
}

// Rebase makes the current level the new normal, as a user's "mark expected"
// asks: every stored value of every phase is scaled by the median of the
// last three observed/expected ratios (additively shifted by the median of
// the last three residuals when the series is not positive), the change
// detectors restart and the current episode ends. The weekly pattern and
// the spread are kept, so a later spike against the new level still alerts.
// A one-day spike marked expected leaves the level almost unchanged: two of
// the last three ratios are normal. Call it after stepping the last point
// the mark covers; it allocates nothing.
func (d *Detector) Rebase() {
	if d.esdCnt == 0 {
		return
	}
	n := min(d.esdCnt, 3)
	var last [3]float64
	for i := 0; i < n; i++ {
		last[i] = d.esd[(d.esdPos-1-i+2*(esdN-1))%(esdN-1)]
	}
	d.rebase(medianSmall(last[:n]))
}

// rebase moves the stored history to the current level; see readapt.
func (d *Detector) rebase(delta float64) {
	// positive series (cost) change multiplicatively: weekdays and weekends
	// scale by the same factor
	f := d.ratioMedian()
	if f > 0 || f == 0 && !d.neg { // NaN fails
		d.eachStored(func(x float64) float64 { return x * f })
		for i := range d.recent {
			d.recent[i] *= f
		}
		for i := range d.esd {
			d.esd[i] = 0
		}
		d.esdCnt = 0
	} else {
		d.eachStored(func(x float64) float64 { return x + delta })
		for i := range d.recent {
			d.recent[i] += delta
		}
		for i := range d.esd {
			d.esd[i] -= delta
		}
	}
	d.cp, d.cn, d.bias = 0, 0, 0 // the bias keeps its slow rate: a few points after a change do not set it
	for i := range d.ramp {
		d.ramp[i] = 0
	}
	d.r0, d.r1, d.r2, d.rampN, d.rampPos = 0, 0, 0, 0, 0
	d.since = -1
}

// eachStored replaces every stored value x of every phase by f(x) (the
// ring's unfilled slots hold +Inf for phaseRing and stay so; f is
// monotone, so a sorted ring stays sorted).
func (d *Detector) eachStored(f func(float64) float64) {
	k := d.k
	for p, n := range d.phaseN {
		m := min(n, k)
		if k == 6 {
			pr := &d.pk[p]
			for i := range m {
				pr.ring[i] = key(f(unkey(pr.ring[i])))
				pr.srt[i] = key(f(unkey(pr.srt[i])))
			}
			continue
		}
		ring, srt := d.phase[p*k:p*k+m], d.sorted[p*k:p*k+m]
		for i := range ring {
			ring[i] = f(ring[i])
			srt[i] = f(srt[i])
		}
	}
}

// key maps a non-NaN float64 to an int64 of the same order (-0 just below
// +0): the sign bit stays and a negative value's other bits flip. unkey is
// its inverse.
func key(x float64) int64 {
	b := int64(math.Float64bits(x))
	return b ^ int64(uint64(b>>63)>>1)
}

func unkey(k int64) float64 {
	return math.Float64frombits(uint64(k ^ int64(uint64(k>>63)>>1)))
}

// phaseRing is one phase's last six values (k = 6) as order keys (see
// key): in arrival order (ring) and sorted (srt). Unfilled slots hold
// key(+Inf), so the first m sorted keys are those of the m values stored.
type phaseRing struct {
	ring, srt [6]int64
	w         int // next write position in ring
}

// add stores key x in place of the oldest and keeps srt sorted without a
// branch: the old key leaves (every sorted key from its first position on
// moves down one) and x enters (each slot takes the median of its two
// neighbours and x), in CMOVs.
func (pr *phaseRing) add(x int64) {
	w := pr.w
	if w >= 5 {
		pr.w = 0
	} else {
		pr.w = w + 1
	}
	old := pr.ring[w]
	pr.ring[w] = x
	s := &pr.srt
	s0, s1, s2, s3, s4, s5 := s[0], s[1], s[2], s[3], s[4], s[5]
	t0, t1, t2, t3, t4 := s1, s2, s3, s4, s5
	if s0 < old {
		t0 = s0
	}
	if s1 < old {
		t1 = s1
	}
	if s2 < old {
		t2 = s2
	}
	if s3 < old {
		t3 = s3
	}
	if s4 < old {
		t4 = s4
	}
	s[0] = min(t0, x)
	s[1] = max(t0, min(t1, x))
	s[2] = max(t1, min(t2, x))
	s[3] = max(t2, min(t3, x))
	s[4] = max(t3, min(t4, x))
	s[5] = max(t4, x)
}

// mid is median(6), small enough to inline.
func (pr *phaseRing) mid() float64 {
	return (unkey(pr.srt[2]) + unkey(pr.srt[3])) / 2
}

// median returns the median of the first m (3..6) values stored, as a
// sorted copy of them gives it.
func (pr *phaseRing) median(m int) float64 {
	s := &pr.srt
	switch m {
	case 6:
		return (unkey(s[2]) + unkey(s[3])) / 2
	case 5:
		return unkey(s[2])
	case 4:
		return (unkey(s[1]) + unkey(s[2])) / 2
	}
	return unkey(s[1])
}

// ratioMedian is the median of the last three observed/expected ratios,
// NaN for a point whose expected value was not positive or whose value was
// negative (0 for points not yet stepped).
// It sorts the ring in place by ratio, as medianSmall over the ratios
// always did (the next points then replace the ring's slots in that order).
func (d *Detector) ratioMedian() float64 {
	var q [3]float64
	for i := range q {
		q[i] = math.NaN()
		if v, e := d.ratioV[i], d.ratioE[i]; e > 0 && v >= 0 {
			q[i] = v / e
		}
	}
	// medianSmall's insertion sort, moving the pairs along
	for i := 1; i < len(q); i++ {
		x, xv, xe := q[i], d.ratioV[i], d.ratioE[i]
		j := i - 1
		for j >= 0 && q[j] > x {
			q[j+1], d.ratioV[j+1], d.ratioE[j+1] = q[j], d.ratioV[j], d.ratioE[j]
			j--
		}
		q[j+1], d.ratioV[j+1], d.ratioE[j+1] = x, xv, xe
	}
	return q[1]
}

// sustained reports whether the CUSUM still sits above its decision
// interval and still rises with this point's bias-corrected z, in a
// direction the detector watches: a level shift whose days are each too
// weak to flag holds its episode open, so it does not alert again when one
// of them is.
func (d *Detector) sustained(zb float64) bool {
	return d.opts.Direction != DirectionDown && d.cp >= d.th.cusumH && zb >= cusumK ||
		d.opts.Direction != DirectionUp && d.cn >= d.th.cusumH && zb <= -cusumK
}

// pushZ records the z of the point just judged (0 for a missing one).
func (d *Detector) pushZ(z float64) {
	d.zRing[d.zRingP] = z
	if d.zRingP++; d.zRingP == zRingN {
		d.zRingP = 0
	}
}

// domMark is one occurrence of a day of the month: its relative residual,
// z, index (t < 0: missing) and the mean z of its two neighbours on each
// side, each clipped to ±4 (+Inf until settle knows them).
type domMark struct {
	rel, z, nb float64
	t          int
}

// markDay records the current day of the month's occurrence.
func (d *Detector) markDay(m domMark) {
	for k := domN - 1; k > 0; k-- {
		d.domHist[k][d.dom] = d.domHist[k-1][d.dom]
	}
	d.domHist[0][d.dom] = m
}

// settle ends a point of daily data with a calendar: the occurrence of a
// day of the month marked two points ago learns its neighbours' mean z
// (the point after next is now known), and dom is this point's mark (0:
// none). Kept with the occurrence, the neighbours need no ring of months
// of z, so an occurrence is known however long ago it was: an
// intermittent service's charge day that fell on zero days for months is
// still its charge day.
func (d *Detector) settle(dom int) {
	if dm := d.pend[1]; dm > 0 {
		if m := &d.domHist[0][dm]; m.t == d.t-3 && m.t >= 2 {
			var nb float64
			for _, l := range [4]int{4, 3, 1, 0} { // points m.t-2, m.t-1, m.t+1, m.t+2
				nb += clip(d.zRing[(d.zRingP-1-l)&(zRingN-1)], cusumClip) / 4
			}
			m.nb = nb
		}
	}
	d.pend[1], d.pend[0] = d.pend[0], dom
}

// recurring reports whether a relative rise rel on point idx repeats a
// rise on the same day of the month in one of its last three occurrences
// within monthlyAge days (a batch charge): that rise was at least
// monthlyRel of this one, clear (1.5 sigmas) and stood alone: the mean z
// of its two neighbours on each side sat under 1.5 sigmas, so a day inside
// an elevated stretch (an earlier shift, ramp or recovery) does not count.
// Zero days of an intermittent service are not occurrences, so its charge
// is still known after three zero charge days in a row.
func (d *Detector) recurring(idx int, rel float64) bool {
	for k := range domN {
		m := d.domHist[k][d.dom]
		if m.t < 0 || m.t >= idx || idx-m.t > monthlyAge || m.rel <= 0 || m.rel < monthlyRel*rel {
			continue
		}
		if m.z >= 1.5 && m.nb < 1.5 {
			return true
		}
	}
	return false
}

func (d *Detector) names(eS, eC, eR, eO, eE float64) string {
	var m int
	if eS >= 1 {
		m |= 1
	}
	if eC >= 1 {
		m |= 2
	}
	if eR >= 1 {
		m |= 4
	}
	if eO >= 1 {
		m |= 8
	}
	if eE >= 1 {
		m |= 16
	}
	return detectorNames[m]
}

// detectorNames are the Result.Detector names by bit mask (1 seasonal, 2
// cusum, 4 ramp, 8 outage, 16 esd), built once so Step does not allocate.
var detectorNames = func() (t [32]string) {
	for m := range t {
		var b []byte
		for i, n := range []string{"seasonal", "cusum", "ramp", "outage", "esd"} {
			if m&(1<<i) != 0 {
				if len(b) > 0 {
					b = append(b, '+')
				}
				b = append(b, n...)
			}
		}
		t[m] = string(b)
	}
	return t
}()
