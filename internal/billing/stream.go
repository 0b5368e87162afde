package billing

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/costbot/costbot/internal/cost"
)

// MaxUsageBody is the largest usage response body the client reads, in
// bytes (4 GiB, about 3.5M pretty-printed FOCUS rows). Bodies are decoded as
// they arrive, so memory follows the rows kept, not this bound; a larger
// body fails with a DecodeError naming the limit.
const MaxUsageBody = 4 << 30

// schema is the row shape of a usage response.
type schema int

const (
	schemaV1 schema = iota + 1 // PayGo usage v1
	schemaV2                   // usage v2 (FOCUS)
)

// Row columns either schema reads, in no particular order.
const (
	colChargePeriodStart = iota
	colChargePeriodEnd
	colBillingPeriodStart
	colBillingPeriodEnd
	colBillingCurrency
	colConsumedUnit
	colChargeClass
	colChargeCategory
	colConsumedQuantity
	colServiceName
	colServiceFamilyName
	colZoneName
	colZoneID
	colContractedCost
	colBilledCost
	colMetricID
	colMetricName
	colProductFamilyName
	colXZoneName
	colXZoneID
	colRegionID
	colSubAccountID
	numCols
)

var colNames = [numCols]string{
	colChargePeriodStart:  "ChargePeriodStart",
	colChargePeriodEnd:    "ChargePeriodEnd",
	colBillingPeriodStart: "BillingPeriodStart",
	colBillingPeriodEnd:   "BillingPeriodEnd",
	colBillingCurrency:    "BillingCurrency",
	colConsumedUnit:       "ConsumedUnit",
	colChargeClass:        "ChargeClass",
	colChargeCategory:     "ChargeCategory",
	colConsumedQuantity:   "ConsumedQuantity",
	colServiceName:        "ServiceName",
	colServiceFamilyName:  "ServiceFamilyName",
	colZoneName:           "ZoneName",
	colZoneID:             "ZoneId",
	colContractedCost:     "ContractedCost",
	colBilledCost:         "BilledCost",
	colMetricID:           "x_BillableMetricId",
	colMetricName:         "x_BillableMetricName",
	colProductFamilyName:  "x_ProductFamilyName",
	colXZoneName:          "x_ZoneName",
	colXZoneID:            "x_ZoneId",
	colRegionID:           "RegionId",
	colSubAccountID:       "SubAccountId",
}

// colsByLen lists the columns by the length of their key, for matching a
// row key (exact, case-sensitive, as map keys were) with at most three
// comparisons. It is never written after initialization.
var colsByLen = func() (t [32][]int) {
	for i, n := range colNames {
		t[len(n)] = append(t[len(n)], i)
	}
	return t
}()

func colOf(key string) int {
	if len(key) >= len(colsByLen) {
		return -1
	}
	for _, i := range colsByLen[len(key)] {
		if colNames[i] == key {
			return i
		}
	}
	return -1
}

// Envelope members (matched case-insensitively, as encoding/json matches
// struct fields).
const (
	envOther = iota
	envSuccess
	envErrors
	envMessages
	envResult
)

// usageStream decodes one usage response in a single pass: the envelope,
// then each row of result straight into a row, keeping only the raw bytes
// of the row being read. Results and errors are those of checkResponse
// followed by the row decoder before it (decode_ref_test.go), the texts of
// JSON syntax errors included: the scanner words them as encoding/json does.
type usageStream struct {
	s      *scanner
	schema schema
	f      rowFields

	success int // 0 absent or null, 1 true, 2 false
	errs    [][]byte
	typeErr error // the first member of the wrong type, as encoding/json reports it

	// rows are decoded into chunks of rowChunk, joined once at the end:
	// growing one slice row by row allocates about five times its final
	// size (append grows large slices by 1.25x) and copies it as often.
	rows      []row
	chunks    [][]row
	resultErr error // result is not an array or a row is not an object
	rowErr    error // the first bad field
	// days, when not zero, keeps only the rows charged in it and the
	// rejected ones (decodeUsageIn).
	days cost.Period
}

