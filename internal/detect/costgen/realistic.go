package costgen

import (
	"math"
	"math/rand/v2"
	"time"
)

// Family is a seed family of the realistic generator. Seeds of different
// families never give the same series: the family keys the random stream.
type Family int

const (
	// Tuning is the family detector parameters may be tuned on.
	Tuning Family = iota + 1
	// HeldOut is never tuned on; README figures are measured on it.
	HeldOut
)

// String returns "tuning" or "held-out".
func (f Family) String() string {
	switch f {
	case Tuning:
		return "tuning"
	case HeldOut:
		return "held-out"
	}
	return "family?"
}

// stream keys each family's random stream.
var stream = map[Family]uint64{Tuning: 0x5eed7a11c0ffee01, HeldOut: 0x0ddba11f00d5eed2}

// Service is the kind of service a realistic series bills.
type Service int

const (
	// Regular is a service billed every day, $3..$10,000 a day.
	Regular Service = iota + 1
	// Intermittent has days at exactly zero (10..50% of days) between billed days.
	Intermittent
	// Tiny bills cents a day ($0.01..$0.50): every spike, shift and ramp on
	// it is a tiny-dollar blip (a drop is one unless earlier events raised
	// the level to $4 a day and more).
	Tiny
)

var serviceNames = map[Service]string{Regular: "regular", Intermittent: "intermittent", Tiny: "tiny"}

// String returns the lower-case service name.
func (s Service) String() string { return serviceNames[s] }

// RealisticOptions is one judged year after 84 quiet days (three months,
// so recurring monthly charges are seen before judging starts) with about
// four labelled anomalies per series.
func RealisticOptions() Options { return Options{Days: 84 + 365, Quiet: 84, PerYear: 4} }

// minEventImpact is the smallest true daily impact (currency units) of a
// labelled anomaly; events smaller than blipImpact are labelled Blip, and
// those in between Ambiguous: the detector's default MinImpact, 5, sits
// inside that band, so an alert there is neither right nor wrong.
const (
	minEventImpact = 12
	blipImpact     = 4
)

