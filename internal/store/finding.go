package store

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/costbot/costbot/internal/cost"
)

// The finding is stored as JSON so a firing alert can be re-delivered after a
// restart. These mirrors exist because encoding/json rejects NaN and ±Inf,
// which charts ("NaN where unknown") and detector scores may hold; kinds and
// severities are stored by name so the JSON stays readable and stable.

type findingJSON struct {
	Kind      string           `json:"kind"`
	Rule      string           `json:"rule"`
	Scope     cost.Scope       `json:"scope"`
	Period    cost.Period      `json:"period"`
	Threshold string           `json:"threshold"`
	Severity  string           `json:"severity"`
	Notifiers []string         `json:"notifiers,omitempty"`
	Title     string           `json:"title"`
	Summary   string           `json:"summary"`
	Currency  string           `json:"currency"`
	Actual    num              `json:"actual"`
	Budget    num              `json:"budget"`
	Limit     num              `json:"limit"`
	Forecast  num              `json:"forecast"`
	CrossDate time.Time        `json:"cross_date"`
	Anomaly   *anomalyJSON     `json:"anomaly,omitempty"`
	Card      *cost.CardDetail `json:"card,omitempty"`
	Chart     *chartJSON       `json:"chart,omitempty"`
	Clear     string           `json:"clear,omitempty"`
}

type anomalyJSON struct {
	Expected num       `json:"expected"`
	Observed num       `json:"observed"`
	Sigma    num       `json:"sigma"`
	Impact   num       `json:"impact"`
	Score    num       `json:"score"`
	Detector string    `json:"detector"`
	Since    time.Time `json:"since"`
	Day      time.Time `json:"day"`
	Outage   bool      `json:"outage"`
}

type chartJSON struct {
	Title          string      `json:"title"`
	Days           []time.Time `json:"days"`
	Values         []num       `json:"values"`
	Reference      []num       `json:"reference,omitempty"`
	ReferenceLabel string      `json:"reference_label,omitempty"`
}

// num is a float64 whose JSON form also carries NaN and ±Inf (as strings).
type num float64

func (n num) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return strconv.AppendQuote(nil, strconv.FormatFloat(f, 'g', -1, 64)), nil
	}
	return strconv.AppendFloat(nil, f, 'g', -1, 64), nil
}

func (n *num) UnmarshalJSON(b []byte) error {
	s := string(b)
	if len(s) > 0 && s[0] == '"' {
		var err error
		if s, err = strconv.Unquote(s); err != nil {
			return err
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return err
	}
	*n = num(f)
	return nil
}

func nums(fs []float64) []num {
	if fs == nil {
		return nil
	}
	out := make([]num, len(fs))
	for i, f := range fs {
		out[i] = num(f)
	}
	return out
}

func floats(ns []num) []float64 {
	if ns == nil {
		return nil
	}
	out := make([]float64, len(ns))
	for i, n := range ns {
		out[i] = float64(n)
	}
	return out
}

func encodeFinding(f cost.Finding) ([]byte, error) {
	j := findingJSON{
		Kind: enumName(f.Kind.String(), int(f.Kind)), Rule: f.Rule, Scope: f.Scope, Period: f.Period, Threshold: f.Threshold,
		Severity: enumName(f.Severity.String(), int(f.Severity)), Notifiers: f.Notifiers, Title: f.Title, Summary: f.Summary,
		Currency: f.Currency, Actual: num(f.Actual), Budget: num(f.Budget), Limit: num(f.Limit),
		Forecast: num(f.Forecast), CrossDate: f.CrossDate, Card: f.Card, Clear: f.Clear,
	}
	if a := f.Anomaly; a != nil {
		j.Anomaly = &anomalyJSON{
			Expected: num(a.Expected), Observed: num(a.Observed), Sigma: num(a.Sigma), Impact: num(a.Impact),
			Score: num(a.Score), Detector: a.Detector, Since: a.Since, Day: a.Day, Outage: a.Outage,
		}
	}
	if c := f.Chart; c != nil {
		j.Chart = &chartJSON{Title: c.Title, Days: c.Days, Values: nums(c.Values), Reference: nums(c.Reference),
			ReferenceLabel: c.ReferenceLabel}
	}
	return json.Marshal(j)
}

func decodeFinding(b []byte) (cost.Finding, error) {
	var j findingJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return cost.Finding{}, err
	}
	kind, err := parseEnum(j.Kind, cost.ParseKind)
	if err != nil {
		return cost.Finding{}, err
	}
	sev, err := parseEnum(j.Severity, cost.ParseSeverity)
	if err != nil {
		return cost.Finding{}, err
	}
	f := cost.Finding{
		Kind: kind, Rule: j.Rule, Scope: j.Scope, Period: j.Period, Threshold: j.Threshold, Severity: sev,
		Notifiers: j.Notifiers, Title: j.Title, Summary: j.Summary, Currency: j.Currency,
		Actual: float64(j.Actual), Budget: float64(j.Budget), Limit: float64(j.Limit),
		Forecast: float64(j.Forecast), CrossDate: j.CrossDate, Card: j.Card, Clear: j.Clear,
	}
	if a := j.Anomaly; a != nil {
		f.Anomaly = &cost.AnomalyDetail{
			Expected: float64(a.Expected), Observed: float64(a.Observed), Sigma: float64(a.Sigma),
			Impact: float64(a.Impact), Score: float64(a.Score), Detector: a.Detector, Since: a.Since, Day: a.Day,
			Outage: a.Outage,
		}
	}
	if c := j.Chart; c != nil {
		f.Chart = &cost.Chart{Title: c.Title, Days: c.Days, Values: floats(c.Values), Reference: floats(c.Reference),
			ReferenceLabel: c.ReferenceLabel}
	}
	return f, nil
}

// enumName is the value's name, or its number when it has none (unset or
// unknown values still round-trip).
func enumName(name string, n int) string {
	if strings.ContainsRune(name, '(') {
		return strconv.Itoa(n)
	}
	return name
}

func parseEnum[T ~int](s string, parse func(string) (T, error)) (T, error) {
	if n, err := strconv.Atoi(s); err == nil {
		return T(n), nil
	}
	return parse(s)
}
