package slackcmd

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestSlackDocsVector checks the example from Slack's "Verifying requests" docs.
func TestSlackDocsVector(t *testing.T) {
	const (
		secret = "8f742231b10e8888abcd99yyyzzz85a5"
		ts     = "1531420618"
		body   = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
		want   = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
	)
	if got := sign(secret, ts, []byte(body)); got != want {
		t.Fatalf("sign = %s, want %s", got, want)
	}
	v := newVerifier(secret, func() time.Time { return time.Unix(1531420618, 0).Add(90 * time.Second) })
	if err := v.check(ts, want, []byte(body)); err != nil {
		t.Fatalf("check(docs vector) = %v, want nil", err)
	}
	if err := v.check(ts, want, []byte(body)); err != errReplay {
		t.Fatalf("second check = %v, want errReplay", err)
	}
	v2 := newVerifier(secret, func() time.Time { return time.Unix(1531420618, 0).Add(10 * time.Minute) })
	if err := v2.check(ts, want, []byte(body)); err != errStale {
		t.Fatalf("check 10 min later = %v, want errStale", err)
	}
}

func TestSignedRequests(t *testing.T) {
	body := commandBody("help", 1)
	tests := []struct {
		name   string
		req    func(t *testing.T) *http.Request
		status int
		reason string
	}{
		{"valid", func(t *testing.T) *http.Request {
			return signedRequest(t, "/slack/commands", testSecret, testNow, body)
		}, 200, ""},
		{"valid interaction path, not block_actions", func(t *testing.T) *http.Request {
			return signedRequest(t, "/slack/interactions", testSecret, testNow, "payload=%7B%22type%22%3A%22shortcut%22%7D")
		}, 200, ""},
		{"clock skew 4m59s", func(t *testing.T) *http.Request {
			return signedRequest(t, "/slack/commands", testSecret, testNow.Add(-299*time.Second), body)
		}, 200, ""},
		{"wrong secret", func(t *testing.T) *http.Request {
			return signedRequest(t, "/slack/commands", "not-the-secret", testNow, body)
		}, 401, errBadSignature.Error()},
		{"stale timestamp", func(t *testing.T) *http.Request {
			return signedRequest(t, "/slack/commands", testSecret, testNow.Add(-6*time.Minute), body)
		}, 401, errStale.Error()},
		{"future timestamp", func(t *testing.T) *http.Request {
			return signedRequest(t, "/slack/commands", testSecret, testNow.Add(6*time.Minute), body)
		}, 401, errStale.Error()},
		{"tampered body", func(t *testing.T) *http.Request {
			r := signedRequest(t, "/slack/commands", testSecret, testNow, body)
			r.Body = httptestBody(strings.Replace(body, "help", "spend", 1))
			return r
		}, 401, errBadSignature.Error()},
		{"missing signature", func(t *testing.T) *http.Request {
			r := signedRequest(t, "/slack/commands", testSecret, testNow, body)
			r.Header.Del("X-Slack-Signature")
			return r
		}, 401, errMissingHeaders.Error()},
		{"missing timestamp", func(t *testing.T) *http.Request {
			r := signedRequest(t, "/slack/commands", testSecret, testNow, body)
			r.Header.Del("X-Slack-Request-Timestamp")
			return r
		}, 401, errMissingHeaders.Error()},
		{"malformed timestamp", func(t *testing.T) *http.Request {
			r := signedRequest(t, "/slack/commands", testSecret, testNow, body)
			r.Header.Set("X-Slack-Request-Timestamp", "yesterday")
			return r
		}, 401, errBadTimestamp.Error()},
		{"malformed signature", func(t *testing.T) *http.Request {
			r := signedRequest(t, "/slack/commands", testSecret, testNow, body)
			r.Header.Set("X-Slack-Signature", "v1=zz")
			return r
		}, 401, errBadSignature.Error()},
		{"oversized body", func(t *testing.T) *http.Request {
			big := body + "&pad=" + strings.Repeat("x", DefaultMaxBody)
			return signedRequest(t, "/slack/commands", testSecret, testNow, big)
		}, 401, errTooLarge.Error()},
		{"oversized body, no content length", func(t *testing.T) *http.Request {
			big := body + "&pad=" + strings.Repeat("x", DefaultMaxBody)
			r := signedRequest(t, "/slack/commands", testSecret, testNow, big)
			r.ContentLength = -1
			return r
		}, 401, errTooLarge.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, logs := newTestHandler(t, Options{})
			mux := http.NewServeMux()
			h.Routes(mux)
			w := httptest.NewRecorder()
			mux.ServeHTTP(w, tt.req(t))
			if w.Code != tt.status {
				t.Fatalf("status = %d, want %d; body %q", w.Code, tt.status, w.Body.String())
			}
			l := logs.String()
			if tt.reason != "" {
				if strings.Count(l, "slack request refused") != 1 || !strings.Contains(l, tt.reason) {
					t.Errorf("want one refusal log line naming %q, got:\n%s", tt.reason, l)
				}
			}
			if strings.Contains(l, testSecret) || strings.Contains(l, "v0=") {
				t.Errorf("log leaks the secret or a signature:\n%s", l)
			}
		})
	}
}

func TestReplayRefused(t *testing.T) {
	h, logs := newTestHandler(t, Options{})
	mux := http.NewServeMux()
	h.Routes(mux)
	body := commandBody("budgets", 7)
	first := signedRequest(t, "/slack/commands", testSecret, testNow, body)
	again := signedRequest(t, "/slack/commands", testSecret, testNow, body)
	for i, want := range []int{200, 401} {
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, []*http.Request{first, again}[i])
		if w.Code != want {
			t.Fatalf("request %d: status %d, want %d", i, w.Code, want)
		}
	}
	if !strings.Contains(logs.String(), errReplay.Error()) {
		t.Errorf("log does not name the replay:\n%s", logs)
	}
}

// TestReplayCachePruned checks that remembered signatures are dropped once
// their timestamp left the window, so the cache does not grow forever.
func TestReplayCachePruned(t *testing.T) {
	now := testNow
	v := newVerifier(testSecret, func() time.Time { return now })
	for i := range 100 {
		b := []byte(commandBody("help", i))
		ts := now.Unix()
		if err := v.check(itoa(ts), sign(testSecret, itoa(ts), b), b); err != nil {
			t.Fatal(err)
		}
	}
	now = now.Add(6 * time.Minute)
	b := []byte(commandBody("help", 1000))
	if err := v.check(itoa(now.Unix()), sign(testSecret, itoa(now.Unix()), b), b); err != nil {
		t.Fatal(err)
	}
	if n := len(v.seen); n != 1 {
		t.Errorf("cache holds %d signatures after the window passed, want 1", n)
	}
}

// TestNoSecretRefusesAll: without a signing secret (Socket Mode setups) the
// HTTP endpoints accept nothing, not even a request signed with "".
func TestNoSecretRefusesAll(t *testing.T) {
	h := New(Options{Now: func() time.Time { return testNow }, Logger: testLogger(&syncBuffer{})})
	h.SetData(testData())
	mux := http.NewServeMux()
	h.Routes(mux)
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, signedRequest(t, "/slack/commands", "", testNow, commandBody("help", 1)))
	if w.Code != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401", w.Code)
	}
}
