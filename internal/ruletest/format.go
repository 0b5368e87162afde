package ruletest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/costbot/costbot/internal/app"
	"github.com/costbot/costbot/internal/cost"
	"github.com/costbot/costbot/internal/rules"
)

// maxFileSize bounds a test file: 4 MiB.
const maxFileSize = 4 << 20

// defaultAccount is the account a file without accounts gets.
var defaultAccount = Account{ID: "0123456789abcdef0123456789abcdef", Name: "production"}

// File is one test file, as decoded.
type File struct {
	// RuleFiles are the rule files to load, relative to the test file's
	// directory (absolute paths as they are); each may be a glob.
	RuleFiles []string `yaml:"rule_files"`
	// Accounts are the Cloudflare accounts of every test in the file.
	// Empty: one account, id 0123456789abcdef0123456789abcdef, "production".
	Accounts []Account `yaml:"accounts"`
	Tests    []Test    `yaml:"tests"`

	path     string
	pos      positions
	rulesPos []pos // of each rule_files item
}

// Account is one configured Cloudflare account.
type Account struct {
	// ID and Name are required, as in the daemon config: a 32-character
	// lower-case hex id, and the name alerts and rule scopes use.
	ID     string `yaml:"id"`
	Name   string `yaml:"name"`
	Source string `yaml:"source"` // paygo (default) or focus, as in the daemon config
	// Currency of every usage row of the account; default USD.
	Currency string `yaml:"currency"`
	// AnchorDay is the day of month the billing period starts on, 1-31
	// (29-31 clamp to the month's last day); default 1.
	AnchorDay int `yaml:"anchor_day"`

	pos positions
}

// Test is one test: input series and cards, and the alerts expected at each
// evaluation instant.
type Test struct {
	Name   string   `yaml:"name"`
	Start  string   `yaml:"start"` // YYYY-MM-DD: the first day of every series
	Series []Series `yaml:"series"`
	Cards  []Card   `yaml:"cards"`
	Evals  []Eval   `yaml:"evals"`

	pos   positions
	start time.Time
}

// Series is one service's daily cost, in the notation ParseSeries reads.
type Series struct {
	Account string `yaml:"account"` // id or name; default the file's first account
	Family  string `yaml:"family"`
	Service string `yaml:"service"` // required
	Zone    string `yaml:"zone"`
	Start   string `yaml:"start"` // YYYY-MM-DD; default the test's start
	Values  string `yaml:"values"`

	pos    positions
	start  time.Time
	values []float64
	acct   Account
}

// Card is an account's payment card.
type Card struct {
	Account string `yaml:"account"` // id or name; default the file's first account
	Expiry  string `yaml:"expiry"`  // YYYY-MM: the card works through the end of that month

	pos   positions
	month time.Month
	year  int
	acct  Account
}

// Eval is one cycle and every alert message it must send.
type Eval struct {
	// Day (YYYY-MM-DD) is the cycle that judges that day: noon UTC the day
	// after, as `costbot backtest` runs it. Give Day or At.
	Day string `yaml:"day"`
	// At is the exact instant of the cycle, RFC 3339.
	At string `yaml:"at"`
	// Alerts lists the messages expected, in any order; missing or empty
	// means none.
	Alerts []Alert `yaml:"alerts"`

	pos positions
	at  time.Time
}

// Alert is one expected alert message. A field left out (or null) is not
// compared; a field given, even as "", must equal the event's.
type Alert struct {
	Kind      *string `yaml:"kind"`   // budget, forecast, anomaly, card_expiry, stale, rule_problem, digest
	Rule      *string `yaml:"rule"`   // rule name
	Status    *string `yaml:"status"` // firing (the default) or resolved
	Reason    *string `yaml:"reason"` // first, escalated, repeat, resolved, ...
	Account   *string `yaml:"account"`
	Service   *string `yaml:"service"`
	Family    *string `yaml:"family"`
	Zone      *string `yaml:"zone"`
	Severity  *string `yaml:"severity"`  // info, warning or critical
	Day       *string `yaml:"day"`       // YYYY-MM-DD the finding is about
	Threshold *string `yaml:"threshold"` // e.g. actual>=80%, forecast>=100%, card<=7d, no_usage
	Title     *string `yaml:"title"`     // a substring of the title

	pos positions
}

// Error is one problem in a test file.
type Error struct {
	File string
	Line int // 1-based; 0 when unknown
	Col  int // 1-based; 0 when unknown
	Test string
	Msg  string
}

