package rules

import (
	"github.com/costbot/costbot/internal/detect"
)

// DetectFunc judges every point of an evenly spaced daily series, as
// detect.Series does: result i uses values[:i+1] only and NaN is missing.
// After judging each index listed in rebase (ascending) the detector takes
// the current level as the new normal (detect.Detector.Rebase: a user's
// "mark expected"). Set.Detector holds one; nil means detect.Series with
// those re-baselines.
type DetectFunc func(values []float64, opts detect.Options, rebase []int) []detect.Result

type (
	detectOptions = detect.Options
	detectResult  = detect.Result
)

type optionProblem struct{ field, msg string }

// newDetectOptions turns an anomaly rule into detector options, starting from
// detect.DefaultOptions, with a weekly season for daily cost data.
func newDetectOptions(a *Anomaly) (detect.Options, []optionProblem) {
	var ps []optionProblem
	o := detect.DefaultOptions()
	if m, err := detect.ParseMethod(a.Method); err != nil {
		ps = append(ps, optionProblem{"method", err.Error()})
	} else {
		o.Method = m
	}
	if s, err := detect.ParseSensitivity(a.Sensitivity); err != nil {
		ps = append(ps, optionProblem{"sensitivity", err.Error()})
	} else {
		o.Sensitivity = s
	}
	if d, err := detect.ParseDirection(a.Direction); err != nil {
		ps = append(ps, optionProblem{"direction", err.Error()})
	} else {
		o.Direction = d
	}
	o.MinImpact = a.MinImpact
	o.MinChange = a.MinChange
	o.WarmUp = a.WarmupDays
	o.Season = 7 // Start is set per series to its first day
	if len(ps) == 0 {
		if err := o.Validate(); err != nil {
			ps = append(ps, optionProblem{"", err.Error()})
		}
	}
	return o, ps
}
