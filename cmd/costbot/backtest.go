package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/costbot/costbot/internal/app"
	"github.com/costbot/costbot/internal/rules"
)

type dayFlag struct{ t time.Time }

func (f *dayFlag) String() string {
	if f.t.IsZero() {
		return ""
	}
	return f.t.Format(time.DateOnly)
}

func (f *dayFlag) Set(s string) error {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return fmt.Errorf("want YYYY-MM-DD, e.g. 2026-08-09: %w", err)
	}
	f.t = t
	return nil
}

// cmdBacktest replays the live cycle once per day over a range of days and
// prints the alerts it would have sent; it sends nothing and never writes
// the configured state file.
func cmdBacktest(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flags("backtest", stderr)
	path := fs.String("config", "", "config file")
	var from, to dayFlag
	fs.Var(&from, "from", "first charge day to judge (YYYY-MM-DD)")
	fs.Var(&to, "to", "last charge day to judge (YYYY-MM-DD)")
	format := fs.String("format", "text", "output: text (per rule: how many alerts, on which days) or json (one object per line and alert event)")
	dir := fs.String("rules", "", "rules folder to replay instead of the config's")
	source := fs.String("source", "auto", "history: auto (state file if it holds the range, else Cloudflare), state or cloudflare")
	level := levelVar(fs, slog.LevelWarn)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if from.t.IsZero() || to.t.IsZero() {
		fmt.Fprintln(stderr, "costbot backtest: --from and --to are required")
		return 2
	}
	if *format != "text" && *format != "json" {
		fmt.Fprintf(stderr, "costbot backtest: --format %q: want text or json\n", *format)
		return 2
	}
	cfg, set, ok := load(*path, stderr)
	if !ok {
		return 1
	}
	if *dir != "" {
		var err error
		if set, err = rules.LoadDir(*dir); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: *level}))
	events, err := app.Backtest(ctx, app.BacktestOptions{Config: cfg, Rules: set, From: from.t, To: to.t,
		Source: app.HistorySource(*source), Progress: stderr, Logger: log})
	if err != nil {
		fmt.Fprintf(stderr, "costbot backtest: %v\n", err)
		return 1
	}
	if *format == "json" {
		err = app.WriteEventsJSON(stdout, events)
	} else {
		err = app.WriteEventsText(stdout, events, from.t, to.t, set)
	}
	if err != nil {
		fmt.Fprintf(stderr, "costbot backtest: %v\n", err)
		return 1
	}
	return 0
}
