package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/costbot/costbot"
	"github.com/costbot/costbot/internal/config"
	"github.com/costbot/costbot/internal/cost"
	"github.com/costbot/costbot/internal/demo"
	"github.com/costbot/costbot/internal/notify"
	"github.com/costbot/costbot/internal/notify/console"
	"github.com/costbot/costbot/internal/rules"
	"github.com/costbot/costbot/internal/store"
)

// DemoOptions configures Demo.
type DemoOptions struct {
	Now    time.Time // default time.Now()
	Out    io.Writer // where alerts are printed
	State  string    // SQLite file; default a temporary file removed afterwards
	Logger *slog.Logger
}

// Demo runs costbot end to end with no Cloudflare or Slack account: a fake
// Cloudflare billing API on loopback serves a generated account, the bundled
// config.example.yaml and rules/ drive one full cycle whose alerts are
// printed, then a second cycle shows that nothing is posted twice.
func Demo(ctx context.Context, o DemoOptions) error {
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.Out == nil {
		o.Out = os.Stdout
	}
	acct := demo.Account(o.Now)
	fake := demo.NewServer(o.Now)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("start fake Cloudflare API: %w", err)
	}
	srv := &http.Server{Handler: fake, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	cfg, set, err := ExampleConfig(map[string]string{
		"CLOUDFLARE_API_TOKEN":   demo.Token,
		"SLACK_BOT_TOKEN":        "xoxb-demo",
		"SLACK_SIGNING_SECRET":   "demo-signing-secret",
		"COSTBOT_WEBHOOK_SECRET": "whsec_ZGVtby1zZWNyZXQtZm9yLWNvc3Rib3QtZGVtbw==",
	})
	if err != nil {
		return err
	}
	cfg.Cloudflare.BaseURL = "http://" + ln.Addr().String()
	if o.State == "" {
		dir, err := os.MkdirTemp("", "costbot-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		o.State = filepath.Join(dir, "costbot.db")
	}
	a, err := New(ctx, Options{
		Config: cfg, Rules: set, Notifiers: consoleFor(cfg, o.Out), Logger: o.Logger,
		Now: func() time.Time { return o.Now }, StatePath: o.State, RetryWait: time.Second,
	})
	if err != nil {
		return err
	}
	defer a.Close()

	fmt.Fprintf(o.Out, "costbot demo: fake Cloudflare billing API on %s serving account %q (%d service-days), now %s\n",
		ln.Addr(), acct.Name, len(acct.Days), o.Now.UTC().Format(time.RFC3339))
	fmt.Fprintf(o.Out, "rules: %d from the bundled rules/; notifiers print here instead of posting\n\n", set.Len())
	fmt.Fprintln(o.Out, "── cycle 1 ─────────────────────────────────────────────")
	rep, err := a.Cycle(ctx, o.Now)
	if err != nil {
		return err
	}
	summarize(o.Out, rep)
	if err := rep.Err(); err != nil {
		return err
	}
	// The same instant again, so a day or card stage boundary between the two
	// cycles cannot make the second one legitimately post something.
	fmt.Fprintln(o.Out, "\n── cycle 2 (same data, same state) ─────────────────────")
	rep2, err := a.Cycle(ctx, o.Now)
	if err != nil {
		return err
	}
	summarize(o.Out, rep2)
	if rep2.Sent() > 0 {
		return errors.New("demo: the second cycle posted again; deduplication is broken")
	}
	return rep2.Err()
}

// ExampleConfig parses the embedded config.example.yaml with env values from
// env and loads the embedded rules/.
func ExampleConfig(env map[string]string) (*config.Config, *rules.Set, error) {
	data, err := costbot.Examples.ReadFile("config.example.yaml")
	if err != nil {
		return nil, nil, err
	}
	cfg, err := config.Parse("config.example.yaml", data, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		return nil, nil, err
	}
	set, err := rules.LoadFS(costbot.Examples, "rules")
	if err != nil {
		return nil, nil, err
	}
	return cfg, set, nil
}

// consoleFor prints every configured notifier to out under its own name, so
// a dry run or the demo shows who would have received what.
func consoleFor(cfg *config.Config, out io.Writer) []notify.Notifier {
	var ns []notify.Notifier
	mu := &sync.Mutex{}
	for _, n := range cfg.Notifiers {
		label := n.Kind()
		switch {
		case n.Slack != nil:
			label = "slack channel " + n.Slack.Channel
		case n.Webhook != nil:
			label = "signed webhook"
		}
		ns = append(ns, &printer{name: n.Name, label: label, mu: mu, w: out})
	}
	return ns
}

// printer writes each alert in one piece, labelled with the notifier that
// would have sent it; notifiers run concurrently and share the writer.
type printer struct {
	name, label string
	mu          *sync.Mutex
	w           io.Writer
}

var _ notify.Notifier = (*printer)(nil)

func (p *printer) Name() string { return p.name }

func (p *printer) Notify(_ context.Context, a cost.Alert) (*cost.MessageRef, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, err := fmt.Fprintf(p.w, "→ %s (%s)\n%s\n", p.name, p.label, strings.TrimRight(console.Format(a, false), "\n"))
	return nil, err
}

func summarize(w io.Writer, r *Report) {
	for _, a := range r.Accounts {
		if a.Err != nil {
			fmt.Fprintf(w, "fetch %s: FAILED: %v\n", a.Account.Name, a.Err)
			continue
		}
		fmt.Fprintf(w, "fetch %s: %d usage rows for %s\n", a.Account.Name, a.Rows, a.Range)
	}
	for _, p := range r.Problems {
		fmt.Fprintf(w, "problem: %v\n", p)
	}
	failed := len(r.Deliveries) - r.Sent()
	fmt.Fprintf(w, "%d findings, %d alerts delivered", len(r.Findings), r.Sent())
	if failed > 0 {
		fmt.Fprintf(w, ", %d failed (retried next cycle)", failed)
	}
	if len(r.Deliveries) == 0 {
		fmt.Fprint(w, " — nothing new to post")
	}
	fmt.Fprintln(w)
}

// ConsoleNotifiers is consoleFor for dry runs.
func ConsoleNotifiers(cfg *config.Config, out io.Writer) []notify.Notifier {
	return consoleFor(cfg, out)
}

// StateOf is the state cfg names: a PostgreSQL URL as written, or the
// SQLite file's path resolved against the config file's folder.
func StateOf(cfg *config.Config) string {
	if store.IsPostgres(cfg.State) {
		return cfg.State
	}
	return cfg.Path(cfg.State)
}

// CopyState copies the state (StateOf) to a SQLite file in a temporary
// folder so a dry run can read the real state without recording anything
// in it: the SQLite file and its WAL as they are, or a consistent copy of a
// PostgreSQL state (store.DB.CopyTo).
func CopyState(ctx context.Context, path string) (string, func(), error) {
	dir, err := os.MkdirTemp("", "costbot-dry-run-")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	if store.IsPostgres(path) {
		dst := filepath.Join(dir, "costbot.db")
		db, err := store.Open(ctx, path)
		if err != nil {
			cleanup()
			return "", nil, fmt.Errorf("copy state for dry run: %w", err)
		}
		defer db.Close()
		if err := db.CopyTo(ctx, dst); err != nil {
			cleanup()
			return "", nil, fmt.Errorf("copy state for dry run: %w", err)
		}
		return dst, cleanup, nil
	}
	dst := filepath.Join(dir, filepath.Base(path))
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(path + suffix)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			cleanup()
			return "", nil, fmt.Errorf("copy state for dry run: %w", err)
		}
		if err := os.WriteFile(dst+suffix, b, 0o600); err != nil {
			cleanup()
			return "", nil, fmt.Errorf("copy state for dry run: %w", err)
		}
	}
	return dst, cleanup, nil
}
