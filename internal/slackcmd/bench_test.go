package slackcmd

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
)

// Run: go test -run '^$' -bench . -benchmem ./internal/slackcmd/
// BenchmarkBaseline_* are the yardsticks: the signature check alone and the
// cheapest command (help) through the same handler.

func BenchmarkBaseline_Signature(b *testing.B) {
	v := newVerifier(testSecret, func() time.Time { return testNow })
	ts := strconv.FormatInt(testNow.Unix(), 10)
	bodies := make([][]byte, b.N)
	sigs := make([]string, b.N)
	for i := range bodies {
		bodies[i] = []byte(commandBody("spend", i))
		sigs[i] = sign(testSecret, ts, bodies[i])
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := v.check(ts, sigs[i], bodies[i]); err != nil {
			b.Fatal(err)
		}
	}
}

// benchCommand sends b.N distinct signed slash commands through the real
// handler and checks every answer is 200.
func benchCommand(b *testing.B, text string) {
	h, _ := newTestHandler(b, Options{})
	mux := http.NewServeMux()
	h.Routes(mux)
	reqs := make([]*http.Request, b.N)
	for i := range reqs {
		reqs[i] = signedRequest(b, "/slack/commands", testSecret, testNow, commandBody(text, i))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, reqs[i])
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}

func BenchmarkBaseline_Help(b *testing.B)         { benchCommand(b, "help") }
func BenchmarkCommands_Spend(b *testing.B)        { benchCommand(b, "spend") }
func BenchmarkCommands_SpendService(b *testing.B) { benchCommand(b, "spend workers req 7d") }
func BenchmarkCommands_SpendUnknown(b *testing.B) { benchCommand(b, "spend wrokers") }
func BenchmarkCommands_Top(b *testing.B)          { benchCommand(b, "top 10 30d") }
func BenchmarkCommands_Budgets(b *testing.B)      { benchCommand(b, "budgets") }
func BenchmarkCommands_Forecast(b *testing.B)     { benchCommand(b, "forecast") }
func BenchmarkCommands_Anomalies(b *testing.B)    { benchCommand(b, "anomalies") }
func BenchmarkCommands_Card(b *testing.B)         { benchCommand(b, "card") }

// BenchmarkCommands_SpendLoopback adds the real HTTP stack: a loopback
// httptest.Server and a keep-alive client.
func BenchmarkCommands_SpendLoopback(b *testing.B) {
	h, _ := newTestHandler(b, Options{})
	mux := http.NewServeMux()
	h.Routes(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	ts := strconv.FormatInt(testNow.Unix(), 10)
	bodies := make([]string, b.N)
	sigs := make([]string, b.N)
	for i := range bodies {
		bodies[i] = commandBody("spend", i)
		sigs[i] = sign(testSecret, ts, []byte(bodies[i]))
	}
	c := srv.Client()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/slack/commands", strings.NewReader(bodies[i]))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Slack-Request-Timestamp", ts)
		req.Header.Set("X-Slack-Signature", sigs[i])
		resp, err := c.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
}

// BenchmarkSetData is the per-cycle cost of building the indexes
// (90 days × 8 series here).
func BenchmarkSetData(b *testing.B) {
	h := New(Options{SigningSecret: testSecret})
	d := testData()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		h.SetData(d)
	}
}

// BenchmarkRender measures answering without the reply cache: the
// subcommand, Block Kit assembly and JSON encoding, from the snapshot.
func BenchmarkRender(b *testing.B) {
	h, _ := newTestHandler(b, Options{})
	snap := h.snap.Load()
	for _, text := range []string{"help", "spend", "spend workers req 7d", "top 10 30d", "budgets", "forecast", "anomalies", "card"} {
		b.Run(strings.ReplaceAll(text, " ", "_"), func(b *testing.B) {
			c := parseCommand(text)
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				rep, ok := h.run(context.Background(), slack.SlashCommand{Text: text}, c, snap, testNow)
				if !ok {
					b.Fatal("error reply")
				}
				if _, err := json.Marshal(rep); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
