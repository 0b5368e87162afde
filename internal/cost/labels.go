package cost

import (
	"strings"
	"time"
)

// Labels returns an alert's labels, the one set every surface uses: the
// webhook payload sends them, and silences, inhibition rules and routes
// match them. They are alertname (e.g. "CostbotBudget") and kind, rule,
// severity, the scope (account, account_id, service, family, zone),
// threshold and period_start, the start of the alert's period (RFC 3339,
// UTC): the budget period, the first day of an anomaly episode, the card's
// expiry month or the digest's day. account is the account's configured
// name when it has one (people write names), account_id always the id or
// pattern (the identity). Empty values are omitted, so a matcher on a
// missing label sees "".
func Labels(f Finding) map[string]string {
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
func AlertName(k Kind) string {
	var b strings.Builder
	b.WriteString("Costbot")
	for part := range strings.SplitSeq(k.String(), "_") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}
