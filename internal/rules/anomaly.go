package rules

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/costbot/costbot/internal/cost"
	"github.com/costbot/costbot/internal/detect"
)

// seriesData is one service series of one account.
type seriesData struct {
	key      cost.SeriesKey
	currency string
	first    time.Time // its first day with a row (UTC midnight)
	at       int       // first as an index into the account's days
	points   []point   // its rows in input order
}

// point is one usage row of a series.
type point struct {
	at    int // index of its day into the account's days
	cost  float64
	known bool
}

// episode is one anomalous episode of a judged series: the points the
// detector flagged with the same Result.Since.
type episode struct {
	start, last int // indexes of the first and last anomalous point
	peak        int // the anomalous point with the largest |impact|
	open        bool
	marked      bool      // a user's mark expected ended it
	revised     time.Time // the first revised day inside it; zero if none
}

// seriesJudgement is the outcome of judging one series this cycle.
type seriesJudgement struct {
	findings []cost.Finding
	late     []cost.Finding // new episodes found late, candidates for a catch-up summary
	// summarized holds the findings of episodes reported inside a catch-up
	// summary, by the summary's first day.
	summarized map[time.Time][]cost.Finding
	judged     Judged
	// same says the series' state is the one it had (judged is then zero).
	same bool
}

// judgeAccount judges every service series of one account that anomaly rule
// a applies to, from the account's rows; it returns nil when no series
// matches.
//
// Each series runs through the detector from its first stored day to the
// account's last day with data, so the detector state on every day is the
// one a straight run over the whole history has (a user's "mark expected"
// re-baselines the level on its day, see detect.Detector.Rebase). A day on
// which the account has data but the series has no row costs 0 once the day
// is settled; on a provisional day (the account's last data day, until
// Input.Settle after its end) a missing row is unknown. A day without any
// account data, or with an unknown cost, is NaN. Correction rows fix earlier
// invoices and are left out.
//
// Every anomalous episode is one finding, keyed by its first day, reported
// while the detector keeps it open (it ends after detect.EpisodeGap quiet
// days), while its first day is within Input.Lookback days, and for
// EpisodeGap days after it was first reported; then it resolves. On a
// provisional day rises are reported (and say so) but drops and outages wait
// until the day settles. Episodes found late say how late, episodes found in
// revised data say which day was revised, and an episode that revised data
// no longer shows is reported as cleared with that reason.
func (s *Set) judgeAccount(a *Anomaly, acct cost.Account, rows []cost.Usage, in Input, workers int) *anomalyAccount {
	run := s.Detector
	if run == nil {
		run = detectSeries
	}
	lookback := in.Lookback
	if lookback <= 0 {
		lookback = DefaultLookback
	}
	settle := in.Settle
	if settle <= 0 {
		settle = DefaultSettle
	}
	aa := planAccount(a, acct, rows, in.Now, settle)
	if aa == nil {
		return nil
	}
	// The detector runs are the expensive part and independent of each
	// other: each series is judged into its own slot (on up to workers
	// goroutines), and collect assembles the findings in series order, so
	// the output does not depend on the scheduling.
	aa.judged = make([]seriesJudgement, len(aa.series))
	forEach(len(aa.series), workers, func(i int) {
		sd := aa.series[i]
		aa.judged[i] = judgeSeries(a, aa, sd, lookback, in, in.judged(JudgedKey(a.Name, sd.key)), run)
	})
	// Only the keys and the judgements are read from here on.
	for _, sd := range aa.series {
		sd.points = nil
	}
	aa.hasData = nil
	return aa
}

// anomalyAccount is one account's share of an anomaly rule's evaluation:
// its series, read from the rows, and their judgements. Its days run from
// the account's first day with data to its last.
type anomalyAccount struct {
	acct        cost.Account
	hasData     []bool            // hasData[i]: the account has data on its day i
	last        time.Time         // the account's last day with data (UTC midnight)
	provisional bool              // last is not settled yet
	series      []*seriesData     // by cost.SeriesKey.String()
	judged      []seriesJudgement // judged[i] is of series[i]
}

