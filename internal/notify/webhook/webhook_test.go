package webhook_test

import (
	"github.com/costbot/costbot/internal/golden"

	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/costbot/costbot/internal/cost"
	"github.com/costbot/costbot/internal/notify"
	"github.com/costbot/costbot/internal/notify/notifytest"
	"github.com/costbot/costbot/internal/notify/webhook"
)

// testKey is 32 bytes; testSecret is its Standard Webhooks form.
var (
	testKey    = []byte("0123456789abcdef0123456789abcdef")
	testSecret = "whsec_" + base64.StdEncoding.EncodeToString(testKey)
)

// verify re-implements Standard Webhooks verification from the spec:
// signed content = id "." timestamp "." body, HMAC-SHA256 with the decoded
// secret, header = space-separated "v1,<base64>" entries, timestamp within 5 min.
func verify(t testing.TB, secret string, h http.Header, body []byte, now time.Time) error {
	t.Helper()
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return err
	}
	id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return errors.New("missing webhook headers")
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("bad timestamp %q", ts)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return fmt.Errorf("timestamp %s too far from now", ts)
	}
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%s.%s", id, ts, body)
	want := mac.Sum(nil)
	for _, s := range strings.Fields(sigs) {
		ver, b64, ok := strings.Cut(s, ",")
		if !ok || ver != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(b64)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return errors.New("no valid signature")
}

type request struct {
	header http.Header
	body   []byte
	path   string
}

// receiver is an httptest endpoint that verifies every request's signature
// and answers with the scripted statuses in turn (then 204).
type receiver struct {
	t        testing.TB
	srv      *httptest.Server
	statuses []int
	headers  []http.Header

	mu   sync.Mutex
	reqs []request
}

