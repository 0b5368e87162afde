package slackcmd

import (
	"context"
	"log/slog"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

// ackFunc acknowledges a Socket Mode envelope, optionally with a payload.
type ackFunc func(req socketmode.Request, payload any) error

// RunSocketMode answers slash commands and button clicks over Socket Mode
// until ctx ends. api must carry the app-level token (slack.OptionAppLevelToken).
func (h *Handler) RunSocketMode(ctx context.Context, api *slack.Client) error {
	sm := socketmode.New(api, socketmode.OptionLog(slog.NewLogLogger(h.log.Handler(), slog.LevelDebug)))
	sh := socketmode.NewSocketmodeHandler(sm)
	h.registerSocket(sh, func(req socketmode.Request, payload any) error {
		if payload == nil {
			return sm.Ack(req)
		}
		return sm.Ack(req, payload)
	})
	return sh.RunEventLoopContext(ctx)
}

// registerSocket maps Socket Mode events to the same functions HTTP uses.
func (h *Handler) registerSocket(sh *socketmode.SocketmodeHandler, ack ackFunc) {
	sh.Handle(socketmode.EventTypeSlashCommand, func(evt *socketmode.Event, _ *socketmode.Client) {
		h.socketSlash(evt, ack)
	})
	sh.HandleInteraction(slack.InteractionTypeBlockActions, func(evt *socketmode.Event, _ *socketmode.Client) {
		h.socketInteraction(evt, ack)
	})
	sh.Default = func(evt *socketmode.Event, _ *socketmode.Client) {
		h.log.Debug("socket mode event", "type", evt.Type)
	}
}

func (h *Handler) socketSlash(evt *socketmode.Event, ack ackFunc) {
	sc, ok := evt.Data.(slack.SlashCommand)
	if !ok || evt.Request == nil {
		h.log.Warn("socket mode slash command unreadable", "type", evt.Type)
		return
	}
	rep := socketPayload(h.runCommand(context.Background(), sc))
	if err := ack(*evt.Request, rep); err != nil {
		h.log.Error("socket mode ack failed", "command", sc.Command, "err", err)
	}
}

func (h *Handler) socketInteraction(evt *socketmode.Event, ack ackFunc) {
	cb, ok := evt.Data.(slack.InteractionCallback)
	if !ok || evt.Request == nil {
		h.log.Warn("socket mode interaction unreadable", "type", evt.Type)
		return
	}
	h.interaction(cb) // returns at once: Apply and the update run in the background
	if err := ack(*evt.Request, nil); err != nil {
		h.log.Error("socket mode ack failed", "err", err)
	}
}
