package httpx_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/costbot/costbot/internal/httpx"
)

func TestOrigin(t *testing.T) {
	tests := []struct {
		name, url, want string
	}{
		{"HTTPSDefaultPort", "https://API.example.com/client/v4?x=1", "https://api.example.com:443"},
		{"HTTPSExplicitPort", "https://api.example.com:443/", "https://api.example.com:443"},
		{"HTTPDefaultPort", "http://h/", "http://h:80"},
		{"OtherPort", "http://127.0.0.1:8081/a", "http://127.0.0.1:8081"},
		{"UserInfoDropped", "https://user:pw@h.example/p", "https://h.example:443"},
		{"IPv6", "http://[::1]:9/", "http://[::1]:9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := url.Parse(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			if got := httpx.Origin(u); got != tt.want {
				t.Errorf("Origin(%q) = %q, want %q", tt.url, got, tt.want)
			}
		})
	}
}

// sink records what reached the "other" host.
type sink struct {
	hits    atomic.Int32
	headers atomic.Pointer[http.Header]
	body    atomic.Pointer[string]
}

func newSink(t *testing.T) (*httptest.Server, *sink) {
	t.Helper()
	s := &sink{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		h := r.Header.Clone()
		s.headers.Store(&h)
		b, _ := io.ReadAll(r.Body)
		str := string(b)
		s.body.Store(&str)
		_, _ = io.WriteString(w, "other")
	}))
	t.Cleanup(srv.Close)
	return srv, s
}

// TestCheckRedirect sends credentials, a body and a secret path to origin A,
// which redirects; the other origin must see nothing, the same origin must
// be followed without a Referer.
func TestCheckRedirect(t *testing.T) {
	other, sk := newSink(t)
	// "localhost" and "127.0.0.1" are one IP but two origins; so are two
	// ports on 127.0.0.1.
	otherByName := strings.Replace(other.URL, "127.0.0.1", "localhost", 1)

	var sameHits atomic.Int32
	var sameReferer atomic.Pointer[string]
	var sameAuth atomic.Pointer[string]
	mux := http.NewServeMux()
	mux.HandleFunc("/final", func(w http.ResponseWriter, r *http.Request) {
		sameHits.Add(1)
		ref, auth := r.Header.Get("Referer"), r.Header.Get("Authorization")
		sameReferer.Store(&ref)
		sameAuth.Store(&auth)
		_, _ = io.WriteString(w, "same")
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		code := http.StatusFound
		if r.URL.Query().Get("code") == "307" {
			code = http.StatusTemporaryRedirect
		}
		to := r.URL.Query().Get("to")
		if to == "loop" {
			to = r.URL.String()
		}
		http.Redirect(w, r, to, code)
	})
	origin := httptest.NewServer(mux)
	t.Cleanup(origin.Close)

	tests := []struct {
		name   string
		to     string // redirect target
		code   string
		method string
		errIs  bool // want ErrRedirect
		want   string
	}{
		{"ErrRedirect/OtherPort302", other.URL + "/x", "302", http.MethodGet, true, ""},
		{"ErrRedirect/OtherPort307Body", other.URL + "/x", "307", http.MethodPost, true, ""},
		{"ErrRedirect/OtherHostSameIP", otherByName + "/x", "307", http.MethodPost, true, ""},
		{"ErrRedirect/Loop", "loop", "302", http.MethodGet, true, ""},
		{"OK/SameOrigin", "/final", "302", http.MethodGet, false, "same"},
		{"OK/SameOrigin307", "/final", "307", http.MethodPost, false, "same"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sk.hits.Store(0)
			c := httpx.NewClient(10 * time.Second)
			q := url.Values{"to": {tt.to}, "code": {tt.code}}
			req, err := http.NewRequest(tt.method, origin.URL+"/hooks/T000/SECRETPATH?"+q.Encode(), strings.NewReader("token=xoxb-secret"))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer cf-secret")
			req.Header.Set("X-Auth-Key", "key-secret")
			req.Header.Set("X-Auth-Email", "a@example.com")
			resp, err := c.Do(req)
			if tt.errIs {
				if !errors.Is(err, httpx.ErrRedirect) {
					t.Fatalf("err = %v, want ErrRedirect", err)
				}
				// net/http's *url.Error names the redirect target; the
				// policy's own error names origins only.
				var ue *url.Error
				if !errors.As(err, &ue) {
					t.Fatalf("err = %T, want *url.Error", err)
				}
				if msg := ue.Err.Error(); strings.Contains(msg, "SECRETPATH") || strings.Contains(msg, "/x") {
					t.Errorf("policy error names a path: %v", msg)
				}
				if n := sk.hits.Load(); n != 0 {
					t.Fatalf("other origin got %d requests (headers %v, body %q)", n, *sk.headers.Load(), *sk.body.Load())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if string(b) != tt.want {
				t.Errorf("body = %q, want %q", b, tt.want)
			}
			if ref := *sameReferer.Load(); ref != "" {
				t.Errorf("Referer = %q, want none", ref)
			}
			if auth := *sameAuth.Load(); auth != "Bearer cf-secret" {
				t.Errorf("same-origin Authorization = %q, want it kept", auth)
			}
		})
	}
}

func TestSecure(t *testing.T) {
	t.Run("OK/Nil", func(t *testing.T) {
		c := httpx.Secure(nil, 3*time.Second)
		if c.Timeout != 3*time.Second || c.CheckRedirect == nil {
			t.Fatalf("Secure(nil) = %+v", c)
		}
	})
	t.Run("OK/CopyKeepsTransport", func(t *testing.T) {
		tr := &http.Transport{}
		orig := &http.Client{Transport: tr, Timeout: time.Second}
		c := httpx.Secure(orig, 0)
		if c == orig || c.Transport != tr || c.Timeout != time.Second || orig.CheckRedirect != nil {
			t.Fatalf("Secure changed or lost the original: %+v %+v", c, orig)
		}
	})
	t.Run("ErrRedirect/OwnPolicyAfter", func(t *testing.T) {
		own := errors.New("own")
		orig := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return own }}
		c := httpx.Secure(orig, 0)
		first, _ := http.NewRequest(http.MethodGet, "http://a.example/", nil)
		same, _ := http.NewRequest(http.MethodGet, "http://a.example/b", nil)
		other, _ := http.NewRequest(http.MethodGet, "http://b.example/", nil)
		if err := c.CheckRedirect(other, []*http.Request{first}); !errors.Is(err, httpx.ErrRedirect) {
			t.Errorf("other origin: %v", err)
		}
		if err := c.CheckRedirect(same, []*http.Request{first}); !errors.Is(err, own) {
			t.Errorf("same origin: %v, want the client's own policy", err)
		}
	})
}
