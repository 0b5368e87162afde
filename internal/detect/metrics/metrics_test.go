package metrics_test

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/costbot/costbot/internal/detect/metrics"
)

// metricsOpts are the options NAB measured, for 5-minute points.
func metricsOpts() metrics.Options { return metrics.DefaultOptions() }

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

func TestSeries_DetectsJumpAndIsCausal(t *testing.T) {
	v := metricSeries(3000, 2500)
	full := metrics.Series(v, metricsOpts())
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
		pre := metrics.Series(v[:n], metricsOpts())
		for i := range pre {
			if pre[i].Score != full[i].Score || pre[i].Anomaly != full[i].Anomaly {
				t.Fatalf("prefix %d: point %d differs", n, i)
			}
		}
	}
}

func TestDetector_StepAllocatesNothing(t *testing.T) {
	d, err := metrics.New(metricsOpts())
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
		t.Errorf("Step allocates %.2f times per call", allocs)
	}
}

// TestSeries_NewHighAlerts: at the daily peak of a quiet metric, a value
// just above every value seen so far lands in a bin never reached before
// and alerts; the previous high at the same point does not.
func TestSeries_NewHighAlerts(t *testing.T) {
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
			r := metrics.Series(v, metricsOpts())[at]
			if r.Anomaly != tc.want {
				t.Errorf("value %.2f (high so far %.2f): anomaly %v, score %.3f; want anomaly %v", tc.value, hi, r.Anomaly, r.Score, tc.want)
			}
		})
	}
}

// TestSeries_NewLevelAlerts: from point 3000 a metric draws only from the
// top fifth of the range it always had, so no value and no sequence of
// values is new, but its level is higher than ever: the level channel
// alerts, once, within a few hours (5-minute points).
func TestSeries_NewLevelAlerts(t *testing.T) {
	v := make([]float64, 4000)
	x := uint64(11)
	for i := range v {
		x = x*6364136223846793005 + 1442695040888963407
		u := float64(x>>11) / float64(1<<53)
		v[i] = 40 + 20*u
		if i >= 3000 {
			v[i] = 56 + 4*u
		}
	}
	o := metricsOpts()
	o.Season = 1
	var alerts []int
	for i, r := range metrics.Series(v, o) {
		if r.Anomaly && i >= 3000 {
			alerts = append(alerts, i)
			if r.Detector != "level" {
				t.Errorf("alert at %d by %q, want level", i, r.Detector)
			}
		}
	}
	if len(alerts) != 1 || alerts[0] > 3100 {
		t.Errorf("alerts after the change at 3000: %v, want one by 3100", alerts)
	}
}

// officeSeries is an hourly metric (starting on a Monday) that is busy on
// weekday afternoons and quiet at night and all weekend; the weekday
// holiday is as quiet as a Sunday.
func officeSeries(weeks, holiday int) []float64 {
	v := make([]float64, weeks*7*24)
	x := uint64(11)
	for i := range v {
		x = x*6364136223846793005 + 1442695040888963407
		u := float64(x>>11)/float64(1<<53) - 0.5
		day, hour := i/24, i%24
		v[i] = 20 + 4*u
		if day%7 < 5 && day != holiday && hour >= 8 && hour < 18 {
			v[i] += 80 + 8*math.Sin(float64(hour))
		}
	}
	return v
}

// TestSeries_HolidayAlerts: a Wednesday as quiet as a Sunday brings no
// value, sequence or hour-of-day pair that the weekends did not show, so
// only the weekly baseline (the same hour of earlier weeks) finds it; it
// alerts once, on that day, from the seasonal channel, and the same weeks
// without the holiday stay quiet.
func TestSeries_HolidayAlerts(t *testing.T) {
	const holiday = 7*5 + 2 // the sixth week's Wednesday
	o := metricsOpts()
	o.Season = 24
	tests := []struct {
		name    string
		holiday int
		want    bool
	}{
		{"holiday", holiday, true},
		{"no holiday", -1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := metrics.Series(officeSeries(7, tt.holiday), o)
			var alerts []int
			for i, r := range res {
				if r.Anomaly && i >= 4*7*24 {
					alerts = append(alerts, i)
					if i/24 != holiday || r.Detector != "seasonal" {
						t.Errorf("alert at day %d hour %d from %q, want only the holiday's, from the seasonal channel",
							i/24, i%24, r.Detector)
					}
				}
			}
			if got := len(alerts) > 0; got != tt.want {
				t.Errorf("alerts after week 4 at %v, want any: %v", alerts, tt.want)
			}
		})
	}
}

// noisySeries is an hourly metric around 50 whose bursts (one hour in
// five, up to 300) keep the context channel busy, with an hour at value
// drop at each index in drops.
func noisySeries(n int, drop float64, drops ...int) []float64 {
	v := make([]float64, n)
	x := uint64(3)
	next := func() float64 {
		x = x*6364136223846793005 + 1442695040888963407
		return float64(x>>11) / float64(1<<53)
	}
	for i := range v {
		v[i] = 45 + 10*next()
		if next() < 0.2 {
			v[i] += 250 * next()
		}
	}
	for _, i := range drops {
		v[i] = drop
	}
	return v
}

// TestSeries_OutageAlerts: an hour at zero in a busy metric that never went
// below 45 is an outage (near zero, far below the baseline, and below every
// value so far) and is reported as one; a second hour at zero is not news,
// and a dip to 10 is a new low but no outage.
func TestSeries_OutageAlerts(t *testing.T) {
	o := metricsOpts()
	o.Season = 24
	tests := []struct {
		name  string
		drop  float64
		drops []int
		want  []string // "index detector outage" from index 500 on
	}{
		{"zero", 0, []int{900}, []string{"900 outage true"}},
		{"zero twice", 0, []int{900, 1500}, []string{"900 outage true"}},
		{"dip to 10", 10, []int{900}, []string{"900 context false"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := metrics.Series(noisySeries(2000, tt.drop, tt.drops...), o)
			var got []string
			for i, r := range res[500:] {
				if r.Anomaly {
					got = append(got, fmt.Sprintf("%d %s %v", 500+i, r.Detector, r.Outage))
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("alerts %q, want %q", got, tt.want)
			}
		})
	}
}
