package slackcmd

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

type recObserver struct {
	mu       sync.Mutex
	requests map[string]int
	refused  map[string]int
}

func (o *recObserver) SlackRequest(endpoint string, d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.requests[endpoint]++
}

func (o *recObserver) SlackRefused(reason string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.refused[reason]++
}

// An unsigned flood writes one refusal line and one summary per window,
// while every refusal reaches the observer with its reason.
func TestRefusalFloodIsSummarized(t *testing.T) {
	obs := &recObserver{requests: map[string]int{}, refused: map[string]int{}}
	h, logs := newTestHandler(t, Options{Observer: obs, RefusalLogWindow: time.Hour})
	mux := http.NewServeMux()
	h.Routes(mux)
	const flood = 500
	for i := 0; i < flood; i++ {
		req := httptest.NewRequest("POST", "/slack/commands", strings.NewReader(commandBody("help", i)))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if i%5 == 0 {
			req = signedRequest(t, "/slack/commands", "not-the-secret", testNow, commandBody("help", i))
		}
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, req)
		if w.Code != http.StatusUnauthorized {
			t.Fatalf("request %d: status %d, want 401", i, w.Code)
		}
	}
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, signedRequest(t, "/slack/commands", testSecret, testNow, commandBody("help", 1)))
	if w.Code != http.StatusOK {
		t.Fatalf("signed request after the flood: %d", w.Code)
	}
	h.Close() // ends the window: the summary is written
	l := logs.String()
	if n := strings.Count(l, "\n"); n != 2 {
		t.Errorf("%d log lines for %d refusals, want 2 (the first and one summary):\n%s", n, flood, l)
	}
	if !strings.Contains(l, "count=499") || !strings.Contains(l, "missing_headers=400 signature=99") {
		t.Errorf("summary does not count the refusals by reason:\n%s", l)
	}
	if obs.refused["missing_headers"] != 400 || obs.refused["signature"] != 100 || obs.requests["commands"] != flood+1 {
		t.Errorf("observer got refused %v, requests %v; want 400 missing_headers, 100 signature, %d commands", obs.refused, obs.requests, flood+1)
	}
}
