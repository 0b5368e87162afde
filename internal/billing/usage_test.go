package billing_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/costbot/costbot/internal/billing"
	"github.com/costbot/costbot/internal/cost"
)

type expectedTotals struct {
	V2ByBillingPeriodStart map[string]float64 `json:"v2_billed_by_billing_period_start"`
	V2ByChargeMonth        map[string]float64 `json:"v2_billed_by_charge_month"`
	V1ByBillingPeriod      map[string]float64 `json:"v1_cost_by_billing_period"`
	V1ByService202607      map[string]float64 `json:"v1_cost_by_service_2026_07"`
	Correction             struct {
		BilledCost         float64
		ChargePeriodStart  time.Time
		BillingPeriodStart time.Time
	} `json:"correction"`
	RowCounts map[string]int `json:"row_counts"`
}

func loadExpected(tb testing.TB) expectedTotals {
	tb.Helper()
	var e expectedTotals
	if err := json.Unmarshal(fixture(tb, "expected-totals.json"), &e); err != nil {
		tb.Fatal(err)
	}
	return e
}

const base = "/accounts/" + acctID

func TestClient_Usage_PayGo(t *testing.T) {
	want := loadExpected(t)
	usage := fixture(t, "paygo-usage.200.json")
	newest := notFound(base + "/billable-usage")
	info := &stub{path: base + "/paygo-usage-info", status: 200, body: fixture(t, "paygo-usage-info.200.json")}
	srv := stubServer(t,
		notFound(base+"/billable-usage/info"), info, newest,
		// v1 needs ranges that contain the anchor day (the 1st): one call per billing period.
		&stub{path: base + "/paygo-usage", query: q("2026-06-01", "2026-06-30"), status: 200, body: usage},
		&stub{path: base + "/paygo-usage", query: q("2026-07-01", "2026-07-31"), status: 200, body: usage},
		&stub{path: base + "/paygo-usage", query: q("2026-08-01", "2026-08-03"), status: 200, body: usage},
	)
	c := newClient(t, srv.URL)
	got, err := c.Usage(context.Background(), acct, billing.SourcePayGo, period("2026-06-25", "2026-08-04"))
	if err != nil {
		t.Fatal(err)
	}
	if n := want.RowCounts["paygo-usage.200.json"]; len(got) != n {
		t.Fatalf("rows = %d, want %d (rows repeated across calls must be deduplicated)", len(got), n)
	}
	if h := newest.Hits(); h != 1 {
		t.Errorf("404 path hit %d times, want 1 (the working path is remembered)", h)
	}
	byPeriod := map[string]float64{}
	byService := map[string]float64{}
	for _, u := range got {
		if !u.CostKnown || u.Currency != "USD" || u.Account != acctID || u.Correction {
			t.Fatalf("bad row %+v", u)
		}
		p := u.BillingPeriod
		wantEnd := time.Date(p.Start.Year(), p.Start.Month()+1, 1, 0, 0, 0, 0, time.UTC)
		if p.Start.Day() != 1 || !p.End.Equal(wantEnd) || !p.Contains(u.Day) {
			t.Fatalf("billing period %s for day %s", p, u.Day)
		}
		byPeriod[p.Start.Format("2006-01-02")] += u.Cost
		if p.Start.Equal(day("2026-07-01")) {
			byService[u.Service] += u.Cost
		}
	}
	for k, v := range want.V1ByBillingPeriod {
		if round6(byPeriod[k]) != v {
			t.Errorf("v1 period %s = %.6f, want %v", k, byPeriod[k], v)
		}
	}
	for k, v := range want.V1ByService202607 {
		if round6(byService[k]) != v {
			t.Errorf("v1 July %s = %.6f, want %v", k, byService[k], v)
		}
	}
	u := got[0]
	if u.Service != "D1 Rows Read" || u.Family != "D1" || u.Unit != "Rows" || u.Quantity != 175804565 || !u.Day.Equal(day("2026-06-25")) {
		t.Errorf("first row = %+v", u)
	}
}

