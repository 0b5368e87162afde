package slack_test

import (
	"github.com/costbot/costbot/internal/golden"

	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	slackapi "github.com/slack-go/slack"
	"github.com/slack-go/slack/slacktest"

	"github.com/costbot/costbot/internal/cost"
	"github.com/costbot/costbot/internal/notify"
	"github.com/costbot/costbot/internal/notify/notifytest"
	"github.com/costbot/costbot/internal/notify/slack"
)

// call is one Web API request the fake received.
type call struct {
	method string // "chat.postMessage", "chat.update", "files.…", uploadPath
	form   url.Values
	file   []byte // the uploaded bytes, for uploadPath
}

// reply scripts one response of the fake.
type reply struct {
	status int
	header http.Header
	body   string
}

// fakeSlack speaks the Web API wire format for chat.postMessage,
// chat.update and the external file upload (form-encoded POST, JSON answer;
// the upload URL takes multipart/form-data). Scripted replies are used
// in order per method, then a success. Unknown paths fail the test.
type fakeSlack struct {
	t   testing.TB
	srv *httptest.Server

	mu      sync.Mutex
	calls   []call
	scripts map[string][]reply
	seq     int
}

func newFake(t testing.TB) *fakeSlack {
	t.Helper()
	f := &fakeSlack{t: t, scripts: map[string][]reply{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeSlack) script(method string, r ...reply) {
	f.scripts[method] = append(f.scripts[method], r...)
}

func (f *fakeSlack) serve(w http.ResponseWriter, r *http.Request) {
	method := strings.TrimPrefix(r.URL.Path, "/")
	if r.Method != http.MethodPost || !knownMethods[method] {
		f.t.Errorf("unexpected request %s %s", r.Method, r.URL.Path)
		http.NotFound(w, r)
		return
	}
	var form url.Values
	var file []byte
	if method == uploadPath {
		// The upload URL takes the bytes as multipart/form-data field "file".
		fh, hdr, err := r.FormFile("file")
		if err != nil {
			f.t.Errorf("upload: %v", err)
		} else {
			file, _ = io.ReadAll(fh)
			form = url.Values{"filename": {hdr.Filename}}
		}
	} else {
		body, _ := io.ReadAll(r.Body)
		var err error
		if form, err = url.ParseQuery(string(body)); err != nil {
			f.t.Errorf("bad form: %v", err)
		}
	}
	if got := form.Get("token"); got != "xoxb-test-token" && r.Header.Get("Authorization") != "Bearer xoxb-test-token" {
		f.t.Errorf("no token sent")
	}
	f.mu.Lock()
	f.calls = append(f.calls, call{method: method, form: form, file: file})
	var rep *reply
	if s := f.scripts[method]; len(s) > 0 {
		rep = &s[0]
		f.scripts[method] = s[1:]
	}
	f.seq++
	seq := f.seq
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if rep != nil {
		for k, v := range rep.header {
			w.Header()[k] = v
		}
		w.WriteHeader(rep.status)
		_, _ = io.WriteString(w, rep.body)
		return
	}
	switch method {
	case "files.getUploadURLExternal":
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "upload_url": f.srv.URL + "/" + uploadPath, "file_id": "F0UPLOAD1"})
		return
	case uploadPath:
		w.Header().Set("Content-Type", "text/plain")
		_, _ = fmt.Fprintf(w, "OK - %d", len(file))
		return
	case "files.completeUploadExternal":
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "files": []map[string]string{{"id": "F0UPLOAD1", "title": "chart"}}})
		return
	}
	ts := form.Get("ts")
	if ts == "" {
		ts = fmt.Sprintf("1784625%03d.000100", seq)
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "channel": form.Get("channel"), "ts": ts})
}

// uploadPath is where the fake's files.getUploadURLExternal points uploads.
const uploadPath = "upload/F0UPLOAD1"

var knownMethods = map[string]bool{
	"chat.postMessage": true, "chat.update": true,
	"files.getUploadURLExternal": true, uploadPath: true, "files.completeUploadExternal": true,
}

func (f *fakeSlack) Calls() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]call(nil), f.calls...)
}

