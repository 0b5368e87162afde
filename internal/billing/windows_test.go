package billing_test

import (
	"context"
	"net/http/httptest"
	"reflect"
	"slices"
	"testing"

	"github.com/costbot/costbot/internal/billing"
	"github.com/costbot/costbot/internal/billing/fakecf"
	"github.com/costbot/costbot/internal/cost"
)

// TestClient_Windows: a range splits into the account's billing periods
// (PayGo) or 30-day chunks (FOCUS); Usage over each window sends one usage
// request, each PayGo billing period is asked for once, and the windows'
// rows together are one Usage of the range.
func TestClient_Windows(t *testing.T) {
	var days []fakecf.Day
	for d := day("2026-08-20"); d.Before(day("2026-12-01")); d = d.AddDate(0, 0, 1) {
		days = append(days, fakecf.Day{Service: "Workers Standard", Family: "Workers", Day: d, Cost: 1, Quantity: 1, Unit: "Requests"})
	}
	rng := cost.Period{Start: day("2026-09-02"), End: day("2026-12-01")}
	for _, tc := range []struct {
		name   string
		source billing.Source
		anchor string
		want   []cost.Period
	}{
		{"OK/paygoAnchor15", billing.SourcePayGo, "2025-01-15", []cost.Period{period("2026-09-02", "2026-09-15"),
			period("2026-09-15", "2026-10-15"), period("2026-10-15", "2026-11-15"), period("2026-11-15", "2026-12-01")}},
		{"OK/paygoAnchor1", billing.SourcePayGo, "2025-01-01", []cost.Period{period("2026-09-02", "2026-10-01"),
			period("2026-10-01", "2026-11-01"), period("2026-11-01", "2026-12-01")}},
		{"OK/focus", billing.SourceFocus, "2025-01-15", []cost.Period{period("2026-09-02", "2026-10-02"),
			period("2026-10-02", "2026-11-01"), period("2026-11-01", "2026-12-01")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := fakecf.New(fakecf.Account{ID: acctID, Name: "production", Anchor: day(tc.anchor), Days: days})
			ts := httptest.NewServer(srv)
			defer ts.Close()
			c := newClient(t, ts.URL)
			ctx := context.Background()
			ws, err := c.Windows(ctx, acct, tc.source, rng)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(ws, tc.want) {
				t.Fatalf("Windows = %v, want %v", ws, tc.want)
			}
			before := len(srv.Requests())
			var stepped []cost.Usage
			for _, w := range ws {
				us, err := c.Usage(ctx, acct, tc.source, w)
				if err != nil {
					t.Fatal(err)
				}
				stepped = append(stepped, us...)
			}
			var froms []string
			for _, r := range srv.Requests()[before:] {
				if f := r.Query.Get("from"); f != "" { // a usage request, not the anchor's
					froms = append(froms, f)
				}
			}
			if len(froms) != len(ws) {
				t.Errorf("%d usage requests for %d windows: from %v", len(froms), len(ws), froms)
			}
			if slices.Sort(froms); len(slices.Compact(slices.Clone(froms))) != len(froms) {
				t.Errorf("a period was asked for twice: from %v", froms)
			}
			whole, err := c.Usage(ctx, acct, tc.source, rng)
			if err != nil {
				t.Fatal(err)
			}
			if len(whole) != 90 || !reflect.DeepEqual(stepped, whole) {
				t.Errorf("windows gave %d rows, one Usage %d (want 90; equal: %v)", len(stepped), len(whole), reflect.DeepEqual(stepped, whole))
			}
		})
	}
	t.Run("ErrSource", func(t *testing.T) {
		if _, err := newClient(t, "http://127.0.0.1:1").Windows(context.Background(), acct, billing.Source(99), rng); err == nil {
			t.Fatal("Windows with an invalid source: no error")
		}
	})
}
