// Package ruletest runs promtool-style unit tests of rule files: YAML test
// files give daily cost per account and service, cards, the rule files to
// load, evaluation instants and the exact alerts expected at each. Every
// test runs the daemon's own cycle (app.Replay: fetch, evaluate, alert
// state, notify) on a throwaway state, so a passing test says what the
// daemon would send. The format is documented in docs/rules.md.
package ruletest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/costbot/costbot/internal/app"
	"github.com/costbot/costbot/internal/config"
	"github.com/costbot/costbot/internal/cost"
	"github.com/costbot/costbot/internal/rules"
)

// maxFileSize bounds a test file.
const maxFileSize = 4 << 20

// File is one test file.
type File struct {
	RuleFiles []string  `yaml:"rule_files"` // relative to the test file; globs allowed
	Accounts  []Account `yaml:"accounts"`   // default: one account "production"
	Tests     []Test    `yaml:"tests"`
}

// Account is a test account.
type Account struct {
	ID        string `yaml:"id"`
	Name      string `yaml:"name"`
	Currency  string `yaml:"currency"`   // default USD
	AnchorDay int    `yaml:"anchor_day"` // billing-cycle anchor day of month; default 1
}

// Test is one test: input series and the alerts expected at each instant.
type Test struct {
	Name   string   `yaml:"name"`
	Start  string   `yaml:"start"` // YYYY-MM-DD: the first day of every series
	Series []Series `yaml:"series"`
	Cards  []Card   `yaml:"cards"`
	Evals  []Eval   `yaml:"evals"`
	line   int
}

// Series is one service's daily cost in the compact notation (ParseSeries).
type Series struct {
	Account string `yaml:"account"` // id or name; default the first account
	Service string `yaml:"service"`
	Family  string `yaml:"family"`
	Zone    string `yaml:"zone"`
	Values  string `yaml:"values"`
}

// Card is an account's payment card.
type Card struct {
	Account string `yaml:"account"`
	Expiry  string `yaml:"expiry"` // YYYY-MM
}

// Eval is one cycle and the alerts it must send.
type Eval struct {
	At     string  `yaml:"at"`  // RFC 3339 instant of the cycle, or
	Day    string  `yaml:"day"` // YYYY-MM-DD: the cycle that judges that day (noon UTC the next day)
	Alerts []Alert `yaml:"alerts"`
	line   int
}

// Alert is one expected alert message; empty fields are not compared.
type Alert struct {
	Kind      string `yaml:"kind"`
	Rule      string `yaml:"rule"`
	Status    string `yaml:"status"` // default firing
	Account   string `yaml:"account"`
	Service   string `yaml:"service"`
	Family    string `yaml:"family"`
	Zone      string `yaml:"zone"`
	Severity  string `yaml:"severity"`
	Day       string `yaml:"day"`
	Threshold string `yaml:"threshold"`
	Title     string `yaml:"title"` // a substring of the title
}

// Result is the outcome of one test.
type Result struct {
	File, Name string
	Line       int
	Failures   []string // empty when it passed
}

// Run runs every test of every file, writes a readable diff of each
// failure and a summary to w, and reports whether all passed. A file that
// cannot be read or is invalid counts as a failed test.
func Run(ctx context.Context, files []string, w io.Writer) bool {
	total, failed := 0, 0
	for _, path := range files {
		rs, err := RunFile(ctx, path)
		if err != nil {
			total++
			failed++
			fmt.Fprintf(w, "FAIL %s: %v\n", path, err)
			continue
		}
		for _, r := range rs {
			total++
			if len(r.Failures) == 0 {
				continue
			}
			failed++
			fmt.Fprintf(w, "FAIL %s:%d: test %q\n", r.File, r.Line, r.Name)
			for _, f := range r.Failures {
				fmt.Fprintf(w, "  %s\n", strings.ReplaceAll(f, "\n", "\n  "))
			}
		}
	}
	fmt.Fprintf(w, "%d tests, %d failed\n", total, failed)
	return failed == 0
}

