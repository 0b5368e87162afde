package slackcmd

import (
	goldenfile "github.com/costbot/costbot/internal/golden"

	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/costbot/costbot/internal/cost"
)

// runSlash sends text as a signed slash command through the real handler and
// returns the decoded JSON reply and the raw body.
func runSlash(t *testing.T, h *Handler, text string) (map[string]any, []byte) {
	t.Helper()
	mux := http.NewServeMux()
	h.Routes(mux)
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, signedRequest(t, "/slack/commands", testSecret, testNow, commandBody(text, 1)))
	if w.Code != http.StatusOK {
		t.Fatalf("/costbot %s: status %d: %s", text, w.Code, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	var m map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
		t.Fatalf("reply is not JSON: %v\n%s", err, w.Body)
	}
	return m, w.Body.Bytes()
}

// golden compares got (indented) with testdata/name.golden.json; -update rewrites it.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, got, "", "  "); err != nil {
		t.Fatal(err)
	}
	buf.WriteByte('\n')
	goldenfile.Check(t, filepath.Join("testdata", name+".golden.json"), buf.Bytes())
}

func TestCommandsGolden(t *testing.T) {
	tests := []struct {
		name, text   string
		responseType string
		contains     []string
		data         func(*Data)
	}{
		{"help", "help", "ephemeral", []string{"spend", "top", "budgets", "forecast", "anomalies", "card"}, nil},
		{"empty-text-help", "", "ephemeral", []string{"/costbot spend"}, nil},
		{"unknown-subcommand", "frobnicate now", "ephemeral", []string{"Unknown subcommand `frobnicate`", "/costbot spend"}, nil},
		{"spend-mtd", "spend", "ephemeral", []string{"Spend · all accounts · month to date", "data_visualization", "Workers Standard Requests"}, nil},
		{"spend-shared", "spend --share", "in_channel", []string{"month to date"}, nil},
		{"spend-service-prefix-7d", "spend workers req 7d", "ephemeral", []string{"service Workers Standard Requests", "last 7 days"}, nil},
		{"spend-family", "spend workers", "ephemeral", []string{"family Workers", "Workers Standard CPU ms"}, nil},
		{"spend-account-last-month", "spend production last-month", "ephemeral", []string{"account production", "last month", "1 Oct – 31 Oct 2026"}, nil},
		{"spend-period-first", "spend 7d workers req", "ephemeral", []string{"service Workers Standard Requests", "last 7 days"}, nil},
		{"spend-yesterday", "spend yesterday", "ephemeral", []string{"yesterday"}, nil},
		{"spend-today", "spend today", "ephemeral", []string{"Today's data is not in yet", "showing 24 Nov 2026", "yesterday", "$154.99"}, nil},
		{"spend-30d", "spend r2 30d", "ephemeral", []string{"family R2"}, nil},
		{"spend-ambiguous", "spend workers standard", "ephemeral", []string{"matches 2 names", "service:Workers Standard CPU ms", "service:Workers Standard Requests"}, nil},
		{"spend-unknown", "spend wrokers", "ephemeral", []string{"No account, family or service matches", "Did you mean", "family:Workers"}, nil},
		{"spend-stale", "spend", "ephemeral", []string{"data from 3 h ago"}, func(d *Data) { d.FetchedAt = testNow.Add(-3*time.Hour - 5*time.Minute) }},
		{"top", "top", "ephemeral", []string{"Top 5 by cost", "Top movers", "Workers Standard Requests"}, nil},
		{"top-3-30d", "top 3 30d", "ephemeral", []string{"Top 3 by cost", "last 30 days"}, nil},
		{"top-bad-arg", "top many", "ephemeral", []string{"`top` takes a count"}, nil},
		{"budgets", "budgets", "ephemeral", []string{"monthly-total", "workers-cap", "76%", "6 days left", "forecast $3,140.50"}, nil},
		{"budgets-none", "budgets", "ephemeral", []string{"No budgets are configured"}, func(d *Data) { d.Budgets = nil }},
		{"forecast-all", "forecast", "ephemeral", []string{"Forecast for the billing period", "1 Nov – 30 Nov 2026", "production", "staging"}, nil},
		{"forecast-service", "forecast argo", "ephemeral", []string{"family Argo", "budget rules"}, nil},
		{"anomalies", "anomalies", "ephemeral", []string{"Workers Standard Requests spiked", "a1b2c3d4e5f60718"}, nil},
		{"anomalies-none", "anomalies", "ephemeral", []string{"No open anomalies"}, func(d *Data) { d.Open = nil }},
		{"card", "card", "ephemeral", []string{"•••• 4242", "12/2026", "36 d"}, nil},
		{"card-stage", "card", "ephemeral", []string{"expires in 5 days", "card<=7d", ":large_yellow_circle:"}, func(d *Data) { d.Cards[0].ExpiryMonth = 11 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, _ := newTestHandler(t, Options{})
			if tt.data != nil {
				d := testData()
				tt.data(&d)
				h.SetData(d)
			}
			m, raw := runSlash(t, h, tt.text)
			if m["response_type"] != tt.responseType {
				t.Errorf("response_type = %v, want %s", m["response_type"], tt.responseType)
			}
			if s, _ := m["text"].(string); s == "" {
				t.Error("reply has no fallback text")
			}
			for _, c := range tt.contains {
				if !strings.Contains(string(raw), jsonEscape(c)) {
					t.Errorf("reply lacks %q", c)
				}
			}
			checkLimits(t, m)
			golden(t, tt.name, raw)
		})
	}
}

