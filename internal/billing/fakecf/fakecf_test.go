package fakecf_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/costbot/costbot/internal/billing"
	"github.com/costbot/costbot/internal/billing/fakecf"
	"github.com/costbot/costbot/internal/cost"
)

const id = "0123456789abcdef0123456789abcdef"

func d(s string) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t
}

// testAccount has 85 days, three services (one zoned, one without family)
// and a billing-cycle anchor on the 31st, so periods clamp in Feb and Apr.
func testAccount() fakecf.Account {
	a := fakecf.Account{ID: id, Name: "staging", CardMonth: 4, CardYear: 2026, Anchor: time.Date(2025, 10, 31, 8, 0, 0, 0, time.UTC), Currency: "EUR"}
	for i := range 85 {
		day := d("2026-01-15").AddDate(0, 0, i).Add(7 * time.Hour) // any instant of the day
		a.Days = append(a.Days,
			fakecf.Day{Service: "Workers Standard Requests", Family: "Workers", Day: day, Cost: 0.3 + float64(i)/7, Quantity: 1e6 + float64(i), Unit: "Requests"},
			fakecf.Day{Service: "Images Transformations", Family: "Images", Zone: "example.com", Day: day, Cost: 1.0 / 3 * float64(i%5), Quantity: float64(i % 5 * 1000), Unit: "Transformations"},
			fakecf.Day{Service: "Legacy Thing", Day: day, Cost: 0.125, Quantity: 2.5, Unit: "Units"},
		)
	}
	return a
}

// periodFor is the expected billing period for anchor day 31, written out.
func periodFor(day time.Time) cost.Period {
	starts := []string{"2025-12-31", "2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30", "2026-05-31"}
	for i := 0; i+1 < len(starts); i++ {
		if !day.Before(d(starts[i])) && day.Before(d(starts[i+1])) {
			return cost.Period{Start: d(starts[i]), End: d(starts[i+1])}
		}
	}
	panic("day out of table: " + day.String())
}

func TestServer_RoundTrip(t *testing.T) {
	a := testAccount()
	srv := fakecf.New(a)
	srv.RequireToken("tok")
	ts := httptest.NewServer(srv)
	defer ts.Close()
	c := billing.New(billing.Options{BaseURL: ts.URL + "/client/v4", APIToken: "tok", MaxRetryWait: time.Millisecond})
	days := cost.Period{Start: d("2026-01-15"), End: d("2026-04-10")}

	var want []cost.Usage
	for _, x := range a.Days {
		want = append(want, cost.Usage{
			Account: id, Service: x.Service, Family: x.Family, Zone: x.Zone, Day: cost.Day(x.Day),
			BillingPeriod: periodFor(cost.Day(x.Day)), Cost: x.Cost, CostKnown: true, Currency: "EUR",
			Quantity: x.Quantity, Unit: x.Unit,
		})
	}
	for _, src := range []billing.Source{billing.SourcePayGo, billing.SourceFocus} {
		t.Run(src.String(), func(t *testing.T) {
			got, err := c.Usage(context.Background(), cost.Account{ID: id}, src, days)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("rows = %d, want %d", len(got), len(want))
			}
			idx := map[string]cost.Usage{}
			for _, u := range got {
				idx[u.Key().String()+u.Day.String()] = u
			}
			for _, w := range want {
				g, ok := idx[w.Key().String()+w.Day.String()]
				if !ok || !reflect.DeepEqual(g, w) {
					t.Fatalf("row %s %s:\n got %+v\nwant %+v", w.Key(), w.Day.Format("2006-01-02"), g, w)
				}
			}
		})
	}
	t.Run("card", func(t *testing.T) {
		card, err := c.Card(context.Background(), cost.Account{ID: id})
		if err != nil || card == nil || card.ExpiryMonth != 4 || card.ExpiryYear != 2026 || card.Last4() != "4242" {
			t.Fatalf("card %+v, err %v", card, err)
		}
	})
}

type envelope struct {
	Success  bool              `json:"success"`
	Errors   []json.RawMessage `json:"errors"`
	Messages []json.RawMessage `json:"messages"`
	Result   json.RawMessage   `json:"result"`
}

func call(t *testing.T, h http.Handler, method, target, body string, hdr ...string) (*http.Response, envelope) {
	t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	resp := rec.Result()
	b, _ := io.ReadAll(resp.Body)
	var env envelope
	if err := json.Unmarshal(b, &env); err != nil {
		t.Fatalf("%s %s: body is not an envelope: %s", method, target, b)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, env.Result); err == nil {
		env.Result = buf.Bytes()
	}
	if env.Success == (resp.StatusCode >= 400) || env.Errors == nil || env.Messages == nil {
		t.Fatalf("%s %s: status %d with envelope %s", method, target, resp.StatusCode, b)
	}
	return resp, env
}

func rows(t *testing.T, env envelope) []map[string]any {
	t.Helper()
	var out []map[string]any
	if err := json.Unmarshal(env.Result, &out); err != nil || out == nil {
		t.Fatalf("result %s: %v", env.Result, err)
	}
	return out
}

