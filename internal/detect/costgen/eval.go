package costgen

import (
	"fmt"
	"sort"
	"strings"

	"github.com/costbot/costbot/internal/detect"
)

// Tally counts events and alerts for one slice of the series.
type Tally struct {
	Events, Detected int
	FalseAlerts      int
	Years            float64
}

// Precision is detected / (detected + false alerts).
func (t Tally) Precision() float64 {
	if d := float64(t.Detected + t.FalseAlerts); d > 0 {
		return float64(t.Detected) / d
	}
	return 0
}

// Recall is detected / events.
func (t Tally) Recall() float64 {
	if t.Events > 0 {
		return float64(t.Detected) / float64(t.Events)
	}
	return 0
}

// F1 is the harmonic mean of precision and recall.
func (t Tally) F1() float64 {
	p, r := t.Precision(), t.Recall()
	if p+r > 0 {
		return 2 * p * r / (p + r)
	}
	return 0
}

// FalsePerYear is false alerts per judged series-year.
func (t Tally) FalsePerYear() float64 {
	if t.Years > 0 {
		return float64(t.FalseAlerts) / t.Years
	}
	return 0
}

func (t Tally) String() string {
	return fmt.Sprintf("events=%4d recall=%.3f false=%4d (%.2f/yr) F1=%.3f", t.Events, t.Recall(), t.FalseAlerts, t.FalsePerYear(), t.F1())
}

// Report holds event-level figures over many generated series.
type Report struct {
	Series       int
	Years        float64 // judged series-years
	Events       int     // labelled anomalies (blips and decoys excluded)
	Detected     int
	FalseAlerts  int // alert onsets outside every window, plus blips and decoys flagged
	BlipAlerts   int // blip windows with an alert (also counted as false)
	DecoyAlerts  int // decoy days with an alert (also counted as false)
	Precision    float64
	Recall       float64
	F1           float64
	FalsePerYear float64
	// MedianTTD is the median days from event start to the first alert, per kind.
	MedianTTD map[Kind]float64
	Missed    map[Kind]int
	// Breakdowns: per anomaly kind (false alerts are not attributed to a
	// kind), per noise level and growth rate of the series (NoiseBuckets,
	// GrowthBuckets), per service; Large are spikes and shifts of x10 and
	// more, After anomalies starting at
	// most 14 days after the previous one ended.
	ByKind    map[Kind]Tally
	ByNoise   []Tally
	ByGrowth  []Tally
	ByService map[Service]Tally
	After     Tally
	Large     Tally
	// ByImpact splits anomalies by Event.Impact: under $50, $50..500 and
	// $500 a day or more (recall only: false alerts are not attributed).
	ByImpact []Tally
}

// NoiseBuckets are the upper bounds of the noise levels in Report.ByNoise.
var NoiseBuckets = []float64{0.1, 0.2, 0.45}

// GrowthBuckets are the upper bounds of the weekly growth rates in
// Report.ByGrowth: declining, flat, growing up to 1.5%/week, faster.
var GrowthBuckets = []float64{-0.002, 0.002, 0.015, 1}

var (
	noiseNames  = []string{"noise <10%", "noise 10-20%", "noise 20-45%"}
	growthNames = []string{"declining", "flat", "growth <1.5%/wk", "growth 1.5-4%/wk"}
)

// String renders the report.
func (r Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "series=%d years=%.1f events=%d detected=%d false=%d (blips %d, decoys %d)\n", r.Series, r.Years, r.Events, r.Detected, r.FalseAlerts, r.BlipAlerts, r.DecoyAlerts)
	fmt.Fprintf(&b, "precision=%.3f recall=%.3f F1=%.3f false/series-year=%.3f\n", r.Precision, r.Recall, r.F1, r.FalsePerYear)
	for _, k := range []Kind{Spike, Shift, Ramp, Drop} {
		fmt.Fprintf(&b, "  %-5s median TTD %.1f days, missed %d of %d\n", k, r.MedianTTD[k], r.Missed[k], r.ByKind[k].Events)
	}
	for i, t := range r.ByNoise {
		fmt.Fprintf(&b, "  %-17s %s\n", noiseNames[i], t)
	}
	for i, t := range r.ByGrowth {
		fmt.Fprintf(&b, "  %-17s %s\n", growthNames[i], t)
	}
	for _, s := range []Service{Regular, Intermittent, Tiny} {
		if t, ok := r.ByService[s]; ok {
			fmt.Fprintf(&b, "  %-17s %s\n", s, t)
		}
	}
	for i, n := range []string{"impact <$50/day", "impact $50-500", "impact >=$500"} {
		if t := r.ByImpact[i]; t.Events > 0 {
			fmt.Fprintf(&b, "  %-17s events=%4d recall=%.3f\n", n, t.Events, t.Recall())
		}
	}
	if r.Large.Events > 0 {
		fmt.Fprintf(&b, "  %-17s events=%4d recall=%.3f\n", "x10 and more", r.Large.Events, r.Large.Recall())
	}
	if r.After.Events > 0 {
		fmt.Fprintf(&b, "  %-17s events=%4d recall=%.3f\n", "<=14d after prev", r.After.Events, r.After.Recall())
	}
	return b.String()
}

