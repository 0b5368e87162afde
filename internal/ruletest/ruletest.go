// Package ruletest runs promtool-style unit tests of rule files. A YAML test
// file names the rule files to load and gives, per test, daily cost per
// account and service in a compact notation, payment cards, evaluation
// instants and the exact alert messages expected at each. Every test runs
// the daemon's own cycle through app.Replay (fetch, evaluate, alert state,
// dedup, notify) on a throwaway state, so a passing test says what the
// daemon would send. The format is documented in docs/rules.md.
package ruletest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/costbot/costbot/internal/app"
	"github.com/costbot/costbot/internal/config"
	"github.com/costbot/costbot/internal/cost"
	"github.com/costbot/costbot/internal/rules"
)

// Options configures Run.
type Options struct {
	// Run, when set, runs only the tests whose name it matches.
	Run *regexp.Regexp
	// Verbose also reports each passing test.
	Verbose bool
	// Logger receives the replayed daemon's logs; nil discards them.
	Logger *slog.Logger
}

// Summary counts the tests of a run. A file that cannot be loaded counts as
// one failed test.
type Summary struct {
	Tests, Failed int
}

// OK reports whether every test passed.
func (s Summary) OK() bool { return s.Failed == 0 }

// Result is the outcome of one test.
type Result struct {
	File string
	Line int // of the test in File
	Name string
	// Failures describes each mismatching eval (or why the test could not
	// run), ready to print; empty when the test passed.
	Failures []string
}

// Run runs every test of every file and writes to w a diff of each failure
// and the summary line "N tests, M failed".
func Run(ctx context.Context, w io.Writer, files []string, o Options) Summary {
	var sum Summary
	for _, path := range files {
		rs, err := RunFile(ctx, path, o)
		if err != nil {
			sum.Tests++
			sum.Failed++
			fmt.Fprintf(w, "FAIL %s\n%s\n", path, indent(err.Error(), "  "))
			continue
		}
		for _, r := range rs {
			sum.Tests++
			if len(r.Failures) == 0 {
				if o.Verbose {
					fmt.Fprintf(w, "ok   %s:%d: %s\n", r.File, r.Line, r.Name)
				}
				continue
			}
			sum.Failed++
			fmt.Fprintf(w, "FAIL %s:%d: test %q\n", r.File, r.Line, r.Name)
			for _, f := range r.Failures {
				fmt.Fprintln(w, indent(f, "  "))
			}
		}
	}
	fmt.Fprintf(w, "%d tests, %d failed\n", sum.Tests, sum.Failed)
	return sum
}

func indent(s, by string) string {
	return by + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+by)
}

// RunFile runs the tests of one file (those o.Run matches). The error is
// about the file itself: unreadable, invalid, or its rule files are.
func RunFile(ctx context.Context, path string, o Options) ([]Result, error) {
	f, err := Load(path)
	if err != nil {
		return nil, err
	}
	return run(ctx, f, o)
}

// run runs the tests of a parsed file.
func run(ctx context.Context, f *File, o Options) ([]Result, error) {
	set, err := loadRules(f)
	if err != nil {
		return nil, err
	}
	var out []Result
	for _, t := range f.Tests {
		if o.Run != nil && !o.Run.MatchString(t.Name) {
			continue
		}
		r := Result{File: f.path, Line: t.pos.at("").line, Name: t.Name}
		r.Failures = runTest(ctx, f, &t, set, o.Logger)
		out = append(out, r)
		if ctx.Err() != nil {
			break
		}
	}
	return out, nil
}

