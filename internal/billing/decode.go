package billing

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/costbot/costbot/internal/cost"
)

// row is one decoded usage line, before it becomes a cost.Usage. Raw API
// shapes stay in this file.
type row struct {
	Service     string
	MetricID    string
	Family      string
	Zone        string
	ZoneID      string
	Region      string
	SubAccount  string
	Day         time.Time
	ChargeEnd   time.Time
	PeriodStart time.Time // zero when absent
	PeriodEnd   time.Time // zero when absent (always in v1)
	Cost        float64
	CostKnown   bool
	Currency    string
	Quantity    float64
	Unit        string
	Class       string
	Category    string
	// Rejected says why the row is dropped (a cost that is not finite or
	// beyond MaxAbsCost); the other rows of the response are kept.
	Rejected *DecodeError
}

// MaxAbsCost is the largest cost magnitude a usage row may carry, in the
// bill's currency. A row beyond it (or with a cost that is not a finite
// number) is dropped with a warning: sums of such rows turn into ±Inf and
// every message built from them breaks.
const MaxAbsCost = 1e12

// key identifies a row for de-duplication across requests. Times count to
// the second (they are UTC), as their RFC 3339 text did; the key is built in
// one allocation since every row of every response gets one.
func (r *row) key() string {
	var arr [192]byte
	b := arr[:0]
	for _, s := range [...]string{r.MetricID, r.Service, r.Zone, r.ZoneID, r.Region, r.SubAccount} {
		b = append(append(b, s...), 0)
	}
	for _, t := range [...]time.Time{r.Day, r.ChargeEnd, r.PeriodStart} {
		b = append(strconv.AppendInt(b, t.Unix(), 10), 0)
	}
	b = append(append(b, r.Class...), 0)
	return string(append(b, r.Category...))
}

func (r *row) usage(account string) cost.Usage {
	return cost.Usage{
		Account:       account,
		Service:       r.Service,
		Family:        r.Family,
		Zone:          r.Zone,
		Day:           r.Day,
		BillingPeriod: cost.Period{Start: r.PeriodStart, End: r.PeriodEnd},
		Cost:          r.Cost,
		CostKnown:     r.CostKnown,
		Currency:      r.Currency,
		Quantity:      r.Quantity,
		Unit:          r.Unit,
		Correction:    strings.EqualFold(r.Class, "Correction"),
	}
}

// fields reads one JSON object leniently: unknown keys are ignored, and a
// missing key, null and the text "NULL" all mean absent.
type fields struct {
	m   map[string]json.RawMessage
	row int
}

func (f fields) fail(field string, err error) error {
	return &DecodeError{Row: f.row, Field: field, Err: err}
}

func (f fields) raw(name string) (json.RawMessage, bool) {
	v, ok := f.m[name]
	if !ok {
		return nil, false
	}
	v = bytes.TrimSpace(v)
	if len(v) == 0 || string(v) == "null" || string(v) == `"NULL"` {
		return nil, false
	}
	return v, true
}

func (f fields) str(name string) (string, bool, error) {
	v, ok := f.raw(name)
	if !ok {
		return "", false, nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", false, f.fail(name, fmt.Errorf("want a string, got %.40s", v))
	}
	return s, true, nil
}

func (f fields) num(name string) (float64, bool, error) {
	x, ok, _, err := f.number(name)
	return x, ok, err
}

// number is num that also reports, with a nil error, a value that is a
// number but not a finite one (NaN, ±Inf, or out of float64 range like
// 1e400) as nonFinite.
func (f fields) number(name string) (x float64, ok, nonFinite bool, err error) {
	v, ok := f.raw(name)
	if !ok {
		return 0, false, false, nil
	}
	text := string(v)
	if v[0] == '"' {
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return 0, false, false, f.fail(name, err)
		}
		text = strings.TrimSpace(s)
		if text == "" {
			return 0, false, false, nil
		}
	}
	x, perr := strconv.ParseFloat(text, 64)
	if (perr == nil || errors.Is(perr, strconv.ErrRange)) && (math.IsNaN(x) || math.IsInf(x, 0)) {
		return 0, false, true, f.fail(name, fmt.Errorf("want a finite number, got %.40s", v))
	}
	if perr != nil {
		return 0, false, false, f.fail(name, fmt.Errorf("want a finite number, got %.40s", v))
	}
	return x, true, false, nil
}

