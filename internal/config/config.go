// Package config loads costbot's daemon configuration: a strict YAML file
// (unknown keys are errors) with ${ENV} expansion in secret fields, defaults
// applied first, and a Validate step whose errors name file, line, column and
// field. Secrets never reach a log line, an error or a String().
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/costbot/costbot/internal/notify/webhook/endpoint"
)

// Secret is a credential. It prints, marshals and logs as "<redacted>".
type Secret string

// String hides the value.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "<redacted>"
}

// Value returns the secret itself; call it only where the secret is used.
func (s Secret) Value() string { return string(s) }

// MarshalYAML hides the value.
func (s Secret) MarshalYAML() (any, error) { return s.String(), nil }

// MarshalJSON hides the value.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + s.String() + `"`), nil }

// Config is the whole daemon configuration.
type Config struct {
	Cloudflare Cloudflare `yaml:"cloudflare"`
	Slack      Slack      `yaml:"slack"`
	Notifiers  []Notifier `yaml:"notifiers"`
	// Rules is a folder of *.yaml rule files, relative to the config file.
	Rules string `yaml:"rules"`
	// State is the SQLite file, relative to the config file (default
	// "costbot.db"), or a postgres:// URL of a database replicas share.
	State    string   `yaml:"state"`
	HTTP     HTTP     `yaml:"http"`
	Schedule Schedule `yaml:"schedule"`
	Alerts   Alerts   `yaml:"alerts"`
	// TimeIntervals, InhibitRules and Routes: see routing.go. InhibitRules
	// absent (nil) means the defaults; an empty list means none.
	TimeIntervals []TimeInterval `yaml:"time_intervals"`
	InhibitRules  []InhibitRule  `yaml:"inhibit_rules"`
	Routes        []Route        `yaml:"routes"`

	// File is the path the config was loaded from ("" for embedded configs).
	File string `yaml:"-"`
	// MissingEnv lists ${VAR} references whose variable was unset, by field path.
	MissingEnv []string `yaml:"-"`
	root       *yaml.Node
}

// Cloudflare holds the billing API settings.
type Cloudflare struct {
	// BaseURL of the v4 API. Default https://api.cloudflare.com/client/v4.
	BaseURL  string `yaml:"base_url"`
	APIToken Secret `yaml:"api_token"`
	// APITokenFile reads the token from a file instead (e.g. a mounted secret).
	APITokenFile string      `yaml:"api_token_file"`
	APIEmail     string      `yaml:"api_email"`
	APIKey       Secret      `yaml:"api_key"`
	APIKeyFile   string      `yaml:"api_key_file"`
	Accounts     []CFAccount `yaml:"accounts"`
	Paths        Paths       `yaml:"paths"`
	// HistoryDays is how many days of usage the first fetch loads. Default 120.
	HistoryDays int `yaml:"history_days"`
	// RefreshDays is how many recent days later fetches reload (late data,
	// corrections), once every RefreshInterval. Default 40.
	RefreshDays int `yaml:"refresh_days"`
	// RefreshInterval is how often an account's whole RefreshDays window is
	// reloaded; the fetches in between reload only its last RecentDays. A
	// fetch after a failed or held-back one reloads the whole window too.
	// Zero or a value no longer than schedule.cycle reloads it every cycle.
	// Default 24h.
	RefreshInterval time.Duration `yaml:"refresh_interval"`
	// RecentDays is how many recent days the fetches between two whole
	// refreshes reload (the days whose data is still arriving). Equal to
	// RefreshDays, every fetch reloads the whole window. Default 3.
	RecentDays int `yaml:"recent_days"`
	// FetchConcurrency is how many accounts a cycle fetches at once; their
	// requests share one rate limit (RequestsPer5m). Default 4.
	FetchConcurrency int `yaml:"fetch_concurrency"`
	// RequestsPer5m bounds the requests costbot sends in any 5 minutes,
	// over every account, endpoint and retry (billing.LimiterFor). Default
	// 1,200, Cloudflare's limit per user; lower it when other tools use the
	// same credentials.
	RequestsPer5m int `yaml:"requests_per_5m"`
	// MaxRetries per request on 429, 5xx and transport errors. Default 4.
	MaxRetries int `yaml:"max_retries"`
	// MaxRetryWait caps any single wait, Retry-After included. Default 60s.
	MaxRetryWait time.Duration `yaml:"max_retry_wait"`
	// Timeout bounds one whole fetch of one account. Default 2m.
	Timeout time.Duration `yaml:"timeout"`
}

