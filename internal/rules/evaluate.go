package rules

import (
	"fmt"
	"runtime"
	"sort"
	"time"

	"github.com/costbot/costbot/internal/cost"
)

// Input is everything one evaluation looks at. Evaluation never reads the
// clock: Now is the evaluation time.
type Input struct {
	Now      time.Time
	Accounts []cost.Account // id -> name mapping; accounts seen only in data are matched by id
	Usage    []cost.Usage
	// History, when set, gives the usage one account at a time instead of
	// Usage, which is then not read: a Run never holds more than a few
	// accounts' rows at once (the daemon keeps its history in a compact
	// form, not as one []cost.Usage).
	History History
	Cards   []cost.Card
	// Stale maps account id -> why its data is missing. Those accounts are
	// skipped entirely: missing data is unknown, never zero.
	Stale map[string]error
	// Expected maps cost.SeriesKey.String() -> when a user marked the series'
	// new level as expected; the anomaly baseline takes the level of the days
	// before the mark's day from then on.
	Expected map[string]time.Time
	// Judged is the anomaly state of every series so far: what the earlier
	// cycles returned in Output.Judged (nil: nothing judged yet).
	Judged map[string]Judged
	// JudgedOf, when set, is read instead of Judged: the state of the
	// series with key JudgedKey (the zero Judged when never judged). The
	// daemon keeps its states packed and unpacks the one asked for. It
	// must be safe for concurrent use.
	JudgedOf func(key string) Judged
	// Settle is how long after its end the account's latest data day stays
	// provisional; 0 means DefaultSettle (36 h).
	Settle time.Duration
	// Lookback is how many days back anomalies are reported when a series
	// is judged for the first time or after a gap; 0 means DefaultLookback (7).
	Lookback int
	// Workers is how many series the anomaly rules judge at once, each on
	// its own goroutine; 0 means runtime.GOMAXPROCS(0) and 1 judges them one
	// by one on the caller's. The output is the same whatever the value.
	// With more than one, a Set.Detector must be safe for concurrent use.
	Workers int
}

// History is usage handed over one account at a time.
type History interface {
	// Accounts lists the ids of the accounts with rows, sorted.
	Accounts() []string
	// Rows returns the account's rows, ordered like store.DB.Usage (day,
	// family, service, zone, correction), appended to buf[:0] (buf may be
	// nil). The caller owns the result; Rows must be safe for concurrent use.
	Rows(account string, buf []cost.Usage) []cost.Usage
}

// judged returns the state of series key before this evaluation.
func (in Input) judged(key string) Judged {
	if in.JudgedOf != nil {
		return in.JudgedOf(key)
	}
	return in.Judged[key]
}

// workers is the pool size Workers asks for.
func (in Input) workers() int {
	if in.Workers > 0 {
		return in.Workers
	}
	return runtime.GOMAXPROCS(0)
}

// Cause names why a rule could not be evaluated.
type Cause int

const (
	// CauseNoUsage: the rule's scope matches no usage in the stored history
	// of any account it applies to (often a typo in a family or service).
	CauseNoUsage Cause = iota + 1
	// CauseCurrency: the rule's currency differs from the bill's.
	CauseCurrency
	// CauseUnknownCost: the cost of part of the scope is unknown (e.g. FOCUS
	// v2 rows whose cost fields Cloudflare does not populate yet).
	CauseUnknownCost
	// CauseNoPeriod: the data carries no billing period for the account.
	CauseNoPeriod
)

var causeNames = map[Cause]string{
	CauseNoUsage:     "no_usage",
	CauseCurrency:    "currency",
	CauseUnknownCost: "unknown_cost",
	CauseNoPeriod:    "no_period",
}

// String returns the cause's stable name: no_usage, currency, unknown_cost
// or no_period.
func (c Cause) String() string {
	if n, ok := causeNames[c]; ok {
		return n
	}
	return fmt.Sprintf("cause(%d)", int(c))
}

// DataError is a problem with the data a rule was evaluated on, such as a
// currency mismatch or an unknown cost. The rule is skipped for that scope.
type DataError struct {
	Rule  string
	Scope cost.Scope
	Msg   string
	Cause Cause
	// Period is the budget period concerned; zero when none applies.
	Period cost.Period
}

// Error renders `rule "x" (scope): what`.
func (e *DataError) Error() string {
	return fmt.Sprintf("rule %q (%s): %s", e.Rule, e.Scope, e.Msg)
}

// Evaluate runs every rule against in and returns the findings and the data
// problems (*DataError) that kept a rule from being evaluated for some scope.
// Findings are ordered budgets, anomalies, cards, each in rule order then
// account order.
//
// A budget applies to each matching account separately, over the period
// containing in.Now. Because billing data lags about a day, the period holding
// the account's last complete day is also checked, against actual thresholds
// only, while it is earlier than the current one. Every crossed threshold is
// reported, so lower ones keep firing when a higher one fires.
func (s *Set) Evaluate(in Input) ([]cost.Finding, []error) {
	o := s.Run(in)
	return o.Findings, o.Problems
}

