package alert

import (
	"fmt"
	"slices"
	"time"

	"github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/alertmanager/timeinterval"

	"github.com/costbot/costbot/internal/cost"
)

// Route sends the alerts its matchers match to its notifiers, like a child
// of Alertmanager's root route. Routes are tried in order; the first that
// matches takes the alert unless it has Continue, which goes on to the next.
// An alert no route takes goes to every notifier with Options.RepeatInterval
// (the root route). A finding whose rule names notifiers (`notify:`) goes to
// those, with Options.RepeatInterval and no time intervals: the rule's
// explicit choice wins over routing.
type Route struct {
	Matchers  labels.Matchers
	Notifiers []string
	// RepeatInterval overrides Options.RepeatInterval for these notifiers;
	// zero keeps it, negative never repeats.
	RepeatInterval time.Duration
	// MuteTimeIntervals names time intervals (Options.TimeIntervals) during
	// which firing messages wait: quiet hours.
	MuteTimeIntervals []string
	// ActiveTimeIntervals, when set, names the only intervals in which
	// firing messages go out.
	ActiveTimeIntervals []string
	Continue            bool
}

// Target is one notifier an alert is routed to.
type Target struct {
	Notifier string
	// Route is the index of the route in Options.Routes that chose it, or -1
	// for the root route (no route matched, or the rule named notifiers).
	Route int
	// ByRule is true when the alert's rule named the notifier (notify:), so
	// no route was consulted.
	ByRule         bool
	RepeatInterval time.Duration // zero or negative: never repeat
	Mute, Active   []string      // the route's time intervals
}

// Routes returns the notifiers f goes to under o: RoutesFor with f's labels
// and its rule's notify list.
func Routes(f cost.Finding, o Options) ([]Target, []string) {
	if len(f.Notifiers) > 0 {
		return RoutesFor(nil, f.Notifiers, o)
	}
	return RoutesFor(Labels(f), nil, o)
}

// RoutesFor returns where an alert with labels l goes under o, in route
// order then configuration order, each notifier once (the first route that
// chose it), and the names asked for that are not configured. notify is the
// alert's rule's notify list (cost.Finding.Notifiers): when not empty it
// wins over routing, and the alert goes to those notifiers (in
// configuration order) with o.RepeatInterval and no time intervals, whatever
// its labels. Plan routes every alert through it, and `costbot route test`
// prints what it returns.
func RoutesFor(l map[string]string, notify []string, o Options) ([]Target, []string) {
	if len(notify) > 0 {
		var out []Target
		var unknown []string
		for _, n := range o.Notifiers {
			if slices.Contains(notify, n) {
				out = append(out, Target{Notifier: n, Route: -1, RepeatInterval: o.RepeatInterval, ByRule: true})
			}
		}
		for _, n := range notify {
			if !slices.Contains(o.Notifiers, n) {
				unknown = append(unknown, n)
			}
		}
		return out, unknown
	}
	var out []Target
	var unknown []string
	matched := false
	for i, r := range o.Routes {
		if !matches(r.Matchers, l) {
			continue
		}
		matched = true
		repeat := r.RepeatInterval
		if repeat == 0 {
			repeat = o.RepeatInterval
		}
		for _, n := range r.Notifiers {
			if !slices.Contains(o.Notifiers, n) {
				unknown = append(unknown, n)
				continue
			}
			if slices.ContainsFunc(out, func(t Target) bool { return t.Notifier == n }) {
				continue
			}
			out = append(out, Target{Notifier: n, Route: i, RepeatInterval: repeat,
				Mute: r.MuteTimeIntervals, Active: r.ActiveTimeIntervals})
		}
		if !r.Continue {
			break
		}
	}
	if !matched {
		for _, n := range o.Notifiers {
			out = append(out, Target{Notifier: n, Route: -1, RepeatInterval: o.RepeatInterval})
		}
	}
	return out, unknown
}

// Muted reports whether t's time intervals hold messages at now, and
// the names of the intervals that do (for an active window: the window's
// names).
func (t Target) Muted(intervals map[string][]timeinterval.TimeInterval, now time.Time) (bool, []string) {
	iv := timeinterval.NewIntervener(intervals)
	if len(t.Mute) > 0 {
		if muted, names, err := iv.Mutes(t.Mute, now); err == nil && muted {
			return true, names
		}
	}
	if len(t.Active) > 0 {
		if in, err := iv.ContainsTime(t.Active, now); err == nil && !in {
			return true, t.Active
		}
	}
	return false, nil
}

// NextUnmuted returns the first minute from now on at which t is not muted,
// searching up to within ahead; ok is false when it stays muted throughout.
func (t Target) NextUnmuted(intervals map[string][]timeinterval.TimeInterval, now time.Time, within time.Duration) (time.Time, bool) {
	if m, _ := t.Muted(intervals, now); !m {
		return now, true
	}
	at := now.Truncate(time.Minute)
	for end := now.Add(within); !at.After(end); at = at.Add(time.Minute) {
		if at.Before(now) {
			continue
		}
		if m, _ := t.Muted(intervals, at); !m {
			return at, true
		}
	}
	return time.Time{}, false
}

// CheckRoutes reports route notifiers and time intervals that o does not
// configure.
func CheckRoutes(o Options) error {
	for i, r := range o.Routes {
		for _, n := range r.Notifiers {
			if !slices.Contains(o.Notifiers, n) {
				return fmt.Errorf("route %d: unknown notifier %q", i+1, n)
			}
		}
		for _, n := range slices.Concat(r.MuteTimeIntervals, r.ActiveTimeIntervals) {
			if _, ok := o.TimeIntervals[n]; !ok {
				return fmt.Errorf("route %d: unknown time interval %q", i+1, n)
			}
		}
	}
	return nil
}