func newReceiver(t testing.TB, statuses ...int) *receiver {
	t.Helper()
	r := &receiver{t: t, statuses: statuses}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		if req.Method != http.MethodPost || req.Header.Get("Content-Type") != "application/json" {
			t.Errorf("unexpected %s with content type %q", req.Method, req.Header.Get("Content-Type"))
		}
		if err := verify(t, testSecret, req.Header, body, notifytest.Now); err != nil {
			t.Errorf("signature: %v", err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		r.mu.Lock()
		n := len(r.reqs)
		r.reqs = append(r.reqs, request{header: req.Header.Clone(), body: body, path: req.URL.RequestURI()})
		r.mu.Unlock()
		status := http.StatusNoContent
		if n < len(r.statuses) {
			status = r.statuses[n]
		}
		if n < len(r.headers) {
			for k, v := range r.headers[n] {
				w.Header()[k] = v
			}
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, `{"error":"nope"}`)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func newNotifier(t testing.TB, url string) *webhook.Notifier {
	t.Helper()
	n, err := webhook.New(webhook.Options{
		Name: "ops-hook", URL: url, Secret: testSecret,
		HTTPClient: &http.Client{Timeout: 5 * time.Second}, Now: func() time.Time { return notifytest.Now },
		ExternalURL: "https://costbot.example.com",
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestNotifier_Notify(t *testing.T) {
	alerts := notifytest.Alerts()
	for _, name := range notifytest.Names {
		t.Run("OK/"+name, func(t *testing.T) {
			r := newReceiver(t)
			n := newNotifier(t, r.srv.URL+"/hook?token=abc")
			ref, err := n.Notify(context.Background(), alerts[name])
			if err != nil || ref != nil {
				t.Fatalf("Notify: ref %v, err %v", ref, err)
			}
			if len(r.reqs) != 1 {
				t.Fatalf("got %d requests", len(r.reqs))
			}
			req := r.reqs[0]
			if req.path != "/hook?token=abc" {
				t.Errorf("path %q", req.path)
			}
			if ts := req.header.Get("webhook-timestamp"); ts != strconv.FormatInt(notifytest.Now.Unix(), 10) {
				t.Errorf("webhook-timestamp %q", ts)
			}
			var msg map[string]any
			if err := json.Unmarshal(req.body, &msg); err != nil {
				t.Fatal(err)
			}
			if msg["version"] != "4" {
				t.Errorf("version %v", msg["version"])
			}
			first := msg["alerts"].([]any)[0].(map[string]any)
			if alerts[name].Status == cost.StatusFiring && first["endsAt"] != "0001-01-01T00:00:00Z" {
				t.Errorf("firing endsAt = %v", first["endsAt"])
			}
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, req.body, "", "  "); err != nil {
				t.Fatal(err)
			}
			pretty.WriteByte('\n')
			golden.Check(t, "testdata/"+name+".golden.json", pretty.Bytes())
		})
	}

	t.Run("IDPerDelivery", func(t *testing.T) {
		// A first send that fails and is retried, a reminder, then the
		// resolution: the retry shares the first id, the rest differ.
		r := newReceiver(t, 503)
		n := newNotifier(t, r.srv.URL)
		first := alerts["budget"]
		reminder := first
		reminder.Reason, reminder.LastSentAt = "repeat", first.StartsAt
		resolved := first
		resolved.Status, resolved.Reason, resolved.EndsAt = cost.StatusResolved, "resolved", notifytest.Now
		if _, err := n.Notify(context.Background(), first); !notify.IsRetryable(err) {
			t.Fatalf("503: err %v, want retryable", err)
		}
		for _, a := range []cost.Alert{first, reminder, resolved} {
			if _, err := n.Notify(context.Background(), a); err != nil {
				t.Fatal(err)
			}
		}
		var ids []string
		for i, req := range r.reqs {
			ids = append(ids, req.header.Get("webhook-id"))
			if want := webhook.MessageID([]cost.Alert{first, first, reminder, resolved}[i]); ids[i] != want {
				t.Errorf("request %d: webhook-id %q, want MessageID %q", i, ids[i], want)
			}
		}
		if ids[0] != ids[1] || ids[0] == "" {
			t.Errorf("retry ids %q, %q: want equal", ids[0], ids[1])
		}
		if ids[1] == ids[2] || ids[1] == ids[3] || ids[2] == ids[3] {
			t.Errorf("first %q, reminder %q, resolved %q: want distinct", ids[1], ids[2], ids[3])
		}
	})
}

// TestMessageID checks that webhook-id names one delivery: alerts of the
// same delivery (group) share an id whatever else changes, every group has
// its own, and each id is the fixed value below, so it is the same on every
// run and in every process.
func TestMessageID(t *testing.T) {
	base := notifytest.Alerts()["budget"]
	start := base.StartsAt
	at := func(h int) time.Time { return start.Add(time.Duration(h) * time.Hour) }
	with := func(f func(a *cost.Alert)) cost.Alert {
		a := base
		f(&a)
		return a
	}
	tests := []struct {
		name  string
		group string // same group, same id
		alert cost.Alert
	}{
		{"First", "first", base},
		{"FirstRetry", "first", with(func(a *cost.Alert) { a.Reason = "retry" })},
		{"FirstRetryNewFigures", "first", with(func(a *cost.Alert) { a.Reason, a.Actual = "retry", 230 })},
		{"FirstRetryOtherZone", "first", with(func(a *cost.Alert) { a.StartsAt = start.In(time.FixedZone("CET", 3600)) })},
		{"Reminder1", "reminder1", with(func(a *cost.Alert) { a.Reason, a.LastSentAt = "repeat", start })},
		{"Reminder1Retry", "reminder1", with(func(a *cost.Alert) { a.Reason, a.LastSentAt, a.Actual = "repeat", start, 240 })},
		{"Reminder2", "reminder2", with(func(a *cost.Alert) { a.Reason, a.LastSentAt = "repeat", at(24) })},
		{"Reminder3", "reminder3", with(func(a *cost.Alert) { a.Reason, a.LastSentAt = "repeat", at(48) })},
		{"Resolved", "resolved", with(func(a *cost.Alert) { a.Status, a.Reason, a.EndsAt = cost.StatusResolved, "resolved", at(50) })},
		{"ResolvedRetry", "resolved", with(func(a *cost.Alert) { a.Status, a.Reason, a.EndsAt = cost.StatusResolved, "resolved", at(51) })},
		{"Refire", "refire", with(func(a *cost.Alert) { a.StartsAt = at(72) })},
		{"RefireReminder", "refire-reminder", with(func(a *cost.Alert) { a.StartsAt, a.Reason, a.LastSentAt = at(72), "repeat", at(72) })},
		{"RefireResolved", "refire-resolved", with(func(a *cost.Alert) { a.StartsAt, a.Status, a.Reason = at(72), cost.StatusResolved, "resolved" })},
		{"OtherAlert", "other", with(func(a *cost.Alert) { a.Fingerprint, a.Reason = "0011223344556677", "escalated" })},
	}
	// Fixed values: a change here breaks de-duplication for receivers that
	// saw ids from an earlier version. "first" and "resolved" are the ids
	// costbot sent before reminders had ids of their own.
	want := map[string]string{
		"first":           "msg_a4df402c72e95eb09d4e57de",
		"reminder1":       "msg_c11f1fe3c79235769a33d4ac",
		"reminder2":       "msg_4aa085398ed8a2526d9d44bc",
		"reminder3":       "msg_f98b41d212d4b4cba01a1b68",
		"resolved":        "msg_4c4271d0108b2774d04d0810",
		"refire":          "msg_0c8d10db5163fde8c50801e4",
		"refire-reminder": "msg_28caf08747323e7198312a03",
		"refire-resolved": "msg_bef553e419808a8636a4ffb4",
		"other":           "msg_1f1b86b7359b2603e258417c",
	}
	groupOf := map[string]string{} // id -> group
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := webhook.MessageID(tt.alert)
			if id != want[tt.group] {
				t.Errorf("MessageID = %q, want %q (group %s)", id, want[tt.group], tt.group)
			}
			if g, ok := groupOf[id]; ok && g != tt.group {
				t.Errorf("MessageID %q of group %s equals that of group %s", id, tt.group, g)
			}
			groupOf[id] = tt.group
		})
	}
	if len(groupOf) != len(want) {
		t.Errorf("%d distinct ids, want one per group (%d)", len(groupOf), len(want))
	}
}

func TestNotifier_NotifyErr(t *testing.T) {
	a := notifytest.Alerts()["anomaly"]
	tests := []struct {
		name      string
		status    int
		header    http.Header
		retryable bool
		wait      time.Duration
		gone      bool
	}{
		{"Err500", 500, nil, true, 0, false},
		{"Err502", 502, nil, true, 0, false},
		{"Err503RetryAfter", 503, http.Header{"Retry-After": {"5"}}, true, 5 * time.Second, false},
		{"Err429RetryAfter", 429, http.Header{"Retry-After": {"17"}}, true, 17 * time.Second, false},
		{"Err429RetryAfterDate", 429, http.Header{"Retry-After": {notifytest.Now.Add(time.Minute).Format(http.TimeFormat)}}, true, time.Minute, false},
		{"Err400", 400, nil, false, 0, false},
		{"Err401", 401, nil, false, 0, false},
		{"Err404", 404, nil, false, 0, false},
		{"Err422", 422, http.Header{"Retry-After": {"17"}}, false, 0, false},
		{"Err410", 410, nil, false, 0, true},
		{"Err302", 302, http.Header{"Location": {"/elsewhere?token=s3cr3tquery"}}, false, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReceiver(t, tt.status)
			r.headers = []http.Header{tt.header}
			n := newNotifier(t, r.srv.URL+"/p/s3cr3tpath?token=s3cr3tquery")
			_, err := n.Notify(context.Background(), a)
			if err == nil {
				t.Fatal("want error")
			}
			if got := notify.IsRetryable(err); got != tt.retryable {
				t.Errorf("IsRetryable = %v, want %v (%v)", got, tt.retryable, err)
			}
			if got := notify.RetryAfter(err); got != tt.wait {
				t.Errorf("RetryAfter = %v, want %v", got, tt.wait)
			}
			if got := errors.Is(err, webhook.ErrGone); got != tt.gone {
				t.Errorf("errors.Is(ErrGone) = %v, want %v", got, tt.gone)
			}
			if got := notify.IsGone(err); got != tt.gone {
				t.Errorf("IsGone = %v, want %v", got, tt.gone)
			}
			if got, want := errors.Is(err, webhook.ErrRedirect), tt.status/100 == 3; got != want {
				t.Errorf("errors.Is(ErrRedirect) = %v, want %v", got, want)
			}
			assertNoSecret(t, err.Error())
			// The same delivery again (the receiver now answers 204): a
			// permanent refusal, other than Gone which the Dispatcher
			// handles, is not posted a second time and fails the same way;
			// anything else is posted.
			_, err2 := n.Notify(context.Background(), a)
			if permanent := !tt.retryable && !tt.gone; permanent {
				if len(r.reqs) != 1 {
					t.Errorf("%d requests, want the refused delivery posted once", len(r.reqs))
				}
				if err2 == nil || notify.IsRetryable(err2) || errors.Is(err2, webhook.ErrRedirect) != errors.Is(err, webhook.ErrRedirect) {
					t.Errorf("second Notify: %v, want the earlier permanent failure", err2)
				} else {
					assertNoSecret(t, err2.Error())
				}
			} else if len(r.reqs) != 2 || err2 != nil {
				t.Errorf("%d requests, second Notify %v: want it posted again and accepted", len(r.reqs), err2)
			}
		})
	}

	t.Run("ErrConnectionRefused", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		url := srv.URL
		srv.Close()
		n := newNotifier(t, strings.Replace(url, "http://", "http://user:s3cr3tpass@", 1)+"/p/s3cr3tpath?token=s3cr3tquery")
		_, err := n.Notify(context.Background(), a)
		if !notify.IsRetryable(err) {
			t.Errorf("transport error %v: want retryable", err)
		}
		assertNoSecret(t, err.Error())
		assertNoSecret(t, n.String())
	})

	t.Run("ErrCanceled", func(t *testing.T) {
		r := newReceiver(t)
		n := newNotifier(t, r.srv.URL+"?token=s3cr3tquery")
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := n.Notify(ctx, a)
		if err == nil || notify.IsRetryable(err) || !errors.Is(err, context.Canceled) {
			t.Errorf("err %v, want non-retryable context.Canceled", err)
		}
		assertNoSecret(t, err.Error())
	})
}

