package rules

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/costbot/costbot/internal/cost"
	"github.com/costbot/costbot/internal/detect"
)

// defaultWarnDays are the card-expiry stages used when warn_days is omitted
// (30, 7 and 1 days before expiry), sorted ascending like parsed values.
var defaultWarnDays = []int{1, 7, 30}

// defaultWarmupDays is the anomaly warm-up used when warmup_days is omitted:
// the detector's own default (28 days), so rules, `costbot backtest` and
// `costbot detect` judge a series alike.
var defaultWarmupDays = detect.DefaultOptions().WarmUp

// maxWarmupDays bounds warmup_days: a year.
const maxWarmupDays = 365

// Parse decodes and validates one rule file. file names the file in errors.
// On any problem it returns a nil Set and Errors holding all of them.
func Parse(file string, data []byte) (*Set, error) {
	l := newLoader()
	l.parse(file, data)
	return l.result()
}

// LoadDir loads every *.yaml and *.yml file in dir (not recursive), in name
// order, into one Set. Rule names must be unique across all files. Errors
// name files as filepath.Join(dir, name).
func LoadDir(dir string) (*Set, error) {
	return loadFS(os.DirFS(dir), ".", func(name string) string { return filepath.Join(dir, name) })
}

// LoadFS is LoadDir over a file system, e.g. an embed.FS of example rules.
// Errors name files as path.Join(dir, name).
func LoadFS(fsys fs.FS, dir string) (*Set, error) {
	return loadFS(fsys, dir, func(name string) string { return path.Join(dir, name) })
}

// MaxRuleFileSize bounds one rule file (4 MiB).
const MaxRuleFileSize = 4 << 20

// readRuleFile reads a regular file of at most MaxRuleFileSize. It checks
// the type before opening, so a named pipe (whose open blocks until a
// writer comes) or a device such as /dev/zero is refused, not read.
func readRuleFile(fsys fs.FS, name string) ([]byte, error) {
	fi, err := fs.Stat(fsys, name)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		kind := "a directory"
		switch m := fi.Mode(); {
		case m&fs.ModeNamedPipe != 0:
			kind = "a named pipe"
		case m&fs.ModeDevice != 0:
			kind = "a device"
		case m&fs.ModeSocket != 0:
			kind = "a socket"
		case !m.IsDir():
			kind = "type " + m.Type().String()
		}
		return nil, fmt.Errorf("not a regular file (%s)", kind)
	}
	if fi.Size() > MaxRuleFileSize {
		return nil, fmt.Errorf("%d bytes is over the limit of 4 MiB", fi.Size())
	}
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxRuleFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxRuleFileSize {
		return nil, errors.New("over the limit of 4 MiB")
	}
	return data, nil
}

func loadFS(fsys fs.FS, dir string, display func(string) string) (*Set, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("read rules directory %q: %w", dir, err)
	}
	var names []string
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || strings.HasPrefix(n, ".") {
			continue
		}
		if ext := path.Ext(n); ext == ".yaml" || ext == ".yml" {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	l := newLoader()
	for _, n := range names {
		data, err := readRuleFile(fsys, path.Join(dir, n))
		if err != nil {
			return nil, fmt.Errorf("read rule file %q: %w", display(n), err)
		}
		l.parse(display(n), data)
	}
	return l.result()
}

// loader accumulates rules and errors over one or more files.
type loader struct {
	set   *Set
	errs  Errors
	names map[string]Pos // rule name -> first definition

	// per-file, per-rule context for errors
	file    string
	rule    string
	prefix  string // field prefix when the rule has no name, e.g. "budgets[2]."
	aliases int    // alias uses in the current file
}

func newLoader() *loader {
	return &loader{set: &Set{}, names: map[string]Pos{}}
}

func (l *loader) result() (*Set, error) {
	if len(l.errs) > 0 {
		return nil, l.errs
	}
	return l.set, nil
}

func (l *loader) errAt(line, col int, field, format string, args ...any) {
	if line < 1 {
		line = 1
	}
	if col < 1 {
		col = 1
	}
	if field != "" || l.prefix != "" {
		field = strings.TrimSuffix(l.prefix+field, ".")
	}
	l.errs = append(l.errs, &Error{File: l.file, Line: line, Col: col, Rule: l.rule, Field: field, Msg: fmt.Sprintf(format, args...)})
}

