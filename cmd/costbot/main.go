// Command costbot watches Cloudflare spend and alerts in Slack or by webhook
// before a budget is blown.
//
//	costbot demo                                  full cycle against a built-in fake account
//	costbot check --config FILE                   validate the config and its rule files
//	costbot once  --config FILE [--now T] [--dry-run]
//	costbot run   --config FILE                   the daemon
//	costbot backtest --config FILE --from D --to D  replay the live cycle per day, send nothing
//	costbot test FILE...                          rule unit tests through the live cycle
//	costbot detect [flags] < series.csv           score a series for anomalies
//	costbot silence add|list|expire --config FILE manage silences (Alertmanager matchers)
//	costbot route test --config FILE LABEL=VALUE… which notifiers get an alert, and when
//	costbot version                               module version and VCS revision (also --version)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/costbot/costbot/internal/app"
	"github.com/costbot/costbot/internal/config"
	"github.com/costbot/costbot/internal/detect/detectcli"
	"github.com/costbot/costbot/internal/rules"
)

const usage = `costbot watches Cloudflare spend and alerts before a budget is blown.

Usage:
  costbot demo   [--now RFC3339] [--state FILE]     run a full cycle against a built-in fake account
  costbot check  --config FILE                     validate the config and every rule file
  costbot once   --config FILE [--now RFC3339] [--dry-run]
                                                   run one fetch -> evaluate -> notify cycle
  costbot run    --config FILE                     run the daemon (scheduler, /healthz, Slack);
                                                   SIGHUP reloads the config and rules
  costbot backtest --config FILE --from YYYY-MM-DD --to YYYY-MM-DD [--format text|json] [--rules DIR]
                                                   replay the live cycle once per day; prints what it would have sent
  costbot test   [-run REGEXP] [-v] FILE...        run rule unit tests (docs/rules.md); exit 1 on any failure
  costbot detect [--min-impact N] [--sensitivity S] [--method M] [--season auto|N] < series.csv
                                                   score a CSV series for anomalies
  costbot silence add|list|expire --config FILE ... add, list or expire silences (docs/alerts.md)
  costbot route test --config FILE [--at RFC3339] LABEL=VALUE...
                                                   which notifiers an alert goes to, and when
  costbot version                                  print the module version and VCS revision (also --version)
`

func main() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "demo":
		return cmdDemo(ctx, rest, stdout, stderr)
	case "check":
		return cmdCheck(rest, stdout, stderr)
	case "once":
		return cmdOnce(ctx, rest, stdout, stderr)
	case "run":
		return cmdRun(ctx, rest, stderr)
	case "backtest":
		return cmdBacktest(ctx, rest, stdout, stderr)
	case "test":
		return cmdTest(ctx, rest, stdout, stderr)
	case "detect":
		return detectcli.Main(rest, stdin, stdout, stderr)
	case "silence":
		return cmdSilence(ctx, rest, stdout, stderr)
	case "route":
		return cmdRoute(rest, stdout, stderr)
	case "version", "--version", "-version":
		return cmdVersion(stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "costbot: unknown command %q\n\n%s", cmd, usage)
	return 2
}

func flags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("costbot "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

type timeFlag struct{ t time.Time }

func (f *timeFlag) String() string {
	if f.t.IsZero() {
		return ""
	}
	return f.t.Format(time.RFC3339)
}

func (f *timeFlag) Set(s string) error {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return fmt.Errorf("want RFC 3339, e.g. 2026-11-25T09:00:00Z: %w", err)
	}
	f.t = t
	return nil
}

// levelFlag is --log-level: debug, info, warn or error; anything else is a
// flag error naming the value.
type levelFlag struct{ slog.Level }

func (f *levelFlag) Set(s string) error { return f.UnmarshalText([]byte(s)) }

func levelVar(fs *flag.FlagSet, def slog.Level) *slog.Level {
	f := &levelFlag{def}
	fs.Var(f, "log-level", "log level: debug, info, warn, error")
	return &f.Level
}

func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flags("demo", stderr)
	var now timeFlag
	fs.Var(&now, "now", "evaluate as of this instant (RFC 3339; default: now)")
	state := fs.String("state", "", "SQLite file to keep the demo state in (default: a temporary file)")
	level := levelVar(fs, slog.LevelError)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	err := app.Demo(ctx, app.DemoOptions{Now: now.t, Out: stdout, State: *state, Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: *level}))})
	if err != nil {
		fmt.Fprintf(stderr, "costbot demo: %v\n", err)
		return 1
	}
	return 0
}

// load reads the config and its rules, printing every problem found.
func load(path string, stderr io.Writer) (*config.Config, *rules.Set, bool) {
	if path == "" {
		fmt.Fprintln(stderr, "costbot: --config FILE is required")
		return nil, nil, false
	}
	cfg, err := config.Load(path)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return nil, nil, false
	}
	set, ok := loadRules(cfg, stderr)
	return cfg, set, ok
}