// Error renders `file:line:col: test "name": what is wrong`.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
		if e.Col > 0 {
			fmt.Fprintf(&b, ":%d", e.Col)
		}
	}
	b.WriteString(": ")
	if e.Test != "" {
		fmt.Fprintf(&b, "test %q: ", e.Test)
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem of a test file, in document order.
type Errors []*Error

// Error joins the items, one per line.
func (es Errors) Error() string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// Unwrap exposes the items to errors.Is and errors.As.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// pos is a position in the file.
type pos struct{ line, col int }

// positions holds where a mapping starts ("") and where each of its keys'
// values are.
type positions map[string]pos

func (p positions) at(key string) pos {
	if q, ok := p[key]; ok {
		return q
	}
	return p[""]
}

// Load reads and checks one test file.
func Load(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read test file: %w", err)
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read test file %q: %w", path, err)
	}
	if len(data) > maxFileSize {
		return nil, Errors{{File: path, Msg: fmt.Sprintf("larger than %d bytes", maxFileSize)}}
	}
	return Parse(path, data)
}

// Parse decodes a test file strictly (an unknown key is an error) and checks
// every field. On any problem it returns Errors holding all of them, each
// naming path:line:col. It does not read the rule files.
func Parse(path string, data []byte) (*File, error) {
	p := &parser{path: path}
	f := p.decode(data)
	if f != nil {
		p.check(f)
	}
	sort.SliceStable(p.errs, func(i, j int) bool {
		a, b := p.errs[i], p.errs[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
	if len(p.errs) > 0 {
		return nil, p.errs
	}
	return f, nil
}

type parser struct {
	path string
	errs Errors
	// typeErrs is set when a value had the wrong type: checks that a
	// given field is not empty stay quiet then, the type error says it all.
	typeErrs bool
}

func (p *parser) bad(at pos, test, format string, args ...any) {
	p.errs = append(p.errs, &Error{File: p.path, Line: at.line, Col: at.col, Test: test, Msg: fmt.Sprintf(format, args...)})
}

var accountID = regexp.MustCompile(`^[0-9a-f]{32}$`)

var typeErrLine = regexp.MustCompile(`^line (\d+): (.*)$`)

// decode fills a File from data, with the positions of every element. It
// returns nil when data is not YAML at all.
func (p *parser) decode(data []byte) *File {
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			p.bad(pos{}, "", "empty test file")
			return nil
		}
		line := 0
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		if m := typeErrLine.FindStringSubmatch(msg); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = m[2]
		}
		p.bad(pos{line: line}, "", "invalid YAML: %s", msg)
		return nil
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		n := &extra
		if len(n.Content) > 0 {
			n = n.Content[0]
		}
		p.bad(pos{n.Line, n.Column}, "", "more than one YAML document")
	}
	if len(root.Content) > 0 && root.Content[0].Kind != yaml.MappingNode {
		n := root.Content[0]
		p.bad(pos{n.Line, n.Column}, "", "want a mapping with rule_files, accounts and tests, got %s", nodeKind(n))
		return nil
	}
	var f File
	sdec := yaml.NewDecoder(bytes.NewReader(data))
	sdec.KnownFields(true)
	if err := sdec.Decode(&f); err != nil {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			p.bad(pos{}, "", "%v", err)
			return nil
		}
		for _, e := range te.Errors {
			p.typeError(&root, e)
		}
		p.typeErrs = true
	}
	f.path = p.path
	setPositions(&root, &f)
	return &f
}

var (
	unknownKey = regexp.MustCompile(`^field (\S+) not found in type (\S+)$`)
	badType    = regexp.MustCompile("^cannot unmarshal !!(\\w+)(?: `(.*)`)? into (\\S+)$")
)

// typeError rewrites one of yaml.v3's decoding errors ("line 5: field x not
// found in type ruletest.Test") as a positioned Error.
func (p *parser) typeError(root *yaml.Node, e string) {
	at := pos{}
	if m := typeErrLine.FindStringSubmatch(e); m != nil {
		at.line, _ = strconv.Atoi(m[1])
		e = m[2]
	}
	if m := unknownKey.FindStringSubmatch(e); m != nil {
		if n := findKey(root, m[1], at.line); n != nil {
			at.col = n.Column
		}
		what, known := knownFields(m[2])
		p.bad(at, "", "unknown field %q in %s (want %s)", m[1], what, strings.Join(known, ", "))
		return
	}
	if m := badType.FindStringSubmatch(e); m != nil {
		if n := findValue(root, m[1], m[2], at.line); n != nil {
			at.col = n.Column
		}
		got := map[string]string{"seq": "a list", "map": "a mapping", "null": "null"}[m[1]]
		if got == "" {
			got = strconv.Quote(m[2])
		}
		p.bad(at, "", "want %s, got %s", goTypeName(m[3]), got)
		return
	}
	p.bad(at, "", "%s", e)
}