// planAccount gathers the series of one account that rule a judges from its
// rows: every row before now that is not a correction counts as account
// data. It returns nil when no series matches.
func planAccount(a *Anomaly, acct cost.Account, rows []cost.Usage, now time.Time, settle time.Duration) *anomalyAccount {
	const skip = math.MinInt64
	dayOf := make([]int64, len(rows)) // Unix day of each row, or skip
	lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
	for i := range rows {
		u := &rows[i]
		d := cost.Day(u.Day)
		if u.Correction || !d.Before(now) {
			dayOf[i] = skip
			continue
		}
		k := d.Unix() / secondsPerDay
		dayOf[i] = k
		lo, hi = min(lo, k), max(hi, k)
	}
	if lo > hi {
		return nil
	}
	from := time.Unix(lo*secondsPerDay, 0).UTC()
	aa := &anomalyAccount{acct: acct, hasData: make([]bool, hi-lo+1), last: time.Unix(hi*secondsPerDay, 0).UTC()}
	aa.provisional = now.Before(aa.last.Add(day + settle))
	series := map[cost.SeriesKey]*seriesData{}
	for i := range rows {
		if dayOf[i] == skip {
			continue
		}
		u := &rows[i]
		at := int(dayOf[i] - lo)
		aa.hasData[at] = true
		if !a.Scope.matchRow(*u) {
			continue
		}
		sd := series[u.Key()]
		if sd == nil {
			sd = &seriesData{key: u.Key(), at: at}
			series[u.Key()] = sd
		}
		sd.at = min(sd.at, at)
		if sd.currency == "" {
			sd.currency = u.Currency
		}
		sd.points = append(sd.points, point{at: at, cost: u.Cost, known: u.CostKnown})
	}
	if len(series) == 0 {
		return nil
	}
	for _, sd := range series {
		sd.first = from.Add(time.Duration(sd.at) * day)
		aa.series = append(aa.series, sd)
	}
	sort.Slice(aa.series, func(i, j int) bool { return aa.series[i].key.String() < aa.series[j].key.String() })
	return aa
}

const secondsPerDay = 24 * 60 * 60

// collect appends the account's findings and judged state to out, in series
// order, with the late episodes one by one or in a catch-up summary.
func (aa *anomalyAccount) collect(a *Anomaly, out *Output) {
	acct := aa.acct
	var late []cost.Finding
	summaries := map[time.Time][]cost.Finding{}
	for i, sd := range aa.series {
		sj := aa.judged[i]
		out.Findings = append(out.Findings, sj.findings...)
		late = append(late, sj.late...)
		for key, fs := range sj.summarized {
			summaries[key] = append(summaries[key], fs...)
		}
		if !sj.same {
			out.Judged[JudgedKey(a.Name, sd.key)] = sj.judged
		}
	}
	if len(late) <= maxCatchUp {
		out.Findings = append(out.Findings, late...)
	} else {
		// Too many at once (a long downtime, a big backfill): one
		// summary, kept under its first day while its episodes last.
		key := late[0].Period.Start
		for _, f := range late {
			if f.Period.Start.Before(key) {
				key = f.Period.Start
			}
		}
		for _, f := range late {
			k := cost.SeriesKey{Account: acct.ID, Service: f.Scope.Service, Family: f.Scope.Family, Zone: f.Scope.Zone}
			jk := JudgedKey(a.Name, k)
			j := out.Judged[jk] // a series with a late episode changed its state
			j.Summarized[f.Period.Start] = key
			out.Judged[jk] = j
		}
		summaries[key] = append(summaries[key], late...)
	}
	firsts := make([]time.Time, 0, len(summaries))
	for key := range summaries {
		firsts = append(firsts, key)
	}
	slices.SortFunc(firsts, func(x, y time.Time) int { return x.Compare(y) })
	for _, key := range firsts {
		out.Findings = append(out.Findings, catchUpFinding(a, acct, summaries[key], key))
	}
}

