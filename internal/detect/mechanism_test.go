package detect_test

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/costbot/costbot/internal/detect"
)

// noisy is n days around base with a weekly pattern, compound growth per
// week and multiplicative (log-normal) noise.
func noisy(n int, base, growth, noise float64, seed uint64) []float64 {
	rng := rand.New(rand.NewPCG(seed, 2))
	v := make([]float64, n)
	for i := range v {
		f := 1.0
		if i%7 >= 5 {
			f = 0.7
		}
		v[i] = base * f * math.Pow(1+growth, float64(i)/7) * math.Exp(noise*rng.NormFloat64())
	}
	return v
}

func onsets(res []detect.Result, from, to int) []int {
	var out []int
	for i := from; i <= to && i < len(res); i++ {
		if res[i].Anomaly && res[i].Since == i {
			out = append(out, i)
		}
	}
	return out
}

func TestSeries_ZeroOutageKeepsExpectedPositive(t *testing.T) {
	for _, days := range []int{7, 10, 14} {
		v := noisy(260, 500, 0, 0.05, 3)
		for i := 100; i < 100+days; i++ {
			v[i] = 0
		}
		v[200] *= 3
		res := detect.Series(v, detect.DefaultOptions())
		outage := false
		for i, r := range res {
			if r.Expected < 0 {
				t.Fatalf("%d-day outage: expected %.1f < 0 on day %d", days, r.Expected, i)
			}
			outage = outage || i >= 100 && i < 100+days && r.Anomaly && r.Outage
		}
		if !outage {
			t.Errorf("%d-day outage not reported", days)
		}
		if got := onsets(res, 100+days, 199); len(got) > 0 {
			t.Errorf("%d-day outage: recovery alerts on %v", days, got)
		}
		if !res[200].Anomaly {
			t.Errorf("%d-day outage: x3 spike on day 200 missed (score %.2f)", days, res[200].Score)
		}
	}
}

func TestSeries_GrowthRaisesNoAlert(t *testing.T) {
	// compound growth or decline adds no alert to the same noise without it
	// (at 5% noise: none at all over a year)
	for _, tc := range []struct {
		growth, noise float64
	}{{0.03, 0.05}, {0.04, 0.05}, {-0.015, 0.05}, {0.04, 0.1}, {0.02, 0.15}} {
		for seed := uint64(1); seed <= 3; seed++ {
			got := onsets(detect.Series(noisy(28+365, 200, tc.growth, tc.noise, seed), detect.DefaultOptions()), 0, 28+364)
			flat := onsets(detect.Series(noisy(28+365, 200, 0, tc.noise, seed), detect.DefaultOptions()), 0, 28+364)
			if len(got) > len(flat) || tc.noise <= 0.05 && len(got) > 0 {
				t.Errorf("growth %.3f/week, noise %.2f, seed %d: alerts on %v (flat series: %v)", tc.growth, tc.noise, seed, got, flat)
			}
		}
	}
}

func TestSeries_MonthlyBumpLearnedShiftAfterStretchAlerts(t *testing.T) {
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	opts := detect.DefaultOptions()
	opts.Start = start
	day := func(i int) time.Time { return start.AddDate(0, 0, i) }
	// month-start batch charge (x2.5 on day 1): alerts at most on its first two months
	v := noisy(300, 100, 0, 0.05, 4)
	for i := range v {
		if day(i).Day() == 1 {
			v[i] *= 2.5
		}
	}
	res := detect.Series(v, opts)
	for _, i := range onsets(res, 0, len(v)-1) {
		if i > 70 {
			t.Errorf("bump on %s still alerts", day(i).Format("2006-01-02"))
		}
	}
	// a x1.6 shift from March 10 (an elevated stretch), then a x3 shift on April 12
	v = noisy(300, 100, 0, 0.05, 5)
	mar10 := int(time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC).Sub(start).Hours() / 24)
	apr12 := int(time.Date(2025, 4, 12, 0, 0, 0, 0, time.UTC).Sub(start).Hours() / 24)
	for i := mar10; i < len(v); i++ {
		v[i] *= 1.6
		if i >= apr12 {
			v[i] *= 3
		}
	}
	res = detect.Series(v, opts)
	if got := onsets(res, apr12, apr12+2); len(got) == 0 {
		t.Errorf("x3 shift on April 12 after a stretch elevated on March 12: no alert (score %.2f)", res[apr12].Score)
	}
}

