// Package metrics is costbot's detector for sub-daily machine metrics
// (`costbot detect --mode metrics`, chosen by --mode auto when rows are less
// than 23 hours apart): a contextual novelty detector (in the spirit of CAD
// OSE, implemented from the idea), followed by an anomaly-likelihood
// post-processor (Numenta's idea) and alert suppression. Like package detect
// it is strictly causal: the result for point t uses only points 0..t.
//
// It is frozen at its NAB figures (README.md: 75.4 tuned, 75.0 shipped): it
// keeps a private copy of the cost baseline of package detect as it was
// when they were measured (baseline.go), so changes to the cost ensemble
// never move them, and it is not tuned any further.
//
// How it decides:
//
//  1. Quantize: bin = floor((v - c0) / w), where c0 is the running mean and
//     w = mxBinWidth x the running mean absolute deviation, both frozen once
//     WarmUp points have been seen. Bins are unbounded: a value outside the
//     warm-up range lands in a bin never seen before. A twin grid is offset
//     by half a bin, and the whole pair is repeated for each entry of
//     mxGrids (a second pair 0.8 x as wide, offset by a quarter bin).
//  2. Contexts: the sequences of the last 1, 2 and 3 bins are counted in
//     hash tables allocated once, on both grids of a pair; a sequence is
//     novel when it was never seen on either grid (so values that merely
//     straddle a bin edge are not news). With a season (points per day), the
//     pair (hour of the day in 24 buckets, bin) is a fourth context. The raw
//     score is the share of novel contexts, averaged over the pairs.
//  3. Likelihood: for each short window in mxShorts (2, 3 and 4 points), the
//     mean raw score over it against the long-run mean and variance of that
//     same short mean (EWMA, rate at least mxLongA); each Gaussian tail gives
//     a strength -log10(tail)/mxLog (1 at tail 10^-4.32), e is their mean,
//     and score = e^2/(1+e^2), so 0.5 is the threshold. Averaging over grids
//     and windows is bagging: on NAB a single grid's score swung by points
//     with a 4% change of bin width, because single bin edges decided
//     windows.
//  4. More channels, each against its own history, and e is the largest
//     strength:
//     - seasonal (with a season): |z| of the value against the median of the
//     same phase over earlier seasons (the frozen cost baseline), divided by
//     mxSeasZ and clipped at 1, averaged over mxSeasShort points and judged
//     by the same likelihood (long-run window mxSeasLong); only while the
//     season explains the series (1 - (E|residual| / E|value - level|)^2 >=
//     mxSeasStrength) and after mxSeasWarm seasons. It catches daily-pattern
//     breaks inside the normal value range. The same again against the same
//     phase of earlier weeks (a second baseline whose season is seven
//     days; |z| / mxWeekZ, gate mxWeekStrength, after three weeks) catches
//     a weekday that looks like a Sunday: a holiday, or a weekly job that
//     did not run. The seasonal strength is the larger of the two.
//     - level: a mxDriftW-point EWMA of the value against the long-run mean
//     and variance of that EWMA (window mxDriftLong); two-sided Gaussian
//     tail, e = -log10(tail)/mxDriftLog, times mxLevelRecord when the level
//     is beyond every level seen so far. It catches drifts and level shifts.
//     - outage: the cost baseline's outage test (at most 10% of the expected
//     value and at least 3 robust sigmas below it) on a value whose bin is
//     below every bin seen so far: strength at least mxOutage, in the level
//     family, reported as Detector "outage" with Outage set whichever
//     channel is strongest. A busy metric's context channel can hide a drop
//     to zero in its own noise; an operator wants it named.
//  5. Suppression: after an alert, no new alert from the same channel
//     family (context; seasonal or level) for max(mxRest, mxRestFrac x points
//     seen so far) points; scores there are scaled by 0.49. The longer a
//     series has run, the rarer its alerts. Each family has its own rest (so
//     a context alert does not hide a level shift that follows it), and an
//     alert of either family keeps the other quiet for mxRest points (so one
//     event alerts once). Alert budget: the context strength is divided by
//     1 + mxCtxBudge x the context alerts the series has raised so far, so a
//     series that keeps producing novelty (bursty traffic) must produce more
//     of it to alert again. A new high or low (a bin beyond every bin seen so
//     far) multiplies the context strength by mxRecord: on NAB such alerts
//     were right about four times in five, alerts on a novel sequence of
//     familiar values about one time in four.
package metrics

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/costbot/costbot/internal/detect"
)