// forEach calls f(i) for every i in [0, n) on up to workers goroutines and
// returns once every call has returned; with workers <= 1 it calls them in
// order on the calling goroutine. Calls must not share mutable state. A
// panic in f is raised again on the calling goroutine.
func forEach(n, workers int, f func(i int)) {
	workers = min(workers, n)
	if workers <= 1 {
		for i := range n {
			f(i)
		}
		return
	}
	var (
		next       atomic.Int64
		wg         sync.WaitGroup
		once       sync.Once
		firstPanic any
		failed     atomic.Bool
	)
	for range workers {
		wg.Go(func() {
			defer func() {
				if p := recover(); p != nil {
					once.Do(func() { firstPanic = p })
					failed.Store(true)
				}
			}()
			for !failed.Load() {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				f(i)
			}
		})
	}
	wg.Wait()
	if failed.Load() {
		panic(firstPanic)
	}
}

// judgeSeries judges one series: see evalAnomaly.
func judgeSeries(a *Anomaly, aa *anomalyAccount, sd *seriesData, lookback int, in Input, prev Judged, run DetectFunc) seriesJudgement {
	acct, last, provisional := aa.acct, aa.last, aa.provisional
	start := sd.first
	n := len(aa.hasData) - sd.at
	days := make([]time.Time, n)
	values := make([]float64, n)
	sum := make([]float64, n)
	seen := make([]bool, n) // a row with a known cost
	unknown := make([]bool, n)
	for _, p := range sd.points {
		if i := p.at - sd.at; p.known {
			sum[i] += p.cost
			seen[i] = true
		} else {
			unknown[i] = true
		}
	}
	for i := range values {
		days[i] = start.Add(time.Duration(i) * day)
		switch {
		case unknown[i] || !aa.hasData[sd.at+i]:
			values[i] = math.NaN()
		case seen[i]:
			values[i] = sum[i]
		case provisional && i == n-1:
			values[i] = math.NaN() // not in yet: unknown, never 0
		default:
			values[i] = 0
		}
	}
	// A mark covers the days before the one it was made on: the level the
	// user saw becomes the baseline after the last of them.
	var rebase []int
	named := cost.SeriesKey{Account: label(acct), Service: sd.key.Service, Family: sd.key.Family, Zone: sd.key.Zone}
	for _, key := range []string{sd.key.String(), named.String()} {
		if t, ok := in.Expected[key]; ok {
			if i := int(cost.Day(t).Sub(start)/day) - 1; i >= 0 {
				rebase = append(rebase, min(i, n-1))
			}
		}
	}
	slices.Sort(rebase)
	rebase = slices.Compact(rebase)
	opts := a.opts
	opts.Start = start
	res := run(values, opts, rebase)
	if len(res) != n {
		return seriesJudgement{same: true}
	}

	settled := n - 1
	if provisional {
		settled = n - 2
	}
	// Days judged before whose value changed since.
	var revised []time.Time
	for d, old := range prev.Values {
		i := int(d.Sub(start) / day)
		if i < 0 || i > settled || d.After(prev.Through) {
			continue
		}
		if v := values[i]; math.IsNaN(v) != math.IsNaN(old) || (!math.IsNaN(v) && math.Abs(v-old) > 0.005+1e-9*math.Abs(old)) {
			revised = append(revised, d)
		}
	}
	slices.SortFunc(revised, func(a, b time.Time) int { return a.Compare(b) })

	eps := episodes(res, days, provisional, rebase, detect.EpisodeGap(opts.Season), revised)
	sj := seriesJudgement{summarized: map[time.Time][]cost.Finding{}, judged: Judged{Through: prev.Through,
		Reported: map[time.Time]time.Time{}, Summarized: map[time.Time]time.Time{}}}
	// The settled values kept are days[keep:settled+1]; Values is filled
	// at the end, unless the state is the one it was.
	keep := settled + 1
	if settled >= 0 {
		sj.judged.Through = days[settled]
		keep = max(0, settled-JudgedKeep+1)
	}
	gap := detect.EpisodeGap(opts.Season)
	lookbackStart := last.AddDate(0, 0, -(lookback - 1))
	current := map[time.Time]bool{}
	for _, e := range eps {
		first := days[e.start]
		current[first] = true
		firstSeen, seen := prev.Reported[first]
		report := !e.marked && (e.open || !first.Before(lookbackStart) || !e.revised.IsZero() ||
			(seen && int(last.Sub(firstSeen)/day) <= gap))
		if !report {
			continue
		}
		if !seen {
			firstSeen = last
		}
		sj.judged.Reported[first] = firstSeen
		f := anomalyFinding(a, acct, sd, days, values, res, e, provisional)
		if key, ok := prev.Summarized[first]; ok {
			sj.judged.Summarized[first] = key
			sj.summarized[key] = append(sj.summarized[key], f)
			continue
		}
		lateBy := int(last.Sub(first) / day)
		switch {
		case seen:
		case !e.revised.IsZero():
			f.Summary = fmt.Sprintf("Found in revised data for %s.\n", e.revised.Format("Jan 2")) + f.Summary
		case lateBy >= 1:
			f.Summary = fmt.Sprintf("Detected %d %s after it started (the data arrived late, a drop waited for the day to settle, or costbot was not running).\n",
				lateBy, plural(lateBy, "day", "days")) + f.Summary
			sj.late = append(sj.late, f)
			continue
		}
		sj.findings = append(sj.findings, f)
	}
	// Episodes reported earlier that the data no longer shows.
	for first := range prev.Reported {
		if _, summarized := prev.Summarized[first]; current[first] || summarized {
			continue
		}
		var why string
		switch {
		case len(revised) > 0:
			why = fmt.Sprintf("revised data for %s no longer shows it", revised[0].Format("Jan 2"))
		case first.After(prev.Through):
			why = fmt.Sprintf("the final data for %s no longer shows it", first.Format("Jan 2"))
		default:
			continue // gone for another reason (a mark, changed options): resolves as usual
		}
		sj.findings = append(sj.findings, clearedFinding(a, acct, sd, first, why))
	}
	if len(sj.late) == 0 && sj.judged.Through.Equal(prev.Through) && sameValues(prev.Values, days[keep:settled+1], values[keep:settled+1]) &&
		maps.Equal(sj.judged.Reported, prev.Reported) && maps.Equal(sj.judged.Summarized, prev.Summarized) {
		// Most series' state is the same every hour (a settled day is
		// judged once): it is not returned (Output.Judged).
		return seriesJudgement{findings: sj.findings, summarized: sj.summarized, same: true}
	}
	sj.judged.Values = make(map[time.Time]float64, settled+1-keep)
	for i := keep; i <= settled; i++ {
		sj.judged.Values[days[i]] = values[i]
	}
	return sj
}