func assertNoSecret(t testing.TB, s string) {
	t.Helper()
	for _, secret := range []string{"s3cr3t", testSecret, base64.StdEncoding.EncodeToString(testKey)} {
		if strings.Contains(s, secret) {
			t.Errorf("secret %q leaked in %q", secret, s)
		}
	}
}

func TestNew(t *testing.T) {
	short := "whsec_" + base64.StdEncoding.EncodeToString([]byte("s3cr3t-too-short"))
	long := "whsec_" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("s3cr3t"), 20))
	tests := []struct {
		name string
		opts webhook.Options
	}{
		{"ErrNoPrefix", webhook.Options{Name: "h", URL: "https://x.example", Secret: base64.StdEncoding.EncodeToString(testKey)}},
		{"ErrNotBase64", webhook.Options{Name: "h", URL: "https://x.example", Secret: "whsec_s3cr3t!!!"}},
		{"ErrShortKey", webhook.Options{Name: "h", URL: "https://x.example", Secret: short}},
		{"ErrLongKey", webhook.Options{Name: "h", URL: "https://x.example", Secret: long}},
		{"ErrBadURL", webhook.Options{Name: "h", URL: "ftp://u:s3cr3t@x.example/?k=s3cr3t", Secret: testSecret}},
		{"ErrUnparsableURL", webhook.Options{Name: "h", URL: "http://x.example/%zz?k=s3cr3t", Secret: testSecret}},
		{"ErrURLPort", webhook.Options{Name: "h", URL: "https://x.example:99999/?k=s3cr3t", Secret: testSecret}},
		{"ErrURLNoHostName", webhook.Options{Name: "h", URL: "https://:443/?k=s3cr3t", Secret: testSecret}},
		{"ErrNoName", webhook.Options{URL: "https://x.example", Secret: testSecret}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := webhook.New(tt.opts)
			if err == nil {
				t.Fatal("want error")
			}
			assertNoSecret(t, err.Error())
			if strings.Contains(err.Error(), strings.TrimPrefix(tt.opts.Secret, "whsec_")) && tt.opts.Secret != "" {
				t.Errorf("secret in %q", err)
			}
		})
	}
	t.Run("OKUnsigned", func(t *testing.T) {
		if _, err := webhook.New(webhook.Options{Name: "h", URL: "https://x.example/hook"}); err != nil {
			t.Fatal(err)
		}
	})
}

