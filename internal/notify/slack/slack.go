// Package slack is the Slack notifier: it posts alerts to a channel with
// chat.postMessage as Block Kit plus a plain-text fallback, threads
// escalations and resolutions under the first alert, and keeps that root
// message current with chat.update. Optionally it uploads the alert's chart
// as a PNG into the alert's thread.
package slack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/costbot/costbot/internal/chart"
	"github.com/costbot/costbot/internal/cost"
	"github.com/costbot/costbot/internal/httpx"
	"github.com/costbot/costbot/internal/notify"
)

// Options configures a Slack Notifier. Give either Client or Token (with
// optional APIURL and HTTPClient).
type Options struct {
	Name    string // notifier name; default "slack"
	Channel string // channel ID (not a name): chat.update requires IDs
	// Client is a ready slack-go client; when nil one is built from Token,
	// APIURL (default slack-go's https://slack.com/api/) and HTTPClient. A
	// ready client keeps its own redirect policy: build it on an HTTP client
	// from httpx.NewClient or httpx.Secure.
	Client *slackapi.Client
	Token  string // bot token xoxb-…; never logged
	APIURL string // Web API base URL ending in "/"; tests point it at a fake
	// HTTPClient sends the requests (default: 30 s timeout). New uses a
	// copy with httpx.CheckRedirect, so a redirect to another scheme, host
	// or port fails the send (permanently) instead of carrying the token.
	HTTPClient *http.Client
	// Now stamps root-message updates (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger // default: discard
	// UploadCharts, when true, renders an alert's Chart as a PNG (package
	// chart) after the message is posted and uploads it into the alert's
	// thread (files.getUploadURLExternal, upload, files.completeUploadExternal).
	// It needs the bot scope files:write. A failed upload is logged and
	// never fails the send; a token without the scope is logged once and
	// uploads stop for this Notifier. Default false.
	UploadCharts bool
}

// Notifier posts alerts to one Slack channel. It is safe for concurrent use.
type Notifier struct {
	name    string
	channel string
	client  *slackapi.Client
	now     func() time.Time
	log     *slog.Logger
	// uploads is true while charts are to be uploaded: set from
	// Options.UploadCharts, cleared for good when the token lacks files:write.
	uploads atomic.Bool
}

var _ notify.Notifier = (*Notifier)(nil)