// loadRules parses the rule files named relative to the test file, as one
// set: a rule name defined twice is an error, as in the daemon.
func loadRules(f *File) (*rules.Set, error) {
	dir := filepath.Dir(f.path)
	set := &rules.Set{}
	var errs []error
	seen := map[string]bool{}
	defined := map[string]rules.Pos{}
	define := func(name string, p rules.Pos) {
		if first, dup := defined[name]; dup {
			errs = append(errs, &rules.Error{File: p.File, Line: p.Line, Col: p.Col, Rule: name, Field: "name",
				Msg: fmt.Sprintf("duplicate rule name, first defined at %s", first)})
			return
		}
		defined[name] = p
	}
	for i, pat := range f.RuleFiles {
		full := pat
		if !filepath.IsAbs(full) {
			full = filepath.Join(dir, pat)
		}
		matches, err := filepath.Glob(full)
		if err != nil || len(matches) == 0 {
			at := f.rulePos(i)
			errs = append(errs, &Error{File: f.path, Line: at.line, Col: at.col,
				Msg: fmt.Sprintf("rule_files[%d]: %q matches no file (looked for %s)", i, pat, full)})
			continue
		}
		for _, m := range matches {
			if seen[m] {
				continue
			}
			seen[m] = true
			data, err := os.ReadFile(m)
			if err != nil {
				errs = append(errs, fmt.Errorf("read rule file: %w", err))
				continue
			}
			s, err := rules.Parse(m, data)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			for _, r := range s.BudgetRules {
				define(r.Name, r.Pos)
			}
			for _, r := range s.AnomalyRules {
				define(r.Name, r.Pos)
			}
			for _, r := range s.CardRules {
				define(r.Name, r.Pos)
			}
			set.BudgetRules = append(set.BudgetRules, s.BudgetRules...)
			set.AnomalyRules = append(set.AnomalyRules, s.AnomalyRules...)
			set.CardRules = append(set.CardRules, s.CardRules...)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return set, nil
}

// runTest replays the test's instants through the daemon's cycle and
// compares what each sent with what the test expects.
func runTest(ctx context.Context, f *File, t *Test, set *rules.Set, log *slog.Logger) []string {
	cfg := config.Default()
	for _, a := range f.Accounts {
		cfg.Cloudflare.Accounts = append(cfg.Cloudflare.Accounts, config.CFAccount{ID: a.ID, Name: a.Name, Source: a.Source})
	}
	usage := t.usage()
	instants := make([]time.Time, len(t.Evals))
	for i, e := range t.Evals {
		instants[i] = e.at
	}
	// The first cycle loads the whole input, like a daemon that has been
	// storing it all along.
	if first := earliest(t); !first.IsZero() && len(instants) > 0 {
		if span := int(instants[0].Sub(first).Hours()/24) + 2; span > cfg.Cloudflare.HistoryDays {
			cfg.Cloudflare.HistoryDays = span
		}
	}
	var cards []cost.Card
	for _, c := range t.Cards {
		cards = append(cards, cost.Card{Account: c.acct.ID, ExpiryMonth: int(c.month), ExpiryYear: c.year, Masked: "************4242"})
	}
	events, err := app.Replay(ctx, app.ReplayOptions{
		Config: &cfg, Rules: set, Usage: usage, Cards: cards, Instants: instants, Logger: log,
	})
	if err != nil {
		return []string{fmt.Sprintf("replay: %v", err)}
	}
	byAt := map[time.Time][]app.Event{}
	for _, ev := range events {
		byAt[ev.At.UTC()] = append(byAt[ev.At.UTC()], ev)
	}
	var fails []string
	for _, e := range t.Evals {
		got := byAt[e.at]
		delete(byAt, e.at)
		if diff := compare(e.Alerts, got, f.Accounts); diff != "" {
			fails = append(fails, fmt.Sprintf("%s:%d: %s: expected %d %s, got %d:\n%s", f.path, e.pos.at("").line, e.label(),
				len(e.Alerts), plural(len(e.Alerts), "alert", "alerts"), len(got), indent(diff, "  ")))
		}
	}
	for at, evs := range byAt { // cannot happen: Replay stamps every event with its cycle's instant
		fails = append(fails, fmt.Sprintf("events at %s, which no eval names: %d", at.Format(time.RFC3339), len(evs)))
	}
	return fails
}

// label says which cycle an eval is.
func (e *Eval) label() string {
	if e.Day != "" {
		return fmt.Sprintf("day %s (cycle at %s)", e.Day, e.at.Format(time.RFC3339))
	}
	return "at " + e.at.Format(time.RFC3339)
}

// usage turns the test's series into usage rows, one per day with a value.
func (t *Test) usage() []cost.Usage {
	var out []cost.Usage
	for _, s := range t.Series {
		for i, v := range s.values {
			if math.IsNaN(v) {
				continue
			}
			d := s.start.AddDate(0, 0, i)
			out = append(out, cost.Usage{
				Account: s.acct.ID, Service: s.Service, Family: s.Family, Zone: s.Zone, Day: d,
				BillingPeriod: billingPeriod(d, s.acct.AnchorDay),
				Cost:          v, CostKnown: true, Currency: s.acct.Currency, Quantity: v, Unit: "units",
			})
		}
	}
	return out
}

// earliest is the first day of any series of t (zero without series).
func earliest(t *Test) time.Time {
	var first time.Time
	for _, s := range t.Series {
		if first.IsZero() || s.start.Before(first) {
			first = s.start
		}
	}
	return first
}

// billingPeriod is the billing period holding day d when periods start on
// day anchor of each month (1 when 0; 29-31 clamp to the month's last day):
// cost.BillingPeriod, as the billing client computes it.
func billingPeriod(d time.Time, anchor int) cost.Period {
	if anchor < 1 {
		anchor = 1
	}
	return cost.BillingPeriod(d, anchor)
}
