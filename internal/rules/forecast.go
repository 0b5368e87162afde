package rules

import (
	"math"
	"sort"
	"time"

	"github.com/costbot/costbot/internal/cost"
)

const day = 24 * time.Hour

// forecastHistory is how many days of history the weekday profile uses.
const forecastHistory = 28

// Forecast projects spend for a whole period from a daily series.
//
// days are UTC midnights (any order, oldest first is usual) and values the
// spend of each day; NaN marks an unknown day. Days at or after now are
// ignored. The last remaining day is taken as the last complete day (billing
// data lags about a day); every day after it up to period.End is forecast.
//
// The projection is weekday-aware: for each weekday it takes the median of
// that weekday over the last 28 days (falling back to the median of all
// recent days when a weekday has no data), then scales the profile by the
// recent level, the median ratio of actual to profile over the last 7 days.
// With fewer than 7 days of history it falls back to the mean daily spend.
//
// daily[i] is the forecast for day start+i, where start is the later of
// period.Start and the day after the last complete day. total is the spend of
// the days of the series inside period plus the sum of daily; callers whose
// "spend so far" differs (invoice corrections) add sum(daily) to their own.
func Forecast(days []time.Time, values []float64, period cost.Period, now time.Time) (total float64, daily []float64) {
	type point struct {
		day time.Time
		v   float64
	}
	var pts []point
	var last time.Time
	for i, d := range days {
		if i >= len(values) {
			break
		}
		d = cost.Day(d)
		if !d.Before(now) {
			continue
		}
		if d.After(last) {
			last = d
		}
		if math.IsNaN(values[i]) || math.IsInf(values[i], 0) {
			continue
		}
		pts = append(pts, point{d, values[i]})
		if period.Contains(d) {
			total += values[i]
		}
	}
	start := cost.Day(period.Start)
	if !last.IsZero() && !last.Add(day).Before(start) {
		start = last.Add(day)
	}
	n := int(period.End.Sub(start) / day)
	if period.End.Sub(start)%day != 0 {
		n++
	}
	if n <= 0 || len(pts) == 0 {
		return total, nil
	}

	// History: the last forecastHistory days up to the last complete day.
	from := last.Add(-(forecastHistory - 1) * day)
	var hist []point
	for _, p := range pts {
		if !p.day.Before(from) {
			hist = append(hist, p)
		}
	}
	sort.Slice(hist, func(i, j int) bool { return hist[i].day.Before(hist[j].day) })
	daily = make([]float64, n)
	if len(hist) < 7 {
		var sum float64
		for _, p := range hist {
			sum += p.v
		}
		mean := 0.0
		if len(hist) > 0 {
			mean = sum / float64(len(hist))
		}
		for i := range daily {
			daily[i] = mean
			total += mean
		}
		return total, daily
	}

	var byWeekday [7][]float64
	var all []float64
	for _, p := range hist {
		byWeekday[p.day.Weekday()] = append(byWeekday[p.day.Weekday()], p.v)
		all = append(all, p.v)
	}
	overall := median(all)
	var profile [7]float64
	for w := range profile {
		if len(byWeekday[w]) > 0 {
			profile[w] = median(byWeekday[w])
		} else {
			profile[w] = overall
		}
	}

	// Level: how the last week compares with the profile (robust to one spike).
	var ratios []float64
	for _, p := range hist {
		if p.day.After(last.Add(-7*day)) && profile[p.day.Weekday()] > 0 {
			ratios = append(ratios, p.v/profile[p.day.Weekday()])
		}
	}
	level := 1.0
	if len(ratios) > 0 {
		level = median(ratios)
	}
	for i := range daily {
		d := start.Add(time.Duration(i) * day)
		daily[i] = profile[d.Weekday()] * level
		total += daily[i]
	}
	return total, daily
}

// median returns the median of xs (xs is reordered); 0 when empty.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	sort.Float64s(xs)
	m := len(xs) / 2
	if len(xs)%2 == 1 {
		return xs[m]
	}
	return (xs[m-1] + xs[m]) / 2
}