func TestClient_Usage_PayGoFiltersToDays(t *testing.T) {
	usage := fixture(t, "paygo-usage.200.json")
	srv := stubServer(t,
		&stub{path: base + "/billable-usage/info", status: 200, body: fixture(t, "paygo-usage-info.200.json")},
		&stub{path: base + "/billable-usage", query: q("2026-07-01", "2026-07-11"), status: 200, body: usage},
	)
	got, err := newClient(t, srv.URL).Usage(context.Background(), acct, billing.SourcePayGo, period("2026-07-10", "2026-07-12"))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 8 {
		t.Fatalf("rows = %d, want 8", len(got))
	}
	for _, u := range got {
		if u.Day.Before(day("2026-07-10")) || !u.Day.Before(day("2026-07-12")) {
			t.Errorf("row outside days: %s", u.Day)
		}
	}
}

func TestClient_Usage_PayGoLegacyShape(t *testing.T) {
	legacy := fixture(t, "paygo-usage.legacy-v6.10.200.json")
	srv := stubServer(t,
		&stub{path: base + "/billable-usage/info", status: 200, body: fixture(t, "paygo-usage-info.200.json")},
		notFound(base+"/billable-usage"), notFound(base+"/paygo-usage"),
		&stub{path: base + "/billing/usage/paygo", query: q("2026-07-01", "2026-07-31"), status: 200, body: legacy},
		&stub{path: base + "/billing/usage/paygo", query: q("2026-08-01", "2026-08-02"), status: 200, body: legacy},
	)
	got, err := newClient(t, srv.URL).Usage(context.Background(), acct, billing.SourcePayGo, period("2026-07-30", "2026-08-03"))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 16 {
		t.Fatalf("rows = %d, want 16", len(got))
	}
	for _, u := range got {
		if u.Family != "" || u.Zone != "" || !u.CostKnown || u.Currency != "USD" {
			t.Errorf("row %+v", u)
		}
		wantStart := day("2026-07-01")
		if u.Day.Month() == time.August {
			wantStart = day("2026-08-01")
		}
		if !u.BillingPeriod.Start.Equal(wantStart) || !u.BillingPeriod.End.Equal(wantStart.AddDate(0, 1, 0)) {
			t.Errorf("day %s: billing period %s", u.Day, u.BillingPeriod)
		}
	}
}

func TestClient_Usage_PayGoEmpty(t *testing.T) {
	srv := stubServer(t,
		&stub{path: base + "/billable-usage/info", status: 200, body: fixture(t, "paygo-usage-info.200.json")},
		&stub{path: base + "/billable-usage", status: 200, body: fixture(t, "paygo-usage.empty.200.json")},
	)
	got, err := newClient(t, srv.URL).Usage(context.Background(), acct, billing.SourcePayGo, period("2026-07-05", "2026-07-20"))
	if err != nil || len(got) != 0 {
		t.Fatalf("got %d rows, err %v; want none", len(got), err)
	}
}

func TestClient_Usage_Focus(t *testing.T) {
	want := loadExpected(t)
	w1 := "billable-usage-v2.2026-06-25_2026-07-25.200.json"
	w2 := "billable-usage-v2.2026-07-25_2026-08-04.200.json"
	srv := stubServer(t,
		&stub{path: base + "/billable/usage", query: q("2026-06-25", "2026-07-25"), status: 200, body: fixture(t, w1)},
		&stub{path: base + "/billable/usage", query: q("2026-07-25", "2026-08-04"), status: 200, body: fixture(t, w2)},
	)
	got, err := newClient(t, srv.URL).Usage(context.Background(), acct, billing.SourceFocus, period("2026-06-25", "2026-08-04"))
	if err != nil {
		t.Fatal(err)
	}
	if n := want.RowCounts[w1] + want.RowCounts[w2]; len(got) != n {
		t.Fatalf("rows = %d, want %d", len(got), n)
	}
	byBilling := map[string]float64{}
	byCharge := map[string]float64{}
	corrections := 0
	for _, u := range got {
		if !u.CostKnown || u.Currency != "USD" || u.Family == "" {
			t.Fatalf("bad row %+v", u)
		}
		byBilling[u.BillingPeriod.Start.Format("2006-01-02")] += u.Cost
		byCharge[u.Day.Format("2006-01")] += u.Cost
		if u.Correction {
			corrections++
			c := want.Correction
			if u.Cost != c.BilledCost || !u.Day.Equal(c.ChargePeriodStart) || !u.BillingPeriod.Start.Equal(c.BillingPeriodStart) ||
				!u.BillingPeriod.End.Equal(day("2026-08-01")) || u.Service != "R2 Class A Operations" || u.Family != "R2" {
				t.Errorf("correction row = %+v", u)
			}
		}
	}
	if corrections != 1 {
		t.Errorf("corrections = %d, want 1", corrections)
	}
	for k, v := range want.V2ByBillingPeriodStart {
		if round6(byBilling[k]) != v {
			t.Errorf("by billing period %s = %.6f, want %v", k, byBilling[k], v)
		}
	}
	for k, v := range want.V2ByChargeMonth {
		if round6(byCharge[k]) != v {
			t.Errorf("by charge month %s = %.6f, want %v", k, byCharge[k], v)
		}
	}
}

