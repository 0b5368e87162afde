package chart

import (
	"math"
	"strings"

	"gonum.org/v1/plot"

	"github.com/costbot/costbot/internal/cost"
)

// maxDayLabels is the most date labels the x axis carries.
const maxDayLabels = 8

// dayTicks puts date labels ("Jan 2") on UTC midnights of an axis in Unix
// seconds, with a step of 1, 2, 3, 7, 14 or more days so that at most
// maxDayLabels show, and unlabeled ticks on the other days of short ranges.
type dayTicks struct{}

func (dayTicks) Ticks(lo, hi float64) []plot.Tick {
	const day = 24 * 60 * 60
	if !(hi > lo) || math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		return nil
	}
	first := math.Ceil(lo/day) * day
	n := math.Floor((hi-first)/day) + 1 // midnights in range
	if n < 1 {
		return nil
	}
	step := math.Ceil(n / maxDayLabels)
	for _, s := range []float64{1, 2, 3, 7, 14} {
		if step <= s {
			step = s
			break
		}
	}
	var ticks []plot.Tick
	if step > 1 && n <= 62 {
		for x := first; x <= hi; x += day {
			ticks = append(ticks, plot.Tick{Value: x})
		}
	}
	for i := 0.0; i*step < n; i++ {
		x := first + i*step*day
		ticks = append(ticks, plot.Tick{Value: x, Label: unixDay(x).Format("Jan 2")})
	}
	return ticks
}

// moneyTicks puts about five labels at round amounts (1, 2, 2.5 or 5 times a
// power of ten) in the alert's currency, dropping the cents when every label
// has none.
type moneyTicks struct{ currency string }

func (m moneyTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := niceTicks(lo, hi, 5)
	if ticks == nil {
		ticks = plot.DefaultTicks{}.Ticks(lo, hi)
	}
	whole := true
	for i := range ticks {
		if ticks[i].Label == "" {
			continue
		}
		ticks[i].Label = cost.Money(ticks[i].Value, m.currency)
		if !strings.HasSuffix(ticks[i].Label, ".00") && !strings.Contains(ticks[i].Label, ".00 ") {
			whole = false
		}
	}
	if whole {
		for i := range ticks {
			ticks[i].Label = strings.Replace(ticks[i].Label, ".00", "", 1)
		}
	}
	return ticks
}

// niceTicks returns labeled ticks at multiples of a round step between lo
// and hi, about want of them; nil when the range is unusable.
func niceTicks(lo, hi float64, want int) []plot.Tick {
	span := hi - lo
	if !(span > 0) || math.IsInf(span, 0) {
		return nil
	}
	raw := span / float64(want)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := 10 * mag
	for _, f := range []float64{1, 2, 2.5, 5} {
		if raw <= f*mag {
			step = f * mag
			break
		}
	}
	first := math.Ceil(lo/step) * step
	var ticks []plot.Tick
	for i := 0; i <= 2*want+1; i++ {
		v := first + float64(i)*step
		if v > hi+step*1e-9 {
			break
		}
		if math.Abs(v) < step*1e-9 {
			v = 0 // no "-0"
		}
		ticks = append(ticks, plot.Tick{Value: v, Label: "x"})
	}
	return ticks
}
