package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/costbot/costbot/internal/rules"
)

// judgedJSON is the stored form of rules.Judged: days as YYYY-MM-DD, values
// null where NaN.
type judgedJSON struct {
	Values     map[string]*float64 `json:"values,omitempty"`
	Reported   map[string]string   `json:"reported,omitempty"`
	Summarized map[string]string   `json:"summarized,omitempty"`
}

// Judged returns every series' anomaly state, keyed by rules.JudgedKey.
func (db *DB) Judged(ctx context.Context) (map[string]rules.Judged, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT key, through, state FROM judged`)
	if err != nil {
		return nil, fmt.Errorf("read judged state: %w", err)
	}
	defer rows.Close()
	out := map[string]rules.Judged{}
	for rows.Next() {
		var key, state string
		var through int64
		if err := rows.Scan(&key, &through, &state); err != nil {
			return nil, fmt.Errorf("read judged state: %w", err)
		}
		if db.pg {
			key = pgUnescapeNUL(key)
		}
		j, err := decodeJudged(through, state)
		if err != nil {
			return nil, fmt.Errorf("read judged state of %q: %w", key, err)
		}
		out[key] = j
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read judged state: %w", err)
	}
	return out, nil
}

// SaveJudged inserts or replaces the given series' anomaly state in one
// transaction; series not given keep theirs.
func (db *DB) SaveJudged(ctx context.Context, js map[string]rules.Judged) error {
	keys := make([]string, 0, len(js))
	for k := range js {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return db.tx(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, `INSERT INTO judged (key, through, state) VALUES (?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET through = excluded.through, state = excluded.state`)
		if err != nil {
			return fmt.Errorf("save judged state: %w", err)
		}
		defer st.Close()
		for _, k := range keys {
			b, err := encodeJudged(js[k])
			if err != nil {
				return fmt.Errorf("save judged state of %q: %w", k, err)
			}
			key := k
			if db.pg {
				key = pgEscapeNUL(k) // rules.JudgedKey joins rule and series with a NUL
			}
			if _, err := st.ExecContext(ctx, key, toMS(js[k].Through), string(b)); err != nil {
				return fmt.Errorf("save judged state of %q: %w", k, err)
			}
		}
		return nil
	})
}

// encodeJudged is the stored JSON of j: what json.Marshal gives for its
// judgedJSON, written directly when every day is a UTC midnight of years
// 1-9999 (as rules keeps them), where sorting the days sorts their
// YYYY-MM-DD keys and no two share one. A first cycle saves the state of
// every series, and the maps and strings json.Marshal needs cost more than
// the bytes.
func encodeJudged(j rules.Judged) ([]byte, error) {
	if b, ok := appendJudged(nil, j); ok {
		return b, nil
	}
	return marshalJudged(j)
}

// marshalJudged is encodeJudged through encoding/json, for any days.
func marshalJudged(j rules.Judged) ([]byte, error) {
	out := judgedJSON{Values: map[string]*float64{}, Reported: map[string]string{}, Summarized: map[string]string{}}
	for d, v := range j.Values {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			out.Values[d.Format(time.DateOnly)] = nil
			continue
		}
		out.Values[d.Format(time.DateOnly)] = &v
	}
	for d, seen := range j.Reported {
		out.Reported[d.Format(time.DateOnly)] = seen.Format(time.DateOnly)
	}
	for d, key := range j.Summarized {
		out.Summarized[d.Format(time.DateOnly)] = key.Format(time.DateOnly)
	}
	return json.Marshal(out)
}

// appendJudged appends j's stored JSON to b; ok is false, and b is not
// to be used, when a day is not a UTC midnight of years 1-9999.
func appendJudged(b []byte, j rules.Judged) (_ []byte, ok bool) {
	days := make([]time.Time, 0, max(len(j.Values), len(j.Reported), len(j.Summarized)))
	sorted := func(keys func(yield func(time.Time) bool)) bool {
		days = days[:0]
		for d := range keys {
			if !plainDay(d) {
				return false
			}
			days = append(days, d)
		}
		slices.SortFunc(days, time.Time.Compare)
		return true
	}
	b = append(b, '{')
	if len(j.Values) > 0 {
		if !sorted(maps.Keys(j.Values)) {
			return nil, false
		}
		b = append(b, `"values":{`...)
		for i, d := range days {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendDayKey(b, d)
			b = appendJSONFloat(b, j.Values[d])
		}
		b = append(b, '}')
	}
	for _, m := range []struct {
		name string
		days map[time.Time]time.Time
	}{{"reported", j.Reported}, {"summarized", j.Summarized}} {
		if len(m.days) == 0 {
			continue
		}
		if !sorted(maps.Keys(m.days)) {
			return nil, false
		}
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = append(append(append(b, '"'), m.name...), `":{`...)
		for i, d := range days {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendDayKey(b, d)
			b = append(m.days[d].AppendFormat(append(b, '"'), time.DateOnly), '"')
		}
		b = append(b, '}')
	}
	return append(b, '}'), true
}

// plainDay reports whether d is a UTC midnight of years 1-9999.
func plainDay(d time.Time) bool {
	return d.Location() == time.UTC && d.Nanosecond() == 0 && d.Unix()%86400 == 0 && d.Year() >= 1 && d.Year() <= 9999
}

// appendDayKey appends `"YYYY-MM-DD":`.
func appendDayKey(b []byte, d time.Time) []byte {
	return append(d.AppendFormat(append(b, '"'), time.DateOnly), `":`...)
}

// appendJSONFloat appends f as encoding/json writes a *float64: null for
// NaN and ±Inf (judgedJSON holds nil for them), else the shortest form,
// in exponent notation below 1e-6 and from 1e21 on, with e-07 as e-7.
func appendJSONFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

func decodeJudged(through int64, state string) (rules.Judged, error) {
	var in judgedJSON
	if err := json.Unmarshal([]byte(state), &in); err != nil {
		return rules.Judged{}, err
	}
	j := rules.Judged{Values: map[time.Time]float64{}, Reported: map[time.Time]time.Time{}, Summarized: map[time.Time]time.Time{}}
	if through != 0 {
		j.Through = fromMS(through)
	}
	day := func(s string) (time.Time, error) { return time.Parse(time.DateOnly, s) }
	for s, v := range in.Values {
		d, err := day(s)
		if err != nil {
			return rules.Judged{}, err
		}
		j.Values[d] = math.NaN()
		if v != nil {
			j.Values[d] = *v
		}
	}
	for _, m := range []struct {
		from map[string]string
		to   map[time.Time]time.Time
	}{{in.Reported, j.Reported}, {in.Summarized, j.Summarized}} {
		for a, b := range m.from {
			da, err := day(a)
			if err != nil {
				return rules.Judged{}, err
			}
			db, err := day(b)
			if err != nil {
				return rules.Judged{}, err
			}
			m.to[da] = db
		}
	}
	return j, nil
}
