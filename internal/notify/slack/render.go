package slack

import (
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	slackapi "github.com/slack-go/slack"

	"github.com/costbot/costbot/internal/cost"
)

// ActionIDs of the buttons on firing budget, forecast and anomaly alerts.
// Each button's value is the alert fingerprint; package slackcmd handles
// the clicks.
const (
	ActionAck       = "costbot_ack"
	ActionSnooze24h = "costbot_snooze_24h"
	ActionSnooze7d  = "costbot_snooze_7d"
	ActionExpected  = "costbot_expected" // anomalies only
)

// ActionIDs lists every button action_id in display order.
var ActionIDs = []string{ActionAck, ActionSnooze24h, ActionSnooze7d, ActionExpected}

// Block Kit limits (https://docs.slack.dev/reference/block-kit/blocks). We
// stay well inside them: Slack has rejected messages near 13,000 characters
// of block text even when every per-block limit held.
const (
	MaxHeader       = 150
	MaxSectionText  = 3000
	MaxFields       = 10
	MaxFieldText    = 2000
	MaxBlocks       = 50
	MaxButtonText   = 75
	MaxBlockID      = 255
	MaxContextElems = 10
	MaxText         = 3000  // our cap for the notification fallback text
	MaxTotalText    = 10000 // our cap for the sum of all block text

	maxChartTitle  = 50
	maxChartLabel  = 20
	maxChartPoints = 20
	maxFieldValue  = 300 // keep each field short; ten of them stay compact
)

// Render builds the notification text (always sent as the fallback) and the
// Block Kit blocks for a, within Block Kit limits. Resolved alerts render
// without buttons. Package slackcmd may reuse it for replies.
func Render(a cost.Alert) (text string, blocks []slackapi.Block) {
	return render(a, modePost, time.Time{})
}

// RenderRoot builds the replacement for the root message of a thread when a
// follow-up (escalation or resolution) is posted: a "Now: …" or "Resolved: …"
// header over the current figures, stamped with now.
func RenderRoot(a cost.Alert, now time.Time) (text string, blocks []slackapi.Block) {
	return render(a, modeRoot, now)
}

type mode int

const (
	modePost mode = iota
	modeRoot
)

func render(a cost.Alert, m mode, now time.Time) (string, []slackapi.Block) {
	fp := a.Fingerprint
	resolved := a.Status == cost.StatusResolved

	headline := headerText(a, m)
	var blocks []slackapi.Block
	blocks = append(blocks, slackapi.NewHeaderBlock(
		slackapi.NewTextBlockObject(slackapi.PlainTextType, truncate(headline, MaxHeader), true, false),
		slackapi.HeaderBlockOptionBlockID(blockID("header", fp, a.Status.String(), a.Severity.String())),
	))

	lead := leadText(a)
	fields := fieldsFor(a)
	var fieldObjs []*slackapi.TextBlockObject
	for i, f := range fields {
		if i == MaxFields {
			break
		}
		v := truncate(escape(f[1]), maxFieldValue)
		fieldObjs = append(fieldObjs, mrkdwn(truncate("*"+f[0]+"*\n"+v, MaxFieldText)))
	}
	var leadObj *slackapi.TextBlockObject
	if lead != "" {
		leadObj = mrkdwn(truncate(lead, MaxSectionText))
	}
	if leadObj != nil || len(fieldObjs) > 0 {
		blocks = append(blocks, slackapi.NewSectionBlock(leadObj, fieldObjs, nil,
			slackapi.SectionBlockOptionBlockID(blockID("summary", fp))))
	}

	if m == modePost && a.Chart != nil {
		if b := chartBlock(a, fp); b != nil {
			blocks = append(blocks, b)
		}
	}

	ctx := contextText(a)
	if m == modeRoot && !now.IsZero() {
		ctx += " · updated " + cost.InstantText(now)
	}
	blocks = append(blocks, slackapi.NewContextBlock(blockID("context", fp),
		mrkdwn(truncate(ctx, MaxSectionText))))

	if !resolved && hasButtons(a.Kind) {
		blocks = append(blocks, actions(a))
	}
	if len(blocks) > MaxBlocks {
		blocks = blocks[:MaxBlocks]
	}
	blocks = fitTotal(blocks)

	// The fallback text is mrkdwn too: escape it like the blocks.
	text := escape(headline)
	if a.Summary != "" {
		text += "\n" + escape(oneLine(a.Summary))
	}
	if fig := figureLine(a); fig != "" {
		text += "\n" + escape(fig)
	}
	return truncate(text, MaxText), blocks
}

func hasButtons(k cost.Kind) bool {
	return k == cost.KindBudget || k == cost.KindForecast || k == cost.KindAnomaly
}

func emoji(a cost.Alert) string {
	if a.Status == cost.StatusResolved {
		return ":white_check_mark:"
	}
	switch a.Severity {
	case cost.SeverityCritical:
		return ":rotating_light:"
	case cost.SeverityWarning:
		return ":warning:"
	}
	return ":information_source:"
}

