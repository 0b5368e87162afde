package alert

import (
	"github.com/prometheus/alertmanager/pkg/labels"

	"github.com/costbot/costbot/internal/cost"
)

// InhibitRule mutes target alerts while a source alert fires, like an
// Alertmanager inhibit rule: an alert matching TargetMatchers is inhibited by
// another firing alert matching SourceMatchers that has the same value (or
// lacks the label in both) for every label in Equal. Labels are those of
// Labels. An alert never inhibits itself.
//
// One rule is built in and always on: a higher threshold of a group (kind,
// rule, scope, period) that fires supersedes the lower ones (StatusSuperseded,
// ReasonSuperseded). It compares thresholds, which matchers cannot express.
type InhibitRule struct {
	SourceMatchers labels.Matchers
	TargetMatchers labels.Matchers
	Equal          []string
}

// DefaultInhibitRules returns the rules used when the config has no
// inhibit_rules: a stale alert of an account, or a rule_problem alert of an
// account, inhibits that account's anomalies (their data is in doubt).
func DefaultInhibitRules() []InhibitRule {
	eq := func(n, v string) *labels.Matcher {
		m, err := labels.NewMatcher(labels.MatchEqual, n, v)
		if err != nil {
			panic(err) // constant matchers
		}
		return m
	}
	anomaly := cost.KindAnomaly.String()
	return []InhibitRule{
		{SourceMatchers: labels.Matchers{eq("kind", cost.KindStale.String())}, TargetMatchers: labels.Matchers{eq("kind", anomaly)}, Equal: []string{"account_id"}},
		{SourceMatchers: labels.Matchers{eq("kind", cost.KindRuleProblem.String())}, TargetMatchers: labels.Matchers{eq("kind", anomaly)}, Equal: []string{"account_id"}},
	}
}

// inhibitedBy returns the fingerprint of a firing alert that inhibits st
// under rules, or "".
func (c *cycle) inhibitedBy(st *State) string {
	if len(c.o.InhibitRules) == 0 {
		return ""
	}
	tl := c.labels(st)
	for _, r := range c.o.InhibitRules {
		if !matches(r.TargetMatchers, tl) {
			continue
		}
		for _, src := range c.sorted() {
			if src == st || src.Status != StatusFiring {
				continue
			}
			sl := c.labels(src)
			if !matches(r.SourceMatchers, sl) {
				continue
			}
			same := true
			for _, k := range r.Equal {
				if sl[k] != tl[k] {
					same = false
					break
				}
			}
			if same {
				return src.Fingerprint
			}
		}
	}
	return ""
}
