package alert

import (
	"strings"
	"time"

	"github.com/prometheus/alertmanager/pkg/labels"

	"github.com/costbot/costbot/internal/cost"
)

// Labels returns the labels that silences, inhibition rules and routes match
// f against: alertname (e.g. "CostbotBudget") and kind, rule, severity, the
// scope (account, account_id, service, family, zone), threshold and
// period_start (RFC 3339, UTC). account is the account's configured name when
// it has one, else its id or pattern, because people write names; account_id
// is always the id (or pattern), the identity. Empty values are omitted, so a
// matcher on a missing label sees "".
//
// They are the webhook payload's labels (notify/webhook.Labels) with
// account_id added and account by name.
func Labels(f cost.Finding) map[string]string {
	l := map[string]string{}
	set := func(k, v string) {
		if v != "" {
			l[k] = v
		}
	}
	set("alertname", AlertName(f.Kind))
	set("kind", f.Kind.String())
	set("rule", f.Rule)
	set("severity", f.Severity.String())
	set("account", f.Scope.AccountLabel())
	set("account_id", f.Scope.Account)
	set("service", f.Scope.Service)
	set("family", f.Scope.Family)
	set("zone", f.Scope.Zone)
	set("threshold", f.Threshold)
	if !f.Period.IsZero() {
		set("period_start", f.Period.Start.UTC().Format(time.RFC3339))
	}
	return l
}

// AlertName returns the Alertmanager alertname for a kind, e.g.
// "CostbotBudget", "CostbotCardExpiry".
func AlertName(k cost.Kind) string {
	var b strings.Builder
	b.WriteString("Costbot")
	for part := range strings.SplitSeq(k.String(), "_") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

// matches reports whether every matcher matches l; a label l lacks is "".
func matches(ms labels.Matchers, l map[string]string) bool {
	for _, m := range ms {
		if !m.Matches(l[m.Name]) {
			return false
		}
	}
	return true
}
