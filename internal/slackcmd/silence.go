package slackcmd

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/slack-go/slack"

	"github.com/costbot/costbot/internal/alert"
)

// Silences stores silences; *store.DB implements it. The daemon reads them
// each cycle.
type Silences interface {
	AddSilence(ctx context.Context, s alert.Silence) (alert.Silence, error)
	Silences(ctx context.Context, endsAfter time.Time) ([]alert.Silence, error)
	ExpireSilence(ctx context.Context, id string, now time.Time) (alert.Silence, bool, error)
}

const silenceHelp = "• `/costbot silences` active and pending silences\n" +
	"• `/costbot silence add [duration] matcher... comment` e.g. `/costbot silence add 4h service=~\"R2.*\" account=production R2 migration` (default 2h; `d` for days)\n" +
	"• `/costbot silence expire ID` end a silence now\n" +
	"Matchers use Alertmanager's syntax on the labels kind, rule, severity, account, service, family, zone, threshold."

// writesSilences reports whether the subcommand named name changes or lists
// silences: it is answered from the store, never from the snapshot or its
// reply cache.
func writesSilences(name string) bool { return name == "silence" || name == "silences" }

// silenceCommand answers /costbot silence ... and /costbot silences from
// Options.Silences, turning an error into a short reply and a log line.
func (h *Handler) silenceCommand(ctx context.Context, sc slack.SlashCommand, now time.Time) reply {
	rep, err := h.silence(ctx, sc, now)
	if err != nil {
		var ue *userError
		msg := "Sorry, that failed. The error is in costbot's log."
		if errors.As(err, &ue) {
			msg = ue.msg
		}
		h.log.ErrorContext(ctx, "slash command failed", "subcommand", "silence", "text", truncate(sc.Text, 200), "user", sc.UserID, "channel", sc.ChannelID, "error", err)
		return reply{ResponseType: slack.ResponseTypeEphemeral, Text: msg, Blocks: []slack.Block{section(":warning: " + msg)}}
	}
	return rep
}

func (h *Handler) silence(ctx context.Context, sc slack.SlashCommand, now time.Time) (reply, error) {
	words := silenceWords(sc.Text)
	if h.opts.Silences == nil {
		return reply{}, &userError{msg: "Silences are not available here.", err: errors.New("no Silences configured")}
	}
	sub := "list"
	if len(words) > 0 && words[0] == "silence" {
		words = words[1:]
		if len(words) == 0 {
			return ephemeral(silenceHelp), nil
		}
		sub, words = strings.ToLower(words[0]), words[1:]
	} else {
		words = words[1:]
	}
	switch sub {
	case "list", "ls", "query":
		ss, err := h.opts.Silences.Silences(ctx, now)
		if err != nil {
			return reply{}, err
		}
		return ephemeral(renderSilences(ss, now)), nil
	case "add":
		s, err := parseSilence(words, sc.UserID, now)
		if err != nil {
			return reply{}, err
		}
		if s, err = h.opts.Silences.AddSilence(ctx, s); err != nil {
			return reply{}, err
		}
		h.log.InfoContext(ctx, "silence added", "silence", s.ID, "matchers", s.Matchers.String(), "user", sc.UserID, "ends_at", s.EndsAt)
		r := ephemeral(fmt.Sprintf(":mute: <@%s> silenced `%s` until %s: %s (silence `%s`)", sc.UserID, s.Matchers, stamp(s.EndsAt), s.Comment, s.ID))
		r.ResponseType = slack.ResponseTypeInChannel
		return r, nil
	case "expire", "rm":
		if len(words) != 1 {
			return reply{}, &userError{msg: "Give the silence's id: `/costbot silence expire ID` (ids are in `/costbot silences`)."}
		}
		s, changed, err := h.opts.Silences.ExpireSilence(ctx, words[0], now)
		if err != nil {
			return reply{}, &userError{msg: fmt.Sprintf("No silence `%s`.", truncate(words[0], 40)), err: err}
		}
		if !changed {
			return ephemeral(fmt.Sprintf("Silence `%s` had already ended.", s.ID)), nil
		}
		h.log.InfoContext(ctx, "silence expired", "silence", s.ID, "user", sc.UserID)
		r := ephemeral(fmt.Sprintf(":loud_sound: <@%s> expired silence `%s` (`%s`)", sc.UserID, s.ID, s.Matchers))
		r.ResponseType = slack.ResponseTypeInChannel
		return r, nil
	}
	return ephemeral("Unknown `silence` subcommand.\n" + silenceHelp), nil
}