// Run is Evaluate that also returns the anomaly state to keep for the next
// cycle (pass it back in Input.Judged).
func (s *Set) Run(in Input) Output {
	o := Output{Judged: map[string]Judged{}}
	if s == nil {
		return o
	}
	ix := newIndex(in)
	s.prepare(ix, in, true)
	out, budgets, errs := s.budgets(ix, in.Now)
	o.Budgets = budgets
	o.Findings = out
	for r, a := range s.AnomalyRules {
		for _, acct := range ix.accounts {
			if aa := ix.prep[acct.ID].anomaly[r]; aa != nil {
				aa.collect(a, &o)
			}
		}
		errs = append(errs, ix.anomalyProblems(r)...)
	}
	for _, c := range s.CardRules {
		o.Findings = append(o.Findings, evalCard(c, ix, in)...)
	}
	errs = append(errs, s.noUsage(ix)...)
	o.Problems = errs
	o.Findings = append(o.Findings, s.problemFindings(errs)...)
	return o
}

// Standing is what a cycle's Run reports without judging anything: where
// every budget stands (Output.Budgets) and the rule_problem findings (rules
// that cannot be evaluated), the same as Run's for the same Input. It
// skips the anomaly detectors and card rules, for a reader of the state
// that only shows figures (a standby replica's slash commands).
func (s *Set) Standing(in Input) (budgets []cost.BudgetStatus, problems []cost.Finding) {
	if s == nil {
		return nil, nil
	}
	ix := newIndex(in)
	s.prepare(ix, in, false)
	_, budgets, errs := s.budgets(ix, in.Now)
	for r := range s.AnomalyRules {
		errs = append(errs, ix.anomalyProblems(r)...)
	}
	errs = append(errs, s.noUsage(ix)...)
	return budgets, s.problemFindings(errs)
}

// Budgets reports where every budget stands for each matching account in the
// period containing in.Now. Budgets whose figure is unknown (currency
// mismatch, unknown cost, no billing period) and accounts without any usage
// are left out; Evaluate reports why.
func (s *Set) Budgets(in Input) []cost.BudgetStatus {
	if s == nil {
		return nil
	}
	ix := newIndex(in)
	s.prepare(ix, in, false)
	_, out, _ := s.budgets(ix, in.Now)
	return out
}

// index groups the input by account, leaving out stale accounts.
type index struct {
	accounts []cost.Account // configured order, then unnamed ids sorted
	byID     map[string]cost.Account
	// hist gives the rows one account at a time: Input.History, or
	// Input.Usage grouped by account (usageHistory).
	hist History
	// prep is what prepare kept of each account in accounts; nil before.
	prep map[string]*acctPrep
}

func newIndex(in Input) *index {
	ix := &index{byID: map[string]cost.Account{}, hist: in.History}
	stale := func(id string) bool { _, ok := in.Stale[id]; return ok }
	for _, a := range in.Accounts {
		if _, dup := ix.byID[a.ID]; dup || stale(a.ID) {
			continue
		}
		ix.byID[a.ID] = a
		ix.accounts = append(ix.accounts, a)
	}
	var extra []string
	addID := func(id string) {
		if _, ok := ix.byID[id]; ok || stale(id) {
			return
		}
		ix.byID[id] = cost.Account{ID: id}
		extra = append(extra, id)
	}
	if ix.hist == nil {
		ix.hist = byAccount(in.Usage, stale)
	}
	for _, id := range ix.hist.Accounts() {
		addID(id)
	}
	for _, c := range in.Cards {
		addID(c.Account)
	}
	sort.Strings(extra)
	for _, id := range extra {
		ix.accounts = append(ix.accounts, ix.byID[id])
	}
	return ix
}

// rowsOf returns the rows of account id (nil when stale), read into buf
// (with Input.Usage, a shared slice of it: callers never write the rows).
func (ix *index) rowsOf(id string, buf []cost.Usage) []cost.Usage {
	if _, ok := ix.byID[id]; !ok {
		return nil
	}
	return ix.hist.Rows(id, buf)
}

// usageHistory is Input.Usage as a History: each account's rows in input
// order, stale accounts left out.
type usageHistory struct {
	ids  []string
	rows map[string][]cost.Usage
}

// byAccount groups rows by account, leaving out the accounts stale says.
func byAccount(rows []cost.Usage, stale func(id string) bool) *usageHistory {
	// Sized first: growing the slices row by row copies the whole history
	// several times over, which dominated a Run over a large fleet.
	counts := map[string]int{}
	for i := range rows {
		counts[rows[i].Account]++
	}
	h := &usageHistory{rows: make(map[string][]cost.Usage, len(counts))}
	for id, n := range counts {
		if !stale(id) {
			h.rows[id] = make([]cost.Usage, 0, n)
			h.ids = append(h.ids, id)
		}
	}
	sort.Strings(h.ids)
	for i := range rows {
		if r, ok := h.rows[rows[i].Account]; ok {
			h.rows[rows[i].Account] = append(r, rows[i])
		}
	}
	return h
}

func (h *usageHistory) Accounts() []string { return h.ids }

// Rows returns the account's rows, shared (buf is not used).
func (h *usageHistory) Rows(account string, _ []cost.Usage) []cost.Usage { return h.rows[account] }

// label is how an account appears in scopes and titles: its name, else its id.
func label(a cost.Account) string {
	if a.Name != "" {
		return a.Name
	}
	return a.ID
}
