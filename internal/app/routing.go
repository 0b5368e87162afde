package app

import (
	"context"
	"fmt"
	"time"

	"github.com/costbot/costbot/internal/alert"
	"github.com/costbot/costbot/internal/config"
	"github.com/costbot/costbot/internal/store"
)

// AlertOptions turns the config's alerts section, inhibit_rules, routes and
// time_intervals into the alert stage's options for the given notifiers
// (silences come from the store each cycle). Absent inhibit_rules mean
// alert.DefaultInhibitRules. cfg must be validated.
func AlertOptions(cfg *config.Config, notifiers []string) (alert.Options, error) {
	o := alert.Options{Notifiers: notifiers, RepeatInterval: cfg.Alerts.RepeatInterval, TimeIntervals: cfg.Intervals()}
	if cfg.InhibitRules == nil {
		o.InhibitRules = alert.DefaultInhibitRules()
	}
	for i, r := range cfg.InhibitRules {
		src, err := alert.ParseMatchers(r.SourceMatchers...)
		if err != nil {
			return o, fmt.Errorf("inhibit_rules[%d]: %w", i, err)
		}
		dst, err := alert.ParseMatchers(r.TargetMatchers...)
		if err != nil {
			return o, fmt.Errorf("inhibit_rules[%d]: %w", i, err)
		}
		o.InhibitRules = append(o.InhibitRules, alert.InhibitRule{SourceMatchers: src, TargetMatchers: dst, Equal: r.Equal})
	}
	for i, r := range cfg.Routes {
		ms, err := alert.ParseMatchers(r.Matchers...)
		if err != nil {
			return o, fmt.Errorf("routes[%d]: %w", i, err)
		}
		o.Routes = append(o.Routes, alert.Route{Matchers: ms, Notifiers: r.Notifiers, RepeatInterval: r.RepeatInterval,
			MuteTimeIntervals: r.MuteTimeIntervals, ActiveTimeIntervals: r.ActiveTimeIntervals, Continue: r.Continue})
	}
	if err := alert.CheckRoutes(o); err != nil {
		return o, err
	}
	return o, nil
}

// alertOptions are the options of a plan at now on db: the config's routing
// and the silences that have not ended.
func (a *App) alertOptions(ctx context.Context, db *store.DB, now time.Time) (alert.Options, error) {
	o, err := AlertOptions(a.cfg, a.notifiers)
	if err != nil {
		return o, fmt.Errorf("plan alerts: %w", err)
	}
	if o.Silences, err = db.Silences(ctx, now); err != nil {
		return o, fmt.Errorf("plan alerts: %w", err)
	}
	return o, nil
}

// logHeld logs, at Info, each firing message a silence, an inhibition rule
// or a time interval held this cycle.
func (a *App) logHeld(ctx context.Context, ds []alert.Decision) {
	for _, d := range ds {
		args := []any{"fingerprint", d.Fingerprint, "notifier", d.Notifier, "reason", string(d.Reason)}
		switch d.Reason {
		case alert.ReasonSilenced:
			args = append(args, "silences", d.SilencedBy)
		case alert.ReasonInhibited:
			args = append(args, "inhibited_by", d.InhibitedBy)
		case alert.ReasonMuted:
			args = append(args, "time_intervals", d.MutedBy)
		default:
			continue
		}
		a.log.InfoContext(ctx, "alert held", args...)
	}
}

// snooze is the Slack Snooze button: a silence on the alert st's identity
// labels (alert.SnoozeSilence) from at until until, by user. An expired or
// expiring silence releases the alert like any other.
func (x actions) snooze(ctx context.Context, st alert.State, user string, at, until time.Time) error {
	s, err := alert.SnoozeSilence(st, user, at, until)
	if err != nil {
		return err
	}
	if s, err = x.a.db.AddSilence(ctx, s); err != nil {
		return fmt.Errorf("snooze alert %q: %w", st.Fingerprint, err)
	}
	x.a.log.InfoContext(ctx, "alert snoozed", "fingerprint", st.Fingerprint, "silence", s.ID, "user", user, "ends_at", s.EndsAt)
	return nil
}