func TestClient_Usage_FocusSplitsAndDedupes(t *testing.T) {
	// 70 days need three calls of at most 31 days; the fake answers every
	// call with the same window, so overlapping rows must be dropped.
	body := fixture(t, "billable-usage-v2.2026-07-25_2026-08-04.200.json")
	var calls []string
	srv := stubServer(t, &stub{path: base + "/billable/usage", status: 200, body: body})
	c := newClient(t, srv.URL, func(o *billing.Options) {
		o.HTTPClient = &http.Client{Transport: recordTransport(&calls)}
	})
	got, err := c.Usage(context.Background(), acct, billing.SourceFocus, period("2026-06-01", "2026-08-10"))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 40 {
		t.Errorf("rows = %d, want 40", len(got))
	}
	if len(calls) != 3 {
		t.Fatalf("calls = %v, want 3", calls)
	}
	prevTo := "2026-06-01"
	for _, raw := range calls {
		from, to := parseRange(t, raw)
		if from != prevTo {
			t.Errorf("call %s does not continue at %s", raw, prevTo)
		}
		if d := day(to).Sub(day(from)); d <= 0 || d > 31*24*time.Hour {
			t.Errorf("call %s spans %s", raw, d)
		}
		prevTo = to
	}
	if prevTo != "2026-08-10" {
		t.Errorf("last call ends %s", prevTo)
	}
}

func TestClient_Usage_FocusUsageOnly(t *testing.T) {
	srv := stubServer(t, &stub{path: base + "/billable/usage", status: 200, body: fixture(t, "billable-usage-v2.usage-only.200.json")})
	got, err := newClient(t, srv.URL).Usage(context.Background(), acct, billing.SourceFocus, period("2026-07-30", "2026-08-02"))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 12 {
		t.Fatalf("rows = %d, want 12", len(got))
	}
	for _, u := range got {
		if u.CostKnown || u.Cost != 0 || u.Currency != "" {
			t.Errorf("missing cost must be unknown: %+v", u)
		}
		if u.Service == "" || u.Quantity == 0 || u.BillingPeriod.IsZero() {
			t.Errorf("row %+v", u)
		}
	}
}