// DefaultWarmUp is the default Options.WarmUp: the points that fix the
// quantization scale before anything is judged.
const DefaultWarmUp = 150

// Options configures a Detector. Start from DefaultOptions.
type Options struct {
	// Season is the number of points per day (288 for 5-minute points, 24
	// for hourly ones), or 1 for none; at most detect.MaxSeason. A season
	// opens the phase context and the seasonal channels.
	Season int
	// WarmUp is how many points fix the quantization scale before anything
	// is judged.
	WarmUp int
	// MinImpact is the baseline's minimum |observed-expected| in series
	// units: a point below it is learned as normal instead of clipped. It
	// never gates an alert itself.
	MinImpact float64
	// Method selects the baseline's detectors as detect.Options.Method does
	// (the default, ensemble, is what NAB measured). They decide only what
	// the baseline learns, never an alert.
	Method detect.Method
	// Start is the UTC day of the first point (optional). Only with a
	// Season of 7 (daily data) does the baseline use it, to recognise
	// recurring monthly events as detect.Options.Start documents.
	Start time.Time
}

// DefaultOptions returns the options NAB was measured with for 5-minute
// points: a season of 288, 150 points of warm-up, no minimum impact and the
// ensemble baseline.
func DefaultOptions() Options {
	return Options{Season: 288, WarmUp: DefaultWarmUp, Method: detect.MethodEnsemble}
}

// Validate reports every invalid field, naming it and its value.
func (o Options) Validate() error {
	var errs []error
	if o.Season < 1 || o.Season > detect.MaxSeason {
		errs = append(errs, fmt.Errorf("season: %d must be in 1..%d", o.Season, detect.MaxSeason))
	}
	if o.WarmUp < 0 {
		errs = append(errs, fmt.Errorf("warm-up: %d must be >= 0", o.WarmUp))
	}
	if math.IsNaN(o.MinImpact) || o.MinImpact < 0 || math.IsInf(o.MinImpact, 0) {
		errs = append(errs, fmt.Errorf("min impact: %v must be a finite number >= 0", o.MinImpact))
	}
	if o.Method < detect.MethodEnsemble || o.Method > detect.MethodESD {
		errs = append(errs, fmt.Errorf("method: unknown value %d", int(o.Method)))
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid metrics options: %w", errors.Join(errs...))
	}
	return nil
}

// Detector judges one metric point by point. Step allocates nothing; memory
// is O(season) plus fixed hash tables.
type Detector struct {
	opts     Options
	base     *baseline             // the cost baseline over the season (Expected, Sigma, outage test)
	nSeen    int                   // non-missing points stepped
	c0, w0   float64               // quantization centre and bin width
	grids    [len(mxGrids)]grid    // context channel quantizations
	shorts   [len(mxShorts)]window // mean raw score of the last mxShorts[i] points
	lks      [len(mxShorts)]ewmv   // their long-run means and variances
	lastAl   [2]int                // last alert of the context channel, of the seasonal or level channel
	daily    seasonal              // seasonal channel against the same phase of earlier days
	week     *baseline             // the cost baseline over a week of points (nil without a daily season)
	weekly   seasonal              // seasonal channel against the same phase of earlier weeks
	v2, mL   float64               // EWMAs of |value - mL| and of the value (mL)
	dL       float64               // level channel: the level
	dLong    ewmv                  // its long-run mean and variance (n = points seen)
	nCtxAl   int                   // context-channel alerts so far
	bHi, bLo int64                 // highest and lowest bin seen so far
	dHi, dLo float64               // level channel: highest and lowest level so far
}

