package rules

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/costbot/costbot/internal/cost"
)

// anomalyHistory is the longest daily vector handed to the detector.
const anomalyHistory = 120

// seriesData is one service series of one account.
type seriesData struct {
	key      cost.SeriesKey
	currency string
	first    time.Time
	sum      map[time.Time]float64
	unknown  map[time.Time]bool
}

// evalAnomaly checks every service series of every matching account and
// reports those whose last complete day is anomalous.
//
// The vector runs from the latest of the series' first day, the day a user
// marked it expected (Input.Expected) and 120 days back, to the account's
// last complete day (its last day with data). A day on which the account has
// data but the series has no row costs 0; a day without any account data, or
// with an unknown cost, is NaN. Correction rows fix earlier invoices and are
// left out.
func (s *Set) evalAnomaly(a *Anomaly, ix *index, in Input) ([]cost.Finding, []error) {
	run := s.Detector
	if run == nil {
		run = defaultDetect
	}
	var out []cost.Finding
	for _, acct := range ix.accounts {
		if !a.Scope.matchAccount(acct) {
			continue
		}
		var last time.Time
		hasData := map[time.Time]bool{}
		series := map[cost.SeriesKey]*seriesData{}
		for _, u := range ix.rows[acct.ID] {
			d := cost.Day(u.Day)
			if u.Correction || !d.Before(in.Now) {
				continue
			}
			hasData[d] = true
			if d.After(last) {
				last = d
			}
			if !a.Scope.matchRow(u) {
				continue
			}
			sd := series[u.Key()]
			if sd == nil {
				sd = &seriesData{key: u.Key(), first: d, sum: map[time.Time]float64{}, unknown: map[time.Time]bool{}}
				series[u.Key()] = sd
			}
			if d.Before(sd.first) {
				sd.first = d
			}
			if sd.currency == "" {
				sd.currency = u.Currency
			}
			if u.CostKnown {
				sd.sum[d] += u.Cost
			} else {
				sd.unknown[d] = true
			}
		}
		keys := make([]cost.SeriesKey, 0, len(series))
		for k := range series {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
		for _, k := range keys {
			sd := series[k]
			start := sd.first
			if h := last.Add(-(anomalyHistory - 1) * day); h.After(start) {
				start = h
			}
			// Marks are keyed like the finding's scope (account name) or like
			// the usage series (account id); honour both.
			named := cost.SeriesKey{Account: label(acct), Service: k.Service, Family: k.Family, Zone: k.Zone}
			for _, key := range []string{k.String(), named.String()} {
				if t, ok := in.Expected[key]; ok {
					if d := cost.Day(t); d.After(start) {
						start = d
					}
				}
			}
			if start.After(last) {
				continue
			}
			n := int(last.Sub(start)/day) + 1
			days := make([]time.Time, n)
			values := make([]float64, n)
			for i := range values {
				d := start.Add(time.Duration(i) * day)
				days[i] = d
				switch v, ok := sd.sum[d]; {
				case sd.unknown[d] || !hasData[d]:
					values[i] = math.NaN()
				case ok:
					values[i] = v
				default:
					values[i] = 0
				}
			}
			res := run(values, a.opts)
			if len(res) != n || !res[n-1].Anomaly {
				continue
			}
			out = append(out, anomalyFinding(a, acct, sd, days, values, res))
		}
	}
	return out, nil
}

func anomalyFinding(a *Anomaly, acct cost.Account, sd *seriesData, days []time.Time, values []float64, res []detectResult) cost.Finding {
	n := len(values)
	r := res[n-1]
	since := days[n-1]
	if r.Since >= 0 && r.Since < n {
		since = days[r.Since]
	}
	k := sd.key
	cur := sd.currency
	name := k.Service
	if k.Zone != "" {
		name += " @ " + k.Zone
	}
	name += " (" + label(acct) + ")"
	verb := "spiked to"
	if r.Impact < 0 {
		verb = "dropped to"
	}
	change := ""
	if r.Expected > 0 {
		change = fmt.Sprintf(" (%+.0f%%)", 100*r.Impact/r.Expected)
	}
	title := fmt.Sprintf("%s %s %s/day, expected %s%s", name, verb, cost.Money(r.Observed, cur), cost.Money(r.Expected, cur), change)
	if r.Outage {
		title = fmt.Sprintf("%s dropped to near zero (%s/day, expected %s): possible outage", name, cost.Money(r.Observed, cur), cost.Money(r.Expected, cur))
	}
	summary := fmt.Sprintf("Observed %s on %s against an expected %s (%s%s per day, %.1fσ).\n"+
		"Anomalous since %s; detector %s, score %.2f.\n"+
		"Rule %s. If this is the new normal, mark it expected so it becomes the baseline.",
		cost.Money(r.Observed, cur), days[n-1].Format("Jan 2"), cost.Money(r.Expected, cur), sign(r.Impact), cost.Money(math.Abs(r.Impact), cur),
		r.Sigma, since.Format("Jan 2"), r.Detector, r.Score, a.Name)

	from := n - chartDays
	if from < 0 {
		from = 0
	}
	ref := make([]float64, n-from)
	for i := range ref {
		ref[i] = res[from+i].Expected
	}
	return cost.Finding{
		Kind:      cost.KindAnomaly,
		Rule:      a.Name,
		Scope:     cost.Scope{Account: label(acct), Service: k.Service, Family: k.Family, Zone: k.Zone},
		Period:    cost.Period{Start: since, End: since.Add(day)},
		Threshold: "anomaly",
		Severity:  a.Severity,
		Notifiers: append([]string(nil), a.Notify...),
		Title:     title,
		Summary:   summary,
		Currency:  cur,
		Actual:    r.Observed,
		Anomaly: &cost.AnomalyDetail{
			Expected: r.Expected,
			Observed: r.Observed,
			Sigma:    r.Sigma,
			Impact:   r.Impact,
			Score:    r.Score,
			Detector: r.Detector,
			Since:    since,
			Day:      days[n-1],
			Outage:   r.Outage,
		},
		Chart: &cost.Chart{
			Title:          fmt.Sprintf("%s daily cost", name),
			Days:           append([]time.Time(nil), days[from:]...),
			Values:         append([]float64(nil), values[from:]...),
			Reference:      ref,
			ReferenceLabel: "expected",
		},
	}
}

func sign(v float64) string {
	if v < 0 {
		return "-"
	}
	return "+"
}
