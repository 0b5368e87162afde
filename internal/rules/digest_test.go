package rules

import (
	"strings"
	"testing"

	"github.com/costbot/costbot/internal/cost"
)

// TestDigestFinding_ProblemsOfItsAccount: a digest lists the rule problems
// whose scope matches its account as the rule's scope does (empty, name,
// id or glob), and not another account's.
func TestDigestFinding_ProblemsOfItsAccount(t *testing.T) {
	d := AccountDigest{Account: prod, Currency: "USD"}
	tests := []struct {
		scope string
		want  bool
	}{
		{"", true}, {"production", true}, {prod.ID, true}, {"prod*", true}, {"staging", false}, {"stag*", false},
	}
	for _, tt := range tests {
		t.Run("scope="+tt.scope, func(t *testing.T) {
			p := cost.Finding{Kind: cost.KindRuleProblem, Scope: cost.Scope{Account: tt.scope}, Title: "Rule r cannot be evaluated"}
			f := DigestFinding(d, false, nil, []cost.Finding{p})
			if got := strings.Contains(f.Summary, "• Rule r cannot be evaluated"); got != tt.want {
				t.Errorf("problem listed %v, want %v:\n%s", got, tt.want, f.Summary)
			}
		})
	}
}
