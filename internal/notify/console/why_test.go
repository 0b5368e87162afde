package console_test

import (
	"strings"
	"testing"

	"github.com/costbot/costbot/internal/cost"
	"github.com/costbot/costbot/internal/notify/console"
)

// TestFormat_ResolvedSaysWhy checks that a resolved alert prints why it
// resolved.
func TestFormat_ResolvedSaysWhy(t *testing.T) {
	a := cost.Alert{Finding: cost.Finding{Kind: cost.KindCardExpiry, Rule: "card", Title: "Card ending 4242 expires soon",
		Scope: cost.Scope{Account: "0123456789abcdef0123456789abcdef", AccountName: "production"}},
		Fingerprint: "00000000000000aa", Status: cost.StatusResolved, Reason: "resolved",
		Why: "card replaced: the billing profile no longer shows the card expiring 12/2026"}
	out := console.Format(a, false)
	for _, want := range []string{"why:          card replaced: the billing profile no longer shows the card expiring 12/2026", "scope:        account=production"} {
		if !strings.Contains(out, want) {
			t.Errorf("output %q does not contain %q", out, want)
		}
	}
}