// Without Options.Now the signing timestamp is the wall clock at send time,
// whatever instant the alert was evaluated at: receivers check it against
// their own clock.
func TestNotifier_Notify_DefaultSendClock(t *testing.T) {
	got := make(chan error, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		got <- verify(t, testSecret, req.Header, body, time.Now())
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	n, err := webhook.New(webhook.Options{Name: "ops-hook", URL: srv.URL, Secret: testSecret, HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	a := notifytest.Alerts()[notifytest.Names[0]]
	a.StartsAt = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) // evaluated long ago
	if _, err := n.Notify(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil {
		t.Errorf("receiver: %v", err)
	}
}

func TestAlertName(t *testing.T) {
	for k, want := range map[cost.Kind]string{
		cost.KindBudget: "CostbotBudget", cost.KindCardExpiry: "CostbotCardExpiry", cost.KindStale: "CostbotStale",
	} {
		if got := webhook.AlertName(k); got != want {
			t.Errorf("AlertName(%v) = %q, want %q", k, got, want)
		}
	}
}

func TestNotifier_Contract(t *testing.T) {
	notifytest.RunContract(t, func(t *testing.T) notify.Notifier {
		return newNotifier(t, newReceiver(t).srv.URL)
	})
}

// A permanent refusal stops only that delivery: the next delivery of the same
// alert (a reminder, the resolution) is posted.
func TestNotifier_Notify_RefusedThenNewDelivery(t *testing.T) {
	r := newReceiver(t, http.StatusUnprocessableEntity)
	n := newNotifier(t, r.srv.URL)
	first := notifytest.Alerts()["budget"]
	retry := first
	retry.Reason = "retry"
	reminder := first
	reminder.Reason, reminder.LastSentAt = "repeat", first.StartsAt.Add(time.Hour)
	resolved := first
	resolved.Status, resolved.Reason, resolved.EndsAt = cost.StatusResolved, "resolved", notifytest.Now
	for i, tt := range []struct {
		a       cost.Alert
		wantErr bool
		reqs    int
	}{{first, true, 1}, {retry, true, 1}, {reminder, false, 2}, {resolved, false, 3}} {
		_, err := n.Notify(context.Background(), tt.a)
		if (err != nil) != tt.wantErr || notify.IsRetryable(err) {
			t.Errorf("delivery %d (%s): err %v, want error %v, never retryable", i, tt.a.Reason, err, tt.wantErr)
		}
		if len(r.reqs) != tt.reqs {
			t.Errorf("delivery %d (%s): %d requests so far, want %d", i, tt.a.Reason, len(r.reqs), tt.reqs)
		}
	}
}
