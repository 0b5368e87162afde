package slackcmd

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"
)

// Block Kit limits (API-NOTES §3).
const (
	maxBlocks      = 50
	maxSectionText = 3000
	maxFieldText   = 2000
	maxFields      = 10
	maxHeaderText  = 150
	maxChartPoints = 20
	maxSocketAck   = 20 << 10
)

// reply is the JSON body Slack expects from a slash command or on response_url.
type reply struct {
	ResponseType    string        `json:"response_type,omitempty"`
	ReplaceOriginal bool          `json:"replace_original,omitempty"`
	Text            string        `json:"text"`
	Blocks          []slack.Block `json:"blocks,omitempty"`
}

func mrkdwn(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, truncate(s, maxSectionText), false, false)
}

func header(s string) slack.Block {
	return slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, truncate(s, maxHeaderText), true, false))
}

func section(s string) slack.Block { return slack.NewSectionBlock(mrkdwn(s), nil, nil) }

// fieldsSection renders label/value pairs as section fields (at most 10).
func fieldsSection(pairs ...string) slack.Block {
	var fs []*slack.TextBlockObject
	for i := 0; i+1 < len(pairs) && len(fs) < maxFields; i += 2 {
		fs = append(fs, slack.NewTextBlockObject(slack.MarkdownType, truncate("*"+pairs[i]+"*\n"+pairs[i+1], maxFieldText), false, false))
	}
	return slack.NewSectionBlock(nil, fs, nil)
}

func contextLine(s string) slack.Block {
	return slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, truncate(s, maxFieldText), false, false))
}

// truncate shortens s to at most n runes, marking the cut with "…".
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// table renders rows as a monospaced mrkdwn code block; the first row is the
// header. Columns after the first are right-aligned. Rows that would push the
// section past its limit are dropped with a note.
func table(rows [][]string) string {
	if len(rows) == 0 {
		return ""
	}
	width := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			if i < len(width) {
				width[i] = max(width[i], utf8.RuneCountInString(c))
			}
		}
	}
	var b strings.Builder
	b.WriteString("```\n")
	for n, r := range rows {
		var line strings.Builder
		for i, c := range r {
			if i >= len(width) {
				break
			}
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(c))
			if i > 0 {
				line.WriteString("  ")
				line.WriteString(pad)
				line.WriteString(c)
			} else {
				line.WriteString(c)
				if len(r) > 1 {
					line.WriteString(pad)
				}
			}
		}
		if b.Len()+line.Len()+40 > maxSectionText {
			fmt.Fprintf(&b, "… %d more rows\n", len(rows)-n)
			break
		}
		b.WriteString(strings.TrimRight(line.String(), " "))
		b.WriteString("\n")
	}
	b.WriteString("```")
	return b.String()
}

// stamp renders t like "Mon 2 Dec 14:00 UTC".
func stamp(t time.Time) string { return t.UTC().Format("Mon 2 Jan 15:04 MST") }

// age renders a duration like "45 min", "3 h", "2 days".
func age(d time.Duration) string {
	switch {
	case d < time.Hour:
		return fmt.Sprintf("%d min", max(1, int(d/time.Minute)))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h", int(d/time.Hour))
	}
	return fmt.Sprintf("%d days", int(d/day))
}

var sparkLevels = []rune("▁▂▃▄▅▆▇█")

// sparkline renders values as a one-line bar sparkline.
func sparkline(vs []float64) string {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range vs {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	var b strings.Builder
	for _, v := range vs {
		i := 0
		if hi > lo {
			i = int(math.Round((v - lo) / (hi - lo) * float64(len(sparkLevels)-1)))
		}
		b.WriteRune(sparkLevels[i])
	}
	return b.String()
}

// lineChart builds slack-go's data_visualization block (line chart) for the
// given days and values; at most the last 20 points are used.
func lineChart(title, seriesName string, days []time.Time, values []float64) slack.Block {
	if len(days) > maxChartPoints {
		days, values = days[len(days)-maxChartPoints:], values[len(values)-maxChartPoints:]
	}
	cats := make([]string, len(days))
	pts := make([]slack.DataVisualizationDataPoint, len(days))
	for i, d := range days {
		cats[i] = d.Format("Jan 2")
		pts[i] = slack.NewDataVisualizationDataPoint(cats[i], round2(values[i]))
	}
	axis := slack.NewDataVisualizationAxisConfig(cats...).WithYLabel(truncate(seriesName, 50))
	chart := slack.NewDataVisualizationLineChart(axis, slack.NewDataVisualizationDataSeries(truncate(seriesName, 20), pts...))
	return slack.NewDataVisualizationBlock(truncate(title, 50), chart, slack.DataVisualizationBlockOptionBlockID("costbot_chart"))
}

// fit enforces the per-message block limit: a longer list is cut and ends
// with a context line saying how many blocks were left out.
func fit(blocks []slack.Block) []slack.Block {
	if len(blocks) <= maxBlocks {
		return blocks
	}
	out := append([]slack.Block(nil), blocks[:maxBlocks-1]...)
	return append(out, contextLine(fmt.Sprintf("… %d more not shown", len(blocks)-maxBlocks+1)))
}

// socketPayload returns rep as it may be sent in a Socket Mode ack (< 20 KB):
// the full reply, else without its chart, else the plain text only.
func socketPayload(rep reply) reply {
	if n, err := jsonLen(rep); err == nil && n < maxSocketAck-512 {
		return rep
	}
	var kept []slack.Block
	for _, b := range rep.Blocks {
		if b.BlockType() != slack.MBTDataVisualization {
			kept = append(kept, b)
		}
	}
	small := rep
	small.Blocks = kept
	if n, err := jsonLen(small); err == nil && n < maxSocketAck-512 {
		return small
	}
	small.Blocks = nil
	small.Text = truncate(small.Text, 3000)
	return small
}

func jsonLen(v any) (int, error) {
	b, err := json.Marshal(v)
	return len(b), err
}