func (l *loader) errf(n *yaml.Node, field, format string, args ...any) {
	l.errAt(n.Line, n.Column, field, format, args...)
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

func (l *loader) parse(file string, data []byte) {
	l.file, l.rule, l.prefix, l.aliases = file, "", "", 0
	first := len(l.errs)
	defer func() {
		// Document order, whatever order the checks ran in.
		mine := l.errs[first:]
		sort.SliceStable(mine, func(i, j int) bool {
			if mine[i].Line != mine[j].Line {
				return mine[i].Line < mine[j].Line
			}
			return mine[i].Col < mine[j].Col
		})
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return // empty file: no rules
		}
		line := 1
		if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
			line, _ = strconv.Atoi(m[1])
		}
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		msg = yamlLine.ReplaceAllString(msg, "")
		l.errAt(line, 1, "", "invalid YAML: %s", strings.TrimPrefix(msg, ": "))
		return
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		l.errf(&extra, "", "more than one YAML document; put all rules in one document")
	}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return
		}
		root = root.Content[0]
	}
	root = l.resolve(root)
	if isNull(root) {
		return
	}
	if root.Kind != yaml.MappingNode {
		l.errf(root, "", "want a mapping with budgets, anomalies and cards, got %s", kindName(root))
		return
	}
	l.fields(root, "", []string{"budgets", "anomalies", "cards"}, func(key string, k, v *yaml.Node) bool {
		switch key {
		case "budgets":
			l.section(key, v, l.budget)
		case "anomalies":
			l.section(key, v, l.anomaly)
		case "cards":
			l.section(key, v, l.card)
		default:
			return false
		}
		return true
	})
}

func (l *loader) section(name string, n *yaml.Node, item func(i int, n *yaml.Node)) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.SequenceNode {
		l.errf(n, name, "want a list of rules, got %s", kindName(n))
		return
	}
	for i, c := range n.Content {
		c = l.resolve(c)
		l.rule, l.prefix = "", ""
		if c.Kind != yaml.MappingNode {
			l.prefix = fmt.Sprintf("%s[%d].", name, i)
			l.errf(c, "", "want a rule mapping, got %s", kindName(c))
			l.prefix = ""
			continue
		}
		l.nameOf(name, i, c)
		item(i, c)
		l.rule, l.prefix = "", ""
	}
}

// nameOf sets the error context for a rule before its other fields are read,
// so that every error names the rule wherever "name" appears in the mapping.
func (l *loader) nameOf(section string, i int, n *yaml.Node) {
	for j := 0; j+1 < len(n.Content); j += 2 {
		k, v := l.resolve(n.Content[j]), l.resolve(n.Content[j+1])
		if k.Value == "name" && v.Kind == yaml.ScalarNode && v.Tag == "!!str" && strings.TrimSpace(v.Value) != "" {
			l.rule = v.Value
			return
		}
	}
	l.prefix = fmt.Sprintf("%s[%d].", section, i)
}

// checkName validates and registers a rule name; it returns the position.
func (l *loader) checkName(n *yaml.Node, name string, nameNode *yaml.Node) Pos {
	pos := Pos{File: l.file, Line: n.Line, Col: n.Column}
	if nameNode == nil {
		l.errf(n, "name", "missing; every rule needs a unique name")
		return pos
	}
	if strings.TrimSpace(name) == "" {
		l.errf(nameNode, "name", "must not be empty")
		return pos
	}
	pos = Pos{File: l.file, Line: nameNode.Line, Col: nameNode.Column}
	if first, ok := l.names[name]; ok {
		l.errf(nameNode, "name", "duplicate rule name, first defined at %s", first)
		return pos
	}
	l.names[name] = pos
	return pos
}