func errCode(t *testing.T, env envelope) int {
	t.Helper()
	var m struct{ Code int }
	if len(env.Errors) != 1 || json.Unmarshal(env.Errors[0], &m) != nil {
		t.Fatalf("errors = %s", env.Errors)
	}
	return m.Code
}

func TestServer_PayGo(t *testing.T) {
	a := testAccount()
	a.Anchor = d("2025-11-01")
	srv := fakecf.New(a)
	usage := "/accounts/" + id + "/paygo-usage"

	t.Run("OK/emptyWithoutAnchorDay", func(t *testing.T) {
		_, env := call(t, srv, "GET", usage+"?from=2026-02-02&to=2026-02-20", "")
		if r := rows(t, env); len(r) != 0 {
			t.Fatalf("rows = %d, want 0", len(r))
		}
	})
	t.Run("OK/cumulatedResetsEachPeriod", func(t *testing.T) {
		_, env := call(t, srv, "GET", usage+"?from=2026-01-20&to=2026-02-03", "")
		rs := rows(t, env)
		if len(rs) != 15*3 {
			t.Fatalf("rows = %d, want 45 (to is inclusive)", len(rs))
		}
		var janSum, prevCum float64
		for _, r := range rs {
			if _, ok := r["BillingPeriodEnd"]; ok {
				t.Fatal("v1 rows have no BillingPeriodEnd")
			}
			if r["ServiceName"] != "Workers Standard Requests" {
				continue
			}
			start, _ := time.Parse(time.RFC3339, r["ChargePeriodStart"].(string))
			cum := r["CumulatedContractedCost"].(float64)
			switch {
			case start.Month() == time.January:
				janSum = cum
				if r["BillingPeriodStart"] != "2026-01-01T00:00:00Z" || cum <= prevCum {
					t.Errorf("row %v", r)
				}
			case start.Equal(d("2026-02-01")):
				if cum != r["ContractedCost"].(float64) || r["BillingPeriodStart"] != "2026-02-01T00:00:00Z" {
					t.Errorf("cumulated did not reset: %v", r)
				}
			}
			prevCum = cum
		}
		// Jan 15..31 are all in the running total, including days before "from".
		var want float64
		for _, x := range a.Days {
			if x.Service == "Workers Standard Requests" && x.Day.Month() == time.January {
				want += x.Cost
			}
		}
		if diff := janSum - want; diff > 1e-9 || diff < -1e-9 {
			t.Errorf("Jan cumulated = %v, want %v", janSum, want)
		}
	})
	t.Run("OK/allPaths", func(t *testing.T) {
		for _, p := range []string{"/billable-usage", "/paygo-usage", "/billing/usage/paygo"} {
			_, env := call(t, srv, "GET", "/client/v4/accounts/"+id+p+"?from=2026-03-01&to=2026-03-01", "")
			if len(rows(t, env)) != 3 {
				t.Errorf("%s: want 3 rows", p)
			}
		}
		for _, p := range []string{"/billable-usage/info", "/paygo-usage-info"} {
			_, env := call(t, srv, "GET", "/accounts/"+id+p, "")
			if !strings.Contains(string(env.Result), `"billing_cycle_anchor_timestamp":"2025-11-01T00:00:00Z"`) {
				t.Errorf("%s: %s", p, env.Result)
			}
		}
	})
}

func TestServer_Focus(t *testing.T) {
	srv := fakecf.New(testAccount())
	usage := "/accounts/" + id + "/billable/usage"
	t.Run("OK/get", func(t *testing.T) {
		_, env := call(t, srv, "GET", usage+"?from=2026-02-01&to=2026-03-04", "")
		rs := rows(t, env)
		if len(rs) != 31*3 {
			t.Fatalf("rows = %d, want 93 (to is exclusive)", len(rs))
		}
		for _, r := range rs {
			if r["BillingPeriodEnd"] == nil || r["x_BillableMetricId"] == "" || r["ChargeFrequency"] != "Usage-Based" {
				t.Fatalf("row %v", r)
			}
			if _, zoned := r["x_ZoneName"]; zoned != (r["x_BillableMetricName"] == "Images Transformations") {
				t.Fatalf("zone fields on %v", r)
			}
		}
	})
	for _, q := range []string{"?from=2026-02-01&to=2026-03-05", "?from=2026-02-01", "?from=2026-02-10&to=2026-02-01", "?from=feb&to=mar"} {
		t.Run("ErrInvalid"+q, func(t *testing.T) {
			resp, env := call(t, srv, "GET", usage+q, "")
			if resp.StatusCode != 400 || errCode(t, env) != 1183 || string(env.Result) != "null" {
				t.Fatalf("status %d", resp.StatusCode)
			}
		})
	}
	t.Run("OK/post", func(t *testing.T) {
		body := `{"TimePeriod":{"From":"2026-02-01T00:00:00Z","To":"2026-02-08T00:00:00Z"},"FilterBy":{"BillableMetricIds":["images_transformations"]},"GroupBy":[{"Type":"DIMENSION","Key":"x_ZoneName"}]}`
		_, env := call(t, srv, "POST", usage, body)
		rs := rows(t, env)
		if len(rs) != 7 || rs[0]["x_ZoneName"] != "example.com" {
			t.Fatalf("rows %v", rs)
		}
	})
	for name, body := range map[string]string{
		"ErrUnknownField": `{"TimePeriod":{"From":"2026-02-01T00:00:00Z","To":"2026-02-08T00:00:00Z"},"Metric":"x"}`,
		"ErrTooLong":      `{"TimePeriod":{"From":"2026-01-01T00:00:00Z","To":"2026-02-08T00:00:00Z"}}`,
		"ErrGroupType":    `{"TimePeriod":{"From":"2026-02-01T00:00:00Z","To":"2026-02-08T00:00:00Z"},"GroupBy":[{"Type":"COLUMN","Key":"x"}]}`,
		"ErrNotJSON":      `from=2026-02-01`,
	} {
		t.Run(name, func(t *testing.T) {
			resp, env := call(t, srv, "POST", usage, body)
			if resp.StatusCode != 400 || errCode(t, env) != 1183 {
				t.Fatalf("status %d", resp.StatusCode)
			}
		})
	}
}

