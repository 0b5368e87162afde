// Package chart renders an alert's cost.Chart as a PNG image with
// gonum.org/v1/plot, for notifiers that can attach files (the Slack notifier
// uploads it into the alert's thread).
//
// Budget and forecast alerts are drawn as cumulative spend over the budget
// period against the budget (and the alert threshold when it differs), with
// the forecast as a dashed projection to the period's end and the forecast
// crossing date marked. Anomaly alerts, and budget alerts without a usable
// period or budget, are drawn as the daily series against its reference
// (the baseline or the daily budget), with the anomalous day marked.
//
// Unknown values (NaN, ±Inf, or beyond ±MaxValue) are left out, never drawn
// as zero. Rendering is pure: the same alert gives the same picture.
package chart

import (
	"bytes"
	"errors"
	"fmt"
	"image/color"
	"image/png"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	xfont "golang.org/x/image/font"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/costbot/costbot/internal/cost"
)

// Size limits in pixels. Options outside them are clamped.
const (
	DefaultWidth  = 800
	DefaultHeight = 400
	MinSize       = 200
	MaxSize       = 4000
	// MaxTitle is the longest title drawn, in characters; longer titles are
	// cut with "…".
	MaxTitle = 80
	// MaxValue bounds plotted amounts: larger magnitudes are treated as
	// unknown, since they can only be corrupt data and would break the axes.
	MaxValue = 1e12
)

// dpi is the canvas resolution; at 96 dpi one vg.Length inch is 96 pixels.
const dpi = 96

// ErrNoData is returned when the alert has no chart or no known value to draw.
var ErrNoData = errors.New("no known values to chart")

// Options sizes the image.
type Options struct {
	Width  int // pixels; 0 means DefaultWidth; clamped to [MinSize, MaxSize]
	Height int // pixels; 0 means DefaultHeight; clamped to [MinSize, MaxSize]
}

// DefaultOptions returns an 800×400 pixel image.
func DefaultOptions() Options { return Options{Width: DefaultWidth, Height: DefaultHeight} }

func (o Options) size() (w, h int) {
	clamp := func(v, def int) int {
		if v == 0 {
			return def
		}
		return min(max(v, MinSize), MaxSize)
	}
	return clamp(o.Width, DefaultWidth), clamp(o.Height, DefaultHeight)
}

// Colors, picked to stay distinguishable for the common color-vision
// deficiencies (the matplotlib "tab10" order).
var (
	colSpend     = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff} // blue
	colBudget    = color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff} // red
	colThreshold = color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff} // orange
	colForecast  = color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff} // purple
	colReference = color.RGBA{R: 0x7f, G: 0x7f, B: 0x7f, A: 0xff} // grey
	colGrid      = color.RGBA{R: 0xe0, G: 0xe0, B: 0xe0, A: 0xff}
)

var dashed = []vg.Length{vg.Points(6), vg.Points(4)}

// PNG renders a.Chart as a PNG of opts' size. It returns ErrNoData when
// a.Chart is nil or holds no known value. A panic inside the plotting
// library is returned as an error: a chart is an extra and must never take
// the alert down with it.
func PNG(a cost.Alert, opts Options) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("render chart for %q: panic: %v", a.Fingerprint, r)
		}
	}()
	p, err := build(a)
	if err != nil {
		return nil, err
	}
	w, h := opts.size()
	c := vgimg.NewWith(
		vgimg.UseWH(vg.Length(w)*vg.Inch/dpi, vg.Length(h)*vg.Inch/dpi),
		vgimg.UseDPI(dpi),
	)
	p.Draw(draw.New(c))
	var buf bytes.Buffer
	buf.Grow(64 << 10)
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, c.Image()); err != nil {
		return nil, fmt.Errorf("encode chart for %q: %w", a.Fingerprint, err)
	}
	return buf.Bytes(), nil
}

