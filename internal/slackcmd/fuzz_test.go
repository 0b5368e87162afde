package slackcmd

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{
		"", "help", "spend", "spend workers req 7d --share", `spend "Workers Standard Requests" last-month`,
		"top 10 30d", "forecast service:argo", "spend 'unterminated", "“curly quotes” mtd", "--share",
		"  \t\n ", "spend -s", strings.Repeat("x ", 3000), "spend \x00\xff",
	} {
		f.Add(s)
	}
	snap := newSnapshot(testData())
	f.Fuzz(func(t *testing.T, text string) {
		c := parseCommand(text)
		if len(text) <= maxCommandText && utf8.ValidString(text) {
			for _, a := range c.Args {
				if !strings.Contains(text, a) && !strings.ContainsAny(text, `"'“`) {
					t.Errorf("arg %q not in input %q", a, text)
				}
			}
		}
		// The whole answer path must not panic on any input either.
		f, ok := subcommands[c.Name]
		if !ok {
			f = cmdHelp
		}
		rep, _ := f(&env{snap: snap, now: testNow, args: c.Args})
		if _, err := json.Marshal(rep); err != nil {
			t.Errorf("reply for %q does not marshal: %v", text, err)
		}
	})
}

func TestParseCommand(t *testing.T) {
	tests := []struct {
		in    string
		name  string
		args  []string
		share bool
	}{
		{"", "", nil, false},
		{"SPEND", "spend", nil, false},
		{"spend workers req 7d --share", "spend", []string{"workers", "req", "7d"}, true},
		{`spend "Workers Standard Requests" 30d`, "spend", []string{"Workers Standard Requests", "30d"}, false},
		{"--share top 3", "top", []string{"3"}, true},
		{"spend “R2 Data Storage”", "spend", []string{"R2 Data Storage"}, false},
		{`spend ""`, "spend", []string{""}, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			c := parseCommand(tt.in)
			if c.Name != tt.name || c.Share != tt.share || strings.Join(c.Args, "|") != strings.Join(tt.args, "|") || len(c.Args) != len(tt.args) {
				t.Errorf("parseCommand(%q) = %+v, want %s %q share=%v", tt.in, c, tt.name, tt.args, tt.share)
			}
		})
	}
}
