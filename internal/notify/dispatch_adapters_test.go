package notify_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/costbot/costbot/internal/cost"
	"github.com/costbot/costbot/internal/notify"
	"github.com/costbot/costbot/internal/notify/console"
	"github.com/costbot/costbot/internal/notify/notifytest"
	"github.com/costbot/costbot/internal/notify/webhook"
)

// TestDispatcher_BrokenWebhookGoodConsole wires real adapters: a webhook
// whose endpoint always answers 500 and a console notifier. The console
// still sends and records every alert; the webhook is retried, then
// reported as a retryable failure and never recorded.
func TestDispatcher_BrokenWebhookGoodConsole(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer srv.Close()
	hook, err := webhook.New(webhook.Options{Name: "hook", URL: srv.URL, HTTPClient: srv.Client(), Now: func() time.Time { return notifytest.Now }})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	con := console.New(console.Options{Name: "console", Writer: &out})
	var s sleeps
	d, err := notify.NewDispatcher(notify.DispatcherOptions{
		Notifiers: []notify.Notifier{hook, con}, MaxAttempts: 3, Sleep: s.sleep,
	})
	if err != nil {
		t.Fatal(err)
	}
	alerts := notifytest.Alerts()
	var jobs []notify.Job
	for _, name := range []string{"budget", "anomaly"} {
		jobs = append(jobs, notify.Job{Notifier: "hook", Alert: alerts[name]}, notify.Job{Notifier: "console", Alert: alerts[name]})
	}
	var mu sync.Mutex
	var recorded []string
	res := d.Dispatch(context.Background(), jobs, func(_ context.Context, j notify.Job, _ *cost.MessageRef) error {
		mu.Lock()
		defer mu.Unlock()
		recorded = append(recorded, j.Notifier+"/"+j.Alert.Kind.String())
		return nil
	})
	for i, r := range res {
		switch r.Job.Notifier {
		case "hook":
			if r.Sent || !r.Retryable || r.Attempts != 3 {
				t.Errorf("job %d: %+v, want 3 attempts and a retryable failure", i, r)
			}
		case "console":
			if !r.Sent || r.Err != nil {
				t.Errorf("job %d: %+v, want sent", i, r)
			}
		}
	}
	if got := strings.Join(recorded, ","); got != "console/budget,console/anomaly" {
		t.Errorf("recorded %q", got)
	}
	if hits.Load() != 6 {
		t.Errorf("webhook hit %d times, want 6", hits.Load())
	}
	if !strings.Contains(out.String(), alerts["anomaly"].Title) {
		t.Error("console output misses the anomaly")
	}
}
