package app

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "modernc.org/sqlite" // the raw connection that fills the disk

	"github.com/costbot/costbot/internal/store"
)

// historySlack speaks the Web API wire format for chat.postMessage (keeping
// each message with its metadata), chat.update, conversations.history and
// conversations.replies (metadata only with include_all_metadata=1).
type historySlack struct {
	mu    sync.Mutex
	msgs  []map[string]any // newest first
	posts int
	looks int
}

func (s *historySlack) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.PostForm.Get("token") != "xoxb-test" && r.Header.Get("Authorization") != "Bearer xoxb-test" {
		fmt.Fprint(w, `{"ok":false,"error":"invalid_auth"}`)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/chat.postMessage":
		s.posts++
		ts := fmt.Sprintf("1764000000.%06d", s.posts)
		m := map[string]any{"type": "message", "ts": ts, "text": r.PostForm.Get("text")}
		if th := r.PostForm.Get("thread_ts"); th != "" {
			m["thread_ts"] = th
		}
		if md := r.PostForm.Get("metadata"); md != "" {
			var v map[string]any
			if json.Unmarshal([]byte(md), &v) == nil {
				m["metadata"] = v
			}
		}
		s.msgs = append([]map[string]any{m}, s.msgs...)
		fmt.Fprintf(w, `{"ok":true,"channel":%q,"ts":%q}`, r.PostForm.Get("channel"), ts)
	case "/chat.update":
		fmt.Fprintf(w, `{"ok":true,"channel":%q,"ts":%q}`, r.PostForm.Get("channel"), r.PostForm.Get("ts"))
	case "/conversations.history", "/conversations.replies":
		s.looks++
		out := []map[string]any{}
		for _, m := range s.msgs {
			th, reply := m["thread_ts"]
			if r.URL.Path == "/conversations.history" && reply ||
				r.URL.Path == "/conversations.replies" && th != r.PostForm.Get("ts") {
				continue
			}
			c := map[string]any{}
			for k, v := range m {
				if k != "metadata" || r.PostForm.Get("include_all_metadata") == "1" {
					c[k] = v
				}
			}
			out = append(out, c)
		}
		b, _ := json.Marshal(map[string]any{"ok": true, "messages": out, "has_more": false})
		w.Write(b)
	default:
		http.NotFound(w, r)
	}
}

func (s *historySlack) count() int { s.mu.Lock(); defer s.mu.Unlock(); return s.posts }

// outboxEnv is newEnv with a Slack fake that keeps its history.
func outboxEnv(t *testing.T, now time.Time) (*env, *historySlack) {
	t.Helper()
	e := newEnv(t, now)
	hs := &historySlack{}
	srv := httptest.NewServer(hs)
	t.Cleanup(srv.Close)
	e.cfg.Slack.APIURL = srv.URL + "/"
	return e, hs
}

// fillDisk makes the state refuse new send records, as a nearly full disk
// does (the issue: the alerts are saved, the send records are not); undo
// frees it. It goes through a second connection, as another process would.
func fillDisk(t *testing.T, path string) (undo func()) {
	t.Helper()
	raw, err := sql.Open("sqlite", "file:"+path+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	if _, err := raw.Exec(`CREATE TRIGGER disk_full BEFORE INSERT ON sends
		BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`); err != nil {
		t.Fatal(err)
	}
	return func() {
		if _, err := raw.Exec(`DROP TRIGGER disk_full`); err != nil {
			t.Fatal(err)
		}
	}
}

// The baseline of newEnv's first cycle: 4 Slack posts, 2 webhook bodies
// (TestApp_Cycle).
const baseSlack, baseHook = 4, 2

func TestApp_Cycle_FullDiskStopsSending(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 17, 0, 0, 0, time.UTC)
	e, slack := outboxEnv(t, now)
	a := e.app(t, now)
	undo := fillDisk(t, e.state)
	for i := range 3 {
		at := now.Add(time.Duration(i) * time.Hour)
		_, err := a.Cycle(ctx, at)
		if !errors.Is(err, ErrUnrecorded) {
			t.Errorf("cycle %d on a full disk: error %v, want ErrUnrecorded", i+1, err)
		}
	}
	// At most the first message per notifier went out, once.
	if s, h := slack.count(), e.hook.count(); s > 1 || h > 1 {
		t.Errorf("on a full disk for 3 cycles: %d Slack posts, %d webhook bodies; want at most 1 each", s, h)
	}
	a.mu.Lock()
	lastErr := a.lastErr
	a.mu.Unlock()
	if !errors.Is(lastErr, ErrUnrecorded) {
		t.Errorf("the error /healthz and /readyz show = %v, want ErrUnrecorded", lastErr)
	}
	undo()
	if _, err := a.Cycle(ctx, now.Add(3*time.Hour)); err != nil {
		t.Fatalf("cycle after the disk was freed: %v", err)
	}
	if _, err := a.Cycle(ctx, now.Add(4*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if s, h := slack.count(), e.hook.count(); s != baseSlack || h != baseHook {
		t.Errorf("after the disk was freed: %d Slack posts, %d webhook bodies; want %d and %d, each alert once",
			s, h, baseSlack, baseHook)
	}
}

func TestApp_Cycle_CrashBetweenSendAndRecord(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 17, 0, 0, 0, time.UTC)
	e, slack := outboxEnv(t, now)
	a := e.app(t, now)
	undo := fillDisk(t, e.state)
	if _, err := a.Cycle(ctx, now); !errors.Is(err, ErrUnrecorded) {
		t.Errorf("cycle on a full disk: %v, want ErrUnrecorded", err)
	}
	sentSlack, sentHook := slack.count(), e.hook.count()
	// The process dies with its sends unrecorded; the next one starts on a
	// writable state.
	a.Close()
	undo()
	a = e.app(t, now.Add(time.Hour))
	if _, err := a.Cycle(ctx, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	s, h := slack.count(), e.hook.count()
	if s != baseSlack {
		t.Errorf("Slack posts = %d (%d before the crash), want %d: the history check finds the unrecorded one",
			s, sentSlack, baseSlack)
	}
	if h < baseHook || h > baseHook+1 {
		t.Errorf("webhook bodies = %d (%d before the crash), want %d or one duplicate", h, sentHook, baseHook)
	}
	if sentSlack > 0 && slack.looks == 0 {
		t.Error("the restart did not look for the unrecorded Slack post")
	}
}

func TestNew_EmptyStateFile(t *testing.T) {
	now := time.Date(2026, 11, 25, 17, 0, 0, 0, time.UTC)
	e := newEnv(t, now)
	if err := os.MkdirAll(filepath.Dir(e.state), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.state, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := New(context.Background(), Options{Config: e.cfg, Rules: e.set, Now: func() time.Time { return now }})
	if err == nil {
		a.Close()
		t.Fatal("New on an empty state file succeeded: it would re-send every alert")
	}
	if !errors.Is(err, store.ErrEmptyFile) || !strings.Contains(err.Error(), e.state) {
		t.Errorf("error = %v, want ErrEmptyFile naming the file", err)
	}
}
