// Package app wires costbot together: config -> billing client -> store ->
// rules and detectors -> alert stage -> notifiers, run once (Cycle) or on
// a gocron schedule with an HTTP endpoint (Run). It alone knows every
// concrete type.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/costbot/costbot/internal/alert"
	"github.com/costbot/costbot/internal/billing"
	"github.com/costbot/costbot/internal/config"
	"github.com/costbot/costbot/internal/cost"
	"github.com/costbot/costbot/internal/httpx"
	"github.com/costbot/costbot/internal/metrics"
	"github.com/costbot/costbot/internal/notify"
	"github.com/costbot/costbot/internal/notify/console"
	slacknotify "github.com/costbot/costbot/internal/notify/slack"
	"github.com/costbot/costbot/internal/notify/webhook"
	"github.com/costbot/costbot/internal/plausible"
	"github.com/costbot/costbot/internal/rules"
	"github.com/costbot/costbot/internal/slackcmd"
	"github.com/costbot/costbot/internal/store"
)

// Options configures an App. Config is required; the rest have defaults.
type Options struct {
	Config *config.Config
	// Rules overrides loading cfg.Rules from disk (the demo passes embedded rules).
	Rules *rules.Set
	// Notifiers overrides building notifiers from the config (the demo prints
	// every notifier to the console).
	Notifiers []notify.Notifier
	Logger    *slog.Logger
	Now       func() time.Time
	// HTTPClient is used for Cloudflare, Slack and webhooks (default: 30 s timeout).
	HTTPClient *http.Client
	// Stdout receives console notifier output (default os.Stdout).
	Stdout io.Writer
	// StatePath overrides cfg.State (dry runs work on a copy).
	StatePath string
	// RetryWait caps notifier retry waits within a cycle (default 30 s).
	RetryWait time.Duration
	// Billing overrides the Cloudflare client built from the config
	// (backtests and rule tests replay stored history through it).
	Billing Billing
}

// Billing is what a cycle needs from the billing API: one account's usage
// for a range of charge days with its card, and the card alone.
// *billing.Client implements it.
type Billing interface {
	Fetch(ctx context.Context, acct cost.Account, src billing.Source, days cost.Period) (cost.Snapshot, error)
	Card(ctx context.Context, acct cost.Account) (*cost.Card, error)
}

var _ Billing = (*billing.Client)(nil)

// App is one configured costbot.
type App struct {
	cfg        *config.Config
	log        *slog.Logger
	now        func() time.Time
	http       *http.Client
	db         *store.DB
	cf         Billing
	rules      *rules.Set
	dispatcher *notify.Dispatcher
	notifiers  []string
	accounts   []cost.Account
	sources    map[string]billing.Source
	slack      *slackapi.Client
	cmds       *slackcmd.Handler
	metrics    *metrics.Metrics // the daemon's /metrics
	plausible  plausible.Guard  // holds back suspect billing answers, per account

	mu      sync.Mutex // guards last, lastErr, lastAt
	last    *Report
	lastErr error     // why the last cycle failed; nil when it succeeded
	lastAt  time.Time // when the last cycle ended, on the wall clock
	// wall is the real clock: health ages and send times, never the
	// evaluation instant (--now).
	wall func() time.Time
	hist history // the stored usage in memory; guarded by jobs
	// unmarked holds sends that went out but could not be recorded
	// (outbox.go), by delivery id; guarded by jobs.
	unmarked map[string]unmarkedSend
	// evalClock marks an App given an evaluation clock (Options.Now: once
	// --now, demo, replays, tests). Only such an App moves a cycle earlier
	// than its state onto a throwaway copy; a daemon on the wall clock whose
	// clock stepped back keeps recording in the live state.
	evalClock bool
	// replay marks an App that Replay drives: nothing serves slash
	// commands, so cycles do not publish their data.
	replay bool
	// jobs serializes Cycle, CardCheck and Digest: a delivery planned by one
	// and not yet recorded must not be planned again by another.
	jobs sync.Mutex
	// lead is the leader lease on a shared (PostgreSQL) state, set by Run;
	// nil on SQLite and outside the daemon.
	lead *leadership
}

