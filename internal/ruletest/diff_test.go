package ruletest

import (
	"strings"
	"testing"

	"github.com/costbot/costbot/internal/app"
)

func str(s string) *string { return &s }

func TestCompare(t *testing.T) {
	accts := []Account{{ID: "0123456789abcdef0123456789abcdef", Name: "production"}}
	b50 := app.Event{Kind: "budget", Status: "firing", Reason: "first", Rule: "workers-monthly", Account: "production",
		Family: "Workers*", Severity: "info", Day: "2026-11-14", Threshold: "actual>=50%", Title: "Workers (production) budget at 50% of $250.00"}
	fc := app.Event{Kind: "forecast", Status: "firing", Reason: "first", Rule: "workers-monthly", Account: "production",
		Family: "Workers*", Severity: "warning", Day: "2026-11-28", Threshold: "forecast>=100%", Title: "Workers (production) forecast $270.00"}
	resolved := fc
	resolved.Status, resolved.Reason = "resolved", "resolved"
	tests := []struct {
		name string
		want []Alert
		got  []app.Event
		diff []string // lines of the diff; nil: they match
	}{
		{"OK/Nothing", nil, nil, nil},
		{"OK/AnyOrder", []Alert{{Kind: str("forecast")}, {Kind: str("budget")}}, []app.Event{b50, fc}, nil},
		{"OK/AllFields", []Alert{{Kind: str("budget"), Rule: str("workers-monthly"), Status: str("firing"), Reason: str("first"),
			Account: str("production"), Service: str(""), Family: str("Workers*"), Zone: str(""), Severity: str("info"),
			Day: str("2026-11-14"), Threshold: str("actual>=50%"), Title: str("at 50%")}}, []app.Event{b50}, nil},
		{"OK/AccountByID", []Alert{{Account: str("0123456789abcdef0123456789abcdef")}}, []app.Event{b50}, nil},
		{"OK/Resolved", []Alert{{Kind: str("forecast"), Status: str("resolved")}}, []app.Event{resolved}, nil},
		// The loose expectation must not take the event the strict one needs.
		{"OK/LooseAndStrict", []Alert{{Rule: str("workers-monthly")}, {Kind: str("budget")}}, []app.Event{b50, fc}, nil},
		{"ErrExtra", []Alert{{Kind: str("budget")}}, []app.Event{b50, fc}, []string{
			`+ firing forecast workers-monthly reason=first account=production family=Workers* severity=warning day=2026-11-28 threshold="forecast>=100%" title="Workers (production) forecast $270.00"`,
			`  firing budget workers-monthly reason=first account=production family=Workers* severity=info day=2026-11-14 threshold="actual>=50%" title="Workers (production) budget at 50% of $250.00"`,
		}},
		{"ErrMissing", []Alert{{Kind: str("budget")}, {Kind: str("anomaly"), Service: str("R2 Storage")}}, []app.Event{b50}, []string{
			`- firing anomaly * service="R2 Storage"`,
			`  firing budget workers-monthly`,
		}},
		{"ErrDefaultStatusIsFiring", []Alert{{Kind: str("forecast")}}, []app.Event{resolved}, []string{
			`- firing forecast *`,
			`    (closest sent: status: want "firing", got "resolved")`,
			`+ resolved forecast workers-monthly reason=resolved`,
		}},
		{"ErrEmptyMeansEmpty", []Alert{{Kind: str("budget"), Family: str("")}}, []app.Event{b50}, []string{
			`- firing budget * family=""`,
			`    (closest sent: family: want "", got "Workers*")`,
			`+ firing budget workers-monthly`,
		}},
		{"ErrTitleSubstring", []Alert{{Title: str("at 80%")}}, []app.Event{b50}, []string{
			`- firing * * title~"at 80%"`,
			`    (closest sent: title: want "at 80%", got "Workers (production) budget at 50% of $250.00")`,
			`+ firing budget workers-monthly`,
		}},
		{"ErrNoClosestOfAnotherRule", []Alert{{Rule: str("account-total")}}, []app.Event{b50}, []string{
			`- firing * account-total`,
			`+ firing budget workers-monthly`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			diff := compare(tt.want, tt.got, accts)
			if tt.diff == nil {
				if diff != "" {
					t.Fatalf("want a match, got diff:\n%s", diff)
				}
				return
			}
			lines := strings.Split(diff, "\n")
			if len(lines) != len(tt.diff) {
				t.Fatalf("%d diff lines, want %d:\n%s", len(lines), len(tt.diff), diff)
			}
			for i, w := range tt.diff {
				if !strings.HasPrefix(lines[i], w) {
					t.Errorf("line %d:\n got %s\nwant %s...", i+1, lines[i], w)
				}
			}
		})
	}
}