func ephemeral(text string) reply {
	return reply{ResponseType: slack.ResponseTypeEphemeral, Text: text, Blocks: []slack.Block{section(text)}}
}

// parseSilence reads `[duration] matcher... comment`: a first word such as
// 4h, 90m or 2d is the duration (default 2h), words with a matcher operator
// are matchers, and the rest is the comment.
func parseSilence(words []string, user string, now time.Time) (alert.Silence, error) {
	d := 2 * time.Hour
	if len(words) > 0 {
		if v, ok := parseDuration(words[0]); ok {
			d, words = v, words[1:]
		}
	}
	var ms, comment []string
	for _, w := range words {
		if strings.ContainsAny(w, "=~!") && len(comment) == 0 {
			ms = append(ms, w)
		} else {
			comment = append(comment, w)
		}
	}
	matchers, err := alert.ParseMatchers(ms...)
	if err != nil {
		return alert.Silence{}, &userError{msg: "Bad matcher: " + truncate(err.Error(), 200), err: err}
	}
	s, err := alert.CheckSilence(alert.Silence{Matchers: matchers, EndsAt: now.Add(d), CreatedBy: user,
		Comment: strings.Join(comment, " ")}, now)
	if err != nil {
		return s, &userError{msg: "Cannot add that silence: " + truncate(strings.TrimPrefix(err.Error(), "invalid silence: "), 300) +
			". Usage: `/costbot silence add 4h service=~\"R2.*\" account=production why`", err: err}
	}
	return s, nil
}

func parseDuration(s string) (time.Duration, bool) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		if v, err := strconv.Atoi(n); err == nil && v > 0 {
			return time.Duration(v) * 24 * time.Hour, true
		}
		return 0, false
	}
	d, err := time.ParseDuration(s)
	return d, err == nil && d > 0
}

// silenceWords splits the command text on spaces outside double quotes,
// after turning Slack's curly quotes into straight ones; quotes stay in the
// words (matchers need them).
func silenceWords(text string) []string {
	text = strings.NewReplacer("\u201c", `"`, "\u201d", `"`, "\u2018", "'", "\u2019", "'").Replace(text)
	var out []string
	var b strings.Builder
	quoted, escaped := false, false
	for _, r := range text {
		switch {
		case escaped:
			escaped = false
		case r == '\\':
			escaped = true
		case r == '"':
			quoted = !quoted
		case unicode.IsSpace(r) && !quoted:
			if b.Len() > 0 {
				out = append(out, b.String())
				b.Reset()
			}
			continue
		}
		b.WriteRune(r)
	}
	if b.Len() > 0 {
		out = append(out, b.String())
	}
	if len(out) > 0 {
		out[0] = strings.ToLower(out[0])
	}
	return out
}

// renderSilences lists silences, one line each.
func renderSilences(ss []alert.Silence, now time.Time) string {
	if len(ss) == 0 {
		return "No active or pending silences. Add one with `/costbot silence add 4h account=production why`."
	}
	var b strings.Builder
	b.WriteString("*Silences*\n")
	for _, s := range ss {
		state := "until " + stamp(s.EndsAt)
		if s.State(now) == alert.SilencePending {
			state = "from " + stamp(s.StartsAt) + " until " + stamp(s.EndsAt)
		}
		fmt.Fprintf(&b, "• `%s` `%s` %s, by <@%s>: %s\n", s.ID, s.Matchers, state, s.CreatedBy, s.Comment)
	}
	return strings.TrimRight(b.String(), "\n")
}