func TestClient_Usage_Errors(t *testing.T) {
	tests := []struct {
		name      string
		source    billing.Source
		status    int
		file      string
		body      string
		header    map[string]string
		is        error
		code      int
		wantHits  int
		wantRetry time.Duration
	}{
		{name: "ErrUnauthorized403", source: billing.SourceFocus, status: 403, file: "error.403-auth.json", is: billing.ErrUnauthorized, code: 10000, wantHits: 1},
		{name: "ErrUnauthorized401", source: billing.SourceFocus, status: 401, body: `{"success":false,"errors":[],"messages":[],"result":null}`, is: billing.ErrUnauthorized, wantHits: 1},
		{name: "ErrInvalidRange400", source: billing.SourceFocus, status: 400, file: "error.400-invalid-range.json", code: 1183, wantHits: 1},
		{name: "ErrRateLimited429", source: billing.SourceFocus, status: 429, file: "error.429-rate-limited.json",
			header: map[string]string{"Retry-After": "127", "Ratelimit": `"default";r=0;t=127`}, is: billing.ErrRateLimited, code: 971, wantHits: 3, wantRetry: 127 * time.Second},
		{name: "ErrServer503", source: billing.SourceFocus, status: 503, body: `<html>upstream</html>`, wantHits: 3},
		{name: "ErrSuccessFalseOn200", source: billing.SourceFocus, status: 200, body: `{"success":false,"errors":[{"code":10000,"message":"Authentication error"}],"messages":[],"result":null}`, is: billing.ErrUnauthorized, code: 10000, wantHits: 1},
		{name: "ErrNotFound", source: billing.SourceFocus, status: 404, body: `{"success":false,"errors":[{"code":7003,"message":"no route"}],"result":null}`, is: billing.ErrNotFound, code: 7003, wantHits: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := []byte(tt.body)
			if tt.file != "" {
				body = fixture(t, tt.file)
			}
			s := &stub{path: base + "/billable/usage", status: tt.status, body: body, header: tt.header}
			srv := stubServer(t, s)
			c := newClient(t, srv.URL, func(o *billing.Options) { o.MaxRetries = 2 })
			start := time.Now()
			_, err := c.Usage(context.Background(), acct, tt.source, period("2026-07-01", "2026-07-05"))
			if elapsed := time.Since(start); elapsed > 2*time.Second {
				t.Errorf("took %s: Retry-After not capped by MaxRetryWait", elapsed)
			}
			var ae *billing.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v, want *APIError", err)
			}
			if ae.StatusCode != tt.status || ae.Path != base+"/billable/usage" {
				t.Errorf("APIError = %+v", ae)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.is)
			}
			for _, other := range []error{billing.ErrUnauthorized, billing.ErrRateLimited, billing.ErrNotFound} {
				if other != tt.is && errors.Is(err, other) {
					t.Errorf("error also matches %v", other)
				}
			}
			if tt.code != 0 && (len(ae.Codes) != 1 || ae.Codes[0] != tt.code) {
				t.Errorf("codes = %v, want [%d]", ae.Codes, tt.code)
			}
			if ae.RetryAfter != tt.wantRetry {
				t.Errorf("RetryAfter = %s, want %s", ae.RetryAfter, tt.wantRetry)
			}
			if h := s.Hits(); h != tt.wantHits {
				t.Errorf("hits = %d, want %d", h, tt.wantHits)
			}
		})
	}
}

func TestClient_Usage_DeadlineStopsRetryAfter(t *testing.T) {
	s := &stub{path: base + "/billable/usage", status: 429, body: fixture(t, "error.429-rate-limited.json"), header: map[string]string{"Retry-After": "127"}}
	srv := stubServer(t, s)
	c := newClient(t, srv.URL, func(o *billing.Options) { o.MaxRetryWait = time.Hour })
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	start := time.Now()
	_, err := c.Usage(ctx, acct, billing.SourceFocus, period("2026-07-01", "2026-07-05"))
	if !errors.Is(err, billing.ErrRateLimited) {
		t.Fatalf("err = %v, want ErrRateLimited", err)
	}
	if time.Since(start) > 2*time.Second || s.Hits() != 1 {
		t.Errorf("waited %s with %d hits; a wait past the deadline must not start", time.Since(start), s.Hits())
	}
}

func TestClient_Usage_RetriesTransportErrors(t *testing.T) {
	var n atomic.Int32
	srv := stubServer(t)
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			panic(http.ErrAbortHandler) // drop the connection
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(fixture(t, "billable-usage-v2.usage-only.200.json"))
	})
	got, err := newClient(t, srv.URL).Usage(context.Background(), acct, billing.SourceFocus, period("2026-07-30", "2026-08-02"))
	if err != nil || len(got) != 12 || n.Load() != 2 {
		t.Fatalf("rows %d, calls %d, err %v", len(got), n.Load(), err)
	}
}