func TestServer_Knobs(t *testing.T) {
	srv := fakecf.New(testAccount())
	srv.RequireToken("tok")
	profile := "/accounts/" + id + "/billing/profile"
	auth := []string{"Authorization", "Bearer tok"}

	t.Run("ErrUnauthorized", func(t *testing.T) {
		resp, env := call(t, srv, "GET", profile, "", "Authorization", "Bearer nope")
		if resp.StatusCode != 403 || errCode(t, env) != 10000 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
	t.Run("ErrUnknownAccount", func(t *testing.T) {
		resp, _ := call(t, srv, "GET", "/accounts/ffff/billing/profile", "", auth...)
		if resp.StatusCode != 403 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
	t.Run("OK/ratelimitHeaders", func(t *testing.T) {
		resp, env := call(t, srv, "GET", profile, "", auth...)
		if !strings.HasPrefix(resp.Header.Get("Ratelimit"), `"default";r=`) || resp.Header.Get("Ratelimit-Policy") != `"default";q=1200;w=300` {
			t.Errorf("headers %v", resp.Header)
		}
		if !strings.Contains(string(env.Result), `"card_expiry_month":4`) {
			t.Errorf("profile %s", env.Result)
		}
	})
	t.Run("FailNext", func(t *testing.T) {
		srv.FailNext(2, 429, "127")
		for range 2 {
			resp, env := call(t, srv, "GET", profile, "", auth...)
			if resp.StatusCode != 429 || errCode(t, env) != 971 || resp.Header.Get("Retry-After") != "127" || resp.Header.Get("Ratelimit") != `"default";r=0;t=127` {
				t.Fatalf("status %d headers %v", resp.StatusCode, resp.Header)
			}
		}
		srv.FailNext(1, 502, "")
		if resp, _ := call(t, srv, "GET", profile, "", auth...); resp.StatusCode != 502 || resp.Header.Get("Retry-After") != "" {
			t.Fatalf("status %d", resp.StatusCode)
		}
		if resp, _ := call(t, srv, "GET", profile, "", auth...); resp.StatusCode != 200 {
			t.Fatalf("status %d after failures", resp.StatusCode)
		}
	})
	t.Run("DisablePath", func(t *testing.T) {
		srv.DisablePath(fakecf.PathPayGo)
		if resp, _ := call(t, srv, "GET", "/accounts/"+id+"/billable-usage", "", auth...); resp.StatusCode != 404 {
			t.Fatalf("disabled path: status %d", resp.StatusCode)
		}
		if resp, _ := call(t, srv, "GET", "/accounts/"+id+"/paygo-usage", "", auth...); resp.StatusCode != 200 {
			t.Fatalf("other path: status %d", resp.StatusCode)
		}
		if resp, _ := call(t, srv, "GET", "/nowhere", "", auth...); resp.StatusCode != 404 {
			t.Fatalf("unknown route: status %d", resp.StatusCode)
		}
	})
	t.Run("Requests", func(t *testing.T) {
		call(t, srv, "POST", "/accounts/"+id+"/billable/usage", `{"TimePeriod":{"From":"2026-02-01T00:00:00Z","To":"2026-02-02T00:00:00Z"}}`, auth...)
		reqs := srv.Requests()
		last := reqs[len(reqs)-1]
		if last.Method != "POST" || !strings.Contains(string(last.Body), "TimePeriod") || last.Header.Get("Authorization") != "Bearer tok" {
			t.Fatalf("last request %+v", last)
		}
		reqs[len(reqs)-1].Body[0] = 'X'
		reqs[len(reqs)-1].Header.Set("Authorization", "changed")
		again := srv.Requests()
		if again[len(again)-1].Body[0] != '{' || again[len(again)-1].Header.Get("Authorization") != "Bearer tok" {
			t.Error("Requests() does not return a copy")
		}
	})
}