// CFAccount is one watched account.
type CFAccount struct {
	ID     string `yaml:"id"`
	Name   string `yaml:"name"`
	Source string `yaml:"source"` // paygo (default) or focus
}

// Paths overrides the endpoint path templates; each is a fallback list tried in
// order on 404. Empty keeps the built-in defaults.
type Paths struct {
	Profile   []string `yaml:"profile"`
	PayGo     []string `yaml:"paygo"`
	PayGoInfo []string `yaml:"paygo_info"`
	Focus     []string `yaml:"focus"`
}

// Slack holds the Slack app credentials.
type Slack struct {
	BotToken          Secret `yaml:"bot_token"`
	BotTokenFile      string `yaml:"bot_token_file"`
	SigningSecret     Secret `yaml:"signing_secret"`
	SigningSecretFile string `yaml:"signing_secret_file"`
	// AppToken (xapp-...) switches slash commands and buttons to Socket Mode.
	AppToken     Secret `yaml:"app_token"`
	AppTokenFile string `yaml:"app_token_file"`
	// APIURL of the Web API. Default https://slack.com/api/.
	APIURL string `yaml:"api_url"`
	// UploadCharts also uploads a PNG chart into each alert's thread; the bot
	// needs the files:write scope. Default false (the native chart block only).
	UploadCharts bool `yaml:"upload_charts"`
}

// Notifier is one named destination; exactly one of its kinds is set.
type Notifier struct {
	Name    string         `yaml:"name"`
	Slack   *SlackTarget   `yaml:"slack"`
	Webhook *WebhookTarget `yaml:"webhook"`
	Console *ConsoleTarget `yaml:"console"`
}

// Kind names the notifier's kind: "slack", "webhook" or "console".
func (n Notifier) Kind() string {
	switch {
	case n.Slack != nil:
		return "slack"
	case n.Webhook != nil:
		return "webhook"
	case n.Console != nil:
		return "console"
	}
	return ""
}

// SlackTarget posts with the bot token to one channel.
type SlackTarget struct {
	Channel string `yaml:"channel"` // channel ID, e.g. C0123456789
}

// WebhookTarget posts Alertmanager-compatible JSON signed per Standard Webhooks.
type WebhookTarget struct {
	URL        Secret `yaml:"url"`    // URLs often carry tokens: treated as a secret
	Secret     Secret `yaml:"secret"` // whsec_<base64>
	SecretFile string `yaml:"secret_file"`
	// Digest sends the daily digest to this webhook as well. Default false:
	// Alertmanager receivers expect alerts, and the digest is not one. A
	// webhook named in schedule.digest_notifiers needs it set.
	Digest bool `yaml:"digest"`
}

// ConsoleTarget prints alerts to standard output.
type ConsoleTarget struct {
	Color bool `yaml:"color"`
}

// HTTP is the daemon's listener for /healthz and Slack requests.
type HTTP struct {
	Listen string `yaml:"listen"` // default 127.0.0.1:8080; "" disables
	// ExternalURL is the URL people and receivers reach costbot at, e.g.
	// https://costbot.example.com (an http or https URL with no user info,
	// query or fragment). Webhooks send it as externalURL and link each
	// alert below it (generatorURL). Default "": both are sent empty.
	ExternalURL string `yaml:"external_url"`
}

