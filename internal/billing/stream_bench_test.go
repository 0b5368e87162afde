package billing

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/costbot/costbot/internal/billing/fakecf"
	"github.com/costbot/costbot/internal/cputime"
)

// benchRows returns the rows of the v2 fixture with costs, compacted (the
// API sends compact JSON), and the envelope's head and tail.
func benchRows(tb testing.TB) (rows [][]byte, head, tail []byte) {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "billable-usage-v2.2026-06-25_2026-07-25.200.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var env struct{ Result []json.RawMessage }
	if err := json.Unmarshal(b, &env); err != nil {
		tb.Fatal(err)
	}
	for _, r := range env.Result {
		var c bytes.Buffer
		if err := json.Compact(&c, r); err != nil {
			tb.Fatal(err)
		}
		rows = append(rows, c.Bytes())
	}
	return rows, []byte(`{"success":true,"errors":[],"messages":[],"result":[`), []byte(`]}`)
}

// benchBody is an envelope of n fixture rows, cycled.
func benchBody(tb testing.TB, n int) []byte {
	rows, head, tail := benchRows(tb)
	body := bytes.Clone(head)
	for i := range n {
		if i > 0 {
			body = append(body, ',')
		}
		body = append(body, rows[i%len(rows)]...)
	}
	return append(body, tail...)
}

// bodyReader writes an envelope of n fixture rows as it is read, so a test
// can decode a body that is never in memory.
type bodyReader struct {
	rows       [][]byte
	head, tail []byte
	n, i       int
	pending    []byte
	size       int64
}

func newBodyReader(tb testing.TB, n int) *bodyReader {
	rows, head, tail := benchRows(tb)
	return &bodyReader{rows: rows, head: head, tail: tail, n: n, pending: head}
}

func (r *bodyReader) Read(p []byte) (int, error) {
	total := 0
	for len(p) > 0 {
		if len(r.pending) == 0 {
			switch {
			case r.i < r.n:
				r.pending = r.rows[r.i%len(r.rows)]
				if r.i > 0 {
					p[0] = ','
					p, total = p[1:], total+1
				}
				r.i++
				continue
			case r.i == r.n:
				r.pending, r.i = r.tail, r.i+1
			default:
				r.size += int64(total)
				if total == 0 {
					return 0, io.EOF
				}
				return total, nil
			}
		}
		n := copy(p, r.pending)
		r.pending, p, total = r.pending[n:], p[n:], total+n
	}
	r.size += int64(total)
	return total, nil
}

// peakHeap samples the live heap until stop is called and returns the
// largest value seen, in bytes.
func peakHeap() (stop func() uint64) {
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() {
		metrics.Read(sample)
		if v := sample[0].Value.Uint64(); v > peak.Load() {
			peak.Store(v)
		}
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				read()
			}
		}
	}()
	return func() uint64 {
		read()
		close(done)
		wg.Wait()
		return peak.Load()
	}
}

// smallRow is what plain encoding/json decodes in the baseline: the
// columns costbot reads, with no leniency and no normalization.
type smallRow struct {
	ChargePeriodStart, ChargePeriodEnd, BillingPeriodStart, BillingPeriodEnd string
	BillingCurrency, ConsumedUnit, ChargeCategory                            string
	ChargeClass                                                              *string
	ConsumedQuantity, BilledCost                                             float64
	MetricID                                                                 string `json:"x_BillableMetricId"`
	MetricName                                                               string `json:"x_BillableMetricName"`
	Family                                                                   string `json:"x_ProductFamilyName"`
	SubAccountID                                                             string `json:"SubAccountId"`
}

// payGoBody is a PayGo v1 answer as the fake Cloudflare sends it (indented,
// the newest row shape) and BenchmarkCycle decodes it: one billing period
// of days days for services services, days*services rows.
func payGoBody(tb testing.TB, services, days int) []byte {
	tb.Helper()
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	fams := []string{"Workers", "R2", "D1", "Queues", "Images", "Stream", "Argo", "Load Balancing"}
	acct := fakecf.Account{ID: "be0c0000be0c0000be0c0000be0c0000", Name: "acct-0"}
	for d := range days {
		for s := range services {
			acct.Days = append(acct.Days, fakecf.Day{Service: fmt.Sprintf("%s Service %d", fams[s%len(fams)], s),
				Family: fams[s%len(fams)], Day: start.AddDate(0, 0, d), Cost: float64(1+(s*7)%50) + float64(d%7)/10,
				Quantity: float64(1000 * (s + 1)), Unit: "requests"})
		}
	}
	rec := httptest.NewRecorder()
	q := fmt.Sprintf("?from=%s&to=%s", start.Format(time.DateOnly), start.AddDate(0, 0, days-1).Format(time.DateOnly))
	fakecf.New(acct).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/accounts/"+acct.ID+"/billable-usage"+q, nil))
	if rec.Code != http.StatusOK {
		tb.Fatalf("fake PayGo answer: %d %s", rec.Code, rec.Body.Bytes())
	}
	return rec.Body.Bytes()
}

// smallV1Row is the PayGo baseline's small struct: the v1 columns costbot
// reads.
type smallV1Row struct {
	ChargePeriodStart, ChargePeriodEnd, BillingPeriodStart string
	BillingCurrency, ConsumedUnit, ChargeCategory          string
	ChargeClass, ServiceFamilyName, ZoneName, ZoneID       *string
	ServiceName                                            string
	ConsumedQuantity, ContractedCost, BilledCost           float64
}

