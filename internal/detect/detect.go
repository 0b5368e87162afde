// Package detect finds anomalies in evenly spaced series such as one
// service's daily cost. Every detector is strictly causal: the result for
// point t uses only points 0..t, so live alerts equal backtests.
//
// The default method is an ensemble over one robust seasonal baseline
// (median of the same phase, e.g. weekday, over the trailing weeks) and its
// residuals, judged by five detectors:
//
//   - seasonal: one-point spikes, |residual| in robust sigmas
//   - cusum: level shifts, a two-sided CUSUM of clipped standardized residuals
//   - ramp: slow ramps and leaks, an OLS slope t-test over the trailing residuals
//   - outage: drops to near zero (at most 10% of the expected value)
//   - esd: Rosner's generalized ESD test over the trailing residual window
//
// Practical controls (minimum impact per point, minimum relative change,
// direction, sensitivity, warm-up) gate the decision. See README.md for the
// thresholds behind each sensitivity and the measured figures.
package detect

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// Method selects the detector(s) that decide.
type Method int

const (
	// MethodEnsemble combines every detector into one score (the default).
	MethodEnsemble Method = iota
	// MethodSeasonal flags one-point spikes against the seasonal median baseline.
	MethodSeasonal
	// MethodCUSUM flags level shifts with a CUSUM on standardized residuals.
	MethodCUSUM
	// MethodRamp flags slow ramps (leaks) with a slope t-test over a window.
	MethodRamp
	// MethodOutage flags drops to near zero.
	MethodOutage
	// MethodESD flags points the generalized ESD test (Rosner) calls outliers.
	MethodESD
)

var methodNames = []string{"ensemble", "seasonal", "cusum", "ramp", "outage", "esd"}

// String returns the lower-case name used by --method.
func (m Method) String() string {
	if m >= 0 && int(m) < len(methodNames) {
		return methodNames[m]
	}
	return fmt.Sprintf("method(%d)", int(m))
}

// ParseMethod is the inverse of Method.String.
func ParseMethod(s string) (Method, error) {
	for i, n := range methodNames {
		if strings.EqualFold(s, n) {
			return Method(i), nil
		}
	}
	return 0, fmt.Errorf("unknown method %q (want one of %s)", s, strings.Join(methodNames, ", "))
}

// Sensitivity maps to documented detector thresholds (see thresholds).
type Sensitivity int

const (
	// SensitivityMedium is the shipped default: spikes at 5 robust sigmas.
	SensitivityMedium Sensitivity = iota
	// SensitivityLow alerts less: spikes at 6 robust sigmas.
	SensitivityLow
	// SensitivityHigh alerts more: spikes at 4 robust sigmas.
	SensitivityHigh
)

// String returns "low", "medium" or "high".
func (s Sensitivity) String() string {
	switch s {
	case SensitivityLow:
		return "low"
	case SensitivityMedium:
		return "medium"
	case SensitivityHigh:
		return "high"
	}
	return fmt.Sprintf("sensitivity(%d)", int(s))
}

// ParseSensitivity is the inverse of Sensitivity.String.
func ParseSensitivity(s string) (Sensitivity, error) {
	for _, v := range []Sensitivity{SensitivityLow, SensitivityMedium, SensitivityHigh} {
		if strings.EqualFold(s, v.String()) {
			return v, nil
		}
	}
	return 0, fmt.Errorf("unknown sensitivity %q (want low, medium or high)", s)
}

// Direction says which deviations count. Outages (drops to near zero) are
// reported whatever the direction.
type Direction int

const (
	// DirectionUp counts only values above expected (the default for cost).
	DirectionUp Direction = iota
	// DirectionDown counts only values below expected.
	DirectionDown
	// DirectionBoth counts both.
	DirectionBoth
)

// String returns "up", "down" or "both".
func (d Direction) String() string {
	switch d {
	case DirectionUp:
		return "up"
	case DirectionDown:
		return "down"
	case DirectionBoth:
		return "both"
	}
	return fmt.Sprintf("direction(%d)", int(d))
}

// ParseDirection is the inverse of Direction.String.
func ParseDirection(s string) (Direction, error) {
	for _, v := range []Direction{DirectionUp, DirectionDown, DirectionBoth} {
		if strings.EqualFold(s, v.String()) {
			return v, nil
		}
	}
	return 0, fmt.Errorf("unknown direction %q (want up, down or both)", s)
}

