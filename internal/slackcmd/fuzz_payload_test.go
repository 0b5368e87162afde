package slackcmd

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
)

// noNetwork fails every request at once: fuzzed response_urls must not
// reach the network.
type noNetwork struct{}

func (noNetwork) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New("no network in fuzz tests")
}

// interactionSeeds are block_actions payloads as Slack sends them (the
// shape clickPayload builds), foreign and truncated ones, and other types.
func interactionSeeds(f *testing.F) []string {
	cb := map[string]any{
		"type":         "block_actions",
		"user":         map[string]any{"id": "U123", "username": "ada", "name": "ada"},
		"channel":      map[string]any{"id": "C0ALERTS"},
		"container":    map[string]any{"type": "message", "message_ts": "1764079200.000100", "channel_id": "C0ALERTS"},
		"message":      alertMessage("7a3a0c77b9d43dc3"),
		"response_url": "https://hooks.slack.com/actions/T0001/1/abc",
		"trigger_id":   "1.2.3",
		"actions": []map[string]any{{
			"action_id": ActionSnooze7d, "block_id": "costbot_actions", "type": "button", "value": "7a3a0c77b9d43dc3", "action_ts": "1764079300.0001",
		}},
	}
	b, err := json.Marshal(cb)
	if err != nil {
		f.Fatal(err)
	}
	click := string(b)
	return []string{
		click,
		strings.Replace(click, ActionSnooze7d, ActionAck, 1),
		strings.Replace(click, ActionSnooze7d, "someone_elses_button", 1),
		strings.Replace(click, `"value":"7a3a0c77b9d43dc3","action_ts"`, `"value":"","action_ts"`, 1),
		click[:len(click)/2],
		`{"type":"view_submission","view":{"id":"V1"}}`,
		`{"type":"block_actions","actions":[{"action_id":"costbot_expected","value":"fp"}],"message":{"blocks":[{"type":"nonsense"}]}}`,
		`{"type":"block_actions","actions":null}`,
		`[]`, `null`, ``, `{"type":1}`,
	}
}

// FuzzInteraction sends a correctly signed interaction with any payload
// through the real handler: it never panics, answers 200 or 400, and
// applies at most one action, only for a costbot button that carries a
// fingerprint, with a known kind and a snooze that ends in the future.
func FuzzInteraction(f *testing.F) {
	for _, s := range interactionSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, payload string) {
		acts := &fakeActions{}
		h := New(Options{SigningSecret: testSecret, Now: func() time.Time { return testNow }, Actions: acts,
			Logger: testLogger(io.Discard), HTTPClient: &http.Client{Transport: noNetwork{}}})
		mux := http.NewServeMux()
		h.Routes(mux)
		body := url.Values{"payload": {payload}}.Encode()
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, signedRequest(t, "/slack/interactions", testSecret, testNow, body))
		_ = h.Close() // waits for the click's follow-up
		if w.Code != http.StatusOK && w.Code != http.StatusBadRequest {
			t.Fatalf("status %d for payload %q", w.Code, payload)
		}
		got := acts.actions()
		if len(got) > 1 {
			t.Fatalf("%d actions applied for one interaction", len(got))
		}
		if len(got) == 0 {
			return
		}
		a := got[0]
		if w.Code != http.StatusOK {
			t.Errorf("action applied but status %d", w.Code)
		}
		var cb slack.InteractionCallback
		if err := json.Unmarshal([]byte(payload), &cb); err != nil || cb.Type != slack.InteractionTypeBlockActions {
			t.Errorf("action %+v applied from a payload that is no block_actions (%v)", a, err)
		}
		found := false
		for _, ba := range cb.ActionCallback.BlockActions {
			if ba.Value == a.Fingerprint && strings.HasPrefix(ba.ActionID, "costbot_") {
				found = true
			}
		}
		if a.Fingerprint == "" || !found {
			t.Errorf("applied fingerprint %q is not a costbot button's value", a.Fingerprint)
		}
		switch a.Kind {
		case KindAck, KindExpected:
		case KindSnooze:
			if !a.Until.After(a.At) {
				t.Errorf("snooze until %s, not after %s", a.Until, a.At)
			}
		default:
			t.Errorf("unknown kind %q", a.Kind)
		}
	})
}

// FuzzVerify checks Slack request signatures with any timestamp, signature
// and body: a request is accepted only with the exact HMAC of its body and
// timestamp within five minutes, at most once; the valid signature of a
// body never verifies another body.
func FuzzVerify(f *testing.F) {
	// Slack's documented example (TestSlackDocsVector) and variations.
	const (
		docsTS   = "1531420618"
		docsBody = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
		docsSig  = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
	)
	f.Add(docsTS, docsSig, []byte(docsBody), int64(90))
	f.Add(docsTS, strings.ToUpper(docsSig[3:]), []byte(docsBody), int64(0))
	f.Add(docsTS, "v0="+strings.Repeat("0", 64), []byte(docsBody), int64(-299))
	f.Add(docsTS, "v1="+docsSig[3:], []byte(docsBody), int64(301))
	f.Add("", "", []byte(nil), int64(0))
	f.Add("+1531420618", docsSig, []byte(docsBody), int64(0))
	f.Add("1531420618.5", docsSig[:20], []byte("payload=%7B%7D"), int64(-1))
	const secret = "8f742231b10e8888abcd99yyyzzz85a5"
	f.Fuzz(func(t *testing.T, ts, sig string, body []byte, skew int64) {
		sec, tsErr := strconv.ParseInt(ts, 10, 64)
		at := time.Unix(sec, 0)
		if tsErr != nil {
			at = time.Unix(1531420618, 0)
		}
		now := func() time.Time { return at.Add(time.Duration(skew%1000) * time.Second) }
		v := newVerifier(secret, now)
		want := sign(secret, ts, body)
		err := v.check(ts, sig, body)
		if err == nil {
			if tsErr != nil {
				t.Fatalf("accepted malformed timestamp %q", ts)
			}
			if d := skew % 1000; d > 300 || d < -300 {
				t.Fatalf("accepted a timestamp %d s off", d)
			}
			if !strings.EqualFold(sig, want) || !strings.HasPrefix(sig, "v0=") {
				t.Fatalf("accepted signature %q, the HMAC is %q", sig, want)
			}
			if err := v.check(ts, sig, body); !errors.Is(err, errReplay) {
				t.Fatalf("replay: %v, want errReplay", err)
			}
		}
		// The body's own signature verifies it, within the window, and
		// verifies no other body.
		if tsErr == nil && skew%1000 <= 300 && skew%1000 >= -300 {
			if err := newVerifier(secret, now).check(ts, want, body); err != nil {
				t.Fatalf("the valid signature was refused: %v", err)
			}
			other := append([]byte("x"), body...)
			if err := newVerifier(secret, now).check(ts, want, other); !errors.Is(err, errBadSignature) {
				t.Fatalf("another body's signature: %v, want errBadSignature", err)
			}
		}
	})
}
