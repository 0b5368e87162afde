// Package detectcli implements `costbot detect`: it reads a two-column CSV
// (timestamp, value) on stdin and writes `timestamp,score,anomaly` on stdout,
// one row per input row, in order. --mode picks the detector: the cost
// ensemble of package detect, or package metrics for sub-daily metrics
// (auto: metrics when rows are less than 23 hours apart).
package detectcli

import (
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/costbot/costbot/internal/detect"
	"github.com/costbot/costbot/internal/detect/metrics"
)

// Exit codes.
const (
	ExitOK       = 0
	ExitFailure  = 1 // writing the output failed
	ExitBadInput = 2 // bad flags or bad input
)

// maxGapFill bounds the missing points inserted for one gap.
const maxGapFill = 10000

const usage = `usage: costbot detect [flags] < series.csv

Reads a CSV with a header on stdin: first column a date or timestamp
(2026-01-31, RFC 3339 or 2006-01-02 15:04:05), second column a number (empty =
missing). Writes timestamp,score,anomaly: one row per input row, in order.

Rows are evenly spaced points; a gap that is a whole number of steps is
filled with missing points so the season stays aligned. Equal timestamps are
consecutive points. A decreasing timestamp is an error unless --allow-unsorted.

flags:
`

// detector is what Main needs of the cost ensemble (*detect.Detector) and of
// metrics mode (*metrics.Detector).
type detector interface {
	Index() int
	Step(v float64) detect.Result
}

var (
	_ detector = (*detect.Detector)(nil)
	_ detector = (*metrics.Detector)(nil)
)