// BenchmarkDecode decodes a 20,000-row v2 body (16 MB) with the streaming
// decoder, the decoder it replaced, plain encoding/json into a small struct,
// encoding/json's Token() alone and a byte scan (bytes.Count of '{'), and
// a 20,000-row PayGo v1 body as the fake Cloudflare sends it to
// BenchmarkCycle (StreamPayGo, against PlainJSONPayGo), reporting rows/s
// (wall), rows/cpu-s (process CPU time, GC included: rows per core) and
// the peak heap above the body itself per payload byte of one decode
// (heap/payload, sampled each ms).
func BenchmarkDecode(b *testing.B) {
	const n = 20000
	body := benchBody(b, n)
	var indented bytes.Buffer // as the fixtures and the fake Cloudflare send it
	if err := json.Indent(&indented, body, "", "  "); err != nil {
		b.Fatal(err)
	}
	// The first cycle's shape: one PayGo billing period of 200 services,
	// 100 days of them (20,000 rows).
	payGo := payGoBody(b, 200, 100)
	cases := []struct {
		name string
		run  func(b *testing.B) int
		body []byte // the payload; body when nil
	}{
		{"Stream", func(b *testing.B) int {
			rows, err := decodeUsage(bytes.NewReader(body), MaxUsageBody, schemaV2, 200, http.Header{}, "/p", time.Now, nil)
			if err != nil {
				b.Fatal(err)
			}
			return len(rows)
		}, nil},
		{"StreamIndented", func(b *testing.B) int {
			rows, err := decodeUsage(bytes.NewReader(indented.Bytes()), MaxUsageBody, schemaV2, 200, http.Header{}, "/p", time.Now, nil)
			if err != nil {
				b.Fatal(err)
			}
			return len(rows)
		}, nil},
		{"StreamPayGo", func(b *testing.B) int {
			rows, err := decodeUsage(bytes.NewReader(payGo), MaxUsageBody, schemaV1, 200, http.Header{}, "/p", time.Now, nil)
			if err != nil {
				b.Fatal(err)
			}
			return len(rows)
		}, payGo},
		{"PlainJSONPayGo", func(b *testing.B) int {
			var env struct {
				Success bool
				Result  []smallV1Row
			}
			if err := json.Unmarshal(payGo, &env); err != nil {
				b.Fatal(err)
			}
			return len(env.Result)
		}, payGo},
		{"Reference", func(b *testing.B) int {
			rows, err := refDecode(body, schemaV2)
			if err != nil {
				b.Fatal(err)
			}
			return len(rows)
		}, nil},
		{"PlainJSON", func(b *testing.B) int {
			var env struct {
				Success bool
				Result  []smallRow
			}
			if err := json.Unmarshal(body, &env); err != nil {
				b.Fatal(err)
			}
			return len(env.Result)
		}, nil},
		{"Tokens", func(b *testing.B) int {
			// encoding/json.Decoder.Token over the body, building nothing:
			// the floor of a Token-based decoder.
			dec := json.NewDecoder(bytes.NewReader(body))
			for {
				if _, err := dec.Token(); err == io.EOF {
					break
				} else if err != nil {
					b.Fatal(err)
				}
			}
			return n
		}, nil},
		{"ByteScan", func(b *testing.B) int {
			return bytes.Count(body, []byte{'{'}) - 1
		}, nil},
	}
	for _, c := range cases {
		payload, want := body, n
		if c.body != nil {
			payload, want = c.body, c.run(b)
		}
		b.Run(c.name, func(b *testing.B) {
			// The peak of one decode from a collected heap, before
			// timing (in the loop it would include earlier garbage).
			runtime.GC()
			base := heapObjects()
			stop := peakHeap()
			c.run(b)
			peak := stop()
			b.SetBytes(int64(len(payload)))
			b.ResetTimer()
			rows := 0
			cpu0 := cputime.Process()
			for b.Loop() {
				rows += c.run(b)
			}
			cpu := cputime.Process() - cpu0
			b.StopTimer()
			if rows != want*b.N {
				b.Fatalf("decoded %d rows, want %d", rows, want*b.N)
			}
			b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
			if cpu > 0 {
				b.ReportMetric(float64(rows)/cpu.Seconds(), "rows/cpu-s")
			}
			b.ReportMetric(float64(peak-min(base, peak))/float64(len(payload)), "heap/payload")
		})
	}
}

func heapObjects() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// BenchmarkDecode_1MRows streams a body of 1,000,000 v2 rows (about 800 MB,
// generated as it is read, never in memory) through the decoder and reports
// the peak heap per payload byte: what is left is the decoded rows.
func BenchmarkDecode_1MRows(b *testing.B) {
	const n = 1_000_000
	for b.Loop() {
		r := newBodyReader(b, n)
		runtime.GC()
		base := heapObjects()
		stop := peakHeap()
		start, cpu0 := time.Now(), cputime.Process()
		rows, err := decodeUsage(r, MaxUsageBody, schemaV2, 200, http.Header{}, "/p", time.Now, nil)
		elapsed, cpu := time.Since(start), cputime.Process()-cpu0
		peak := stop()
		if err != nil || len(rows) != n {
			b.Fatalf("decoded %d rows, err %v", len(rows), err)
		}
		b.ReportMetric(float64(r.size)/1e6, "payload-MB")
		b.ReportMetric(float64(peak-min(base, peak))/float64(r.size), "heap/payload")
		b.ReportMetric(float64(n)/elapsed.Seconds(), "rows/s")
		if cpu > 0 {
			b.ReportMetric(float64(n)/cpu.Seconds(), "rows/cpu-s")
		}
		runtime.KeepAlive(rows)
	}
}
