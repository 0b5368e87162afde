package alert

import (
	"strconv"
	"strings"

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
// under the inhibition rules, or "".
func (c *cycle) inhibitedBy(st *State) string {
	if len(c.o.InhibitRules) == 0 {
		return ""
	}
	if c.sources == nil {
		c.indexSources()
	}
	tl := c.labels(st)
	for i, r := range c.o.InhibitRules {
		if !matches(r.TargetMatchers, tl) {
			continue
		}
		for _, fp := range c.sources[i][equalKey(r.Equal, tl)] {
			if fp != st.Fingerprint {
				return fp
			}
		}
	}
	return ""
}

// indexSources lists, per rule, the firing alerts matching its source
// matchers by the values of its equal labels, in sorted order. Decisions,
// which use it, change no status.
func (c *cycle) indexSources() {
	c.sources = make([]map[string][]string, len(c.o.InhibitRules))
	for i := range c.sources {
		c.sources[i] = map[string][]string{}
	}
	for _, src := range c.sorted() {
		if src.Status != StatusFiring {
			continue
		}
		sl := c.labels(src)
		for i, r := range c.o.InhibitRules {
			if matches(r.SourceMatchers, sl) {
				k := equalKey(r.Equal, sl)
				c.sources[i][k] = append(c.sources[i][k], src.Fingerprint)
			}
		}
	}
}

// equalKey joins the values of the labels names in l ("" when missing).
func equalKey(names []string, l map[string]string) string {
	var b strings.Builder
	for _, n := range names {
		b.WriteString(strconv.Quote(l[n]))
		b.WriteByte(0)
	}
	return b.String()
}