// build chooses the view and assembles the plot.
func build(a cost.Alert) (*plot.Plot, error) {
	c := a.Chart
	if c == nil {
		return nil, ErrNoData
	}
	days := dayXs(c.Days)
	vals := c.Values
	if !anyKnown(days, vals) {
		return nil, ErrNoData
	}
	p := plot.New()
	p.Title.Text = title(a)
	p.Title.Padding = vg.Points(6)
	p.Title.TextStyle.Font = sans(14, xfont.WeightBold)
	p.X.Label.TextStyle.Font = sans(12, xfont.WeightNormal)
	p.Y.Label.TextStyle.Font = sans(12, xfont.WeightNormal)
	p.X.Tick.Label.Font = sans(10, xfont.WeightNormal)
	p.Y.Tick.Label.Font = sans(10, xfont.WeightNormal)
	p.Legend.TextStyle.Font = sans(11, xfont.WeightNormal)
	p.Legend.Padding = vg.Points(3)
	p.Legend.Top = true
	p.Legend.Left = true
	p.Legend.XOffs = vg.Points(8)
	p.Legend.YOffs = -vg.Points(4)
	p.Legend.ThumbnailWidth = vg.Points(24)
	p.X.Tick.Marker = dayTicks{}
	p.Y.Tick.Marker = moneyTicks{currency: a.Currency}
	grid := plotter.NewGrid()
	grid.Vertical.Color = colGrid
	grid.Horizontal.Color = colGrid
	p.Add(grid)

	var err error
	if (a.Kind == cost.KindBudget || a.Kind == cost.KindForecast) && known(a.Budget) && a.Budget > 0 &&
		!a.Period.IsZero() && a.Period.End.After(a.Period.Start) {
		err = cumulative(p, a, days, vals)
	} else {
		err = daily(p, a, days, vals)
	}
	if err != nil {
		return nil, fmt.Errorf("plot chart for %q: %w", a.Fingerprint, err)
	}
	return p, nil
}

// daily draws the per-day series, its reference and the anomalous day.
func daily(p *plot.Plot, a cost.Alert, days []float64, vals []float64) error {
	c := a.Chart
	p.Y.Label.Text = currencyLabel(a.Currency, "per day")
	r := newRange()

	spend := segments(days, vals, 0)
	if err := addSeries(p, "Daily spend", spend, colSpend, nil, true); err != nil {
		return err
	}
	r.addAll(spend)

	if ref := segments(days, c.Reference, 0); len(ref) > 0 {
		label := oneLine(c.ReferenceLabel)
		if label == "" {
			label = "Reference"
			if a.Kind == cost.KindAnomaly {
				label = "Expected"
			}
		}
		if err := addSeries(p, truncate(label, 40), ref, colReference, dashed, false); err != nil {
			return err
		}
		r.addAll(ref)
	}

	if an := a.Anomaly; an != nil {
		x, y, ok := anomalyPoint(an, days, vals)
		if ok {
			s, err := plotter.NewScatter(plotter.XYs{{X: x, Y: y}})
			if err != nil {
				return err
			}
			s.GlyphStyle = draw.GlyphStyle{Color: colBudget, Radius: vg.Points(7), Shape: draw.RingGlyph{}}
			p.Add(s)
			p.Legend.Add(fmt.Sprintf("Anomaly %s: %s", unixDay(x).Format("Jan 2"), cost.Money(y, a.Currency)), s)
			r.add(x, y)
		}
	}
	r.apply(p, 12*time.Hour)
	return nil
}

// anomalyPoint places the anomaly marker: at Anomaly.Day (the last charted
// day when unset) with the observed value, falling back to the charted value.
func anomalyPoint(an *cost.AnomalyDetail, days, vals []float64) (x, y float64, ok bool) {
	n := min(len(days), len(vals))
	idx := -1
	if an.Day.IsZero() {
		for i := n - 1; i >= 0; i-- {
			if !math.IsNaN(days[i]) {
				idx = i
				break
			}
		}
		if idx < 0 {
			return 0, 0, false
		}
		x = days[idx]
	} else {
		x = float64(cost.Day(an.Day).Unix())
		for i := range n {
			if days[i] == x {
				idx = i
			}
		}
	}
	y = an.Observed
	if !known(y) && idx >= 0 {
		y = vals[idx]
	}
	if !known(y) || !known(x) {
		return 0, 0, false
	}
	return x, y, true
}