// Realistic returns series number seed of family f: what real bills look
// like, much harder than Generate.
//
//   - Level: a base of $3..$10,000 a day (Regular), $5..$500 with zero days
//     (Intermittent) or $0.01..$0.50 (Tiny), compound growth of -2..+4% a
//     week (a tenth of series decline, a fifth grow 1.5..4%).
//   - Noise: multiplicative, 5..10% for large services up to 5..40% for
//     small ones, with volatility regimes (0.6..1.5x over months) and a few
//     heavy-tailed days; weekend factor 0.4..1.05.
//   - Normal patterns labelled Decoy (an alert on them is false): recurring
//     month-start (day 1) and mid-month (day 15) batch charges of +50..400%,
//     and weekly dips (one weekday at 5..30% of the level).
//   - Labelled anomalies: spikes (1..3 days, x1.5..x50 with a sixth x10 and
//     more), level shifts (x1.3..x8), ramps (+50..200% over 14..42 days),
//     outages to exactly zero or to 0.2..5% (2..14 days); about a third
//     follow the previous event within 2..9 days. Sizes are scaled to the
//     noise so each is visible, and an anomaly's true impact is at least
//     $12 a day (a ramp's at its end); anything under $4 a day is labelled
//     Blip instead, and one in between Ambiguous (an alert on it counts
//     neither way).
func Realistic(f Family, seed uint64, o Options) Series {
	rng := rand.New(rand.NewPCG(seed, stream[f]))
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, rng.IntN(730))
	s := Series{Start: start, Service: Regular}
	switch u := rng.Float64(); {
	case u < 0.12:
		s.Service = Tiny
	case u < 0.27:
		s.Service = Intermittent
	}
	var zeroP float64
	switch s.Service {
	case Tiny:
		s.Base = math.Exp(math.Log(0.01) + rng.Float64()*math.Log(50))
	case Intermittent:
		s.Base = math.Exp(math.Log(5) + rng.Float64()*math.Log(100))
		zeroP = 0.1 + 0.4*rng.Float64()
	default:
		s.Base = math.Exp(math.Log(3) + rng.Float64()*math.Log(10000.0/3))
	}
	small := math.Min(math.Max((math.Log10(3000)-math.Log10(s.Base))/3, 0), 1)
	s.Noise = 0.05 + (0.05+0.3*small)*rng.Float64()
	switch u := rng.Float64(); {
	case u < 0.1:
		s.Growth = -0.005 - 0.015*rng.Float64()
	case u < 0.4:
		s.Growth = 0.002 * (rng.Float64() - 0.5)
	case u < 0.8:
		s.Growth = 0.015 * rng.Float64()
	default:
		s.Growth = 0.015 + 0.025*rng.Float64()
	}
	if s.Service == Tiny {
		s.Growth = math.Min(s.Growth, 0.005) // cents stay cents
	}
	weekend := 0.4 + 0.65*rng.Float64()
	if rng.Float64() < 0.3 {
		weekend = 1
	}
	var wdF [7]float64
	for i := range wdF {
		wdF[i] = 1 + 0.05*rng.NormFloat64()
	}
	dipDay := -1
	if s.Service == Regular && rng.Float64() < 0.15 {
		dipDay = rng.IntN(7)
		wdF[dipDay] = 0.05 + 0.25*rng.Float64()
	}
	monthStart, midMonth := 0.0, 0.0
	if s.Service != Tiny && rng.Float64() < 0.35 {
		monthStart = 0.5 + 3.5*rng.Float64()
	}
	if s.Service != Tiny && rng.Float64() < 0.15 {
		midMonth = 0.5 + 3.5*rng.Float64()
	}
	volPeriod := 60 + 140*rng.Float64()
	volPhase := 2 * math.Pi * rng.Float64()
	volAmp := 0.3 * rng.Float64()

	n := o.Days
	trend := make([]float64, n) // level without events, noise or weekly pattern
	for i := range trend {
		trend[i] = s.Base * math.Pow(1+s.Growth, float64(i)/7)
	}
	mult := make([]float64, n)
	for i := range mult {
		mult[i] = 1
	}
	zeroed := make([]bool, n) // outage days at exactly zero
	var evs, amb []Event
	judged := n - o.Quiet
	nev := int(math.Round(float64(o.PerYear) * float64(judged) / 365))
	pos := o.Quiet + 3 + rng.IntN(20)
	for e := 0; e < nev; e++ {
		k := []Kind{Spike, Spike, Shift, Ramp, Drop}[rng.IntN(5)]
		if s.Service == Intermittent && k == Drop {
			k = Spike
		}
		at := pos
		if at >= n-3 {
			break
		}
		ev, lastDay := s.plant(rng, k, at, n, trend, mult, zeroed)
		switch ev.Kind {
		case Ambiguous:
			amb = append(amb, ev) // kept apart: it shapes nothing below
		case 0:
		default:
			evs = append(evs, ev)
		}
		if rng.Float64() < 0.33 {
			pos = lastDay + 2 + rng.IntN(8) // soon after the previous event
		} else {
			pos = lastDay + 30 + rng.IntN(max(2*judged/max(nev, 1)-30, 1))
		}
	}
	for b := 0; b < 2 && s.Service != Tiny; b++ { // tiny-dollar blips away from events
		at := o.Quiet + rng.IntN(judged)
		clear := true
		for _, ev := range evs {
			if at >= ev.Start-3 && at <= ev.End+30 {
				clear = false
			}
		}
		if clear { // +$1..2.5 on the level earlier shifts and ramps left, not x their factor
			mult[at] *= 1 + (1+1.5*rng.Float64())/(trend[at]*mult[at])
			evs = append(evs, Event{Kind: Blip, Start: at, End: at})
		}
	}
	s.Values = make([]float64, n)
	for i := range s.Values {
		day := start.AddDate(0, 0, i)
		wd := int(day.Weekday())
		v := trend[i] * wdF[wd]
		if wd == int(time.Saturday) || wd == int(time.Sunday) {
			v *= weekend
		}
		decoy := wd == dipDay
		if monthStart > 0 && day.Day() == 1 {
			v *= 1 + monthStart*(0.75+0.5*rng.Float64())
			decoy = true
		}
		if midMonth > 0 && day.Day() == 15 {
			v *= 1 + midMonth*(0.75+0.5*rng.Float64())
			decoy = true
		}
		vol := s.Noise * (1 + volAmp*math.Sin(2*math.Pi*float64(i)/volPeriod+volPhase))
		z := rng.NormFloat64()
		if rng.Float64() < 0.01 {
			z *= 1.8 // a heavy-tailed but normal day
		}
		v *= math.Exp(vol*z - vol*vol/2)
		v *= mult[i]
		if zeroed[i] || zeroP > 0 && rng.Float64() < zeroP && !inAnomaly(evs, i) {
			v = 0
		}
		s.Values[i] = math.Round(v*100) / 100 // bills are in cents
		if decoy && i >= o.Quiet && !inEvent(evs, i) {
			evs = append(evs, Event{Kind: Decoy, Start: i, End: i})
		}
	}
	evs = append(evs, amb...)
	sortEvents(evs)
	s.Events = evs
	return s
}

