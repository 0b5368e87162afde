package slackcmd

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slacktest"
)

// fakeActions records applied actions.
type fakeActions struct {
	mu  sync.Mutex
	got []Action
	err error
}

func (f *fakeActions) Apply(_ context.Context, a Action) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got = append(f.got, a)
	return f.err
}

func (f *fakeActions) actions() []Action {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Action(nil), f.got...)
}

// captureServer is a response_url endpoint that records every JSON body and
// fails the test on anything but POST application/json.
type captureServer struct {
	*httptest.Server
	mu     sync.Mutex
	bodies []map[string]any
}

// newCaptureServer starts an https captureServer; pass its host in
// Options.ResponseURLHosts and its Client as Options.HTTPClient.
func newCaptureServer(t *testing.T) *captureServer {
	t.Helper()
	return startCapture(t, httptest.NewTLSServer)
}

// newPlainCaptureServer starts a captureServer on plain http.
func newPlainCaptureServer(t *testing.T) *captureServer {
	t.Helper()
	return startCapture(t, httptest.NewServer)
}

func startCapture(t *testing.T, start func(http.Handler) *httptest.Server) *captureServer {
	t.Helper()
	c := &captureServer{}
	c.Server = start(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("response_url got %s with Content-Type %q", r.Method, r.Header.Get("Content-Type"))
		}
		var m map[string]any
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &m); err != nil {
			t.Errorf("response_url body is not JSON: %s", b)
		}
		c.mu.Lock()
		c.bodies = append(c.bodies, m)
		c.mu.Unlock()
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(c.Close)
	return c
}

func (c *captureServer) got() []map[string]any {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]map[string]any(nil), c.bodies...)
}

// host is the server's host:port as it appears in a response_url.
func (c *captureServer) host() string { return c.Listener.Addr().String() }

// alertMessage is an alert as notify/slack posts it: text, a section and the
// four buttons, each with value = fingerprint.
func alertMessage(fp string) slack.Message {
	btn := func(id, label string) slack.BlockElement {
		return slack.NewButtonBlockElement(id, fp, slack.NewTextBlockObject(slack.PlainTextType, label, false, false))
	}
	var m slack.Message
	m.Text = "Workers Standard Requests spiked on production"
	m.Timestamp = "1764079200.000100"
	m.Blocks = slack.Blocks{BlockSet: []slack.Block{
		section("*Workers Standard Requests spiked on production*\n$101.30 vs expected $40.10"),
		slack.NewActionBlock("costbot_actions",
			btn(ActionAck, "Acknowledge"), btn(ActionSnooze24h, "Snooze 24h"),
			btn(ActionSnooze7d, "Snooze 7d"), btn(ActionExpected, "Expected")),
		contextLine("rule `spikes` · fingerprint `" + fp + "`"),
	}}
	return m
}

// clickPayload is a block_actions interaction form body.
func clickPayload(t *testing.T, actionID, fp, responseURL string) string {
	t.Helper()
	cb := map[string]any{
		"type":         "block_actions",
		"user":         map[string]any{"id": "U123", "username": "ada", "name": "ada"},
		"channel":      map[string]any{"id": "C0ALERTS"},
		"container":    map[string]any{"type": "message", "message_ts": "1764079200.000100", "channel_id": "C0ALERTS"},
		"message":      alertMessage(fp),
		"response_url": responseURL,
		"trigger_id":   "1.2.3",
		"actions": []map[string]any{{
			"action_id": actionID, "block_id": "costbot_actions", "type": "button", "value": fp, "action_ts": "1764079300.0001",
		}},
	}
	b, err := json.Marshal(cb)
	if err != nil {
		t.Fatal(err)
	}
	return url.Values{"payload": {string(b)}}.Encode()
}