func TestSeries_DropToZeroOnNoisySeriesIsOutage(t *testing.T) {
	for _, noise := range []float64{0.3, 0.4} {
		v := noisy(200, 3000, 0, noise, 6)
		for i := 120; i < 130; i++ {
			v[i] *= 0.01
		}
		res := detect.Series(v, detect.DefaultOptions())
		found := false
		for i := 120; i < 130; i++ {
			found = found || res[i].Anomaly && res[i].Outage
		}
		if !found {
			t.Errorf("noise %.1f: 10-day drop to 1%% not reported as an outage (day 120: z %.2f)", noise, res[120].Sigma)
		}
	}
}

// An intermittent service's zero days are normal, and they do not pull the
// expected value of a billed day towards zero (hurdle model): a x3 spike on
// a billed day still alerts, and a month at zero is an outage.
func TestSeries_IntermittentZeroDaysAreNormal(t *testing.T) {
	for _, tc := range []struct {
		share, noise float64
	}{{0.1, 0.1}, {0.3, 0.1}, {0.5, 0.1}, {0.3, 0.3}, {0.5, 0.3}} {
		v := noisy(28+365, 100, 0, tc.noise, 7)
		rng := rand.New(rand.NewPCG(8, 8))
		for i := range v {
			if rng.Float64() < tc.share {
				v[i] = 0
			}
		}
		quiet := append([]float64(nil), v...)
		res := detect.Series(quiet, detect.DefaultOptions())
		// day 243 of this draw is a 4.9-sigma weekend (1.64x): one alert is fair
		if got := onsets(res, 0, len(v)-1); len(got) > 1 {
			t.Errorf("share %.1f noise %.1f: zero days alert %d times: %v", tc.share, tc.noise, len(got), got)
		}
		if e := res[300].Expected; e < 50 {
			t.Errorf("share %.1f noise %.1f: expected value of a billed day %.1f, want the billed level (~70..100)", tc.share, tc.noise, e)
		}
		spike := append([]float64(nil), v...)
		spike[301] = 300 * (1 + tc.noise) // a billed weekday at x3 and more
		if r := detect.Series(spike, detect.DefaultOptions())[301]; !r.Anomaly {
			t.Errorf("share %.1f noise %.1f: x3 spike missed (score %.2f, expected %.1f)", tc.share, tc.noise, r.Score, r.Expected)
		}
		down := append([]float64(nil), v...)
		for i := 250; i < 280; i++ {
			down[i] = 0
		}
		if got := detect.Series(down, detect.DefaultOptions()); !anyOutage(got, 250, 279) {
			t.Errorf("share %.1f noise %.1f: 30 days at zero not reported as an outage", tc.share, tc.noise)
		}
	}
}

// A month-start charge is known from any of the last three months: a
// missing day 1, or a zero day 1 of an intermittent service, does not make
// the next one an anomaly (two months back is 59..62 days, three 89..92).
func TestSeries_MonthlyChargeKnownFromThreeMonths(t *testing.T) {
	start := time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC) // Jul 1 -> Sep 1 is 62 days
	for _, tc := range []struct {
		name string
		gap  func(v []float64, day int)
	}{
		{"MissingLastMonth", func(v []float64, day int) { v[day] = math.NaN() }},
		{"ZeroDayLastMonth", func(v []float64, day int) { v[day] = 0 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := noisy(160, 100, 0, 0.05, 11)
			rng := rand.New(rand.NewPCG(12, 12))
			for i := range v {
				if rng.Float64() < 0.2 && tc.name == "ZeroDayLastMonth" {
					v[i] = 0 // an intermittent service
				}
			}
			var firsts []int
			for i := range v {
				if d := start.AddDate(0, 0, i); d.Day() == 1 {
					v[i] = 400 * (1 + 0.1*rng.Float64())
					firsts = append(firsts, i)
				}
			}
			sep, aug := firsts[4], firsts[3] // Sep 1 and Aug 1
			tc.gap(v, aug)
			opts := detect.DefaultOptions()
			opts.Start = start
			if r := detect.Series(v, opts)[sep]; r.Anomaly {
				t.Errorf("Sep 1 charge with Aug 1 %s alerts (score %.2f, z %.1f)", tc.name, r.Score, r.Sigma)
			}
		})
	}
}