// findKey finds the mapping key named key on line, anywhere under n.
func findKey(n *yaml.Node, key string, line int) *yaml.Node {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k := n.Content[i]; k.Value == key && k.Line == line {
				return k
			}
		}
	}
	for _, c := range n.Content {
		if k := findKey(c, key, line); k != nil {
			return k
		}
	}
	return nil
}

// findValue finds the first value node on line with the given tag ("seq",
// "map", "str", ...) and, for scalars, value.
func findValue(n *yaml.Node, tag, value string, line int) *yaml.Node {
	if n == nil {
		return nil
	}
	if n.Line == line && n.Kind != yaml.DocumentNode && strings.TrimPrefix(n.ShortTag(), "!!") == tag &&
		(n.Kind != yaml.ScalarNode || n.Value == value) {
		return n
	}
	for _, c := range n.Content {
		if v := findValue(c, tag, value, line); v != nil {
			return v
		}
	}
	return nil
}

func nodeKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	}
	return strconv.Quote(n.Value)
}

// sections names each decoded type as errors describe it.
var sections = map[string]struct {
	what string
	typ  reflect.Type
}{
	"ruletest.File":    {"the test file", reflect.TypeFor[File]()},
	"ruletest.Account": {"an account", reflect.TypeFor[Account]()},
	"ruletest.Test":    {"a test", reflect.TypeFor[Test]()},
	"ruletest.Series":  {"a series", reflect.TypeFor[Series]()},
	"ruletest.Card":    {"a card", reflect.TypeFor[Card]()},
	"ruletest.Eval":    {"an eval", reflect.TypeFor[Eval]()},
	"ruletest.Alert":   {"an expected alert", reflect.TypeFor[Alert]()},
}

// knownFields describes a decoded type and lists its keys.
func knownFields(typeName string) (string, []string) {
	s, ok := sections[typeName]
	if !ok {
		return typeName, nil
	}
	var keys []string
	for f := range s.typ.Fields() {
		if tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ","); tag != "" && tag != "-" {
			keys = append(keys, tag)
		}
	}
	return s.what, keys
}

func goTypeName(t string) string {
	switch {
	case t == "string" || t == "*string":
		return "a string"
	case t == "int":
		return "an integer"
	case strings.HasPrefix(t, "[]"):
		return "a list"
	}
	if s, ok := sections[t]; ok {
		return "a mapping (" + strings.TrimPrefix(strings.TrimPrefix(s.what, "an "), "a ") + ")"
	}
	return t
}

// setPositions walks the node tree alongside f and records where each
// element and field is.
func setPositions(root *yaml.Node, f *File) {
	if root.Kind != yaml.DocumentNode || len(root.Content) == 0 {
		return
	}
	top := root.Content[0]
	f.pos = positionsOf(top)
	if seq := mapValue(top, "rule_files"); seq != nil && seq.Kind == yaml.SequenceNode {
		for _, n := range seq.Content {
			f.rulesPos = append(f.rulesPos, pos{n.Line, n.Column})
		}
	}
	each := func(n *yaml.Node, key string, count int, set func(i int, item *yaml.Node)) {
		seq := mapValue(n, key)
		if seq == nil || seq.Kind != yaml.SequenceNode {
			return
		}
		for i, item := range seq.Content {
			if i < count {
				set(i, item)
			}
		}
	}
	each(top, "accounts", len(f.Accounts), func(i int, n *yaml.Node) { f.Accounts[i].pos = positionsOf(n) })
	each(top, "tests", len(f.Tests), func(i int, tn *yaml.Node) {
		t := &f.Tests[i]
		t.pos = positionsOf(tn)
		each(tn, "series", len(t.Series), func(j int, n *yaml.Node) { t.Series[j].pos = positionsOf(n) })
		each(tn, "cards", len(t.Cards), func(j int, n *yaml.Node) { t.Cards[j].pos = positionsOf(n) })
		each(tn, "evals", len(t.Evals), func(j int, en *yaml.Node) {
			e := &t.Evals[j]
			e.pos = positionsOf(en)
			each(en, "alerts", len(e.Alerts), func(k int, n *yaml.Node) { e.Alerts[k].pos = positionsOf(n) })
		})
	})
}