// Main runs `costbot detect` with args (without the subcommand name) and
// returns the exit code.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	def := detect.DefaultOptions()
	fs := flag.NewFlagSet("detect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	minImpact := fs.Float64("min-impact", def.MinImpact, "minimum |observed-expected| per point in series units (currency per day); below it nothing is anomalous")
	minChange := fs.Float64("min-change", def.MinChange, "minimum |observed-expected|/expected (0.2 = 20%)")
	sens := fs.String("sensitivity", def.Sensitivity.String(), "low, medium or high")
	method := fs.String("method", def.Method.String(), "ensemble, seasonal, cusum, ramp, outage or esd")
	dir := fs.String("direction", def.Direction.String(), "up, down or both (outages are reported in every direction)")
	season := fs.String("season", "auto", "season length in points, or auto (daily data: 7; sub-daily: points per day; else none)")
	warm := fs.String("warm-up", "auto", "points before anything is judged, or auto (28 for daily data; metrics mode 150; else 2 seasons, at least 28)")
	episodes := fs.Bool("alert-once", true, "anomaly=1 only on the first point of an anomalous episode (an alert), not on every point of it; later points of the episode score below 0.5")
	mode := fs.String("mode", "auto", "cost, metrics or auto (metrics when rows are less than a day apart, else cost)")
	unsorted := fs.Bool("allow-unsorted", false, "tolerate decreasing timestamps (NAB has one); rows stay in input order")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitBadInput
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "costbot detect: unexpected argument %q\n", fs.Arg(0))
		return ExitBadInput
	}
	opts := def
	opts.MinImpact, opts.MinChange = *minImpact, *minChange
	var err error
	var errs []error
	if opts.Sensitivity, err = detect.ParseSensitivity(*sens); err != nil {
		errs = append(errs, fmt.Errorf("--sensitivity: %w", err))
	}
	if opts.Method, err = detect.ParseMethod(*method); err != nil {
		errs = append(errs, fmt.Errorf("--method: %w", err))
	}
	if opts.Direction, err = detect.ParseDirection(*dir); err != nil {
		errs = append(errs, fmt.Errorf("--direction: %w", err))
	}
	seasonN, warmN := -1, -1
	if *season != "auto" {
		if seasonN, err = strconv.Atoi(*season); err != nil || seasonN < 1 || seasonN > detect.MaxSeason {
			errs = append(errs, fmt.Errorf("--season: %q is not auto or an integer in 1..%d", *season, detect.MaxSeason))
		}
	}
	if *warm != "auto" {
		if warmN, err = strconv.Atoi(*warm); err != nil || warmN < 0 {
			errs = append(errs, fmt.Errorf("--warm-up: %q is not auto or an integer >= 0", *warm))
		}
	}
	if *mode != "auto" && *mode != "cost" && *mode != "metrics" {
		errs = append(errs, fmt.Errorf("--mode: %q is not auto, cost or metrics", *mode))
	}
	if len(errs) > 0 {
		fmt.Fprintf(stderr, "costbot detect: %v\n", errors.Join(errs...))
		return ExitBadInput
	}

	in, err := ReadCSV(stdin, *unsorted)
	if err != nil {
		fmt.Fprintf(stderr, "costbot detect: %v\n", err)
		return ExitBadInput
	}
	step := in.Step()
	if seasonN < 0 {
		seasonN = AutoSeason(step)
	}
	opts.Season = seasonN
	metricsMode := *mode == "metrics" || *mode == "auto" && step > 0 && step < 23*time.Hour
	if warmN < 0 {
		warmN = AutoWarmUp(step, seasonN)
		if metricsMode {
			warmN = MetricsWarmUp
		}
	}
	opts.WarmUp = warmN
	if AutoSeason(step) == 7 && seasonN == 7 {
		t0 := in.Times[0].UTC()
		opts.Start = time.Date(t0.Year(), t0.Month(), t0.Day(), 0, 0, 0, 0, time.UTC)
	}
	if err := opts.Validate(); err != nil {
		fmt.Fprintf(stderr, "costbot detect: %v\n", err)
		return ExitBadInput
	}
	var d detector
	if metricsMode {
		d, err = metrics.New(metrics.Options{Season: opts.Season, WarmUp: opts.WarmUp, MinImpact: opts.MinImpact,
			Method: opts.Method, Start: opts.Start})
	} else {
		d, err = detect.New(opts)
	}
	if err != nil {
		fmt.Fprintf(stderr, "costbot detect: %v\n", err)
		return ExitBadInput
	}

	w := csv.NewWriter(stdout)
	_ = w.Write([]string{"timestamp", "score", "anomaly"})
	rec := make([]string, 3)
	for i, v := range in.Values {
		if i > 0 && step > 0 {
			for range in.gapFill(i, step) {
				d.Step(math.NaN())
			}
		}
		pos := d.Index()
		r := d.Step(v)
		rec[0] = in.Stamps[i]
		score := r.Score
		if *episodes && r.Since >= 0 && r.Since != pos {
			score *= 0.49 // a continuing episode is not a new alert
		}
		rec[1] = strconv.FormatFloat(score, 'g', 10, 64)
		rec[2] = "0"
		if r.Anomaly && (r.Since == pos || !*episodes) {
			rec[2] = "1"
		}
		if err := w.Write(rec); err != nil {
			break
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		fmt.Fprintf(stderr, "costbot detect: write output: %v\n", err)
		return ExitFailure
	}
	return ExitOK
}

// Input is a parsed series.
type Input struct {
	Header []string
	Stamps []string    // first column, as given
	Times  []time.Time // parsed first column
	Values []float64   // NaN = missing
}