// decodeUsage reads a 2xx usage response from r. A failed read returns a
// *readError; everything else is a *DecodeError or an *APIError as from
// checkResponse (success:false on a 2xx status). now is called only for an
// *APIError's Retry-After.
func decodeUsage(r io.Reader, limit int64, sc schema, status int, header http.Header, path string, now func() time.Time, secrets []string) ([]row, error) {
	return decodeUsageIn(r, limit, sc, cost.Period{}, status, header, path, now, secrets)
}

// decodeUsageIn is decodeUsage keeping only the rows the caller will use:
// those whose charge day lies in days, and rejected ones (validRows logs
// them). Every row is still decoded, so a malformed row anywhere fails the
// response as before; a zero days keeps every row. A PayGo answer covers
// whole billing periods, most of them outside a short refresh: the rows
// dropped here are never stored.
func decodeUsageIn(r io.Reader, limit int64, sc schema, days cost.Period, status int, header http.Header, path string, now func() time.Time, secrets []string) ([]row, error) {
	u, err := streamUsage(r, limit, sc, days, status, header, path, now, secrets)
	if err != nil {
		return nil, err
	}
	return u.finish()
}

// decodeUsageChunks is decodeUsageIn returning the rows in the chunks they
// were decoded into (see rowChunk), in order: the client reads them once
// more, into cost.Usage, and joining them first would copy every row.
func decodeUsageChunks(r io.Reader, limit int64, sc schema, days cost.Period, status int, header http.Header, path string, now func() time.Time, secrets []string) ([][]row, error) {
	u, err := streamUsage(r, limit, sc, days, status, header, path, now, secrets)
	if err != nil {
		return nil, err
	}
	return u.finishChunks()
}

// streamUsage decodes the body and checks the envelope; the rows are in
// the returned stream, for finish or finishChunks.
func streamUsage(r io.Reader, limit int64, sc schema, days cost.Period, status int, header http.Header, path string, now func() time.Time, secrets []string) (*usageStream, error) {
	u := newUsageStream(r, sc, limit)
	u.days = days
	if err := u.run(u.envelope); err != nil {
		var se scanError
		if errors.As(err, &se) && se.syntax != nil {
			return nil, &DecodeError{Path: path, Row: -1, Err: fmt.Errorf("malformed envelope: %w", se.syntax)}
		}
		return nil, err
	}
	if u.typeErr != nil {
		return nil, &DecodeError{Path: path, Row: -1, Err: fmt.Errorf("malformed envelope: %w", u.typeErr)}
	}
	switch u.success {
	case 0:
		return nil, &DecodeError{Path: path, Row: -1, Field: "success", Err: errors.New("missing")}
	case 2:
		// checkResponse builds the *APIError from the messages alone.
		body := append([]byte(`{"success":false,"errors":[`), bytes.Join(u.errs, []byte(","))...)
		_, err := checkResponse(status, header, append(body, "]}"...), path, now(), secrets)
		return nil, err
	}
	return u, nil
}

// decodeResultRows decodes a bare result array (as the envelope's result
// member), for callers that hold it in memory.
func decodeResultRows(result []byte, sc schema) ([]row, error) {
	u := newUsageStream(bytes.NewReader(result), sc, math.MaxInt64)
	err := u.run(func() {
		c, ok := u.s.ws()
		if !ok {
			return
		}
		u.result(c)
		if c, ok := u.s.ws(); ok {
			u.s.fail(c, "after top-level value")
		}
	})
	if err != nil {
		// json.Unmarshal into []json.RawMessage fails on any syntax error.
		return nil, &DecodeError{Row: -1, Field: "result", Err: errors.New("want an array of rows")}
	}
	return u.finish()
}

// decodeV1Rows decodes PayGo v1 rows: PascalCase, any of the shapes seen so
// far (the 11-field legacy shape up to the FOCUS-style superset). Cost is
// ContractedCost (BilledCost when only that is present).
func decodeV1Rows(result json.RawMessage) ([]row, error) { return decodeResultRows(result, schemaV1) }

// decodeV2Rows decodes usage v2 (FOCUS) rows. Cost is BilledCost; when it is
// absent the cost is unknown, never zero.
func decodeV2Rows(result json.RawMessage) ([]row, error) { return decodeResultRows(result, schemaV2) }

func newUsageStream(r io.Reader, sc schema, limit int64) *usageStream {
	u := &usageStream{s: newScanner(r, limit), schema: sc}
	u.f.s = u.s
	u.f.in.m = make(map[string]string)
	return u
}

