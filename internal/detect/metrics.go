package detect

import (
	"math"
)

// Metrics mode (Options.Mode = ModeMetrics) is a contextual novelty detector
// for sub-daily machine metrics (the idea of CAD OSE, implemented from the
// description), followed by an anomaly-likelihood post-processor (Numenta's
// idea) and alert suppression. See README.md ("Metrics mode").
//
//  1. Quantize: bin = floor((v - c0) / w0), where c0 is the running mean and
//     w0 = mxBinWidth x the running mean absolute deviation, both frozen once
//     WarmUp points have been seen. Bins are unbounded, so a value outside the
//     warm-up range gets bins never seen before.
//  2. Contexts: the current bin, and the sequences of the last two and three
//     bins, are counted in hash tables allocated once. The raw score is the
//     share of these three contexts never seen before (0, 1/3, 2/3 or 1).
//  3. Likelihood: the mean raw score over the last mxShort points against
//     the long-run mean and variance of that same short mean (EWMA, rate at
//     least mxLongA); the Gaussian tail gives strength -log10(tail)/mxLog,
//     1 at the threshold (tail 1e-4), and score = e^2/(1+e^2).
//  4. Suppression: an alert (score >= 0.5) is followed by mxRest points in
//     which scores are scaled by 0.49, so they stay below 0.5.
const (
	mxBinWidth = 4.0        // bin width in running mean absolute deviations
	mxShort    = 3          // likelihood: short window (points)
	mxLongA    = 1.0 / 2000 // likelihood: floor of the long-run EWMA rate
	mxLog      = 4.0        // likelihood: -log10(tail) at the threshold
	mxRest     = 100        // points without a new alert after an alert
)

const ctxTableBits = 16

// ctxTable counts uint64 keys with open addressing; it never allocates after
// construction. When three quarters full it forgets everything.
type ctxTable struct {
	keys []uint64
	cnt  []uint32
	n    int
}

func newCtxTable() ctxTable {
	return ctxTable{keys: make([]uint64, 1<<ctxTableBits), cnt: make([]uint32, 1<<ctxTableBits)}
}

// add counts key and returns its count before this call.
func (t *ctxTable) add(key uint64) uint32 {
	key |= 1 // 0 marks an empty slot
	mask := uint64(len(t.keys) - 1)
	h := (key * 0x9e3779b97f4a7c15) >> (64 - ctxTableBits)
	for i := h; ; i = (i + 1) & mask {
		switch t.keys[i] {
		case key:
			c := t.cnt[i]
			if c < math.MaxUint32 {
				t.cnt[i]++
			}
			return c
		case 0:
			if t.n >= len(t.keys)*3/4 {
				clear(t.keys)
				clear(t.cnt)
				t.n = 0
				return t.add(key)
			}
			t.keys[i], t.cnt[i] = key, 1
			t.n++
			return 0
		}
	}
}

type metricsState struct {
	nSeen         int
	c0, w0        float64 // quantization centre and bin width
	b1, b2        int64   // previous bins
	tabs          [3]ctxTable
	ring          [mxShort]float64
	pos, rN       int
	sum           float64
	lkMean, lkVar float64
	lkCnt         int
	lastAl        int
}

func newMetricsState() *metricsState {
	m := &metricsState{lastAl: math.MinInt / 2}
	for i := range m.tabs {
		m.tabs[i] = newCtxTable()
	}
	return m
}

func mix(a, b uint64) uint64 {
	a ^= b + 0x9e3779b97f4a7c15 + (a << 6) + (a >> 2)
	return a * 0xff51afd7ed558ccd
}

// stepMetrics judges v in metrics mode. The seasonal baseline still runs (it
// fills Expected, Sigma and Impact) but does not decide.
func (d *Detector) stepMetrics(v float64) Result {
	m := d.mx
	idx := d.t
	res := d.stepCost(v) // advances d.t and the running mean / dispersion
	res.Score, res.Anomaly, res.Since, res.Outage, res.Detector = 0, false, -1, false, ""
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return res
	}
	m.nSeen++
	if m.nSeen <= d.opts.WarmUp || m.w0 == 0 {
		m.c0, m.w0 = d.mean, fmax(d.disp*mxBinWidth, 1e-9*fmax(math.Abs(d.mean), 1))
	}
	b := int64(math.Floor((v - m.c0) / m.w0))
	raw := 0.0
	if m.tabs[0].add(uint64(b)+1) == 0 {
		raw++
	}
	if m.nSeen >= 2 && m.tabs[1].add(mix(uint64(m.b1)+7, uint64(b)+1)) == 0 {
		raw++
	}
	if m.nSeen >= 3 && m.tabs[2].add(mix(mix(uint64(m.b2)+13, uint64(m.b1)+7), uint64(b)+1)) == 0 {
		raw++
	}
	raw /= 3
	m.b2, m.b1 = m.b1, b

	// likelihood of the short-window mean against its own long-run distribution
	old := m.ring[m.pos]
	m.ring[m.pos] = raw
	if m.pos++; m.pos == len(m.ring) {
		m.pos = 0
	}
	m.sum += raw - old
	if m.rN < len(m.ring) {
		m.rN++
	}
	short := m.sum / float64(m.rN)
	var e float64
	judged := m.nSeen > d.opts.WarmUp
	if judged && m.lkCnt > 0 {
		sd := math.Sqrt(fmax(m.lkVar, 1e-4))
		if x := (short - m.lkMean) / sd; x > 0 {
			tail := 0.5 * math.Erfc(x/math.Sqrt2)
			e = -math.Log10(fmax(tail, 1e-300)) / mxLog
		}
	}
	al := fmax(1/float64(m.lkCnt+1), mxLongA)
	dm := short - m.lkMean
	m.lkMean += al * dm
	m.lkVar = (1 - al) * (m.lkVar + al*dm*dm)
	m.lkCnt++
	if !judged {
		return res
	}
	res.Score = e * e / (1 + e*e)
	if res.Score >= 0.5 {
		if idx-m.lastAl > mxRest {
			m.lastAl = idx
			res.Anomaly, res.Since, res.Detector = true, idx, "context"
		} else {
			res.Score *= 0.49
		}
	}
	return res
}
