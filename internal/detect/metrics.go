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
var (
	mxBinWidth = 2.0        // bin width in running mean absolute deviations
	mxShort    = 3          // likelihood: short window (points, at most mxRing)
	mxLongA    = 1.0 / 2000 // likelihood: floor of the long-run EWMA rate
	mxLog      = 4.5        // likelihood: -log10(tail) at the threshold
	mxRest     = 100        // points without a new alert after an alert
	mxX        = [16]float64{0: 1, 4: 0.04, 8: 1}
)

const mxRing = 32

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
	nSeen                 int
	c0, w0                float64 // quantization centre and bin width
	b1, b2                int64   // previous bins
	f1, f2                int64
	ring2                 [2]float64
	pos2                  int
	sum2, lkMean2, lkVar2 float64
	tabs                  [5]ctxTable
	otab                  [8]ctxTable
	otabH                 [4]ctxTable
	histH                 [8]int64
	hist                  [8]int64
	ring                  [mxRing]float64
	pos, rN               int
	sum                   float64
	lkMean, lkVar         float64
	lkCnt                 int
	lastAl                int
}

func newMetricsState() *metricsState {
	m := &metricsState{lastAl: math.MinInt / 2}
	for i := range m.tabs {
		m.tabs[i] = newCtxTable()
	}
	for i := range m.otabH {
		m.otabH[i] = newCtxTable()
	}
	for i := range m.otab {
		m.otab[i] = newCtxTable()
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
	m.hist[m.nSeen%8] = b
	bh := int64(math.Floor((v-m.c0)/m.w0 + 0.5))
	m.histH[m.nSeen%8] = bh
	K := max(int(mxX[7]), 3)
	var key, keyH uint64 = 0x12345, 0x54321
	for o := 1; o <= K; o++ {
		key = mix(key, uint64(m.hist[(m.nSeen-o+1+8)%8])+uint64(o)*0x1000193)
		if m.nSeen < o {
			continue
		}
		nov := m.otab[o-1].add(key) < mxNov()
		if mxX[8] > 0 {
			keyH = mix(keyH, uint64(m.histH[(m.nSeen-o+1+8)%8])+uint64(o)*0x1000193)
			novH := m.otabH[o-1].add(keyH) < mxNov()
			if mxX[8] == 1 {
				nov = nov && novH
			} else if novH {
				raw += 0.5
				if nov {
					raw += 0.5
				}
				continue
			} else if nov {
				raw += 0.5
				continue
			} else {
				continue
			}
		}
		if nov {
			raw++
		}
	}
	den := float64(K)
	if mxX[0] > 0 && d.s > 1 {
		nb := int64(mxX[1])
		if nb <= 0 {
			nb = 24
		}
		ph := int64((d.t-1)%d.s) * nb / int64(d.s)
		if m.tabs[3].add(mix(uint64(ph)+99, uint64(b)+1)) == 0 {
			raw += mxX[0]
		}
		den += mxX[0]
	}
	if mxX[2] > 0 {
		bf := int64(math.Floor((v - m.c0) / (m.w0 * mxX[3])))
		if m.tabs[4].add(mix(mix(uint64(m.f1)+5, uint64(m.f2)+3), uint64(bf)+1)) == 0 {
			raw += mxX[2]
		}
		den += mxX[2]
		m.f2, m.f1 = m.f1, bf
	}
	raw /= den
	m.b2, m.b1 = m.b1, b

	// likelihood of the short-window mean against its own long-run distribution
	old := m.ring[m.pos]
	m.ring[m.pos] = raw
	if m.pos++; m.pos == mxShort {
		m.pos = 0
	}
	m.sum += raw - old
	if m.rN < mxShort {
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
	if mxX[5] > 0 && !math.IsNaN(res.Sigma) {
		r2 := fmin(math.Abs(res.Sigma)/8, 1)
		o2 := m.ring2[m.pos2]
		m.ring2[m.pos2] = r2
		if m.pos2++; m.pos2 == 2 {
			m.pos2 = 0
		}
		m.sum2 += r2 - o2
		sh2 := m.sum2 / 2
		if judged && m.lkCnt > 1 {
			sd := math.Sqrt(fmax(m.lkVar2, 1e-4))
			if x := (sh2 - m.lkMean2) / sd; x > 0 {
				tail := 0.5 * math.Erfc(x/math.Sqrt2)
				e = fmax(e, mxX[5]*-math.Log10(fmax(tail, 1e-300))/mxLog)
			}
		}
		dm := sh2 - m.lkMean2
		m.lkMean2 += al * dm
		m.lkVar2 = (1 - al) * (m.lkVar2 + al*dm*dm)
	}
	if !judged {
		return res
	}
	res.Score = e * e / (1 + e*e)
	if res.Score >= 0.5 {
		if idx-m.lastAl > max(mxRest, int(mxX[4]*float64(m.nSeen))) {
			m.lastAl = idx
			res.Anomaly, res.Since, res.Detector = true, idx, "context"
		} else {
			res.Score *= 0.49
		}
	}
	return res
}

func mxNov() uint32 { return uint32(max(1, mxX[6])) }