func TestClient_Usage_DecodeErrors(t *testing.T) {
	tests := []struct {
		name   string
		source billing.Source
		result string
		row    int
		field  string
	}{
		{"ErrBadCost", billing.SourceFocus, `[{"x_BillableMetricId":"a","ChargePeriodStart":"2026-07-01T00:00:00Z"},{"x_BillableMetricId":"b","ChargePeriodStart":"2026-07-01T00:00:00Z","BilledCost":"lots"}]`, 1, "BilledCost"},
		{"ErrBadTime", billing.SourceFocus, `[{"x_BillableMetricId":"a","ChargePeriodStart":"yesterday"}]`, 0, "ChargePeriodStart"},
		{"ErrMissingMetric", billing.SourceFocus, `[{"ChargePeriodStart":"2026-07-01T00:00:00Z"}]`, 0, "x_BillableMetricName"},
		{"ErrRowNotObject", billing.SourceFocus, `[{"x_BillableMetricId":"a","ChargePeriodStart":"2026-07-01T00:00:00Z"}, 7]`, 1, ""},
		{"ErrResultNotArray", billing.SourceFocus, `{"rows":[]}`, -1, "result"},
		{"ErrV1MissingService", billing.SourcePayGo, `[{"ChargePeriodStart":"2026-07-01T00:00:00Z","ContractedCost":1}]`, 0, "ServiceName"},
		{"ErrV1BadQuantity", billing.SourcePayGo, `[{"ServiceName":"x","ChargePeriodStart":"2026-07-01T00:00:00Z","ConsumedQuantity":[1]}]`, 0, "ConsumedQuantity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := []byte(`{"success":true,"errors":[],"messages":[],"result":` + tt.result + `}`)
			path := base + "/billable/usage"
			stubs := []*stub{}
			if tt.source == billing.SourcePayGo {
				path = base + "/billable-usage"
				stubs = append(stubs, &stub{path: base + "/billable-usage/info", status: 200, body: fixture(t, "paygo-usage-info.200.json")})
			}
			stubs = append(stubs, &stub{path: path, status: 200, body: body})
			srv := stubServer(t, stubs...)
			_, err := newClient(t, srv.URL).Usage(context.Background(), acct, tt.source, period("2026-07-01", "2026-07-02"))
			var de *billing.DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("err = %v, want *DecodeError", err)
			}
			if de.Account != acctID || de.Path != path || de.Row != tt.row || de.Field != tt.field {
				t.Errorf("DecodeError = %+v", de)
			}
			t.Log(err)
		})
	}
	t.Run("ErrMalformedEnvelope", func(t *testing.T) {
		srv := stubServer(t, &stub{path: base + "/billable/usage", status: 200, body: []byte(`{"success":true,"result":[`)})
		_, err := newClient(t, srv.URL).Usage(context.Background(), acct, billing.SourceFocus, period("2026-07-01", "2026-07-02"))
		var de *billing.DecodeError
		if !errors.As(err, &de) || de.Account != acctID || de.Path != base+"/billable/usage" {
			t.Fatalf("err = %v, want *DecodeError naming account and path", err)
		}
	})
}

func TestClient_Usage_InvalidInput(t *testing.T) {
	c := newClient(t, "http://127.0.0.1:1")
	ctx := context.Background()
	if _, err := c.Usage(ctx, acct, billing.Source(0), period("2026-07-01", "2026-07-02")); err == nil {
		t.Error("invalid source accepted")
	}
	if _, err := c.Usage(ctx, acct, billing.SourceFocus, period("2026-07-02", "2026-07-02")); err == nil {
		t.Error("empty period accepted")
	}
	if _, err := c.Usage(ctx, cost.Account{}, billing.SourceFocus, period("2026-07-01", "2026-07-02")); err == nil {
		t.Error("empty account accepted")
	}
}

func TestClient_Usage_CancelDuringWait(t *testing.T) {
	s := &stub{path: base + "/billable/usage", status: 429, body: fixture(t, "error.429-rate-limited.json"), header: map[string]string{"Retry-After": "127"}}
	srv := stubServer(t, s)
	c := newClient(t, srv.URL, func(o *billing.Options) { o.MaxRetryWait = time.Hour })
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	_, err := c.Usage(ctx, acct, billing.SourceFocus, period("2026-07-01", "2026-07-05"))
	if !errors.Is(err, context.Canceled) || !errors.Is(err, billing.ErrRateLimited) {
		t.Fatalf("err = %v, want context.Canceled carrying the last ErrRateLimited", err)
	}
}