// sameValues reports whether m holds exactly values on days (NaN equals
// NaN, other values bit for bit).
func sameValues(m map[time.Time]float64, days []time.Time, values []float64) bool {
	if len(m) != len(days) {
		return false
	}
	for i, d := range days {
		w, ok := m[d]
		if v := values[i]; !ok || math.Float64bits(v) != math.Float64bits(w) && !(math.IsNaN(v) && math.IsNaN(w)) {
			return false
		}
	}
	return true
}

// episodes groups the anomalous points of res by episode. On a provisional
// last day a drop or outage is not counted yet; an episode that a mark
// (rebase) ended is closed.
func episodes(res []detect.Result, days []time.Time, provisional bool, rebase []int, gap int, revised []time.Time) []episode {
	n := len(res)
	lastRebase := -1
	if len(rebase) > 0 {
		lastRebase = rebase[len(rebase)-1]
	}
	var eps []episode
	bySince := map[int]int{}
	end := n - 1 // the day openness is judged against
	for i, r := range res {
		if !r.Anomaly {
			continue
		}
		if provisional && i == n-1 && (r.Impact < 0 || r.Outage) {
			// Waits for the day to settle; until then the day is unknown
			// and must not close the episode it may continue.
			end = n - 2
			continue
		}
		s := r.Since
		if s < 0 || s > i {
			s = i
		}
		j, ok := bySince[s]
		if !ok {
			j = len(eps)
			bySince[s] = j
			eps = append(eps, episode{start: s, last: i, peak: i})
		}
		e := &eps[j]
		e.last = i
		if math.Abs(r.Impact) > math.Abs(res[e.peak].Impact) {
			e.peak = i
		}
	}
	for i := range eps {
		e := &eps[i]
		e.marked = e.last <= lastRebase
		e.open = end-e.last <= gap && !e.marked
		for _, d := range revised {
			if !d.Before(days[e.start]) && !d.After(days[e.last]) {
				e.revised = d
				break
			}
		}
	}
	return eps
}

