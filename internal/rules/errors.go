package rules

import (
	"fmt"
	"strings"
)

// Error is one problem in a rule file, with the position it was found at.
// Line and Col are 1-based and always set.
type Error struct {
	File  string // file name as given to Parse or found by LoadDir/LoadFS
	Line  int
	Col   int
	Rule  string // rule name; "" when the rule has no usable name
	Field string // field path inside the rule, e.g. "thresholds[1].percent"
	Msg   string
}

// Error renders `file:line:col: rule "name": field: what is wrong`, leaving
// out the rule and field parts when they are empty.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:%d:%d: ", e.File, e.Line, e.Col)
	if e.Rule != "" {
		fmt.Fprintf(&b, "rule %q: ", e.Rule)
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found while loading rule files, in file order and
// then document order. It is returned as an error only when non-empty.
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
