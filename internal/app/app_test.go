package app

import (
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
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/costbot/costbot/internal/alert"
	"github.com/costbot/costbot/internal/config"
	"github.com/costbot/costbot/internal/cost"
	"github.com/costbot/costbot/internal/demo"
	"github.com/costbot/costbot/internal/rules"
	"github.com/costbot/costbot/internal/slackcmd"
)

// The webhook secret's decoded key, used to verify signatures independently.
const (
	hookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	testRules  = `budgets:
  - name: workers
    scope: {account: production, family: "Workers*"}
    amount: 250
    currency: USD
    thresholds:
      - {percent: 50, on: actual, severity: info}
      - {percent: 80, on: actual, severity: warning}
      - {percent: 100, on: forecast, severity: warning}
anomalies:
  - name: spikes
    scope: {account: "*"}
    min_impact: 5
    notify: [finops]
cards:
  - name: card
    account: "*"
    notify: [finops]
`
)

// slackServer speaks the Web API wire format for chat.postMessage and
// chat.update and records what it was sent.
type slackServer struct {
	mu      sync.Mutex
	posts   []url.Values
	updates []url.Values
	fail    bool
	n       int
}

func (s *slackServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer xoxb-test" && r.PostForm.Get("token") != "xoxb-test" {
		fmt.Fprint(w, `{"ok":false,"error":"invalid_auth"}`)
		return
	}
	switch r.URL.Path {
	case "/chat.postMessage":
		if s.fail {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		s.n++
		s.posts = append(s.posts, r.PostForm)
		fmt.Fprintf(w, `{"ok":true,"channel":%q,"ts":"1764000000.%06d"}`, r.PostForm.Get("channel"), s.n)
	case "/chat.update":
		s.updates = append(s.updates, r.PostForm)
		fmt.Fprintf(w, `{"ok":true,"channel":%q,"ts":%q}`, r.PostForm.Get("channel"), r.PostForm.Get("ts"))
	default:
		http.NotFound(w, r)
	}
}

func (s *slackServer) count() int { s.mu.Lock(); defer s.mu.Unlock(); return len(s.posts) }

// hookServer verifies Standard Webhooks signatures and records bodies.
type hookServer struct {
	t      testing.TB
	mu     sync.Mutex
	bodies []map[string]any
	status int
}

func (h *hookServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(hookSecret, "whsec_"))
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%s.%s", r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp"), body)
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	if !strings.Contains(" "+r.Header.Get("webhook-signature")+" ", " "+want+" ") {
		h.t.Errorf("bad webhook signature %q", r.Header.Get("webhook-signature"))
		w.WriteHeader(400)
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.status != 0 {
		w.WriteHeader(h.status)
		return
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		h.t.Errorf("webhook body: %v", err)
	}
	h.bodies = append(h.bodies, m)
}

func (h *hookServer) count() int { h.mu.Lock(); defer h.mu.Unlock(); return len(h.bodies) }

type env struct {
	cfg   *config.Config
	set   *rules.Set
	slack *slackServer
	hook  *hookServer
	state string
}

func newEnv(t *testing.T, now time.Time) *env {
	t.Helper()
	cf := httptest.NewServer(demo.NewServer(now))
	t.Cleanup(cf.Close)
	e := &env{slack: &slackServer{}, hook: &hookServer{t: t}}
	ss := httptest.NewServer(e.slack)
	t.Cleanup(ss.Close)
	hs := httptest.NewServer(e.hook)
	t.Cleanup(hs.Close)
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "rules"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "rules", "r.yaml"), []byte(testRules), 0o644); err != nil {
		t.Fatal(err)
	}
	yml := receiversYAML(cf.URL, ss.URL, hs.URL) + `rules: rules
state: costbot.db
alerts: {stale_after: 1h}
`
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse(path, []byte(yml), func(k string) (string, bool) { return demo.Token, k == "CF" })
	if err != nil {
		t.Fatal(err)
	}
	set, err := rules.LoadDir(cfg.Path(cfg.Rules))
	if err != nil {
		t.Fatal(err)
	}
	e.cfg, e.set, e.state = cfg, set, cfg.Path(cfg.State)
	return e
}

