package store

import (
	"bytes"
	"math"
	"testing"
	"time"

	"github.com/costbot/costbot/internal/cost"
)

// findingSeeds are findings as the cycle stores them: a budget crossing, an
// anomaly whose chart holds NaN for unknown days, a card and a stale warning.
func findingSeeds(tb testing.TB) [][]byte {
	day := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	period := cost.Period{Start: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	fs := []cost.Finding{
		{Kind: cost.KindBudget, Rule: "workers", Scope: cost.Scope{Account: "0123456789abcdef0123456789abcdef", Family: "Workers*"}, Period: period,
			Threshold: "actual>=80%", Severity: cost.SeverityWarning, Notifiers: []string{"finops"}, Title: "Workers at 84% of $250.00",
			Currency: "USD", Actual: 210.37, Budget: 250, Limit: 200, Forecast: 301.2, CrossDate: day},
		{Kind: cost.KindAnomaly, Rule: "spikes", Scope: cost.Scope{Account: "0123456789abcdef0123456789abcdef", Service: "R2 Class A Operations"}, Period: cost.Period{Start: day, End: day.AddDate(0, 0, 1)},
			Threshold: "anomaly", Severity: cost.SeverityCritical, Title: "R2 Class A Operations spiked", Currency: "USD",
			Anomaly: &cost.AnomalyDetail{Expected: 4.1, Observed: 101.3, Sigma: 2.2, Impact: 97.2, Score: math.Inf(1), Detector: "ensemble", Since: day, Day: day},
			Chart:   &cost.Chart{Title: "daily cost", Days: []time.Time{day.AddDate(0, 0, -1), day}, Values: []float64{math.NaN(), 101.3}, Reference: []float64{4, 4.1}, ReferenceLabel: "expected"}},
		{Kind: cost.KindCardExpiry, Rule: "card", Scope: cost.Scope{Account: "0123456789abcdef0123456789abcdef"}, Threshold: "card<=7d", Severity: cost.SeverityWarning,
			Card: &cost.CardDetail{Masked: "************4242", ExpiresAt: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), DaysLeft: 6}},
		{Kind: cost.KindStale, Rule: "data-freshness", Scope: cost.Scope{Account: "0123456789abcdef0123456789abcdef"}, Threshold: "stale", Severity: cost.SeverityWarning, Clear: "fresh data"},
		{}, // unset kind and severity are stored by number
	}
	var out [][]byte
	for _, f := range fs {
		b, err := encodeFinding(f)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, b)
	}
	return append(out, []byte(`{"kind":"budget","severity":"9","actual":"NaN","budget":"-Inf","anomaly":{"score":"1e400"}}`),
		[]byte(`{"kind":"no-such-kind"}`), []byte(`{"actual":"\"1\""}`), []byte(`[]`), []byte(`null`))
}

// FuzzDecodeFinding decodes any stored finding: it never panics, and what
// decodes encodes again and decodes to the same encoding (NaN and ±Inf
// included), so a finding survives any number of restarts unchanged.
func FuzzDecodeFinding(f *testing.F) {
	for _, s := range findingSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fd, err := decodeFinding(b)
		if err != nil {
			return
		}
		e1, err := encodeFinding(fd)
		if err != nil {
			t.Fatalf("decoded %s but cannot encode it: %v", b, err)
		}
		fd2, err := decodeFinding(e1)
		if err != nil {
			t.Fatalf("cannot decode its own encoding %s: %v", e1, err)
		}
		e2, err := encodeFinding(fd2)
		if err != nil || !bytes.Equal(e1, e2) {
			t.Fatalf("round trip changed the finding:\n%s\n%s (%v)", e1, e2, err)
		}
	})
}