// loadRules loads cfg's rules and checks that every notifier they name is in
// cfg, printing every problem found.
func loadRules(cfg *config.Config, stderr io.Writer) (*rules.Set, bool) {
	set, err := rules.LoadDir(cfg.Path(cfg.Rules))
	if err != nil {
		fmt.Fprintln(stderr, err)
		return nil, false
	}
	names := make([]string, len(cfg.Notifiers))
	for i, n := range cfg.Notifiers {
		names[i] = n.Name
	}
	err = app.CheckNotifiers(set, names, cfg.File)
	if err != nil {
		fmt.Fprintln(stderr, err)
	}
	return set, err == nil
}

// loadLive is load plus the secrets a live run needs; a dry run sends
// nothing, so it needs only the Cloudflare credentials.
func loadLive(path string, dry bool, stderr io.Writer) (*config.Config, *rules.Set, bool) {
	cfg, set, ok := load(path, stderr)
	if !ok {
		return nil, nil, false
	}
	var es config.Errors
	if errors.As(cfg.CheckSecrets(), &es) {
		for _, e := range es {
			if !dry || strings.HasPrefix(e.Field, "cloudflare.") {
				fmt.Fprintln(stderr, e)
				ok = false
			}
		}
	}
	return cfg, set, ok
}

func cmdCheck(args []string, stdout, stderr io.Writer) int {
	fs := flags("check", stderr)
	path := fs.String("config", "", "config file")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *path == "" {
		fmt.Fprintln(stderr, "costbot: --config FILE is required")
		return 1
	}
	// Everything `once` and `run` would reject in the files themselves,
	// all of it: the config (with what only a live run needs, such as a
	// bot token for Slack notifiers), the rules and their notifier names.
	cfg, err := config.LoadCheck(*path)
	ok := err == nil
	if err != nil {
		fmt.Fprintln(stderr, err)
	}
	if cfg == nil {
		return 1
	}
	var set *rules.Set
	if cfg.Rules != "" {
		var rok bool
		set, rok = loadRules(cfg, stderr)
		ok = ok && rok
	}
	for _, m := range cfg.MissingEnv {
		fmt.Fprintf(stderr, "%s: note: %s is unset; `run` and `once` will need it\n", *path, m)
	}
	if !ok {
		return 1
	}
	fmt.Fprintf(stdout, "%s: OK (%d accounts, %d notifiers, %d rules in %s)\n", *path,
		len(cfg.Cloudflare.Accounts), len(cfg.Notifiers), set.Len(), cfg.Path(cfg.Rules))
	return 0
}

func cmdOnce(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flags("once", stderr)
	path := fs.String("config", "", "config file")
	var now timeFlag
	fs.Var(&now, "now", "evaluate as of this instant (RFC 3339); later data is ignored")
	dry := fs.Bool("dry-run", false, "print alerts instead of sending them and record nothing")
	level := levelVar(fs, slog.LevelInfo)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg, set, ok := loadLive(*path, *dry, stderr)
	if !ok {
		return 1
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: *level}))
	opts := app.Options{Config: cfg, Rules: set, Logger: log, Stdout: stdout}
	if !now.t.IsZero() {
		t := now.t
		opts.Now = func() time.Time { return t }
	} else {
		now.t = time.Now()
	}
	if *dry {
		tmp, cleanup, err := app.CopyState(ctx, app.StateOf(cfg))
		if err != nil {
			fmt.Fprintf(stderr, "costbot once: %v\n", err)
			return 1
		}
		defer cleanup()
		opts.StatePath = tmp
		opts.Notifiers = app.ConsoleNotifiers(cfg, stdout)
	}
	a, err := app.New(ctx, opts)
	if err != nil {
		fmt.Fprintf(stderr, "costbot once: %v\n", err)
		return 1
	}
	defer a.Close()
	rep, err := a.Cycle(ctx, now.t)
	if err == nil {
		err = rep.Err()
	}
	if err != nil {
		log.Error("cycle failed", "error", err)
		return 1
	}
	log.Info("cycle done", "findings", len(rep.Findings), "sent", rep.Sent(), "dry_run", *dry)
	return 0
}

func cmdRun(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flags("run", stderr)
	path := fs.String("config", "", "config file")
	level := levelVar(fs, slog.LevelInfo)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg, set, ok := loadLive(*path, false, stderr)
	if !ok {
		return 1
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: *level}))
	a, err := app.New(ctx, app.Options{Config: cfg, Rules: set, Logger: log})
	if err != nil {
		log.Error("start", "error", err)
		return 1
	}
	defer a.Close()
	// SIGHUP reloads the config and rules instead of ending the daemon.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	if err := a.Run(ctx, app.RunOptions{Reload: hup}); err != nil && !errors.Is(err, context.Canceled) {
		log.Error("daemon stopped", "error", err)
		return 1
	}
	return 0
}