// New opens the store and builds every client. Close releases them.
func New(ctx context.Context, o Options) (*App, error) {
	cfg := o.Config
	if cfg == nil {
		return nil, errors.New("app: no config")
	}
	a := &App{cfg: cfg, log: o.Logger, now: o.Now, http: o.HTTPClient, rules: o.Rules, sources: map[string]billing.Source{}, wall: time.Now,
		metrics: metrics.New()}
	if a.log == nil {
		a.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	a.evalClock = o.Now != nil
	if a.now == nil {
		a.now = time.Now
	}
	// every client built from it (Slack notifier, chat.update, Socket Mode,
	// webhooks, billing) refuses redirects to another origin
	a.http = httpx.Secure(a.http, 30*time.Second)
	stdout := o.Stdout
	if stdout == nil {
		stdout = os.Stdout
	}
	if a.rules == nil {
		set, err := rules.LoadDir(cfg.Path(cfg.Rules))
		if err != nil {
			return nil, err
		}
		a.rules = set
	}
	for _, acc := range cfg.Cloudflare.Accounts {
		a.accounts = append(a.accounts, cost.Account{ID: acc.ID, Name: acc.Name})
		s, err := sourceOf(acc)
		if err != nil {
			return nil, err
		}
		a.sources[acc.ID] = s
	}

	if a.cf = o.Billing; a.cf == nil {
		cf, err := newBilling(cfg, a.http, a.now, a.log)
		if err != nil {
			return nil, err
		}
		a.cf = cf
	}

	if cfg.Slack.BotToken != "" {
		a.slack = slackapi.New(cfg.Slack.BotToken.Value(), slackapi.OptionAPIURL(cfg.Slack.APIURL), slackapi.OptionHTTPClient(a.http))
	}
	var err error
	ns := o.Notifiers
	if ns == nil {
		ns, err = a.buildNotifiers(stdout)
		if err != nil {
			return nil, err
		}
	}
	for _, n := range ns {
		a.notifiers = append(a.notifiers, n.Name())
	}
	wait := o.RetryWait
	if wait == 0 {
		wait = 30 * time.Second
	}
	a.dispatcher, err = notify.NewDispatcher(notify.DispatcherOptions{
		Notifiers: ns, MaxWait: wait, MinWait: min(time.Second, wait), Now: a.now,
		Logger: a.log.With("component", "notify"),
	})
	if err != nil {
		return nil, err
	}
	statePath := o.StatePath
	if statePath == "" {
		statePath = StateOf(cfg)
	}
	a.db, err = store.Open(ctx, statePath)
	if err != nil {
		return nil, err
	}
	if err := a.rekey(ctx); err != nil {
		a.db.Close()
		return nil, err
	}
	a.cmds = slackcmd.New(slackcmd.Options{
		SigningSecret: cfg.Slack.SigningSecret.Value(),
		Actions:       actions{a},
		Silences:      a.db,
		Now:           a.now,
		Logger:        a.log.With("component", "slackcmd"),
		HTTPClient:    a.http,
		Slack:         a.slack,
		Forecast:      billingForecast,
		Observer:      a.metrics,
	})
	return a, nil
}

// sourceOf is the usage source an account is configured with (paygo by default).
func sourceOf(acc config.CFAccount) (billing.Source, error) {
	src := acc.Source
	if src == "" {
		src = "paygo"
	}
	s, err := billing.ParseSource(src)
	if err != nil {
		return 0, fmt.Errorf("account %q: %w", acc.Name, err)
	}
	return s, nil
}

// newBilling builds the Cloudflare client the config describes.
func newBilling(cfg *config.Config, hc *http.Client, now func() time.Time, log *slog.Logger) (*billing.Client, error) {
	bo := billing.Options{
		BaseURL:      cfg.Cloudflare.BaseURL,
		HTTPClient:   hc,
		APIToken:     cfg.Cloudflare.APIToken.Value(),
		APIEmail:     cfg.Cloudflare.APIEmail,
		APIKey:       cfg.Cloudflare.APIKey.Value(),
		Paths:        paths(cfg.Cloudflare.Paths),
		MaxRetries:   cfg.Cloudflare.MaxRetries,
		MaxRetryWait: cfg.Cloudflare.MaxRetryWait,
		Limiter:      billing.LimiterFor(cfg.Cloudflare.RequestsPer5m),
		Now:          now,
		Logger:       log.With("component", "billing"),
	}
	if err := bo.Validate(); err != nil {
		return nil, fmt.Errorf("cloudflare client: %w", err)
	}
	return billing.New(bo), nil
}

func paths(p config.Paths) billing.Paths {
	d := billing.DefaultPaths()
	if len(p.Profile) > 0 {
		d.Profile = p.Profile
	}
	if len(p.PayGo) > 0 {
		d.PayGo = p.PayGo
	}
	if len(p.PayGoInfo) > 0 {
		d.PayGoInfo = p.PayGoInfo
	}
	if len(p.Focus) > 0 {
		d.Focus = p.Focus
	}
	return d
}

func (a *App) buildNotifiers(stdout io.Writer) ([]notify.Notifier, error) {
	var ns []notify.Notifier
	for _, n := range a.cfg.Notifiers {
		switch {
		case n.Slack != nil:
			if a.slack == nil {
				return nil, fmt.Errorf("notifier %q: slack.bot_token is not set", n.Name)
			}
			// Now dates the "updated" line of a thread's root message, which
			// labels the figures shown: the evaluation clock is right here.
			// Slack stamps the message ts itself.
			s, err := slacknotify.New(slacknotify.Options{Name: n.Name, Channel: n.Slack.Channel, Client: a.slack, Now: a.now,
				Logger: a.log.With("notifier", n.Name), UploadCharts: a.cfg.Slack.UploadCharts})
			if err != nil {
				return nil, fmt.Errorf("notifier %q: %w", n.Name, err)
			}
			ns = append(ns, s)
		case n.Webhook != nil:
			// No Now: the webhook signs with its send clock, the wall clock.
			// a.now is the evaluation clock (once --now T), and receivers
			// reject timestamps minutes away from their own.
			w, err := webhook.New(webhook.Options{Name: n.Name, URL: n.Webhook.URL.Value(), Secret: n.Webhook.Secret.Value(), HTTPClient: a.http,
				ExternalURL: a.cfg.HTTP.ExternalURL, Digest: n.Webhook.Digest})
			if err != nil {
				return nil, fmt.Errorf("notifier %q: %w", n.Name, err)
			}
			ns = append(ns, w)
		case n.Console != nil:
			ns = append(ns, console.New(console.Options{Name: n.Name, Writer: stdout, Color: n.Console.Color}))
		}
	}
	return ns, nil
}

// Close waits for in-flight button clicks, then closes the store.
func (a *App) Close() error {
	return errors.Join(a.cmds.Close(), a.db.Close())
}

// Handler returns the daemon's HTTP routes: /healthz, /readyz, /metrics and the Slack endpoints.
func (a *App) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", a.healthz)
	mux.HandleFunc("GET /readyz", a.readyz)
	mux.Handle("GET /metrics", a.metrics.Handler())
	mux.HandleFunc("GET /alerts/{fingerprint}", a.alertPage)
	if a.cfg.Slack.SigningSecret != "" {
		a.cmds.Routes(mux)
	}
	return mux
}