// detectSeries is the default DetectFunc: detect.Series with a re-baseline
// after each index in rebase.
func detectSeries(values []float64, opts detect.Options, rebase []int) []detect.Result {
	d, err := detect.New(opts)
	if err != nil {
		panic(err)
	}
	out := make([]detect.Result, len(values))
	j := 0
	for i, v := range values {
		out[i] = d.Step(v)
		for j < len(rebase) && rebase[j] == i {
			d.Rebase()
			j++
		}
	}
	return out
}

func seriesName(acct cost.Account, k cost.SeriesKey) string {
	name := k.Service
	if k.Zone != "" {
		name += " @ " + k.Zone
	}
	return name + " (" + label(acct) + ")"
}

// anomalyFinding describes episode e: its latest anomalous day, or its
// largest one once it has ended.
func anomalyFinding(a *Anomaly, acct cost.Account, sd *seriesData, days []time.Time, values []float64, res []detectResult, e episode, provisional bool) cost.Finding {
	n := len(values)
	at := e.last
	if !e.open {
		at = e.peak
	}
	r := res[at]
	since := days[e.start]
	k := sd.key
	cur := sd.currency
	name := seriesName(acct, k)
	verb := "spiked to"
	if r.Impact < 0 {
		verb = "dropped to"
	}
	change := ""
	if r.Expected > 0 {
		change = fmt.Sprintf(" (%+.0f%%)", 100*r.Impact/r.Expected)
	}
	title := fmt.Sprintf("%s %s %s/day, expected %s%s", name, verb, cost.Money(r.Observed, cur), cost.Money(r.Expected, cur), change)
	if r.Outage {
		title = fmt.Sprintf("%s dropped to near zero (%s/day, expected %s): possible outage", name, cost.Money(r.Observed, cur), cost.Money(r.Expected, cur))
	}
	status := fmt.Sprintf("Anomalous since %s", since.Format("Jan 2"))
	if e.last > e.start {
		status += fmt.Sprintf(", last anomalous %s", days[e.last].Format("Jan 2"))
	}
	if !e.open {
		status += "; the episode has ended"
	}
	summary := fmt.Sprintf("Observed %s on %s against an expected %s (%s%s per day, %.1fσ).\n"+
		"%s; detector %s, score %.2f.\n"+
		"Rule %s. If this is the new normal, mark it expected so it becomes the baseline.",
		cost.Money(r.Observed, cur), days[at].Format("Jan 2"), cost.Money(r.Expected, cur), sign(r.Impact), cost.Money(math.Abs(r.Impact), cur),
		r.Sigma, status, r.Detector, r.Score, a.Name)
	if provisional && at == n-1 {
		summary = fmt.Sprintf("Provisional: %s is the latest day and its data may still change.\n", days[at].Format("Jan 2")) + summary
	}
	from := max(n-chartDays, 0)
	ref := make([]float64, n-from)
	for i := range ref {
		ref[i] = res[from+i].Expected
	}
	f := a.episodeFinding(acct, k, since, "anomaly")
	f.Title, f.Summary, f.Currency, f.Actual = title, summary, cur, r.Observed
	f.Anomaly = &cost.AnomalyDetail{
		Expected: r.Expected,
		Observed: r.Observed,
		Sigma:    r.Sigma,
		Impact:   r.Impact,
		Score:    r.Score,
		Detector: r.Detector,
		Since:    since,
		Day:      days[at],
		Outage:   r.Outage,
	}
	f.Chart = &cost.Chart{
		Title:          fmt.Sprintf("%s daily cost", name),
		Days:           append([]time.Time(nil), days[from:]...),
		Values:         append([]float64(nil), values[from:]...),
		Reference:      ref,
		ReferenceLabel: "expected",
	}
	return f
}

