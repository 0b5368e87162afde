package billing_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/costbot/costbot/internal/billing"
	"github.com/costbot/costbot/internal/billing/fakecf"
	"github.com/costbot/costbot/internal/cost"
)

func TestOptions_Validate(t *testing.T) {
	tests := []struct {
		name string
		o    billing.Options
		ok   bool
	}{
		{"OK/token", billing.Options{APIToken: "t"}, true},
		{"OK/key", billing.Options{APIEmail: "a@example.com", APIKey: "k"}, true},
		{"ErrNoAuth", billing.Options{}, false},
		{"ErrBothSchemes", billing.Options{APIToken: "t", APIEmail: "a@example.com", APIKey: "k"}, false},
		{"ErrEmailWithoutKey", billing.Options{APIEmail: "a@example.com"}, false},
		{"ErrKeyWithoutEmail", billing.Options{APIKey: "k"}, false},
		{"ErrBaseURL", billing.Options{APIToken: "t", BaseURL: "ftp://x"}, false},
		{"ErrPathTemplate", billing.Options{APIToken: "t", Paths: billing.Paths{Focus: []string{"/accounts/usage"}}}, false},
		{"OK/customPaths", billing.Options{APIToken: "t", Paths: billing.Paths{Focus: []string{"/accounts/{account_id}/v3/usage"}}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.o.Validate()
			if (err == nil) != tt.ok {
				t.Fatalf("Validate() = %v, want ok=%v", err, tt.ok)
			}
			if !tt.ok {
				// An invalid client fails every call with the same error.
				_, uerr := billing.New(tt.o).Usage(context.Background(), acct, billing.SourceFocus, period("2026-07-01", "2026-07-02"))
				if uerr == nil || !strings.Contains(uerr.Error(), "invalid billing options") {
					t.Errorf("Usage on invalid client = %v", uerr)
				}
			}
		})
	}
}

func TestDefaultPaths(t *testing.T) {
	p := billing.DefaultPaths()
	if len(p.PayGo) != 3 || p.PayGo[0] != "/accounts/{account_id}/billable-usage" ||
		len(p.PayGoInfo) != 2 || p.Focus[0] != "/accounts/{account_id}/billable/usage" ||
		p.Profile[0] != "/accounts/{account_id}/billing/profile" {
		t.Errorf("DefaultPaths() = %+v", p)
	}
}

func TestDefaultOptions(t *testing.T) {
	o := billing.DefaultOptions()
	o.APIToken = "t"
	if err := o.Validate(); err != nil || o.BaseURL != billing.DefaultBaseURL || o.MaxRetries != 4 || o.MaxRetryWait != time.Minute {
		t.Errorf("DefaultOptions() = %v, Validate() = %v", o, err)
	}
}

func TestParseSource(t *testing.T) {
	for _, s := range []billing.Source{billing.SourcePayGo, billing.SourceFocus} {
		got, err := billing.ParseSource(s.String())
		if err != nil || got != s {
			t.Errorf("ParseSource(%q) = %v, %v", s, got, err)
		}
		var u billing.Source
		b, _ := s.MarshalText()
		if err := u.UnmarshalText(b); err != nil || u != s {
			t.Errorf("text round trip of %v = %v, %v", s, u, err)
		}
	}
	if billing.SourcePayGo.String() != "paygo" || billing.SourceFocus.String() != "focus" {
		t.Error("source names")
	}
	if _, err := billing.ParseSource("csv"); err == nil {
		t.Error("ParseSource(csv) accepted")
	}
}

func TestClient_Auth(t *testing.T) {
	srv := fakecf.New(fakecf.Account{ID: acctID, Name: "production", CardMonth: 9, CardYear: 2026})
	srv.RequireToken("good-token")
	srv.RequireKey("ops@example.com", "good-key")
	ts := httptest.NewServer(srv)
	defer ts.Close()
	tests := []struct {
		name string
		o    func(*billing.Options)
		ok   bool
	}{
		{"OK/bearer", func(o *billing.Options) { o.APIToken = "good-token" }, true},
		{"OK/globalKey", func(o *billing.Options) { o.APIToken, o.APIEmail, o.APIKey = "", "ops@example.com", "good-key" }, true},
		{"ErrUnauthorized/badToken", func(o *billing.Options) { o.APIToken = "bad-token" }, false},
		{"ErrUnauthorized/badKey", func(o *billing.Options) { o.APIToken, o.APIEmail, o.APIKey = "", "ops@example.com", "bad-key" }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(srv.Requests())
			card, err := newClient(t, ts.URL, tt.o).Card(context.Background(), acct)
			if tt.ok {
				if err != nil || card == nil || card.ExpiryMonth != 9 {
					t.Fatalf("Card() = %+v, %v", card, err)
				}
			} else if !errors.Is(err, billing.ErrUnauthorized) {
				t.Fatalf("err = %v, want ErrUnauthorized", err)
			}
			reqs := srv.Requests()
			if len(reqs)-before != 1 {
				t.Errorf("%d requests; 403 must not be retried", len(reqs)-before)
			}
		})
	}
}

