package detect_test

import (
	"math"
	"testing"

	"github.com/costbot/costbot/internal/detect"
)

func metricsOpts() detect.Options {
	o := detect.DefaultOptions()
	o.Mode, o.Season, o.WarmUp, o.MinImpact = detect.ModeMetrics, 288, 150, 0
	return o
}

// metricSeries is a noisy 5-minute metric with a daily cycle and a level
// jump at jump.
func metricSeries(n, jump int) []float64 {
	v := make([]float64, n)
	x := uint64(7)
	for i := range v {
		x = x*6364136223846793005 + 1442695040888963407
		u := float64(x>>11)/float64(1<<53) - 0.5
		v[i] = 50 + 10*math.Sin(2*math.Pi*float64(i)/288) + 2*u
		if i >= jump {
			v[i] += 60
		}
	}
	return v
}

func TestMetrics_DetectsJumpAndIsCausal(t *testing.T) {
	v := metricSeries(3000, 2500)
	full := detect.Series(v, metricsOpts())
	first := -1
	for i, r := range full {
		if r.Anomaly {
			first = i
			if i >= 2500 {
				break
			}
		}
	}
	if first < 2500 || first > 2510 {
		t.Errorf("last alert before/at the jump: %d, want the jump at 2500..2510", first)
	}
	for _, n := range []int{151, 1000, 2501} {
		pre := detect.Series(v[:n], metricsOpts())
		for i := range pre {
			if pre[i].Score != full[i].Score || pre[i].Anomaly != full[i].Anomaly {
				t.Fatalf("prefix %d: point %d differs", n, i)
			}
		}
	}
}

func TestMetrics_StepAllocs(t *testing.T) {
	d, err := detect.New(metricsOpts())
	if err != nil {
		t.Fatal(err)
	}
	v := metricSeries(5000, 4000)
	i := 0
	allocs := testing.AllocsPerRun(5000, func() {
		d.Step(v[i%len(v)])
		i++
	})
	if allocs > 0 {
		t.Errorf("Step allocates %.2f times per call in metrics mode", allocs)
	}
}

// TestMetrics_NewHighAlerts: at the daily peak of a quiet metric, a value
// just above every value seen so far lands in a bin never reached before
// and alerts; the previous high at the same point does not.
func TestMetrics_NewHighAlerts(t *testing.T) {
	const at = 72 + 9*288 // a daily peak of metricSeries
	base := metricSeries(3000, math.MaxInt)
	hi := math.Inf(-1)
	for _, x := range base[:at] {
		hi = max(hi, x)
	}
	for _, tc := range []struct {
		name  string
		value float64
		want  bool
	}{
		{"usual peak", base[at], false},
		{"below the high", hi - 4, false},
		{"the high again", hi, false},
		{"just above the high", hi + 3, true},
		{"far above the high", hi + 8, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := append([]float64(nil), base...)
			v[at] = tc.value
			r := detect.Series(v, metricsOpts())[at]
			if r.Anomaly != tc.want {
				t.Errorf("value %.2f (high so far %.2f): anomaly %v, score %.3f; want anomaly %v", tc.value, hi, r.Anomaly, r.Score, tc.want)
			}
		})
	}
}
