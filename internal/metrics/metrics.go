// Package metrics is costbot's Prometheus instrumentation: one registry per
// daemon (no global state, so tests run side by side), typed recording
// methods for each stage of fetch → evaluate → alert → notify and for the
// Slack endpoints, and the /metrics handler. A nil *Metrics records nothing,
// so code paths without a daemon (once, backtest, tests) need no checks.
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds the daemon's collectors.
type Metrics struct {
	reg *prometheus.Registry

	cycleSeconds  *prometheus.HistogramVec
	cycleLast     *prometheus.GaugeVec
	fetchLastGood *prometheus.GaugeVec
	fetchRows     *prometheus.CounterVec
	fetchErrors   *prometheus.CounterVec
	findings      *prometheus.GaugeVec
	alerts        *prometheus.GaugeVec
	sends         *prometheus.CounterVec
	slackSeconds  *prometheus.HistogramVec
	slackRefused  *prometheus.CounterVec
	leader        prometheus.Gauge
	leaderEpoch   prometheus.Gauge
}

// New returns Metrics on a fresh registry that also carries the Go runtime
// and process collectors.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.cycleSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "costbot_cycle_duration_seconds",
		Help:    "Duration of a fetch-evaluate-notify cycle, by result (ok or error).",
		Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300},
	}, []string{"result"})
	m.cycleLast = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "costbot_cycle_last_timestamp_seconds",
		Help: "Unix time the last cycle of each result ended.",
	}, []string{"result"})
	m.fetchLastGood = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "costbot_fetch_last_success_timestamp_seconds",
		Help: "Unix time of the last successful billing fetch, per account id.",
	}, []string{"account"})
	m.fetchRows = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "costbot_fetch_rows_total",
		Help: "Usage rows fetched from the billing API, per account id.",
	}, []string{"account"})
	m.fetchErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "costbot_fetch_errors_total",
		Help: "Failed billing fetches, per account id.",
	}, []string{"account"})
	m.findings = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "costbot_findings",
		Help: "Findings of the last cycle, by kind.",
	}, []string{"kind"})
	m.alerts = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "costbot_alerts",
		Help: "Alerts in the state after the last cycle, by kind and state (firing, resolved, silenced, ...).",
	}, []string{"kind", "state"})
	m.sends = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "costbot_notifications_total",
		Help: "Notification deliveries, by notifier and result (ok, error, disabled).",
	}, []string{"notifier", "result"})
	m.slackSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "costbot_slack_request_duration_seconds",
		Help:    "Time to answer a Slack request (slash command or interaction), by endpoint.",
		Buckets: []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 3},
	}, []string{"endpoint"})
	m.slackRefused = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "costbot_slack_requests_refused_total",
		Help: "Slack requests refused, by reason (signature, stale, replay, too_large, ...).",
	}, []string{"reason"})
	m.leader = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "costbot_leader",
		Help: "1 while this replica holds the leader lease of a shared (PostgreSQL) state and runs cycles; 0 on standby. Always 1 on a SQLite state.",
	})
	m.leaderEpoch = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "costbot_leader_epoch",
		Help: "Epoch of the leader lease this replica last held (grows by one each time the lease changes hands).",
	})
	m.reg.MustRegister(m.cycleSeconds, m.cycleLast, m.fetchLastGood, m.fetchRows, m.fetchErrors,
		m.findings, m.alerts, m.sends, m.slackSeconds, m.slackRefused, m.leader, m.leaderEpoch,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the registry in the Prometheus exposition formats.
func (m *Metrics) Handler() http.Handler {
	if m == nil {
		return http.NotFoundHandler()
	}
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// Registry exposes the registry (for tests and extra collectors).
func (m *Metrics) Registry() *prometheus.Registry {
	if m == nil {
		return nil
	}
	return m.reg
}

func result(err error) string {
	if err != nil {
		return "error"
	}
	return "ok"
}

// Cycle records one cycle that took d and ended at end with err.
func (m *Metrics) Cycle(d time.Duration, end time.Time, err error) {
	if m == nil {
		return
	}
	r := result(err)
	m.cycleSeconds.WithLabelValues(r).Observe(d.Seconds())
	m.cycleLast.WithLabelValues(r).Set(float64(end.UnixNano()) / 1e9)
}

// Fetch records one billing fetch of account (its id): rows on success,
// an error count otherwise.
func (m *Metrics) Fetch(account string, rows int, at time.Time, err error) {
	if m == nil {
		return
	}
	if err != nil {
		m.fetchErrors.WithLabelValues(account).Inc()
		return
	}
	m.fetchRows.WithLabelValues(account).Add(float64(rows))
	m.fetchLastGood.WithLabelValues(account).Set(float64(at.UnixNano()) / 1e9)
}

// Findings replaces the per-kind finding counts with those of a cycle.
func (m *Metrics) Findings(byKind map[string]int) {
	if m == nil {
		return
	}
	m.findings.Reset()
	for k, n := range byKind {
		m.findings.WithLabelValues(k).Set(float64(n))
	}
}

// Alerts replaces the alert counts with those of the state after a cycle,
// keyed by kind then state.
func (m *Metrics) Alerts(byKindState map[[2]string]int) {
	if m == nil {
		return
	}
	m.alerts.Reset()
	for ks, n := range byKindState {
		m.alerts.WithLabelValues(ks[0], ks[1]).Set(float64(n))
	}
}

// Send records one delivery to notifier with result "ok", "error" or
// "disabled".
func (m *Metrics) Send(notifier, result string) {
	if m == nil {
		return
	}
	m.sends.WithLabelValues(notifier, result).Inc()
}

// SlackRequest records how long a Slack request on endpoint took to answer.
func (m *Metrics) SlackRequest(endpoint string, d time.Duration) {
	if m == nil {
		return
	}
	m.slackSeconds.WithLabelValues(endpoint).Observe(d.Seconds())
}

// SlackRefused records a refused Slack request.
func (m *Metrics) SlackRefused(reason string) {
	if m == nil {
		return
	}
	m.slackRefused.WithLabelValues(reason).Inc()
}

// Leader records whether this replica leads, and in which lease epoch.
func (m *Metrics) Leader(leading bool, epoch int64) {
	if m == nil {
		return
	}
	v := 0.0
	if leading {
		v = 1
	}
	m.leader.Set(v)
	if epoch > 0 {
		m.leaderEpoch.Set(float64(epoch))
	}
}
