// Package slackcmd answers costbot's Slack slash commands and button clicks,
// over HTTP (signed requests) or Socket Mode. Every answer comes from an
// in-memory snapshot the daemon swaps in after each cycle, so replies are fast.
package slackcmd

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slack-go/slack"
)

// Actions applies button clicks; the app adapts alert.Tracker to it.
type Actions interface {
	Apply(ctx context.Context, a Action) error
}

// Action kinds.
const (
	KindAck      = "ack"
	KindSnooze   = "snooze"
	KindExpected = "expected"
)

// Action is one button click on an alert message.
type Action struct {
	Fingerprint string    // alert fingerprint (the button value)
	Kind        string    // KindAck, KindSnooze or KindExpected
	User        string    // Slack user id
	UserName    string    // Slack user name
	At          time.Time // when the click was handled
	Until       time.Time // snooze end; zero for ack and expected
	Channel     string    // channel id of the alert message
	MessageTS   string    // ts of the alert message
}

// Options configure a Handler. SigningSecret is required for HTTP.
type Options struct {
	SigningSecret string
	Actions       Actions
	Silences      Silences         // /costbot silence and silences; nil: unavailable
	Now           func() time.Time // default time.Now
	Logger        *slog.Logger     // default slog.Default()
	HTTPClient    *http.Client     // for response_url; default 10 s timeout
	Slack         *slack.Client    // optional: chat.update instead of response_url
	MaxBody       int64            // request body limit; default 64 KiB
	// Forecast is the budget rules' forecast (rules.BillingForecast); nil
	// makes /costbot forecast say forecasts are not available.
	Forecast ForecastFunc
	// ResponseURLHosts are the hosts (host or host:port, any case) a click's
	// response_url may point at; it must also be https. Default:
	// DefaultResponseURLHosts(). Tests set an httptest TLS server's host.
	ResponseURLHosts []string
	// Observer, when set, gets each request's answer time and each
	// refusal's reason (the daemon's Prometheus metrics).
	Observer Observer
	// RefusalLogWindow is how often refused requests are summarized in the
	// log after the first of a window is logged; default one minute.
	RefusalLogWindow time.Duration
}

// DefaultResponseURLHosts returns the hosts Slack documents for
// response_url: hooks.slack.com.
func DefaultResponseURLHosts() []string { return []string{"hooks.slack.com"} }

// DefaultMaxBody is the request body limit when Options.MaxBody is 0.
const DefaultMaxBody = 64 << 10

// followUpTimeout bounds one Apply + message update after a click.
const followUpTimeout = 30 * time.Second

// Handler serves /slack/commands and /slack/interactions.
type Handler struct {
	opts     Options
	log      *slog.Logger
	now      func() time.Time
	client   *http.Client
	maxBody  int64
	forecast ForecastFunc
	hosts    []string // allowed response_url hosts
	verify   *verifier
	refusals *refusalLog
	snap     atomic.Pointer[snapshot]

	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
}

// New returns a Handler; call SetData before the first request is useful.
func New(opts Options) *Handler {
	h := &Handler{opts: opts, log: opts.Logger, now: opts.Now, client: opts.HTTPClient, maxBody: opts.MaxBody, forecast: opts.Forecast}
	if h.log == nil {
		h.log = slog.Default()
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.client == nil {
		h.client = &http.Client{Timeout: 10 * time.Second}
	}
	// A response_url POST never follows a redirect: Slack does not send
	// one, and following it would re-send the message to a host
	// checkResponseURL never saw. This is stricter than the httpx policy
	// the other clients share (same origin only), on purpose: even a
	// same-host redirect leaves the path Slack gave. The copy shares the
	// caller's transport.
	c := *h.client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	h.client = &c
	if h.maxBody <= 0 {
		h.maxBody = DefaultMaxBody
	}
	h.hosts = opts.ResponseURLHosts
	if len(h.hosts) == 0 {
		h.hosts = DefaultResponseURLHosts()
	}
	h.verify = newVerifier(opts.SigningSecret, h.now)
	window := opts.RefusalLogWindow
	if window <= 0 {
		window = time.Minute
	}
	h.refusals = &refusalLog{log: h.log, window: window}
	return h
}

// SetData swaps in the daemon's latest data. Indexes are built here, once,
// so requests never scan the usage rows. Safe for concurrent use.
func (h *Handler) SetData(d Data) {
	h.snap.Store(newSnapshot(d))
}

// Data returns the data the handler answers from (zero before SetData).
func (h *Handler) Data() Data {
	if s := h.snap.Load(); s != nil {
		return s.data
	}
	return Data{}
}

// Routes registers POST /slack/commands and POST /slack/interactions.
func (h *Handler) Routes(mux *http.ServeMux) {
	mux.HandleFunc("POST /slack/commands", h.serveCommand)
	mux.HandleFunc("POST /slack/interactions", h.serveInteraction)
}

// Close waits for follow-ups of earlier clicks (Apply, message update) to
// finish; clicks after Close are applied without a goroutine.
func (h *Handler) Close() error {
	h.mu.Lock()
	h.closed = true
	h.mu.Unlock()
	h.wg.Wait()
	h.refusals.stop()
	return nil
}

// background runs f in a goroutine tracked by Close, or inline once closed.
func (h *Handler) background(f func(ctx context.Context)) {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), followUpTimeout)
		defer cancel()
		f(ctx)
		return
	}
	h.wg.Add(1)
	h.mu.Unlock()
	go func() {
		defer h.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), followUpTimeout)
		defer cancel()
		f(ctx)
	}()
}

// refuse answers 401 and logs the reason, never a secret: the first
// refusal of a window at once, the rest as one summary (see refusalLog).
func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, err error) {
	reason := refusalReason(err)
	h.refusals.note(reason, err, r.URL.Path, r.RemoteAddr)
	if h.opts.Observer != nil {
		h.opts.Observer.SlackRefused(reason)
	}
	http.Error(w, "unauthorized", http.StatusUnauthorized)
}

// observe reports how long the request on endpoint took to answer.
func (h *Handler) observe(endpoint string, start time.Time) {
	if h.opts.Observer != nil {
		h.opts.Observer.SlackRequest(endpoint, time.Since(start))
	}
}

func (h *Handler) serveCommand(w http.ResponseWriter, r *http.Request) {
	defer h.observe("commands", time.Now())
	if _, err := h.verify.readVerified(w, r, h.maxBody); err != nil {
		h.refuse(w, r, err)
		return
	}
	sc, err := slack.SlashCommandParse(r)
	if err != nil {
		h.log.WarnContext(r.Context(), "slash command unreadable", "error", err)
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	b, err := h.commandJSON(r.Context(), sc)
	if err != nil {
		h.log.ErrorContext(r.Context(), "slash command reply failed", "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

func (h *Handler) serveInteraction(w http.ResponseWriter, r *http.Request) {
	defer h.observe("interactions", time.Now())
	if _, err := h.verify.readVerified(w, r, h.maxBody); err != nil {
		h.refuse(w, r, err)
		return
	}
	cb, err := slack.InteractionCallbackParse(r)
	if err != nil {
		h.log.WarnContext(r.Context(), "interaction unreadable", "error", err)
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusOK)
	h.interaction(cb)
}

var errNoActions = errors.New("no Actions configured")