// RunFile runs the tests of one file.
func RunFile(ctx context.Context, path string) ([]Result, error) {
	f, err := Load(path)
	if err != nil {
		return nil, err
	}
	set, err := loadRules(path, f.RuleFiles)
	if err != nil {
		return nil, err
	}
	accts := f.Accounts
	if len(accts) == 0 {
		accts = []Account{{ID: "0123456789abcdef0123456789abcdef", Name: "production"}}
	}
	var out []Result
	for _, t := range f.Tests {
		r := Result{File: path, Name: t.Name, Line: t.line}
		fails, err := runTest(ctx, t, accts, set)
		if err != nil {
			fails = []string{err.Error()}
		}
		r.Failures = fails
		out = append(out, r)
	}
	return out, nil
}

// Load reads and validates a test file.
func Load(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, maxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, maxFileSize)
	}
	return Parse(path, data)
}

// Parse decodes a test file strictly (an unknown key is an error) and
// checks every field, naming file:line.
func Parse(path string, data []byte) (*File, error) {
	var f File
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty test file", path)
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err == nil {
		setLines(&root, &f)
	}
	var errs []error
	bad := func(line int, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s:%d: %s", path, line, fmt.Sprintf(format, args...)))
	}
	if len(f.RuleFiles) == 0 {
		bad(1, "rule_files: at least one rule file is needed")
	}
	if len(f.Tests) == 0 {
		bad(1, "tests: no tests")
	}
	for _, t := range f.Tests {
		if t.Name == "" {
			bad(t.line, "test without a name")
		}
		if _, err := time.Parse(time.DateOnly, t.Start); err != nil {
			bad(t.line, "test %q: start: want YYYY-MM-DD, got %q", t.Name, t.Start)
		}
		for i, s := range t.Series {
			if s.Service == "" {
				bad(t.line, "test %q: series[%d]: service is required", t.Name, i)
			}
			if _, err := ParseSeries(s.Values); err != nil {
				bad(t.line, "test %q: series[%d] (%s): values: %v", t.Name, i, s.Service, err)
			}
		}
		for i, c := range t.Cards {
			if _, err := time.Parse("2006-01", c.Expiry); err != nil {
				bad(t.line, "test %q: cards[%d]: expiry: want YYYY-MM, got %q", t.Name, i, c.Expiry)
			}
		}
		if len(t.Evals) == 0 {
			bad(t.line, "test %q: evals: no evaluation instants", t.Name)
		}
		for _, e := range t.Evals {
			if _, err := e.instant(); err != nil {
				bad(e.line, "test %q: %v", t.Name, err)
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &f, nil
}

// setLines copies the line of each test and eval from the node tree.
func setLines(root *yaml.Node, f *File) {
	if root.Kind != yaml.DocumentNode || len(root.Content) == 0 {
		return
	}
	tests := mapValue(root.Content[0], "tests")
	if tests == nil {
		return
	}
	for i, tn := range tests.Content {
		if i >= len(f.Tests) {
			break
		}
		f.Tests[i].line = tn.Line
		if evals := mapValue(tn, "evals"); evals != nil {
			for j, en := range evals.Content {
				if j < len(f.Tests[i].Evals) {
					f.Tests[i].Evals[j].line = en.Line
				}
			}
		}
	}
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func (e Eval) instant() (time.Time, error) {
	switch {
	case e.At != "" && e.Day != "":
		return time.Time{}, fmt.Errorf("eval: give at or day, not both")
	case e.At != "":
		t, err := time.Parse(time.RFC3339, e.At)
		if err != nil {
			return time.Time{}, fmt.Errorf("eval: at: want RFC 3339, got %q", e.At)
		}
		return t.UTC(), nil
	case e.Day != "":
		d, err := time.Parse(time.DateOnly, e.Day)
		if err != nil {
			return time.Time{}, fmt.Errorf("eval: day: want YYYY-MM-DD, got %q", e.Day)
		}
		return app.EvalInstant(d), nil
	}
	return time.Time{}, fmt.Errorf("eval: at or day is required")
}

// loadRules parses the rule files named relative to the test file.
func loadRules(testPath string, patterns []string) (*rules.Set, error) {
	dir := filepath.Dir(testPath)
	set := &rules.Set{}
	var errs []error
	seen := map[string]bool{}
	for _, p := range patterns {
		full := p
		if !filepath.IsAbs(full) {
			full = filepath.Join(dir, p)
		}
		matches, err := filepath.Glob(full)
		if err != nil || len(matches) == 0 {
			errs = append(errs, fmt.Errorf("%s: rule_files: %q matches no file", testPath, p))
			continue
		}
		for _, m := range matches {
			if seen[m] {
				continue
			}
			seen[m] = true
			data, err := os.ReadFile(m)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			s, err := rules.Parse(m, data)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			set.BudgetRules = append(set.BudgetRules, s.BudgetRules...)
			set.AnomalyRules = append(set.AnomalyRules, s.AnomalyRules...)
			set.CardRules = append(set.CardRules, s.CardRules...)
		}
	}
	return set, errors.Join(errs...)
}

// runTest replays the test's instants and compares what was sent.
func runTest(ctx context.Context, t Test, accts []Account, set *rules.Set) ([]string, error) {
	start, _ := time.Parse(time.DateOnly, t.Start)
	byKey := map[string]Account{}
	cfg := config.Default()
	cfg.Cloudflare.HistoryDays = 400
	for _, a := range accts {
		byKey[a.ID], byKey[a.Name] = a, a
		cfg.Cloudflare.Accounts = append(cfg.Cloudflare.Accounts, config.CFAccount{ID: a.ID, Name: a.Name})
	}
	account := func(key string) (Account, error) {
		if key == "" {
			return accts[0], nil
		}
		a, ok := byKey[key]
		if !ok {
			return Account{}, fmt.Errorf("account %q is not in accounts", key)
		}
		return a, nil
	}
	var usage []cost.Usage
	for _, s := range t.Series {
		a, err := account(s.Account)
		if err != nil {
			return nil, err
		}
		vs, _ := ParseSeries(s.Values)
		cur := a.Currency
		if cur == "" {
			cur = "USD"
		}
		for i, v := range vs {
			if math.IsNaN(v) {
				continue
			}
			d := start.AddDate(0, 0, i)
			usage = append(usage, cost.Usage{Account: a.ID, Service: s.Service, Family: s.Family, Zone: s.Zone, Day: d,
				Cost: v, CostKnown: true, Currency: cur, Quantity: v, Unit: "units", BillingPeriod: billingPeriod(d, a.AnchorDay)})
		}
	}
	var cards []cost.Card
	for _, c := range t.Cards {
		a, err := account(c.Account)
		if err != nil {
			return nil, err
		}
		e, _ := time.Parse("2006-01", c.Expiry)
		cards = append(cards, cost.Card{Account: a.ID, ExpiryMonth: int(e.Month()), ExpiryYear: e.Year(), Masked: "************4242"})
	}
	instants := make([]time.Time, len(t.Evals))
	for i, e := range t.Evals {
		instants[i], _ = e.instant()
	}
	if !slices.IsSortedFunc(instants, func(a, b time.Time) int { return a.Compare(b) }) {
		return nil, fmt.Errorf("evals are not in time order")
	}
	events, err := app.Replay(ctx, app.ReplayOptions{Config: &cfg, Rules: set, Usage: usage, Cards: cards, Instants: instants})
	if err != nil {
		return nil, err
	}
	var fails []string
	for i, e := range t.Evals {
		var got []app.Event
		for _, ev := range events {
			if ev.At.Equal(instants[i]) {
				got = append(got, ev)
			}
		}
		if diff := compare(e.Alerts, got); diff != "" {
			fails = append(fails, fmt.Sprintf("line %d, at %s:\n%s", e.line, instants[i].Format(time.RFC3339), diff))
		}
	}
	return fails, nil
}

// billingPeriod is the billing period holding day d for an anchor day of
// month (1 when 0; 29..31 clamp to the month's last day).
func billingPeriod(d time.Time, anchor int) cost.Period {
	if anchor < 1 {
		anchor = 1
	}
	at := func(y int, m time.Month) time.Time {
		last := time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
		return time.Date(y, m, min(anchor, last), 0, 0, 0, 0, time.UTC)
	}
	s := at(d.Year(), d.Month())
	if d.Before(s) {
		p := time.Date(d.Year(), d.Month()-1, 1, 0, 0, 0, 0, time.UTC)
		s = at(p.Year(), p.Month())
	}
	n := time.Date(s.Year(), s.Month()+1, 1, 0, 0, 0, 0, time.UTC)
	return cost.Period{Start: s, End: at(n.Year(), n.Month())}
}

// compare matches expected alerts to sent events one to one and describes
// what is missing and what was not expected ("" when they match).
func compare(want []Alert, got []app.Event) string {
	used := make([]bool, len(got))
	var missing []string
	for _, w := range want {
		found := false
		for j, ev := range got {
			if !used[j] && w.matches(ev) {
				used[j], found = true, true
				break
			}
		}
		if !found {
			missing = append(missing, w.String())
		}
	}
	var extra []string
	for j, ev := range got {
		if !used[j] {
			extra = append(extra, eventString(ev))
		}
	}
	if len(missing) == 0 && len(extra) == 0 {
		return ""
	}
	sort.Strings(missing)
	sort.Strings(extra)
	var b strings.Builder
	for _, m := range missing {
		fmt.Fprintf(&b, "- want %s\n", m)
	}
	for _, x := range extra {
		fmt.Fprintf(&b, "+ got  %s\n", x)
	}
	if len(got) > 0 && len(missing) > 0 {
		b.WriteString("  sent at this instant:\n")
		for _, ev := range got {
			fmt.Fprintf(&b, "    %s\n", eventString(ev))
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

func (w Alert) matches(ev app.Event) bool {
	status := w.Status
	if status == "" {
		status = "firing"
	}
	eq := func(want, got string) bool { return want == "" || want == got }
	return eq(w.Kind, ev.Kind) && status == ev.Status && eq(w.Rule, ev.Rule) && eq(w.Account, ev.Account) &&
		eq(w.Service, ev.Service) && eq(w.Family, ev.Family) && eq(w.Zone, ev.Zone) && eq(w.Severity, ev.Severity) &&
		eq(w.Day, ev.Day) && eq(w.Threshold, ev.Threshold) && (w.Title == "" || strings.Contains(ev.Title, w.Title))
}

// String renders the fields the alert sets.
func (w Alert) String() string {
	status := w.Status
	if status == "" {
		status = "firing"
	}
	parts := []string{status, orAny(w.Kind), orAny(w.Rule)}
	for _, kv := range [][2]string{{"account", w.Account}, {"service", w.Service}, {"family", w.Family}, {"zone", w.Zone},
		{"severity", w.Severity}, {"day", w.Day}, {"threshold", w.Threshold}, {"title~", w.Title}} {
		if kv[1] != "" {
			parts = append(parts, kv[0]+"="+kv[1])
		}
	}
	return strings.Join(parts, " ")
}

func orAny(s string) string {
	if s == "" {
		return "*"
	}
	return s
}

func eventString(ev app.Event) string {
	parts := []string{ev.Status, ev.Kind, ev.Rule, "account=" + ev.Account}
	for _, kv := range [][2]string{{"service", ev.Service}, {"family", ev.Family}, {"zone", ev.Zone}} {
		if kv[1] != "" {
			parts = append(parts, kv[0]+"="+kv[1])
		}
	}
	parts = append(parts, "severity="+ev.Severity, "day="+ev.Day, "threshold="+ev.Threshold, fmt.Sprintf("(%s)", ev.Title))
	return strings.Join(parts, " ")
}

func parseDay(s string) (time.Time, error) { return time.Parse(time.DateOnly, s) }