// readError is a body that could not be read; the client retries it.
type readError struct{ err error }

func (e *readError) Error() string { return e.err.Error() }
func (e *readError) Unwrap() error { return e.err }

// run calls scan and turns the scanner's panics into errors: a scanError for
// bad syntax, a *readError, or a *DecodeError for a body over the limit.
func (u *usageStream) run(scan func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			se, ok := r.(scanError)
			if !ok {
				panic(r)
			}
			switch {
			case se.read != nil:
				err = &readError{se.read}
			case se.tooLarge:
				err = &DecodeError{Row: -1, Err: fmt.Errorf("usage response is larger than the %d MiB limit", u.s.limit>>20)}
			default:
				err = se
			}
		}
	}()
	scan()
	return nil
}

func (se scanError) Error() string {
	if se.syntax != nil {
		return se.syntax.Error()
	}
	return "scan error"
}

// rowChunk is the largest number of rows per chunk (about 1.2 MB); chunks
// start at 64 rows and double.
const rowChunk = 4096

func (u *usageStream) finish() ([]row, error) {
	if u.resultErr != nil {
		return nil, u.resultErr
	}
	if u.rowErr != nil {
		return nil, u.rowErr
	}
	if len(u.chunks) == 0 {
		if u.rows == nil {
			return []row{}, nil
		}
		return u.rows, nil
	}
	n := len(u.rows)
	for _, c := range u.chunks {
		n += len(c)
	}
	out := make([]row, 0, n)
	for i, c := range u.chunks {
		out = append(out, c...)
		u.chunks[i] = nil // let the chunk go as soon as it is copied
	}
	return append(out, u.rows...), nil
}

// finishChunks is finish without the join: the chunks, then the rows of
// the last one, leaving out empty ones.
func (u *usageStream) finishChunks() ([][]row, error) {
	if u.resultErr != nil {
		return nil, u.resultErr
	}
	if u.rowErr != nil {
		return nil, u.rowErr
	}
	out := u.chunks
	if len(u.rows) > 0 {
		out = append(out, u.rows)
	}
	return out, nil
}

// resetRows drops the rows decoded so far.
func (u *usageStream) resetRows() { u.rows, u.chunks = nil, nil }

// envelope scans the whole body.
func (u *usageStream) envelope() {
	s := u.s
	c, ok := s.ws()
	if !ok {
		s.eofError()
	}
	switch c {
	case '{':
		u.object()
	case 'n':
		s.literal("null")
	default:
		u.wrongType("", c)
		s.skipValue(c)
	}
	if c, ok := s.ws(); ok {
		s.fail(c, "after top-level value")
	}
}

func (u *usageStream) object() {
	s := u.s
	s.push('{')
	s.pos++
	c := s.next()
	if c == '}' {
		s.pos++
		s.depth--
		return
	}
	for {
		if c != '"' {
			s.fail(c, "looking for beginning of object key string")
		}
		member := u.member()
		if c = s.next(); c != ':' {
			s.fail(c, "after object key")
		}
		s.pos++
		c = s.next()
		switch member {
		case envSuccess:
			switch c {
			case 't':
				s.literal("true")
				u.success = 1
			case 'f':
				s.literal("false")
				u.success = 2
			case 'n':
				s.literal("null")
				u.success = 0
			default:
				u.wrongType("success", c)
				s.skipValue(c)
			}
		case envErrors, envMessages:
			switch c {
			case '[':
				u.messages(member == envErrors)
			case 'n':
				s.literal("null")
				if member == envErrors {
					u.errs = nil
				}
			default:
				name := "messages"
				if member == envErrors {
					name = "errors"
				}
				u.wrongType(name, c)
				s.skipValue(c)
			}
		case envResult:
			u.result(c)
		default:
			s.skipValue(c)
		}
		switch c = s.next(); c {
		case ',':
			s.pos++
			c = s.next()
		case '}':
			s.pos++
			s.depth--
			return
		default:
			s.fail(c, "after object key:value pair")
		}
	}
}