func jsonEscape(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}

// checkLimits asserts Block Kit limits on a decoded reply.
func checkLimits(t *testing.T, m map[string]any) {
	t.Helper()
	blocks, _ := m["blocks"].([]any)
	if len(blocks) == 0 || len(blocks) > maxBlocks {
		t.Fatalf("%d blocks, want 1..%d", len(blocks), maxBlocks)
	}
	for i, b := range blocks {
		b := b.(map[string]any)
		if txt, ok := b["text"].(map[string]any); ok {
			s := txt["text"].(string)
			limit := maxSectionText
			if b["type"] == "header" {
				limit = maxHeaderText
			}
			if n := len([]rune(s)); n > limit {
				t.Errorf("block %d (%s): text %d chars > %d", i, b["type"], n, limit)
			}
		}
		if fs, ok := b["fields"].([]any); ok && len(fs) > maxFields {
			t.Errorf("block %d: %d fields", i, len(fs))
		}
		if b["type"] == "data_visualization" {
			chart := b["chart"].(map[string]any)
			series := chart["series"].([]any)
			pts := series[0].(map[string]any)["data"].([]any)
			if chart["type"] != "line" || len(pts) == 0 || len(pts) > maxChartPoints {
				t.Errorf("chart: type %v with %d points", chart["type"], len(pts))
			}
		}
	}
}

func TestNoDataYet(t *testing.T) {
	h := New(Options{SigningSecret: testSecret, Now: func() time.Time { return testNow }, Logger: testLogger(&syncBuffer{})})
	m, _ := runSlash(t, h, "spend")
	if s := m["text"].(string); !strings.Contains(s, "No cost data yet") {
		t.Errorf("text = %q", s)
	}
	m, _ = runSlash(t, h, "help")
	if s := m["text"].(string); !strings.Contains(s, "costbot commands") {
		t.Errorf("help without data: %q", s)
	}
}

