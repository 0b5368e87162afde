package alert

import (
	"github.com/prometheus/alertmanager/pkg/labels"

	"github.com/costbot/costbot/internal/cost"
)

// Labels returns the labels silences, inhibition rules and routes match f
// against: cost.Labels, the same set the webhook payload sends.
func Labels(f cost.Finding) map[string]string { return cost.Labels(f) }

// AlertName returns the Alertmanager alertname for a kind (cost.AlertName).
func AlertName(k cost.Kind) string { return cost.AlertName(k) }

// matches reports whether every matcher matches l; a label l lacks is "".
func matches(ms labels.Matchers, l map[string]string) bool {
	for _, m := range ms {
		if !m.Matches(l[m.Name]) {
			return false
		}
	}
	return true
}
