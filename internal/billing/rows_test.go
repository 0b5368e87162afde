package billing_test

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"testing"

	"github.com/costbot/costbot/internal/billing"
	"github.com/costbot/costbot/internal/cost"
)

// usageBody is a v4 envelope holding one row per service, with cost the raw
// JSON of that row's cost fields.
func usageBody(source billing.Source, costs ...string) []byte {
	var rows []string
	for i, c := range costs {
		name := fmt.Sprintf("Service %d", i)
		if source == billing.SourceFocus {
			rows = append(rows, fmt.Sprintf(`{"x_BillableMetricId":"m%d","x_BillableMetricName":%q,"ChargePeriodStart":"2026-07-01T00:00:00Z",`+
				`"BillingPeriodStart":"2026-07-01T00:00:00Z","BillingPeriodEnd":"2026-08-01T00:00:00Z","BillingCurrency":"USD",%s}`, i, name, c))
		} else {
			rows = append(rows, fmt.Sprintf(`{"ServiceName":%q,"ChargePeriodStart":"2026-07-01T00:00:00Z","BillingPeriodStart":"2026-07-01T00:00:00Z","BillingCurrency":"USD",%s}`, name, c))
		}
	}
	return []byte(`{"success":true,"errors":[],"messages":[],"result":[` + strings.Join(rows, ",") + `]}`)
}

// TestClient_Usage_RejectsOutOfRangeCost: a row whose cost is not a finite
// number or is beyond ±1e12 is dropped with a warning naming its row and
// field; the rows around it are kept. Before, -1e308 was accepted (sums
// went to -Inf) and "1e400" failed the whole response.
func TestClient_Usage_RejectsOutOfRangeCost(t *testing.T) {
	tests := []struct {
		name   string
		source billing.Source
		bad    string // cost fields of the middle row
		field  string // field named in the warning; "" when the row is kept
		cost   float64
	}{
		{"ErrRejected/FocusHuge", billing.SourceFocus, `"BilledCost":1e308`, "BilledCost", 0},
		{"ErrRejected/FocusHugeNegative", billing.SourceFocus, `"BilledCost":-1e308`, "BilledCost", 0},
		{"ErrRejected/FocusOverflow", billing.SourceFocus, `"BilledCost":"1e400"`, "BilledCost", 0},
		{"ErrRejected/FocusNaN", billing.SourceFocus, `"BilledCost":"NaN"`, "BilledCost", 0},
		{"ErrRejected/FocusInfinity", billing.SourceFocus, `"BilledCost":"-Infinity"`, "BilledCost", 0},
		{"ErrRejected/FocusJustOver", billing.SourceFocus, `"BilledCost":1000000000001`, "BilledCost", 0},
		{"OK/FocusAtLimit", billing.SourceFocus, `"BilledCost":1e12`, "", 1e12},
		{"OK/FocusCredit", billing.SourceFocus, `"BilledCost":-12.5`, "", -12.5},
		{"OK/FocusTiny", billing.SourceFocus, `"BilledCost":1e-320`, "", 1e-320},
		{"ErrRejected/PayGoContracted", billing.SourcePayGo, `"ContractedCost":-1e308,"BilledCost":1`, "ContractedCost", 0},
		{"ErrRejected/PayGoBilledOnly", billing.SourcePayGo, `"BilledCost":"1e400"`, "BilledCost", 0},
		{"OK/PayGoBadBilledUnused", billing.SourcePayGo, `"ContractedCost":3,"BilledCost":"1e400"`, "", 3},
		// PostgreSQL's text holds no NUL: such a row would fail every save.
		{"ErrRejected/FocusNULInUnit", billing.SourceFocus, `"BilledCost":1,"ConsumedUnit":"req\u0000uests"`, "ConsumedUnit", 0},
		{"ErrRejected/PayGoNULInZone", billing.SourcePayGo, `"ContractedCost":1,"ZoneName":"a\u0000.com"`, "ZoneName", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := usageBody(tt.source, `"BilledCost":1,"ContractedCost":1`, tt.bad, `"BilledCost":2,"ContractedCost":2`)
			var srvStubs []*stub
			if tt.source == billing.SourceFocus {
				srvStubs = append(srvStubs, &stub{path: base + "/billable/usage", status: 200, body: body})
			} else {
				srvStubs = append(srvStubs,
					&stub{path: base + "/billable-usage/info", status: 200, body: fixture(t, "paygo-usage-info.200.json")},
					&stub{path: base + "/billable-usage", status: 200, body: body})
			}
			srv := stubServer(t, srvStubs...)
			logs := &logBuffer{}
			c := newClient(t, srv.URL, func(o *billing.Options) { o.Logger = slog.New(slog.NewTextHandler(logs, nil)) })
			got, err := c.Usage(context.Background(), acct, tt.source, period("2026-07-01", "2026-07-02"))
			if err != nil {
				t.Fatalf("Usage() = %v, want the other rows", err)
			}
			services := map[string]cost.Usage{}
			for _, u := range got {
				services[u.Service] = u
				if math.IsInf(u.Cost, 0) || math.IsNaN(u.Cost) || math.Abs(u.Cost) > billing.MaxAbsCost {
					t.Errorf("row %s kept with cost %g", u.Service, u.Cost)
				}
			}
			if _, ok := services["Service 0"]; !ok {
				t.Errorf("row 0 dropped: %+v", got)
			}
			if _, ok := services["Service 2"]; !ok {
				t.Errorf("row 2 dropped: %+v", got)
			}
			mid, kept := services["Service 1"]
			if tt.field == "" {
				if !kept || mid.Cost != tt.cost || !mid.CostKnown {
					t.Errorf("row 1 = %+v (kept %v), want cost %g", mid, kept, tt.cost)
				}
				if strings.Contains(logs.String(), "rejected") {
					t.Errorf("unexpected warning:\n%s", logs)
				}
				return
			}
			if kept {
				t.Errorf("row 1 kept: %+v", mid)
			}
			out := logs.String()
			for _, want := range []string{"level=WARN", `msg="billing row rejected"`, "row=1", "field=" + tt.field, "error=", acctID} {
				if !strings.Contains(out, want) {
					t.Errorf("log lacks %q:\n%s", want, out)
				}
			}
		})
	}
}