// fields walks a mapping, reporting non-string and repeated keys, and keys
// the handler does not know.
// known lists the valid keys for the error message.
func (l *loader) fields(n *yaml.Node, path string, known []string, handle func(key string, k, v *yaml.Node) bool) {
	seen := map[string]bool{}
	for j := 0; j+1 < len(n.Content); j += 2 {
		k, v := l.resolve(n.Content[j]), l.resolve(n.Content[j+1])
		if k.Kind != yaml.ScalarNode {
			l.errf(k, "", "want a field name, got %s", kindName(k))
			continue
		}
		if seen[k.Value] {
			l.errf(k, path+k.Value, "given more than once")
			continue
		}
		seen[k.Value] = true
		if !handle(k.Value, k, v) {
			l.errf(k, path+k.Value, "%s", unknownField(k.Value, known))
		}
	}
}

// resolve follows aliases (bounded, so a cycle cannot hang).
// It also counts alias uses per file: anchors are handy for sharing a
// threshold list, but a file that expands aliases more than maxAliases times
// is rejected instead of being walked exponentially.
func (l *loader) resolve(n *yaml.Node) *yaml.Node {
	if n == nil || n.Kind != yaml.AliasNode {
		return n
	}
	l.aliases++
	if l.aliases > maxAliases {
		if l.aliases == maxAliases+1 {
			l.errf(n, "", "more than %d alias uses; expand the aliases", maxAliases)
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: n.Line, Column: n.Column}
	}
	for i := 0; n != nil && n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	if n.Kind == yaml.AliasNode {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: n.Line, Column: n.Column}
	}
	return n
}

const maxAliases = 1000

func isNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!str":
			return fmt.Sprintf("string %q", n.Value)
		case "!!null":
			return "null"
		case "!!int":
			return "integer " + n.Value
		case "!!float":
			return "number " + n.Value
		case "!!bool":
			return "boolean " + n.Value
		}
		return fmt.Sprintf("%s %q", strings.TrimPrefix(n.Tag, "!!"), n.Value)
	case yaml.AliasNode:
		return "an alias"
	}
	return "unknown node"
}

// str decodes a string scalar; null is "".
func (l *loader) str(n *yaml.Node, field string) string {
	if isNull(n) {
		return ""
	}
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		l.errf(n, field, "want a string, got %s", kindName(n))
		return ""
	}
	return n.Value
}

// num decodes a finite number.
func (l *loader) num(n *yaml.Node, field string) (float64, bool) {
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") {
		l.errf(n, field, "want a number, got %s", kindName(n))
		return 0, false
	}
	f, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		if n.Tag == "!!int" {
			if i, ierr := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64); ierr == nil {
				return float64(i), true
			}
		}
		l.errf(n, field, "want a finite number, got %s", n.Value)
		return 0, false
	}
	return f, true
}

// Bounds of every money amount in a rule file (budget and threshold
// amounts), in the rule's currency: at least one cent, at most 1e12. Beyond
// them sums and percentages lose meaning (1e308 printed "+Inf%") and an
// amount like 1e-320 is a typo, not a budget.
const (
	MinAmount = 0.01
	MaxAmount = 1e12
)

// amount reports whether f, read from n, is a sane money amount, and
// records the error at n when it is not.
func (l *loader) amount(n *yaml.Node, field string, f float64) bool {
	switch {
	case f <= 0:
		l.errf(n, field, "must be positive, got %s", n.Value)
	case f < MinAmount:
		l.errf(n, field, "must be at least %g, got %s", MinAmount, n.Value)
	case f > MaxAmount:
		l.errf(n, field, "must be at most %g, got %s", float64(MaxAmount), n.Value)
	default:
		return true
	}
	return false
}

// integer decodes an integer scalar.
func (l *loader) integer(n *yaml.Node, field string) (int, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		l.errf(n, field, "want an integer, got %s", kindName(n))
		return 0, false
	}
	i, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 32)
	if err != nil {
		l.errf(n, field, "integer %s out of range", n.Value)
		return 0, false
	}
	return int(i), true
}

