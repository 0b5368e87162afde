package rules

import (
	"math"
	"time"

	"github.com/costbot/costbot/internal/cost"
)

// budgetIndex is the usage budgets look at, prepared once per Run: for each
// account a budget applies to, the account-wide facts (last complete day,
// billing periods, series) and a daily index per budget scope. Budgets then
// never copy or re-match an account's usage rows: a budget on one service
// reads that service's days, and budgets sharing a scope (and the previous
// period's check) share its index.
type budgetIndex struct {
	now   time.Time
	ix    *index
	accts map[string]*acctDays
}

func newBudgetIndex(ix *index, now time.Time) *budgetIndex {
	return &budgetIndex{now: now, ix: ix, accts: map[string]*acctDays{}}
}

// account returns the index of account id: the one prepare built, else
// built from the rows on first use.
func (bi *budgetIndex) account(id string) *acctDays {
	if p := bi.ix.prep[id]; p != nil {
		return p.days
	}
	if a, ok := bi.accts[id]; ok {
		return a
	}
	a := newAcctDays(bi.ix.rowsOf(id, nil), bi.now)
	bi.accts[id] = a
	return a
}

// rowKey is the part of a usage row a budget scope matches, and the part
// of a Scope that matches it.
type rowKey struct{ family, service, zone string }

// acctDays is one account's usage as budgets need it.
type acctDays struct {
	rows []cost.Usage
	n    int // len(rows), kept once prepared drops rows
	// prepared says rows and sid are gone (prepAccount): every scope a
	// budget asks for is built already.
	prepared bool
	// series are the account's distinct (family, service, zone) keys in
	// order of first appearance; sid[i] is rows[i]'s series and curs[s]
	// the distinct non-empty currencies of series s.
	series []rowKey
	sid    []int32
	curs   [][]string
	// periods are the distinct valid billing periods of the rows, in order
	// of first appearance.
	periods []cost.Period
	// first and last are the first and last days with data before now,
	// corrections left out (zero without data).
	first, last time.Time
	scopes      map[rowKey]*scopeDays
}

func newAcctDays(rows []cost.Usage, now time.Time) *acctDays {
	a := &acctDays{rows: rows, n: len(rows), sid: make([]int32, len(rows)), scopes: map[rowKey]*scopeDays{}}
	ids := map[rowKey]int32{}
	seenPeriod := map[cost.Period]bool{}
	for i, u := range rows {
		k := rowKey{u.Family, u.Service, u.Zone}
		id, ok := ids[k]
		if !ok {
			id = int32(len(a.series))
			ids[k] = id
			a.series = append(a.series, k)
			a.curs = append(a.curs, nil)
		}
		a.sid[i] = id
		if u.Currency != "" && !contains(a.curs[id], u.Currency) {
			a.curs[id] = append(a.curs[id], u.Currency)
		}
		if bp := u.BillingPeriod; !bp.IsZero() && bp.End.After(bp.Start) && !seenPeriod[bp] {
			seenPeriod[bp] = true
			a.periods = append(a.periods, bp)
		}
		d := cost.Day(u.Day)
		if u.Correction || !d.Before(now) {
			continue
		}
		if d.After(a.last) {
			a.last = d
		}
		if a.first.IsZero() || d.Before(a.first) {
			a.first = d
		}
	}
	return a
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// dayCell is the spend of a scope's rows sharing a charge day, a billing
// period start and the correction flag.
type dayCell struct {
	day        time.Time // cost.Day of the charge day
	bp         time.Time // BillingPeriod.Start
	correction bool
	sum        float64  // the known costs
	unknown    []string // services with a row of unknown cost
}

// scopeDays is the daily index of one scope in one account.
type scopeDays struct {
	// matched says some row matched the scope.
	matched bool
	// curs are the distinct non-empty currencies of the matched rows, or of
	// every row when none matched (so a budget on a service the account
	// does not use still reports the account's currency).
	curs  []string
	cells []dayCell
}

// scope returns the daily index of s's rows, building it on first use.
func (a *acctDays) scope(s Scope) *scopeDays {
	key := rowKey{s.Family, s.Service, s.Zone}
	if sd, ok := a.scopes[key]; ok {
		return sd
	}
	if a.prepared {
		panic("rules: a budget scope that prepare did not build")
	}
	sd := &scopeDays{}
	match := make([]bool, len(a.series))
	for i, k := range a.series {
		match[i] = globMatch(s.Family, k.family) && globMatch(s.Service, k.service) && globMatch(s.Zone, k.zone)
		if match[i] {
			sd.matched = true
			for _, c := range a.curs[i] {
				if !contains(sd.curs, c) {
					sd.curs = append(sd.curs, c)
				}
			}
		}
	}
	if !sd.matched {
		for _, cs := range a.curs {
			for _, c := range cs {
				if !contains(sd.curs, c) {
					sd.curs = append(sd.curs, c)
				}
			}
		}
	}
	type cellKey struct {
		day, bp    time.Time
		correction bool
	}
	at := map[cellKey]int{}
	for i, u := range a.rows {
		if !match[a.sid[i]] {
			continue
		}
		k := cellKey{cost.Day(u.Day), u.BillingPeriod.Start, u.Correction}
		j, ok := at[k]
		if !ok {
			j = len(sd.cells)
			at[k] = j
			sd.cells = append(sd.cells, dayCell{day: k.day, bp: k.bp, correction: k.correction})
		}
		c := &sd.cells[j]
		if !u.CostKnown {
			if !contains(c.unknown, u.Service) {
				c.unknown = append(c.unknown, u.Service)
			}
			continue
		}
		c.sum += u.Cost
	}
	a.scopes[key] = sd
	return sd
}

// project is Project over the scope's daily index: the same figures
// without touching the rows.
func (a *acctDays) project(sd *scopeDays, period cost.Period, billing bool, now time.Time) Projection {
	pr := Projection{Period: period}
	unknown := map[string]bool{}
	for _, c := range sd.cells {
		in := period.Contains(c.day)
		if billing {
			in = c.bp.Equal(period.Start)
		}
		if !in {
			continue
		}
		for _, s := range c.unknown {
			unknown[s] = true
		}
		pr.Actual += c.sum
	}
	if len(unknown) > 0 {
		pr.Unknown = sortedKeys(unknown)
	}
	pr.Last = a.last
	if !a.last.IsZero() {
		n := forecastHistory + 7
		if have := int(a.last.Sub(a.first)/day) + 1; have < n {
			n = have
		}
		first := a.last.Add(-time.Duration(n-1) * day)
		pr.Days = make([]time.Time, n)
		pr.Values = make([]float64, n)
		for i := range pr.Days {
			pr.Days[i] = first.Add(time.Duration(i) * day)
		}
		nan := make([]bool, n)
		for _, c := range sd.cells {
			if c.correction || c.day.Before(first) || c.day.After(a.last) {
				continue
			}
			i := int(c.day.Sub(first) / day)
			pr.Values[i] += c.sum
			if len(c.unknown) > 0 {
				nan[i] = true
			}
		}
		for i, bad := range nan {
			if bad {
				pr.Values[i] = math.NaN()
			}
		}
		_, pr.Daily = Forecast(pr.Days, pr.Values, period, now)
		pr.Start = period.Start
		if s := a.last.Add(day); s.After(pr.Start) {
			pr.Start = s
		}
	}
	pr.Forecast = pr.Actual
	for _, v := range pr.Daily {
		pr.Forecast += v
	}
	return pr
}
