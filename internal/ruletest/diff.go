package ruletest

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/costbot/costbot/internal/app"
)

// field is one comparable field of an alert: its name, the expectation
// (nil: not compared) and the event's value.
type field struct {
	name string
	want *string
	got  string
}

func (w *Alert) fields(ev app.Event) []field {
	status := w.Status
	if status == nil {
		firing := "firing"
		status = &firing
	}
	return []field{
		{"kind", w.Kind, ev.Kind}, {"rule", w.Rule, ev.Rule}, {"status", status, ev.Status}, {"reason", w.Reason, ev.Reason},
		{"account", w.Account, ev.Account}, {"service", w.Service, ev.Service}, {"family", w.Family, ev.Family},
		{"zone", w.Zone, ev.Zone}, {"severity", w.Severity, ev.Severity}, {"day", w.Day, ev.Day},
		{"threshold", w.Threshold, ev.Threshold}, {"title", w.Title, ev.Title},
	}
}

// mismatches lists the fields of ev that differ from what w expects. An
// expected account may be the account's id or its name; the title is a
// substring.
func (w *Alert) mismatches(ev app.Event, accts []Account) []field {
	var out []field
	for _, f := range w.fields(ev) {
		if f.want == nil {
			continue
		}
		ok := *f.want == f.got
		switch f.name {
		case "title":
			ok = strings.Contains(f.got, *f.want)
		case "account":
			for _, a := range accts {
				if *f.want == a.ID && f.got == a.display() {
					ok = true
				}
			}
		}
		if !ok {
			out = append(out, f)
		}
	}
	return out
}

// compare matches the expected alerts to the sent events one to one (a
// maximum bipartite matching, so the order of either list does not matter
// and a loose expectation cannot steal the event a stricter one needs). It
// returns "" when every expectation has its event and every event its
// expectation, else a diff, one alert per line: "-" expected but not sent,
// "+" sent but not expected, " " matched.
func compare(want []Alert, got []app.Event, accts []Account) string {
	fits := make([][]bool, len(want))
	for i := range want {
		fits[i] = make([]bool, len(got))
		for j, ev := range got {
			fits[i][j] = len(want[i].mismatches(ev, accts)) == 0
		}
	}
	ofGot := make([]int, len(got)) // want index matched to each event, -1 none
	for j := range ofGot {
		ofGot[j] = -1
	}
	var augment func(i int, seen []bool) bool
	augment = func(i int, seen []bool) bool {
		for j := range got {
			if !fits[i][j] || seen[j] {
				continue
			}
			seen[j] = true
			if ofGot[j] < 0 || augment(ofGot[j], seen) {
				ofGot[j] = i
				return true
			}
		}
		return false
	}
	matched := make([]bool, len(want))
	for i := range want {
		matched[i] = augment(i, make([]bool, len(got)))
	}
	var missing []int
	for i, m := range matched {
		if !m {
			missing = append(missing, i)
		}
	}
	var extra []int
	for j, i := range ofGot {
		if i < 0 {
			extra = append(extra, j)
		}
	}
	if len(missing) == 0 && len(extra) == 0 {
		return ""
	}

	var b strings.Builder
	for _, i := range missing {
		fmt.Fprintf(&b, "- %s\n", want[i].String())
		if j, diffs := closest(&want[i], got, extra, accts); j >= 0 {
			var parts []string
			for _, d := range diffs {
				parts = append(parts, fmt.Sprintf("%s: want %s, got %s", d.name, strconv.Quote(*d.want), strconv.Quote(d.got)))
			}
			fmt.Fprintf(&b, "    (closest sent: %s)\n", strings.Join(parts, "; "))
		}
	}
	lines := make([]string, 0, len(extra))
	for _, j := range extra {
		lines = append(lines, "+ "+eventString(got[j]))
	}
	sort.Strings(lines)
	for _, l := range lines {
		b.WriteString(l + "\n")
	}
	lines = lines[:0]
	for j, i := range ofGot {
		if i >= 0 {
			lines = append(lines, "  "+eventString(got[j]))
		}
	}
	sort.Strings(lines)
	for _, l := range lines {
		b.WriteString(l + "\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

// closest finds the unexpected event of the same kind and rule that
// differs from w in the fewest fields, at most three; -1 when none.
func closest(w *Alert, got []app.Event, extra []int, accts []Account) (int, []field) {
	best, bestDiffs := -1, []field(nil)
	for _, j := range extra {
		d := w.mismatches(got[j], accts)
		if len(d) > 3 || (best >= 0 && len(d) >= len(bestDiffs)) {
			continue
		}
		if slices.ContainsFunc(d, func(f field) bool { return f.name == "kind" || f.name == "rule" }) {
			continue
		}
		best, bestDiffs = j, d
	}
	return best, bestDiffs
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// String renders the fields the expectation sets, in the order events are
// printed: "firing budget workers-monthly severity=info ...".
func (w *Alert) String() string {
	fs := w.fields(app.Event{})
	parts := []string{*fs[2].want, orAny(fs[0].want), orAny(fs[1].want)}
	for _, f := range fs[3:] {
		if f.want == nil {
			continue
		}
		if f.name == "title" {
			parts = append(parts, "title~"+strconv.Quote(*f.want))
			continue
		}
		parts = append(parts, f.name+"="+quoteIfNeeded(*f.want))
	}
	return strings.Join(parts, " ")
}

func orAny(s *string) string {
	if s == nil {
		return "*"
	}
	return quoteIfNeeded(*s)
}

// eventString renders a sent event with every field that has a value.
func eventString(ev app.Event) string {
	parts := []string{ev.Status, ev.Kind, ev.Rule}
	for _, kv := range [][2]string{{"reason", ev.Reason}, {"account", ev.Account}, {"service", ev.Service}, {"family", ev.Family},
		{"zone", ev.Zone}, {"severity", ev.Severity}, {"day", ev.Day}, {"threshold", ev.Threshold}} {
		if kv[1] != "" {
			parts = append(parts, kv[0]+"="+quoteIfNeeded(kv[1]))
		}
	}
	parts = append(parts, "title="+strconv.Quote(ev.Title))
	return strings.Join(parts, " ")
}

func quoteIfNeeded(s string) string {
	if s == "" || strings.ContainsAny(s, " \t\"=") {
		return strconv.Quote(s)
	}
	return s
}