func (l *loader) strList(n *yaml.Node, field string) []string {
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		l.errf(n, field, "want a list of names, got %s", kindName(n))
		return nil
	}
	var out []string
	for i, c := range n.Content {
		c = l.resolve(c)
		f := fmt.Sprintf("%s[%d]", field, i)
		s := l.str(c, f)
		if c.Tag == "!!str" && strings.TrimSpace(s) == "" {
			l.errf(c, f, "must not be empty")
			continue
		}
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

func (l *loader) glob(n *yaml.Node, field string) string {
	s := l.str(n, field)
	if _, err := path.Match(s, ""); err != nil {
		l.errf(n, field, "bad glob %q: %v", s, err)
	}
	return s
}

func (l *loader) scope(n *yaml.Node, field string) Scope {
	var s Scope
	if isNull(n) {
		return s
	}
	if n.Kind != yaml.MappingNode {
		l.errf(n, field, "want a mapping with account, family, service, zone, got %s", kindName(n))
		return s
	}
	l.fields(n, field+".", []string{"account", "family", "service", "zone"}, func(key string, _, v *yaml.Node) bool {
		f := field + "." + key
		switch key {
		case "account":
			s.Account = l.glob(v, f)
		case "family":
			s.Family = l.glob(v, f)
		case "service":
			s.Service = l.glob(v, f)
		case "zone":
			s.Zone = l.glob(v, f)
		default:
			return false
		}
		return true
	})
	return s
}

func (l *loader) severity(n *yaml.Node, field string) cost.Severity {
	s := l.str(n, field)
	if n.Tag != "!!str" {
		return cost.SeverityWarning
	}
	sev, err := cost.ParseSeverity(s)
	if err != nil {
		l.errf(n, field, "unknown severity %q (want info, warning or critical)", s)
		return cost.SeverityWarning
	}
	return sev
}

func (l *loader) budget(_ int, n *yaml.Node) {
	b := &Budget{Period: PeriodBillingPeriod, Timezone: "UTC", Location: time.UTC}
	var nameNode, amountNode, currencyNode, thresholdsNode *yaml.Node
	var tzNode *yaml.Node
	l.fields(n, "", []string{"name", "scope", "period", "timezone", "amount", "currency", "thresholds", "notify"}, func(key string, _, v *yaml.Node) bool {
		switch key {
		case "name":
			nameNode = v
			b.Name = l.str(v, key)
		case "scope":
			b.Scope = l.scope(v, key)
		case "period":
			s := l.str(v, key)
			if v.Tag != "!!str" {
				break
			}
			p, ok := parsePeriod(s)
			if !ok {
				l.errf(v, key, "unknown period %q (want billing_period, month, week or day)", s)
			}
			b.Period = p
		case "timezone":
			tzNode = v
			b.Timezone = l.str(v, key)
		case "amount":
			amountNode = v
			if f, ok := l.num(v, key); ok {
				l.amount(v, key, f)
				b.Amount = f
			}
		case "currency":
			currencyNode = v
			b.Currency = l.str(v, key)
			if v.Tag == "!!str" && !IsCurrency(b.Currency) {
				l.errf(v, key, "want a three-letter ISO 4217 code such as USD, got %q", b.Currency)
			}
		case "thresholds":
			thresholdsNode = v
			b.Thresholds = l.thresholds(v, key)
		case "notify":
			b.Notify = l.strList(v, key)
		default:
			return false
		}
		return true
	})
	b.Pos = l.checkName(n, b.Name, nameNode)
	if tzNode != nil && tzNode.Tag == "!!str" {
		if b.Timezone == "" {
			b.Timezone = "UTC"
		}
		loc, err := time.LoadLocation(b.Timezone)
		if err != nil || strings.EqualFold(b.Timezone, "local") {
			l.errf(tzNode, "timezone", "unknown IANA time zone %q", b.Timezone)
		} else {
			b.Location = loc
		}
	}
	if amountNode == nil {
		l.errf(n, "amount", "missing; the budget per period in currency")
	}
	if currencyNode == nil {
		l.errf(n, "currency", "missing; e.g. USD")
	}
	if thresholdsNode == nil || (isNull(thresholdsNode) && len(b.Thresholds) == 0) {
		l.errf(n, "thresholds", "missing; at least one, e.g. {percent: 100, on: actual}")
	} else if thresholdsNode.Kind == yaml.SequenceNode && len(thresholdsNode.Content) == 0 {
		l.errf(thresholdsNode, "thresholds", "must not be empty")
	}
	l.set.BudgetRules = append(l.set.BudgetRules, b)
}

// IsCurrency reports whether s looks like an ISO 4217 code: three upper-case
// letters.
func IsCurrency(s string) bool {
	if len(s) != 3 {
		return false
	}
	for _, r := range s {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}

func parsePeriod(s string) (PeriodKind, bool) {
	if s == "" {
		return PeriodBillingPeriod, true
	}
	for k, n := range periodNames {
		if n == s {
			return k, true
		}
	}
	return PeriodBillingPeriod, false
}

func (l *loader) thresholds(n *yaml.Node, field string) []Threshold {
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		l.errf(n, field, "want a list of thresholds, got %s", kindName(n))
		return nil
	}
	var out []Threshold
	seen := map[string]*yaml.Node{}
	for i, c := range n.Content {
		c = l.resolve(c)
		f := fmt.Sprintf("%s[%d]", field, i)
		if c.Kind != yaml.MappingNode {
			l.errf(c, f, "want a mapping like {percent: 80, on: actual}, got %s", kindName(c))
			continue
		}
		t := Threshold{On: OnActual, Severity: cost.SeverityWarning}
		var pctNode, amtNode *yaml.Node
		ok := true
		l.fields(c, f+".", []string{"percent", "amount", "on", "severity"}, func(key string, _, v *yaml.Node) bool {
			ff := f + "." + key
			switch key {
			case "percent":
				pctNode = v
				p, good := l.num(v, ff)
				switch {
				case !good:
					ok = false
				case p <= 0 || p > 1000:
					l.errf(v, ff, "must be in (0, 1000], got %s", v.Value)
					ok = false
				default:
					t.Percent = p
				}
			case "amount":
				amtNode = v
				a, good := l.num(v, ff)
				switch {
				case !good:
					ok = false
				case !l.amount(v, ff, a):
					ok = false
				default:
					t.Amount = a
				}
			case "on":
				s := l.str(v, ff)
				switch {
				case v.Tag != "!!str":
					ok = false
				case s == "actual" || s == "":
					t.On = OnActual
				case s == "forecast":
					t.On = OnForecast
				default:
					l.errf(v, ff, "unknown value %q (want actual or forecast)", s)
					ok = false
				}
			case "severity":
				t.Severity = l.severity(v, ff)
			default:
				return false
			}
			return true
		})
		switch {
		case pctNode != nil && amtNode != nil:
			l.errf(amtNode, f, "set percent or amount, not both")
			ok = false
		case pctNode == nil && amtNode == nil:
			l.errf(c, f, "missing percent or amount")
			ok = false
		}
		if !ok {
			continue
		}
		// The same threshold twice would produce two findings with one fingerprint.
		key := t.Name("") + "/" + fmtNum(t.Percent)
		if prev, dup := seen[key]; dup {
			l.errf(c, f, "same threshold as %s[%d]", field, indexOf(n, prev))
			continue
		}
		seen[key] = c
		out = append(out, t)
	}
	return out
}

func indexOf(seq, item *yaml.Node) int {
	for i, c := range seq.Content {
		if c == item || (c.Kind == yaml.AliasNode && c.Alias == item) {
			return i
		}
	}
	return -1
}

func (l *loader) anomaly(_ int, n *yaml.Node) {
	def := detect.DefaultOptions()
	a := &Anomaly{Method: "ensemble", Sensitivity: "medium", Direction: "up", MinImpact: def.MinImpact, MinChange: def.MinChange,
		WarmupDays: defaultWarmupDays, Severity: cost.SeverityWarning}
	var nameNode, methodNode, sensNode, dirNode *yaml.Node
	l.fields(n, "", []string{"name", "scope", "method", "sensitivity", "direction", "min_impact", "min_change", "warmup_days", "severity", "notify"}, func(key string, _, v *yaml.Node) bool {
		switch key {
		case "name":
			nameNode = v
			a.Name = l.str(v, key)
		case "scope":
			a.Scope = l.scope(v, key)
		case "method":
			methodNode = v
			if s := l.str(v, key); s != "" {
				a.Method = s
			}
		case "sensitivity":
			sensNode = v
			if s := l.str(v, key); s != "" {
				a.Sensitivity = s
			}
		case "direction":
			dirNode = v
			if s := l.str(v, key); s != "" {
				a.Direction = s
			}
		case "min_impact":
			if f, ok := l.num(v, key); ok {
				switch {
				case f < 0:
					l.errf(v, key, "must not be negative, got %s", v.Value)
				case f > MaxAmount:
					l.errf(v, key, "must be at most %g, got %s", float64(MaxAmount), v.Value)
				}
				a.MinImpact = f
			}
		case "min_change":
			if f, ok := l.num(v, key); ok {
				if f < 0 {
					l.errf(v, key, "must not be negative, got %s", v.Value)
				}
				a.MinChange = f
			}
		case "warmup_days":
			if d, ok := l.integer(v, key); ok {
				switch {
				case d < 0:
					l.errf(v, key, "must not be negative, got %s", v.Value)
				case d > maxWarmupDays:
					l.errf(v, key, "must be at most %d days, got %d", maxWarmupDays, d)
				}
				a.WarmupDays = d
			}
		case "severity":
			a.Severity = l.severity(v, key)
		case "notify":
			a.Notify = l.strList(v, key)
		default:
			return false
		}
		return true
	})
	a.Pos = l.checkName(n, a.Name, nameNode)
	opts, problems := newDetectOptions(a)
	for _, p := range problems {
		node := n
		switch p.field {
		case "method":
			node = methodNode
		case "sensitivity":
			node = sensNode
		case "direction":
			node = dirNode
		}
		if node == nil {
			node = n
		}
		l.errf(node, p.field, "%s", p.msg)
	}
	a.opts = opts
	l.set.AnomalyRules = append(l.set.AnomalyRules, a)
}

func (l *loader) card(_ int, n *yaml.Node) {
	c := &CardRule{WarnDays: append([]int(nil), defaultWarnDays...)}
	var nameNode *yaml.Node
	l.fields(n, "", []string{"name", "account", "warn_days", "notify"}, func(key string, _, v *yaml.Node) bool {
		switch key {
		case "name":
			nameNode = v
			c.Name = l.str(v, key)
		case "account":
			c.Account = l.glob(v, key)
		case "warn_days":
			c.WarnDays = l.warnDays(v, key)
		case "notify":
			c.Notify = l.strList(v, key)
		default:
			return false
		}
		return true
	})
	c.Pos = l.checkName(n, c.Name, nameNode)
	l.set.CardRules = append(l.set.CardRules, c)
}

func (l *loader) warnDays(n *yaml.Node, field string) []int {
	if isNull(n) {
		return append([]int(nil), defaultWarnDays...)
	}
	if n.Kind != yaml.SequenceNode {
		l.errf(n, field, "want a list of days, got %s", kindName(n))
		return nil
	}
	if len(n.Content) == 0 {
		l.errf(n, field, "must not be empty")
	}
	var out []int
	seen := map[int]bool{}
	for i, c := range n.Content {
		c = l.resolve(c)
		f := fmt.Sprintf("%s[%d]", field, i)
		d, ok := l.integer(c, f)
		if !ok {
			continue
		}
		if d <= 0 {
			l.errf(c, f, "must be positive, got %d", d)
			continue
		}
		if seen[d] {
			l.errf(c, f, "%d given twice", d)
			continue
		}
		seen[d] = true
		out = append(out, d)
	}
	sort.Ints(out)
	return out
}

// unknownField says a key is unknown, suggesting the closest known one.
func unknownField(key string, known []string) string {
	best, dist := "", 3
	for _, k := range known {
		if d := editDistance(strings.ToLower(key), k); d < dist {
			best, dist = k, d
		}
	}
	if best != "" {
		return fmt.Sprintf("unknown field, did you mean %q?", best)
	}
	return "unknown field (want one of " + strings.Join(known, ", ") + ")"
}

// editDistance is the Levenshtein distance between short strings.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 1 << 30
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := prev[j-1]
			if a[i-1] != b[j-1] {
				c++
			}
			cur[j] = min(c, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