// Schedule says when jobs run.
type Schedule struct {
	// Cycle is how often fetch -> evaluate -> notify runs. Default 1h.
	Cycle time.Duration `yaml:"cycle"`
	// CardCheck is the local time of the daily card-expiry check. Default "09:00".
	CardCheck string `yaml:"card_check"`
	// Digest is the local time of the daily digest ("" disables). Default "09:00".
	Digest string `yaml:"digest"`
	// WeeklyDigest is the weekday ("monday" .. "sunday") of the weekly
	// digest, sent at the Digest time (09:00 when the daily one is off);
	// "" disables it (the default).
	WeeklyDigest string `yaml:"weekly_digest"`
	// DigestNotifiers receive the digest; empty means every notifier.
	DigestNotifiers []string `yaml:"digest_notifiers"`
	// TimeZone for CardCheck and Digest, IANA name. Default UTC.
	TimeZone string `yaml:"timezone"`
}

// Alerts tunes alert delivery.
type Alerts struct {
	// RepeatInterval re-sends a still-firing, unacknowledged alert. 0 = never (default).
	RepeatInterval time.Duration `yaml:"repeat_interval"`
	// StaleAfter: a failing account raises a staleness alert once its last good
	// fetch is older than this. Default 6h.
	StaleAfter time.Duration `yaml:"stale_after"`
	// RetentionDays deletes alerts that resolved or closed more than this many
	// days ago, with their send log and user actions; firing alerts stay.
	// Default 400, so a year-over-year comparison still finds last year's
	// alerts. 0 keeps every alert.
	RetentionDays int `yaml:"retention_days"`
	// SettleAfter is how long after its end an account's latest data day
	// stays provisional when no later day has data yet: a missing row on it
	// is unknown, and drops and outages on it wait. Default 36h.
	SettleAfter time.Duration `yaml:"settle_after"`
	// LookbackDays is how many days back anomalies are reported when
	// costbot judges a series for the first time or after a downtime; older
	// history only warms the detector up. Default 7.
	LookbackDays int `yaml:"lookback_days"`
}

// CloudflareRequestsPer5m is Cloudflare's API limit per user: requests in
// any 5 minutes (billing.DefaultRequestsPer5m; config does not import
// billing, a test keeps the two equal).
const CloudflareRequestsPer5m = 1200

// Default returns the configuration every file is applied on top of.
func Default() Config {
	return Config{
		Cloudflare: Cloudflare{
			BaseURL:          "https://api.cloudflare.com/client/v4",
			HistoryDays:      120,
			RefreshDays:      40,
			RefreshInterval:  24 * time.Hour,
			RecentDays:       3,
			FetchConcurrency: 4,
			RequestsPer5m:    CloudflareRequestsPer5m,
			MaxRetries:       4,
			MaxRetryWait:     60 * time.Second,
			Timeout:          2 * time.Minute,
		},
		Slack:    Slack{APIURL: "https://slack.com/api/"},
		Rules:    "rules",
		State:    "costbot.db",
		HTTP:     HTTP{Listen: "127.0.0.1:8080"},
		Schedule: Schedule{Cycle: time.Hour, CardCheck: "09:00", Digest: "09:00", TimeZone: "UTC"},
		Alerts:   Alerts{StaleAfter: 6 * time.Hour, RetentionDays: 400, SettleAfter: 36 * time.Hour, LookbackDays: 7},
	}
}

// Error is one problem in a config file.
type Error struct {
	File  string
	Line  int
	Col   int
	Field string // dotted path, e.g. notifiers[1].webhook.secret
	Msg   string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Col)
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found; it is what Load and Validate return.
type Errors []*Error

func (es Errors) Error() string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// Load reads and strictly decodes the file, then validates it.
func Load(path string) (*Config, error) {
	data, err := ReadFile(path, MaxConfigFileSize)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(path, data, os.LookupEnv)
}