func TestButtonClicks(t *testing.T) {
	tests := []struct {
		actionID string
		kind     string
		until    time.Time
		line     string
	}{
		{ActionAck, KindAck, time.Time{}, "Acknowledged by <@U123> on Wed 25 Nov 14:00 UTC"},
		{ActionSnooze24h, KindSnooze, testNow.Add(24 * time.Hour), "Snoozed by <@U123> until Thu 26 Nov 14:00 UTC"},
		{ActionSnooze7d, KindSnooze, testNow.Add(7 * 24 * time.Hour), "Snoozed by <@U123> until Wed 2 Dec 14:00 UTC"},
		{ActionExpected, KindExpected, time.Time{}, "Marked expected by <@U123> on Wed 25 Nov 14:00 UTC"},
	}
	for _, tt := range tests {
		t.Run(tt.actionID, func(t *testing.T) {
			acts := &fakeActions{}
			capture := newCaptureServer(t)
			h, _ := newTestHandler(t, Options{Actions: acts, HTTPClient: capture.Client(), ResponseURLHosts: []string{capture.host()}})
			mux := http.NewServeMux()
			h.Routes(mux)
			w := httptest.NewRecorder()
			mux.ServeHTTP(w, signedRequest(t, "/slack/interactions", testSecret, testNow, clickPayload(t, tt.actionID, "a1b2c3d4e5f60718", capture.URL+"/actions/T1/2/xyz")))
			if w.Code != http.StatusOK || w.Body.Len() != 0 {
				t.Fatalf("ack: status %d body %q, want empty 200", w.Code, w.Body)
			}
			if err := h.Close(); err != nil {
				t.Fatal(err)
			}
			want := Action{Fingerprint: "a1b2c3d4e5f60718", Kind: tt.kind, User: "U123", UserName: "ada", At: testNow, Until: tt.until, Channel: "C0ALERTS", MessageTS: "1764079200.000100"}
			if got := acts.actions(); len(got) != 1 || got[0] != want {
				t.Fatalf("Apply got %+v, want %+v", got, want)
			}
			bodies := capture.got()
			if len(bodies) != 1 {
				t.Fatalf("response_url got %d posts, want 1", len(bodies))
			}
			m := bodies[0]
			if m["replace_original"] != true {
				t.Errorf("replace_original = %v", m["replace_original"])
			}
			raw, _ := json.Marshal(m)
			if strings.Contains(string(raw), `"actions"`) || strings.Contains(string(raw), "costbot_ack") {
				t.Errorf("updated message still has buttons: %s", raw)
			}
			blocks := m["blocks"].([]any)
			if len(blocks) != 3 {
				t.Fatalf("updated message has %d blocks, want 3: %s", len(blocks), raw)
			}
			done := blocks[1].(map[string]any)
			if done["type"] != "context" || !strings.Contains(string(mustJSON(t, done)), jsonEscape(tt.line)) {
				t.Errorf("block 2 = %s, want context %q", mustJSON(t, done), tt.line)
			}
			if !strings.Contains(string(raw), "spiked on production") || !strings.Contains(string(raw), "fingerprint") {
				t.Errorf("original blocks lost: %s", raw)
			}
			golden(t, "click-"+tt.actionID, raw)
		})
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestButtonApplyFails(t *testing.T) {
	acts := &fakeActions{err: errors.New("store: database is locked")}
	capture := newCaptureServer(t)
	h, logs := newTestHandler(t, Options{Actions: acts, HTTPClient: capture.Client(), ResponseURLHosts: []string{capture.host()}})
	mux := http.NewServeMux()
	h.Routes(mux)
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, signedRequest(t, "/slack/interactions", testSecret, testNow, clickPayload(t, ActionSnooze7d, "a1b2c3d4e5f60718", capture.URL+"/r")))
	_ = h.Close()
	bodies := capture.got()
	if len(bodies) != 1 || bodies[0]["replace_original"] == true || !strings.Contains(bodies[0]["text"].(string), "Could not snooze") {
		t.Fatalf("response_url got %v, want one ephemeral failure note", bodies)
	}
	if !strings.Contains(logs.String(), "database is locked") {
		t.Errorf("log lacks the error:\n%s", logs)
	}
}

func TestForeignButtonIgnored(t *testing.T) {
	acts := &fakeActions{}
	h, _ := newTestHandler(t, Options{Actions: acts})
	mux := http.NewServeMux()
	h.Routes(mux)
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, signedRequest(t, "/slack/interactions", testSecret, testNow, clickPayload(t, "someone_else", "x", "http://127.0.0.1:1/")))
	_ = h.Close()
	if w.Code != 200 || len(acts.actions()) != 0 {
		t.Fatalf("status %d, %d actions applied", w.Code, len(acts.actions()))
	}
}

// TestPayloadFromQueryIgnored checks that a payload in the query string is not
// read: only the signed POST body counts.
func TestPayloadFromQueryIgnored(t *testing.T) {
	acts := &fakeActions{}
	h, _ := newTestHandler(t, Options{Actions: acts})
	mux := http.NewServeMux()
	h.Routes(mux)
	r := signedRequest(t, "/slack/interactions", testSecret, testNow, "")
	r.URL.RawQuery = clickPayload(t, ActionAck, "a1b2c3d4e5f60718", "http://127.0.0.1:1/")
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	_ = h.Close()
	if w.Code != http.StatusBadRequest || len(acts.actions()) != 0 {
		t.Fatalf("status %d, %d actions; want 400 and none", w.Code, len(acts.actions()))
	}
}