var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05",
	"2006-01-02",
}

func (f fields) time(name string) (time.Time, bool, error) {
	s, ok, err := f.str(name)
	if err != nil || !ok {
		return time.Time{}, false, err
	}
	s = strings.TrimSpace(s)
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), true, nil
		}
	}
	return time.Time{}, false, f.fail(name, fmt.Errorf("want an RFC 3339 timestamp, got %q", truncate(s, 40)))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// objects splits a result array into one field reader per row.
func objects(result json.RawMessage) ([]fields, error) {
	result = bytes.TrimSpace(result)
	if len(result) == 0 || string(result) == "null" {
		return nil, nil
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(result, &raws); err != nil {
		return nil, &DecodeError{Row: -1, Field: "result", Err: errors.New("want an array of rows")}
	}
	out := make([]fields, 0, len(raws))
	for i, r := range raws {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(r, &m); err != nil || m == nil {
			return nil, &DecodeError{Row: i, Err: errors.New("want a JSON object")}
		}
		out = append(out, fields{m: m, row: i})
	}
	return out, nil
}

// profile is the part of the billing profile costbot reads.
type profile struct {
	Month, Year int
	HasMonth    bool
	HasYear     bool
	Masked      string
}

func decodeProfile(result json.RawMessage) (profile, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(result, &m); err != nil || m == nil {
		return profile{}, &DecodeError{Row: -1, Field: "result", Err: errors.New("want a JSON object")}
	}
	f := fields{m: m, row: -1}
	var p profile
	month, okM, err := f.num("card_expiry_month")
	if err != nil {
		return p, err
	}
	year, okY, err := f.num("card_expiry_year")
	if err != nil {
		return p, err
	}
	masked, _, err := f.str("card_number")
	if err != nil {
		return p, err
	}
	p.HasMonth, p.HasYear, p.Masked = okM && month != 0, okY && year != 0, masked
	if p.HasMonth {
		if month != math.Trunc(month) || month < 1 || month > 12 {
			return p, f.fail("card_expiry_month", fmt.Errorf("%v is not a month 1-12", month))
		}
		p.Month = int(month)
	}
	if p.HasYear {
		if year != math.Trunc(year) || year < 1000 || year > 9999 {
			return p, f.fail("card_expiry_year", fmt.Errorf("%v is not a four-digit year", year))
		}
		p.Year = int(year)
	}
	return p, nil
}

// anchorInfo is the billing-cycle anchor read from the PayGo info endpoint.
func decodeAnchor(result json.RawMessage) (time.Time, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(result, &m); err != nil || m == nil {
		return time.Time{}, &DecodeError{Row: -1, Field: "result", Err: errors.New("want a JSON object")}
	}
	subs, ok := m["subscriptions"]
	if !ok {
		return time.Time{}, &DecodeError{Row: -1, Field: "subscriptions", Err: errors.New("missing")}
	}
	objs, err := objects(subs)
	if err != nil {
		var de *DecodeError
		if errors.As(err, &de) && de.Field == "result" {
			de.Field = "subscriptions"
		}
		return time.Time{}, err
	}
	var first time.Time
	for _, f := range objs {
		a, ok, err := f.time("billing_cycle_anchor_timestamp")
		if err != nil {
			return time.Time{}, err
		}
		if !ok {
			continue
		}
		_, cancelled, err := f.time("end_timestamp")
		if err != nil {
			return time.Time{}, err
		}
		if !cancelled {
			return a, nil
		}
		if first.IsZero() {
			first = a
		}
	}
	if first.IsZero() {
		return time.Time{}, &DecodeError{Row: -1, Field: "billing_cycle_anchor_timestamp", Err: errors.New("no subscription has a billing-cycle anchor")}
	}
	return first, nil
}

// validRows returns the rows that were not rejected, and the reasons for the
// others, each naming its row and field.
func validRows(rows []row) ([]row, []*DecodeError) {
	var bad []*DecodeError
	for i := range rows {
		if rows[i].Rejected != nil {
			bad = append(bad, rows[i].Rejected)
		}
	}
	if bad == nil {
		return rows, nil // the usual case: no copy of a million rows
	}
	out := make([]row, 0, len(rows)-len(bad))
	for _, r := range rows {
		if r.Rejected == nil {
			out = append(out, r)
		}
	}
	return out, bad
}