// member scans an envelope key and says which member it names.
func (u *usageStream) member() int {
	s := u.s
	s.keep()
	start := s.off()
	simple := s.skipString()
	key := s.bytes(start+1, s.off()-1)
	if !simple {
		var k string
		_ = json.Unmarshal(s.bytes(start, s.off()), &k) // valid: just scanned
		key = []byte(k)
	}
	s.release()
	if len(key) > 8 {
		return envOther
	}
	var arr [32]byte
	switch string(appendFoldedName(arr[:0], key)) {
	case "SUCCESS":
		return envSuccess
	case "ERRORS":
		return envErrors
	case "MESSAGES":
		return envMessages
	case "RESULT":
		return envResult
	}
	return envOther
}

// appendFoldedName is encoding/json's case folding of field names.
func appendFoldedName(out, in []byte) []byte {
	for i := 0; i < len(in); {
		if c := in[i]; c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			out = append(out, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(in[i:])
		out = utf8.AppendRune(out, foldRune(r))
		i += n
	}
	return out
}

func foldRune(r rune) rune {
	for {
		r2 := unicode.SimpleFold(r)
		if r2 <= r {
			return r2
		}
		r = r2
	}
}

// wrongType records the first envelope member (or, with field "", the
// whole body) whose JSON kind does not fit, with the error json.Unmarshal
// gives for it: the message depends only on the member and the kind.
func (u *usageStream) wrongType(field string, c byte) {
	if u.typeErr != nil {
		return
	}
	var sample string
	switch {
	case c == '{':
		sample = "{}"
	case c == '[':
		sample = "[]"
	case c == '"':
		sample = `""`
	case c == 't' || c == 'f':
		sample = "true"
	case c == '-' || isDigit(c):
		sample = "0"
	default:
		return // a syntax error follows
	}
	if field != "" {
		sample = `{"` + field + `":` + sample + `}`
	}
	var env envelope
	u.typeErr = json.Unmarshal([]byte(sample), &env)
}

// messages scans the errors or messages array, keeping a copy of each
// element of errors for the *APIError.
func (u *usageStream) messages(keep bool) {
	s := u.s
	if keep {
		u.errs = [][]byte{}
	}
	s.push('[')
	s.pos++
	c := s.next()
	if c == ']' {
		s.pos++
		s.depth--
		return
	}
	for {
		s.keep()
		start := s.off()
		s.skipValue(c)
		if keep {
			u.errs = append(u.errs, bytes.Clone(s.bytes(start, s.off())))
		}
		s.release()
		switch c = s.next(); c {
		case ',':
			s.pos++
			c = s.next()
		case ']':
			s.pos++
			s.depth--
			return
		default:
			s.fail(c, "after array element")
		}
	}
}

// result scans the result member, whose first byte c has been peeked. A
// later result member replaces an earlier one, as in encoding/json.
func (u *usageStream) result(c byte) {
	s := u.s
	u.resetRows()
	u.resultErr, u.rowErr = nil, nil
	switch c {
	case 'n':
		s.literal("null")
		return
	case '[':
	default:
		u.resultErr = &DecodeError{Row: -1, Field: "result", Err: errors.New("want an array of rows")}
		s.skipValue(c)
		return
	}
	s.push('[')
	s.pos++
	c = s.next()
	u.rows = []row{}
	if c == ']' {
		s.pos++
		s.depth--
		return
	}
	for i := 0; ; i++ {
		switch {
		case c != '{':
			if u.resultErr == nil {
				u.resultErr = &DecodeError{Row: i, Err: errors.New("want a JSON object")}
				u.resetRows()
			}
			s.skipValue(c)
		case u.resultErr != nil || u.rowErr != nil:
			s.skipValue(c)
		default:
			u.row(i)
		}
		switch c = s.next(); c {
		case ',':
			s.pos++
			c = s.next()
		case ']':
			s.pos++
			s.depth--
			return
		default:
			s.fail(c, "after array element")
		}
	}
}

// row scans row i, noting where each known column's value is, and decodes
// it. The row's bytes stay in the buffer until it is decoded.
func (u *usageStream) row(i int) {
	s, f := u.s, &u.f
	s.keep()
	f.span = [numCols][2]int{}
	f.plain = 0
	f.row = i
	s.push('{')
	s.pos++
	c := s.next()
	if c == '}' {
		s.pos++
		s.depth--
	} else {
	members:
		for j := 0; ; j++ {
			if c != '"' {
				s.fail(c, "looking for beginning of object key string")
			}
			col := f.key(j)
			if c = s.next(); c != ':' {
				s.fail(c, "after object key")
			}
			s.pos++
			c = s.next()
			from := s.off()
			if c == '"' {
				if s.skipString() && col >= 0 {
					f.plain |= 1 << col
				} else if col >= 0 {
					f.plain &^= 1 << col
				}
			} else {
				s.skipValue(c)
			}
			if col >= 0 {
				f.span[col] = [2]int{from, s.off()}
			}
			switch c = s.next(); c {
			case ',':
				s.pos++
				c = s.next()
			case '}':
				s.pos++
				s.depth--
				break members
			default:
				s.fail(c, "after object key:value pair")
			}
		}
	}
	d := decoder{f: f}
	if len(u.rows) == cap(u.rows) {
		if len(u.rows) > 0 {
			u.chunks = append(u.chunks, u.rows)
		}
		u.rows = make([]row, 0, min(max(2*cap(u.rows), 64), rowChunk))
	}
	u.rows = append(u.rows, row{})
	r := &u.rows[len(u.rows)-1]
	d.decode(u.schema, r)
	s.release()
	if d.err != nil {
		u.rowErr = d.err
		u.resetRows()
		return
	}
	if !u.days.IsZero() && r.Rejected == nil && !u.days.Contains(r.Day) {
		u.rows = u.rows[:len(u.rows)-1]
	}
}

// rowFields reads the values of one scanned row leniently: unknown keys are
// ignored, and a missing key, null and the text "NULL" all mean absent.
type rowFields struct {
	s     *scanner
	span  [numCols][2]int // stream offsets of each column's value; {0, 0} when absent
	plain uint32          // bit c: column c is a string with no escapes, all ASCII
	row   int
	in    interner
	last  [numCols]string // column c's text in the previous row, reused when equal
	// lastTime is column c's last "YYYY-MM-DDTHH:MM:SSZ" value (quoted)
	// and its time, reused when equal.
	lastTime [numCols]lastTime
	keys     []rowKey // the previous row's keys, in order
}

// key scans the j-th key of the row and returns its column, or -1. Rows
// of a response usually have the same keys in the same order, so the key
// the previous row had at j is tried first: one comparison of the bytes
// instead of a scan and a lookup.
func (f *rowFields) key(j int) int {
	s := f.s
	if j < len(f.keys) {
		k := f.keys[j]
		if s.end-s.pos >= len(k.quoted) && string(s.buf[s.pos:s.pos+len(k.quoted)]) == k.quoted {
			s.pos += len(k.quoted)
			return k.col
		}
	}
	start := s.off()
	simple := s.skipString()
	quoted := s.bytes(start, s.off())
	col := f.column(quoted, simple)
	if simple && j <= len(f.keys) && j < maxKeys {
		k := rowKey{quoted: f.in.str(quoted), col: col}
		if j == len(f.keys) {
			f.keys = append(f.keys, k)
		} else {
			f.keys[j] = k
		}
	}
	return col
}

// lastTime is a timestamp as fastTime read it: its quoted bytes and time.
type lastTime struct {
	raw [22]byte
	t   time.Time
	ok  bool
}

// maxKeys bounds the keys remembered per row position.
const maxKeys = 256

// rowKey is a key as the previous row had it: quoted (with its quotes; no
// escapes, all ASCII) and its column or -1.
type rowKey struct {
	quoted string
	col    int
}

// column returns the column a quoted key names, or -1.
func (f *rowFields) column(quoted []byte, simple bool) int {
	if !simple {
		var k string
		_ = json.Unmarshal(quoted, &k) // valid: just scanned
		return colOf(k)
	}
	return colOf(string(quoted[1 : len(quoted)-1]))
}

func (f *rowFields) fail(c int, err error) error {
	return &DecodeError{Row: f.row, Field: colNames[c], Err: err}
}

func (f *rowFields) raw(c int) ([]byte, bool) {
	sp := f.span[c]
	if sp[1] == 0 {
		return nil, false
	}
	v := f.s.bytes(sp[0], sp[1])
	if string(v) == "null" || string(v) == `"NULL"` {
		return nil, false
	}
	return v, true
}

// text is the value of the JSON string v (quotes included) of column c.
func (f *rowFields) text(c int, v []byte) string {
	inner := v[1 : len(v)-1]
	if f.plain&(1<<c) != 0 || bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		if f.last[c] == string(inner) {
			return f.last[c]
		}
		s := f.in.str(inner)
		f.last[c] = s
		return s
	}
	var s string
	_ = json.Unmarshal(v, &s) // valid: scanned
	return s
}