// TestButtonChatUpdate uses slacktest with a chat.update binder: with a Slack
// client set, the message is updated by channel and ts instead of response_url.
func TestButtonChatUpdate(t *testing.T) {
	var mu sync.Mutex
	var form url.Values
	s := slacktest.NewTestServer(func(c slacktest.Customize) {
		c.Handle("/chat.update", func(w http.ResponseWriter, r *http.Request) {
			_ = r.ParseForm()
			mu.Lock()
			form = r.PostForm
			mu.Unlock()
			_, _ = w.Write([]byte(`{"ok":true,"channel":"C0ALERTS","ts":"1764079200.000100","text":"x"}`))
		})
	})
	s.Start()
	defer s.Stop()
	api := slack.New("xoxb-test", slack.OptionAPIURL(s.GetAPIURL()))
	acts := &fakeActions{}
	h, _ := newTestHandler(t, Options{Actions: acts, Slack: api})
	mux := http.NewServeMux()
	h.Routes(mux)
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, signedRequest(t, "/slack/interactions", testSecret, testNow, clickPayload(t, ActionSnooze24h, "a1b2c3d4e5f60718", "http://127.0.0.1:1/unused")))
	_ = h.Close()
	mu.Lock()
	defer mu.Unlock()
	if form.Get("channel") != "C0ALERTS" || form.Get("ts") != "1764079200.000100" {
		t.Fatalf("chat.update form = %v", form)
	}
	if b := form.Get("blocks"); !strings.Contains(b, "Snoozed by") || strings.Contains(b, "costbot_snooze_24h") {
		t.Errorf("chat.update blocks = %s", b)
	}
}

// TestHandler_PostResponseURL checks that only https response_urls on an
// allowed host are requested, and that a refusal names the host but never
// the URL's token. {tls} and {plain} stand for the hosts of an https and a
// plain http capture server; neither may be hit unless the case allows it.
func TestHandler_PostResponseURL(t *testing.T) {
	tests := []struct {
		name    string
		url     string
		hosts   []string // nil: the default, hooks.slack.com
		wantErr string   // "" for OK
		posts   int      // requests the https server gets
	}{
		{"OK", "https://{tls}/actions/T1/2/s3cr3t", []string{"{tls}"}, "", 1},
		{"OKOneOfSeveral", "https://{tls}/actions/T1/2/s3cr3t", []string{"hooks.slack.com", "{tls}"}, "", 1},
		{"ErrForeignHost", "https://{tls}/actions/T1/2/s3cr3t", nil, `host "{tls}" is not allowed`, 0},
		{"ErrForeignHostNotListed", "https://{tls}/actions/T1/2/s3cr3t", []string{"hooks.slack.com", "{plain}"}, `host "{tls}" is not allowed`, 0},
		{"ErrUserinfoNamesSlack", "https://hooks.slack.com@{tls}/actions/T1/2/s3cr3t", nil, `host "{tls}" is not allowed`, 0},
		{"ErrHTTPScheme", "http://{plain}/actions/T1/2/s3cr3t", []string{"{plain}"}, `host "{plain}": scheme "http", want https`, 0},
		{"ErrMalformedNoScheme", "{tls}/actions/T1/2/s3cr3t", []string{"{tls}"}, "not a valid absolute url", 0},
		{"ErrMalformedEscape", "https://{tls}/actions/%zz/s3cr3t", []string{"{tls}"}, "not a valid absolute url", 0},
		{"ErrMalformedNoHost", "https:///actions/T1/2/s3cr3t", []string{"{tls}"}, "not a valid absolute url", 0},
		{"ErrMalformedEmpty", "", []string{"{tls}"}, "not a valid absolute url", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tlsSrv, plain := newCaptureServer(t), newPlainCaptureServer(t)
			fill := strings.NewReplacer("{tls}", tlsSrv.host(), "{plain}", plain.host()).Replace
			var hosts []string
			for _, h := range tt.hosts {
				hosts = append(hosts, fill(h))
			}
			h, _ := newTestHandler(t, Options{HTTPClient: tlsSrv.Client(), ResponseURLHosts: hosts})
			err := h.postResponseURL(context.Background(), fill(tt.url), reply{Text: "done"})
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("err %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !errors.Is(err, errRefused) || !strings.Contains(err.Error(), fill(tt.wantErr))):
				t.Fatalf("err %v, want errRefused containing %q", err, fill(tt.wantErr))
			case err != nil && strings.Contains(err.Error(), "s3cr3t"):
				t.Errorf("error leaks the url token: %v", err)
			}
			if got := len(tlsSrv.got()); got != tt.posts {
				t.Errorf("https server got %d requests, want %d", got, tt.posts)
			}
			if got := len(plain.got()); got != 0 {
				t.Errorf("http server got %d requests, want 0", got)
			}
		})
	}
}

