package app

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"

	"github.com/costbot/costbot/internal/config"
	"github.com/costbot/costbot/internal/rules"
)

// Reload re-reads the config file the App was started with and the rule
// files it names (the daemon calls it on SIGHUP). Everything is checked as
// at startup (the config, the secrets a live run needs, every rule file, and
// that each notifier a rule names is running) before anything changes: on
// any problem the running rules and settings stay as they are and the
// error lists every problem with its file:line:col.
//
// On success the new rules, the alerts section, time_intervals,
// inhibit_rules and routes take effect from the next cycle. Other sections (cloudflare, slack, notifiers, state, http,
// schedule) are read at startup only; when they differ, Reload keeps the
// running values and logs at Warn which sections need a restart.
func (a *App) Reload(ctx context.Context) error {
	if a.cfg.File == "" {
		return errors.New("reload: the config was not loaded from a file")
	}
	cfg, err := config.Load(a.cfg.File)
	if err == nil {
		err = cfg.CheckSecrets()
	}
	if err != nil {
		return fmt.Errorf("reload config: %w", err)
	}
	set, err := rules.LoadDir(cfg.Path(cfg.Rules))
	if err == nil {
		err = CheckNotifiers(set, a.notifiers, a.cfg.File)
	}
	if err != nil {
		return fmt.Errorf("reload rules: %w", err)
	}
	if _, err := AlertOptions(cfg, a.notifiers); err != nil {
		return fmt.Errorf("reload config: %w", err)
	}
	restart := restartSections(a.cfg, cfg)

	a.jobs.Lock() // the next cycle sees the new rules whole
	a.rules = set
	a.cfg.Alerts = cfg.Alerts // read only by jobs, under a.jobs
	a.cfg.TimeIntervals, a.cfg.InhibitRules, a.cfg.Routes = cfg.TimeIntervals, cfg.InhibitRules, cfg.Routes
	a.jobs.Unlock()

	if len(restart) > 0 {
		a.log.WarnContext(ctx, "config changes need a restart", "file", a.cfg.File, "sections", restart)
	}
	a.log.InfoContext(ctx, "reloaded", "file", a.cfg.File, "rules", set.Len(), "rules_dir", cfg.Path(cfg.Rules))
	return nil
}

// CheckNotifiers reports each rule's reference to a notifier not in names,
// at the rule's position; configFile names where notifiers are defined.
func CheckNotifiers(set *rules.Set, names []string, configFile string) error {
	var es rules.Errors
	for _, r := range set.Refs() {
		if !slices.Contains(names, r.Notifier) {
			es = append(es, &rules.Error{File: r.Pos.File, Line: r.Pos.Line, Col: r.Pos.Col, Rule: r.Rule, Field: "notify",
				Msg: fmt.Sprintf("no notifier named %q in %s", r.Notifier, configFile)})
		}
	}
	if len(es) > 0 {
		return es
	}
	return nil
}

// restartSections names the top-level config sections that differ between
// the running config and a reloaded one and that only a restart applies.
// It compares values and never prints them: sections hold secrets.
func restartSections(old, cur *config.Config) []string {
	var out []string
	for _, s := range []struct {
		name     string
		old, cur any
	}{
		{"cloudflare", old.Cloudflare, cur.Cloudflare},
		{"slack", old.Slack, cur.Slack},
		{"notifiers", old.Notifiers, cur.Notifiers},
		{"state", old.Path(old.State), cur.Path(cur.State)},
		{"http", old.HTTP, cur.HTTP},
		{"schedule", old.Schedule, cur.Schedule},
	} {
		if !reflect.DeepEqual(s.old, s.cur) {
			out = append(out, s.name)
		}
	}
	return out
}