func TestForecastInjected(t *testing.T) {
	var calls int
	h, _ := newTestHandler(t, Options{Forecast: func(rows []cost.Usage, match func(cost.Usage) bool, now time.Time) (cost.BudgetStatus, error) {
		calls++
		if match != nil || now != testNow || len(rows) == 0 {
			t.Errorf("forecast called with match %v, now %s, %d rows", match != nil, now, len(rows))
		}
		return cost.BudgetStatus{Period: cost.Period{Start: time.Date(2026, 11, 15, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 12, 15, 0, 0, 0, 0, time.UTC)},
			Currency: "USD", Actual: 1000, Forecast: 2160.75, DaysLeft: 20}, nil
	}})
	_, raw := runSlash(t, h, "forecast")
	for _, want := range []string{"$4,321.50", "15 Nov – 14 Dec 2026", "billing period"} {
		if !strings.Contains(string(raw), jsonEscape(want)) {
			t.Errorf("reply lacks %q:\n%s", want, raw)
		}
	}
	if calls != 2 {
		t.Errorf("forecast called %d times, want once per account", calls)
	}
}

// TestErrorsReplyShortAndLogFull checks the one wrapper that turns errors
// into a short reply and a full log line.
func TestErrorsReplyShortAndLogFull(t *testing.T) {
	h, logs := newTestHandler(t, Options{Forecast: func([]cost.Usage, func(cost.Usage) bool, time.Time) (cost.BudgetStatus, error) {
		panic("boom in forecast")
	}})
	m, _ := runSlash(t, h, "forecast")
	if s := m["text"].(string); strings.Contains(s, "boom") || !strings.Contains(s, "Sorry") {
		t.Errorf("user reply = %q", s)
	}
	if l := logs.String(); !strings.Contains(l, "slash command failed") || !strings.Contains(l, "boom in forecast") {
		t.Errorf("log lacks the full error:\n%s", l)
	}
}

func TestLookup(t *testing.T) {
	s := newSnapshot(testData())
	tests := []struct {
		q          string
		hit        string
		candidates int
		suggest    string
	}{
		{"", "all accounts", 0, ""},
		{"workers", "Workers", 0, ""}, // exact family name wins
		{"WORKERS REQ", "Workers Standard Requests", 0, ""},
		{"workers standard requests", "Workers Standard Requests", 0, ""},
		{"std", "", 0, ""},
		{"stand", "", 2, ""},
		{"service:workers", "", 2, ""},
		{"cpu", "Workers Standard CPU ms", 0, ""},
		{"prod", "production", 0, ""},
		{prodID, "production", 0, ""},
		{"0123", "production", 0, ""},
		{"r2 data", "R2 Data Storage", 0, ""},
		{"argoo", "", 0, "Argo"},
		{"imgaes", "", 0, "Images"},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			r := s.lookup(tt.q)
			switch {
			case tt.hit != "":
				if r.hit == nil || r.hit.name != tt.hit {
					t.Errorf("hit = %v, want %s (candidates %d)", r.hit, tt.hit, len(r.candidates))
				}
			case tt.candidates > 0:
				if r.hit != nil || len(r.candidates) != tt.candidates {
					t.Errorf("hit %v, %d candidates; want %d candidates", r.hit, len(r.candidates), tt.candidates)
				}
			case tt.suggest != "":
				if r.hit != nil || len(r.suggestions) == 0 || r.suggestions[0].name != tt.suggest {
					t.Errorf("suggestions %v, want %s first", names(r.suggestions), tt.suggest)
				}
			default:
				if r.hit != nil {
					t.Errorf("hit = %s, want none", r.hit.name)
				}
			}
		})
	}
}

func names(xs []*series) []string {
	var out []string
	for _, x := range xs {
		out = append(out, x.name)
	}
	return out
}