// New validates opts and returns a Notifier.
func New(opts Options) (*Notifier, error) {
	if opts.Name == "" {
		opts.Name = "slack"
	}
	if opts.Channel == "" {
		return nil, fmt.Errorf("slack notifier %q: no channel", opts.Name)
	}
	client := opts.Client
	if client == nil {
		if opts.Token == "" {
			return nil, fmt.Errorf("slack notifier %q: no client or token", opts.Name)
		}
		var copts []slackapi.Option
		if opts.APIURL != "" {
			if u, err := url.Parse(opts.APIURL); err != nil || u.Host == "" {
				return nil, fmt.Errorf("slack notifier %q: api url must be absolute", opts.Name)
			}
			copts = append(copts, slackapi.OptionAPIURL(opts.APIURL))
		}
		// The token travels in every form body (and the chart upload's
		// header): a 307 to another origin must not re-post it there.
		hc := httpx.Secure(opts.HTTPClient, 30*time.Second)
		copts = append(copts, slackapi.OptionHTTPClient(hc))
		client = slackapi.New(opts.Token, copts...)
	}
	n := &Notifier{name: opts.Name, channel: opts.Channel, client: client, now: opts.Now, log: opts.Logger}
	if n.now == nil {
		n.now = time.Now
	}
	if n.log == nil {
		n.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	n.uploads.Store(opts.UploadCharts)
	return n, nil
}

// Name returns the notifier name.
func (n *Notifier) Name() string { return n.name }

// Notify posts a and returns the posted message (channel ID and ts). A
// send with an id (notify.DeliveryOf) carries it in the message metadata
// (Metadata); when the send is unsure (an earlier attempt may have gone
// out) Notify first looks for that id in the channel (findPosted) and, when
// found, returns that message instead of posting again. When
// a.Thread is set (and names this notifier or none) the alert is posted as a reply in that thread (broadcast
// to the channel when it escalates to critical), then the thread's root
// message is updated to show the current state; a failed update is logged,
// not returned. With Options.UploadCharts the chart is then uploaded into
// the alert's thread; a failed upload is logged, not returned.
func (n *Notifier) Notify(ctx context.Context, a cost.Alert) (*cost.MessageRef, error) {
	text, blocks := Render(a)
	channel := n.channel
	var opts []slackapi.MsgOption
	thread := a.Thread
	if thread != nil && thread.TS != "" && (thread.Notifier == "" || thread.Notifier == n.name) {
		if thread.Channel != "" {
			channel = thread.Channel // a reply must go where its parent is
		}
		opts = append(opts, slackapi.MsgOptionTS(thread.TS))
		if a.Reason == cost.ReasonEscalated && a.Severity == cost.SeverityCritical && a.Status == cost.StatusFiring {
			opts = append(opts, slackapi.MsgOptionBroadcast())
		}
	} else {
		thread = nil
	}
	if d, ok := notify.DeliveryOf(ctx); ok {
		opts = append(opts, slackapi.MsgOptionMetadata(Metadata(d.ID, a.Fingerprint)))
		if d.Unsure {
			threadTS := ""
			if thread != nil {
				threadTS = thread.TS
			}
			if ts, found := n.findPosted(ctx, channel, threadTS, d.ID); found {
				n.log.InfoContext(ctx, "message already in the channel; not posting again", "notifier", n.name,
					"fingerprint", a.Fingerprint, "delivery", d.ID, "channel", channel, "ts", ts)
				if thread != nil {
					n.updateRoot(ctx, a, thread.Channel, thread.TS)
				}
				return &cost.MessageRef{Notifier: n.name, Channel: channel, TS: ts}, nil
			}
		}
	}
	ch, ts, err := n.post(ctx, channel, text, blocks, opts)
	if err != nil {
		return nil, err
	}
	if thread != nil {
		n.updateRoot(ctx, a, thread.Channel, thread.TS)
	}
	if a.Chart != nil && n.uploads.Load() {
		root := ts // the alert's own thread, or the thread it replied in
		if thread != nil {
			root = thread.TS
		}
		n.uploadChart(ctx, a, ch, root)
	}
	return &cost.MessageRef{Notifier: n.name, Channel: ch, TS: ts}, nil
}

// MetadataEventType is the event_type of the message metadata every alert
// carries: its payload holds "delivery_id" (the outbox row, the same on
// every attempt) and "fingerprint".
const MetadataEventType = "costbot_alert"

// historyLimit is how many recent messages findPosted reads: a re-send
// follows its lost attempt within a cycle or a restart.
const historyLimit = 200

// Metadata is the message metadata of delivery id of the alert fp.
func Metadata(id, fp string) slackapi.SlackMetadata {
	return slackapi.SlackMetadata{EventType: MetadataEventType,
		EventPayload: map[string]any{"delivery_id": id, "fingerprint": fp}}
}

// findPosted looks for delivery id among the channel's recent messages
// (conversations.history), or the thread's replies when threadTS is set
// (conversations.replies), both with include_all_metadata, and returns the
// message's ts. A failed look-up is logged and reports not found: the
// message is then posted, at worst a second time.
func (n *Notifier) findPosted(ctx context.Context, channel, threadTS, id string) (string, bool) {
	var (
		msgs []slackapi.Message
		err  error
	)
	if threadTS != "" {
		msgs, _, _, err = n.client.GetConversationRepliesContext(ctx, &slackapi.GetConversationRepliesParameters{
			ChannelID: channel, Timestamp: threadTS, Limit: historyLimit, IncludeAllMetadata: true})
	} else {
		var res *slackapi.GetConversationHistoryResponse
		res, err = n.client.GetConversationHistoryContext(ctx, &slackapi.GetConversationHistoryParameters{
			ChannelID: channel, Limit: historyLimit, IncludeAllMetadata: true})
		if res != nil {
			msgs = res.Messages
		}
	}
	if err != nil {
		n.log.WarnContext(ctx, "look for an earlier send in the channel failed; posting", "notifier", n.name,
			"delivery", id, "channel", channel, "error", err)
		return "", false
	}
	for _, m := range msgs {
		if m.Metadata.EventType == MetadataEventType && m.Metadata.EventPayload["delivery_id"] == id {
			return m.Timestamp, true
		}
	}
	return "", false
}

// scopeCodes are the upload errors that mean the token may not upload files
// at all, so retrying on the next alert is pointless.
var scopeCodes = map[string]bool{
	"missing_scope":          true,
	"not_allowed_token_type": true,
}

// uploadChart renders a's chart and uploads it into the thread at ts in
// channel. Failures are logged, never returned: the alert is already posted.
func (n *Notifier) uploadChart(ctx context.Context, a cost.Alert, channel, ts string) {
	img, err := chart.PNG(a, chart.DefaultOptions())
	if errors.Is(err, chart.ErrNoData) {
		return
	}
	if err != nil {
		n.log.WarnContext(ctx, "render chart failed", "notifier", n.name, "fingerprint", a.Fingerprint, "error", err)
		return
	}
	title := oneLine(a.Chart.Title)
	if title == "" {
		title = oneLine(a.Title)
	}
	title = truncate(title, 200)
	_, err = n.client.UploadFileContext(ctx, slackapi.UploadFileParameters{
		Filename:        chartFilename(a.Fingerprint),
		FileSize:        len(img),
		Reader:          bytes.NewReader(img),
		Title:           title,
		AltTxt:          truncate("Chart: "+title, 1000),
		Channel:         channel,
		ThreadTimestamp: ts,
	})
	if err == nil {
		return
	}
	if code := apiCode(err); scopeCodes[code] {
		if n.uploads.CompareAndSwap(true, false) {
			n.log.WarnContext(ctx, "chart uploads disabled: the bot token needs the files:write scope",
				"notifier", n.name, "code", code, "error", err)
		}
		return
	}
	n.log.WarnContext(ctx, "upload chart failed", "notifier", n.name, "fingerprint", a.Fingerprint,
		"channel", channel, "ts", ts, "error", err)
}

// chartFilename is "costbot-<fingerprint>.png" with the fingerprint limited
// to file-name-safe characters.
func chartFilename(fp string) string {
	safe := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return -1
	}, fp)
	if len(safe) > 64 {
		safe = safe[:64]
	}
	if safe == "" {
		return "costbot-chart.png"
	}
	return "costbot-" + safe + ".png"
}

