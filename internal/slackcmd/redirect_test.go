package slackcmd

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestHandler_PostResponseURL_CrossOriginRedirect: an allowed response_url
// host that redirects to another origin (another port, another scheme, the
// same IP by another name) gets the message once and the other origin gets
// nothing, whatever redirect policy the caller's client had. The error names
// the host and status only.
func TestHandler_PostResponseURL_CrossOriginRedirect(t *testing.T) {
	var landed atomic.Int32
	var landedReferer atomic.Pointer[string]
	land := func(w http.ResponseWriter, r *http.Request) {
		landed.Add(1)
		ref := r.Header.Get("Referer")
		landedReferer.Store(&ref)
	}
	otherTLS := httptest.NewTLSServer(http.HandlerFunc(land))
	t.Cleanup(otherTLS.Close)
	otherPlain := httptest.NewServer(http.HandlerFunc(land))
	t.Cleanup(otherPlain.Close)

	tests := []struct {
		name string
		to   string
		code int
	}{
		{"ErrHTTP307/OtherPort", otherTLS.URL + "/landing", http.StatusTemporaryRedirect},
		{"ErrHTTP308/OtherPortByName", strings.Replace(otherTLS.URL, "127.0.0.1", "localhost", 1) + "/landing", http.StatusPermanentRedirect},
		{"ErrHTTP302/OtherScheme", otherPlain.URL + "/landing", http.StatusFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			landed.Store(0)
			var asked atomic.Int32
			srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				asked.Add(1)
				http.Redirect(w, r, tt.to, tt.code)
			}))
			t.Cleanup(srv.Close)
			// A client that trusts every certificate and follows every
			// redirect: only the handler's own policy stands in the way.
			hc := &http.Client{
				Timeout:       10 * time.Second,
				Transport:     &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, //nolint:gosec // test servers
				CheckRedirect: func(*http.Request, []*http.Request) error { return nil },
			}
			host := strings.TrimPrefix(srv.URL, "https://")
			h, _ := newTestHandler(t, Options{HTTPClient: hc, ResponseURLHosts: []string{host}})
			err := h.postResponseURL(context.Background(), srv.URL+"/actions/T1/2/s3cr3t", reply{Text: "done"})
			if n := landed.Load(); n != 0 {
				t.Fatalf("other origin got %d requests (Referer %q), want 0", n, *landedReferer.Load())
			}
			if asked.Load() != 1 {
				t.Errorf("response_url asked %d times, want 1", asked.Load())
			}
			if err == nil || !strings.Contains(err.Error(), "HTTP ") {
				t.Fatalf("err %v, want the redirect status reported", err)
			}
			if strings.Contains(err.Error(), "s3cr3t") || strings.Contains(err.Error(), "landing") {
				t.Errorf("error names a path: %v", err)
			}
			if hc.CheckRedirect == nil {
				t.Error("the caller's client was changed")
			}
		})
	}
}