// episodeFinding is the identity every finding of the episode starting on
// first carries: kind, rule, scope, period (that day), threshold, severity
// and notifiers.
func (a *Anomaly) episodeFinding(acct cost.Account, k cost.SeriesKey, first time.Time, threshold string) cost.Finding {
	return cost.Finding{
		Kind:      cost.KindAnomaly,
		Rule:      a.Name,
		Scope:     cost.Scope{Account: acct.ID, AccountName: acct.Name, Service: k.Service, Family: k.Family, Zone: k.Zone},
		Period:    cost.Period{Start: first, End: first.Add(day)},
		Threshold: threshold,
		Severity:  a.Severity,
		Notifiers: append([]string(nil), a.Notify...),
		Anomaly:   &cost.AnomalyDetail{Since: first, Day: first},
	}
}

// clearedFinding says that the episode starting on first no longer shows.
func clearedFinding(a *Anomaly, acct cost.Account, sd *seriesData, first time.Time, why string) cost.Finding {
	f := a.episodeFinding(acct, sd.key, first, "anomaly")
	f.Title = fmt.Sprintf("%s: the anomaly of %s is gone (%s)", seriesName(acct, sd.key), first.Format("Jan 2"), why)
	f.Summary = fmt.Sprintf("The anomaly that started on %s is cleared: %s. Rule %s.", first.Format("Jan 2"), why, a.Name)
	f.Currency, f.Clear = sd.currency, why
	return f
}

// catchUpFinding summarizes the episodes one rule found late in one account
// in a single alert, instead of one alert each.
func catchUpFinding(a *Anomaly, acct cost.Account, late []cost.Finding, first time.Time) cost.Finding {
	slices.SortFunc(late, func(x, y cost.Finding) int {
		return cmp.Or(-cmp.Compare(math.Abs(x.Anomaly.Impact), math.Abs(y.Anomaly.Impact)), strings.Compare(x.Title, y.Title))
	})
	var b strings.Builder
	fmt.Fprintf(&b, "Catching up from %s (data arrived late or costbot was not running), rule %s found %d anomalies; the largest:\n",
		first.Format("Jan 2"), a.Name, len(late))
	for i, f := range late {
		if i == 10 {
			fmt.Fprintf(&b, "…and %d more", len(late)-10)
			break
		}
		fmt.Fprintf(&b, "• %s (since %s)\n", f.Title, f.Period.Start.Format("Jan 2"))
	}
	f := a.episodeFinding(acct, cost.SeriesKey{}, first, "catch-up")
	f.Title = fmt.Sprintf("%d anomalies in %s found late, since %s", len(late), label(acct), first.Format("Jan 2"))
	f.Summary, f.Currency = strings.TrimRight(b.String(), "\n"), late[0].Currency
	return f
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func sign(v float64) string {
	if v < 0 {
		return "-"
	}
	return "+"
}
