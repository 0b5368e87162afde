package slack_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/costbot/costbot/internal/cost"
	"github.com/costbot/costbot/internal/notify/slack"
)

// TestRender_ResolvedSaysWhy checks that a resolved message carries why it
// resolved, and that the account shows by its name.
func TestRender_ResolvedSaysWhy(t *testing.T) {
	a := cost.Alert{Finding: cost.Finding{Kind: cost.KindBudget, Rule: "monthly", Title: "Total (production) budget at 104%",
		Scope: cost.Scope{Account: "0123456789abcdef0123456789abcdef", AccountName: "production"}, Currency: "USD"},
		Fingerprint: "00000000000000aa", Status: cost.StatusResolved, Reason: "resolved",
		Why: "period ended: closed at $2,612.00, 104% of budget"}
	text, blocks := slack.Render(a)
	if want := "Why: period ended: closed at $2,612.00, 104% of budget"; !strings.Contains(text, want) {
		t.Errorf("text %q does not contain %q", text, want)
	}
	b, err := json.Marshal(blocks)
	if err != nil {
		t.Fatal(err)
	}
	if want := "account=production"; !strings.Contains(string(b), want) {
		t.Errorf("blocks %s do not contain %q", b, want)
	}
}
