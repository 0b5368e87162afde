package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/costbot/costbot/internal/config"
	"github.com/costbot/costbot/internal/cost"
	"github.com/costbot/costbot/internal/rules"
	"github.com/costbot/costbot/internal/store"
)

// HistorySource says where a backtest reads its usage history.
type HistorySource string

const (
	// HistoryAuto reads the state file when it holds usage for the range,
	// else fetches from Cloudflare.
	HistoryAuto HistorySource = "auto"
	// HistoryState reads a copy of the configured state file.
	HistoryState HistorySource = "state"
	// HistoryCloudflare fetches the history from the billing API.
	HistoryCloudflare HistorySource = "cloudflare"
)

// BacktestOptions configures Backtest.
type BacktestOptions struct {
	Config *config.Config
	Rules  *rules.Set
	// From and To are the first and last charge day judged (UTC days); the
	// cycle for day d runs at EvalInstant(d).
	From, To time.Time
	Source   HistorySource
	Progress io.Writer
	Logger   *slog.Logger
}

// Backtest replays the live cycle once per day over [From, To] on history
// read from the state (never written: a copy is read) or fetched from
// Cloudflare, and returns the alert events it would have sent. The days
// run in order, each cycle on the state the one before left, and each
// cycle judges its anomaly series on a pool of GOMAXPROCS workers (see
// rules.Input.Workers); the events do not depend on the pool size.
func Backtest(ctx context.Context, o BacktestOptions) ([]Event, error) {
	from, to := cost.Day(o.From), cost.Day(o.To)
	if to.Before(from) {
		return nil, fmt.Errorf("backtest: --to %s is before --from %s", to.Format(time.DateOnly), from.Format(time.DateOnly))
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// The first replayed cycle loads history_days before it, as a fresh
	// install would.
	rng := cost.Period{Start: from.AddDate(0, 0, -o.Config.Cloudflare.HistoryDays), End: to.AddDate(0, 0, 1)}
	usage, cards, err := loadHistory(ctx, o.Config, o.Source, rng, o.Progress, log)
	if err != nil {
		return nil, err
	}
	var instants []time.Time
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		instants = append(instants, EvalInstant(d))
	}
	return Replay(ctx, ReplayOptions{Config: o.Config, Rules: o.Rules, Usage: usage, Cards: cards, Instants: instants,
		Progress: o.Progress, Logger: log})
}

// loadHistory reads the usage of rng for every configured account.
func loadHistory(ctx context.Context, cfg *config.Config, src HistorySource, rng cost.Period, progress io.Writer, log *slog.Logger) ([]cost.Usage, []cost.Card, error) {
	if src == "" {
		src = HistoryAuto
	}
	switch src {
	case HistoryState, HistoryAuto:
		usage, cards, err := stateHistory(ctx, StateOf(cfg), rng)
		switch {
		case err == nil && (len(usage) > 0 || src == HistoryState):
			return usage, cards, nil
		case err != nil && src == HistoryState:
			return nil, nil, err
		case err != nil && !errors.Is(err, os.ErrNotExist):
			log.Warn("state unreadable; fetching history from Cloudflare", "error", err)
		}
		fallthrough
	case HistoryCloudflare:
		return cloudflareHistory(ctx, cfg, rng, progress, log)
	}
	return nil, nil, fmt.Errorf("backtest: unknown history source %q (want auto, state or cloudflare)", src)
}

// stateHistory reads a copy of the state (a SQLite file, or PostgreSQL
// copied into one), so the real one is never opened for writing (opening
// runs migrations).
func stateHistory(ctx context.Context, path string, rng cost.Period) ([]cost.Usage, []cost.Card, error) {
	if _, err := os.Stat(path); err != nil && !store.IsPostgres(path) {
		return nil, nil, fmt.Errorf("read state %q: %w", path, err)
	}
	tmp, cleanup, err := CopyState(ctx, path)
	if err != nil {
		return nil, nil, err
	}
	defer cleanup()
	db, err := store.Open(ctx, tmp)
	if err != nil {
		return nil, nil, err
	}
	defer db.Close()
	usage, err := db.Usage(ctx, rng.Start, rng.End)
	if err != nil {
		return nil, nil, err
	}
	cards, err := db.Cards(ctx)
	if err != nil {
		return nil, nil, err
	}
	return usage, cards, nil
}