func (f *rowFields) str(c int) (string, bool, error) {
	v, ok := f.raw(c)
	if !ok {
		return "", false, nil
	}
	if v[0] != '"' {
		return "", false, f.fail(c, fmt.Errorf("want a string, got %.40s", v))
	}
	return f.text(c, v), true, nil
}

// number reads a number or a string holding one. A value that is a number
// but not a finite one (NaN, ±Inf, or out of float64 range like 1e400)
// comes with nonFinite set.
func (f *rowFields) number(c int) (x float64, ok, nonFinite bool, err error) {
	v, ok := f.raw(c)
	if !ok {
		return 0, false, false, nil
	}
	var perr error
	if v[0] == '"' {
		text := strings.TrimSpace(f.text(c, v))
		if text == "" {
			return 0, false, false, nil
		}
		x, perr = strconv.ParseFloat(text, 64)
	} else {
		x, perr = strconv.ParseFloat(string(v), 64)
	}
	if (perr == nil || errors.Is(perr, strconv.ErrRange)) && (math.IsNaN(x) || math.IsInf(x, 0)) {
		return 0, false, true, f.fail(c, fmt.Errorf("want a finite number, got %.40s", v))
	}
	if perr != nil {
		return 0, false, false, f.fail(c, fmt.Errorf("want a finite number, got %.40s", v))
	}
	return x, true, false, nil
}