func headerText(a cost.Alert, m mode) string {
	title := oneLine(a.Title)
	if title == "" {
		title = a.Kind.String() + " alert"
	}
	switch {
	case a.Status == cost.StatusResolved:
		return emoji(a) + " Resolved: " + title
	case m == modeRoot:
		return emoji(a) + " Now: " + title + " — " + a.Severity.String()
	case a.Reason == cost.ReasonEscalated:
		return emoji(a) + " Escalated to " + a.Severity.String() + ": " + title
	}
	return emoji(a) + " " + title
}

// leadText says what crossed and by how much, in mrkdwn.
func leadText(a cost.Alert) string {
	cur := a.Currency
	var b strings.Builder
	switch a.Kind {
	case cost.KindBudget, cost.KindForecast:
		what := "Spend"
		val := a.Actual
		if a.Kind == cost.KindForecast {
			what, val = "Forecast", a.Forecast
		}
		if a.Limit > 0 && a.Status != cost.StatusResolved {
			if diff := val - a.Limit; diff >= 0 {
				fmt.Fprintf(&b, "*%s is %s over the %s threshold*", what, cost.Money(diff, cur), cost.Money(a.Limit, cur))
			} else {
				fmt.Fprintf(&b, "*%s is %s, %s under the %s threshold*", what, cost.Money(val, cur), cost.Money(-diff, cur), cost.Money(a.Limit, cur))
			}
			if a.Threshold != "" {
				fmt.Fprintf(&b, " (`%s`)", escape(a.Threshold))
			}
			b.WriteString(".")
		}
	case cost.KindAnomaly:
		if d := a.Anomaly; d != nil {
			dir := "above"
			if d.Impact < 0 {
				dir = "below"
			}
			fmt.Fprintf(&b, "*%s* observed vs *%s* expected: %s/day %s the baseline.",
				cost.Money(d.Observed, cur), cost.Money(d.Expected, cur), cost.Money(math.Abs(d.Impact), cur), dir)
		}
	case cost.KindStale:
		fmt.Fprintf(&b, "Costbot has no fresh billing data for *%s*; alerts for it may be late.", escape(orDash(a.Scope.AccountLabel())))
		return b.String()
	}
	if s := strings.TrimSpace(a.Summary); s != "" {
		if b.Len() > 0 {
			b.WriteString("\n")
		}
		b.WriteString(escape(s))
	}
	return b.String()
}

// fieldsFor returns label/value pairs (values unescaped): the alert's
// facts (cost.Facts, the list every surface shows), then how it stands.
func fieldsFor(a cost.Alert) [][2]string {
	var f [][2]string
	add := func(k, v string) {
		if v != "" {
			f = append(f, [2]string{k, v})
		}
	}
	for _, x := range cost.Facts(a) {
		if x.Label != "" {
			add(x.Label, x.Text)
		}
	}
	if a.Kind == cost.KindStale {
		add("Reason", oneLine(a.Summary))
		if !a.StartsAt.IsZero() {
			add("Since", cost.InstantText(a.StartsAt))
		}
	}
	if a.Status == cost.StatusResolved && !a.EndsAt.IsZero() {
		add("Resolved at", cost.InstantText(a.EndsAt))
	}
	if a.Status == cost.StatusResolved && a.Why != "" {
		add("Why", oneLine(a.Why))
	}
	return f
}

func figureLine(a cost.Alert) string {
	var parts []string
	for _, f := range fieldsFor(a) {
		if f[0] == "Reason" {
			continue // already in the summary line
		}
		parts = append(parts, f[0]+": "+f[1])
	}
	return strings.Join(parts, " · ")
}

func contextText(a cost.Alert) string {
	parts := []string{"rule `" + escape(orDash(a.Rule)) + "`", escape(a.Scope.String())}
	if !a.Period.IsZero() {
		parts = append(parts, cost.FormatPeriod(a.Period))
	}
	if a.Threshold != "" {
		parts = append(parts, escape(a.Threshold))
	}
	if a.Reason != "" && a.Reason != cost.ReasonFirst {
		parts = append(parts, escape(string(a.Reason)))
	}
	parts = append(parts, "fingerprint `"+escape(a.Fingerprint)+"`")
	return strings.Join(parts, " · ")
}

func actions(a cost.Alert) slackapi.Block {
	btn := func(id, label string) *slackapi.ButtonBlockElement {
		return slackapi.NewButtonBlockElement(id, a.Fingerprint,
			slackapi.NewTextBlockObject(slackapi.PlainTextType, truncate(label, MaxButtonText), true, false))
	}
	ack := btn(ActionAck, "Acknowledge")
	ack.Style = slackapi.StylePrimary
	elems := []slackapi.BlockElement{ack, btn(ActionSnooze24h, "Snooze 24 h"), btn(ActionSnooze7d, "Snooze 7 days")}
	if a.Kind == cost.KindAnomaly {
		elems = append(elems, btn(ActionExpected, "Mark expected"))
	}
	return slackapi.NewActionBlock(blockID("actions", a.Fingerprint, a.Status.String()), elems...)
}

