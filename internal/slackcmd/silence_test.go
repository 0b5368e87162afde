package slackcmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/costbot/costbot/internal/alert"
)

// memSilences is Silences in memory, with the store's semantics.
type memSilences struct {
	mu sync.Mutex
	ss []alert.Silence
}

func (m *memSilences) AddSilence(_ context.Context, s alert.Silence) (alert.Silence, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s.ID = fmt.Sprintf("s%d", len(m.ss)+1)
	m.ss = append(m.ss, s)
	return s, nil
}

func (m *memSilences) Silences(_ context.Context, endsAfter time.Time) ([]alert.Silence, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []alert.Silence
	for _, s := range m.ss {
		if s.EndsAt.After(endsAfter) {
			out = append(out, s)
		}
	}
	return out, nil
}

func (m *memSilences) ExpireSilence(_ context.Context, id string, now time.Time) (alert.Silence, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, s := range m.ss {
		if s.ID == id {
			var ok bool
			m.ss[i], ok = alert.Expire(s, now)
			return m.ss[i], ok, nil
		}
	}
	return alert.Silence{}, false, errors.New("not found")
}

func TestSilenceCommands(t *testing.T) {
	mem := &memSilences{}
	h, logs := newTestHandler(t, Options{Silences: mem})
	steps := []struct {
		text, want, typ string
	}{
		{"silences", "No active or pending silences", "ephemeral"},
		// Slack sends curly quotes when the user typed straight ones.
		{"silence add 4h service=~\u201cR2.*\u201d account=production R2 migration", ":mute: <@U0001> silenced `{service=~\"R2.*\",account=\"production\"}` until Wed 25 Nov 18:00 UTC: R2 migration (silence `s1`)", "in_channel"},
		{"silence add 2d kind=anomaly", "Cannot add that silence: no comment", "ephemeral"},
		{`silence add zone=~".*" everything`, "match every alert", "ephemeral"},
		{`silence add service=~"R2 why`, "Bad matcher", "ephemeral"},
		{"silences", "• `s1` `{service=~\"R2.*\",account=\"production\"}` until Wed 25 Nov 18:00 UTC, by <@U0001>: R2 migration", "ephemeral"},
		// The same command twice is two silences, not a cached reply.
		{"silence add 1d kind=anomaly deploy", "silence `s2`", "in_channel"},
		{"silence add 1d kind=anomaly deploy", "silence `s3`", "in_channel"},
		{"silence expire s1", ":loud_sound: <@U0001> expired silence `s1`", "in_channel"},
		{"silence expire s1", "had already ended", "ephemeral"},
		{"silence expire nope", "No silence `nope`.", "ephemeral"},
		{"silence", "/costbot silence add [duration] matcher... comment", "ephemeral"},
	}
	mux := http.NewServeMux()
	h.Routes(mux)
	for i, s := range steps {
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, signedRequest(t, "/slack/commands", testSecret, testNow, commandBody(s.text, 100+i)))
		var m map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil || w.Code != http.StatusOK {
			t.Fatalf("/costbot %s: %d %v\n%s", s.text, w.Code, err, w.Body)
		}
		if got := m["text"].(string); !strings.Contains(got, s.want) || m["response_type"] != s.typ {
			t.Errorf("/costbot %s:\n got %s %q\nwant %s %q", s.text, m["response_type"], got, s.typ, s.want)
		}
	}
	ss, _ := mem.Silences(context.Background(), testNow)
	if len(ss) != 2 || ss[0].CreatedBy != "U0001" || !ss[0].EndsAt.Equal(testNow.Add(24*time.Hour)) {
		t.Errorf("stored silences %+v", ss)
	}
	if !strings.Contains(logs.String(), "silence added") || !strings.Contains(logs.String(), "error=") {
		t.Errorf("logs lack the added silence or the failed one:\n%s", logs)
	}
}