// New returns a Detector for opts, or an error naming every invalid field.
func New(opts Options) (*Detector, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	s := opts.Season
	d := &Detector{opts: opts, lastAl: [2]int{math.MinInt / 2, math.MinInt / 2},
		daily: seasonal{short: newWindow(mxSeasShort)}, weekly: seasonal{short: newWindow(mxSeasShort)}}
	// both directions and no minimum change: a metric may fall as well as rise
	d.base = newBaseline(baselineOptions{season: s, warmUp: opts.WarmUp, minImpact: opts.MinImpact,
		dir: detect.DirectionBoth, method: opts.Method, start: opts.Start})
	if s > 1 && 7*s <= detect.MaxSeason {
		// the cost defaults of the time: up only, 5 units and 20% minimum
		// change, 28 points of warm-up
		d.week = newBaseline(baselineOptions{season: 7 * s, warmUp: 28, minImpact: 5, minChange: 0.2,
			dir: detect.DirectionUp, method: detect.MethodEnsemble})
	}
	for i := range d.grids {
		g := &d.grids[i]
		g.phase = newCtxTable()
		for o := range g.seq {
			g.seq[o], g.seqH[o] = newCtxTable(), newCtxTable()
		}
	}
	for i, k := range mxShorts {
		d.shorts[i] = newWindow(k)
	}
	return d, nil
}

// Series judges every point of values with a fresh Detector. Result i uses
// values[:i+1] only. NaN marks a missing point. It panics on invalid options;
// call Options.Validate first for user input.
func Series(values []float64, opts Options) []detect.Result {
	d, err := New(opts)
	if err != nil {
		panic(err)
	}
	out := make([]detect.Result, len(values))
	for i, v := range values {
		out[i] = d.Step(v)
	}
	return out
}

// Index returns the index the next Step judges (points stepped so far).
func (d *Detector) Index() int { return d.base.t }

// Season returns the season length in use.
func (d *Detector) Season() int { return d.base.s }

const (
	mxBinWidth = 2.0        // bin width in running mean absolute deviations
	mxLongA    = 1.0 / 3125 // likelihood: floor of the long-run EWMA rate
	mxLog      = 4.32       // likelihood: -log10(tail) at the threshold
	mxRest     = 100        // points without a new alert after an alert, at least
	mxRestFrac = 0.0625     // ... and this share of the points seen so far
	mxOrders   = 3          // context lengths 1..mxOrders
	mxPhases   = 24         // phase buckets per season for the phase context
	mxCtxBudge = 0.05       // context strength divided by 1 + this x the series' context alerts so far
	mxRecord   = 3.0        // context strength times this when the value's bin is a new high or low

	// seasonal channel (series with a season only)
	mxSeasZ        = 7.5   // |z| against the same phase of earlier seasons, clipped at 1 after / mxSeasZ
	mxSeasShort    = 6     // likelihood: short window (points)
	mxSeasLong     = 500.0 // likelihood: long-run EWMA window (points), at most
	mxSeasVar      = 0.01  // likelihood: variance floor of the short mean
	mxSeasStrength = 0.7   // judged only when the season explains this much: 1 - (E|r| / E|v-level|)^2
	mxSeasRate     = 4     // seasons in the EWMAs of that strength
	mxSeasWarm     = 3     // seasons before the channel judges
	mxWeekZ        = 15.0  // weekly baseline: |z| clipped at 1 after / mxWeekZ
	mxWeekStrength = 0.875 // weekly baseline: judged only when the weekly season explains this much

	// level channel
	mxDriftW      = 30.0   // EWMA window of the level (points)
	mxDriftLong   = 1600.0 // long-run EWMA window of that level's mean and variance (points), at most
	mxDriftLog    = 10.0   // -log10(two-sided Gaussian tail) at the threshold
	mxLevelRecord = 2.0    // level strength times this when the level is a new high or low
	mxOutage      = 1.1    // level-family strength of an outage (the cost baseline's) that is a new low
)