// rekey moves alerts that state from before alerts were keyed by account
// id holds under an account's configured name to that account's id, so an
// upgrade keeps every open alert and its threads.
func (a *App) rekey(ctx context.Context) error {
	ids := map[string]string{}
	for _, acc := range a.accounts {
		if acc.Name != "" && acc.Name != acc.ID {
			ids[acc.Name] = acc.ID
		}
	}
	n, err := a.db.RekeyAlerts(ctx, ids)
	if err != nil {
		return err
	}
	if n > 0 {
		a.log.InfoContext(ctx, "moved alerts from account names to account ids", "alerts", n)
	}
	return nil
}

// actions applies slackcmd actions to the alert state.
type actions struct{ a *App }

func (x actions) Apply(ctx context.Context, act slackcmd.Action) error {
	kind, err := alert.ParseActionKind(act.Kind)
	if err != nil {
		return err
	}
	at := act.At
	if at.IsZero() {
		at = x.a.now()
	}
	st, err := x.a.db.Alert(ctx, act.Fingerprint)
	if err != nil {
		return fmt.Errorf("%s alert %q: %w", kind, act.Fingerprint, err)
	}
	if kind == alert.ActionSnooze {
		return x.snooze(ctx, st, act.User, at, act.Until)
	}
	ac, err := alert.CheckAction(st, alert.Action{Fingerprint: act.Fingerprint, Kind: kind, User: act.User, At: at, Until: act.Until})
	if err != nil {
		return err
	}
	return x.a.db.AddAction(ctx, ac)
}
