package slack_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/costbot/costbot/internal/cost"
	"github.com/costbot/costbot/internal/notify"
	"github.com/costbot/costbot/internal/notify/slack"
)

// channelFake is a Slack Web API fake that keeps what is posted, with its
// metadata, and answers chat.postMessage, chat.update, conversations.history
// and conversations.replies in the real wire format (form-encoded POST,
// JSON answer; include_all_metadata decides whether metadata is returned).
type channelFake struct {
	t   testing.TB
	srv *httptest.Server

	mu      sync.Mutex
	msgs    []map[string]any // newest first, as conversations.history answers
	seq     int
	methods []string
}

func newChannelFake(t testing.TB) *channelFake {
	f := &channelFake{t: t}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *channelFake) serve(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.Method != http.MethodPost {
		f.t.Errorf("bad request %s %s: %v", r.Method, r.URL.Path, err)
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	method := strings.TrimPrefix(r.URL.Path, "/")
	f.methods = append(f.methods, method)
	w.Header().Set("Content-Type", "application/json")
	switch method {
	case "chat.postMessage":
		f.seq++
		ts := fmt.Sprintf("1700000000.%06d", f.seq)
		m := map[string]any{"type": "message", "ts": ts, "text": r.Form.Get("text")}
		if th := r.Form.Get("thread_ts"); th != "" {
			m["thread_ts"] = th
		}
		if md := r.Form.Get("metadata"); md != "" {
			var v map[string]any
			if err := json.Unmarshal([]byte(md), &v); err != nil {
				f.t.Errorf("metadata is not JSON: %q", md)
			}
			m["metadata"] = v
		}
		f.msgs = append([]map[string]any{m}, f.msgs...)
		fmt.Fprintf(w, `{"ok":true,"channel":%q,"ts":%q,"message":{"type":"message","ts":%q}}`,
			r.Form.Get("channel"), ts, ts)
	case "chat.update":
		fmt.Fprintf(w, `{"ok":true,"channel":%q,"ts":%q}`, r.Form.Get("channel"), r.Form.Get("ts"))
	case "conversations.history", "conversations.replies":
		var out []map[string]any
		for _, m := range f.msgs {
			_, reply := m["thread_ts"]
			if method == "conversations.history" && reply ||
				method == "conversations.replies" && m["thread_ts"] != r.Form.Get("ts") {
				continue
			}
			c := map[string]any{}
			for k, v := range m {
				if k != "metadata" || r.Form.Get("include_all_metadata") == "1" {
					c[k] = v
				}
			}
			out = append(out, c)
		}
		b, _ := json.Marshal(map[string]any{"ok": true, "messages": out, "has_more": false})
		w.Write(b)
	default:
		f.t.Errorf("unexpected method %s", method)
		http.NotFound(w, r)
	}
}

func (f *channelFake) count(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, m := range f.methods {
		if m == method {
			n++
		}
	}
	return n
}

func TestNotifier_Notify_Idempotent(t *testing.T) {
	a := cost.Alert{Finding: cost.Finding{Kind: cost.KindBudget, Rule: "monthly", Title: "80% of budget",
		Severity: cost.SeverityWarning, Currency: "USD"}, Fingerprint: "abc123", Status: cost.StatusFiring,
		StartsAt: time.Date(2026, 11, 10, 8, 0, 0, 0, time.UTC), Reason: "first"}
	tests := []struct {
		name      string
		thread    bool
		earlier   bool // the first attempt went out
		wantPosts int
		lookup    string
	}{
		{"OKUnsureFoundInHistory", false, true, 1, "conversations.history"},
		{"OKUnsureNotFoundPosts", false, false, 1, "conversations.history"},
		{"OKUnsureReplyFoundInThread", true, true, 1, "conversations.replies"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newChannelFake(t)
			n, err := slack.New(slack.Options{Channel: "C1", Token: "xoxb-test", APIURL: f.srv.URL + "/"})
			if err != nil {
				t.Fatal(err)
			}
			msg := a
			if tt.thread {
				msg.Thread = &cost.MessageRef{Notifier: "slack", Channel: "C1", TS: "1699999999.000001"}
			}
			const id = "abc123-1-firing-slack-1"
			ctx := notify.WithDelivery(context.Background(), notify.Delivery{ID: id})
			var first *cost.MessageRef
			if tt.earlier {
				if first, err = n.Notify(ctx, msg); err != nil {
					t.Fatal(err)
				}
				f.mu.Lock()
				md, _ := f.msgs[0]["metadata"].(map[string]any)
				f.mu.Unlock()
				payload, _ := md["event_payload"].(map[string]any)
				if md["event_type"] != slack.MetadataEventType || payload["delivery_id"] != id {
					t.Fatalf("posted metadata = %v, want event_type %q and delivery_id %q", md, slack.MetadataEventType, id)
				}
			}
			// The restart re-sends the row whose first attempt is unknown.
			ref, err := n.Notify(notify.WithDelivery(context.Background(), notify.Delivery{ID: id, Unsure: true}), msg)
			if err != nil {
				t.Fatal(err)
			}
			if got := f.count("chat.postMessage"); got != tt.wantPosts {
				t.Errorf("%d posts, want %d", got, tt.wantPosts)
			}
			if f.count(tt.lookup) != 1 {
				t.Errorf("%s not called once: %v", tt.lookup, f.methods)
			}
			if first != nil && ref.TS != first.TS {
				t.Errorf("re-send returned ts %q, want the earlier %q", ref.TS, first.TS)
			}
		})
	}
	t.Run("OKSureDoesNotLookUp", func(t *testing.T) {
		f := newChannelFake(t)
		n, _ := slack.New(slack.Options{Channel: "C1", Token: "xoxb-test", APIURL: f.srv.URL + "/"})
		if _, err := n.Notify(notify.WithDelivery(context.Background(), notify.Delivery{ID: "x-1"}), a); err != nil {
			t.Fatal(err)
		}
		if f.count("conversations.history") != 0 || f.count("chat.postMessage") != 1 {
			t.Errorf("calls = %v, want one post and no look-up", f.methods)
		}
	})
}