func TestParsePeriod(t *testing.T) {
	today := cost.Day(testNow)
	tests := []struct {
		tok  string
		end  time.Time // end of the complete days
		want string
		note string
	}{
		{"mtd", today, "2026-11-01..2026-11-25", ""},
		{"today", today, "2026-11-24..2026-11-25", "Today's data is not in yet"},
		{"yesterday", today, "2026-11-24..2026-11-25", ""},
		{"7d", today, "2026-11-18..2026-11-25", ""},
		{"30d", today, "2026-10-26..2026-11-25", ""},
		{"last-month", today, "2026-10-01..2026-11-01", ""},
		{"7d", today.AddDate(0, 0, -2), "2026-11-16..2026-11-23", "The newest data is for Sun 22 Nov"},
		{"today", today.AddDate(0, 0, -2), "2026-11-22..2026-11-23", "showing 22 Nov 2026"},
		{"yesterday", today.AddDate(0, 0, -2), "2026-11-24..2026-11-25", "No data for yesterday yet"},
		{"mtd", time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), "2026-11-01..2026-11-01", "No complete day of November yet"},
	}
	for _, tt := range tests {
		t.Run(tt.tok+"@"+tt.end.Format("Jan2"), func(t *testing.T) {
			ps, ok := parsePeriod(tt.tok)
			if !ok {
				t.Fatalf("parsePeriod(%q) failed", tt.tok)
			}
			p, _, note := ps.resolve(today, tt.end)
			if p.String() != tt.want {
				t.Errorf("period %s, want %s", p, tt.want)
			}
			if (tt.note == "") != (note == "") || !strings.Contains(note, tt.note) {
				t.Errorf("note %q, want %q", note, tt.note)
			}
		})
	}
	if _, ok := parsePeriod("fortnight"); ok {
		t.Error("fortnight parsed")
	}
}

func TestBlockLimitEnforced(t *testing.T) {
	d := testData()
	for i := range 80 {
		a := d.Open[0]
		a.Fingerprint = strings.Repeat("f", 15) + string(rune('a'+i%26))
		d.Open = append(d.Open, a)
	}
	h, _ := newTestHandler(t, Options{})
	h.SetData(d)
	m, _ := runSlash(t, h, "anomalies")
	checkLimits(t, m)
}

// TestReplyCache checks that cached replies follow SetData, --share and the clock.
func TestReplyCache(t *testing.T) {
	now := testNow
	h, _ := newTestHandler(t, Options{Now: func() time.Time { return now }})
	n := 0
	text := func(cmd string) string {
		t.Helper()
		n++
		mux := http.NewServeMux()
		h.Routes(mux)
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, signedRequest(t, "/slack/commands", testSecret, now, commandBody(cmd, n)))
		var m map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
			t.Fatalf("%s: %v", cmd, err)
		}
		return m["text"].(string) + "|" + m["response_type"].(string)
	}
	first := text("spend")
	if again := text("spend"); again != first {
		t.Fatalf("same question, different answer: %q vs %q", first, again)
	}
	if shared := text("spend --share"); !strings.HasSuffix(shared, "|in_channel") {
		t.Errorf("--share served from the ephemeral cache entry: %q", shared)
	}
	d := testData()
	d.Usage = d.Usage[:len(d.Usage)-8] // drop yesterday
	h.SetData(d)
	if after := text("spend"); after == first {
		t.Errorf("reply not refreshed after SetData: %q", after)
	}
	now = now.Add(20 * 24 * time.Hour) // a new month
	if later := text("spend"); !strings.Contains(later, "$0.00") || !strings.Contains(later, "1 Dec 2026") {
		t.Errorf("reply not refreshed when the clock moved: %q", later)
	}
}

// TestLineChartValid runs slack-go's own data_visualization validation.
func TestLineChartValid(t *testing.T) {
	for _, n := range []int{1, 7, 20, 45} {
		days := make([]time.Time, n)
		vals := make([]float64, n)
		for i := range days {
			days[i] = testNow.AddDate(0, 0, i-n)
			vals[i] = float64(i) * 1.005
		}
		b := lineChart("Daily cost, last 20 days, a title longer than fifty characters", "Cost per day (USD)", days, vals)
		dv, ok := b.(*slack.DataVisualizationBlock)
		if !ok {
			t.Fatalf("lineChart returned %T", b)
		}
		if err := dv.Validate(); err != nil {
			t.Errorf("%d days: %v", n, err)
		}
	}
}
