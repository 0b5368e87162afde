package metrics_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/costbot/costbot/internal/metrics"
)

// scrape reads /metrics over HTTP as Prometheus would and parses it.
func scrape(t *testing.T, h http.Handler) map[string]string {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("exposition does not parse: %v\n%s", err, body)
	}
	out := map[string]string{}
	for name, f := range fams {
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			key := name + "{" + strings.Join(labels, ",") + "}"
			switch {
			case m.GetCounter() != nil:
				out[key] = model.SampleValue(m.GetCounter().GetValue()).String()
			case m.GetGauge() != nil:
				out[key] = model.SampleValue(m.GetGauge().GetValue()).String()
			case m.GetHistogram() != nil:
				out[key+"_count"] = model.SampleValue(m.GetHistogram().GetSampleCount()).String()
			}
		}
	}
	return out
}

func TestMetrics_ScrapeShowsEveryStage(t *testing.T) {
	m := metrics.New()
	end := time.Date(2026, 12, 3, 7, 0, 0, 0, time.UTC)
	m.Cycle(1500*time.Millisecond, end, nil)
	m.Cycle(time.Second, end.Add(time.Hour), errors.New("state not writable"))
	m.Fetch("acc1", 120, end, nil)
	m.Fetch("acc1", 80, end.Add(time.Hour), nil)
	m.Fetch("acc2", 0, end, errors.New("403"))
	m.Findings(map[string]int{"budget": 2, "anomaly": 1})
	m.Findings(map[string]int{"anomaly": 3}) // replaces: budget is gone
	m.Alerts(map[[2]string]int{{"anomaly", "firing"}: 2, {"budget", "resolved"}: 1})
	m.Send("slack", "ok")
	m.Send("slack", "ok")
	m.Send("pager", "error")
	m.SlackRequest("commands", 2*time.Millisecond)
	m.SlackRefused("signature")

	got := scrape(t, m.Handler())
	for key, want := range map[string]string{
		"costbot_cycle_duration_seconds{result=ok}_count":                 "1",
		"costbot_cycle_duration_seconds{result=error}_count":              "1",
		"costbot_cycle_last_timestamp_seconds{result=error}":              "1796284800",
		"costbot_fetch_rows_total{account=acc1}":                          "200",
		"costbot_fetch_errors_total{account=acc2}":                        "1",
		"costbot_fetch_last_success_timestamp_seconds{account=acc1}":      "1796284800",
		"costbot_findings{kind=anomaly}":                                  "3",
		"costbot_alerts{kind=anomaly,state=firing}":                       "2",
		"costbot_alerts{kind=budget,state=resolved}":                      "1",
		"costbot_notifications_total{notifier=slack,result=ok}":           "2",
		"costbot_notifications_total{notifier=pager,result=error}":        "1",
		"costbot_slack_request_duration_seconds{endpoint=commands}_count": "1",
		"costbot_slack_requests_refused_total{reason=signature}":          "1",
	} {
		if got[key] != want {
			t.Errorf("%s = %q, want %q", key, got[key], want)
		}
	}
	if _, ok := got["costbot_findings{kind=budget}"]; ok {
		t.Error("findings of an earlier cycle still exported")
	}
	if _, ok := got["go_goroutines{}"]; !ok {
		t.Error("Go runtime collector missing")
	}
}

func TestMetrics_NilRecordsNothing(t *testing.T) {
	var m *metrics.Metrics
	m.Cycle(time.Second, time.Now(), nil)
	m.Fetch("a", 1, time.Now(), nil)
	m.Findings(map[string]int{"x": 1})
	m.Alerts(nil)
	m.Send("n", "ok")
	m.SlackRequest("commands", time.Millisecond)
	m.SlackRefused("stale")
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("nil Metrics handler: %d, want 404", rec.Code)
	}
}
