package app

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// A webhook whose receiver answers 410 Gone is disabled for the daemon's
// life: the next cycle sends it nothing, Slack is told, and /readyz names it.
// http.external_url reaches the payload of a working webhook.
func TestApp_WebhookGoneAndExternalURL(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 17, 0, 0, 0, time.UTC)

	t.Run("OKExternalURL", func(t *testing.T) {
		e := newEnv(t, now)
		e.cfg.HTTP.ExternalURL = "https://costbot.example.com/"
		a := e.app(t, now)
		if _, err := a.Cycle(ctx, now); err != nil {
			t.Fatal(err)
		}
		if e.hook.count() == 0 {
			t.Fatal("webhook got nothing")
		}
		for _, b := range e.hook.bodies {
			al := b["alerts"].([]any)[0].(map[string]any)
			if b["externalURL"] != "https://costbot.example.com/" || al["generatorURL"] != "https://costbot.example.com/alerts/"+al["fingerprint"].(string) {
				t.Errorf("externalURL %v generatorURL %v", b["externalURL"], al["generatorURL"])
			}
		}
	})

	t.Run("ErrGone", func(t *testing.T) {
		e := newEnv(t, now)
		e.hook.status = http.StatusGone
		a := e.app(t, now)
		if _, err := a.Cycle(ctx, now); err != nil {
			t.Fatal(err)
		}
		var notice bool
		for _, p := range e.slack.posts {
			notice = notice || strings.Contains(p.Get("text"), "Notifier ops-hook is disabled")
		}
		if !notice {
			t.Errorf("Slack was not told that ops-hook is disabled (%d posts)", e.slack.count())
		}
		rec := httptest.NewRecorder()
		a.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		var body struct{ Reasons []string }
		_ = json.Unmarshal(rec.Body.Bytes(), &body)
		var named bool
		for _, r := range body.Reasons {
			named = named || strings.HasPrefix(r, "notifier ops-hook is disabled since ")
		}
		if rec.Code != http.StatusServiceUnavailable || !named {
			t.Errorf("/readyz %d %s", rec.Code, rec.Body)
		}
		// The next cycle: the webhook would accept now, but it is disabled.
		e.hook.mu.Lock()
		e.hook.status = 0
		e.hook.mu.Unlock()
		posts := e.slack.count()
		if _, err := a.Cycle(ctx, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if n := e.hook.count(); n != 0 {
			t.Errorf("disabled webhook got %d bodies", n)
		}
		if got := e.slack.count(); got != posts {
			t.Errorf("slack posts %d -> %d: the notice goes out once", posts, got)
		}
	})
}