func (n *Notifier) post(ctx context.Context, channel, text string, blocks []slackapi.Block, opts []slackapi.MsgOption) (string, string, error) {
	send := func(blocks []slackapi.Block) (string, string, error) {
		all := append([]slackapi.MsgOption{
			slackapi.MsgOptionText(text, false),
			slackapi.MsgOptionBlocks(blocks...),
		}, opts...)
		return n.client.PostMessageContext(ctx, channel, all...)
	}
	ch, ts, err := send(blocks)
	if err != nil && apiCode(err) == "invalid_blocks" {
		// Native charts are new; a workspace that rejects them still gets
		// the alert, without the chart.
		if rest, cut := withoutChart(blocks); cut {
			n.log.WarnContext(ctx, "slack rejected blocks, retrying without chart", "notifier", n.name, "error", err)
			ch, ts, err = send(rest)
		}
	}
	if err != nil {
		return "", "", classify(fmt.Errorf("post to channel %s: %w", channel, err))
	}
	return ch, ts, nil
}

func (n *Notifier) updateRoot(ctx context.Context, a cost.Alert, channel, ts string) {
	if channel == "" {
		channel = n.channel
	}
	text, blocks := RenderRoot(a, n.now())
	_, _, _, err := n.client.UpdateMessageContext(ctx, channel, ts,
		slackapi.MsgOptionText(text, false), slackapi.MsgOptionBlocks(blocks...))
	if err != nil {
		n.log.WarnContext(ctx, "update thread root failed", "notifier", n.name,
			"fingerprint", a.Fingerprint, "channel", channel, "ts", ts, "error", err)
	}
}

func withoutChart(blocks []slackapi.Block) ([]slackapi.Block, bool) {
	out := make([]slackapi.Block, 0, len(blocks))
	cut := false
	for _, b := range blocks {
		if b.BlockType() == slackapi.MBTDataVisualization {
			cut = true
			continue
		}
		out = append(out, b)
	}
	return out, cut
}

// transientCodes are Web API error codes worth retrying.
var transientCodes = map[string]bool{
	"ratelimited":         true,
	"rate_limited":        true,
	"internal_error":      true,
	"fatal_error":         true,
	"service_unavailable": true,
	"request_timeout":     true,
}

func apiCode(err error) string {
	if e, ok := errors.AsType[slackapi.SlackErrorResponse](err); ok {
		return e.Err
	}
	return ""
}

// classify maps slack-go errors onto notify's retry classification: a 429
// (*slackapi.RateLimitedError) is retryable after its RetryAfter, HTTP 5xx
// is retryable, {"ok":false} errors are permanent unless transient, and
// transport errors are retryable. Context errors pass through unchanged.
func classify(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if errors.Is(err, httpx.ErrRedirect) {
		return notify.Permanent(err) // the next try gets the same redirect
	}
	if rl, ok := errors.AsType[*slackapi.RateLimitedError](err); ok {
		return &notify.SendError{StatusCode: http.StatusTooManyRequests, Code: "ratelimited", Retryable: true, RetryAfter: rl.RetryAfter, Err: err}
	}
	if sc, ok := errors.AsType[slackapi.StatusCodeError](err); ok {
		return notify.StatusError(sc.Code, 0, err)
	}
	if code := apiCode(err); code != "" {
		return &notify.SendError{Code: code, Retryable: transientCodes[code], Err: err}
	}
	if _, ok := errors.AsType[*url.Error](err); ok {
		return notify.Temporary(err)
	}
	return notify.Permanent(err)
}
