package config

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/alertmanager/timeinterval"
	"gopkg.in/yaml.v3"
)

// TimeInterval is a named list of Alertmanager time intervals (weekdays,
// times, days_of_month, months, years, location), used by routes as quiet
// hours (mute_time_intervals) or as active windows (active_time_intervals).
// A time is inside it when it is inside any of the list's intervals.
type TimeInterval struct {
	Name string `yaml:"name"`
	// Intervals are decoded in Validate so that each problem has its
	// position; Intervals() returns them.
	Intervals []yaml.Node `yaml:"time_intervals"`
}

// InhibitRule mutes alerts matching TargetMatchers while an alert matching
// SourceMatchers fires with the same values of the Equal labels. Matchers use
// Alertmanager's syntax, e.g. `kind="stale"` or `service=~"R2.*"`.
type InhibitRule struct {
	SourceMatchers []string `yaml:"source_matchers"`
	TargetMatchers []string `yaml:"target_matchers"`
	Equal          []string `yaml:"equal"`
}

// Route sends the alerts its matchers match to its notifiers. Routes are
// tried in order and the first match wins, unless it sets continue; an alert
// no route matches goes to every notifier. A rule with a `notify:` list
// bypasses routes.
type Route struct {
	// Matchers in Alertmanager's syntax; none matches every alert.
	Matchers  []string `yaml:"matchers"`
	Notifiers []string `yaml:"notifiers"`
	// RepeatInterval for these notifiers; 0 (default) keeps
	// alerts.repeat_interval, negative never repeats.
	RepeatInterval time.Duration `yaml:"repeat_interval"`
	// MuteTimeIntervals hold firing messages while any of them holds (quiet
	// hours); they go out once it ends, if still firing.
	MuteTimeIntervals []string `yaml:"mute_time_intervals"`
	// ActiveTimeIntervals, when set, hold firing messages outside them.
	ActiveTimeIntervals []string `yaml:"active_time_intervals"`
	Continue            bool     `yaml:"continue"`
}

// LabelNames are the alert labels matchers and equal lists can name (see
// alert.Labels; a test in internal/app keeps the two in step).
var LabelNames = []string{"alertname", "kind", "rule", "severity", "account", "account_id", "service", "family",
	"zone", "threshold", "period_start"}

var intervalKeys = []string{"times", "weekdays", "days_of_month", "months", "years", "location"}

// Intervals returns the time intervals by name, decoded; call it on a
// validated config (it skips what does not decode).
func (c *Config) Intervals() map[string][]timeinterval.TimeInterval {
	out := make(map[string][]timeinterval.TimeInterval, len(c.TimeIntervals))
	for _, ti := range c.TimeIntervals {
		var list []timeinterval.TimeInterval
		for i := range ti.Intervals {
			var iv timeinterval.TimeInterval
			if err := ti.Intervals[i].Decode(&iv); err == nil {
				list = append(list, iv)
			}
		}
		out[ti.Name] = list
	}
	return out
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// validateRouting checks time_intervals, inhibit_rules and routes.
func (c *Config) validateRouting(bad func(field, format string, args ...any), badAt func(n *yaml.Node, field, format string, args ...any)) {
	names := map[string]bool{}
	for i, ti := range c.TimeIntervals {
		f := fmt.Sprintf("time_intervals[%d]", i)
		switch {
		case !nameRE.MatchString(ti.Name):
			bad(f+".name", "want a name of letters, digits, '_', '.' or '-', got %q", ti.Name)
		case names[ti.Name]:
			bad(f+".name", "duplicate time interval %q", ti.Name)
		}
		names[ti.Name] = true
		if len(ti.Intervals) == 0 {
			bad(f+".time_intervals", "at least one interval is required")
		}
		for j := range ti.Intervals {
			n := &ti.Intervals[j]
			fj := fmt.Sprintf("%s.time_intervals[%d]", f, j)
			if n.Kind != yaml.MappingNode {
				badAt(n, fj, "want a mapping of %s", strings.Join(intervalKeys, ", "))
				continue
			}
			ok := true
			for k := 0; k+1 < len(n.Content); k += 2 {
				if key := n.Content[k]; !slices.Contains(intervalKeys, key.Value) {
					badAt(key, fj+"."+key.Value, "unknown field (want %s)", strings.Join(intervalKeys, ", "))
					ok = false
				}
			}
			if !ok {
				continue
			}
			var iv timeinterval.TimeInterval
			if err := n.Decode(&iv); err != nil {
				badAt(n, fj, "%s", strings.TrimPrefix(err.Error(), "yaml: "))
			}
		}
	}
	matchers := func(field string, ms []string, required bool) {
		if required && len(ms) == 0 {
			bad(field, "at least one matcher is required")
		}
		for k, m := range ms {
			parsed, err := labels.ParseMatchers(m)
			if err != nil {
				bad(fmt.Sprintf("%s[%d]", field, k), "%v", err)
				continue
			}
			for _, p := range parsed {
				if !slices.Contains(LabelNames, p.Name) {
					bad(fmt.Sprintf("%s[%d]", field, k), "unknown label %q (want one of %s)", p.Name, strings.Join(LabelNames, ", "))
				}
			}
		}
	}
	for i, r := range c.InhibitRules {
		f := fmt.Sprintf("inhibit_rules[%d]", i)
		matchers(f+".source_matchers", r.SourceMatchers, true)
		matchers(f+".target_matchers", r.TargetMatchers, true)
		for k, l := range r.Equal {
			if !slices.Contains(LabelNames, l) {
				bad(fmt.Sprintf("%s.equal[%d]", f, k), "unknown label %q (want one of %s)", l, strings.Join(LabelNames, ", "))
			}
		}
	}
	var notifiers []string
	for _, n := range c.Notifiers {
		notifiers = append(notifiers, n.Name)
	}
	for i, r := range c.Routes {
		f := fmt.Sprintf("routes[%d]", i)
		matchers(f+".matchers", r.Matchers, false)
		if len(r.Notifiers) == 0 {
			bad(f+".notifiers", "at least one notifier is required")
		}
		for k, n := range r.Notifiers {
			if !slices.Contains(notifiers, n) {
				bad(fmt.Sprintf("%s.notifiers[%d]", f, k), "unknown notifier %q", n)
			}
		}
		for _, l := range []struct {
			key   string
			names []string
		}{{"mute_time_intervals", r.MuteTimeIntervals}, {"active_time_intervals", r.ActiveTimeIntervals}} {
			for k, n := range l.names {
				if !names[n] {
					bad(fmt.Sprintf("%s.%s[%d]", f, l.key, k), "unknown time interval %q", n)
				}
			}
		}
	}
}