func (f *rowFields) time(c int) (time.Time, bool, error) {
	if v, ok := f.raw(c); ok && len(v) == len(f.lastTime[c].raw) {
		// Rows of a response mostly share their days and periods: the
		// previous row's value of the column is compared, not parsed.
		lt := &f.lastTime[c]
		if lt.ok && [len(lt.raw)]byte(v) == lt.raw {
			return lt.t, true, nil
		}
		if t, ok := fastTime(v); ok {
			*lt = lastTime{raw: [len(lt.raw)]byte(v), t: t, ok: true}
			return t, true, nil
		}
	}
	s, ok, err := f.str(c)
	if err != nil || !ok {
		return time.Time{}, false, err
	}
	s = strings.TrimSpace(s)
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), true, nil
		}
	}
	return time.Time{}, false, f.fail(c, fmt.Errorf("want an RFC 3339 timestamp, got %q", truncate(s, 40)))
}

// fastTime parses the quoted form "YYYY-MM-DDTHH:MM:SSZ" as time.Parse with
// time.RFC3339Nano does; ok is false for anything else, valid or not.
func fastTime(v []byte) (time.Time, bool) {
	if len(v) != 22 || v[0] != '"' || v[5] != '-' || v[8] != '-' || v[11] != 'T' || v[14] != ':' || v[17] != ':' || v[20] != 'Z' {
		return time.Time{}, false
	}
	n := func(i, w int) int {
		x := 0
		for _, c := range v[i : i+w] {
			if !isDigit(c) {
				return -1
			}
			x = x*10 + int(c-'0')
		}
		return x
	}
	y, mo, d, h, mi, sec := n(1, 4), n(6, 2), n(9, 2), n(12, 2), n(15, 2), n(18, 2)
	if y < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59 {
		return time.Time{}, false
	}
	days := [...]int{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[mo-1]
	if mo == 2 && y%4 == 0 && (y%100 != 0 || y%400 == 0) {
		days = 29
	}
	if d > days {
		return time.Time{}, false
	}
	return time.Date(y, time.Month(mo), d, h, mi, sec, 0, time.UTC), true
}

// interner returns one string per distinct text in a response, so the
// service, family, zone, currency and unit of a million rows are a few
// strings, not millions.
type interner struct{ m map[string]string }

// maxInterned bounds the strings kept per response; more distinct ones are
// allocated as usual.
const maxInterned = 1 << 14

func (in *interner) str(b []byte) string {
	if s, ok := in.m[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(b) <= 128 && len(in.m) < maxInterned {
		in.m[s] = s
	}
	return s
}

// decoder collects the first error of a sequence of field reads.
type decoder struct {
	f      *rowFields
	err    error
	reject *DecodeError // why the row is dropped; see row.Rejected
}

// str reads a text field. A NUL in it rejects the row (see row.Rejected):
// no billing name holds one, and PostgreSQL's text cannot store it, so one
// odd row would fail every save of its account there.
func (d *decoder) str(c int) string {
	s, _, err := d.f.str(c)
	d.keep(err)
	if err == nil && strings.IndexByte(s, 0) >= 0 {
		d.rejectRow(d.f.fail(c, errNUL).(*DecodeError))
	}
	return s // the row is dropped; a required field is not "missing"
}

// errNUL is why a row with a NUL in a text field is rejected.
var errNUL = errors.New("contains a NUL character")

func (d *decoder) num(c int) (float64, bool) {
	x, ok, _, err := d.f.number(c)
	d.keep(err)
	return x, ok
}

// cost reads a cost field. A value that is not a finite number or is beyond
// ±MaxAbsCost rejects the row (see row.Rejected) instead of failing the
// response; any other bad value fails it as num does.
func (d *decoder) cost(c int) (float64, bool) {
	x, ok, nonFinite, err := d.f.number(c)
	switch {
	case nonFinite:
		d.rejectRow(err.(*DecodeError))
		return 0, false
	case err != nil:
		d.keep(err)
		return 0, false
	case ok && math.Abs(x) > MaxAbsCost:
		d.rejectRow(d.f.fail(c, fmt.Errorf("%g is beyond ±%g", x, MaxAbsCost)).(*DecodeError))
		return 0, false
	}
	return x, ok
}

func (d *decoder) rejectRow(e *DecodeError) {
	if d.reject == nil {
		d.reject = e
	}
}

func (d *decoder) time(c int) time.Time {
	t, _, err := d.f.time(c)
	d.keep(err)
	return t
}

func (d *decoder) keep(err error) {
	if d.err == nil && err != nil {
		d.err = err
	}
}

func (d *decoder) require(c int, present bool) {
	if !present {
		d.keep(d.f.fail(c, errors.New("missing")))
	}
}

// decode reads the row: the FOCUS-style columns both API versions share
// first, then the version's own, in the order the errors are reported. A
// bad required or malformed field fails the whole response (d.err); a cost
// out of range sets Rejected (see validRows).
func (d *decoder) decode(sc schema, r *row) {
	r.Day = d.time(colChargePeriodStart)
	d.require(colChargePeriodStart, !r.Day.IsZero())
	r.ChargeEnd = d.time(colChargePeriodEnd)
	r.PeriodStart = d.time(colBillingPeriodStart)
	r.Currency = d.str(colBillingCurrency)
	r.Unit = d.str(colConsumedUnit)
	r.Class = d.str(colChargeClass)
	r.Category = d.str(colChargeCategory)
	r.Quantity, _ = d.num(colConsumedQuantity)
	if sc == schemaV1 {
		r.Service = d.str(colServiceName)
		d.require(colServiceName, r.Service != "")
		r.Family = d.str(colServiceFamilyName)
		r.Zone = d.str(colZoneName)
		r.ZoneID = d.str(colZoneID)
		// BilledCost is read only when ContractedCost is absent, so it
		// rejects the row only when it is the cost used.
		if contracted, ok := d.cost(colContractedCost); ok {
			r.Cost, r.CostKnown = contracted, true
		} else if d.reject == nil {
			r.Cost, r.CostKnown = d.cost(colBilledCost)
		}
		if !r.PeriodStart.IsZero() {
			r.PeriodStart = cost.Day(r.PeriodStart)
		}
	} else {
		r.MetricID = d.str(colMetricID)
		r.Service = d.str(colMetricName)
		if r.Service == "" {
			r.Service = r.MetricID
		}
		d.require(colMetricName, r.Service != "")
		r.PeriodEnd = d.time(colBillingPeriodEnd)
		r.Family = d.str(colProductFamilyName)
		r.Zone = d.str(colXZoneName)
		r.ZoneID = d.str(colXZoneID)
		r.Region = d.str(colRegionID)
		r.SubAccount = d.str(colSubAccountID)
		r.Cost, r.CostKnown = d.cost(colBilledCost)
	}
	r.Rejected = d.reject
	r.Day = cost.Day(r.Day)
}