// cumulative draws spend so far in the period, the budget, the threshold,
// the forecast to the period's end and the crossing date.
//
// The chart holds daily values for the last few days only, so the
// cumulative line is anchored at Finding.Actual at the end of the newest
// known day in the period and walked back by each day's spend; unknown days
// add nothing (which is how Actual counts them). Spend for day d is plotted
// at the end of d, so the line starts at the start of the first known day.
func cumulative(p *plot.Plot, a cost.Alert, days []float64, vals []float64) error {
	const day = 24 * 60 * 60
	start, end := float64(a.Period.Start.Unix()), float64(a.Period.End.Unix())
	p.Y.Label.Text = currencyLabel(a.Currency, "spent in period")
	r := newRange()
	r.add(start, 0)
	r.add(end, a.Budget)

	type pt struct{ x, v float64 }
	var pts []pt
	for i := range min(len(days), len(vals)) {
		if x := days[i]; known(x) && x >= start && x < end && known(vals[i]) {
			pts = append(pts, pt{x, vals[i]})
		}
	}
	if len(pts) == 0 {
		return ErrNoData
	}
	// Anchor: Actual at the end of the newest day; without a usable Actual,
	// sum forward from zero at the oldest day.
	cum := make(plotter.XYs, len(pts)+1)
	total := 0.0
	for _, q := range pts {
		total += q.v
	}
	base := 0.0
	if known(a.Actual) {
		base = a.Actual - total
	}
	cum[0] = plotter.XY{X: pts[0].x, Y: base}
	run := base
	for i, q := range pts {
		run += q.v
		cum[i+1] = plotter.XY{X: q.x + day, Y: run}
	}
	last := cum[len(cum)-1]

	hline := func(name string, y float64, col color.Color, dash []vg.Length) error {
		l, err := plotter.NewLine(plotter.XYs{{X: start, Y: y}, {X: end, Y: y}})
		if err != nil {
			return err
		}
		l.LineStyle = draw.LineStyle{Color: col, Width: vg.Points(1.5), Dashes: dash}
		p.Add(l)
		p.Legend.Add(name, l)
		r.add(start, y)
		return nil
	}
	if err := hline("Budget "+cost.Money(a.Budget, a.Currency), a.Budget, colBudget, nil); err != nil {
		return err
	}
	if known(a.Limit) && a.Limit > 0 && a.Limit != a.Budget {
		name := "Alert at " + cost.Money(a.Limit, a.Currency)
		if err := hline(name, a.Limit, colThreshold, []vg.Length{vg.Points(2), vg.Points(3)}); err != nil {
			return err
		}
	}

	if err := addSeries(p, "Spent "+cost.Money(last.Y, a.Currency), []plotter.XYs{cum}, colSpend, nil, true); err != nil {
		return err
	}
	r.addAll([]plotter.XYs{cum})

	if known(a.Forecast) && a.Forecast > 0 && last.X < end {
		l, err := plotter.NewLine(plotter.XYs{last, {X: end, Y: a.Forecast}})
		if err != nil {
			return err
		}
		l.LineStyle = draw.LineStyle{Color: colForecast, Width: vg.Points(2), Dashes: dashed}
		p.Add(l)
		p.Legend.Add("Forecast "+cost.Money(a.Forecast, a.Currency), l)
		r.add(end, a.Forecast)
	}

	if !a.CrossDate.IsZero() {
		x := float64(a.CrossDate.Unix())
		target := a.Budget // KindBudget: when the whole budget is reached
		if a.Kind == cost.KindForecast && known(a.Limit) && a.Limit > 0 {
			target = a.Limit
		}
		if x >= start && x <= end {
			s, err := plotter.NewScatter(plotter.XYs{{X: x, Y: target}})
			if err != nil {
				return err
			}
			s.GlyphStyle = draw.GlyphStyle{Color: colBudget, Radius: vg.Points(6), Shape: draw.CrossGlyph{}}
			p.Add(s)
			p.Legend.Add("Reaches "+cost.Money(target, a.Currency)+" on "+a.CrossDate.UTC().Format("Jan 2"), s)
		}
	}
	r.apply(p, 0)
	p.X.Min, p.X.Max = start, end
	return nil
}

