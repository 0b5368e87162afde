package app

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// emptyUsage stands in front of the fake Cloudflare and, while on, answers
// the usage endpoint with a successful, empty result: the fault that used to
// delete the stored window and resolve firing alerts.
type emptyUsage struct {
	next http.Handler
	on   atomic.Bool
	null bool
}

func (h *emptyUsage) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.on.Load() && strings.HasSuffix(r.URL.Path, "/billable-usage") {
		w.Header().Set("Content-Type", "application/json")
		result := "[]"
		if h.null {
			result = "null"
		}
		io.WriteString(w, `{"success":true,"errors":[],"messages":[],"result":`+result+`}`)
		return
	}
	h.next.ServeHTTP(w, r)
}

func (e *env) front(t *testing.T, null bool) *emptyUsage {
	t.Helper()
	u := e.cfg.Cloudflare.BaseURL
	h := &emptyUsage{null: null, next: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequestWithContext(r.Context(), r.Method, u+r.URL.RequestURI(), r.Body)
		req.Header = r.Header.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	})}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	e.cfg.Cloudflare.BaseURL = srv.URL
	return h
}

func TestApp_Cycle_EmptyAnswerKeepsHistoryAndAlerts(t *testing.T) {
	for _, null := range []bool{false, true} {
		t.Run(map[bool]string{false: "EmptyList", true: "Null"}[null], func(t *testing.T) {
			ctx := context.Background()
			now := time.Date(2026, 11, 25, 17, 0, 0, 0, time.UTC)
			e := newEnv(t, now)
			front := e.front(t, null)
			a := e.app(t, now)
			if _, err := a.Cycle(ctx, now); err != nil {
				t.Fatal(err)
			}
			before, err := a.db.Usage(ctx, time.Unix(0, 0), now)
			if err != nil {
				t.Fatal(err)
			}
			front.on.Store(true)
			rep, err := a.Cycle(ctx, now.Add(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if ferr := rep.Accounts[0].Err; ferr == nil || !strings.Contains(ferr.Error(), "suspect answer") {
				t.Fatalf("empty answer: fetch error %v, want a suspect answer", ferr)
			}
			for _, d := range rep.Deliveries {
				if d.Job.Alert.Status.String() == "resolved" {
					t.Errorf("empty answer resolved %s %q", d.Job.Alert.Kind, d.Job.Alert.Title)
				}
			}
			after, err := a.db.Usage(ctx, time.Unix(0, 0), now)
			if err != nil {
				t.Fatal(err)
			}
			if len(after) != len(before) {
				t.Errorf("stored rows %d -> %d after an empty answer, want unchanged", len(before), len(after))
			}
			// The same answer again is confirmed: it replaces the window.
			rep, err = a.Cycle(ctx, now.Add(2*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if rep.Accounts[0].Err != nil {
				t.Errorf("second identical answer: %v, want it accepted", rep.Accounts[0].Err)
			}
		})
	}
}

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
	return w.Code, w.Body.String()
}

func TestApp_HealthAndMetrics(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 17, 0, 0, 0, time.UTC)
	e := newEnv(t, now)
	a := e.app(t, now)
	h := a.Handler()
	if code, _ := get(t, h, "/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz before any cycle: %d, want 503", code)
	}
	if _, err := a.Cycle(ctx, now); err != nil {
		t.Fatal(err)
	}
	if code, body := get(t, h, "/healthz"); code != http.StatusOK || !strings.Contains(body, `"status":"ok"`) {
		t.Errorf("/healthz after a good cycle: %d %s", code, body)
	}
	if code, body := get(t, h, "/readyz"); code != http.StatusOK {
		t.Errorf("/readyz after a good cycle: %d %s", code, body)
	}

	if _, body := get(t, h, "/metrics"); !strings.Contains(body, "costbot_fetch_rows_total{account=") ||
		!strings.Contains(body, "costbot_fetch_last_success_timestamp_seconds{account=") ||
		!strings.Contains(body, `costbot_notifications_total{notifier="finops",result="ok"}`) {
		t.Errorf("/metrics after a good cycle lacks rows, last success or sends:\n%.2000s", body)
	}

	// Cloudflare refuses: the cycle fails, and health says so with 503.
	e.cfg.Cloudflare.BaseURL = "http://127.0.0.1:1"
	a.Close()
	a = e.app(t, now)
	h = a.Handler()
	rep, err := a.Cycle(ctx, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Err() == nil {
		t.Fatal("a cycle against a refused address succeeded")
	}
	code, body := get(t, h, "/healthz")
	var hz struct{ Status, Error string }
	_ = json.Unmarshal([]byte(body), &hz)
	if code != http.StatusServiceUnavailable || hz.Status != "degraded" || hz.Error == "" {
		t.Errorf("/healthz after a failed cycle: %d %s; want 503 degraded with the error", code, body)
	}

	code, body = get(t, h, "/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d", code)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	for _, name := range []string{"costbot_cycle_duration_seconds", "costbot_fetch_errors_total", "costbot_findings", "go_goroutines"} {
		if fams[name] == nil {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	if f := fams["costbot_fetch_errors_total"]; f == nil || f.GetMetric()[0].GetCounter().GetValue() != 1 {
		t.Errorf("/metrics does not count the failed fetch: %v", f)
	}
	if f := fams["costbot_cycle_duration_seconds"]; f == nil || f.GetMetric()[0].GetLabel()[0].GetValue() != "error" {
		t.Errorf("/metrics does not record the failed cycle: %v", f)
	}
}

// The generatorURL a webhook sends (external_url + /alerts/<fingerprint>)
// answers with that alert.
func TestApp_AlertPage(t *testing.T) {
	now := time.Date(2026, 11, 25, 17, 0, 0, 0, time.UTC)
	_, a, rep := cycled(t, now)
	if len(rep.Deliveries) == 0 {
		t.Fatal("first cycle delivered nothing")
	}
	al := rep.Deliveries[0].Job.Alert
	code, body := get(t, a.Handler(), "/alerts/"+al.Fingerprint)
	var page struct {
		Fingerprint, Kind, Status, Title string
		Sends                            []struct{ Notifier string }
	}
	if err := json.Unmarshal([]byte(body), &page); err != nil || code != http.StatusOK {
		t.Fatalf("/alerts/%s: %d %s", al.Fingerprint, code, body)
	}
	if page.Fingerprint != al.Fingerprint || page.Kind != al.Kind.String() || page.Status != "firing" || page.Title == "" || len(page.Sends) == 0 {
		t.Errorf("alert page %+v does not show the alert %s %s", page, al.Kind, al.Fingerprint)
	}
	if code, _ := get(t, a.Handler(), "/alerts/0000"); code != http.StatusNotFound {
		t.Errorf("unknown alert: %d, want 404", code)
	}
}

// The daemon's own HTTP client refuses a redirect to another origin, so the
// bot token Slack calls carry never reaches the other host.
func TestApp_SlackRedirectToAnotherHostGetsNothing(t *testing.T) {
	now := time.Date(2026, 11, 25, 17, 0, 0, 0, time.UTC)
	e := newEnv(t, now)
	var leaked atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked.Add(1)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"ok":true,"channel":"C0123456789","ts":"1.2"}`)
	}))
	defer other.Close()
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer redirect.Close()
	e.cfg.Slack.APIURL = redirect.URL + "/"
	a := e.app(t, now)
	rep, err := a.Cycle(context.Background(), now)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Err() == nil {
		t.Error("Slack sends through a cross-origin redirect succeeded")
	}
	if n := leaked.Load(); n != 0 {
		t.Errorf("the other host got %d Slack calls (with the bot token)", n)
	}
}