func TestClient_SecretsNotLeaked(t *testing.T) {
	const token, key = "tok-SECRET-4f2a9c", "key-SECRET-8d1e7b"
	// A hostile server echoing credentials back in its error messages.
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, `{"success":false,"errors":[{"code":10000,"message":"bad %s %s"}],"result":null}`,
			r.Header.Get("Authorization"), r.Header.Get("X-Auth-Key"))
	}))
	defer echo.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()

	for _, baseURL := range []string{echo.URL, closed.URL} {
		for _, o := range []billing.Options{
			{APIToken: token},
			{APIEmail: "ops@example.com", APIKey: key},
		} {
			var logs logBuffer
			o.BaseURL = baseURL
			o.MaxRetries = 1
			o.MaxRetryWait = time.Millisecond
			o.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			c := billing.New(o)
			var out []string
			_, err := c.Usage(context.Background(), acct, billing.SourcePayGo, period("2026-07-01", "2026-07-02"))
			out = append(out, fmt.Sprint(err))
			_, err = c.Fetch(context.Background(), acct, billing.SourceFocus, period("2026-07-01", "2026-07-02"))
			out = append(out, fmt.Sprint(err))
			_, err = c.Card(context.Background(), acct)
			out = append(out, fmt.Sprint(err))
			o.Logger.Info("options", "opts", o, "client", c)
			out = append(out, fmt.Sprintf("%v %+v %#v %s %v", o, o, o, c, c), logs.String())
			for _, s := range out {
				if strings.Contains(s, token) || strings.Contains(s, key) {
					t.Errorf("secret leaked: %s", s)
				}
			}
			if err == nil || !strings.Contains(logs.String(), "retrying") && baseURL == echo.URL {
				t.Errorf("expected a failure with retry logs, got err=%v logs=%s", err, logs.String())
			}
		}
	}
}