// mxGrids are the context channel's quantizations, as (offset in bins,
// width relative to mxBinWidth); each is a pair of grids half a bin apart.
// The raw score is their mean: one lucky or unlucky bin edge decides less.
var mxGrids = [...]struct{ off, scale float64 }{{0, 1}, {0.25, 0.8}}

// mxShorts are the context likelihood's short windows (points); the
// strength is the mean of the three.
var mxShorts = [...]int{2, 3, 4}

const ctxTableBits = 16

// ctxTable is a set of uint64 keys with open addressing; it never allocates
// after construction. When three quarters full it forgets everything.
type ctxTable struct {
	keys []uint64
	n    int
}

func newCtxTable() ctxTable {
	return ctxTable{keys: make([]uint64, 1<<ctxTableBits)}
}

// add adds key and reports whether it was new.
func (t *ctxTable) add(key uint64) bool {
	key |= 1 // 0 marks an empty slot
	mask := uint64(len(t.keys) - 1)
	h := (key * 0x9e3779b97f4a7c15) >> (64 - ctxTableBits)
	for i := h; ; i = (i + 1) & mask {
		switch t.keys[i] {
		case key:
			return false
		case 0:
			if t.n >= len(t.keys)*3/4 {
				clear(t.keys)
				t.n = 0
				return t.add(key)
			}
			t.keys[i] = key
			t.n++
			return true
		}
	}
}

// grid is one quantization of the context channel: a grid and its
// half-bin-offset twin, with their contexts.
type grid struct {
	hist, histH [mxOrders]int64    // last bins on the two grids (ring)
	seq, seqH   [mxOrders]ctxTable // contexts of length 1..mxOrders
	phase       ctxTable           // (phase bucket, bin)
}

// novel adds bin position x (in bins of this grid) and returns how many of
// its contexts were never seen before on either grid of the pair.
func (g *grid) novel(x float64, n int, ph int64) float64 {
	b, bh := int64(math.Floor(x)), int64(math.Floor(x+0.5))
	g.hist[n%mxOrders], g.histH[n%mxOrders] = b, bh
	raw := 0.0
	var key, keyH uint64 = 0x12345, 0x54321
	for o := 1; o <= mxOrders && o <= n; o++ {
		j := (n - o + 1 + mxOrders) % mxOrders
		key = mix(key, uint64(g.hist[j])+uint64(o)*0x1000193)
		keyH = mix(keyH, uint64(g.histH[j])+uint64(o)*0x1000193)
		nov := g.seq[o-1].add(key)
		if g.seqH[o-1].add(keyH) && nov {
			raw++
		}
	}
	if ph >= 0 && g.phase.add(mix(uint64(ph)+99, uint64(b)+1)) {
		raw++
	}
	return raw
}

// window is the running mean of the last len(buf) values (of fewer at the
// start); its buffer is allocated once.
type window struct {
	buf    []float64
	pos, n int
	sum    float64
}

func newWindow(n int) window { return window{buf: make([]float64, n)} }

// push adds x, drops the oldest value once the window is full, and returns
// the mean.
func (w *window) push(x float64) float64 {
	old := w.buf[w.pos]
	w.buf[w.pos] = x
	if w.pos++; w.pos == len(w.buf) {
		w.pos = 0
	}
	w.sum += x - old
	if w.n < len(w.buf) {
		w.n++
	}
	return w.sum / float64(w.n)
}

// ewmv is an exponentially weighted mean and variance: the first points
// weigh equally (rate 1/(n+1)), later ones at the floor rate.
type ewmv struct {
	mean, v float64
	n       int // values added
}

func (s *ewmv) add(x, floor float64) {
	al := fmax(1/float64(s.n+1), floor)
	dm := x - s.mean
	s.mean += al * dm
	s.v = (1 - al) * (s.v + al*dm*dm)
	s.n++
}

