package rules

import (
	"slices"

	"github.com/costbot/costbot/internal/cost"
)

// acctPrep is what a Run keeps of one account once it has read the
// account's rows: the budgets' index, the anomaly rules' judgements and
// the facts the rule problems need. The rows themselves are read one
// account at a time (a few accounts at once with several workers) and
// dropped, so a Run over a large history never holds a copy of all of it.
type acctPrep struct {
	rows int // how many rows the account has
	// days is the budgets' index of the account, with the daily index of
	// every budget scope that applies to the account built.
	days *acctDays
	// anomaly[r] is anomaly rule r's judged series of the account; nil when
	// nothing was judged (the rule does not apply, no series matches, or
	// prepare was asked not to judge).
	anomaly []*anomalyAccount
	// unknown[r] is anomaly rule r's unknown-cost problem for the account,
	// nil when none (anomalyProblem).
	unknown []error
	// matched[k] says a row matches rule k's scope, k indexing the budget
	// rules and then the anomaly rules (noUsage); only for rules whose
	// account pattern matches the account.
	matched []bool
}

// prepare reads every account of ix once and keeps its acctPrep in
// ix.prep; judge also runs the anomaly rules over the account's series.
//
// With at least as many accounts as workers, the accounts are prepared on
// in.workers() goroutines, each judging its series in turn; with fewer,
// one at a time, each judging its series on in.workers() goroutines. Each
// series is judged into its own slot, so the output is the same either way.
func (s *Set) prepare(ix *index, in Input, judge bool) {
	accts := ix.accounts
	preps := make([]*acctPrep, len(accts))
	outer, inner := in.workers(), 1
	if len(accts) < outer {
		outer, inner = 1, outer
	}
	// Each goroutine reads its accounts' rows into a buffer of its own.
	bufs := make(chan []cost.Usage, max(outer, 1))
	for range cap(bufs) {
		bufs <- nil
	}
	forEach(len(accts), outer, func(i int) {
		buf := <-bufs
		rows := ix.rowsOf(accts[i].ID, buf)
		preps[i] = s.prepAccount(accts[i], rows, in, judge, inner)
		if ix.hist != nil {
			buf = rows
		}
		bufs <- buf
	})
	ix.prep = make(map[string]*acctPrep, len(accts))
	for i, a := range accts {
		ix.prep[a.ID] = preps[i]
	}
}

// prepAccount is prepare for one account and its rows.
func (s *Set) prepAccount(acct cost.Account, rows []cost.Usage, in Input, judge bool, workers int) *acctPrep {
	p := &acctPrep{rows: len(rows), anomaly: make([]*anomalyAccount, len(s.AnomalyRules)),
		unknown: make([]error, len(s.AnomalyRules)), matched: make([]bool, len(s.BudgetRules)+len(s.AnomalyRules))}
	ad := newAcctDays(rows, in.Now)
	for k, b := range s.BudgetRules {
		if b.Scope.matchAccount(acct) {
			ad.scope(b.Scope)
			p.matched[k] = slices.ContainsFunc(rows, b.Scope.matchRow)
		}
	}
	// Every scope a budget asks of this account is built: the rows can go.
	ad.rows, ad.sid, ad.prepared = nil, nil, true
	p.days = ad
	for r, a := range s.AnomalyRules {
		if !a.Scope.matchAccount(acct) {
			continue
		}
		p.matched[len(s.BudgetRules)+r] = slices.ContainsFunc(rows, a.Scope.matchRow)
		p.unknown[r] = anomalyProblem(a, acct, rows, in)
		if judge {
			p.anomaly[r] = s.judgeAccount(a, acct, rows, in, workers)
		}
	}
	return p
}

// anomalyProblems returns anomaly rule r's unknown-cost problems, in
// account order.
func (ix *index) anomalyProblems(r int) []error {
	var errs []error
	for _, acct := range ix.accounts {
		if err := ix.prep[acct.ID].unknown[r]; err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}