// chartBlock renders the last ≤20 known days as a native line chart with the
// reference line; nil when there is too little to draw or the chart would be
// invalid.
func chartBlock(a cost.Alert, fp string) slackapi.Block {
	c := a.Chart
	n := min(len(c.Days), len(c.Values))
	first := max(0, n-maxChartPoints) // the last ≤20 calendar days; gaps stay gaps
	type point struct {
		label    string
		val, ref float64
		hasRef   bool
	}
	var pts []point
	for i := first; i < n; i++ {
		v := c.Values[i]
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue // unknown is not zero: leave the day out
		}
		p := point{label: c.Days[i].UTC().Format("Jan 2"), val: round2(v)}
		if i < len(c.Reference) && !math.IsNaN(c.Reference[i]) && !math.IsInf(c.Reference[i], 0) {
			p.ref, p.hasRef = round2(c.Reference[i]), true
		}
		pts = append(pts, p)
	}
	if len(pts) < 2 {
		return nil
	}
	withRef := true
	for _, p := range pts {
		withRef = withRef && p.hasRef
	}
	cats := make([]string, len(pts))
	spend := make([]slackapi.DataVisualizationDataPoint, len(pts))
	ref := make([]slackapi.DataVisualizationDataPoint, len(pts))
	for i, p := range pts {
		cats[i] = p.label
		spend[i] = slackapi.NewDataVisualizationDataPoint(p.label, p.val)
		ref[i] = slackapi.NewDataVisualizationDataPoint(p.label, p.ref)
	}
	series := []slackapi.DataVisualizationDataSeries{slackapi.NewDataVisualizationDataSeries("Daily spend", spend...)}
	if withRef {
		label := truncate(oneLine(c.ReferenceLabel), maxChartLabel)
		if label == "" || label == "Daily spend" {
			label = "Reference"
			if a.Kind == cost.KindAnomaly {
				label = "Expected"
			}
		}
		series = append(series, slackapi.NewDataVisualizationDataSeries(label, ref...))
	}
	axis := slackapi.NewDataVisualizationAxisConfig(cats...)
	if a.Currency != "" {
		axis = axis.WithYLabel(truncate(a.Currency+" per day", maxChartTitle))
	}
	title := truncate(oneLine(c.Title), maxChartTitle)
	if title == "" {
		title = "Daily spend"
	}
	b := slackapi.NewDataVisualizationBlock(title, slackapi.NewDataVisualizationLineChart(axis, series...),
		slackapi.DataVisualizationBlockOptionBlockID(blockID("chart", fp)))
	if b.Validate() != nil {
		return nil
	}
	return b
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }

func mrkdwn(s string) *slackapi.TextBlockObject {
	return slackapi.NewTextBlockObject(slackapi.MarkdownType, s, false, false)
}

func blockID(parts ...string) string {
	return truncate("costbot_"+strings.Join(parts, "_"), MaxBlockID)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// escape makes s safe inside mrkdwn: Slack requires &, < and > escaped.
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// truncate cuts s to at most n runes, ending with "…" when cut and never
// splitting an HTML entity produced by escape.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)[:n-1]
	cut := string(r)
	if i := strings.LastIndexByte(cut, '&'); i >= 0 && !strings.Contains(cut[i:], ";") {
		cut = cut[:i]
	}
	return cut + "…"
}

// fitTotal shrinks the summary section until the blocks' total text is under
// MaxTotalText. By construction only the section text can be long.
func fitTotal(blocks []slackapi.Block) []slackapi.Block {
	total := totalText(blocks)
	if total <= MaxTotalText {
		return blocks
	}
	for _, b := range blocks {
		if s, ok := b.(*slackapi.SectionBlock); ok && s.Text != nil {
			keep := utf8.RuneCountInString(s.Text.Text) - (total - MaxTotalText)
			s.Text.Text = truncate(s.Text.Text, max(keep, 200))
		}
	}
	return blocks
}

// totalText counts the characters of text in header, section, context and
// button objects.
func totalText(blocks []slackapi.Block) int {
	n := 0
	count := func(t *slackapi.TextBlockObject) {
		if t != nil {
			n += utf8.RuneCountInString(t.Text)
		}
	}
	for _, b := range blocks {
		switch b := b.(type) {
		case *slackapi.HeaderBlock:
			count(b.Text)
		case *slackapi.SectionBlock:
			count(b.Text)
			for _, f := range b.Fields {
				count(f)
			}
		case *slackapi.ContextBlock:
			for _, e := range b.ContextElements.Elements {
				if t, ok := e.(*slackapi.TextBlockObject); ok {
					count(t)
				}
			}
		case *slackapi.ActionBlock:
			for _, e := range b.Elements.ElementSet {
				if btn, ok := e.(*slackapi.ButtonBlockElement); ok {
					count(btn.Text)
				}
			}
		}
	}
	return n
}
