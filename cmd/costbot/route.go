package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/costbot/costbot/internal/alert"
	"github.com/costbot/costbot/internal/app"
	"github.com/costbot/costbot/internal/config"
	"github.com/costbot/costbot/internal/rules"
)

const routeUsage = `Usage:
  costbot route test --config FILE [--at RFC3339] LABEL=VALUE...

Prints which notifiers an alert with these labels goes to and when, like
amtool config routes test, e.g.
  costbot route test --config config.yaml account=production kind=anomaly severity=critical

With rule=NAME the rule is read from the config's rules folder and its
notify list applied as the daemon applies it: a rule that names notifiers
goes to those, and no route is consulted. Labels not given are empty.
`

// cmdRoute is `costbot route test`: the config's routes applied to labels.
func cmdRoute(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "test" {
		fmt.Fprint(stderr, routeUsage)
		return 2
	}
	fs := flags("route test", stderr)
	path := fs.String("config", "", "config file")
	var at timeFlag
	fs.Var(&at, "at", "when the alert would fire (RFC 3339; default: now)")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if *path == "" {
		fmt.Fprintln(stderr, "costbot: --config FILE is required")
		return 2
	}
	labels := map[string]string{}
	for _, a := range fs.Args() {
		k, v, ok := strings.Cut(a, "=")
		if !ok || !slices.Contains(config.LabelNames, k) {
			fmt.Fprintf(stderr, "costbot route test: want LABEL=VALUE with LABEL one of %s, got %q\n", strings.Join(config.LabelNames, ", "), a)
			return 2
		}
		labels[k] = strings.Trim(v, `"`)
	}
	cfg, err := config.Load(*path)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	var names []string
	for _, n := range cfg.Notifiers {
		names = append(names, n.Name)
	}
	o, err := app.AlertOptions(cfg, names)
	if err != nil {
		fmt.Fprintf(stderr, "costbot route test: %v\n", err)
		return 1
	}
	var notify []string
	if name, ok := labels["rule"]; ok && (name == rules.DailyDigestRule || name == rules.WeeklyDigestRule) {
		// The digests' rule: its notifiers are schedule.digest_notifiers.
		notify = cfg.Schedule.DigestNotifiers
	} else if ok {
		set, ok := loadRules(cfg, stderr)
		if !ok {
			return 1
		}
		if notify, ok = ruleNotify(set, name); !ok {
			fmt.Fprintf(stderr, "costbot route test: no rule %q in %s (rules: %s; and %s, %s)\n", name, cfg.Path(cfg.Rules),
				strings.Join(set.Names(), ", "), rules.DailyDigestRule, rules.WeeklyDigestRule)
			return 1
		}
	}
	now := at.t
	if now.IsZero() {
		now = time.Now()
	}
	writeRouteTest(stdout, labels, notify, o, now.UTC())
	return 0
}

// ruleNotify returns the notify list of the rule named name (what its
// findings carry as cost.Finding.Notifiers), and whether set has that rule.
func ruleNotify(set *rules.Set, name string) ([]string, bool) {
	if !slices.Contains(set.Names(), name) {
		return nil, false
	}
	var out []string
	for _, r := range set.Refs() {
		if r.Rule == name {
			out = append(out, r.Notifier)
		}
	}
	return out, true
}

// writeRouteTest prints the notifiers on one line, as amtool does, then one
// line per notifier: the route (or the rule's notify list) that chose it,
// its repeat interval and when a message would go out. It routes through
// alert.RoutesFor, as the daemon's alert.Plan does.
func writeRouteTest(w io.Writer, labels map[string]string, notify []string, o alert.Options, now time.Time) {
	ts, _ := alert.RoutesFor(labels, notify, o)
	var names []string
	for _, t := range ts {
		names = append(names, t.Notifier)
	}
	fmt.Fprintln(w, strings.Join(names, ","))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, t := range ts {
		route := "default route (no route matched)"
		switch {
		case t.ByRule:
			route = fmt.Sprintf("rule %s notify: [%s] (routes not consulted)", labels["rule"], strings.Join(notify, ", "))
		case t.Route >= 0:
			route = fmt.Sprintf("route %d %s", t.Route+1, o.Routes[t.Route].Matchers)
		}
		repeat := "repeat never"
		if t.RepeatInterval > 0 {
			repeat = "repeat every " + alert.ShortDuration(t.RepeatInterval)
		}
		when := "sent at once"
		if muted, by := t.Muted(o.TimeIntervals, now); muted {
			if next, ok := t.NextUnmuted(o.TimeIntervals, now, 8*24*time.Hour); ok {
				when = fmt.Sprintf("held by %s until %s", strings.Join(by, ","), next.Format(time.RFC3339))
			} else {
				when = fmt.Sprintf("held by %s for more than 8 days", strings.Join(by, ","))
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.Notifier, route, repeat, when)
	}
	tw.Flush()
}