// Options configures a detector. The zero value is not useful; start from
// DefaultOptions.
type Options struct {
	Method      Method
	Sensitivity Sensitivity
	Direction   Direction
	// MinImpact is the minimum |Observed-Expected| in the series' units per
	// point (currency per day for cost); below it a point is never anomalous.
	MinImpact float64
	// MinChange is the minimum |Observed-Expected|/|Expected|, e.g. 0.2 = 20%.
	MinChange float64
	// WarmUp is how many points are seen before anything is judged.
	WarmUp int
	// Season is the season length in points (7 for daily data, 1 = none);
	// 0 means auto, which is 7 in Series (daily data) and is resolved from
	// timestamps by `costbot detect`.
	Season int
	// Start is the UTC day of the first point of a daily series (optional).
	// With Season 7 it lets the detector recognise recurring monthly events:
	// a rise on the same day of the month as a rise of >= 1.5 sigmas that
	// stood alone on one of that day's last three occurrences within 190
	// days (at least 25% of this one, relative; a zero day of an
	// intermittent service is no occurrence) is a batch job, not an
	// anomaly. When zero, a rise like one 28..31 points earlier (>= 2 sigmas,
	// 0.5x..2x the relative size) counts as recurring instead.
	Start time.Time
}

// DefaultOptions returns the shipped defaults for daily cost series:
// ensemble, medium sensitivity, direction up, at least 5 currency units per
// day and 20% above expected, 28 days of warm-up, weekly season.
func DefaultOptions() Options {
	return Options{
		Method:      MethodEnsemble,
		Sensitivity: SensitivityMedium,
		Direction:   DirectionUp,
		MinImpact:   5,
		MinChange:   0.2,
		WarmUp:      28,
		Season:      7,
	}
}

// MaxSeason bounds Options.Season (a week of 5-minute points is 2016).
const MaxSeason = 10000

// Validate reports every invalid field, naming it and its value.
func (o Options) Validate() error {
	var errs []error
	if o.Method < MethodEnsemble || o.Method > MethodESD {
		errs = append(errs, fmt.Errorf("method: unknown value %d", int(o.Method)))
	}
	if o.Sensitivity < SensitivityMedium || o.Sensitivity > SensitivityHigh {
		errs = append(errs, fmt.Errorf("sensitivity: unknown value %d", int(o.Sensitivity)))
	}
	if o.Direction < DirectionUp || o.Direction > DirectionBoth {
		errs = append(errs, fmt.Errorf("direction: unknown value %d", int(o.Direction)))
	}
	if math.IsNaN(o.MinImpact) || o.MinImpact < 0 || math.IsInf(o.MinImpact, 0) {
		errs = append(errs, fmt.Errorf("min impact: %v must be a finite number >= 0", o.MinImpact))
	}
	if math.IsNaN(o.MinChange) || o.MinChange < 0 || math.IsInf(o.MinChange, 0) {
		errs = append(errs, fmt.Errorf("min change: %v must be a finite number >= 0", o.MinChange))
	}
	if o.WarmUp < 0 {
		errs = append(errs, fmt.Errorf("warm-up: %d must be >= 0", o.WarmUp))
	}
	if o.Season < 0 || o.Season > MaxSeason {
		errs = append(errs, fmt.Errorf("season: %d must be in 0..%d", o.Season, MaxSeason))
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid detect options: %w", errors.Join(errs...))
	}
	return nil
}

// Result is the judgement of one point.
type Result struct {
	// Score is the ensemble score in [0,1]; 0.5 is the detectors' threshold.
	Score float64
	// Anomaly is the shipped decision: score >= 0.5 and every gate passed.
	Anomaly bool
	// Expected is the baseline for the point; Observed is its value (NaN if missing).
	Expected, Observed float64
	// Sigma is (Observed-Expected) in robust standard deviations (signed).
	Sigma float64
	// Impact is Observed-Expected in series units (currency per day for cost).
	Impact float64
	// Detector names the detector(s) that fired, joined by "+", e.g. "seasonal+esd".
	Detector string
	// Since is the index of the first point of the current anomalous episode,
	// -1 when the point is not anomalous.
	Since int
	// Outage reports a drop to near zero.
	Outage bool
}

// Series judges every point of values with a fresh Detector. Result i uses
// values[:i+1] only. NaN marks a missing point. It panics on invalid options;
// call Options.Validate first for user input.
func Series(values []float64, opts Options) []Result {
	d, err := New(opts)
	if err != nil {
		panic(err)
	}
	out := make([]Result, len(values))
	for i, v := range values {
		out[i] = d.Step(v)
	}
	return out
}