// strength maps a Gaussian tail probability to a channel strength, 1 at a
// tail of 10^-atOne: -log10(tail)/atOne.
func strength(tail, atOne float64) float64 {
	return -math.Log10(fmax(tail, 1e-300)) / atOne
}

// above is the strength of x above the mean (1 at a one-sided Gaussian tail
// of 10^-atOne), with the variance at least varFloor; 0 at or below the mean
// and before anything was added.
func (s *ewmv) above(x, varFloor, atOne float64) float64 {
	if s.n == 0 {
		return 0
	}
	y := (x - s.mean) / math.Sqrt(fmax(s.v, varFloor))
	if y <= 0 {
		return 0
	}
	return strength(0.5*math.Erfc(y/math.Sqrt2), atOne)
}

// seasonal is one seasonal channel: the recent mean of min(|z|/scale, 1)
// against its long-run distribution, judged only while the season explains
// the series.
type seasonal struct {
	short window  // mean min(|z|/scale, 1) of the last mxSeasShort points
	long  ewmv    // its long-run mean and variance
	r2    float64 // EWMA of |residual| against this season's baseline
}

// judge adds z and returns the channel's strength when open, else 0.
func (c *seasonal) judge(z, scale float64, open bool) float64 {
	sh := c.short.push(fmin(math.Abs(z)/scale, 1))
	var e float64
	if open {
		e = c.long.above(sh, mxSeasVar, mxLog)
	}
	c.long.add(sh, 1/mxSeasLong)
	return e
}

// learn adds a residual to the EWMA behind explains, at rate a.
func (c *seasonal) learn(resid, a float64) { c.r2 += a * (math.Abs(resid) - c.r2) }

// explains reports whether the season explains at least min of the series'
// spread v2 (EWMA of |value - level|): 1 - (r2 / v2)^2 >= min.
func (c *seasonal) explains(v2, min float64) bool {
	return v2 > 0 && 1-(c.r2/v2)*(c.r2/v2) >= min
}

func mix(a, b uint64) uint64 {
	a ^= b + 0x9e3779b97f4a7c15 + (a << 6) + (a >> 2)
	return a * 0xff51afd7ed558ccd
}