// TestHandler_CheckResponseURL checks the default allowed host without a
// network: Slack's documented response_url host, https, no other port.
func TestHandler_CheckResponseURL(t *testing.T) {
	tests := []struct {
		name string
		url  string
		ok   bool
	}{
		{"OK", "https://hooks.slack.com/actions/T0001/1234/s3cr3t", true},
		{"OKHostCase", "https://Hooks.Slack.COM/commands/T0001/1234/s3cr3t", true},
		{"ErrHTTP", "http://hooks.slack.com/actions/T0001/1234/s3cr3t", false},
		{"ErrOtherPort", "https://hooks.slack.com:8443/actions/T0001/1234/s3cr3t", false},
		{"ErrSuffixDomain", "https://hooks.slack.com.evil.example/actions/s3cr3t", false},
		{"ErrSubdomain", "https://evil.hooks.slack.com/actions/s3cr3t", false},
		{"ErrSlackInPath", "https://evil.example/hooks.slack.com/s3cr3t", false},
		{"ErrLoopback", "https://127.0.0.1/actions/s3cr3t", false},
	}
	h, _ := newTestHandler(t, Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := h.checkResponseURL(tt.url)
			if (err == nil) != tt.ok {
				t.Fatalf("err %v, want ok=%v", err, tt.ok)
			}
			if err != nil && (!errors.Is(err, errRefused) || strings.Contains(err.Error(), "s3cr3t")) {
				t.Errorf("err %v: want errRefused without the url token", err)
			}
		})
	}
}

// TestButtonClicks_ForeignResponseURL clicks with a response_url off the
// allowed hosts: the action is applied, nothing is posted, and the log names
// the host but not the URL.
func TestButtonClicks_ForeignResponseURL(t *testing.T) {
	acts := &fakeActions{}
	capture := newCaptureServer(t)
	h, logs := newTestHandler(t, Options{Actions: acts, HTTPClient: capture.Client()})
	mux := http.NewServeMux()
	h.Routes(mux)
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, signedRequest(t, "/slack/interactions", testSecret, testNow, clickPayload(t, ActionAck, "a1b2c3d4e5f60718", capture.URL+"/actions/T1/2/s3cr3t")))
	_ = h.Close()
	if w.Code != http.StatusOK || len(acts.actions()) != 1 {
		t.Fatalf("status %d, %d actions applied; want 200 and 1", w.Code, len(acts.actions()))
	}
	if n := len(capture.got()); n != 0 {
		t.Errorf("foreign response_url got %d posts, want 0", n)
	}
	out := logs.String()
	if !strings.Contains(out, capture.host()) || !strings.Contains(out, "not allowed") {
		t.Errorf("log does not name the refused host:\n%s", out)
	}
	if strings.Contains(out, "s3cr3t") {
		t.Errorf("log leaks the response_url:\n%s", out)
	}
}

// TestHandler_PostResponseURL_NoRedirect: a redirect from an allowed
// response_url host is not followed (even to the same host), so the
// message cannot be re-sent where checkResponseURL never looked.
func TestHandler_PostResponseURL_NoRedirect(t *testing.T) {
	var landed atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/landing" {
			landed.Add(1)
			return
		}
		http.Redirect(w, r, "/landing", http.StatusTemporaryRedirect)
	}))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "https://")
	h, _ := newTestHandler(t, Options{HTTPClient: srv.Client(), ResponseURLHosts: []string{host}})
	err := h.postResponseURL(context.Background(), srv.URL+"/actions/T1/2/s3cr3t", reply{Text: "done"})
	if err == nil || !strings.Contains(err.Error(), "HTTP 307") {
		t.Errorf("err %v, want the redirect reported as HTTP 307", err)
	}
	if n := landed.Load(); n != 0 {
		t.Errorf("redirect target got %d requests, want 0", n)
	}
}