// LoadCheck is Load for `costbot check`: it also reports what CheckLive
// finds, so one run lists every problem in the file, and it returns the
// config whenever the file decoded, even together with errors, so that the
// caller can go on to check the rules it names.
func LoadCheck(path string) (*Config, error) {
	data, err := ReadFile(path, MaxConfigFileSize)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	cfg, es := parse(path, data, os.LookupEnv)
	var live Errors
	if cfg != nil && errors.As(cfg.CheckLive(), &live) {
		es = append(es, live...)
	}
	if len(es) > 0 {
		return cfg, es
	}
	return cfg, nil
}

var lineRE = regexp.MustCompile(`line (\d+): `)

// Parse decodes data (named file in errors) on top of Default, expands ${VAR}
// in secret fields with lookup, applies relative paths and validates.
func Parse(file string, data []byte, lookup func(string) (string, bool)) (*Config, error) {
	cfg, es := parse(file, data, lookup)
	if len(es) > 0 {
		return nil, es
	}
	return cfg, nil
}

// parse is Parse, returning the config whenever data decoded, with or
// without errors from expanding and validating it.
func parse(file string, data []byte, lookup func(string) (string, bool)) (*Config, Errors) {
	cfg := Default()
	cfg.File = file
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, Errors{yamlError(file, err)}
	}
	if len(root.Content) == 0 {
		return nil, Errors{{File: file, Msg: "empty config"}}
	}
	cfg.root = &root
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			var es Errors
			for _, m := range te.Errors {
				es = append(es, yamlError(file, errors.New(m)))
			}
			return nil, es
		}
		return nil, Errors{yamlError(file, err)}
	}
	es := cfg.expand(lookup)
	var ves Errors
	if errors.As(cfg.Validate(), &ves) {
		es = append(es, ves...)
	}
	return &cfg, es
}

func yamlError(file string, err error) *Error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	e := &Error{File: file, Msg: msg}
	if m := lineRE.FindStringSubmatchIndex(msg); m != nil {
		fmt.Sscanf(msg[m[2]:m[3]], "%d", &e.Line)
		e.Col = 1
		e.Msg = msg[:m[0]] + msg[m[1]:]
	}
	e.Msg = strings.TrimPrefix(strings.TrimPrefix(e.Msg, "unmarshal errors:\n"), "  ")
	return e
}

var envRE = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// expand replaces ${VAR} in secret fields and reads *_file secrets. Unset
// variables leave the field empty and are listed in MissingEnv; Validate and
// the caller decide. Unreadable files and a secret set both inline and as a
// file are errors.
func (c *Config) expand(lookup func(string) (string, bool)) Errors {
	var es Errors
	do := func(field string, s *Secret, file string) {
		*s = Secret(envRE.ReplaceAllStringFunc(string(*s), func(m string) string {
			name := m[2 : len(m)-1]
			v, ok := lookup(name)
			if !ok || v == "" {
				c.MissingEnv = append(c.MissingEnv, field+" ($"+name+")")
				return ""
			}
			return v
		}))
		if file == "" {
			return
		}
		line, col := c.pos(field + "_file")
		if *s != "" || c.missing(field) {
			es = append(es, &Error{File: c.File, Line: line, Col: col, Field: field + "_file", Msg: "set " + field[strings.LastIndexByte(field, '.')+1:] + " or its _file, not both"})
			return
		}
		b, err := ReadFile(c.Path(file), MaxSecretFileSize)
		if err != nil {
			// The path is not secret; the error says which file and why.
			es = append(es, &Error{File: c.File, Line: line, Col: col, Field: field + "_file", Msg: err.Error()})
			return
		}
		*s = Secret(strings.TrimSpace(string(b)))
	}
	do("cloudflare.api_token", &c.Cloudflare.APIToken, c.Cloudflare.APITokenFile)
	do("cloudflare.api_key", &c.Cloudflare.APIKey, c.Cloudflare.APIKeyFile)
	do("slack.bot_token", &c.Slack.BotToken, c.Slack.BotTokenFile)
	do("slack.signing_secret", &c.Slack.SigningSecret, c.Slack.SigningSecretFile)
	do("slack.app_token", &c.Slack.AppToken, c.Slack.AppTokenFile)
	for i := range c.Notifiers {
		if w := c.Notifiers[i].Webhook; w != nil {
			do(fmt.Sprintf("notifiers[%d].webhook.url", i), &w.URL, "")
			do(fmt.Sprintf("notifiers[%d].webhook.secret", i), &w.Secret, w.SecretFile)
		}
	}
	sort.Strings(c.MissingEnv)
	return es
}

