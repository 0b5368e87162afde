// Package costgen generates labelled daily cloud-spend series for measuring
// the detectors: weekday seasonality, growth, heteroscedastic (multiplicative)
// noise and month-start batch bumps that are normal, plus labelled spikes,
// level shifts, ramps (leaks), drops to near zero, and tiny-dollar blips that
// must not alert. Output is a pure function of the seed.
package costgen

import (
	"math"
	"math/rand/v2"
	"time"
)

// Kind is the kind of a labelled event.
type Kind int

const (
	// Spike is a one-day jump of 1.8x to 4x.
	Spike Kind = iota + 1
	// Shift is a permanent level change of 1.4x to 2x.
	Shift
	// Ramp is a leak: cost grows linearly by 60% to 150% over 21 days, then stays.
	Ramp
	// Drop is an outage: cost falls to at most 2% for 2 to 5 days.
	Drop
	// Blip is a tiny-dollar one-day bump (+1 to +2.5 currency units); it must not alert.
	Blip
	// Decoy is a normal day that looks odd: a recurring month-start or
	// mid-month batch charge, or a weekly dip (realistic family); it must not alert.
	Decoy
	// Ambiguous is a planted change between a blip and a labelled anomaly
	// (realistic family: true impact of 4 to 12 currency units a day, around
	// the default MinImpact); an alert inside it counts neither way.
	Ambiguous
)

var kindNames = map[Kind]string{Spike: "spike", Shift: "shift", Ramp: "ramp", Drop: "drop", Blip: "blip", Decoy: "decoy", Ambiguous: "ambiguous"}

// Silent reports whether an alert inside the event's window is false
// (blips and decoys).
func (k Kind) Silent() bool { return k == Blip || k == Decoy }

// String returns the lower-case kind name.
func (k Kind) String() string { return kindNames[k] }

// Event is one labelled event. Start..End (inclusive) is the window in which
// a detection counts; Blip windows must stay silent.
type Event struct {
	Kind       Kind
	Start, End int
	// Factor is a spike's or shift's multiplier, a ramp's final 1+rise and a
	// drop's remaining share (0 = exactly zero); Impact is the noise-free
	// cost change per day at Start, a ramp's at its end (realistic family
	// only).
	Factor, Impact float64
}

// Series is one generated daily cost series.
type Series struct {
	Start  time.Time // UTC midnight of Values[0]
	Values []float64 // cost per day in USD
	Events []Event   // sorted by Start
	Base   float64   // base daily cost
	// Noise is the day-to-day noise (standard deviation of the log cost).
	Noise float64
	// Growth is the compound growth per week (0.01 = 1%/week; negative = decline).
	Growth float64
	// Service is the kind of service (Regular for Generate).
	Service Service
}

// Options controls generation.
type Options struct {
	Days    int // series length; events start at index >= Quiet
	Quiet   int // leading event-free days (history for warm-up)
	PerYear int // labelled anomalies per 365 days (blips come on top)
}

// DefaultOptions: 56 quiet days plus one judged year, 3 anomalies and 2
// blips per series.
func DefaultOptions() Options { return Options{Days: 56 + 365, Quiet: 56, PerYear: 3} }

// Generate returns the series for seed.
func Generate(seed uint64, o Options) Series {
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, rng.IntN(365))
	base := math.Exp(math.Log(30) + rng.Float64()*math.Log(100)) // 30..3000 per day
	weekend := 0.55 + 0.4*rng.Float64()
	growth := rng.Float64() * 0.6 / 365 // 0..60% a year
	noise := 0.03 + 0.05*rng.Float64()
	bump := 0.3 + 0.5*rng.Float64()
	n := o.Days
	mult := make([]float64, n)
	add := make([]float64, n)
	for i := range mult {
		mult[i] = 1
	}
	s := Series{Start: start, Base: base, Values: make([]float64, n), Noise: noise, Growth: math.Exp(7*growth) - 1, Service: Regular}
	judged := n - o.Quiet
	nev := int(math.Round(float64(o.PerYear) * float64(judged) / 365))
	slot := judged / max(nev+2, 1) // one event per slot, kept apart
	kinds := []Kind{Spike, Shift, Ramp, Drop, Spike, Shift}
	pos := o.Quiet + 7
	var evs []Event
	for e := 0; e < nev && slot > 35; e++ {
		k := kinds[rng.IntN(len(kinds))]
		at := pos + rng.IntN(max(slot-30, 1))
		pos += slot
		switch k {
		case Spike:
			mult[at] *= 1.8 + 2.2*rng.Float64()
			evs = append(evs, Event{Kind: Spike, Start: at, End: at})
		case Shift:
			f := 1.4 + 0.6*rng.Float64()
			for i := at; i < n; i++ {
				mult[i] *= f
			}
			evs = append(evs, Event{Kind: Shift, Start: at, End: min(at+6, n-1)})
		case Ramp:
			f := 0.6 + 0.9*rng.Float64()
			for i := at; i < n; i++ {
				mult[i] *= 1 + f*math.Min(float64(i-at+1)/21, 1)
			}
			evs = append(evs, Event{Kind: Ramp, Start: at, End: min(at+27, n-1)})
		case Drop:
			l := 2 + rng.IntN(4)
			for i := at; i < min(at+l, n); i++ {
				mult[i] *= 0.02 * rng.Float64()
			}
			evs = append(evs, Event{Kind: Drop, Start: at, End: min(at+l-1, n-1)})
		}
	}
	// two blips, away from events
	for b := 0; b < 2; b++ {
		at := o.Quiet + rng.IntN(judged)
		clear := true
		for _, ev := range evs {
			if at >= ev.Start-3 && at <= ev.End+30 {
				clear = false
			}
		}
		if clear {
			add[at] += 1 + 1.5*rng.Float64()
			evs = append(evs, Event{Kind: Blip, Start: at, End: at})
		}
	}
	for i := range s.Values {
		day := start.AddDate(0, 0, i)
		v := base * math.Exp(growth*float64(i))
		if wd := day.Weekday(); wd == time.Saturday || wd == time.Sunday {
			v *= weekend
		}
		if day.Day() == 1 {
			v *= 1 + bump
		}
		v *= math.Exp(noise * rng.NormFloat64())
		s.Values[i] = math.Max(v*mult[i]+add[i], 0)
	}
	// sort events by start (few, insertion sort)
	for i := 1; i < len(evs); i++ {
		for j := i; j > 0 && evs[j].Start < evs[j-1].Start; j-- {
			evs[j], evs[j-1] = evs[j-1], evs[j]
		}
	}
	s.Events = evs
	return s
}
