package metrics

import (
	"math"
	"sync"
	"time"

	"github.com/costbot/costbot/internal/detect"
	"gonum.org/v1/gonum/stat/distuv"
)

// baseline is a frozen copy of the cost ensemble of package detect as it was
// when metrics mode's NAB figures were measured (commit 54e1975, where it ran
// with the `legacy` flag): the thresholds detect.SensitivityHigh has today
// (the former medium), residuals judged against one symmetric spread, no
// growth bias, a plain novelty memory, the outage test "at most 10% of
// expected and at least 3 sigmas below it", episodes without re-onset, every
// flagged point stored clipped, and re-baselining that may rescale to zero.
// None of the later daily-cost fixes of package detect reach it, so they can
// never move the NAB figures; it is not tuned any further.
//
// Metrics mode uses it for Expected, Sigma and Impact, for the seasonal
// channel's z and for its outage test; its own detectors do not decide, but
// they decide what it learns, so they are kept whole (including
// Options.Method and, for a season of 7, Options.Start).
type baseline struct {
	dir       detect.Direction
	method    detect.Method
	minImpact float64
	minChange float64
	warmUp    int
	s         int // season
	k         int // history per phase

	phase  []float64 // s*k ring buffers of past values per phase
	phaseN []int     // values seen per phase
	sorted []float64 // s*k: the same values per phase, sorted (first min(n,k) valid)
	recent [recentN]float64
	nRec   int
	tmp    []float64 // scratch for medians, len >= max(k, recentN, esdN)

	absDev  float64 // EWMA of clipped |residual|
	level   float64 // EWMA of |value|, for the sigma floor
	mean    float64 // EWMA of value
	disp    float64 // EWMA of |value-mean|, for the sigma floor
	nRes    int
	alphaLo float64

	cp, cn float64 // cusum up / down
	zRing  [zRingN]float64
	zRingP int

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

	esd     [esdN]float64 // ring of residuals
	esdPos  int
	ratios  [3]float64 // last observed/expected (NaN when not both positive)
	nRatio  int
	esdCnt  int
	esdLam  [esdMaxOut + 1]float64
	esdWork [esdN]float64
	zHist   [monthlyHi + 1]float64 // ring of relative residuals (daily data only)
	zsHist  [monthlyHi + 1]float64 // ring of z (daily data only)
	// calendar of the next point when a start day is set (daily data)
	dom, mdays     int // day of month 1..31 (0 = unknown), days in its month
	month, year    int
	domRel, domZ   [32]float64 // last relative residual and z per day of month
	domRel2, domZ2 [32]float64 // the month before
	zHistPos       int

	t        int // points stepped, including missing ones
	ph       int // phase of the next point: t mod s
	seen     int // non-missing points stepped
	since    int
	lastFlag int
	adapt    int
}

// The thresholds the NAB figures were measured with (detect's former
// medium, SensitivityHigh today) and the ensemble's constants at the time.
const (
	spikeZ      = 4    // seasonal: |residual| in robust sigmas
	cusumH      = 4    // cusum: decision interval h (k = 1), input clipped to ±4
	rampA       = 1e-3 // ramp: one-sided significance of the slope t-test
	rampRise    = 3    // ramp: minimum rise over the window, in robust sigmas
	esdA        = 0.05 // esd: significance of Rosner's test
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
	zRingN      = 64 // days of z kept for the monthly check (two months and a day)
	rampTableW  = 14 // the ramp window whose critical value is computed once
)

// baselineOptions are the inputs of a baseline.
type baselineOptions struct {
	season, warmUp       int
	minImpact, minChange float64
	dir                  detect.Direction
	method               detect.Method
	start                time.Time // the UTC day of the first point (season 7 only), or zero
}

type critical struct {
	esdLam [esdMaxOut + 1]float64
	rampT  float64 // for a window of rampTableW points
}