// Dir is the folder relative paths in the config are resolved against.
func (c *Config) Dir() string {
	if c.File == "" {
		return "."
	}
	return filepath.Dir(c.File)
}

// Path resolves p against the config file's folder.
func (c *Config) Path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.Dir(), p)
}

var (
	accountIDRE = regexp.MustCompile(`^[0-9a-f]{32}$`)
	clockRE     = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)
)

// Validate checks values that decoding cannot; every problem is reported.
func (c *Config) Validate() error {
	var es Errors
	bad := func(field, format string, args ...any) {
		line, col := c.pos(field)
		es = append(es, &Error{File: c.File, Line: line, Col: col, Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	cf := c.Cloudflare
	// The billing client compares the scheme prefix case-sensitively.
	if u, err := url.Parse(cf.BaseURL); err != nil || (!strings.HasPrefix(cf.BaseURL, "http://") && !strings.HasPrefix(cf.BaseURL, "https://")) || u.Host == "" {
		bad("cloudflare.base_url", "must be an http(s) URL, got %q", RedactURL(cf.BaseURL))
	}
	// A credential given as an unset ${VAR} still counts as given: the
	// environment, not the file, is what lacks it.
	hasToken := cf.APIToken != "" || c.missing("cloudflare.api_token")
	hasKey := cf.APIKey != "" || c.missing("cloudflare.api_key")
	if hasToken && (hasKey || cf.APIEmail != "") {
		bad("cloudflare.api_token", "set api_token or api_email + api_key, not both")
	} else if hasKey != (cf.APIEmail != "") {
		bad("cloudflare.api_email", "api_email and api_key go together")
	}
	if len(cf.Accounts) == 0 {
		bad("cloudflare.accounts", "at least one account is required")
	}
	seen := map[string]int{}
	for i, a := range cf.Accounts {
		f := fmt.Sprintf("cloudflare.accounts[%d]", i)
		if !accountIDRE.MatchString(a.ID) {
			bad(f+".id", "must be a 32-character lower-case hex account id, got %q", a.ID)
		}
		if a.Name == "" {
			bad(f+".name", "is required (used in rules and messages)")
		}
		if j, ok := seen[a.ID]; ok && a.ID != "" {
			bad(f+".id", "duplicate of cloudflare.accounts[%d]", j)
		}
		seen[a.ID] = i
		switch a.Source {
		case "", "paygo", "focus":
		default:
			bad(f+".source", "must be paygo or focus, got %q", a.Source)
		}
	}
	if cf.HistoryDays < 28 || cf.HistoryDays > 400 {
		bad("cloudflare.history_days", "must be between 28 and 400, got %d", cf.HistoryDays)
	}
	if cf.RefreshDays < 2 || cf.RefreshDays > cf.HistoryDays {
		bad("cloudflare.refresh_days", "must be between 2 and history_days, got %d", cf.RefreshDays)
	}
	if cf.RefreshInterval < 0 {
		bad("cloudflare.refresh_interval", "must not be negative, got %s", cf.RefreshInterval)
	}
	if cf.RecentDays < 1 || cf.RecentDays > cf.RefreshDays {
		bad("cloudflare.recent_days", "must be between 1 and refresh_days, got %d", cf.RecentDays)
	}
	if cf.FetchConcurrency < 1 || cf.FetchConcurrency > 64 {
		bad("cloudflare.fetch_concurrency", "must be between 1 and 64, got %d", cf.FetchConcurrency)
	}
	if cf.RequestsPer5m < 10 || cf.RequestsPer5m > CloudflareRequestsPer5m {
		bad("cloudflare.requests_per_5m", "must be between 10 and %d (Cloudflare's limit per user), got %d", CloudflareRequestsPer5m, cf.RequestsPer5m)
	}
	if cf.MaxRetries < 0 || cf.MaxRetries > 20 {
		bad("cloudflare.max_retries", "must be between 0 and 20, got %d", cf.MaxRetries)
	}
	if cf.MaxRetryWait <= 0 {
		bad("cloudflare.max_retry_wait", "must be positive")
	}
	if cf.Timeout <= 0 {
		bad("cloudflare.timeout", "must be positive")
	}
	for _, p := range []struct {
		key string
		ts  []string
	}{{"profile", cf.Paths.Profile}, {"paygo", cf.Paths.PayGo}, {"paygo_info", cf.Paths.PayGoInfo}, {"focus", cf.Paths.Focus}} {
		for i, t := range p.ts {
			// The rule of billing.Options.Validate; TestValidate_BillingPaths keeps them equal.
			if !strings.HasPrefix(t, "/") || !strings.Contains(t, "{account_id}") {
				bad(fmt.Sprintf("cloudflare.paths.%s[%d]", p.key, i), "must start with / and contain {account_id}, got %q", t)
			}
		}
	}
	if u, err := url.Parse(c.Slack.APIURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || !strings.HasSuffix(c.Slack.APIURL, "/") {
		bad("slack.api_url", "must be an http(s) URL ending in /, got %q", RedactURL(c.Slack.APIURL))
	}
	if c.Slack.AppToken != "" && !strings.HasPrefix(c.Slack.AppToken.Value(), "xapp-") {
		bad("slack.app_token", "must be an app-level token starting with xapp-")
	}
	names := map[string]int{}
	for i, n := range c.Notifiers {
		f := fmt.Sprintf("notifiers[%d]", i)
		if n.Name == "" {
			bad(f+".name", "is required")
		} else if j, ok := names[n.Name]; ok {
			bad(f+".name", "duplicate name %q (also notifiers[%d])", n.Name, j)
		}
		names[n.Name] = i
		kinds := 0
		for _, set := range []bool{n.Slack != nil, n.Webhook != nil, n.Console != nil} {
			if set {
				kinds++
			}
		}
		if kinds != 1 {
			bad(f, "needs exactly one of slack, webhook, console")
			continue
		}
		switch {
		case n.Slack != nil:
			if n.Slack.Channel == "" {
				bad(f+".slack.channel", "is required (a channel ID such as C0123456789)")
			}
		case n.Webhook != nil:
			// The webhook notifier's own rules (package endpoint); their
			// messages never quote the URL or the secret. A value with an
			// unset ${VAR} is incomplete and left to CheckSecrets.
			switch raw := n.Webhook.URL.Value(); {
			case c.missing(f + ".webhook.url"):
			case raw == "":
				bad(f+".webhook.url", "is required")
			default:
				if _, err := endpoint.ParseURL(raw); err != nil {
					bad(f+".webhook.url", "%v", err)
				}
			}
			field := f + ".webhook.secret"
			if n.Webhook.SecretFile != "" {
				field += "_file"
			}
			if s := n.Webhook.Secret.Value(); s != "" && !c.missing(f+".webhook.secret") {
				if _, err := endpoint.DecodeSecret(s); err != nil {
					bad(field, "%v", err)
				}
			}
		}
	}
	if c.State == "" {
		bad("state", "is required (path of the SQLite file, or a postgres:// URL)")
	}
	if err := checkListen(c.HTTP.Listen); err != nil {
		bad("http.listen", "%v", err)
	}
	if err := checkExternalURL(c.HTTP.ExternalURL); err != nil {
		bad("http.external_url", "%v", err)
	}
	if c.Rules == "" {
		bad("rules", "is required (a folder of *.yaml rule files)")
	}
	if c.Schedule.Cycle < time.Minute {
		bad("schedule.cycle", "must be at least 1m, got %s", c.Schedule.Cycle)
	}
	if !clockRE.MatchString(c.Schedule.CardCheck) {
		bad("schedule.card_check", "must be a local time HH:MM, got %q", c.Schedule.CardCheck)
	}
	if c.Schedule.Digest != "" && !clockRE.MatchString(c.Schedule.Digest) {
		bad("schedule.digest", "must be a local time HH:MM or empty, got %q", c.Schedule.Digest)
	}
	if _, ok := ParseWeekday(c.Schedule.WeeklyDigest); c.Schedule.WeeklyDigest != "" && !ok {
		bad("schedule.weekly_digest", "must be a weekday (monday .. sunday) or empty, got %q", c.Schedule.WeeklyDigest)
	}
	if _, err := time.LoadLocation(c.Schedule.TimeZone); err != nil {
		bad("schedule.timezone", "unknown time zone %q", c.Schedule.TimeZone)
	}
	digestTo := map[string]bool{}
	for i, n := range c.Schedule.DigestNotifiers {
		digestTo[n] = true
		j, ok := names[n]
		switch {
		case !ok:
			bad(fmt.Sprintf("schedule.digest_notifiers[%d]", i), "no notifier named %q", n)
		case c.Notifiers[j].Webhook != nil && !c.Notifiers[j].Webhook.Digest:
			bad(fmt.Sprintf("schedule.digest_notifiers[%d]", i), "webhook %q gets the digest only with notifiers[%d].webhook.digest: true", n, j)
		}
	}
	for i, n := range c.Notifiers {
		if w := n.Webhook; w != nil && w.Digest && len(c.Schedule.DigestNotifiers) > 0 && !digestTo[n.Name] {
			bad(fmt.Sprintf("notifiers[%d].webhook.digest", i), "is true but schedule.digest_notifiers does not name %q", n.Name)
		}
	}
	if c.Alerts.RepeatInterval < 0 {
		bad("alerts.repeat_interval", "must not be negative")
	}
	if c.Alerts.StaleAfter <= 0 {
		bad("alerts.stale_after", "must be positive")
	}
	if c.Alerts.RetentionDays < 0 {
		bad("alerts.retention_days", "must not be negative (0 keeps every alert), got %d", c.Alerts.RetentionDays)
	}
	if c.Alerts.SettleAfter <= 0 || c.Alerts.SettleAfter > 7*24*time.Hour {
		bad("alerts.settle_after", "must be positive and at most 168h, got %s", c.Alerts.SettleAfter)
	}
	if c.Alerts.LookbackDays < 1 || c.Alerts.LookbackDays > 400 {
		bad("alerts.lookback_days", "must be between 1 and 400, got %d", c.Alerts.LookbackDays)
	}
	c.validateRouting(bad, func(n *yaml.Node, field, format string, args ...any) {
		es = append(es, &Error{File: c.File, Line: n.Line, Col: n.Column, Field: field, Msg: fmt.Sprintf(format, args...)})
	})
	if len(es) > 0 {
		return es
	}
	return nil
}

func (c *Config) missing(field string) bool {
	for _, m := range c.MissingEnv {
		if strings.HasPrefix(m, field+" ") {
			return true
		}
	}
	return false
}

// checkExternalURL accepts "" or an absolute http(s) URL with a host and
// without user info, query or fragment: it goes into every webhook payload.
// Its messages quote the URL only when it has no user info.
func checkExternalURL(raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("must be an absolute http or https URL such as https://costbot.example.com")
	}
	if u.User != nil {
		return errors.New("must not contain user info: it is sent in every webhook payload")
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https", u.Hostname() == "", u.Opaque != "":
		return fmt.Errorf("must be an absolute http or https URL such as https://costbot.example.com, got %q", raw)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(raw, "#"):
		return fmt.Errorf("must not have a query or fragment (alert links are appended to it), got %q", raw)
	}
	return nil
}

// checkListen applies net.Listen's rules for a "tcp" address without
// listening: host:port, the port a number from 0 to 65535 or a service name.
// "" (no listener) is fine. Host names are not resolved.
func checkListen(addr string) error {
	if addr == "" {
		return nil
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("want host:port such as 127.0.0.1:8080, got %q", addr)
	}
	if _, err := net.LookupPort("tcp", port); err != nil {
		return fmt.Errorf("port %q: want 0 to 65535 or a service name", port)
	}
	return nil
}

// CheckSecrets reports the secrets a live run needs but lacks: every unset
// ${VAR}, then what CheckLive reports.
func (c *Config) CheckSecrets() error {
	var es Errors
	for _, m := range c.MissingEnv {
		field, _, _ := strings.Cut(m, " ")
		line, col := c.pos(field)
		es = append(es, &Error{File: c.File, Line: line, Col: col, Field: field, Msg: "environment variable " + strings.Trim(m[len(field)+1:], "()") + " is not set"})
	}
	var live Errors
	if errors.As(c.CheckLive(), &live) {
		es = append(es, live...)
	}
	if len(es) > 0 {
		return es
	}
	return nil
}

// CheckLive reports what `once` and `run` reject in the file itself, whatever
// the environment holds: no Cloudflare credentials at all, and Slack
// notifiers without a slack.bot_token. Validate cannot: a dry run and the
// tests need neither. A credential given as an unset ${VAR} is not reported
// here; CheckSecrets and MissingEnv cover it. Nor is one whose *_file is
// set: reading that file is Parse's business.
func (c *Config) CheckLive() error {
	var es Errors
	bad := func(field, msg string) {
		line, col := c.pos(field)
		es = append(es, &Error{File: c.File, Line: line, Col: col, Field: field, Msg: msg})
	}
	given := func(field string, s Secret, file string) bool { return s != "" || file != "" || c.missing(field) }
	cf := c.Cloudflare
	if !given("cloudflare.api_token", cf.APIToken, cf.APITokenFile) && !given("cloudflare.api_key", cf.APIKey, cf.APIKeyFile) {
		bad("cloudflare.api_token", "no Cloudflare credentials: set api_token (or api_email + api_key)")
	}
	if !given("slack.bot_token", c.Slack.BotToken, c.Slack.BotTokenFile) {
		for i, n := range c.Notifiers {
			if n.Slack != nil {
				bad(fmt.Sprintf("notifiers[%d].slack", i), "slack.bot_token is required for Slack notifiers")
			}
		}
	}
	if len(es) > 0 {
		return es
	}
	return nil
}

// pos finds the line and column of a dotted field path such as
// "notifiers[1].webhook.secret"; it falls back to the nearest parent.
func (c *Config) pos(field string) (int, int) {
	if c.root == nil || len(c.root.Content) == 0 {
		return 0, 0
	}
	n := c.root.Content[0]
	line, col := n.Line, n.Column
	for _, part := range strings.Split(field, ".") {
		key, idx := part, -1
		if i := strings.IndexByte(part, '['); i >= 0 {
			key = part[:i]
			fmt.Sscanf(part[i:], "[%d]", &idx)
		}
		next := mapValue(n, key)
		if next == nil {
			return line, col
		}
		n = next
		if n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode || idx < 0 {
			line, col = n.Line, n.Column
		}
		if idx >= 0 {
			if n.Kind != yaml.SequenceNode || idx >= len(n.Content) {
				return line, col
			}
			n = n.Content[idx]
			line, col = n.Line, n.Column
		}
	}
	return line, col
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// ParseWeekday reads a weekday name in any case ("monday", "Mon").
func ParseWeekday(s string) (time.Weekday, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if len(s) < 3 {
		return 0, false
	}
	for d := time.Sunday; d <= time.Saturday; d++ {
		if name := strings.ToLower(d.String()); name == s || name[:3] == s {
			return d, true
		}
	}
	return 0, false
}
