package rules

// Ref is one notifier name in a rule's notify list.
type Ref struct {
	Rule     string // the rule's name
	Notifier string // the notifier name as written
	// Pos is where the rule is defined (its name); the entries of a notify
	// list keep no position of their own.
	Pos Pos
}

// Refs returns every notifier reference: budgets, anomalies, then cards, each
// in file order, each rule's names in list order. Config checks use it to
// name the rule that refers to a notifier the config lacks.
func (s *Set) Refs() []Ref {
	if s == nil {
		return nil
	}
	var out []Ref
	add := func(rule string, pos Pos, ns []string) {
		for _, n := range ns {
			out = append(out, Ref{Rule: rule, Notifier: n, Pos: pos})
		}
	}
	for _, r := range s.BudgetRules {
		add(r.Name, r.Pos, r.Notify)
	}
	for _, r := range s.AnomalyRules {
		add(r.Name, r.Pos, r.Notify)
	}
	for _, r := range s.CardRules {
		add(r.Name, r.Pos, r.Notify)
	}
	return out
}