func positionsOf(n *yaml.Node) positions {
	p := positions{"": {n.Line, n.Column}}
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			v := n.Content[i+1]
			p[n.Content[i].Value] = pos{v.Line, v.Column}
		}
	}
	return p
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// check validates a decoded file and resolves its dates, series and
// accounts.
func (p *parser) check(f *File) {
	if f.pos == nil {
		f.pos = positions{"": {1, 1}}
	}
	if len(f.RuleFiles) == 0 && p.absentOrEmpty(f.pos, "rule_files") {
		p.bad(f.pos.at("rule_files"), "", "rule_files: at least one rule file is needed")
	}
	for i, r := range f.RuleFiles {
		if strings.TrimSpace(r) == "" {
			p.bad(f.rulePos(i), "", "rule_files[%d]: empty path", i)
		}
	}
	if len(f.Accounts) == 0 {
		f.Accounts = []Account{defaultAccount}
	}
	byKey := map[string]int{}
	for i := range f.Accounts {
		a := &f.Accounts[i]
		if !accountID.MatchString(a.ID) {
			p.bad(a.pos.at("id"), "", "accounts[%d]: id: want a 32-character lower-case hex account id, got %q", i, a.ID)
		}
		if a.Name == "" {
			p.bad(a.pos.at(""), "", "accounts[%d]: name is required (alerts and rule scopes use it)", i)
		}
		for _, k := range []string{a.ID, a.Name} {
			if k == "" {
				continue
			}
			if j, dup := byKey[k]; dup && j != i {
				p.bad(a.pos.at(""), "", "accounts[%d]: %q is already accounts[%d]", i, k, j)
			}
			byKey[k] = i
		}
		switch a.Source {
		case "", "paygo", "focus":
		default:
			p.bad(a.pos.at("source"), "", "accounts[%d]: source: want paygo or focus, got %q", i, a.Source)
		}
		if a.Currency == "" {
			a.Currency = "USD"
		} else if !rules.IsCurrency(a.Currency) {
			p.bad(a.pos.at("currency"), "", "accounts[%d]: currency: want a three-letter ISO 4217 code such as USD, got %q", i, a.Currency)
		}
		if a.AnchorDay == 0 {
			a.AnchorDay = 1
		} else if a.AnchorDay < 1 || a.AnchorDay > 31 {
			p.bad(a.pos.at("anchor_day"), "", "accounts[%d]: anchor_day: want a day of month 1-31, got %d", i, a.AnchorDay)
		}
	}
	account := func(key string) (Account, bool) {
		if key == "" {
			return f.Accounts[0], true
		}
		i, ok := byKey[key]
		if !ok {
			return Account{}, false
		}
		return f.Accounts[i], true
	}
	if len(f.Tests) == 0 && p.absentOrEmpty(f.pos, "tests") {
		p.bad(f.pos.at("tests"), "", "tests: no tests")
	}
	names := map[string]int{}
	for i := range f.Tests {
		p.checkTest(&f.Tests[i], i, names, account)
	}
}

func (p *parser) checkTest(t *Test, i int, names map[string]int, account func(string) (Account, bool)) {
	name := t.Name
	if name == "" {
		name = fmt.Sprintf("tests[%d]", i)
		p.bad(t.pos.at(""), "", "tests[%d]: name is required", i)
	} else if line, dup := names[name]; dup {
		p.bad(t.pos.at("name"), name, "name: the same as the test on line %d", line)
	} else {
		names[name] = t.pos.at("name").line
	}
	bad := func(at pos, format string, args ...any) { p.bad(at, name, format, args...) }
	var err error
	if t.Start == "" {
		bad(t.pos.at(""), "start: required (YYYY-MM-DD, the first day of every series)")
	} else if t.start, err = time.Parse(time.DateOnly, t.Start); err != nil {
		bad(t.pos.at("start"), "start: want YYYY-MM-DD, got %q", t.Start)
	}

	seen := map[cost.SeriesKey]int{}
	for j := range t.Series {
		s := &t.Series[j]
		a, ok := account(s.Account)
		if !ok {
			bad(s.pos.at("account"), "series[%d]: account %q is not in accounts", j, s.Account)
		}
		s.acct = a
		if s.Service == "" {
			bad(s.pos.at(""), "series[%d]: service is required", j)
		}
		s.start = t.start
		if s.Start != "" {
			if s.start, err = time.Parse(time.DateOnly, s.Start); err != nil {
				bad(s.pos.at("start"), "series[%d]: start: want YYYY-MM-DD, got %q", j, s.Start)
			}
		}
		if s.values, err = ParseSeries(s.Values); err != nil {
			bad(s.pos.at("values"), "series[%d]: values: %v", j, err)
		}
		if ok && s.Service != "" {
			k := cost.SeriesKey{Account: a.ID, Service: s.Service, Family: s.Family, Zone: s.Zone}
			if prev, dup := seen[k]; dup {
				bad(s.pos.at(""), "series[%d]: the same account, family, service and zone as series[%d]", j, prev)
			}
			seen[k] = j
		}
	}

	cards := map[string]int{}
	for j := range t.Cards {
		c := &t.Cards[j]
		a, ok := account(c.Account)
		if !ok {
			bad(c.pos.at("account"), "cards[%d]: account %q is not in accounts", j, c.Account)
		} else if prev, dup := cards[a.ID]; dup {
			bad(c.pos.at(""), "cards[%d]: account %q already has a card (cards[%d])", j, a.display(), prev)
		} else {
			cards[a.ID] = j
		}
		c.acct = a
		e, err := time.Parse("2006-01", c.Expiry)
		if err != nil {
			bad(c.pos.at("expiry"), "cards[%d]: expiry: want YYYY-MM, got %q", j, c.Expiry)
		}
		c.month, c.year = e.Month(), e.Year()
	}

	if len(t.Evals) == 0 && p.absentOrEmpty(t.pos, "evals") {
		bad(t.pos.at("evals"), "evals: no evaluation instants")
	}
	var prev time.Time
	for j := range t.Evals {
		e := &t.Evals[j]
		if err := e.resolve(); err != nil {
			bad(e.pos.at(e.key()), "evals[%d]: %v", j, err)
			continue
		}
		if !prev.IsZero() && !e.at.After(prev) {
			bad(e.pos.at(e.key()), "evals[%d]: %s is not after the eval before it (%s); evals go in time order",
				j, e.at.Format(time.RFC3339), prev.Format(time.RFC3339))
		}
		prev = e.at
		for k := range e.Alerts {
			p.checkAlert(&e.Alerts[k], name, j, k, account)
		}
	}
}

