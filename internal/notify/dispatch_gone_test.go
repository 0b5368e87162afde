package notify_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/costbot/costbot/internal/cost"
	"github.com/costbot/costbot/internal/notify"
	"github.com/costbot/costbot/internal/notify/notifytest"
	"github.com/costbot/costbot/internal/notify/webhook"
)

// capture is a notifier that accepts everything and keeps what it got.
type capture struct {
	name string
	mu   sync.Mutex
	got  []cost.Alert
}

func (c *capture) Name() string { return c.name }

func (c *capture) Notify(_ context.Context, a cost.Alert) (*cost.MessageRef, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.got = append(c.got, a)
	return nil, nil
}

func (c *capture) alerts() []cost.Alert {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]cost.Alert(nil), c.got...)
}

// statusServer answers every request with status (and header) and counts them.
func statusServer(t testing.TB, status int, header http.Header) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		n.Add(1)
		for k, v := range header {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// A receiver that answers 410 Gone disables its webhook: nothing more is
// sent to it, in this dispatch or later ones; the other notifiers get one
// alert saying so; Disabled lists it as failing.
func TestDispatcher_GoneDisablesNotifier(t *testing.T) {
	srv, hits := statusServer(t, http.StatusGone, nil)
	hook, err := webhook.New(webhook.Options{Name: "hook", URL: srv.URL + "/services/s3cr3tpath?token=s3cr3tquery",
		HTTPClient: srv.Client(), Now: func() time.Time { return notifytest.Now }})
	if err != nil {
		t.Fatal(err)
	}
	chat, term := &capture{name: "chat"}, &capture{name: "term"}
	var s sleeps
	d, err := notify.NewDispatcher(notify.DispatcherOptions{
		Notifiers: []notify.Notifier{hook, chat, term}, Sleep: s.sleep, Now: func() time.Time { return notifytest.Now },
	})
	if err != nil {
		t.Fatal(err)
	}
	alerts := notifytest.Alerts()
	jobs := []notify.Job{
		{Notifier: "hook", Alert: alerts["budget"]}, {Notifier: "chat", Alert: alerts["budget"]},
		{Notifier: "hook", Alert: alerts["anomaly"]}, {Notifier: "chat", Alert: alerts["anomaly"]},
	}
	var rec recorder
	res := d.Dispatch(context.Background(), jobs, rec.record)

	if r := res[0]; r.Sent || r.Retryable || !r.Disabled || r.Attempts != 1 || !errors.Is(r.Err, webhook.ErrGone) {
		t.Errorf("first hook job: %+v, want one attempt, Gone, disabled", r)
	}
	if r := res[2]; r.Sent || r.Retryable || !r.Disabled || r.Attempts != 0 || !errors.Is(r.Err, notify.ErrDisabled) {
		t.Errorf("second hook job: %+v, want no attempt and ErrDisabled", r)
	}
	for _, i := range []int{1, 3} {
		if !res[i].Sent || res[i].Err != nil {
			t.Errorf("chat job %d: %+v, want sent", i, res[i])
		}
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("gone receiver got %d requests, want 1", n)
	}
	if got := strings.Join(rec.jobs, ","); got != "chat/3f9a1c0b7d2e4f51,chat/0c1d2e3f40516273" {
		t.Errorf("recorded %q: want the chat sends only (the notice is not recorded)", got)
	}
	if len(s.d) != 0 {
		t.Errorf("slept %v: a 410 is not retried", s.d)
	}

	// The notice: once to each other notifier, after their own jobs.
	for _, c := range []*capture{chat, term} {
		got := c.alerts()
		if len(got) == 0 {
			t.Fatalf("%s got nothing", c.name)
		}
		notice := got[len(got)-1]
		if notice.Kind != cost.KindNotifier || notice.Status != cost.StatusFiring || notice.Severity != cost.SeverityCritical ||
			!strings.Contains(notice.Title, "hook") || !strings.Contains(notice.Summary, "410") || notice.Fingerprint == "" {
			t.Errorf("%s: notice %+v", c.name, notice.Finding)
		}
		for _, s := range []string{notice.Title, notice.Summary} {
			if strings.Contains(s, "s3cr3t") {
				t.Errorf("%s: secret in notice %q", c.name, s)
			}
		}
	}
	if n := len(chat.alerts()); n != 3 {
		t.Errorf("chat got %d alerts, want its 2 jobs and the notice", n)
	}
	if n := len(term.alerts()); n != 1 {
		t.Errorf("term got %d alerts, want the notice only", n)
	}

	// Disabled shows the failing notifier, without secrets.
	dis := d.Disabled()
	if len(dis) != 1 || dis[0].Name != "hook" || !dis[0].Since.Equal(notifytest.Now) || !errors.Is(dis[0].Err, webhook.ErrGone) {
		t.Fatalf("Disabled() = %+v", dis)
	}
	if strings.Contains(dis[0].Err.Error(), "s3cr3t") {
		t.Errorf("secret in %v", dis[0].Err)
	}

	// A later dispatch sends nothing to the disabled notifier and no second notice.
	res = d.Dispatch(context.Background(), []notify.Job{{Notifier: "hook", Alert: alerts["forecast"]}, {Notifier: "term", Alert: alerts["forecast"]}}, nil)
	if r := res[0]; r.Attempts != 0 || !r.Disabled || !errors.Is(r.Err, notify.ErrDisabled) {
		t.Errorf("later hook job: %+v", r)
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("gone receiver got %d requests after the dispatch that disabled it", n)
	}
	if n := len(term.alerts()); n != 2 {
		t.Errorf("term got %d alerts, want the notice and the forecast", n)
	}
}

// The Dispatcher retries a webhook only on 429 (after the Retry-After the
// receiver asked for) and 5xx; 400, 404 and 422 are tried once.
func TestDispatcher_WebhookRetries(t *testing.T) {
	tests := []struct {
		status   int
		header   http.Header
		attempts int
		minWait  time.Duration
	}{
		{400, nil, 1, 0},
		{404, nil, 1, 0},
		{422, nil, 1, 0},
		{401, nil, 1, 0},
		{429, http.Header{"Retry-After": {"7"}}, 3, 7 * time.Second},
		{500, nil, 3, 0},
		{503, http.Header{"Retry-After": {"2"}}, 3, 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			srv, hits := statusServer(t, tt.status, tt.header)
			hook, err := webhook.New(webhook.Options{Name: "hook", URL: srv.URL, HTTPClient: srv.Client(), Now: func() time.Time { return notifytest.Now }})
			if err != nil {
				t.Fatal(err)
			}
			var s sleeps
			d, err := notify.NewDispatcher(notify.DispatcherOptions{Notifiers: []notify.Notifier{hook}, MaxAttempts: 3, Sleep: s.sleep})
			if err != nil {
				t.Fatal(err)
			}
			r := d.Dispatch(context.Background(), []notify.Job{{Notifier: "hook", Alert: notifytest.Alerts()["budget"]}}, nil)[0]
			if r.Sent || r.Attempts != tt.attempts || int(hits.Load()) != tt.attempts {
				t.Errorf("%+v, %d requests: want %d attempts", r, hits.Load(), tt.attempts)
			}
			if retry := tt.attempts > 1; r.Retryable != retry || r.Disabled {
				t.Errorf("Retryable %v Disabled %v, want retryable %v", r.Retryable, r.Disabled, retry)
			}
			if len(s.d) != tt.attempts-1 {
				t.Errorf("slept %v, want %d waits", s.d, tt.attempts-1)
			}
			for _, w := range s.d {
				if w < tt.minWait {
					t.Errorf("waited %s, want at least the Retry-After %s", w, tt.minWait)
				}
			}
			if len(d.Disabled()) != 0 {
				t.Errorf("Disabled() = %v", d.Disabled())
			}
		})
	}
}

func TestIsGone(t *testing.T) {
	for _, tt := range []struct {
		name string
		err  error
		want bool
	}{
		{"Nil", nil, false},
		{"410", notify.StatusError(410, 0, nil), true},
		{"Wrapped410", fmt.Errorf("post: %w", notify.StatusError(410, 0, nil)), true},
		{"404", notify.StatusError(404, 0, nil), false},
		{"500", notify.StatusError(500, 0, nil), false},
		{"Plain", errors.New("gone"), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := notify.IsGone(tt.err); got != tt.want {
				t.Errorf("IsGone(%v) = %v, want %v", tt.err, got, tt.want)
			}
			if notify.IsGone(tt.err) && notify.IsRetryable(tt.err) {
				t.Errorf("%v is both Gone and retryable", tt.err)
			}
		})
	}
}
