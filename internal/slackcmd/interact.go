package slackcmd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/slack-go/slack"
)

// Button action ids (CONTRIBUTING: notify/slack renders them, value = fingerprint).
const (
	ActionAck       = "costbot_ack"
	ActionSnooze24h = "costbot_snooze_24h"
	ActionSnooze7d  = "costbot_snooze_7d"
	ActionExpected  = "costbot_expected"
)

// clickAction maps a block action to an Action; ok is false for foreign buttons.
func clickAction(cb slack.InteractionCallback, ba *slack.BlockAction, now time.Time) (Action, bool) {
	a := Action{
		Fingerprint: ba.Value,
		User:        cb.User.ID,
		UserName:    cb.User.Name,
		At:          now,
		Channel:     cb.Container.ChannelID,
		MessageTS:   cb.Container.MessageTs,
	}
	if a.UserName == "" {
		a.UserName = cb.User.Username
	}
	if a.Channel == "" {
		a.Channel = cb.Channel.ID
	}
	if a.MessageTS == "" {
		a.MessageTS = cb.Message.Timestamp
	}
	switch ba.ActionID {
	case ActionAck:
		a.Kind = KindAck
	case ActionSnooze24h:
		a.Kind, a.Until = KindSnooze, now.Add(24*time.Hour)
	case ActionSnooze7d:
		a.Kind, a.Until = KindSnooze, now.Add(7*24*time.Hour)
	case ActionExpected:
		a.Kind = KindExpected
	default:
		return Action{}, false
	}
	return a, a.Fingerprint != ""
}

// doneLine is the context line that replaces the buttons after a click.
func doneLine(a Action) string {
	who := "<@" + a.User + ">"
	switch a.Kind {
	case KindSnooze:
		return fmt.Sprintf(":zzz: Snoozed by %s until %s", who, stamp(a.Until))
	case KindExpected:
		return fmt.Sprintf(":white_check_mark: Marked expected by %s on %s", who, stamp(a.At))
	}
	return fmt.Sprintf(":eyes: Acknowledged by %s on %s", who, stamp(a.At))
}

// interaction handles a parsed interaction payload. It returns at once; the
// Apply call and the message update run in the background (see Close).
func (h *Handler) interaction(cb slack.InteractionCallback) {
	if cb.Type != slack.InteractionTypeBlockActions {
		h.log.Debug("interaction ignored", "type", cb.Type)
		return
	}
	now := h.now()
	for _, ba := range cb.ActionCallback.BlockActions {
		a, ok := clickAction(cb, ba, now)
		if !ok {
			continue
		}
		h.background(func(ctx context.Context) { h.applyClick(ctx, a, cb) })
		return
	}
	h.log.Debug("block action ignored: no costbot button")
}

// applyClick applies a and then rewrites the alert message: the buttons
// become a line saying who did what.
func (h *Handler) applyClick(ctx context.Context, a Action, cb slack.InteractionCallback) {
	var err error
	if h.opts.Actions == nil {
		err = errNoActions
	} else {
		err = h.opts.Actions.Apply(ctx, a)
	}
	if err != nil {
		h.log.ErrorContext(ctx, "button action failed", "kind", a.Kind, "fingerprint", a.Fingerprint, "user", a.User, "err", err)
		msg := reply{ResponseType: slack.ResponseTypeEphemeral, Text: fmt.Sprintf(":warning: Could not %s this alert; the error is in costbot's log.", a.Kind)}
		if perr := h.postResponseURL(ctx, cb.ResponseURL, msg); perr != nil {
			h.log.ErrorContext(ctx, "reporting button failure failed", "err", perr)
		}
		return
	}
	h.log.InfoContext(ctx, "button action applied", "kind", a.Kind, "fingerprint", a.Fingerprint, "user", a.User, "until", a.Until)
	blocks := replaceButtons(cb.Message.Blocks.BlockSet, doneLine(a))
	text := cb.Message.Text
	if text == "" {
		text = doneLine(a)
	}
	if h.opts.Slack != nil && a.Channel != "" && a.MessageTS != "" && !cb.Container.IsEphemeral {
		_, _, _, err := h.opts.Slack.UpdateMessageContext(ctx, a.Channel, a.MessageTS, slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
		if err == nil {
			return
		}
		h.log.WarnContext(ctx, "chat.update failed; using response_url", "channel", a.Channel, "ts", a.MessageTS, "err", err)
	}
	if err := h.postResponseURL(ctx, cb.ResponseURL, reply{ReplaceOriginal: true, Text: text, Blocks: blocks}); err != nil {
		h.log.ErrorContext(ctx, "updating alert message failed", "fingerprint", a.Fingerprint, "err", err)
	}
}

// replaceButtons returns blocks with every actions block holding a costbot
// button replaced by a context line; the line is appended when there is none.
func replaceButtons(blocks []slack.Block, line string) []slack.Block {
	out := make([]slack.Block, 0, len(blocks)+1)
	replaced := false
	for _, b := range blocks {
		if ab, ok := b.(*slack.ActionBlock); ok && hasCostbotButton(ab) {
			if !replaced {
				out = append(out, slack.NewContextBlock("costbot_done", slack.NewTextBlockObject(slack.MarkdownType, line, false, false)))
				replaced = true
			}
			continue
		}
		out = append(out, b)
	}
	if !replaced {
		out = append(out, slack.NewContextBlock("costbot_done", slack.NewTextBlockObject(slack.MarkdownType, line, false, false)))
	}
	return out
}

func hasCostbotButton(ab *slack.ActionBlock) bool {
	if ab.Elements == nil {
		return false
	}
	for _, e := range ab.Elements.ElementSet {
		if bt, ok := e.(*slack.ButtonBlockElement); ok && strings.HasPrefix(bt.ActionID, "costbot_") {
			return true
		}
	}
	return false
}

// errRefused marks a response_url that postResponseURL will not call.
var errRefused = errors.New("refused")

// checkResponseURL parses raw and accepts it only as an https URL on one of
// the allowed hosts (Options.ResponseURLHosts). The URL carries a one-off
// token, so errors name the host at most, never the path.
func (h *Handler) checkResponseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		// The parse error would quote the URL; say only what is wrong.
		return nil, fmt.Errorf("%w: not a valid absolute url", errRefused)
	}
	if u.Scheme != "https" {
		return nil, fmt.Errorf("%w: host %q: scheme %q, want https", errRefused, u.Host, u.Scheme)
	}
	for _, host := range h.hosts {
		if strings.EqualFold(u.Host, host) {
			return u, nil
		}
	}
	return nil, fmt.Errorf("%w: host %q is not allowed (allowed: %s)", errRefused, u.Host, strings.Join(h.hosts, ", "))
}

// postResponseURL POSTs msg as JSON to Slack's response_url, which must
// pass checkResponseURL; a refused URL is never requested.
func (h *Handler) postResponseURL(ctx context.Context, raw string, msg reply) error {
	u, err := h.checkResponseURL(raw)
	if err != nil {
		return fmt.Errorf("post to response_url: %w", err)
	}
	body, err := json.Marshal(msg)
	if err != nil {
		return fmt.Errorf("encode response_url message: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, raw, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("post to response_url on %s: build request", u.Host)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := h.client.Do(req)
	if err != nil {
		// The URL carries a one-off token; keep it out of the error.
		return fmt.Errorf("post to response_url on %s: %w", u.Host, unwrapURLError(err))
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("post to response_url on %s: HTTP %d", u.Host, resp.StatusCode)
	}
	return nil
}

func unwrapURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}