func cloudflareHistory(ctx context.Context, cfg *config.Config, rng cost.Period, progress io.Writer, log *slog.Logger) ([]cost.Usage, []cost.Card, error) {
	cf, err := newBilling(cfg, &http.Client{Timeout: 30 * time.Second}, time.Now, log)
	if err != nil {
		return nil, nil, err
	}
	var usage []cost.Usage
	var cards []cost.Card
	for i, acc := range cfg.Cloudflare.Accounts {
		src, err := sourceOf(acc)
		if err != nil {
			return nil, nil, err
		}
		snap, err := cf.Fetch(ctx, cost.Account{ID: acc.ID, Name: acc.Name}, src, rng)
		if err != nil {
			return nil, nil, fmt.Errorf("fetch history of account %q: %w", acc.Name, err)
		}
		for _, u := range snap.Usage {
			if u.Account == "" {
				u.Account = acc.ID
			}
			usage = append(usage, u)
		}
		if snap.Card != nil {
			c := *snap.Card
			c.Account = acc.ID
			cards = append(cards, c)
		}
		if progress != nil {
			fmt.Fprintf(progress, "fetched account %d of %d (%s): %d rows\n", i+1, len(cfg.Cloudflare.Accounts), acc.Name, len(snap.Usage))
		}
	}
	return usage, cards, nil
}

// WriteEventsJSON writes one JSON object per line and event.
func WriteEventsJSON(w io.Writer, events []Event) error {
	enc := json.NewEncoder(w)
	for _, e := range events {
		if err := enc.Encode(e); err != nil {
			return err
		}
	}
	return nil
}

// WriteEventsText writes, per rule, how many alerts it would have sent and
// on which days, with the first title: how noisy each rule is.
func WriteEventsText(w io.Writer, events []Event, from, to time.Time, set *rules.Set) error {
	type ruleSum struct {
		firing, resolved int
		days             []string
		first            string
	}
	sums := map[string]*ruleSum{}
	var names []string
	if set != nil {
		names = set.Names()
	}
	for _, n := range names {
		sums[n] = &ruleSum{}
	}
	for _, e := range events {
		s := sums[e.Rule]
		if s == nil {
			s = &ruleSum{}
			sums[e.Rule] = s
			names = append(names, e.Rule)
		}
		if e.Status == cost.StatusResolved.String() {
			s.resolved++
			continue
		}
		s.firing++
		if s.first == "" {
			s.first = e.Title
		}
		day := e.At.Format(time.DateOnly)
		if len(s.days) == 0 || s.days[len(s.days)-1] != day {
			s.days = append(s.days, day)
		}
	}
	sort.SliceStable(names, func(i, j int) bool { return sums[names[i]].firing > sums[names[j]].firing })
	days := int(cost.Day(to).Sub(cost.Day(from))/(24*time.Hour)) + 1
	var b strings.Builder
	fmt.Fprintf(&b, "backtest %s .. %s (%d days): %d alert messages\n", cost.Day(from).Format(time.DateOnly), cost.Day(to).Format(time.DateOnly), days, len(events))
	for _, n := range names {
		s := sums[n]
		fmt.Fprintf(&b, "\nrule %q: %d alerts, %d resolved", n, s.firing, s.resolved)
		if s.firing == 0 {
			b.WriteString("\n")
			continue
		}
		fmt.Fprintf(&b, ", sent on %s\n  first: %s\n", strings.Join(s.days, ", "), s.first)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