// Evaluate runs detect.Series with opts over n series of Generate (seeds
// seed..seed+n-1) and scores alert onsets (the first point of each anomalous
// episode, as `costbot detect` reports them) against the labels.
func Evaluate(n int, seed uint64, g Options, opts detect.Options) Report {
	return Score(n, func(i int) Series { return Generate(seed+uint64(i), g) }, g.Quiet, func(s Series) []detect.Result {
		o := opts
		o.Start = s.Start
		return detect.Series(s.Values, o)
	})
}

// EvaluateRealistic is Evaluate over n series of Realistic from family f.
func EvaluateRealistic(f Family, n int, seed uint64, g Options, opts detect.Options) Report {
	return Score(n, func(i int) Series { return Realistic(f, seed+uint64(i), g) }, g.Quiet, func(s Series) []detect.Result {
		o := opts
		o.Start = s.Start
		return detect.Series(s.Values, o)
	})
}

// Score judges n series, gen(0..n-1), with judge and scores the alerts on
// days >= quiet: an anomaly is detected when an anomalous point falls in its
// window; an alert onset (Result.Since == t) outside every window is false,
// and so is each blip or decoy window with an anomalous point outside every
// anomaly's window.
func Score(n int, gen func(i int) Series, quiet int, judge func(Series) []detect.Result) Report {
	rep := Report{Series: n, MedianTTD: map[Kind]float64{}, Missed: map[Kind]int{}, ByKind: map[Kind]Tally{},
		ByNoise: make([]Tally, len(NoiseBuckets)), ByGrowth: make([]Tally, len(GrowthBuckets)), ByService: map[Service]Tally{}, ByImpact: make([]Tally, 3)}
	ttd := map[Kind][]float64{}
	for i := 0; i < n; i++ {
		s := gen(i)
		res := judge(s)
		var st Tally // this series
		st.Years = float64(len(s.Values)-quiet) / 365
		first := make([]int, len(s.Events))
		for j := range first {
			first[j] = -1
		}
		for t := quiet; t < len(res); t++ {
			r := res[t]
			if !r.Anomaly {
				continue
			}
			hit, anom := false, false // inside any window; inside an anomaly's (or an ambiguous change's)
			for _, ev := range s.Events {
				if t >= ev.Start && t <= ev.End {
					hit = true
					anom = anom || !ev.Kind.Silent()
				}
			}
			for j, ev := range s.Events {
				// an alert inside an anomaly's window is not a flag on a
				// blip or decoy whose window overlaps it
				if ev.Kind == Ambiguous || ev.Kind.Silent() && anom {
					continue
				}
				if t >= ev.Start && t <= ev.End && first[j] < 0 {
					first[j] = t
				}
			}
			if r.Since == t && !hit {
				st.FalseAlerts++
			}
		}
		prevEnd := -1000
		for j, ev := range s.Events {
			if ev.Kind == Ambiguous {
				continue
			}
			if ev.Kind.Silent() {
				if first[j] >= 0 && !inAnomaly(s.Events, ev.Start) {
					st.FalseAlerts++
					if ev.Kind == Blip {
						rep.BlipAlerts++
					} else {
						rep.DecoyAlerts++
					}
				}
				continue
			}
			kt := rep.ByKind[ev.Kind]
			kt.Events++
			st.Events++
			after := ev.Start-prevEnd <= 14
			prevEnd = ev.End
			large := (ev.Kind == Spike || ev.Kind == Shift) && ev.Factor >= 10
			imp := &rep.ByImpact[bucket([]float64{50, 500, 1e300}, ev.Impact)]
			imp.Events++
			if after {
				rep.After.Events++
			}
			if large {
				rep.Large.Events++
			}
			if first[j] >= 0 {
				kt.Detected++
				st.Detected++
				imp.Detected++
				if after {
					rep.After.Detected++
				}
				if large {
					rep.Large.Detected++
				}
				ttd[ev.Kind] = append(ttd[ev.Kind], float64(first[j]-ev.Start))
			} else {
				rep.Missed[ev.Kind]++
			}
			rep.ByKind[ev.Kind] = kt
		}
		rep.Years += st.Years
		rep.Events += st.Events
		rep.Detected += st.Detected
		rep.FalseAlerts += st.FalseAlerts
		add := func(t *Tally) {
			t.Events += st.Events
			t.Detected += st.Detected
			t.FalseAlerts += st.FalseAlerts
			t.Years += st.Years
		}
		add(&rep.ByNoise[bucket(NoiseBuckets, s.Noise)])
		add(&rep.ByGrowth[bucket(GrowthBuckets, s.Growth)])
		sv := rep.ByService[s.Service]
		add(&sv)
		rep.ByService[s.Service] = sv
	}
	for k, v := range ttd {
		sort.Float64s(v)
		rep.MedianTTD[k] = v[len(v)/2]
	}
	all := Tally{Events: rep.Events, Detected: rep.Detected, FalseAlerts: rep.FalseAlerts, Years: rep.Years}
	rep.Precision, rep.Recall, rep.F1, rep.FalsePerYear = all.Precision(), all.Recall(), all.F1(), all.FalsePerYear()
	return rep
}

func bucket(bounds []float64, x float64) int {
	for i, b := range bounds {
		if x < b {
			return i
		}
	}
	return len(bounds) - 1
}
