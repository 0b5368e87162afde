package billing_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/costbot/costbot/internal/billing"
	"github.com/costbot/costbot/internal/cost"
)

const acctID = "9a7806061c88ada191ed06f989cc3dac"

var acct = cost.Account{ID: acctID, Name: "production"}

func fixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func day(s string) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t
}

func period(from, to string) cost.Period { return cost.Period{Start: day(from), End: day(to)} }

// stub answers one path (and, when query is set, only that from/to).
type stub struct {
	path     string
	query    url.Values
	status   int
	body     []byte
	header   map[string]string
	optional bool

	mu   sync.Mutex
	hits int
}

func (s *stub) Hits() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits
}

func (s *stub) matches(r *http.Request) bool {
	if r.URL.Path != s.path {
		return false
	}
	for k := range s.query {
		if r.URL.Query().Get(k) != s.query.Get(k) {
			return false
		}
	}
	return true
}

// stubServer serves stubs; unexpected requests and unused stubs fail the test.
func stubServer(tb testing.TB, stubs ...*stub) *httptest.Server {
	tb.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, s := range stubs {
			if s.matches(r) {
				s.mu.Lock()
				s.hits++
				s.mu.Unlock()
				for k, v := range s.header {
					w.Header().Set(k, v)
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(s.status)
				_, _ = w.Write(s.body)
				return
			}
		}
		tb.Errorf("unexpected request %s %s", r.Method, r.URL)
		w.WriteHeader(http.StatusTeapot)
	}))
	tb.Cleanup(func() {
		srv.Close()
		for _, s := range stubs {
			if !s.optional && s.Hits() == 0 {
				tb.Errorf("stub %s %v never used", s.path, s.query)
			}
		}
	})
	return srv
}

func q(from, to string) url.Values { return url.Values{"from": {from}, "to": {to}} }

func notFound(path string) *stub {
	return &stub{path: path, status: http.StatusNotFound, body: []byte(`{"success":false,"errors":[{"code":7003,"message":"Could not route"}],"messages":[],"result":null}`)}
}

func newClient(tb testing.TB, baseURL string, mod ...func(*billing.Options)) *billing.Client {
	tb.Helper()
	o := billing.Options{
		BaseURL:      baseURL,
		APIToken:     "test-token",
		MaxRetryWait: 2 * time.Millisecond,
		Now:          func() time.Time { return time.Date(2026, 8, 4, 12, 0, 0, 0, time.UTC) },
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	for _, m := range mod {
		m(&o)
	}
	return billing.New(o)
}

// logBuffer is a concurrency-safe log sink.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func round6(x float64) float64 {
	if x < 0 {
		return -round6(-x)
	}
	return float64(int64(x*1e6+0.5)) / 1e6
}