// LineError is bad input on one line (1-based, the header is line 1).
type LineError struct {
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// ErrNoData says the input has a header but no rows.
var ErrNoData = errors.New("no data rows after the header")

var layouts = []string{"2006-01-02", time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02 15:04"}

// ParseTime parses a date (2026-01-31), RFC 3339 or "2006-01-02 15:04:05"
// timestamp; zone-less forms are UTC.
func ParseTime(s string) (time.Time, error) {
	for _, l := range layouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("timestamp %q: want 2026-01-31, RFC 3339 or 2006-01-02 15:04:05", s)
}

// ReadCSV reads a headed two-column CSV. Equal timestamps are accepted; a
// decreasing one is an error unless allowUnsorted.
func ReadCSV(r io.Reader, allowUnsorted bool) (*Input, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = true
	in := &Input{}
	line := 0
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		line++
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, &LineError{Line: pe.Line, Err: pe.Err}
			}
			return nil, &LineError{Line: line, Err: err}
		}
		if line == 1 {
			if len(rec) < 2 {
				return nil, &LineError{Line: 1, Err: errors.New("header: want at least two columns (timestamp,value)")}
			}
			if _, err := ParseTime(strings.TrimSpace(rec[0])); err == nil {
				return nil, &LineError{Line: 1, Err: fmt.Errorf("no header: first row starts with timestamp %q", rec[0])}
			}
			in.Header = append([]string(nil), rec...)
			continue
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		if len(rec) < 2 {
			return nil, &LineError{Line: line, Err: fmt.Errorf("want 2 columns, got %d", len(rec))}
		}
		ts := strings.TrimSpace(rec[0])
		t, err := ParseTime(ts)
		if err != nil {
			return nil, &LineError{Line: line, Err: err}
		}
		if n := len(in.Times); n > 0 && t.Before(in.Times[n-1]) && !allowUnsorted {
			return nil, &LineError{Line: line, Err: fmt.Errorf("timestamp %s is before the previous row's %s (rows must be sorted; --allow-unsorted tolerates this)", ts, in.Stamps[n-1])}
		}
		vs := strings.TrimSpace(rec[1])
		v := math.NaN()
		if vs != "" {
			v, err = strconv.ParseFloat(vs, 64)
			if err != nil || math.IsInf(v, 0) {
				return nil, &LineError{Line: line, Err: fmt.Errorf("value %q is not a finite number", vs)}
			}
		}
		in.Stamps = append(in.Stamps, ts)
		in.Times = append(in.Times, t)
		in.Values = append(in.Values, v)
	}
	if line == 0 {
		return nil, &LineError{Line: 1, Err: errors.New("empty input: want a header timestamp,value")}
	}
	if len(in.Values) == 0 {
		return nil, &LineError{Line: line, Err: ErrNoData}
	}
	return in, nil
}

// Step returns the median positive spacing of the first 1000 rows, or 0.
func (in *Input) Step() time.Duration {
	var ds []time.Duration
	for i := 1; i < len(in.Times) && i <= 1000; i++ {
		if d := in.Times[i].Sub(in.Times[i-1]); d > 0 {
			ds = append(ds, d)
		}
	}
	if len(ds) == 0 {
		return 0
	}
	sort.Slice(ds, func(a, b int) bool { return ds[a] < ds[b] })
	return ds[len(ds)/2]
}

// gapFill returns how many missing points lie between rows i-1 and i: a gap
// of m whole steps (within 10% of a step) holds m-1 missing points.
func (in *Input) gapFill(i int, step time.Duration) int {
	g := in.Times[i].Sub(in.Times[i-1])
	if g <= step {
		return 0
	}
	m := int(math.Round(float64(g) / float64(step)))
	if math.Abs(float64(g)-float64(m)*float64(step)) > 0.1*float64(step) {
		return 0
	}
	return min(max(m-1, 0), maxGapFill)
}

// AutoSeason picks the season from the spacing: daily data (23-25 h) has a
// weekly season of 7; spacing that divides a day evenly gets a daily season
// (points per day, e.g. 288 for 5 minutes, 24 for hourly); anything else, or
// a single row, gets no season (1).
func AutoSeason(step time.Duration) int {
	day := 24 * time.Hour
	switch {
	case step <= 0:
		return 1
	case step >= 23*time.Hour && step <= 25*time.Hour:
		return 7
	case step < day/2 && day%step == 0:
		return min(int(day/step), detect.MaxSeason)
	}
	return 1
}

// MetricsWarmUp is the automatic warm-up in metrics mode: the points that
// fix the quantization scale before anything is judged.
const MetricsWarmUp = metrics.DefaultWarmUp

// AutoWarmUp is 28 points for daily data (four weeks) and otherwise two
// seasons, at least 28 points.
func AutoWarmUp(step time.Duration, season int) int {
	if AutoSeason(step) == 7 && season == 7 {
		return 28
	}
	return max(2*season, 28)
}