// A lasting x1.6 shift on a 15%-noise series is one episode: days too weak
// to flag each while the CUSUM still rises hold it open, so a later
// stronger day does not alert again (4 of these 40 draws did).
func TestSeries_WeakShiftIsOneEpisode(t *testing.T) {
	for seed := uint64(1); seed <= 40; seed++ {
		v := noisy(300, 100, 0, 0.15, seed)
		for i := 200; i < 300; i++ {
			v[i] *= 1.6
		}
		res := detect.Series(v, detect.DefaultOptions())
		if got := onsets(res, 190, 299); len(got) != 1 {
			t.Errorf("seed %d: x1.6 shift on day 200 gives onsets %v, want one", seed, got)
		}
	}
}

// Cost noise is multiplicative: on a service with 35% day-to-day noise an
// ordinary 2-3x day is not news (the linear z of such days raised 30 false
// alerts over these 40 series-years), while an x10 day still is.
func TestSeries_NoisyServiceRisesInLogSpace(t *testing.T) {
	falses, found := 0, 0
	const n = 40
	for seed := uint64(1); seed <= n; seed++ {
		v := noisy(28+365, 50, 0.005, 0.35, seed)
		falses += len(onsets(detect.Series(v, detect.DefaultOptions()), 28, len(v)-1))
		v[300] *= 10
		if detect.Series(v, detect.DefaultOptions())[300].Anomaly {
			found++
		}
	}
	if falses > n/5 {
		t.Errorf("%d false alerts over %d series-years of 35%% noise, want <= %d", falses, n, n/5)
	}
	if found < n*9/10 {
		t.Errorf("x10 day found on %d of %d series, want >= %d", found, n, n*9/10)
	}
}

// A rise must clear MinImpact ($5 by default) by two robust sigmas (gateK): on a
// $10/day service with 30% noise a $2.50 bump on an ordinary +$3 day is
// not an anomaly, while +$30 is (found on 32 of these 40 series before the
// log-space rise and the margin, 40 now); an outage's impact is not noise.
func TestSeries_TinyDollarBumpOnNoisyServiceIsQuiet(t *testing.T) {
	falses, found := 0, 0
	const n = 40
	for seed := uint64(1); seed <= n; seed++ {
		v := noisy(28+365, 10, 0, 0.3, seed)
		for i := 40; i < len(v); i += 9 {
			v[i] += 2.5 // tiny-dollar blips
		}
		falses += len(onsets(detect.Series(v, detect.DefaultOptions()), 28, len(v)-1))
		v[301] += 30
		if detect.Series(v, detect.DefaultOptions())[301].Anomaly {
			found++
		}
	}
	if falses > n/10 {
		t.Errorf("%d alerts over %d series-years of $10/day with $2.50 blips, want <= %d", falses, n, n/10)
	}
	if found < n*9/10 {
		t.Errorf("+$30 day found on %d of %d series, want >= %d", found, n, n*9/10)
	}
}

func anyOutage(res []detect.Result, from, to int) bool {
	for i := from; i <= to; i++ {
		if res[i].Anomaly && res[i].Outage {
			return true
		}
	}
	return false
}

func TestSeries_EventAfterFalseStartAlerts(t *testing.T) {
	v := noisy(200, 100, 0, 0.05, 9)
	v[100] *= 1.6 // a weak start
	v[102] *= 6   // the real event, two days later
	res := detect.Series(v, detect.DefaultOptions())
	if !res[100].Anomaly {
		t.Fatalf("setup: day 100 (x1.6) does not alert (score %.2f)", res[100].Score)
	}
	if !res[102].Anomaly || res[102].Since != 102 {
		t.Errorf("x6 spike two days after an alert: anomaly %v, since %d; want a new alert", res[102].Anomaly, res[102].Since)
	}
}