func (p *parser) checkAlert(a *Alert, test string, j, k int, account func(string) (Account, bool)) {
	bad := func(field, format string, args ...any) {
		p.bad(a.pos.at(field), test, "evals[%d].alerts[%d]: %s: %s", j, k, field, fmt.Sprintf(format, args...))
	}
	if a.Kind != nil {
		if _, err := cost.ParseKind(*a.Kind); err != nil {
			bad("kind", "unknown kind %q (want budget, forecast, anomaly, card_expiry, stale, rule_problem or digest)", *a.Kind)
		}
	}
	if a.Status != nil && *a.Status != "firing" && *a.Status != "resolved" {
		bad("status", "want firing or resolved, got %q", *a.Status)
	}
	if a.Severity != nil {
		if _, err := cost.ParseSeverity(*a.Severity); err != nil {
			bad("severity", "want info, warning or critical, got %q", *a.Severity)
		}
	}
	if a.Day != nil && *a.Day != "" {
		if _, err := time.Parse(time.DateOnly, *a.Day); err != nil {
			bad("day", "want YYYY-MM-DD, got %q", *a.Day)
		}
	}
	if a.Account != nil {
		if _, ok := account(*a.Account); !ok || *a.Account == "" {
			bad("account", "%q is not in accounts", *a.Account)
		}
	}
	if a.Title != nil && *a.Title == "" {
		bad("title", "want a non-empty substring of the title")
	}
}

// absentOrEmpty reports whether an empty list is worth an error of its own:
// key was left out, or no type error explains why it decoded as empty.
func (p *parser) absentOrEmpty(ps positions, key string) bool {
	_, given := ps[key]
	return !given || !p.typeErrs
}

func (e *Eval) key() string {
	if e.At != "" {
		return "at"
	}
	return "day"
}

// resolve sets the instant of the cycle.
func (e *Eval) resolve() error {
	switch {
	case e.At != "" && e.Day != "":
		return fmt.Errorf("give day or at, not both")
	case e.At != "":
		t, err := time.Parse(time.RFC3339, e.At)
		if err != nil {
			return fmt.Errorf("at: want an RFC 3339 instant such as 2026-11-30T12:00:00Z, got %q", e.At)
		}
		e.at = t.UTC()
	case e.Day != "":
		d, err := time.Parse(time.DateOnly, e.Day)
		if err != nil {
			return fmt.Errorf("day: want YYYY-MM-DD, got %q", e.Day)
		}
		e.at = app.EvalInstant(d)
	default:
		return fmt.Errorf("day or at is required")
	}
	return nil
}

// rulePos is where rule_files[i] is.
func (f *File) rulePos(i int) pos {
	if i < len(f.rulesPos) {
		return f.rulesPos[i]
	}
	return f.pos.at("rule_files")
}

// display is the account as alerts show it: its name, else its id.
func (a Account) display() string {
	if a.Name != "" {
		return a.Name
	}
	return a.ID
}
