package billing_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/costbot/costbot/internal/billing"
)

// TestClient_Usage_StreamsLargeBody: a usage body over 64 MiB decodes (it
// failed every cycle as "malformed envelope" when the body was cut at 64
// MiB), and the client allocates a fraction of it: the body is decoded as it
// arrives, never held.
func TestClient_Usage_StreamsLargeBody(t *testing.T) {
	const rows = 1100
	pad := strings.Repeat("x", 64<<10) // an unknown column of 64 KiB per row
	var written int64
	srv := stubServer(t)
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != base+"/billable/usage" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		var b bytes.Buffer
		b.WriteString(`{"success":true,"errors":[],"messages":[],"result":[`)
		for i := range rows {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"x_BillableMetricId":"m%d","x_BillableMetricName":"Metric %d","ChargePeriodStart":"2026-07-01T00:00:00Z",`+
				`"ChargePeriodEnd":"2026-07-02T00:00:00Z","BillingCurrency":"USD","BilledCost":1.5,"ChargeDescription":"`, i, i)
			b.WriteString(pad) // not through fmt, which allocates a buffer per call this large
			b.WriteString(`"}`)
			if b.Len() > 1<<20 {
				n, _ := w.Write(b.Bytes())
				written += int64(n)
				b.Reset()
			}
		}
		b.WriteString(`]}`)
		n, _ := w.Write(b.Bytes())
		written += int64(n)
	})
	c := newClient(t, srv.URL)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	got, err := c.Usage(context.Background(), acct, billing.SourceFocus, period("2026-07-01", "2026-07-02"))
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatalf("Usage() = %v", err)
	}
	if len(got) != rows || got[0].Cost != 1.5 || got[0].Currency != "USD" {
		t.Fatalf("%d rows (want %d), first %+v", len(got), rows, got[0])
	}
	if written <= 64<<20 {
		t.Fatalf("body is %d bytes, want more than 64 MiB", written)
	}
	// Server and client share the process; both stream.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > uint64(written)/4 {
		t.Errorf("allocated %d bytes for a %d-byte body, want at most a quarter of it", alloc, written)
	} else {
		t.Logf("allocated %d bytes for a %d-byte body", alloc, written)
	}
}

// TestClient_Usage_BadRowKeepsPath: a path that answers with a bad row is
// still the path that works, as when rows were decoded after the request:
// the next call starts there instead of at the 404 before it.
func TestClient_Usage_BadRowKeepsPath(t *testing.T) {
	old := notFound(base + "/old-usage")
	bad := &stub{path: base + "/billable/usage", status: 200,
		body: []byte(`{"success":true,"errors":[],"messages":[],"result":[{"x_BillableMetricId":"a","ChargePeriodStart":"yesterday"}]}`)}
	srv := stubServer(t, old, bad)
	c := newClient(t, srv.URL, func(o *billing.Options) {
		o.Paths.Focus = []string{"/accounts/{account_id}/old-usage", "/accounts/{account_id}/billable/usage"}
	})
	for range 2 {
		if _, err := c.Usage(context.Background(), acct, billing.SourceFocus, period("2026-07-01", "2026-07-02")); err == nil {
			t.Fatal("bad row accepted")
		}
	}
	if old.Hits() != 1 || bad.Hits() != 2 {
		t.Errorf("hits: 404 path %d, answering path %d; want 1 and 2", old.Hits(), bad.Hits())
	}
}

// BenchmarkClient_Usage fetches 20,000 v2 rows (the fixture's rows cycled,
// compact) through an httptest server and the client: decoding plus what
// the client does per row (rejected rows, the day filter, de-duplication,
// cost.Usage, sorting). Compare rows/cpu-s with BenchmarkDecode/Stream.
func BenchmarkClient_Usage(b *testing.B) {
	var env struct{ Result []json.RawMessage }
	if err := json.Unmarshal(fixture(b, "billable-usage-v2.2026-06-25_2026-07-25.200.json"), &env); err != nil {
		b.Fatal(err)
	}
	body := bytes.NewBufferString(`{"success":true,"errors":[],"messages":[],"result":[`)
	const n = 20000
	for i := range n {
		if i > 0 {
			body.WriteByte(',')
		}
		if err := json.Compact(body, env.Result[i%len(env.Result)]); err != nil {
			b.Fatal(err)
		}
	}
	body.WriteString(`]}`)
	srv := stubServer(b, &stub{path: base + "/billable/usage", status: 200, body: body.Bytes()})
	c := newClient(b, srv.URL)
	b.SetBytes(int64(body.Len()))
	var got int
	for b.Loop() {
		u, err := c.Usage(context.Background(), acct, billing.SourceFocus, period("2026-06-25", "2026-07-25"))
		if err != nil {
			b.Fatal(err)
		}
		got += len(u)
	}
	b.ReportMetric(float64(got)/b.Elapsed().Seconds(), "rows/s")
}
