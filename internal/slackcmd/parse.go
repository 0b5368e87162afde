package slackcmd

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/costbot/costbot/internal/cost"
)

// command is one parsed `/costbot` text.
type command struct {
	Name  string   // lower-case subcommand; "" for none
	Args  []string // remaining words; quoted words stay together
	Share bool     // --share: answer in the channel
}

// maxCommandText caps the text the parser looks at; Slack itself sends a few KB at most.
const maxCommandText = 4096

// parseCommand splits the slash-command text into a subcommand and its
// arguments. It understands "double" and 'single' quotes and the --share flag
// anywhere. It never fails: odd input just yields odd words.
func parseCommand(text string) command {
	if len(text) > maxCommandText {
		text = text[:maxCommandText]
	}
	var (
		c     command
		words []string
		cur   strings.Builder
		quote rune
		in    bool
	)
	flush := func() {
		if in {
			words = append(words, cur.String())
		}
		cur.Reset()
		in = false
	}
	for _, r := range text {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '"' || r == '\'':
			quote, in = r, true
		case r == '“':
			quote, in = '”', true
		case r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\u00a0':
			flush()
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	flush()
	for _, w := range words {
		switch strings.ToLower(w) {
		case "--share", "-share", "—share", "-s":
			c.Share = true
			continue
		}
		if c.Name == "" && len(c.Args) == 0 {
			c.Name = strings.ToLower(w)
			continue
		}
		c.Args = append(c.Args, w)
	}
	return c
}

// maxCachedText is the longest command text whose reply is cached.
const maxCachedText = 200

// cacheKey identifies c's reply at now's minute.
func (c command) cacheKey(now time.Time) string {
	var b strings.Builder
	b.WriteString(strconv.FormatInt(now.Unix()/60, 36))
	b.WriteByte(0)
	b.WriteString(c.Name)
	if c.Share {
		b.WriteString("\x00share")
	}
	for _, a := range c.Args {
		b.WriteByte(0)
		b.WriteString(a)
	}
	return b.String()
}

// periodSpec is a named relative period such as "7d" or "mtd".
type periodSpec struct {
	key   string // canonical token
	label string
	days  int // N for "Nd"
}

func parsePeriod(tok string) (periodSpec, bool) {
	t := strings.ToLower(strings.TrimSpace(tok))
	switch t {
	case "mtd", "month":
		return periodSpec{key: "mtd", label: "month to date"}, true
	case "today":
		return periodSpec{key: "today", label: "today"}, true
	case "yesterday":
		return periodSpec{key: "yesterday", label: "yesterday"}, true
	case "last-month", "lastmonth", "last_month", "prev-month":
		return periodSpec{key: "last-month", label: "last month"}, true
	}
	if n, ok := strings.CutSuffix(t, "d"); ok {
		if d, err := strconv.Atoi(n); err == nil && d >= 1 && d <= 366 {
			return periodSpec{key: t, label: fmt.Sprintf("last %d days", d), days: d}, true
		}
	}
	return periodSpec{}, false
}

// resolve turns the spec into a UTC period of complete days. today is
// now's UTC midnight and end the end of the complete days (today, or
// earlier when billing data lags further; see snapshot.dataEnd): "Nd" is
// the N days ending with end, "mtd" the month's days before end, and
// "today", whose data is never in yet, is the last complete day. label
// names what is shown and note, when not empty, tells the user why it is
// not exactly what they asked for.
func (ps periodSpec) resolve(today, end time.Time) (p cost.Period, label, note string) {
	if end.After(today) {
		end = today
	}
	label = ps.label
	lags := end.Before(today)
	newest := "The newest data is for " + end.Add(-day).Format("Mon 2 Jan") + "; later days are not in yet."
	switch ps.key {
	case "today":
		p = cost.Period{Start: end.Add(-day), End: end}
		label = "yesterday"
		if lags {
			label = "last complete day"
		}
		return p, label, "Today's data is not in yet (billing data arrives about a day late): showing " + cost.FormatPeriod(p) + "."
	case "yesterday":
		p = cost.Period{Start: today.Add(-day), End: today}
		if lags {
			note = "No data for yesterday yet. " + newest
		}
		return p, label, note
	case "last-month":
		first := time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, time.UTC)
		p = cost.Period{Start: first.AddDate(0, -1, 0), End: first}
		if end.Before(first) {
			note = newest
		}
		return p, label, note
	case "mtd":
		first := time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, time.UTC)
		if !end.After(first) {
			return cost.Period{Start: first, End: first}, label,
				"No complete day of " + first.Format("January") + " yet: today's data is not in."
		}
		p = cost.Period{Start: first, End: end}
	default:
		p = cost.Period{Start: end.AddDate(0, 0, -ps.days), End: end}
	}
	if lags {
		note = newest
	}
	return p, label, note
}

// previous is the equal-length period just before p.
func previous(p cost.Period) cost.Period {
	return cost.Period{Start: p.Start.Add(-p.End.Sub(p.Start)), End: p.Start}
}

// lookupResult is the outcome of a fuzzy scope lookup: a hit, or candidates
// (ambiguous), or suggestions (nothing matched).
type lookupResult struct {
	hit         *series
	candidates  []*series
	suggestions []*series
}

// lookup finds the account, family or service q names: case-insensitive,
// exact names first, then prefixes and word prefixes ("workers req" finds
// "Workers Standard Requests"). "service:", "family:" and "account:" narrow
// the search.
func (s *snapshot) lookup(q string) lookupResult {
	q = strings.ToLower(strings.TrimSpace(q))
	want := scopeAll
	for k := scopeAccount; k <= scopeService; k++ {
		if rest, ok := strings.CutPrefix(q, kindLabel[k]+":"); ok {
			want, q = k, strings.TrimSpace(rest)
		}
	}
	qw := strings.Fields(q)
	if len(qw) == 0 {
		return lookupResult{hit: s.total}
	}
	exact, partial := s.fuzzy.matches(s.named, q, qw, want)
	switch {
	case len(exact) == 1:
		return lookupResult{hit: exact[0]}
	case len(exact) > 1:
		return lookupResult{candidates: exact}
	case len(partial) == 1:
		return lookupResult{hit: partial[0]}
	case len(partial) > 1:
		return lookupResult{candidates: partial}
	}
	return lookupResult{suggestions: s.fuzzy.suggest(s.named, q, want)}
}

// wordPrefixes reports whether every query word is a prefix of a name word,
// in order.
func wordPrefixes(q, words []string) bool {
	j := 0
	for _, w := range q {
		for j < len(words) && !strings.HasPrefix(words[j], w) {
			j++
		}
		if j == len(words) {
			return false
		}
		j++
	}
	return true
}
