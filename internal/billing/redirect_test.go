package billing_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/costbot/costbot/internal/billing"
	"github.com/costbot/costbot/internal/httpx"
)

// TestClient_Redirect: a base_url that redirects to another origin (another
// port on the same IP, or another host name for it) gets no credentials
// there and fails at once, without retries; a same-origin redirect is
// followed with the credentials.
func TestClient_Redirect(t *testing.T) {
	var leaked atomic.Int32
	var leakedHeaders atomic.Pointer[http.Header]
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked.Add(1)
		h := r.Header.Clone()
		leakedHeaders.Store(&h)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(fixture(t, "billing-profile.200.json"))
	}))
	t.Cleanup(other.Close)
	otherByName := strings.Replace(other.URL, "127.0.0.1", "localhost", 1)

	profile := "/accounts/" + acctID + "/billing/profile"
	tests := []struct {
		name   string
		target func(origin string) string // Location for the profile path
		code   int
		auth   func(*billing.Options)
		ok     bool
	}{
		{"ErrRedirect/TokenOtherPort302", func(string) string { return other.URL + profile }, http.StatusFound, nil, false},
		{"ErrRedirect/TokenOtherHost307", func(string) string { return otherByName + profile }, http.StatusTemporaryRedirect, nil, false},
		{"ErrRedirect/GlobalKeyOtherPort302", func(string) string { return other.URL + profile }, http.StatusFound, globalKey, false},
		{"ErrRedirect/GlobalKeyOtherPort308", func(string) string { return other.URL + profile }, http.StatusPermanentRedirect, globalKey, false},
		{"OK/SameOrigin", func(origin string) string { return origin + "/moved" + profile }, http.StatusFound, globalKey, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leaked.Store(0)
			var hits atomic.Int32
			var sawAuth atomic.Bool
			var origin *httptest.Server
			origin = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch r.URL.Path {
				case profile:
					hits.Add(1)
					http.Redirect(w, r, tt.target(origin.URL), tt.code)
				case "/moved" + profile:
					if r.Header.Get("X-Auth-Key") == "global-key" && r.Header.Get("Referer") == "" {
						sawAuth.Store(true)
					}
					w.Header().Set("Content-Type", "application/json")
					_, _ = w.Write(fixture(t, "billing-profile.200.json"))
				default:
					t.Errorf("unexpected request %s", r.URL)
					w.WriteHeader(http.StatusTeapot)
				}
			}))
			t.Cleanup(origin.Close)
			mods := []func(*billing.Options){}
			if tt.auth != nil {
				mods = append(mods, tt.auth)
			}
			// The caller's client has no redirect policy of its own, as
			// app's shared client did.
			mods = append(mods, func(o *billing.Options) { o.HTTPClient = &http.Client{} })
			card, err := newClient(t, origin.URL, mods...).Card(context.Background(), acct)
			if n := leaked.Load(); n != 0 {
				t.Fatalf("other origin got %d requests with headers %v", n, *leakedHeaders.Load())
			}
			if tt.ok {
				if err != nil || card == nil || !sawAuth.Load() {
					t.Fatalf("Card() = %+v, %v (credentials at same origin: %v)", card, err, sawAuth.Load())
				}
				return
			}
			if !errors.Is(err, httpx.ErrRedirect) {
				t.Fatalf("Card() error = %v, want httpx.ErrRedirect", err)
			}
			if n := hits.Load(); n != 1 {
				t.Errorf("origin asked %d times, want 1 (a refused redirect is not retried)", n)
			}
			for _, secret := range []string{"test-token", "global-key"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error leaks %q: %v", secret, err)
				}
			}
		})
	}
}

func globalKey(o *billing.Options) {
	o.APIToken, o.APIEmail, o.APIKey = "", "ops@example.com", "global-key"
}

// TestClient_String_RedactsBaseURLPassword: a base_url with a password
// never prints or logs it.
func TestClient_String_RedactsBaseURLPassword(t *testing.T) {
	o := billing.Options{BaseURL: "https://ops:hunter2@api.example.com/v4", APIToken: "tok"}
	c := billing.New(o)
	for name, s := range map[string]string{
		"Options.String":   o.String(),
		"Options.LogValue": o.LogValue().String(),
		"Client.String":    c.String(),
		"Client.LogValue":  c.LogValue().String(),
	} {
		if strings.Contains(s, "hunter2") {
			t.Errorf("%s leaks a secret: %s", name, s)
		}
		if !strings.Contains(s, "api.example.com") {
			t.Errorf("%s lost the host: %s", name, s)
		}
	}
}
