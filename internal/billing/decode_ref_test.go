package billing

// The decoder costbot used before the streaming one (stream.go), kept as the
// reference the stream is compared with (TestStream_MatchesReference,
// FuzzDecodeStream, BenchmarkDecode): it reads the whole body, unmarshals
// the envelope (checkResponse), splits result into []json.RawMessage and
// each row into a map[string]json.RawMessage.

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

// refFields reads one JSON object leniently: unknown keys are ignored, and a
// missing key, null and the text "NULL" all mean absent.
type refFields struct {
	m   map[string]json.RawMessage
	row int
}

func (f refFields) fail(field string, err error) error {
	return &DecodeError{Row: f.row, Field: field, Err: err}
}

func (f refFields) raw(name string) (json.RawMessage, bool) {
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

func (f refFields) str(name string) (string, bool, error) {
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

func (f refFields) num(name string) (float64, bool, error) {
	x, ok, _, err := f.number(name)
	return x, ok, err
}

// number is num that also reports, with a nil error, a value that is a
// number but not a finite one (NaN, ±Inf, or out of float64 range like
// 1e400) as nonFinite.
func (f refFields) number(name string) (x float64, ok, nonFinite bool, err error) {
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

func (f refFields) time(name string) (time.Time, bool, error) {
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

// refObjects splits a result array into one field reader per row.
func refObjects(result json.RawMessage) ([]refFields, error) {
	result = bytes.TrimSpace(result)
	if len(result) == 0 || string(result) == "null" {
		return nil, nil
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(result, &raws); err != nil {
		return nil, &DecodeError{Row: -1, Field: "result", Err: errors.New("want an array of rows")}
	}
	out := make([]refFields, 0, len(raws))
	for i, r := range raws {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(r, &m); err != nil || m == nil {
			return nil, &DecodeError{Row: i, Err: errors.New("want a JSON object")}
		}
		out = append(out, refFields{m: m, row: i})
	}
	return out, nil
}

// refDecoder collects the first error of a sequence of field reads.
type refDecoder struct {
	f      refFields
	err    error
	reject *DecodeError // why the row is dropped; see row.Rejected
}

func (d *refDecoder) str(name string) string {
	s, _, err := d.f.str(name)
	d.keep(err)
	if err == nil && strings.IndexByte(s, 0) >= 0 {
		d.rejectRow(d.f.fail(name, errNUL).(*DecodeError))
	}
	return s // the row is dropped; a required field is not "missing"
}

func (d *refDecoder) num(name string) (float64, bool) {
	x, ok, err := d.f.num(name)
	d.keep(err)
	return x, ok
}

// cost reads a cost field. A value that is not a finite number or is beyond
// ±MaxAbsCost rejects the row (see row.Rejected) instead of failing the
// response; any other bad value fails it as num does.
func (d *refDecoder) cost(name string) (float64, bool) {
	x, ok, nonFinite, err := d.f.number(name)
	switch {
	case nonFinite:
		d.rejectRow(err.(*DecodeError))
		return 0, false
	case err != nil:
		d.keep(err)
		return 0, false
	case ok && math.Abs(x) > MaxAbsCost:
		d.rejectRow(d.f.fail(name, fmt.Errorf("%g is beyond ±%g", x, MaxAbsCost)).(*DecodeError))
		return 0, false
	}
	return x, ok
}

func (d *refDecoder) rejectRow(e *DecodeError) {
	if d.reject == nil {
		d.reject = e
	}
}

func (d *refDecoder) time(name string) time.Time {
	t, _, err := d.f.time(name)
	d.keep(err)
	return t
}

func (d *refDecoder) keep(err error) {
	if d.err == nil && err != nil {
		d.err = err
	}
}

func (d *refDecoder) require(name string, present bool) {
	if !present {
		d.keep(d.f.fail(name, errors.New("missing")))
	}
}

// refDecodeRows decodes every object of a usage result: the FOCUS-style columns
// both API versions share are read here, the version's own by one. A bad
// required or malformed field fails the whole result; a row whose cost is
// out of range comes back with Rejected set (see validRows).
func refDecodeRows(result json.RawMessage, one func(d *refDecoder, r *row)) ([]row, error) {
	objs, err := refObjects(result)
	if err != nil {
		return nil, err
	}
	rows := make([]row, 0, len(objs))
	for _, f := range objs {
		d := &refDecoder{f: f}
		var r row
		r.Day = d.time("ChargePeriodStart")
		d.require("ChargePeriodStart", !r.Day.IsZero())
		r.ChargeEnd = d.time("ChargePeriodEnd")
		r.PeriodStart = d.time("BillingPeriodStart")
		r.Currency = d.str("BillingCurrency")
		r.Unit = d.str("ConsumedUnit")
		r.Class = d.str("ChargeClass")
		r.Category = d.str("ChargeCategory")
		r.Quantity, _ = d.num("ConsumedQuantity")
		one(d, &r)
		if d.err != nil {
			return nil, d.err
		}
		r.Rejected = d.reject
		r.Day = cost.Day(r.Day)
		rows = append(rows, r)
	}
	return rows, nil
}

// refDecodeV1Rows decodes PayGo v1 rows: PascalCase, any of the shapes seen so
// far (the 11-field legacy shape up to the FOCUS-style superset). Cost is
// ContractedCost (BilledCost when only that is present).
func refDecodeV1Rows(result json.RawMessage) ([]row, error) {
	return refDecodeRows(result, func(d *refDecoder, r *row) {
		r.Service = d.str("ServiceName")
		d.require("ServiceName", r.Service != "")
		r.Family = d.str("ServiceFamilyName")
		r.Zone = d.str("ZoneName")
		r.ZoneID = d.str("ZoneId")
		// BilledCost is read only when ContractedCost is absent, so it
		// rejects the row only when it is the cost used.
		if contracted, ok := d.cost("ContractedCost"); ok {
			r.Cost, r.CostKnown = contracted, true
		} else if d.reject == nil {
			r.Cost, r.CostKnown = d.cost("BilledCost")
		}
		if !r.PeriodStart.IsZero() {
			r.PeriodStart = cost.Day(r.PeriodStart)
		}
	})
}

// refDecodeV2Rows decodes usage v2 (FOCUS) rows. Cost is BilledCost; when it is
// absent the cost is unknown, never zero.
func refDecodeV2Rows(result json.RawMessage) ([]row, error) {
	return refDecodeRows(result, func(d *refDecoder, r *row) {
		r.MetricID = d.str("x_BillableMetricId")
		r.Service = d.str("x_BillableMetricName")
		if r.Service == "" {
			r.Service = r.MetricID
		}
		d.require("x_BillableMetricName", r.Service != "")
		r.PeriodEnd = d.time("BillingPeriodEnd")
		r.Family = d.str("x_ProductFamilyName")
		r.Zone = d.str("x_ZoneName")
		r.ZoneID = d.str("x_ZoneId")
		r.Region = d.str("RegionId")
		r.SubAccount = d.str("SubAccountId")
		r.Cost, r.CostKnown = d.cost("BilledCost")
	})
}

// refKey is row.key before it counted seconds instead of formatting times.
func refKey(r row) string {
	return strings.Join([]string{r.MetricID, r.Service, r.Zone, r.ZoneID, r.Region, r.SubAccount,
		r.Day.Format(time.RFC3339), r.ChargeEnd.Format(time.RFC3339), r.PeriodStart.Format(time.RFC3339),
		r.Class, r.Category}, "\x00")
}
