package costgen

import (
	"fmt"
	"sort"
	"strings"

	"github.com/costbot/costbot/internal/detect"
)

// Report holds event-level figures over many generated series.
type Report struct {
	Series       int
	Years        float64 // judged series-years
	Events       int     // labelled anomalies (blips excluded)
	Detected     int
	FalseAlerts  int // alert onsets outside every anomaly window, blips included
	BlipAlerts   int // alerts inside blip windows (also counted as false)
	Precision    float64
	Recall       float64
	F1           float64
	FalsePerYear float64
	// MedianTTD is the median days from event start to the first alert, per kind.
	MedianTTD map[Kind]float64
	Missed    map[Kind]int
}

// String renders the report on a few lines.
func (r Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "series=%d years=%.1f events=%d detected=%d false=%d (blips %d)\n", r.Series, r.Years, r.Events, r.Detected, r.FalseAlerts, r.BlipAlerts)
	fmt.Fprintf(&b, "precision=%.3f recall=%.3f F1=%.3f false/series-year=%.3f\n", r.Precision, r.Recall, r.F1, r.FalsePerYear)
	for _, k := range []Kind{Spike, Shift, Ramp, Drop} {
		fmt.Fprintf(&b, "  %-5s median TTD %.1f days, missed %d\n", k, r.MedianTTD[k], r.Missed[k])
	}
	return b.String()
}

// Evaluate runs detect.Series with opts over n series (seeds seed..seed+n-1)
// and scores alert onsets (the first point of each anomalous episode, as
// `costbot detect` reports them) against the labels.
func Evaluate(n int, seed uint64, g Options, opts detect.Options) Report {
	rep := Report{Series: n, MedianTTD: map[Kind]float64{}, Missed: map[Kind]int{}}
	ttd := map[Kind][]float64{}
	for i := 0; i < n; i++ {
		s := Generate(seed+uint64(i), g)
		o := opts
		o.Start = s.Start
		res := detect.Series(s.Values, o)
		rep.Years += float64(len(s.Values)-g.Quiet) / 365
		first := make([]int, len(s.Events))
		for j := range first {
			first[j] = -1
		}
		for t := g.Quiet; t < len(res); t++ {
			r := res[t]
			if !r.Anomaly {
				continue
			}
			hit := false
			for j, ev := range s.Events {
				if t >= ev.Start && t <= ev.End {
					hit = true
					if first[j] < 0 {
						first[j] = t
					}
				}
			}
			onset := r.Since == t
			if onset && !hit {
				rep.FalseAlerts++
			}
		}
		for j, ev := range s.Events {
			if ev.Kind == Blip {
				if first[j] >= 0 {
					rep.BlipAlerts++
					rep.FalseAlerts++
				}
				continue
			}
			rep.Events++
			if first[j] >= 0 {
				rep.Detected++
				ttd[ev.Kind] = append(ttd[ev.Kind], float64(first[j]-ev.Start))
			} else {
				rep.Missed[ev.Kind]++
			}
		}
	}
	for k, v := range ttd {
		sort.Float64s(v)
		rep.MedianTTD[k] = v[len(v)/2]
	}
	tp := float64(rep.Detected)
	if tp+float64(rep.FalseAlerts) > 0 {
		rep.Precision = tp / (tp + float64(rep.FalseAlerts))
	}
	if rep.Events > 0 {
		rep.Recall = tp / float64(rep.Events)
	}
	if rep.Precision+rep.Recall > 0 {
		rep.F1 = 2 * rep.Precision * rep.Recall / (rep.Precision + rep.Recall)
	}
	if rep.Years > 0 {
		rep.FalsePerYear = float64(rep.FalseAlerts) / rep.Years
	}
	return rep
}