func (e *env) app(t *testing.T, now time.Time) *App {
	t.Helper()
	a, err := New(context.Background(), Options{Config: e.cfg, Rules: e.set, Now: func() time.Time { return now }, RetryWait: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// cycled starts an app on a fresh environment and runs its first cycle at now.
func cycled(t *testing.T, now time.Time) (*env, *App, *Report) {
	t.Helper()
	e := newEnv(t, now)
	a := e.app(t, now)
	rep, err := a.Cycle(context.Background(), now)
	if err != nil {
		t.Fatal(err)
	}
	return e, a, rep
}

func TestApp_Cycle(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 17, 0, 0, 0, time.UTC)
	e := newEnv(t, now)

	// Cycle 1: the webhook is down. Slack still gets every alert.
	e.hook.status = http.StatusInternalServerError
	a := e.app(t, now)
	rep, err := a.Cycle(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Err() == nil {
		t.Error("a failed webhook must make the cycle fail")
	}
	for _, p := range e.slack.posts {
		if p.Get("channel") != "C0123456789" || p.Get("text") == "" || p.Get("blocks") == "" {
			t.Errorf("post lacks channel, text or blocks: %v", p)
		}
	}
	if got := e.slack.count(); got != 4 {
		t.Errorf("slack posts = %d, want 4 (80%% actual, forecast, anomaly, card)", got)
	}
	if e.hook.count() != 0 {
		t.Errorf("failed webhook recorded bodies")
	}

	// Cycle 2: the webhook is back. It gets what it missed; Slack nothing new.
	e.hook.mu.Lock()
	e.hook.status = 0
	e.hook.mu.Unlock()
	rep, err = a.Cycle(ctx, now.Add(time.Hour))
	if err != nil || rep.Err() != nil {
		t.Fatalf("cycle 2: %v %v", err, rep.Err())
	}
	if got := e.slack.count(); got != 4 {
		t.Errorf("slack posts after cycle 2 = %d, want still 4", got)
	}
	if got := e.hook.count(); got != 2 {
		t.Errorf("webhook bodies = %d, want 2 (the missed workers alerts)", got)
	}
	for _, b := range e.hook.bodies {
		if b["version"] != "4" || b["status"] != "firing" {
			t.Errorf("webhook body not Alertmanager v4 firing: %v", b)
		}
	}

	// Restart on the same SQLite file: nothing is sent again.
	a.Close()
	a = e.app(t, now.Add(2*time.Hour))
	rep, err = a.Cycle(ctx, now.Add(2*time.Hour))
	if err != nil || rep.Err() != nil {
		t.Fatalf("cycle 3: %v %v", err, rep.Err())
	}
	if len(rep.Deliveries) != 0 {
		t.Errorf("after restart: %d deliveries, want 0", len(rep.Deliveries))
	}
}

func TestApp_Cycle_StaleData(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 17, 0, 0, 0, time.UTC)
	e, a, _ := cycled(t, now)
	sent := e.slack.count()

	// Cloudflare fails for three hours: nothing resolves or re-fires; after
	// stale_after (1h) one staleness warning goes out.
	var cfURL = e.cfg.Cloudflare.BaseURL
	e.cfg.Cloudflare.BaseURL = "http://127.0.0.1:1" // refused
	defer func() { e.cfg.Cloudflare.BaseURL = cfURL }()
	a.Close()
	a = e.app(t, now)
	for i, h := range []time.Duration{30 * time.Minute, 2 * time.Hour, 3 * time.Hour} {
		rep, err := a.Cycle(ctx, now.Add(h))
		if err != nil {
			t.Fatal(err)
		}
		if rep.Accounts[0].Err == nil {
			t.Fatal("fetch from a refused address succeeded")
		}
		for _, d := range rep.Deliveries {
			if d.Job.Alert.Kind.String() != "stale" || d.Job.Alert.Status.String() != "firing" {
				t.Errorf("cycle %d delivered %s %s; only a staleness warning may go out", i, d.Job.Alert.Kind, d.Job.Alert.Status)
			}
		}
	}
	if got := e.slack.count() - sent; got != 0 {
		// Stale findings go to every notifier: finops gets exactly one.
		posts := e.slack.posts[sent:]
		if len(posts) != 1 || !strings.Contains(posts[0].Get("text"), "No fresh billing data") {
			t.Errorf("posts while stale: %d %v", got, posts)
		}
	} else {
		t.Error("no staleness warning after stale_after")
	}
}

func TestApp_Cycle_NowIgnoresLaterData(t *testing.T) {
	// The fake serves data up to yesterday of `later`; evaluating as of an
	// earlier instant must not see the later days.
	later := time.Date(2026, 11, 25, 17, 0, 0, 0, time.UTC)
	e := newEnv(t, later)
	a := e.app(t, later)
	earlier := later.AddDate(0, 0, -10)
	if _, err := a.Cycle(context.Background(), later); err != nil {
		t.Fatal(err)
	}
	in, err := a.input(context.Background(), earlier, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range in.Usage {
		if !u.Day.Before(earlier) {
			t.Fatalf("usage of %s visible as of %s", u.Day, earlier)
		}
	}
}

func TestApp_Digest(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	e, a, _ := cycled(t, now)
	before := e.slack.count()
	rep, err := a.Digest(ctx, now)
	if err != nil || rep.Err() != nil {
		t.Fatalf("digest: %v %v", err, rep.Err())
	}
	if len(rep.Findings) != 1 {
		t.Fatalf("digest findings = %d, want 1 per account", len(rep.Findings))
	}
	d := rep.Findings[0]
	for _, w := range []string{"Billing period", "to date", "forecast", "Top movers", "R2 Class A Operations"} {
		if !strings.Contains(d.Summary, w) {
			t.Errorf("digest summary lacks %q:\n%s", w, d.Summary)
		}
	}
	if d.Actual <= 0 || d.Forecast <= d.Actual {
		t.Errorf("digest figures: spent %.2f forecast %.2f", d.Actual, d.Forecast)
	}
	if got := e.slack.count() - before; got != 1 {
		t.Errorf("digest posts = %d, want 1", got)
	}
	// The same day's digest is not sent twice (e.g. after a restart).
	rep, err = a.Digest(ctx, now.Add(time.Minute))
	if err != nil || rep.Sent() != 0 {
		t.Errorf("second digest of the day: err %v, sent %d", err, rep.Sent())
	}
}

func TestApp_CardCheck(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	e := newEnv(t, now)
	a := e.app(t, now)
	rep, err := a.CardCheck(ctx, now)
	if err != nil || rep.Err() != nil {
		t.Fatalf("card check: %v %v", err, rep.Err())
	}
	if len(rep.Findings) != 1 || rep.Findings[0].Threshold != "card<=7d" {
		t.Fatalf("card findings = %+v, want one card<=7d", rep.Findings)
	}
	if e.slack.count() != 1 || !strings.Contains(e.slack.posts[0].Get("text"), "4242") {
		t.Errorf("card posts: %v", e.slack.posts)
	}
	// The hourly cycle does not repeat the stage already sent.
	crep, err := a.Cycle(ctx, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range crep.Deliveries {
		if d.Job.Alert.Kind.String() == "card_expiry" {
			t.Errorf("card stage sent twice")
		}
	}
}

func TestApp_MarkExpected(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	_, a, rep := cycled(t, now)
	var fp string
	for _, f := range rep.Deliveries {
		if f.Job.Alert.Kind.String() == "anomaly" {
			fp = f.Job.Alert.Fingerprint
		}
	}
	if fp == "" {
		t.Fatal("no anomaly alert in the first cycle")
	}
	// A user clicks "Mark expected" in Slack.
	if err := (actions{a}).Apply(ctx, slackcmd.Action{Fingerprint: fp, Kind: "expected", User: "U1", At: now.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	rep, err := a.Cycle(ctx, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range rep.Findings {
		if f.Kind.String() == "anomaly" {
			t.Errorf("anomaly still found after mark expected: %s", f.Title)
		}
	}
}

func TestApp_EscalationThreads(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	e := newEnv(t, now)
	a := e.app(t, now)
	// Eight days earlier the Workers budget is just past 50%.
	if _, err := a.Cycle(ctx, now.AddDate(0, 0, -8)); err != nil {
		t.Fatal(err)
	}
	var rootTS string
	for _, p := range e.slack.posts {
		if strings.Contains(p.Get("text"), "Workers") && strings.Contains(p.Get("text"), "budget at 51%") {
			rootTS = fmt.Sprintf("1764000000.%06d", indexOf(e.slack.posts, p)+1)
		}
	}
	if rootTS == "" {
		t.Fatalf("no 50%% Workers alert in %d posts", e.slack.count())
	}
	before := e.slack.count()
	if _, err := a.Cycle(ctx, now); err != nil {
		t.Fatal(err)
	}
	var threaded bool
	for _, p := range e.slack.posts[before:] {
		if strings.Contains(p.Get("text"), "budget at 94%") {
			threaded = p.Get("thread_ts") == rootTS
		}
	}
	if !threaded {
		t.Errorf("the 80%% escalation was not posted in the thread of %s", rootTS)
	}
	var updated bool
	for _, u := range e.slack.updates {
		updated = updated || u.Get("ts") == rootTS
	}
	if !updated {
		t.Errorf("the first message %s was not updated to the current state", rootTS)
	}
}

func indexOf(ps []url.Values, p url.Values) int {
	for i := range ps {
		if fmt.Sprint(ps[i]) == fmt.Sprint(p) {
			return i
		}
	}
	return -1
}

func sign(secret string, ts int64, body string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "v0:%d:%s", ts, body)
	return "v0=" + fmt.Sprintf("%x", mac.Sum(nil))
}

func TestApp_SlackEndpoints(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	_, a, rep := cycled(t, now)
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	post := func(path, body, secret string) (*http.Response, string) {
		req, _ := http.NewRequest("POST", srv.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Slack-Request-Timestamp", fmt.Sprint(now.Unix()))
		req.Header.Set("X-Slack-Signature", sign(secret, now.Unix(), body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(b)
	}
	form := url.Values{"command": {"/costbot"}, "text": {"budgets"}, "user_id": {"U1"}, "channel_id": {"C1"}, "team_id": {"T1"}}.Encode()
	resp, body := post("/slack/commands", form, "test-signing-secret")
	if resp.StatusCode != 200 || !strings.Contains(body, "workers") || !strings.Contains(body, "ephemeral") {
		t.Errorf("budgets: %d %s", resp.StatusCode, body)
	}
	resp, _ = post("/slack/commands", form, "wrong-secret")
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong secret: status %d, want 401", resp.StatusCode)
	}
	resp, body = post("/healthz", "", "")
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /healthz: %d %s", resp.StatusCode, body)
	}

	// A click on "Snooze 24 h" is verified, stored and applied by the tracker.
	var fp string
	for _, d := range rep.Deliveries {
		if d.Job.Alert.Kind.String() == "forecast" {
			fp = d.Job.Alert.Fingerprint
		}
	}
	payload, _ := json.Marshal(map[string]any{
		"type":         "block_actions",
		"user":         map[string]any{"id": "U1", "name": "ana"},
		"channel":      map[string]any{"id": "C0123456789"},
		"container":    map[string]any{"type": "message", "message_ts": "1764000000.000001", "channel_id": "C0123456789"},
		"message":      map[string]any{"ts": "1764000000.000001", "blocks": []any{}},
		"response_url": srv.URL + "/nowhere",
		"actions":      []any{map[string]any{"action_id": "costbot_snooze_24h", "block_id": "actions", "value": fp, "type": "button", "action_ts": "1764000001.0"}},
	})
	resp, body = post("/slack/interactions", url.Values{"payload": {string(payload)}}.Encode(), "test-signing-secret")
	if resp.StatusCode != 200 {
		t.Fatalf("click: %d %s", resp.StatusCode, body)
	}
	a.cmds.Close() // wait for the click to be applied
	// The snooze is a silence on the alert's identity labels, by the user.
	sils, err := a.db.Silences(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	st, err := a.db.Alert(ctx, fp)
	if err != nil {
		t.Fatal(err)
	}
	if len(sils) != 1 || sils[0].CreatedBy != "U1" || !sils[0].EndsAt.Equal(now.Add(24*time.Hour)) || !sils[0].Matches(alert.Labels(st.Finding)) {
		t.Errorf("stored silences = %+v, want one 24 h silence of %s by U1", sils, fp)
	}
	if acts, err := a.db.Actions(ctx, alert.ActionFilter{}); err != nil || len(acts) != 0 {
		t.Errorf("stored actions = %+v, %v; want none (a snooze is a silence)", acts, err)
	}
}

func TestApp_Cycle_MalformedAccountDoesNotStopOthers(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	e := newEnv(t, now)
	const broken = "0123456789abcdef0123456789abcdef"
	good := demo.NewServer(now)
	cf := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, broken) && !strings.HasSuffix(r.URL.Path, "/info") && !strings.HasSuffix(r.URL.Path, "/profile") {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"success":true,"errors":[],"messages":[],"result":[{"ServiceName":"Workers","ChargePeriodStart":"yesterday"}]}`)
			return
		}
		r.URL.Path = strings.Replace(r.URL.Path, broken, demo.AccountID, 1)
		good.ServeHTTP(w, r)
	}))
	defer cf.Close()
	e.cfg.Cloudflare.BaseURL = cf.URL
	e.cfg.Cloudflare.Accounts = append(e.cfg.Cloudflare.Accounts, config.CFAccount{ID: broken, Name: "staging"})
	a := e.app(t, now)
	rep, err := a.Cycle(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Accounts) != 2 || rep.Accounts[0].Err != nil || rep.Accounts[1].Err == nil {
		t.Fatalf("account reports: %+v", rep.Accounts)
	}
	if msg := rep.Accounts[1].Err.Error(); !strings.Contains(msg, "ChargePeriodStart") || !strings.Contains(msg, broken) {
		t.Errorf("malformed payload error does not say where: %s", msg)
	}
	if e.slack.count() != 5 {
		t.Errorf("%d posts, want 5: the good account's 4 and a staleness warning", e.slack.count())
	}
	// The broken account never had good data: a staleness warning names it.
	var stale bool
	for _, f := range rep.Findings {
		stale = stale || (f.Kind.String() == "stale" && strings.Contains(f.Title, "staging"))
	}
	if !stale {
		t.Error("no staleness finding for the broken account")
	}
}

func TestDemo(t *testing.T) {
	// Dates around month ends, a card stage boundary and a leap day.
	for _, now := range []time.Time{
		time.Date(2026, 11, 25, 23, 59, 0, 0, time.UTC),
		time.Date(2026, 12, 31, 12, 0, 0, 0, time.UTC),
		time.Date(2028, 2, 29, 0, 30, 0, 0, time.UTC),
	} {
		t.Run(now.Format("2006-01-02T15:04"), func(t *testing.T) {
			var out strings.Builder
			if err := Demo(context.Background(), DemoOptions{Now: now, Out: &out, State: filepath.Join(t.TempDir(), "demo.db")}); err != nil {
				t.Fatalf("demo: %v\n%s", err, out.String())
			}
			for _, w := range []string{"budget FIRING", "forecast FIRING", "anomaly FIRING", "card_expiry FIRING", "nothing new to post"} {
				if !strings.Contains(out.String(), w) {
					t.Errorf("demo output lacks %q:\n%s", w, out.String())
				}
			}
		})
	}
}

func TestApp_Cycle_RefreshAfterFailedFetch(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	e, a, rep := cycled(t, now)
	if days := rep.Accounts[0].Range.Days(); days != e.cfg.Cloudflare.HistoryDays {
		t.Fatalf("first fetch covers %d days, want the whole history (%d)", days, e.cfg.Cloudflare.HistoryDays)
	}
	good := e.cfg.Cloudflare.BaseURL
	e.cfg.Cloudflare.BaseURL = "http://127.0.0.1:1" // refused
	a.Close()
	a = e.app(t, now)
	if _, err := a.Cycle(ctx, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	// A failed fetch in between does not force the whole history again.
	e.cfg.Cloudflare.BaseURL = good
	a.Close()
	a = e.app(t, now)
	rep, err := a.Cycle(ctx, now.Add(2*time.Hour))
	if err != nil || rep.Accounts[0].Err != nil {
		t.Fatalf("cycle: %v %+v", err, rep.Accounts)
	}
	if days := rep.Accounts[0].Range.Days(); days != e.cfg.Cloudflare.RefreshDays {
		t.Errorf("fetch after a failure covers %d days, want refresh_days (%d)", days, e.cfg.Cloudflare.RefreshDays)
	}
}

func TestApp_Cycle_PrunesOldAlerts(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 17, 0, 0, 0, time.UTC)
	_, a, _ := cycled(t, now)
	var fps []string
	for _, ended := range []time.Time{now.AddDate(0, 0, -401), now.AddDate(0, 0, -399)} {
		f := cost.Finding{Kind: cost.KindForecast, Rule: "old", Scope: cost.Scope{Account: demo.AccountID},
			Period: cost.Period{Start: ended.AddDate(0, -1, 0), End: ended}, Threshold: "forecast>=100%"}
		st := alert.State{Fingerprint: alert.Fingerprint(f), Group: alert.Group(f), Finding: f, Status: alert.StatusResolved,
			Reason: alert.ReasonFirst, Episode: 1, StartsAt: f.Period.Start, EndsAt: ended, UpdatedAt: ended}
		if err := a.db.SaveAlerts(ctx, []alert.State{st}); err != nil {
			t.Fatal(err)
		}
		fps = append(fps, st.Fingerprint)
	}
	if _, err := a.Cycle(ctx, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := a.db.Alert(ctx, fps[0]); !errors.Is(err, alert.ErrNotFound) {
		t.Errorf("alert resolved 401 days ago: %v, want deleted (retention_days 400)", err)
	}
	if _, err := a.db.Alert(ctx, fps[1]); err != nil {
		t.Errorf("alert resolved 399 days ago: %v, want kept", err)
	}
	if states, err := a.db.Alerts(ctx, nil); err != nil || len(alert.Open(states)) == 0 {
		t.Errorf("open alerts after pruning = %d, %v; want the cycle's alerts kept", len(alert.Open(states)), err)
	}
}

// receiversYAML is the config's cloudflare, slack and notifiers sections
// for tests against the demo Cloudflare, a fake Slack and a webhook
// receiver: the Slack notifier finops and the webhook ops-hook.
func receiversYAML(cfURL, slackURL, hookURL string) string {
	return fmt.Sprintf(`cloudflare:
  base_url: %s
  api_token: ${CF}
  accounts: [{id: %s, name: production}]
  max_retry_wait: 1ms
slack:
  bot_token: xoxb-test
  signing_secret: test-signing-secret
  api_url: %s/
notifiers:
  - name: finops
    slack: {channel: C0123456789}
  - name: ops-hook
    webhook: {url: %s/hook, secret: %s}
`, cfURL, demo.AccountID, slackURL, hookURL, hookSecret)
}

// firingBudgets is a rules file of n budgets of 1 USD over the demo
// account, each firing at once (b000, b001, ...).
func firingBudgets(n int) string {
	var b strings.Builder
	b.WriteString("budgets:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - name: b%03d\n    scope: {account: production}\n    amount: 1\n    currency: USD\n"+
			"    thresholds:\n      - {percent: 100, on: actual, severity: warning}\n", i)
	}
	return b.String()
}

// TestApp_Cycle_RequestsPer5m: cloudflare.requests_per_5m paces the
// daemon's billing client. A first backfill needs more requests than a
// bound of 10 lets through at once (a burst of 5, then one a minute), so
// with a 2-second fetch timeout it fails on the limit instead of sending.
func TestApp_Cycle_RequestsPer5m(t *testing.T) {
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name  string
		limit int
		fails bool
	}{
		{name: "Default", limit: config.CloudflareRequestsPer5m},
		{name: "Ten", limit: 10, fails: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, now)
			e.cfg.Cloudflare.RequestsPer5m = tt.limit
			e.cfg.Cloudflare.Timeout = 2 * time.Second
			a := e.app(t, now)
			rep, err := a.Cycle(context.Background(), now)
			if err != nil {
				t.Fatal(err)
			}
			ferr := rep.Accounts[0].Err
			if tt.fails != (ferr != nil) {
				t.Fatalf("fetch error %v, want one: %t", ferr, tt.fails)
			}
			if ferr != nil && !strings.Contains(ferr.Error(), "rate") {
				t.Errorf("fetch error %q does not name the rate limit", ferr)
			}
		})
	}
}