func newNotifier(t testing.TB, f *fakeSlack, log *slog.Logger) *slack.Notifier {
	t.Helper()
	n, err := slack.New(slack.Options{
		Name: "slack", Channel: "C0123ABCD", Token: "xoxb-test-token", APIURL: f.srv.URL + "/",
		HTTPClient: f.srv.Client(), Now: func() time.Time { return notifytest.Now }, Logger: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestRender(t *testing.T) {
	alerts := notifytest.Alerts()
	for _, name := range notifytest.Names {
		t.Run(name, func(t *testing.T) {
			a := alerts[name]
			text, blocks := slack.Render(a)
			if text == "" {
				t.Error("empty fallback text")
			}
			golden.Check(t, "testdata/"+name+".golden.json", renderJSON(t, text, blocks))
			checkLimits(t, text, blocks)

			wantButtons := a.Status == cost.StatusFiring && (a.Kind == cost.KindBudget || a.Kind == cost.KindForecast || a.Kind == cost.KindAnomaly)
			ids := buttons(blocks)
			if wantButtons {
				want := []string{"costbot_ack", "costbot_snooze_24h", "costbot_snooze_7d"}
				if a.Kind == cost.KindAnomaly {
					want = append(want, "costbot_expected")
				}
				if fmt.Sprint(ids) != fmt.Sprint(want) {
					t.Errorf("buttons %v, want %v", ids, want)
				}
			} else if len(ids) != 0 {
				t.Errorf("buttons %v, want none", ids)
			}
			if raw := string(renderJSON(t, text, blocks)); strings.Contains(raw, "************4242") {
				t.Error("card number beyond last 4 rendered")
			}
		})
	}
	t.Run("escalation_root", func(t *testing.T) {
		text, blocks := slack.RenderRoot(alerts["escalation"], notifytest.Now)
		golden.Check(t, "testdata/escalation_root.golden.json", renderJSON(t, text, blocks))
		if h := headerOf(blocks); !strings.Contains(h, "Now: ") || !strings.Contains(h, "critical") {
			t.Errorf("root header %q", h)
		}
	})
}

func TestRender_Chart(t *testing.T) {
	a := notifytest.Alerts()["budget"] // 21 days, one unknown
	_, blocks := slack.Render(a)
	var chart *slackapi.DataVisualizationBlock
	for _, b := range blocks {
		if c, ok := b.(*slackapi.DataVisualizationBlock); ok {
			chart = c
		}
	}
	if chart == nil {
		t.Fatal("no chart block")
	}
	if err := chart.Validate(); err != nil {
		t.Fatalf("chart invalid: %v", err)
	}
	line := chart.Chart.(*slackapi.DataVisualizationLineChart)
	if len(line.Series) != 2 || len(line.AxisConfig.Categories) != 19 || line.Series[1].Name != "Budget/day" {
		t.Errorf("series %d, categories %d (%v), ref %q", len(line.Series), len(line.AxisConfig.Categories), line.AxisConfig.Categories, line.Series[1].Name)
	}
	for _, c := range line.AxisConfig.Categories {
		if c == "Jul 9" {
			t.Error("unknown day plotted")
		}
	}
	a.Chart = &cost.Chart{Days: a.Chart.Days[:1], Values: a.Chart.Values[:1]}
	if _, blocks := slack.Render(a); hasBlock(blocks, slackapi.MBTDataVisualization) {
		t.Error("chart with one point rendered")
	}
	a.Chart = nil
	if _, blocks := slack.Render(a); hasBlock(blocks, slackapi.MBTDataVisualization) {
		t.Error("chart rendered without data")
	}
}

func TestRender_Limits(t *testing.T) {
	huge := strings.Repeat("Spend <&> grew ", 4000) // 60,000 chars
	for _, name := range notifytest.Names {
		a := notifytest.Alerts()[name]
		a.Title = huge
		a.Summary = huge
		a.Rule = strings.Repeat("r", 400)
		a.Threshold = strings.Repeat("t", 400)
		a.Fingerprint = strings.Repeat("f", 300)
		a.Scope.Account = strings.Repeat("a", 3000)
		if a.Anomaly != nil {
			a.Anomaly.Detector = huge
		}
		if a.Chart != nil {
			a.Chart.Title = huge
			a.Chart.ReferenceLabel = huge
		}
		t.Run(name, func(t *testing.T) {
			text, blocks := slack.Render(a)
			checkLimits(t, text, blocks)
			if h := headerOf(blocks); !strings.HasSuffix(h, "…") {
				t.Errorf("header not truncated with an ellipsis: %q", h[len(h)-10:])
			}
			text, blocks = slack.RenderRoot(a, notifytest.Now)
			checkLimits(t, text, blocks)
		})
	}
}

// checkLimits enforces Block Kit limits on rendered blocks via their JSON.
func checkLimits(t testing.TB, text string, blocks []slackapi.Block) {
	t.Helper()
	if n := utf8.RuneCountInString(text); n > 40000 || n == 0 {
		t.Errorf("text is %d chars", n)
	}
	if len(blocks) > 50 {
		t.Errorf("%d blocks", len(blocks))
	}
	raw, err := json.Marshal(blocks)
	if err != nil {
		t.Fatal(err)
	}
	var bs []map[string]any
	if err := json.Unmarshal(raw, &bs); err != nil {
		t.Fatal(err)
	}
	total := 0
	textOf := func(v any) string {
		m, _ := v.(map[string]any)
		s, _ := m["text"].(string)
		total += utf8.RuneCountInString(s)
		return s
	}
	ids := map[string]bool{}
	for _, b := range bs {
		id, _ := b["block_id"].(string)
		if utf8.RuneCountInString(id) > 255 {
			t.Errorf("block_id %d chars", len(id))
		}
		if ids[id] {
			t.Errorf("duplicate block_id %q", id)
		}
		ids[id] = true
		switch b["type"] {
		case "header":
			if n := utf8.RuneCountInString(textOf(b["text"])); n > 150 {
				t.Errorf("header %d chars", n)
			}
		case "section":
			if n := utf8.RuneCountInString(textOf(b["text"])); n > 3000 {
				t.Errorf("section %d chars", n)
			}
			fields, _ := b["fields"].([]any)
			if len(fields) > 10 {
				t.Errorf("%d fields", len(fields))
			}
			for _, f := range fields {
				if n := utf8.RuneCountInString(textOf(f)); n > 2000 {
					t.Errorf("field %d chars", n)
				}
			}
		case "context":
			els, _ := b["elements"].([]any)
			if len(els) > 10 {
				t.Errorf("%d context elements", len(els))
			}
			for _, e := range els {
				textOf(e)
			}
		case "actions":
			els, _ := b["elements"].([]any)
			for _, e := range els {
				m := e.(map[string]any)
				if n := utf8.RuneCountInString(textOf(m["text"])); n > 75 {
					t.Errorf("button text %d chars", n)
				}
				if v, _ := m["value"].(string); len(v) > 2000 {
					t.Errorf("button value %d chars", len(v))
				}
			}
		case "data_visualization":
			if title, _ := b["title"].(string); utf8.RuneCountInString(title) > 50 {
				t.Errorf("chart title %d chars", len(title))
			}
		}
	}
	for _, b := range blocks {
		if c, ok := b.(*slackapi.DataVisualizationBlock); ok {
			if err := c.Validate(); err != nil {
				t.Errorf("chart: %v", err)
			}
		}
	}
	if total >= 12000 {
		t.Errorf("total block text %d chars, want well under 12,000", total)
	}
}

func TestNotifier_Notify(t *testing.T) {
	alerts := notifytest.Alerts()

	t.Run("OK", func(t *testing.T) {
		f := newFake(t)
		n := newNotifier(t, f, nil)
		a := alerts["budget"]
		ref, err := n.Notify(context.Background(), a)
		if err != nil {
			t.Fatal(err)
		}
		calls := f.Calls()
		if len(calls) != 1 || calls[0].method != "chat.postMessage" {
			t.Fatalf("calls %+v", calls)
		}
		form := calls[0].form
		if form.Get("channel") != "C0123ABCD" || form.Get("thread_ts") != "" || form.Get("reply_broadcast") != "" {
			t.Errorf("form %v", form)
		}
		text, blocks := slack.Render(a)
		if form.Get("text") != text {
			t.Errorf("text %q, want %q", form.Get("text"), text)
		}
		want, _ := json.Marshal(blocks)
		if form.Get("blocks") != string(want) {
			t.Errorf("blocks differ:\n%s\n%s", form.Get("blocks"), want)
		}
		if ref == nil || *ref != (cost.MessageRef{Notifier: "slack", Channel: "C0123ABCD", TS: "1784625001.000100"}) {
			t.Errorf("ref %+v", ref)
		}
	})

	t.Run("OKEscalationInThread", func(t *testing.T) {
		f := newFake(t)
		n := newNotifier(t, f, nil)
		a := alerts["escalation"]
		ref, err := n.Notify(context.Background(), a)
		if err != nil {
			t.Fatal(err)
		}
		calls := f.Calls()
		if len(calls) != 2 || calls[0].method != "chat.postMessage" || calls[1].method != "chat.update" {
			t.Fatalf("calls %+v", calls)
		}
		post, upd := calls[0].form, calls[1].form
		if post.Get("thread_ts") != a.Thread.TS || post.Get("reply_broadcast") != "true" || post.Get("channel") != a.Thread.Channel {
			t.Errorf("reply form %v", post)
		}
		if upd.Get("channel") != a.Thread.Channel || upd.Get("ts") != a.Thread.TS {
			t.Errorf("update form %v", upd)
		}
		_, root := slack.RenderRoot(a, notifytest.Now)
		want, _ := json.Marshal(root)
		if upd.Get("blocks") != string(want) || !strings.Contains(upd.Get("blocks"), "Now: ") {
			t.Errorf("update blocks %s", upd.Get("blocks"))
		}
		if ref.TS == a.Thread.TS || ref.TS == "" {
			t.Errorf("ref %+v should name the reply", ref)
		}
	})

	t.Run("OKResolvedInThread", func(t *testing.T) {
		f := newFake(t)
		n := newNotifier(t, f, nil)
		a := alerts["resolved"]
		if _, err := n.Notify(context.Background(), a); err != nil {
			t.Fatal(err)
		}
		calls := f.Calls()
		if len(calls) != 2 {
			t.Fatalf("calls %+v", calls)
		}
		if calls[0].form.Get("thread_ts") != a.Thread.TS || calls[0].form.Get("reply_broadcast") != "" {
			t.Errorf("reply form %v", calls[0].form)
		}
		if b := calls[1].form.Get("blocks"); !strings.Contains(b, "Resolved: ") || strings.Contains(b, "costbot_ack") {
			t.Errorf("root update %s", b)
		}
	})

	t.Run("OKUpdateFailureLogged", func(t *testing.T) {
		f := newFake(t)
		f.script("chat.update", reply{200, nil, `{"ok":false,"error":"message_not_found"}`})
		var logs bytes.Buffer
		n := newNotifier(t, f, slog.New(slog.NewTextHandler(&logs, nil)))
		ref, err := n.Notify(context.Background(), alerts["escalation"])
		if err != nil || ref == nil {
			t.Fatalf("ref %v, err %v: update failure must not fail the send", ref, err)
		}
		if !strings.Contains(logs.String(), "message_not_found") {
			t.Errorf("update failure not logged: %s", logs.String())
		}
	})

	t.Run("OKInvalidBlocksRetriedWithoutChart", func(t *testing.T) {
		f := newFake(t)
		f.script("chat.postMessage", reply{200, nil, `{"ok":false,"error":"invalid_blocks"}`})
		n := newNotifier(t, f, nil)
		if _, err := n.Notify(context.Background(), alerts["anomaly"]); err != nil {
			t.Fatal(err)
		}
		calls := f.Calls()
		if len(calls) != 2 || !strings.Contains(calls[0].form.Get("blocks"), "data_visualization") ||
			strings.Contains(calls[1].form.Get("blocks"), "data_visualization") {
			t.Errorf("want a second post without the chart, got %d calls", len(calls))
		}
	})
}

func TestNotifier_NotifyErr(t *testing.T) {
	tests := []struct {
		name      string
		reply     reply
		retryable bool
		wait      time.Duration
	}{
		{"Err429RetryAfter", reply{429, http.Header{"Retry-After": {"3"}}, ""}, true, 3 * time.Second},
		{"Err429NoRetryAfter", reply{429, nil, ""}, true, 0},
		{"Err503", reply{503, nil, "<html>"}, true, 0},
		{"ErrChannelNotFound", reply{200, nil, `{"ok":false,"error":"channel_not_found"}`}, false, 0},
		{"ErrNotInChannel", reply{200, nil, `{"ok":false,"error":"not_in_channel"}`}, false, 0},
		{"ErrInternal", reply{200, nil, `{"ok":false,"error":"internal_error"}`}, true, 0},
		{"ErrRatelimitedBody", reply{200, nil, `{"ok":false,"error":"ratelimited"}`}, true, 0},
		{"Err400", reply{400, nil, ""}, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			f.script("chat.postMessage", tt.reply)
			n := newNotifier(t, f, nil)
			ref, err := n.Notify(context.Background(), notifytest.Alerts()["budget"])
			if err == nil || ref != nil {
				t.Fatalf("ref %v, err %v: want error", ref, err)
			}
			if got := notify.IsRetryable(err); got != tt.retryable {
				t.Errorf("IsRetryable = %v, want %v (%v)", got, tt.retryable, err)
			}
			if got := notify.RetryAfter(err); got != tt.wait {
				t.Errorf("RetryAfter = %v, want %v", got, tt.wait)
			}
			if strings.Contains(err.Error(), "xoxb-test-token") {
				t.Errorf("token leaked: %v", err)
			}
			if len(f.Calls()) != 1 {
				t.Errorf("%d calls, want 1 (no retry inside the notifier)", len(f.Calls()))
			}
		})
	}

	t.Run("ErrCanceled", func(t *testing.T) {
		f := newFake(t)
		n := newNotifier(t, f, nil)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := n.Notify(ctx, notifytest.Alerts()["budget"]); err == nil || notify.IsRetryable(err) {
			t.Errorf("err %v, want non-retryable", err)
		}
	})

	t.Run("ErrConnectionRefused", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		u := srv.URL
		srv.Close()
		n, err := slack.New(slack.Options{Channel: "C1", Token: "xoxb-test-token", APIURL: u + "/"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = n.Notify(context.Background(), notifytest.Alerts()["budget"])
		if !notify.IsRetryable(err) || strings.Contains(err.Error(), "xoxb-test-token") {
			t.Errorf("err %v, want retryable without token", err)
		}
	})
}

// TestNotifier_SlackTest checks interoperability with slack-go's own fake.
func TestNotifier_SlackTest(t *testing.T) {
	srv := slacktest.NewTestServer()
	srv.Start()
	defer srv.Stop()
	api := slackapi.New("xoxb-test", slackapi.OptionAPIURL(srv.GetAPIURL()))
	n, err := slack.New(slack.Options{Name: "team", Channel: "C0123ABCD", Client: api})
	if err != nil {
		t.Fatal(err)
	}
	ref, err := n.Notify(context.Background(), notifytest.Alerts()["card_expiry"])
	if err != nil {
		t.Fatal(err)
	}
	if ref.Notifier != "team" || ref.Channel != "C0123ABCD" || ref.TS == "" {
		t.Errorf("ref %+v", ref)
	}
}

func TestNew(t *testing.T) {
	if _, err := slack.New(slack.Options{Token: "x"}); err == nil {
		t.Error("no channel: want error")
	}
	if _, err := slack.New(slack.Options{Channel: "C1"}); err == nil {
		t.Error("no token or client: want error")
	}
}

func renderJSON(t testing.TB, text string, blocks []slackapi.Block) []byte {
	t.Helper()
	b, err := json.MarshalIndent(map[string]any{"text": text, "blocks": blocks}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

func buttons(blocks []slackapi.Block) []string {
	var ids []string
	for _, b := range blocks {
		if a, ok := b.(*slackapi.ActionBlock); ok {
			for _, e := range a.Elements.ElementSet {
				if btn, ok := e.(*slackapi.ButtonBlockElement); ok {
					ids = append(ids, btn.ActionID)
				}
			}
		}
	}
	return ids
}

func headerOf(blocks []slackapi.Block) string {
	for _, b := range blocks {
		if h, ok := b.(*slackapi.HeaderBlock); ok {
			return h.Text.Text
		}
	}
	return ""
}

func hasBlock(blocks []slackapi.Block, typ slackapi.MessageBlockType) bool {
	for _, b := range blocks {
		if b.BlockType() == typ {
			return true
		}
	}
	return false
}

func TestNotifier_Contract(t *testing.T) {
	notifytest.RunContract(t, func(t *testing.T) notify.Notifier {
		return newNotifier(t, newFake(t), nil)
	})
}

func TestNotifier_ThreadOfOtherNotifierIgnored(t *testing.T) {
	f := newFake(t)
	n := newNotifier(t, f, nil)
	a := notifytest.Alerts()["escalation"]
	a.Thread = &cost.MessageRef{Notifier: "other", Channel: "C999", TS: "1.2"}
	if _, err := n.Notify(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	calls := f.Calls()
	if len(calls) != 1 || calls[0].form.Get("thread_ts") != "" || calls[0].form.Get("channel") != "C0123ABCD" {
		t.Errorf("calls %+v", calls)
	}
}
