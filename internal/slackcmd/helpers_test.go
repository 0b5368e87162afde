package slackcmd

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/costbot/costbot/internal/cost"
	"github.com/costbot/costbot/internal/rules"
)

const testSecret = "test-signing-secret-0123456789ab"

// testNow is the fake clock: Wednesday 25 Nov 2026 14:00 UTC.
var testNow = time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC)

// sign returns Slack's v0 signature of body at ts.
func sign(secret, ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("v0:" + ts + ":"))
	m.Write(body)
	return "v0=" + hex.EncodeToString(m.Sum(nil))
}

// signedRequest builds a POST signed like Slack does at the given time.
func signedRequest(tb testing.TB, path, secret string, at time.Time, body string) *http.Request {
	tb.Helper()
	ts := strconv.FormatInt(at.Unix(), 10)
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("X-Slack-Request-Timestamp", ts)
	r.Header.Set("X-Slack-Signature", sign(secret, ts, []byte(body)))
	return r
}

// commandBody is a slash-command form body with the given text.
func commandBody(text string, n int) string {
	v := url.Values{}
	v.Set("token", "legacy-ignored")
	v.Set("team_id", "T0001")
	v.Set("channel_id", "C0001")
	v.Set("channel_name", "costs")
	v.Set("user_id", "U0001")
	v.Set("user_name", "ada")
	v.Set("command", "/costbot")
	v.Set("text", text)
	v.Set("response_url", "https://hooks.slack.com/commands/T0001/1/abc")
	v.Set("trigger_id", strconv.Itoa(n))
	return v.Encode()
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func testLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// newTestHandler returns a Handler on the fake clock with testData loaded.
func newTestHandler(tb testing.TB, opts Options) (*Handler, *syncBuffer) {
	tb.Helper()
	logs := &syncBuffer{}
	if opts.SigningSecret == "" {
		opts.SigningSecret = testSecret
	}
	if opts.Now == nil {
		opts.Now = func() time.Time { return testNow }
	}
	if opts.Logger == nil {
		opts.Logger = testLogger(logs)
	}
	if opts.Forecast == nil {
		opts.Forecast = ruleForecast
	}
	h := New(opts)
	h.SetData(testData())
	tb.Cleanup(func() { _ = h.Close() })
	return h, logs
}

const (
	prodID    = "0123456789abcdef0123456789abcdef"
	stagingID = "fedcba9876543210fedcba9876543210"
)

// testData is a deterministic two-account dataset: 90 days ending yesterday,
// seven services in five families, a spike in Workers requests, an expiring
// card, two budgets and one open anomaly.
func testData() Data {
	type svc struct {
		name, family string
		base         float64
		acct         string
	}
	svcs := []svc{
		{"Workers Standard Requests", "Workers", 40, prodID},
		{"Workers Standard CPU ms", "Workers", 12, prodID},
		{"R2 Data Storage", "R2", 9, prodID},
		{"R2 Class A Operations", "R2", 3.5, prodID},
		{"Argo Smart Routing", "Argo", 6, prodID},
		{"Images Delivered", "Images", 2.25, stagingID},
		{"Stream Minutes Viewed", "Stream", 4, stagingID},
		{"Workers Standard Requests", "Workers", 5, stagingID},
	}
	end := cost.Day(testNow) // today, exclusive
	var usage []cost.Usage
	for i := 90; i >= 1; i-- {
		d := end.AddDate(0, 0, -i)
		for k, s := range svcs {
			v := s.base * (1 + 0.15*math.Sin(float64(int(d.Weekday())+k)))
			if s.name == "Workers Standard Requests" && s.acct == prodID && i <= 3 {
				v *= 2.5
			}
			bp := time.Date(d.Year(), d.Month(), 1, 0, 0, 0, 0, time.UTC)
			usage = append(usage, cost.Usage{
				Account: s.acct, Service: s.name, Family: s.family, Day: d,
				BillingPeriod: cost.Period{Start: bp, End: bp.AddDate(0, 1, 0)},
				Cost:          math.Round(v*100) / 100, CostKnown: true, Currency: "USD",
			})
		}
	}
	month := cost.Period{Start: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	day0 := end.AddDate(0, 0, -1)
	return Data{
		Accounts: []cost.Account{{ID: prodID, Name: "production"}, {ID: stagingID, Name: "staging"}},
		Usage:    usage,
		Cards: []cost.Card{
			{Account: prodID, ExpiryMonth: 12, ExpiryYear: 2026, Masked: "************4242"},
			{Account: stagingID, ExpiryMonth: 3, ExpiryYear: 2028, Masked: "************1881"},
		},
		Budgets: []cost.BudgetStatus{
			{Rule: "monthly-total", Scope: cost.Scope{}, Period: month, Currency: "USD", Budget: 3000, Actual: 2290.12, Forecast: 3140.5, CrossDate: time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC), DaysLeft: 6},
			{Rule: "workers-cap", Scope: cost.Scope{Account: "production", Family: "Workers"}, Period: month, Currency: "USD", Budget: 2500, Actual: 1310.4, Forecast: 1750, DaysLeft: 6},
		},
		Open: []cost.Alert{
			{
				Finding: cost.Finding{
					Kind: cost.KindAnomaly, Rule: "spikes", Scope: cost.Scope{Account: "production", Service: "Workers Standard Requests"},
					Severity: cost.SeverityWarning, Title: "Workers Standard Requests spiked on production", Currency: "USD",
					Anomaly: &cost.AnomalyDetail{Expected: 40.1, Observed: 101.3, Sigma: 6.2, Impact: 61.2, Score: 0.93, Detector: "seasonal_mad", Since: day0.AddDate(0, 0, -2), Day: day0},
				},
				Fingerprint: "a1b2c3d4e5f60718", Status: cost.StatusFiring, StartsAt: day0,
			},
			{
				Finding:     cost.Finding{Kind: cost.KindBudget, Rule: "monthly-total", Title: "Budget 80% reached"},
				Fingerprint: "ffeeddccbbaa0099", Status: cost.StatusFiring,
			},
		},
		FetchedAt:  testNow.Add(-20 * time.Minute),
		Interval:   time.Hour,
		CardStages: ruleCards(""),
	}
}

// ruleForecast is the budget rules' forecast as the app passes it.
func ruleForecast(rows []cost.Usage, match func(cost.Usage) bool, now time.Time) (cost.BudgetStatus, error) {
	st, err := rules.BillingForecast(rows, match, now)
	var de *rules.DataError
	if errors.As(err, &de) {
		err = errors.New(de.Msg)
	}
	return st, err
}

// ruleCards evaluates a card rule (warn_days as given, "" for the default
// 30/7/1) as the app does.
func ruleCards(warnDays string) CardFunc {
	src := "cards:\n  - {name: card-expiry, account: \"*\"}\n"
	if warnDays != "" {
		src = "cards:\n  - {name: card-expiry, account: \"*\", warn_days: " + warnDays + "}\n"
	}
	set, err := rules.Parse("cards.yaml", []byte(src))
	if err != nil {
		panic(err)
	}
	return func(now time.Time, accounts []cost.Account, cards []cost.Card) []cost.Finding {
		fs, _ := set.Evaluate(rules.Input{Now: now, Accounts: accounts, Cards: cards})
		return fs
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func httptestBody(s string) io.ReadCloser { return io.NopCloser(strings.NewReader(s)) }