func TestClient_Card(t *testing.T) {
	tests := []struct {
		name    string
		result  string
		want    *cost.Card
		wantErr string
	}{
		{"OK", "", &cost.Card{Account: acctID, ExpiryMonth: 9, ExpiryYear: 2026, Masked: "************4242"}, ""},
		{"OK/noCard", `{"id":"x","card_number":null}`, nil, ""},
		{"OK/unmaskedNumberIsMasked", `{"card_expiry_month":1,"card_expiry_year":2027,"card_number":"4111111111111111"}`,
			&cost.Card{Account: acctID, ExpiryMonth: 1, ExpiryYear: 2027, Masked: "************1111"}, ""},
		{"ErrMonth13", `{"card_expiry_month":13,"card_expiry_year":2027}`, nil, "card_expiry_month"},
		{"ErrMonthType", `{"card_expiry_month":"soon","card_expiry_year":2027}`, nil, "card_expiry_month"},
		{"ErrYear", `{"card_expiry_month":3,"card_expiry_year":27}`, nil, "card_expiry_year"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := fixture(t, "billing-profile.200.json")
			if tt.result != "" {
				body = []byte(`{"success":true,"errors":[],"messages":[],"result":` + tt.result + `}`)
			}
			srv := stubServer(t, &stub{path: base + "/billing/profile", status: 200, body: body})
			got, err := newClient(t, srv.URL).Card(context.Background(), acct)
			if tt.wantErr != "" {
				var de *billing.DecodeError
				if !errors.As(err, &de) || de.Field != tt.wantErr || de.Account != acctID {
					t.Fatalf("err = %v, want DecodeError on %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (got == nil) != (tt.want == nil) || got != nil && *got != *tt.want {
				t.Errorf("Card() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestClient_Fetch(t *testing.T) {
	now := time.Date(2026, 8, 4, 9, 30, 0, 0, time.FixedZone("CEST", 2*3600))
	a := fakecf.Account{ID: acctID, Name: "production", CardMonth: 9, CardYear: 2026, Anchor: day("2025-11-01"),
		Days: []fakecf.Day{{Service: "Workers Standard", Family: "Workers", Day: day("2026-08-01"), Cost: 1.5, Quantity: 5e6, Unit: "Requests"}}}
	t.Run("OK", func(t *testing.T) {
		ts := httptest.NewServer(fakecf.New(a))
		defer ts.Close()
		c := newClient(t, ts.URL, func(o *billing.Options) { o.Now = func() time.Time { return now } })
		snap, err := c.Fetch(context.Background(), acct, billing.SourcePayGo, cost.Period{Start: day("2026-07-30"), End: day("2026-08-03").Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if !snap.FetchedAt.Equal(now) || snap.FetchedAt.Location() != time.UTC || snap.Account != acct ||
			snap.Range != period("2026-07-30", "2026-08-04") || len(snap.Usage) != 1 || snap.Card == nil || snap.Card.ExpiryYear != 2026 {
			t.Errorf("snapshot = %+v", snap)
		}
	})
	t.Run("OK/profileGone", func(t *testing.T) {
		srv := fakecf.New(a)
		srv.DisablePath(fakecf.PathProfile)
		ts := httptest.NewServer(srv)
		defer ts.Close()
		snap, err := newClient(t, ts.URL).Fetch(context.Background(), acct, billing.SourceFocus, period("2026-08-01", "2026-08-02"))
		if err != nil || snap.Card != nil || len(snap.Usage) != 1 {
			t.Fatalf("snapshot %+v, err %v", snap, err)
		}
	})
	t.Run("ErrUsage", func(t *testing.T) {
		srv := fakecf.New(a)
		srv.RequireToken("other")
		ts := httptest.NewServer(srv)
		defer ts.Close()
		if _, err := newClient(t, ts.URL).Fetch(context.Background(), acct, billing.SourceFocus, period("2026-08-01", "2026-08-02")); !errors.Is(err, billing.ErrUnauthorized) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestClient_RetryThenSuccess(t *testing.T) {
	a := fakecf.Account{ID: acctID, Days: []fakecf.Day{{Service: "D1 Rows Read", Day: day("2026-08-01"), Cost: 0.25, Quantity: 1, Unit: "Rows"}}}
	for _, status := range []int{429, 500, 502, 503} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			srv := fakecf.New(a)
			srv.FailNext(2, status, "1")
			ts := httptest.NewServer(srv)
			defer ts.Close()
			start := time.Now()
			got, err := newClient(t, ts.URL, func(o *billing.Options) { o.MaxRetryWait = 3 * time.Millisecond }).
				Usage(context.Background(), acct, billing.SourceFocus, period("2026-08-01", "2026-08-02"))
			if err != nil || len(got) != 1 {
				t.Fatalf("rows %d, err %v", len(got), err)
			}
			// Two waits, each Retry-After 1s capped at 3ms.
			if el := time.Since(start); el < 6*time.Millisecond || el > time.Second {
				t.Errorf("elapsed %s, want two capped waits", el)
			}
			if n := len(srv.Requests()); n != 3 {
				t.Errorf("requests = %d, want 3", n)
			}
		})
	}
	t.Run("ErrRetriesExhausted", func(t *testing.T) {
		srv := fakecf.New(a)
		srv.FailNext(10, 503, "")
		ts := httptest.NewServer(srv)
		defer ts.Close()
		_, err := newClient(t, ts.URL, func(o *billing.Options) { o.MaxRetries = 3; o.MaxRetryWait = time.Millisecond }).
			Usage(context.Background(), acct, billing.SourceFocus, period("2026-08-01", "2026-08-02"))
		var ae *billing.APIError
		if !errors.As(err, &ae) || ae.StatusCode != 503 || len(srv.Requests()) != 4 {
			t.Fatalf("err %v after %d requests", err, len(srv.Requests()))
		}
	})
	t.Run("ErrNoRetries", func(t *testing.T) {
		srv := fakecf.New(a)
		srv.FailNext(10, 503, "")
		ts := httptest.NewServer(srv)
		defer ts.Close()
		_, err := newClient(t, ts.URL, func(o *billing.Options) { o.MaxRetries = -1 }).
			Usage(context.Background(), acct, billing.SourceFocus, period("2026-08-01", "2026-08-02"))
		if err == nil || len(srv.Requests()) != 1 {
			t.Fatalf("err %v after %d requests", err, len(srv.Requests()))
		}
	})
}

func TestClient_PathFallbackConcurrent(t *testing.T) {
	a := fakecf.Account{ID: acctID, Anchor: day("2025-01-01"), Days: []fakecf.Day{{Service: "R2 Storage", Day: day("2026-08-01"), Cost: 2, Quantity: 3, Unit: "GB-month"}}}
	srv := fakecf.New(a)
	srv.DisablePath(fakecf.PathPayGo)
	srv.DisablePath(fakecf.PathPayGoInfo)
	ts := httptest.NewServer(srv)
	defer ts.Close()
	c := newClient(t, ts.URL+"/client/v4")
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			got, err := c.Usage(context.Background(), acct, billing.SourcePayGo, period("2026-08-01", "2026-08-02"))
			if err != nil || len(got) != 1 {
				t.Errorf("rows %d, err %v", len(got), err)
			}
		})
	}
	wg.Wait()
	// After the first round every call goes straight to the working paths.
	before := len(srv.Requests())
	if _, err := c.Usage(context.Background(), acct, billing.SourcePayGo, period("2026-08-01", "2026-08-02")); err != nil {
		t.Fatal(err)
	}
	reqs := srv.Requests()[before:]
	if len(reqs) != 2 || !strings.HasSuffix(reqs[0].Path, "/paygo-usage-info") || !strings.HasSuffix(reqs[1].Path, "/paygo-usage") {
		for _, r := range reqs {
			t.Log(r.Path)
		}
		t.Errorf("%d requests after warm-up, want info + usage on the remembered paths", len(reqs))
	}
	t.Run("ErrNotFoundEverywhere", func(t *testing.T) {
		srv := fakecf.New(a)
		srv.DisablePath(fakecf.PathBillableUsage)
		ts := httptest.NewServer(srv)
		defer ts.Close()
		_, err := newClient(t, ts.URL).Usage(context.Background(), acct, billing.SourceFocus, period("2026-08-01", "2026-08-02"))
		if !errors.Is(err, billing.ErrNotFound) {
			t.Fatalf("err = %v", err)
		}
	})
}