// Step judges the next point. v = NaN marks a missing point: nothing is
// learned from it and it is never anomalous. Expected, Sigma and Impact come
// from the seasonal baseline; Detector names the deciding channel (context,
// seasonal, level or outage) and Since is the alert's own index.
func (d *Detector) Step(v float64) detect.Result {
	b := d.base
	idx := b.t
	res := b.step(v)     // advances b.t and the running mean / dispersion
	outage := res.Outage // near zero, far below the baseline; judged below with the new low
	res.Score, res.Anomaly, res.Since, res.Outage, res.Detector = 0, false, -1, false, ""
	var rw detect.Result // the weekly baseline, stepped on missing points too so its phase stays aligned
	if d.week != nil {
		rw = d.week.step(v)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return res
	}
	d.nSeen++
	// seasonal channel: residual against the same phase of earlier days
	var eS float64
	a := 1 / float64(mxSeasRate*b.s) // rate of the EWMAs behind "the season explains"
	if b.s > 1 && b.phaseN[(b.t-1)%b.s] >= 3 {
		open := d.nSeen > mxSeasWarm*b.s && d.daily.explains(d.v2, mxSeasStrength)
		eS = d.daily.judge(res.Sigma, mxSeasZ, open)
		d.daily.learn(v-res.Expected, a)
		if d.mL == 0 {
			d.mL = v
		}
		d.mL += a * (v - d.mL)
		dv := v - d.mL
		d.v2 += a * (math.Abs(dv) - d.v2)
	}
	// the same against the same phase of earlier weeks: a holiday looks like a
	// Sunday, which no daily baseline finds strange
	if w := d.week; w != nil && w.phaseN[(w.t-1)%w.s] >= 3 && !math.IsNaN(rw.Sigma) {
		d.weekly.learn(v-rw.Expected, a)
		eS = fmax(eS, d.weekly.judge(rw.Sigma, mxWeekZ, d.weekly.explains(d.v2, mxWeekStrength)))
	}
	if d.nSeen <= d.opts.WarmUp || d.w0 == 0 {
		d.c0, d.w0 = b.mean, fmax(b.disp*mxBinWidth, 1e-9*fmax(math.Abs(b.mean), 1))
	}
	bin := int64(math.Floor((v - d.c0) / d.w0))
	if d.nSeen == 1 {
		d.bHi, d.bLo = bin, bin
	}
	record := bin > d.bHi || bin < d.bLo
	outage = outage && bin < d.bLo // a drop to near zero below every value so far
	d.bHi, d.bLo = max(d.bHi, bin), min(d.bLo, bin)
	den, ph := float64(mxOrders), int64(-1)
	if b.s > 1 {
		ph = int64((b.t-1)%b.s) * mxPhases / int64(b.s)
		den++
	}
	raw := 0.0
	for i, gs := range mxGrids {
		raw += d.grids[i].novel((v-d.c0)/(d.w0*gs.scale)+gs.off, d.nSeen, ph)
	}
	raw /= den * float64(len(d.grids))

	// likelihood of the short-window means against their own long-run
	// distributions; the strength is the mean over the short windows
	var e float64
	judged := d.nSeen > d.opts.WarmUp
	for i := range d.shorts {
		short := d.shorts[i].push(raw)
		lk := &d.lks[i]
		if judged {
			e += lk.above(short, 1e-4, mxLog)
		}
		lk.add(short, mxLongA)
	}
	e /= float64(len(d.shorts))
	// level channel: a 30-point EWMA of the value against its own long-run distribution
	var eD float64
	if d.dLong.n == 0 {
		d.dL = v
	}
	d.dL += (v - d.dL) / mxDriftW
	if judged && d.dLong.n > int(2*mxDriftW) {
		sd := math.Sqrt(fmax(d.dLong.v, 1e-12*d.dLong.mean*d.dLong.mean+1e-300))
		if y := math.Abs(d.dL-d.dLong.mean) / sd; y > 0 {
			eD = strength(math.Erfc(y/math.Sqrt2), mxDriftLog) // two-sided
		}
		if d.dL > d.dHi || d.dL < d.dLo {
			eD *= mxLevelRecord // a level never reached before
		}
	}
	if d.dLong.n == 0 {
		d.dHi, d.dLo = d.dL, d.dL
	}
	if d.dLong.n > int(2*mxDriftW) {
		d.dHi, d.dLo = fmax(d.dHi, d.dL), fmin(d.dLo, d.dL)
	}
	d.dLong.add(d.dL, 1/mxDriftLong)
	if !judged {
		return res
	}
	// alert budget: a series that keeps raising context alerts needs stronger
	// novelty for the next one
	e /= 1 + mxCtxBudge*float64(d.nCtxAl)
	if record {
		e *= mxRecord // a value beyond every bin seen so far is rarely noise
	}
	ch, name := 0, "context" // the channel that decides, for its own rest
	switch {
	case outage: // reported as such, whichever channel is strongest
		ch, name, e, res.Outage = 1, "outage", fmax(fmax(e, mxOutage), fmax(eS, eD)), true
	case fmax(eS, eD) > e:
		ch, name, e = 1, "level", fmax(eS, eD)
		if eS >= eD {
			name = "seasonal"
		}
	}
	res.Score = e * e / (1 + e*e)
	if res.Score >= 0.5 {
		if idx-d.lastAl[ch] > max(mxRest, int(mxRestFrac*float64(d.nSeen))) && idx-d.lastAl[1-ch] > mxRest {
			d.lastAl[ch] = idx
			if ch == 0 {
				d.nCtxAl++
			}
			res.Anomaly, res.Since, res.Detector = true, idx, name
			// the alert reported v: a level rising towards it is not news
			d.dHi, d.dLo = fmax(d.dHi, v), fmin(d.dLo, v)
		} else {
			res.Score *= 0.49
		}
	}
	return res
}