// addSeries adds one line per segment under a single legend entry, with
// point glyphs so that a lone point still shows.
func addSeries(p *plot.Plot, name string, segs []plotter.XYs, col color.Color, dash []vg.Length, glyphs bool) error {
	var thumb plot.Thumbnailer
	for _, seg := range segs {
		l, err := plotter.NewLine(seg)
		if err != nil {
			return err
		}
		l.LineStyle = draw.LineStyle{Color: col, Width: vg.Points(2), Dashes: dash}
		p.Add(l)
		if thumb == nil {
			thumb = l
		}
		if glyphs {
			s, err := plotter.NewScatter(seg)
			if err != nil {
				return err
			}
			s.GlyphStyle = draw.GlyphStyle{Color: col, Radius: vg.Points(2.5), Shape: draw.CircleGlyph{}}
			p.Add(s)
		}
	}
	if thumb != nil {
		p.Legend.Add(name, thumb)
	}
	return nil
}

// segments splits the known (x, y) pairs into runs without gaps; an unknown
// day ends a run, so a missing day shows as a break in the line.
func segments(xs, ys []float64, dx float64) []plotter.XYs {
	var out []plotter.XYs
	var cur plotter.XYs
	for i := range min(len(xs), len(ys)) {
		if !known(xs[i]) || !known(ys[i]) {
			if len(cur) > 0 {
				out = append(out, cur)
				cur = nil
			}
			continue
		}
		cur = append(cur, plotter.XY{X: xs[i] + dx, Y: ys[i]})
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

func anyKnown(xs, ys []float64) bool {
	for i := range min(len(xs), len(ys)) {
		if known(xs[i]) && known(ys[i]) {
			return true
		}
	}
	return false
}

// known reports whether v is a plottable amount.
func known(v float64) bool {
	return !math.IsNaN(v) && !math.IsInf(v, 0) && math.Abs(v) <= MaxValue
}

// dayXs converts days to Unix seconds of their UTC midnight; zero times
// become NaN (unknown).
func dayXs(days []time.Time) []float64 {
	xs := make([]float64, len(days))
	for i, d := range days {
		if d.IsZero() {
			xs[i] = math.NaN()
			continue
		}
		xs[i] = float64(cost.Day(d).Unix())
	}
	return xs
}

func unixDay(x float64) time.Time { return time.Unix(int64(x), 0).UTC() }

// dataRange tracks the extent of what was drawn.
type dataRange struct{ xmin, xmax, ymin, ymax float64 }

func newRange() *dataRange {
	return &dataRange{math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)}
}

func (r *dataRange) add(x, y float64) {
	r.xmin, r.xmax = math.Min(r.xmin, x), math.Max(r.xmax, x)
	r.ymin, r.ymax = math.Min(r.ymin, y), math.Max(r.ymax, y)
}

func (r *dataRange) addAll(segs []plotter.XYs) {
	for _, s := range segs {
		for _, q := range s {
			r.add(q.X, q.Y)
		}
	}
}

// apply sets the axes: the y axis starts at zero (or below, for credits) and
// leaves headroom above the data for the legend; the x axis is padded by
// pad on each side so end points are not cut.
func (r *dataRange) apply(p *plot.Plot, pad time.Duration) {
	if math.IsInf(r.xmin, 0) {
		return
	}
	ymin := math.Min(0, r.ymin)
	ymax := math.Max(0, r.ymax)
	if ymax == ymin {
		ymax = ymin + 1
	}
	ymax += 0.35 * (ymax - ymin) // room for the legend in the top left
	p.Y.Min, p.Y.Max = ymin, ymax
	s := pad.Seconds()
	p.X.Min, p.X.Max = r.xmin-s, r.xmax+s
	if p.X.Min == p.X.Max {
		p.X.Min -= 12 * 3600
		p.X.Max += 12 * 3600
	}
}

// sans is Liberation Sans (embedded with gonum's plot, so rendering needs
// no system fonts) at size points.
func sans(size vg.Length, w xfont.Weight) font.Font {
	return font.Font{Typeface: "Liberation", Variant: "Sans", Weight: w, Size: size}
}

func title(a cost.Alert) string {
	t := oneLine(a.Title)
	if t == "" && a.Chart != nil {
		t = oneLine(a.Chart.Title)
	}
	if t == "" {
		t = "Spend"
	}
	return truncate(t, MaxTitle)
}

func currencyLabel(cur, what string) string {
	cur = strings.ToUpper(strings.TrimSpace(cur))
	if cur == "" {
		return "Cost " + what
	}
	return truncate(cur, 8) + " " + what
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// truncate cuts s to at most n runes, ending with "…" when cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
