package webhook_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/costbot/costbot/internal/httpx"
	"github.com/costbot/costbot/internal/notify"
	"github.com/costbot/costbot/internal/notify/notifytest"
	"github.com/costbot/costbot/internal/notify/webhook"
)

// hit is one request a test server saw.
type hit struct {
	method, path, referer string
	body                  []byte
	sigErr                error
}

type hits struct {
	mu sync.Mutex
	hs []hit
}

func (h *hits) add(t testing.TB, r *http.Request) hit {
	body, _ := io.ReadAll(r.Body)
	x := hit{method: r.Method, path: r.URL.RequestURI(), referer: r.Header.Get("Referer"), body: body,
		sigErr: verify(t, testSecret, r.Header, body, notifytest.Now)}
	h.mu.Lock()
	h.hs = append(h.hs, x)
	h.mu.Unlock()
	return x
}

func (h *hits) all() []hit {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hit(nil), h.hs...)
}

// A webhook URL is a secret: a redirect to another scheme, host or port gets
// nothing from costbot (no request, so no body, signature or Referer), and
// a same-origin redirect is followed only when it keeps the POST and its
// body (307, 308), without a Referer.
func TestNotifier_Notify_Redirects(t *testing.T) {
	a := notifytest.Alerts()["budget"]
	// target is the other end of a cross-origin redirect: it must never be reached.
	var elsewhere hits
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.add(t, r)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(target.Close)
	otherHost := strings.Replace(target.URL, "127.0.0.1", "localhost", 1)

	tests := []struct {
		name   string
		status int
		to     func(self string) string // Location, from the origin server's URL
		want   error                    // nil: delivered
		moved  bool                     // the origin got the re-posted request on /moved
	}{
		{"ErrOtherPort307", 307, func(string) string { return target.URL + "/steal" }, webhook.ErrRedirect, false},
		{"ErrOtherPort308", 308, func(string) string { return target.URL + "/steal" }, webhook.ErrRedirect, false},
		{"ErrOtherPort302", 302, func(string) string { return target.URL + "/steal" }, webhook.ErrRedirect, false},
		{"ErrOtherPort301", 301, func(string) string { return target.URL + "/steal" }, webhook.ErrRedirect, false},
		{"ErrOtherPort303", 303, func(string) string { return target.URL + "/steal" }, webhook.ErrRedirect, false},
		{"ErrOtherHost307", 307, func(string) string { return otherHost + "/steal" }, webhook.ErrRedirect, false},
		{"ErrOtherScheme307", 307, func(self string) string { return strings.Replace(self, "http://", "https://", 1) + "/moved" }, webhook.ErrRedirect, false},
		{"ErrSameOrigin302", 302, func(self string) string { return self + "/moved" }, webhook.ErrRedirect, false},
		{"ErrSameOrigin303", 303, func(self string) string { return self + "/moved" }, webhook.ErrRedirect, false},
		{"ErrSameOriginLoop", 307, func(self string) string { return self + "/hook?token=s3cr3tquery" }, webhook.ErrRedirect, false},
		{"OKSameOrigin307", 307, func(self string) string { return self + "/moved" }, nil, true},
		{"OKSameOrigin308", 308, func(self string) string { return self + "/moved" }, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var origin hits
			var self string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				h := origin.add(t, r)
				if strings.HasPrefix(h.path, "/moved") {
					w.WriteHeader(http.StatusNoContent)
					return
				}
				w.Header().Set("Location", tt.to(self))
				w.WriteHeader(tt.status)
			}))
			t.Cleanup(srv.Close)
			self = srv.URL
			client := &http.Client{Timeout: 5 * time.Second}
			n := newNotifierClient(t, srv.URL+"/hook?token=s3cr3tquery", client)
			_, err := n.Notify(context.Background(), a)
			if client.CheckRedirect != nil {
				t.Error("the caller's http.Client was changed")
			}
			if got := elsewhere.all(); len(got) != 0 {
				t.Fatalf("the redirect target got %d request(s): %+v", len(got), got[0])
			}
			switch {
			case tt.name == "ErrSameOriginLoop":
				if !errors.Is(err, tt.want) || notify.IsRetryable(err) {
					t.Errorf("err %v, want permanent %v", err, tt.want)
				}
				if got := len(origin.all()); got != httpx.MaxRedirects {
					t.Errorf("origin got %d requests, want %d (the first and the redirects httpx allows)", got, httpx.MaxRedirects)
				}
			case tt.want != nil:
				if !errors.Is(err, tt.want) || notify.IsRetryable(err) {
					t.Errorf("err %v, want permanent %v", err, tt.want)
				}
				if got := len(origin.all()); got != 1 {
					t.Errorf("origin got %d requests, want 1 (redirect not followed)", got)
				}
			default:
				if err != nil {
					t.Fatalf("err %v, want delivered", err)
				}
			}
			if err != nil {
				assertNoSecret(t, err.Error())
			}
			hs := origin.all()
			for i, h := range hs {
				if h.referer != "" {
					t.Errorf("request %d carried Referer %q", i, h.referer)
				}
				if h.method != http.MethodPost || h.sigErr != nil || len(h.body) == 0 {
					t.Errorf("request %d: %s, %d body bytes, signature %v", i, h.method, len(h.body), h.sigErr)
				}
			}
			if tt.moved {
				if len(hs) != 2 || hs[1].path != "/moved" || string(hs[1].body) != string(hs[0].body) {
					t.Errorf("want the same signed body re-posted to /moved, got %d requests", len(hs))
				}
			}
		})
	}
}

func newNotifierClient(t testing.TB, url string, c *http.Client) *webhook.Notifier {
	t.Helper()
	n, err := webhook.New(webhook.Options{
		Name: "ops-hook", URL: url, Secret: testSecret, HTTPClient: c,
		Now: func() time.Time { return notifytest.Now }, ExternalURL: "https://costbot.example.com",
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