func inEvent(evs []Event, i int) bool {
	for _, ev := range evs {
		if i >= ev.Start && i <= ev.End {
			return true
		}
	}
	return false
}

func inAnomaly(evs []Event, i int) bool {
	for _, ev := range evs {
		if !ev.Kind.Silent() && i >= ev.Start && i <= ev.End {
			return true
		}
	}
	return false
}

func sortEvents(evs []Event) {
	for i := 1; i < len(evs); i++ {
		for j := i; j > 0 && evs[j].Start < evs[j-1].Start; j-- {
			evs[j], evs[j-1] = evs[j-1], evs[j]
		}
	}
}

// plant adds one event of kind k at day at to mult (and zeroed) and returns
// its label (Ambiguous when the event was too small to label either way) and
// the last day it changes.
func (s *Series) plant(rng *rand.Rand, k Kind, at, n int, trend, mult []float64, zeroed []bool) (Event, int) {
	lvl := trend[at] * mult[at]
	label := func(impact float64, ev Event) Event {
		ev.Impact = impact
		switch {
		case impact < blipImpact:
			ev.Kind = Blip
			return ev
		case impact < minEventImpact:
			ev.Kind = Ambiguous
			return ev
		}
		return ev
	}
	sz := math.Max(s.Noise, 0.08)
	// on a tiny service every spike, shift and ramp stays a tiny-dollar one
	// (each adds at most $3.50 a day); a drop is labelled by what it takes
	// away, like anywhere else, so one on a tiny service that earlier
	// events raised to dollars a day is not called a blip
	capF := func(f float64) float64 {
		if s.Service == Tiny {
			return math.Min(f, 1+3.5/lvl)
		}
		return f
	}
	switch k {
	case Spike:
		l := 1 + rng.IntN(3)
		if rng.Float64() < 0.6 {
			l = 1
		}
		f := math.Exp(4.5*sz + rng.Float64()*math.Log(4))
		if rng.Float64() < 0.17 {
			f = 10 + 40*rng.Float64()
		}
		f = capF(f)
		end := min(at+l-1, n-1)
		for i := at; i <= end; i++ {
			mult[i] *= f
		}
		return label(lvl*(f-1), Event{Kind: Spike, Start: at, End: end, Factor: f}), end
	case Shift:
		f := math.Exp(2.5*sz + rng.Float64()*math.Log(2.5))
		if rng.Float64() < 0.1 {
			f = 5 + 3*rng.Float64()
		}
		f = capF(f)
		for i := at; i < n; i++ {
			mult[i] *= f
		}
		end := min(at+6, n-1)
		return label(lvl*(f-1), Event{Kind: Shift, Start: at, End: end, Factor: f}), end
	case Ramp:
		w := 14 + rng.IntN(29)
		f := capF(1+math.Max(0.5+1.5*rng.Float64(), 4*sz)) - 1
		for i := at; i < n; i++ {
			mult[i] *= 1 + f*math.Min(float64(i-at+1)/float64(w), 1)
		}
		end := min(at+w+6, n-1)
		// labelled by the lasting change it leaves, as a shift is (half of
		// it labelled a ramp to +$6 a day for good a tiny-dollar blip)
		return label(lvl*f, Event{Kind: Ramp, Start: at, End: end, Factor: 1 + f}), min(at+w, n-1)
	case Drop:
		l := 2 + rng.IntN(13)
		end := min(at+l-1, n-1)
		exact := rng.Float64() < 0.5
		f := 0.002 + 0.048*rng.Float64()
		if exact {
			f = 0
		}
		for i := at; i <= end; i++ {
			if exact {
				zeroed[i] = true
			} else {
				mult[i] *= f
			}
		}
		return label(lvl*(1-f), Event{Kind: Drop, Start: at, End: end, Factor: f}), end
	}
	return Event{}, at
}
