package rules

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/costbot/costbot/internal/cost"
)

// ruleInfo is what a problem finding needs to know of its rule.
type ruleInfo struct {
	notify []string
	pos    Pos
}

func (s *Set) ruleInfos() map[string]ruleInfo {
	m := map[string]ruleInfo{}
	for _, r := range s.BudgetRules {
		m[r.Name] = ruleInfo{r.Notify, r.Pos}
	}
	for _, r := range s.AnomalyRules {
		m[r.Name] = ruleInfo{r.Notify, r.Pos}
	}
	for _, r := range s.CardRules {
		m[r.Name] = ruleInfo{r.Notify, r.Pos}
	}
	return m
}

// noUsage reports budget and anomaly rules whose scope matches no usage row
// in the stored history of any fresh account they apply to, while those
// accounts do have usage: the rule could never fire. Accounts without any
// data (a first fetch failed) are not judged here; staleness covers them.
func (s *Set) noUsage(ix *index) []error {
	check := func(k int, name string, sc Scope) error {
		var accts []cost.Account
		for _, a := range ix.accounts {
			if sc.matchAccount(a) && ix.prep[a.ID].rows > 0 {
				accts = append(accts, a)
			}
		}
		if len(accts) == 0 {
			return nil
		}
		for _, a := range accts {
			if ix.prep[a.ID].matched[k] {
				return nil
			}
		}
		scope := cost.Scope{Account: sc.Account, Family: sc.Family, Service: sc.Service, Zone: sc.Zone}
		if len(accts) == 1 {
			scope.Account, scope.AccountName = accts[0].ID, accts[0].Name
		}
		return &DataError{Rule: name, Scope: scope, Cause: CauseNoUsage,
			Msg: fmt.Sprintf("scope matches no usage in the stored history of %s (check the family, service and zone names); rule never fires", accountList(accts))}
	}
	var errs []error
	for k, b := range s.BudgetRules {
		if err := check(k, b.Name, b.Scope); err != nil {
			errs = append(errs, err)
		}
	}
	for r, a := range s.AnomalyRules {
		if err := check(len(s.BudgetRules)+r, a.Name, a.Scope); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

func accountList(accts []cost.Account) string {
	names := make([]string, len(accts))
	for i, a := range accts {
		names[i] = label(a)
	}
	if len(names) > 5 {
		names = append(names[:5], fmt.Sprintf("%d more", len(accts)-5))
	}
	return "account " + strings.Join(names, ", ")
}

// anomalyProblem reports the series of anomaly rule a in acct (whose rows
// are rows) whose cost was unknown on a day within the lookback: they
// cannot be judged on those days. It returns nil when there are none.
func anomalyProblem(a *Anomaly, acct cost.Account, rows []cost.Usage, in Input) error {
	lookback := in.Lookback
	if lookback <= 0 {
		lookback = DefaultLookback
	}
	from := cost.Day(in.Now).AddDate(0, 0, -lookback)
	unknown := map[string]bool{}
	for i := range rows {
		u := &rows[i]
		d := cost.Day(u.Day)
		if u.Correction || u.CostKnown || d.Before(from) || !d.Before(in.Now) || !a.Scope.matchRow(*u) {
			continue
		}
		unknown[u.Service] = true
	}
	if len(unknown) == 0 {
		return nil
	}
	scope := cost.Scope{Account: acct.ID, AccountName: acct.Name, Family: a.Scope.Family, Service: a.Scope.Service, Zone: a.Scope.Zone}
	return &DataError{Rule: a.Name, Scope: scope, Cause: CauseUnknownCost,
		Msg: fmt.Sprintf("cost unknown for %s in the last %d days; those days are not judged", strings.Join(sortedKeys(unknown), ", "), lookback)}
}

// problemFindings turns every *DataError into a rule_problem finding to the
// rule's notifiers, one per rule, scope, cause and period; it resolves when
// fresh data no longer shows the problem.
func (s *Set) problemFindings(errs []error) []cost.Finding {
	info := s.ruleInfos()
	var out []cost.Finding
	seen := map[string]bool{}
	for _, err := range errs {
		var de *DataError
		if !errors.As(err, &de) {
			continue
		}
		key := de.Rule + "\x00" + de.Scope.String() + "\x00" + de.Cause.String() + "\x00" + de.Period.String()
		if seen[key] {
			continue
		}
		seen[key] = true
		ri := info[de.Rule]
		where := ""
		if ri.pos.File != "" {
			where = fmt.Sprintf(" Defined at %s.", ri.pos)
		}
		out = append(out, cost.Finding{
			Kind:      cost.KindRuleProblem,
			Rule:      de.Rule,
			Scope:     de.Scope,
			Period:    de.Period,
			Threshold: de.Cause.String(),
			Severity:  cost.SeverityWarning,
			Notifiers: append([]string(nil), ri.notify...),
			Title:     fmt.Sprintf("Rule %s cannot be evaluated for %s: %s", de.Rule, scopeText(de.Scope), causeText(de.Cause)),
			Summary:   fmt.Sprintf("%s.%s The rule stays silent for this scope until the problem clears; this alert then resolves.", de.Msg, where),
		})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Rule < out[j].Rule })
	return out
}

func causeText(c Cause) string {
	switch c {
	case CauseNoUsage:
		return "its scope matches no usage"
	case CauseCurrency:
		return "its currency differs from the bill's"
	case CauseUnknownCost:
		return "part of the cost is unknown"
	case CauseNoPeriod:
		return "no billing period in the data"
	}
	return c.String()
}

func scopeText(s cost.Scope) string {
	if str := s.String(); str != "" {
		return str
	}
	return "every account"
}
