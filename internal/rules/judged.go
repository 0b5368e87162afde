package rules

import (
	"maps"
	"math"
	"time"

	"github.com/costbot/costbot/internal/cost"
)

// Judged is what the anomaly rules remember of one rule's series between
// cycles, so that every settled day is judged once and late or revised data
// is recognised. The zero value is a series never judged.
type Judged struct {
	// Through is the last settled day judged (UTC midnight); zero: never.
	Through time.Time
	// Values holds the settled values as judged for the recent days (at most
	// JudgedKeep days up to Through); NaN is an unknown cost or no data. A
	// day whose value differs on a later cycle was revised.
	Values map[time.Time]float64
	// Reported maps the first day of each anomalous episode reported (UTC
	// midnight) to the last data day of the cycle that first reported it.
	Reported map[time.Time]time.Time
	// Summarized maps the first day of each episode reported only inside a
	// catch-up summary to that summary's first day.
	Summarized map[time.Time]time.Time
}

// Equal reports whether j and o hold the same state: the same days,
// episodes and values, a value bit for bit (NaN equals NaN).
func (j Judged) Equal(o Judged) bool {
	if !j.Through.Equal(o.Through) || len(j.Values) != len(o.Values) ||
		!maps.Equal(j.Reported, o.Reported) || !maps.Equal(j.Summarized, o.Summarized) {
		return false
	}
	for d, v := range j.Values {
		w, ok := o.Values[d]
		if !ok || math.Float64bits(v) != math.Float64bits(w) && !(math.IsNaN(v) && math.IsNaN(w)) {
			return false
		}
	}
	return true
}

// JudgedKeep is how many days of judged values are kept per series to spot
// revisions: more than the default refresh window of 40 days.
const JudgedKeep = 62

// JudgedKey is the key of a rule's series in Input.Judged and Output.Judged.
func JudgedKey(rule string, k cost.SeriesKey) string { return rule + "\x00" + k.String() }

// Output is what Run returns.
type Output struct {
	Findings []cost.Finding
	// Problems are data problems (*DataError) that kept a rule from being
	// evaluated for some scope.
	Problems []error
	// Budgets is where every budget stands for each matching account in the
	// period containing Input.Now: what Set.Budgets returns for the same
	// Input, so a caller that ran the rules need not evaluate them again.
	Budgets []cost.BudgetStatus
	// Judged is the anomaly state to keep for the next cycle of every
	// series whose state changed this cycle (keyed by JudgedKey). Series
	// not in it keep their old state: most series' state is the same every
	// hour, since a settled day is judged once.
	Judged map[string]Judged
}

// DefaultSettle is how long after its end a day's data counts as settled
// when no later day has data yet.
const DefaultSettle = 36 * time.Hour

// DefaultLookback is how many days back a first cycle (or one after a
// downtime) reports anomalies; older history only warms the detector up.
const DefaultLookback = 7

// maxCatchUp is the most new late episodes one rule reports one by one in a
// cycle; beyond it they go into one summary.
const maxCatchUp = 5
