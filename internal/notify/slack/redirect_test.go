package slack_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/costbot/costbot/internal/httpx"
	"github.com/costbot/costbot/internal/notify"
	"github.com/costbot/costbot/internal/notify/notifytest"
	"github.com/costbot/costbot/internal/notify/slack"
)

// leakSink is "another host": it records every request that reaches it.
type leakSink struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []string // method, path and whether the token came along
}

func newLeakSink(t *testing.T) *leakSink {
	t.Helper()
	s := &leakSink{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		token := strings.Contains(string(b), "xoxb-test-token") || strings.Contains(r.Header.Get("Authorization"), "xoxb-test-token")
		s.got = append(s.got, fmt.Sprintf("%s %s (token: %v)", r.Method, r.URL.Path, token))
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"ok":true,"channel":"C0123ABCD","ts":"1.2"}`)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *leakSink) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got = nil
}

func (s *leakSink) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.got...)
}

// TestNotifier_Redirect: a Web API URL that answers 307 to another origin
// (another port on the same IP, or another name for it) must not re-post the
// token form there, nor the chart upload; the failed send is permanent.
func TestNotifier_Redirect(t *testing.T) {
	sink := newLeakSink(t)
	sinkByName := strings.Replace(sink.srv.URL, "127.0.0.1", "localhost", 1)
	tests := []struct {
		name     string
		redirect string // the API path that redirects
		to       string // where to
		code     int
		uploads  bool
		wantErr  bool
	}{
		{"ErrRedirect/PostMessageOtherPort", "/chat.postMessage", sink.srv.URL, http.StatusTemporaryRedirect, false, true},
		{"ErrRedirect/PostMessageOtherHost", "/chat.postMessage", sinkByName, http.StatusTemporaryRedirect, false, true},
		{"ErrRedirect/PostMessageOtherPort302", "/chat.postMessage", sink.srv.URL, http.StatusFound, false, true},
		// The upload URL is on the API's origin, so slack-go sends the
		// token there (Authorization: Bearer); net/http keeps that header
		// on a 302 to another port of the same host name.
		{"ErrRedirect/UploadOtherPort", "/upload", sink.srv.URL, http.StatusFound, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink.reset()
			var redirected atomic.Int32
			var api *httptest.Server
			api = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == tt.redirect {
					redirected.Add(1)
					http.Redirect(w, r, tt.to+r.URL.Path, tt.code)
					return
				}
				w.Header().Set("Content-Type", "application/json")
				switch r.URL.Path {
				case "/chat.postMessage":
					_, _ = io.WriteString(w, `{"ok":true,"channel":"C0123ABCD","ts":"1784625001.000100"}`)
				case "/files.getUploadURLExternal":
					_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "upload_url": api.URL + "/upload", "file_id": "F1"})
				default:
					t.Errorf("unexpected request %s", r.URL.Path)
					w.WriteHeader(http.StatusTeapot)
				}
			}))
			t.Cleanup(api.Close)
			n, err := slack.New(slack.Options{
				Channel: "C0123ABCD", Token: "xoxb-test-token", APIURL: api.URL + "/",
				HTTPClient:   &http.Client{Timeout: 10 * time.Second}, // no policy of its own
				Now:          func() time.Time { return notifytest.Now },
				UploadCharts: tt.uploads,
			})
			if err != nil {
				t.Fatal(err)
			}
			_, err = n.Notify(context.Background(), notifytest.Alerts()["budget"])
			if got := sink.requests(); len(got) != 0 {
				t.Fatalf("other origin got %q", got)
			}
			if redirected.Load() != 1 {
				t.Fatalf("%s redirected %d times, want 1 (no retry)", tt.redirect, redirected.Load())
			}
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("Notify() = %v (a failed upload never fails the send)", err)
				}
				return
			}
			if !errors.Is(err, httpx.ErrRedirect) || notify.IsRetryable(err) {
				t.Fatalf("Notify() = %v (retryable %v), want permanent httpx.ErrRedirect", err, notify.IsRetryable(err))
			}
			if strings.Contains(err.Error(), "xoxb-test-token") {
				t.Errorf("error leaks the token: %v", err)
			}
		})
	}
}