func TestSeries_RecentDropOrBatchChargeDoesNotHideASpike(t *testing.T) {
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	opts := detect.DefaultOptions()
	opts.Start = start
	v := noisy(200, 100, 0, 0.05, 10)
	for i := range v {
		if start.AddDate(0, 0, i).Day() == 1 {
			v[i] *= 6 // a learned month-start charge
		}
	}
	for i := 140; i < 144; i++ {
		v[i] = 0 // an outage
	}
	apr10 := 31 + 28 + 31 + 9 // April 10, nine days after a charge
	v[apr10] *= 2.5
	v[150] *= 2.5 // six days after the outage
	res := detect.Series(v, opts)
	for _, i := range []int{apr10, 150} {
		if !res[i].Anomaly {
			t.Errorf("x2.5 spike on day %d missed (score %.2f)", i, res[i].Score)
		}
	}
}

// An intermittent service's month-start charge is still its charge after
// three day-1s in a row fell on zero days: the last billed one, four months
// back, counts (up to about six months), so the next charge does not alert,
// while an x4 day on another day of the month still does.
func TestSeries_IntermittentChargeKnownAfterZeroDay1s(t *testing.T) {
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	opts := detect.DefaultOptions()
	opts.Start = start
	for seed := uint64(1); seed <= 5; seed++ {
		v := noisy(300, 100, 0, 0.1, 20+seed)
		rng := rand.New(rand.NewPCG(seed, 21))
		for i := range v {
			if rng.Float64() < 0.3 {
				v[i] = 0 // an intermittent service
			}
		}
		var firsts []int
		for i := range v {
			if start.AddDate(0, 0, i).Day() == 1 {
				v[i] = 400 * (1 + 0.1*rng.Float64())
				firsts = append(firsts, i)
			}
		}
		for _, m := range []int{5, 6, 7} { // Jun 1, Jul 1, Aug 1 at zero
			v[firsts[m]] = 0
		}
		sep := firsts[8]
		v[sep+9] = 400 // Sep 10: x4, not a charge day
		res := detect.Series(v, opts)
		if r := res[sep]; r.Anomaly {
			t.Errorf("seed %d: Sep 1 charge after three zero day-1s alerts (score %.2f, z %.1f)", seed, r.Score, r.Sigma)
		}
		if r := res[sep+9]; !r.Anomaly {
			t.Errorf("seed %d: x4 day on Sep 10 missed (score %.2f)", seed, r.Score)
		}
	}
}

// A tiny service's +$3.50 day is a tiny-dollar blip even when its
// multiplicative noise makes it +$6 that day: the impact must clear
// MinImpact at its lower bound under that noise (one robust log sigma
// lower), as the spread of the cents-a-day baseline says nothing about it.
// A +$30 day still alerts.
func TestSeries_TinyServiceBlipTimesNoiseIsQuiet(t *testing.T) {
	const n = 100
	for _, noise := range []float64{0.2, 0.3} { // 24 and 62 alerts before
		falses, found := 0, 0
		for seed := uint64(1); seed <= n; seed++ {
			v := noisy(28+365, 0.4, 0, noise, seed)
			for i := 40 + int(seed%30); i < len(v); i += 61 {
				v[i] *= 1 + 3.5/0.4 // +$3.50 before the noise, six a year
			}
			falses += len(onsets(detect.Series(v, detect.DefaultOptions()), 28, len(v)-1))
			v[302] *= 1 + 30/0.4
			if detect.Series(v, detect.DefaultOptions())[302].Anomaly {
				found++
			}
		}
		if falses > n/10 {
			t.Errorf("noise %.1f: %d alerts over %d series-years of $0.40/day with six +$3.50 days each, want <= %d", noise, falses, n, n/10)
		}
		if found < n*9/10 {
			t.Errorf("noise %.1f: +$30 day found on %d of %d series, want >= %d", noise, found, n, n*9/10)
		}
	}
}
