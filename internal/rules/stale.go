package rules

import (
	"fmt"
	"time"

	"github.com/costbot/costbot/internal/cost"
)

// StaleRule is the rule name of the staleness warnings.
const StaleRule = "data-freshness"

// Staleness is what StaleFindings needs to know about the fetches.
type Staleness struct {
	Now time.Time
	// After is how long an account may go without a good fetch
	// (alerts.stale_after) before it is warned about.
	After time.Duration
	// Failed maps the id of each account whose fetch failed this cycle to
	// the error; LastGood maps account ids to their last good fetch (absent
	// or zero: never).
	Failed   map[string]error
	LastGood map[string]time.Time
}

// StaleFindings raises a staleness warning for each of accounts whose fetch
// failed and whose last good fetch is older than s.After (or that never had
// one): its budgets and anomaly checks are paused, not resolved.
func StaleFindings(accounts []cost.Account, s Staleness) []cost.Finding {
	var out []cost.Finding
	for _, acc := range accounts {
		ferr, bad := s.Failed[acc.ID]
		if !bad {
			continue
		}
		last := s.LastGood[acc.ID]
		if !last.IsZero() && s.Now.Sub(last) < s.After {
			continue
		}
		since := "never fetched successfully"
		if !last.IsZero() {
			since = "last good data " + s.Now.Sub(last).Round(time.Minute).String() + " ago (" + last.UTC().Format(time.RFC3339) + ")"
		}
		out = append(out, cost.Finding{
			Kind:      cost.KindStale,
			Rule:      StaleRule,
			Scope:     cost.Scope{Account: acc.ID, AccountName: acc.Name},
			Threshold: "stale",
			Severity:  cost.SeverityWarning,
			Title:     fmt.Sprintf("No fresh billing data for %s", acc.Name),
			Summary: fmt.Sprintf("Fetching account %s (%s) failed: %s. %s. Budgets and anomaly checks for it are paused, not resolved.",
				acc.Name, acc.ID, cost.OneLine(ferr), since),
		})
	}
	return out
}
