package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"slices"
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

func encodeJudged(j rules.Judged) ([]byte, error) {
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
