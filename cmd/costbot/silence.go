package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/costbot/costbot/internal/alert"
	"github.com/costbot/costbot/internal/app"
	"github.com/costbot/costbot/internal/config"
	"github.com/costbot/costbot/internal/store"
)

const silenceUsage = `Usage:
  costbot silence add    --config FILE [--duration D | --end RFC3339] [--start RFC3339]
                         [--author NAME] --comment TEXT MATCHER...
  costbot silence list   --config FILE [--expired]
  costbot silence expire --config FILE ID...

Matchers use Alertmanager's syntax on the alert's labels, e.g.
  costbot silence add --config config.yaml --duration 4h --comment "R2 migration" 'service=~"R2.*"' account=production
`

// cmdSilence manages the silences stored in the config's state file; it
// works beside a running daemon, which reads them each cycle.
func cmdSilence(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, silenceUsage)
		return 2
	}
	sub, rest := args[0], args[1:]
	fs := flags("silence "+sub, stderr)
	path := fs.String("config", "", "config file (its state file holds the silences)")
	var now timeFlag
	fs.Var(&now, "now", "act as of this instant (RFC 3339; default: now)")
	var start, end timeFlag
	duration := fs.Duration("duration", 0, "add: how long the silence lasts from its start (default 2h unless --end)")
	author := fs.String("author", os.Getenv("USER"), "add: who creates the silence")
	comment := fs.String("comment", "", "add: why (required)")
	expired := fs.Bool("expired", false, "list: include expired silences")
	switch sub {
	case "add":
		fs.Var(&start, "start", "add: when the silence starts (RFC 3339; default: now)")
		fs.Var(&end, "end", "add: when the silence ends (RFC 3339)")
	case "list", "expire":
	default:
		fmt.Fprintf(stderr, "costbot silence: unknown subcommand %q\n\n%s", sub, silenceUsage)
		return 2
	}
	if err := fs.Parse(rest); err != nil {
		return 2
	}
	if *path == "" {
		fmt.Fprintln(stderr, "costbot: --config FILE is required")
		return 2
	}
	cfg, err := config.Load(*path)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	at := now.t
	if at.IsZero() {
		at = time.Now()
	}
	at = at.UTC()
	db, err := store.OpenShared(ctx, app.StateOf(cfg))
	if err != nil {
		fmt.Fprintf(stderr, "costbot silence: %v\n", err)
		return 1
	}
	defer db.Close()
	switch sub {
	case "add":
		err = silenceAdd(ctx, db, stdout, at, fs.Args(), start.t, end.t, *duration, *author, *comment)
	case "list":
		err = silenceList(ctx, db, stdout, at, *expired)
	case "expire":
		err = silenceExpire(ctx, db, stdout, at, fs.Args())
	}
	if err != nil {
		fmt.Fprintf(stderr, "costbot silence %s: %v\n", sub, err)
		return 1
	}
	return 0
}

func silenceAdd(ctx context.Context, db *store.DB, stdout io.Writer, now time.Time, args []string, start, end time.Time, d time.Duration, author, comment string) error {
	ms, err := alert.ParseMatchers(args...)
	if err != nil {
		return err
	}
	if start.IsZero() {
		start = now
	}
	switch {
	case !end.IsZero() && d != 0:
		return errors.New("give --duration or --end, not both")
	case end.IsZero() && d == 0:
		d = 2 * time.Hour
	}
	if end.IsZero() {
		end = start.Add(d)
	}
	s, err := alert.CheckSilence(alert.Silence{Matchers: ms, StartsAt: start, EndsAt: end, CreatedBy: author, Comment: comment}, now)
	if err != nil {
		return err
	}
	if s, err = db.AddSilence(ctx, s); err != nil {
		return err
	}
	fmt.Fprintln(stdout, s.ID)
	return nil
}

// silenceList prints the silences that have not ended (all with expired)
// like `amtool silence query`, with how many firing alerts each holds now.
func silenceList(ctx context.Context, db *store.DB, stdout io.Writer, now time.Time, expired bool) error {
	since := now
	if expired {
		since = time.Time{}
	}
	ss, err := db.Silences(ctx, since)
	if err != nil {
		return err
	}
	open, err := db.Alerts(ctx, nil)
	if err != nil {
		return err
	}
	writeSilences(stdout, ss, open, now)
	return nil
}

// writeSilences renders silences as a table; the slash command shares it.
func writeSilences(w io.Writer, ss []alert.Silence, open []alert.State, now time.Time) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tMatchers\tState\tStarts\tEnds\tCreated by\tComment\tSilenced")
	for _, s := range ss {
		n := 0
		for _, st := range open {
			if st.Status == alert.StatusFiring && s.State(now) == alert.SilenceActive && s.Matches(alert.Labels(st.Finding)) {
				n++
			}
		}
		ms := make([]string, len(s.Matchers))
		for i, m := range s.Matchers {
			ms[i] = m.String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\n", s.ID, strings.Join(ms, " "), s.State(now),
			s.StartsAt.Format(time.RFC3339), s.EndsAt.Format(time.RFC3339), s.CreatedBy, s.Comment, n)
	}
	tw.Flush()
}

func silenceExpire(ctx context.Context, db *store.DB, stdout io.Writer, now time.Time, ids []string) error {
	if len(ids) == 0 {
		return errors.New("no silence id given")
	}
	var errs []error
	for _, id := range ids {
		_, changed, err := db.ExpireSilence(ctx, id, now)
		switch {
		case err != nil:
			errs = append(errs, err)
		case changed:
			fmt.Fprintf(stdout, "expired %s\n", id)
		default:
			fmt.Fprintf(stdout, "%s had already expired\n", id)
		}
	}
	return errors.Join(errs...)
}
