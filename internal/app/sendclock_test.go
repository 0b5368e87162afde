package app

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/costbot/costbot/internal/config"
	"github.com/costbot/costbot/internal/demo"
)

// verifyStandardWebhook checks a request as a Standard Webhooks receiver
// does, from the spec: the signature is v1,base64(HMAC-SHA256(key,
// id "." timestamp "." body)) among the space-separated entries of
// webhook-signature, and webhook-timestamp is within tolerance of the
// receiver's clock.
func verifyStandardWebhook(secret string, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return err
	}
	id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return errors.New("missing webhook-id, webhook-timestamp or webhook-signature")
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("webhook-timestamp %q is not Unix seconds", ts)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("webhook-timestamp %s is %s away from the receiver's clock", time.Unix(sec, 0).UTC().Format(time.RFC3339), d.Round(time.Second))
	}
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%s.%s", id, ts, body)
	want := mac.Sum(nil)
	for _, s := range strings.Fields(sigs) {
		if ver, b64, ok := strings.Cut(s, ","); ok && ver == "v1" {
			if got, err := base64.StdEncoding.DecodeString(b64); err == nil && hmac.Equal(got, want) {
				return nil
			}
		}
	}
	return errors.New("no valid v1 signature")
}

// An evaluation clock far from the wall clock (costbot once --now) must not
// leak into the webhook's signing timestamp: a receiver that allows five
// minutes of skew against real time accepts every delivery.
func TestApp_Cycle_WebhookSignsWithSendClock(t *testing.T) {
	eval := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	if d := time.Since(eval); d < time.Hour && d > -time.Hour {
		t.Skip("the wall clock is too close to the evaluation instant to tell them apart")
	}
	cf := httptest.NewServer(demo.NewServer(eval))
	t.Cleanup(cf.Close)
	var (
		mu       sync.Mutex
		accepted int
	)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := verifyStandardWebhook(hookSecret, r.Header, body, time.Now(), 5*time.Minute); err != nil {
			t.Errorf("receiver rejected the delivery: %v", err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		mu.Lock()
		accepted++
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(hook.Close)

	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "rules"), 0o755); err != nil {
		t.Fatal(err)
	}
	rulesYAML := "cards:\n  - name: card\n    account: \"*\"\n"
	if err := os.WriteFile(filepath.Join(dir, "rules", "r.yaml"), []byte(rulesYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	yml := fmt.Sprintf(`cloudflare:
  base_url: %s
  api_token: %s
  accounts: [{id: %s, name: production}]
notifiers:
  - name: ops-hook
    webhook: {url: %s/hook, secret: %s}
rules: rules
state: costbot.db
`, cf.URL, demo.Token, demo.AccountID, hook.URL, hookSecret)
	path := filepath.Join(dir, "config.yaml")
	cfg, err := config.Parse(path, []byte(yml), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(context.Background(), Options{Config: cfg, Now: func() time.Time { return eval }, RetryWait: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	rep, err := a.Cycle(context.Background(), eval)
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.Err(); err != nil {
		t.Errorf("cycle: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if accepted == 0 {
		t.Fatalf("the receiver accepted no delivery (%d findings)", len(rep.Findings))
	}
}