// criticalValues holds the Student t critical values, computed once:
// quantiles are too slow to compute per detector.
var criticalValues = sync.OnceValue(func() critical {
	var c critical
	n := float64(esdN)
	for i := 1; i <= esdMaxOut; i++ {
		fi := float64(i)
		p := 1 - esdA/(2*(n-fi+1))
		tq := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: n - fi - 1}.Quantile(p)
		c.esdLam[i] = (n - fi) * tq / math.Sqrt((n-fi-1+tq*tq)*(n-fi+1))
	}
	c.rampT = rampCritical(rampTableW, rampA)
	return c
})

// rampCritical is the one-sided t critical value of an OLS slope over w points.
func rampCritical(w int, alpha float64) float64 {
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(w - 2)}.Quantile(1 - alpha)
}

func newBaseline(o baselineOptions) *baseline {
	s := o.season
	k := 6
	if s == 1 {
		k = 16
	}
	d := &baseline{dir: o.dir, method: o.method, minImpact: o.minImpact, minChange: o.minChange,
		warmUp: o.warmUp, s: s, k: k, since: -1}
	d.phase = make([]float64, s*k)
	d.phaseN = make([]int, s)
	d.sorted = make([]float64, s*k)
	d.tmp = make([]float64, max(k, recentN, esdN))
	d.alphaLo = 1 / float64(min(4*max(s, 7), 256))
	d.adapt = max(s, 7)
	d.gap = max(episodeGap, s)
	d.zDecay = 1 - 1/float64(max(s, 28))
	d.lkAlpha = 1 / float64(max(4*s, 500))
	d.lkWin = window{buf: d.lkBuf[:]}
	d.rampW = min(2*max(s, 7), 512)
	d.ramp = make([]float64, d.rampW)
	w := float64(d.rampW)
	d.rampSx = w * (w - 1) / 2
	d.rampSS = w * (w*w - 1) / 12
	c := criticalValues()
	d.esdLam = c.esdLam
	if d.rampW == rampTableW {
		d.rampT = c.rampT
	} else {
		d.rampT = rampCritical(d.rampW, rampA)
	}
	if !o.start.IsZero() && s == 7 {
		st := o.start.UTC()
		d.dom, d.month, d.year = st.Day(), int(st.Month()), st.Year()
		d.mdays = time.Date(d.year, time.Month(d.month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
	}
	return d
}

// nextDay advances the calendar by one day.
func (d *baseline) nextDay() {
	if d.dom == 0 {
		return
	}
	if d.dom++; d.dom > d.mdays {
		d.dom = 1
		if d.month++; d.month > 12 {
			d.month, d.year = 1, d.year+1
		}
		d.mdays = time.Date(d.year, time.Month(d.month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
	}
}

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

// expected returns the expected value for phase p, and false when there is
// no history at all.
func (d *baseline) expected(p int) (float64, bool) {
	if n := d.phaseN[p]; n >= 3 {
		m := min(n, d.k)
		a := d.sorted[p*d.k : p*d.k+m]
		if m%2 == 1 {
			return a[m/2], true
		}
		return (a[m/2-1] + a[m/2]) / 2, true
	}
	if d.nRec == 0 {
		return 0, false
	}
	m := min(d.nRec, recentN)
	buf := d.tmp[:m]
	copy(buf, d.recent[:m])
	return medianSmall(buf), true
}

func (d *baseline) sigma() float64 {
	floor := fmax(fmax(0.005*d.level, 0.1*d.disp), 1e-9)
	if d.nRes == 0 {
		return fmax(0.1*d.level, floor)
	}
	return fmax(sigmaToMAD*d.absDev, floor)
}

func (d *baseline) dirOK(z float64) bool {
	switch d.dir {
	case detect.DirectionUp:
		return z > 0
	case detect.DirectionDown:
		return z < 0
	}
	return true
}

func fmax(a, b float64) float64 {
	if a > b {
		return a
	}
	return b
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
// and whether r is one of the outliers.
func (d *baseline) esdStrength(r float64) (float64, bool) {
	n := esdN
	x := d.esdWork[:n]
	copy(x, d.esd[:n-1])
	// The ring holds the last n-1 residuals in any order; the current is last.
	if d.esdCnt < n-1 {
		return 0, false
	}
	x[n-1] = r
	cur := n - 1
	removedAt, numOut := 0, 0
	var ratio float64
	m := n
	for i := 1; i <= esdMaxOut; i++ {
		var s, s2 float64
		for _, v := range x[:m] {
			s += v
			s2 += v * v
		}
		mean := s / float64(m)
		sd := math.Sqrt(fmax(s2/float64(m)-mean*mean, 0) * float64(m) / float64(m-1))
		if sd == 0 {
			break
		}
		best, bi := -1.0, 0
		for j, v := range x[:m] {
			if a := math.Abs(v - mean); a > best {
				best, bi = a, j
			}
		}
		R := best / sd
		if R > d.esdLam[i] {
			numOut = i
		}
		if bi == cur {
			removedAt = i
			ratio = R / d.esdLam[i]
		}
		// remove bi by swapping with the last active element
		x[bi] = x[m-1]
		if cur == m-1 {
			cur = bi
		} else if bi == cur {
			cur = -1
		}
		m--
	}
	return ratio, removedAt > 0 && removedAt <= numOut
}

// step judges the next point and learns from it. Only Expected, Observed,
// Sigma, Impact and Outage (an anomaly that is a drop to near zero) of the
// result are set; Since is -1. v = NaN marks a missing point.
func (d *baseline) step(v float64) detect.Result {
	idx := d.t
	d.t++
	p := d.ph
	if d.ph++; d.ph == d.s {
		d.ph = 0
	}
	exp, ok := d.expected(p)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		if !ok {
			exp = math.NaN()
		}
		d.pushZ(0)
		if d.s == 7 {
			d.zHist[d.zHistPos], d.zsHist[d.zHistPos] = 0, 0
			if d.dom > 0 {
				d.domRel2[d.dom], d.domZ2[d.dom] = d.domRel[d.dom], d.domZ[d.dom]
				d.domRel[d.dom], d.domZ[d.dom] = 0, 0
			}
			d.nextDay()
			if d.zHistPos++; d.zHistPos == len(d.zHist) {
				d.zHistPos = 0
			}
		}
		return detect.Result{Expected: exp, Observed: math.NaN(), Since: -1, Sigma: math.NaN(), Impact: math.NaN()}
	}
	if !ok {
		exp = v
	}
	r := v - exp
	sig := d.sigma()
	z := r / sig
	judged := d.seen >= d.warmUp && ok

	zc := clip(z, cusumClip)
	// detector strengths: 1 = at the detector's threshold
	var eS, eC, eR, eO, eE float64
	if d.dirOK(z) {
		eS = math.Abs(z) / spikeZ
	}
	if judged {
		d.cp = fmax(0, d.cp+zc-cusumK)
		d.cn = fmax(0, d.cn-zc-cusumK)
	}
	switch {
	case z > 0 && d.dir != detect.DirectionDown:
		eC = fmin(d.cp/cusumH, z/cusumCur)
	case z < 0 && d.dir != detect.DirectionUp:
		eC = fmin(d.cn/cusumH, -z/cusumCur)
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
	if d.rampN == W && (z >= 1 || z <= -1) {
		w := float64(W)
		sxy := d.r1 - d.rampSx*d.r0/w
		syy := d.r2 - d.r0*d.r0/w
		b := sxy / d.rampSS
		sse := fmax(syy-b*sxy, 1e-12)
		se := math.Sqrt(sse / (w - 2) / d.rampSS)
		tst := b / se
		rise := b * (w - 1)
		if (tst > 0) == (z > 0) && d.dirOK(z) {
			eR = fmin(fmin(math.Abs(tst)/d.rampT, math.Abs(rise)/rampRise), math.Abs(z)/1.5)
		}
	}
	// outage: near zero and far below a clearly positive baseline
	outage := exp > 0 && v <= outageRatio*exp && z <= -outageZ && exp >= 0.5*d.level
	if outage {
		eO = 1.5
	}
	if math.Abs(z) >= esdPrefilt && d.dirOK(z) {
		ratio, out := d.esdStrength(r)
		if out && eS >= esdAlone {
			eE = ratio
		} else {
			eE = fmin(ratio, 0.99)
		}
	}
	if d.method != detect.MethodEnsemble {
		var e float64
		switch d.method {
		case detect.MethodSeasonal:
			e = eS
		case detect.MethodCUSUM:
			e = eC
		case detect.MethodRamp:
			e = eR
		case detect.MethodOutage:
			e = eO
		case detect.MethodESD:
			e = eE
		}
		eS, eC, eR, eO, eE = 0, 0, 0, 0, 0
		switch d.method {
		case detect.MethodSeasonal:
			eS = e
		case detect.MethodCUSUM:
			eC = e
		case detect.MethodRamp:
			eR = e
		case detect.MethodOutage:
			eO = e
		case detect.MethodESD:
			eE = e
		}
	}
	E := fmax(fmax(fmax(eS, eC), fmax(eR, eO)), eE)
	// novelty: deviations no larger than the recent ones (decaying max of
	// |z| over about max(season, 28) points) are not news
	az := math.Abs(z)
	if nv := d.zMax / spikeZ; nv > 1 && !outage {
		E /= nv
	}
	// anomaly likelihood: is the short-term mean of clipped |z| unusual
	// against its long-term distribution?
	if d.method == detect.MethodEnsemble && judged {
		a := fmin(az/8, 1)
		short := d.lkWin.push(a)
		if d.lk.n > 100 {
			sd := math.Sqrt(fmax(d.lk.v, 1e-6))
			x := (short - d.lk.mean) / sd
			if x > 3 {
				if eL := -math.Log10(distuv.UnitNormal.Survival(x)) / lkLog; eL > E {
					E = eL
				}
			}
		}
		d.lk.add(a, d.lkAlpha)
	}
	// a recurring monthly event (daily data with a season of 7)
	rel := r / fmax(math.Abs(exp), 1e-12)
	if d.s == 7 && E >= 1 && !outage && z > 0 {
		if d.dom > 0 {
			// the same day one or two months ago rose alike, alone
			l1 := time.Date(d.year, time.Month(d.month), 0, 0, 0, 0, 0, time.UTC).Day()
			l2 := l1 + time.Date(d.year, time.Month(d.month)-1, 0, 0, 0, 0, 0, time.UTC).Day()
			if d.domZ[d.dom] >= 1.5 && d.domRel[d.dom] >= monthlyRel*rel && d.isolated(l1) || d.domZ2[d.dom] >= 1.5 && d.domRel2[d.dom] >= monthlyRel*rel && d.isolated(l2) {
				E = fmin(E, 0.9)
			}
		} else {
			for lag := monthlyLo; lag <= monthlyHi; lag++ {
				j := (d.zHistPos - lag + 2*len(d.zHist)) % len(d.zHist)
				if d.zsHist[j] >= 2 && d.zHist[j] >= 0.5*rel && d.zHist[j] <= 2*rel {
					E = fmin(E, 0.9)
					break
				}
			}
		}
	}
	d.zMax = fmax(fmin(az, 50), d.zMax*d.zDecay) // every deviation enters the novelty memory
	d.pushZ(z)
	if d.s == 7 {
		d.zHist[d.zHistPos], d.zsHist[d.zHistPos] = rel, z
		if d.zHistPos++; d.zHistPos == len(d.zHist) {
			d.zHistPos = 0
		}
		if d.dom > 0 {
			d.domRel2[d.dom], d.domZ2[d.dom] = d.domRel[d.dom], d.domZ[d.dom]
			d.domRel[d.dom], d.domZ[d.dom] = rel, z
		}
	}
	d.nextDay()
	flagged := E >= 1 && judged
	gated := math.Abs(r) < d.minImpact || math.Abs(r) < d.minChange*math.Abs(exp)
	anomaly := flagged && !gated

	res := detect.Result{Expected: exp, Observed: v, Sigma: z, Impact: r, Since: -1, Outage: anomaly && outage}
	if anomaly {
		if d.since < 0 {
			d.since = idx
		}
		d.lastFlag = idx
	} else if d.since >= 0 && idx-d.lastFlag > d.gap {
		d.since = -1
	}

	// learn: flagged points (anomalous or only gated) enter the baseline
	// clipped to ±2 sigma; sigma learns from residuals clipped to 3 sigma
	stored := v
	if flagged {
		stored = exp + clip(r, 2*sig)
	}
	ar := math.Abs(r)
	if d.nRes >= 5 {
		ar = fmin(ar, 3*sig)
	}
	d.absDev += fmax(1/float64(d.nRes+1), d.alphaLo) * (ar - d.absDev)
	d.nRes++
	a := fmax(1/float64(d.seen+1), d.alphaLo)
	d.level += a * (math.Abs(v) - d.level)
	d.disp += a * (math.Abs(v-d.mean) - d.disp)
	d.mean += a * (v - d.mean)
	d.storePhase(p, stored)
	d.recent[d.nRec%recentN] = stored
	d.nRec++
	d.esd[d.esdPos] = r
	d.ratios[d.nRatio] = math.NaN()
	if exp > 0 && v >= 0 {
		d.ratios[d.nRatio] = v / exp
	}
	if d.nRatio++; d.nRatio == len(d.ratios) {
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
	return res
}

// storePhase appends v to phase p's ring, keeping the sorted copy sorted in
// O(k) without allocating.
func (d *baseline) storePhase(p int, v float64) {
	base := p * d.k
	n := d.phaseN[p]
	srt := d.sorted[base : base+d.k]
	m := min(n, d.k)
	if n >= d.k {
		old := d.phase[base+n%d.k]
		// remove old from the sorted copy
		i := 0
		for i < m-1 && srt[i] != old {
			i++
		}
		copy(srt[i:m-1], srt[i+1:m])
		m--
	}
	j := m
	for j > 0 && srt[j-1] > v {
		srt[j] = srt[j-1]
		j--
	}
	srt[j] = v
	d.phase[base+n%d.k] = v
	d.phaseN[p]++
}

// readapt makes a persistent change the new normal: once an episode has
// lasted adapt points (one season, at least 7) and the last 3 residuals still
// sit at least 2 sigmas off on the same side, the stored history moves to the
// current level (even to zero) and the change detectors restart.
func (d *baseline) readapt(sig float64) {
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
	// positive levels change multiplicatively, by the median of the last
	// three observed/expected ratios; otherwise the history shifts by delta
	if f := medianSmall(d.ratios[:]); f > 0 {
		for i := range d.phase {
			d.phase[i] *= f
			d.sorted[i] *= f
		}
		for i := range d.recent {
			d.recent[i] *= f
		}
		for i := range d.esd {
			d.esd[i] = 0
		}
		d.esdCnt = 0
	} else {
		for i := range d.phase {
			d.phase[i] += delta
			d.sorted[i] += delta
		}
		for i := range d.recent {
			d.recent[i] += delta
		}
		for i := range d.esd {
			d.esd[i] -= delta
		}
	}
	d.cp, d.cn = 0, 0
	for i := range d.ramp {
		d.ramp[i] = 0
	}
	d.r0, d.r1, d.r2, d.rampN, d.rampPos = 0, 0, 0, 0, 0
	d.since = -1
}

// pushZ records the z of the point just judged (0 for a missing one).
func (d *baseline) pushZ(z float64) {
	d.zRing[d.zRingP] = z
	if d.zRingP++; d.zRingP == zRingN {
		d.zRingP = 0
	}
}

// isolated reports whether the point lag days before the current one was
// not part of an elevated stretch: the mean z of its two neighbours on each
// side, each clipped to ±4, sat under 1.5 sigmas.
func (d *baseline) isolated(lag int) bool {
	if lag+2 >= zRingN || lag < 3 || d.t < lag+3 {
		return false
	}
	var m float64
	for _, l := range [4]int{lag - 2, lag - 1, lag + 1, lag + 2} {
		m += clip(d.zRing[(d.zRingP-l+2*zRingN)%zRingN], cusumClip) / 4
	}
	return m < 1.5
}
