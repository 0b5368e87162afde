package slackcmd

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slacktest"
	"github.com/slack-go/slack/socketmode"
)

type ackCall struct {
	envelope string
	payload  any
}

// TestSocketModeMapping dispatches events through slack-go's real
// SocketmodeHandler and checks they reach the same functions HTTP uses.
func TestSocketModeMapping(t *testing.T) {
	acts := &fakeActions{}
	capture := newCaptureServer(t)
	h, _ := newTestHandler(t, Options{Actions: acts, HTTPClient: capture.Client(), ResponseURLHosts: []string{capture.host()}})
	sh := socketmode.NewSocketmodeHandler(socketmode.New(slack.New("xoxb-test", slack.OptionAppLevelToken("xapp-test"))))
	acks := make(chan ackCall, 4)
	h.registerSocket(sh, func(req socketmode.Request, payload any) error {
		acks <- ackCall{req.EnvelopeID, payload}
		return nil
	})

	sh.DispatchEvent(socketmode.Event{
		Type:    socketmode.EventTypeSlashCommand,
		Data:    slack.SlashCommand{Command: "/costbot", Text: "spend workers req 7d --share", UserID: "U1"},
		Request: &socketmode.Request{EnvelopeID: "env-slash"},
	})
	a := <-acks
	rep, ok := a.payload.(reply)
	if a.envelope != "env-slash" || !ok {
		t.Fatalf("slash ack = %+v", a)
	}
	if rep.ResponseType != "in_channel" || !strings.Contains(rep.Text, "Workers Standard Requests, last 7 days") {
		t.Errorf("slash reply = %q (%s)", rep.Text, rep.ResponseType)
	}
	if b, _ := json.Marshal(rep); len(b) >= maxSocketAck {
		t.Errorf("ack payload %d bytes, want < 20 KB", len(b))
	}

	var cb slack.InteractionCallback
	if err := json.Unmarshal([]byte(jsonPayload(t, clickPayload(t, ActionSnooze7d, "a1b2c3d4e5f60718", capture.URL+"/r"))), &cb); err != nil {
		t.Fatal(err)
	}
	sh.DispatchEvent(socketmode.Event{Type: socketmode.EventTypeInteractive, Data: cb, Request: &socketmode.Request{EnvelopeID: "env-click"}})
	a = <-acks
	if a.envelope != "env-click" || a.payload != nil {
		t.Fatalf("click ack = %+v, want empty ack", a)
	}
	_ = h.Close()
	if got := acts.actions(); len(got) != 1 || got[0].Kind != KindSnooze || !got[0].Until.Equal(testNow.Add(7*24*time.Hour)) {
		t.Errorf("Apply got %+v", got)
	}
	if len(capture.got()) != 1 {
		t.Errorf("response_url got %d posts, want 1", len(capture.got()))
	}
}

// jsonPayload extracts the payload field of a form body.
func jsonPayload(t *testing.T, form string) string {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(form))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if err := r.ParseForm(); err != nil {
		t.Fatal(err)
	}
	return r.PostForm.Get("payload")
}

// TestRunSocketMode runs the real Socket Mode client: slacktest answers
// apps.connections.open with the URL of a test WebSocket that speaks Slack's
// envelope format and reads the acks.
func TestRunSocketMode(t *testing.T) {
	acks := make(chan map[string]any, 4)
	errs := make(chan error, 4)
	upgrader := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	ws := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			errs <- err
			return
		}
		defer c.Close()
		slash, _ := json.Marshal(map[string]any{
			"type": "slash_commands", "envelope_id": "env-1", "accepts_response_payload": true,
			"payload": map[string]any{"command": "/costbot", "text": "budgets", "user_id": "U1", "channel_id": "C1"},
		})
		for _, m := range []string{`{"type":"hello","num_connections":1}`, string(slash)} {
			if err := c.WriteMessage(websocket.TextMessage, []byte(m)); err != nil {
				errs <- err
				return
			}
		}
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		for {
			_, b, err := c.ReadMessage()
			if err != nil {
				return
			}
			var m map[string]any
			if json.Unmarshal(b, &m) == nil && m["envelope_id"] != nil {
				acks <- m
			}
		}
	}))
	defer ws.Close()
	wsURL := "ws" + strings.TrimPrefix(ws.URL, "http")

	s := slacktest.NewTestServer(func(c slacktest.Customize) {
		c.Handle("/apps.connections.open", func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer xapp-test" {
				errs <- fmt.Errorf("apps.connections.open authorization %q", r.Header.Get("Authorization"))
			}
			_, _ = fmt.Fprintf(w, `{"ok":true,"url":%q}`, wsURL)
		})
	})
	s.Start()
	defer s.Stop()

	h, _ := newTestHandler(t, Options{})
	api := slack.New("xoxb-test", slack.OptionAPIURL(s.GetAPIURL()), slack.OptionAppLevelToken("xapp-test"))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.RunSocketMode(ctx, api) }()

	select {
	case m := <-acks:
		if m["envelope_id"] != "env-1" {
			t.Errorf("ack for %v", m["envelope_id"])
		}
		raw, _ := json.Marshal(m)
		if !strings.Contains(string(raw), "monthly-total") || len(raw) >= maxSocketAck {
			t.Errorf("ack payload (%d bytes) = %s", len(raw), raw)
		}
	case err := <-errs:
		t.Fatal(err)
	case err := <-done:
		t.Fatalf("RunSocketMode returned early: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("no ack within 10 s")
	}
	cancel()
	<-done
}

func TestSocketPayloadShrinks(t *testing.T) {
	big := reply{Text: strings.Repeat("x", 5000)}
	for range 40 {
		big.Blocks = append(big.Blocks, section(strings.Repeat("y", 2900)))
	}
	got := socketPayload(big)
	if b, _ := json.Marshal(got); len(b) >= maxSocketAck {
		t.Fatalf("socket payload still %d bytes", len(b))
	}
	if got.Text == "" {
		t.Error("text dropped")
	}
}
