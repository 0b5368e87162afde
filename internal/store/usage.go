package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/costbot/costbot/internal/cost"
)

// fetchLogKeep is how many fetch-log rows are kept per account.
const fetchLogKeep = 1000

// maxErrLen bounds a stored fetch error message, in bytes.
const maxErrLen = 1000

// FetchInfo is one fetch-log entry.
type FetchInfo struct {
	Account string
	At      time.Time   // when the fetch finished (UTC)
	Range   cost.Period // the charge days covered; zero for a failed fetch
	Rows    int         // usage rows saved
	OK      bool
	Err     string // the failure, redacted; "" when OK
}

// SaveSnapshot stores one fetch in one transaction: it replaces the account's
// usage rows whose Day lies in snap.Range (so re-fetches and corrections
// update instead of duplicating), replaces rows outside the range that have
// the same account, service, family, zone, day and correction flag as a
// saved row, stores the card when snap.Card is non-nil (a nil card keeps the
// previous one, since nil also means "could not be read") and logs the fetch.
// Rows with an empty Account get snap.Account.ID; any other account is an
// error.
func (db *DB) SaveSnapshot(ctx context.Context, snap cost.Snapshot) error {
	acct := snap.Account.ID
	if acct == "" {
		return errors.New("save snapshot: empty account id")
	}
	if snap.Range.End.Before(snap.Range.Start) {
		return fmt.Errorf("save snapshot of account %q: range %s ends before it starts", acct, snap.Range)
	}
	rows := snap.Usage // copied only if a row needs its account filled in
	copied := false
	type key struct {
		service, family, zone string
		day                   int64
		correction            bool
	}
	var outside []key
	seen := make(map[key]bool)
	for i, u := range snap.Usage {
		if u.Account == "" {
			u.Account = acct
			if !copied {
				rows, copied = slices.Clone(rows), true
			}
			rows[i] = u
		}
		if u.Account != acct {
			return fmt.Errorf("save snapshot of account %q: row %d belongs to account %q", acct, i, u.Account)
		}
		if !snap.Range.Contains(u.Day) {
			k := key{u.Service, u.Family, u.Zone, toMS(u.Day), u.Correction}
			if !seen[k] {
				seen[k] = true
				outside = append(outside, k)
			}
		}
	}
	err := db.tx(ctx, func(tx *sql.Tx) error {
		if !snap.Range.IsZero() {
			// Rows stored as they are fetched again stay; only changed,
			// new and vanished rows are written (a refresh mostly re-reads
			// unchanged days).
			same, err := unchangedRows(ctx, tx, acct, snap.Range, rows)
			if err != nil {
				return err
			}
			n := 0
			for _, s := range same {
				if s {
					n++
				}
			}
			if n > 0 {
				kept := make([]cost.Usage, 0, len(rows)-n)
				for i, u := range rows {
					if !same[i] {
						kept = append(kept, u)
					}
				}
				rows = kept
			}
		}
		for _, k := range outside {
			if _, err := tx.ExecContext(ctx, `DELETE FROM usage WHERE account = ? AND service = ? AND family = ?
				AND zone = ? AND day = ? AND correction = ?`,
				acct, k.service, k.family, k.zone, k.day, k.correction); err != nil {
				return fmt.Errorf("delete day outside range: %w", err)
			}
		}
		if err := insertUsage(ctx, tx, acct, rows); err != nil {
			return err
		}
		return saveFetch(ctx, tx, snap)
	})
	if err != nil {
		return fmt.Errorf("save snapshot of account %q: %w", acct, err)
	}
	return nil
}

// SaveFetch records a fetch whose usage rows the caller knows to be stored
// already, unchanged (the daemon compares them with its in-memory copy):
// what SaveSnapshot does for such a snapshot, without reading the account's
// rows back. It stores the card when snap.Card is non-nil and logs the
// fetch, in one transaction.
func (db *DB) SaveFetch(ctx context.Context, snap cost.Snapshot) error {
	acct := snap.Account.ID
	if acct == "" {
		return errors.New("save fetch: empty account id")
	}
	if err := db.tx(ctx, func(tx *sql.Tx) error { return saveFetch(ctx, tx, snap) }); err != nil {
		return fmt.Errorf("save fetch of account %q: %w", acct, err)
	}
	return nil
}

// saveFetch stores snap's card, when it has one, and logs the fetch.
func saveFetch(ctx context.Context, tx *sql.Tx, snap cost.Snapshot) error {
	acct := snap.Account.ID
	if c := snap.Card; c != nil {
		if c.Account != "" && c.Account != acct {
			return fmt.Errorf("card belongs to account %q", c.Account)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO cards (account, expiry_month, expiry_year, masked, updated_at)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (account) DO UPDATE SET expiry_month = excluded.expiry_month,
			expiry_year = excluded.expiry_year, masked = excluded.masked, updated_at = excluded.updated_at`,
			acct, c.ExpiryMonth, c.ExpiryYear, c.Masked, fmtTime(snap.FetchedAt)); err != nil {
			return fmt.Errorf("save card: %w", err)
		}
	}
	return logFetch(ctx, tx, FetchInfo{Account: acct, At: snap.FetchedAt, Range: snap.Range, Rows: len(snap.Usage), OK: true})
}

// insertBatch is how many usage rows one INSERT statement writes: one
// statement per row spends most of a backfill in the driver's per-call
// work. 13 parameters × 256 rows stay far below SQLite's (32,766) and
// PostgreSQL's (65,535) limits on bound parameters.
const insertBatch = 256

// In modernc's SQLite every bound parameter costs a call through the
// connection's mutex, a C copy of a string, and a boxed value in
// database/sql: a backfill spends more binding its rows than writing them.
// So an INSERT binds what all its rows share once: always the account,
// and, when the batch has one of each (as a billing period's rows do), the
// currency, the billing period and the two flags.
const (
	// usageCols is the number of parameters bound per row when only the
	// account is shared: every other column, seq included.
	usageCols = 13
	// sharedCols is the number of parameters bound once per statement
	// when the batch shares them: account, currency, period start and end,
	// cost_known, correction.
	sharedCols = 6
)

// insertUsage inserts acct's rows, insertBatch rows per statement, numbering
// them (seq) after the account's rows stored on the same days in the order
// given: the order the table's implicit rowid gave before it was clustered
// (0007_usage_clustered.sql), which breaks ties between equal keys.
func insertUsage(ctx context.Context, tx *sql.Tx, acct string, rows []cost.Usage) error {
	if len(rows) == 0 {
		return nil
	}
	first, last := rows[0].Day, rows[0].Day
	for _, u := range rows[1:] {
		if u.Day.Before(first) {
			first = u.Day
		}
		if u.Day.After(last) {
			last = u.Day
		}
	}
	var seq int64
	// Through the primary key: the account's rows of those days only.
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM usage WHERE account = ? AND day >= ? AND day <= ?`,
		acct, toMS(first), toMS(last)).Scan(&seq); err != nil {
		return fmt.Errorf("number usage rows: %w", err)
	}
	var stmts [2][2]*sql.Stmt // [shared][whole batch, the last partial one]
	defer func() {
		for _, sts := range stmts {
			for _, st := range sts {
				if st != nil {
					st.Close()
				}
			}
		}
	}()
	args := make([]any, 0, 1+insertBatch*usageCols)
	for len(rows) > 0 {
		n := min(len(rows), insertBatch)
		batch := rows[:n]
		slot, shared := 0, 0
		if n < insertBatch {
			slot = 1
		}
		if sharesColumns(batch) {
			shared = 1
		}
		st := &stmts[shared][slot]
		if *st == nil {
			var err error
			if *st, err = tx.PrepareContext(ctx, insertSQL(n, shared == 1)); err != nil {
				return fmt.Errorf("prepare insert: %w", err)
			}
		}
		// Plain values, not sql.NullFloat64: database/sql takes those as
		// they are, without a Valuer call per column.
		args = append(args[:0], acct)
		if shared == 1 {
			u := batch[0]
			args = append(args, u.Currency, toMS(u.BillingPeriod.Start), toMS(u.BillingPeriod.End), u.CostKnown, u.Correction)
			for _, u := range batch {
				seq++
				args = append(args, seq, u.Service, u.Family, u.Zone, toMS(u.Day), floatArg(u.Cost),
					floatArg(u.Quantity), u.Unit)
			}
		} else {
			for _, u := range batch {
				seq++
				args = append(args, u.Currency, toMS(u.BillingPeriod.Start), toMS(u.BillingPeriod.End), u.CostKnown,
					u.Correction, seq, u.Service, u.Family, u.Zone, toMS(u.Day), floatArg(u.Cost),
					floatArg(u.Quantity), u.Unit)
			}
		}
		if _, err := (*st).ExecContext(ctx, args...); err != nil {
			u := rows[0]
			return fmt.Errorf("insert %d usage rows from %q on %s: %w", n, u.Service, u.Day.Format(time.DateOnly), err)
		}
		rows = rows[n:]
	}
	return nil
}

// sharesColumns reports whether every row of batch has the first row's
// currency, billing period and flags.
func sharesColumns(batch []cost.Usage) bool {
	f := batch[0]
	for _, u := range batch[1:] {
		if u.Currency != f.Currency || u.BillingPeriod != f.BillingPeriod || u.CostKnown != f.CostKnown ||
			u.Correction != f.Correction {
			return false
		}
	}
	return true
}

// floatArg is f as a bound value: NaN, which SQLite cannot store, is NULL.
func floatArg(f float64) any {
	if math.IsNaN(f) {
		return nil
	}
	return f
}

// insertSQL is an INSERT of n usage rows. The columns every row shares are
// the parameters ?1 (the account) to ?6 (with shared; ?1 alone without),
// written first in every row so they are numbered before any other; each
// other "?" takes the next number, in SQLite as in rebind. (Named or
// numbered parameters throughout would cost a scan of the statement's
// parameter names per parameter in SQLite: quadratic.)
func insertSQL(n int, shared bool) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO usage (account, currency, period_start, period_end, cost_known, correction,
		seq, service, family, zone, day, cost, quantity, unit) VALUES `)
	row := "(?1" + strings.Repeat(", ?", usageCols) + ")"
	if shared {
		row = "(?1, ?2, ?3, ?4, ?5, ?6" + strings.Repeat(", ?", usageCols+1-sharedCols) + ")"
	}
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	return b.String()
}

// rowKey is every stored column of a usage row but the account.
type rowKey struct {
	service, family, zone       string
	day, periodStart, periodEnd int64
	cost, quantity              uint64 // float bits; NaN is stored as NULL
	costNull, quantityNull      bool
	costKnown, correction       bool
	currency, unit              string
}

func keyOf(u cost.Usage) rowKey {
	c, q := nullFloat(u.Cost), nullFloat(u.Quantity)
	k := rowKey{service: u.Service, family: u.Family, zone: u.Zone, day: toMS(u.Day), periodStart: toMS(u.BillingPeriod.Start),
		periodEnd: toMS(u.BillingPeriod.End), costNull: !c.Valid, quantityNull: !q.Valid, costKnown: u.CostKnown,
		correction: u.Correction, currency: u.Currency, unit: u.Unit}
	if c.Valid {
		k.cost = math.Float64bits(c.Float64)
	}
	if q.Valid {
		k.quantity = math.Float64bits(q.Float64)
	}
	return k
}

// unchangedRows deletes the account's stored rows in rng that rows does not
// hold unchanged, and reports which of rows are stored already (and so need
// no insert). Rows outside rng are never reported unchanged.
func unchangedRows(ctx context.Context, tx *sql.Tx, acct string, rng cost.Period, rows []cost.Usage) ([]bool, error) {
	q, err := tx.QueryContext(ctx, `SELECT seq, service, family, zone, day, period_start, period_end, cost, cost_known,
		currency, quantity, unit, correction FROM usage WHERE account = ? AND day >= ? AND day < ?`,
		acct, toMS(rng.Start), toMS(rng.End))
	if err != nil {
		return nil, fmt.Errorf("read range: %w", err)
	}
	stored := map[rowKey][]int64{} // seq of each stored row
	for q.Next() {
		var (
			seq               int64
			u                 cost.Usage
			day, start, end   int64
			costVal, quantity sql.NullFloat64
		)
		if err := q.Scan(&seq, &u.Service, &u.Family, &u.Zone, &day, &start, &end, &costVal, &u.CostKnown, &u.Currency,
			&quantity, &u.Unit, &u.Correction); err != nil {
			q.Close()
			return nil, fmt.Errorf("read range: %w", err)
		}
		u.Day, u.BillingPeriod = fromMS(day), cost.Period{Start: fromMS(start), End: fromMS(end)}
		u.Cost, u.Quantity = fromNull(costVal), fromNull(quantity)
		k := keyOf(u)
		stored[k] = append(stored[k], seq)
	}
	if err := q.Err(); err != nil {
		q.Close()
		return nil, fmt.Errorf("read range: %w", err)
	}
	q.Close()
	same := make([]bool, len(rows))
	if len(stored) == 0 {
		return same, nil // nothing stored in the range (a backfill): nothing to compare or delete
	}
	for i, u := range rows {
		if !rng.Contains(u.Day) {
			continue
		}
		k := keyOf(u)
		if seqs := stored[k]; len(seqs) > 0 {
			same[i] = true
			stored[k] = seqs[1:]
		}
	}
	// By the whole primary key: seq alone is unique only among equal keys.
	del, err := tx.PrepareContext(ctx, `DELETE FROM usage WHERE account = ? AND day = ? AND family = ? AND service = ?
		AND zone = ? AND correction = ? AND seq = ?`)
	if err != nil {
		return nil, fmt.Errorf("delete range: %w", err)
	}
	defer del.Close()
	for k, seqs := range stored {
		for _, seq := range seqs {
			if _, err := del.ExecContext(ctx, acct, k.day, k.family, k.service, k.zone, k.correction, seq); err != nil {
				return nil, fmt.Errorf("delete range: %w", err)
			}
		}
	}
	return same, nil
}

// RecordFetchError logs a failed fetch. Only the error message is stored,
// truncated and with anything that looks like a credential redacted.
func (db *DB) RecordFetchError(ctx context.Context, account string, at time.Time, fetchErr error) error {
	msg := "unknown error"
	if fetchErr != nil {
		msg = redact(fetchErr.Error())
	}
	err := db.tx(ctx, func(tx *sql.Tx) error {
		return logFetch(ctx, tx, FetchInfo{Account: account, At: at, Err: msg})
	})
	if err != nil {
		return fmt.Errorf("record fetch error of account %q: %w", account, err)
	}
	return nil
}

func logFetch(ctx context.Context, tx *sql.Tx, f FetchInfo) error {
	var start, end sql.NullInt64
	if !f.Range.IsZero() {
		start = sql.NullInt64{Int64: toMS(f.Range.Start), Valid: true}
		end = sql.NullInt64{Int64: toMS(f.Range.End), Valid: true}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO fetches (account, at, range_start, range_end, ok, rows, error)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, f.Account, fmtTime(f.At), start, end, f.OK, f.Rows, f.Err); err != nil {
		return fmt.Errorf("log fetch: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM fetches WHERE account = ? AND id <= (SELECT id FROM fetches
		WHERE account = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`, f.Account, f.Account, fetchLogKeep); err != nil {
		return fmt.Errorf("prune fetch log: %w", err)
	}
	return nil
}

var (
	bearerRE = regexp.MustCompile(`(?i)(bearer\s+)[^\s"',;]+`)
	secretRE = regexp.MustCompile(`(?i)((?:authorization|x-auth-key|x-auth-email|api[_-]?key|api[_-]?token|token|secret|password|key)["']?\s*[:=]\s*)("[^"]*"|'[^']*'|[^\s,;&"']+)`)
)

// redact removes credential-looking values and bounds the length.
func redact(s string) string {
	s = bearerRE.ReplaceAllString(s, "${1}[REDACTED]")
	s = secretRE.ReplaceAllString(s, "${1}[REDACTED]")
	if len(s) > maxErrLen {
		s = strings.ToValidUTF8(s[:maxErrLen], "") + "…"
	}
	return s
}

// Usage returns every account's usage rows with Day in [from, to), ordered
// by account, day, family, service, zone and correction flag.
func (db *DB) Usage(ctx context.Context, from, to time.Time) ([]cost.Usage, error) {
	return db.usage(ctx, from, to, `SELECT account, service, family, zone, day, period_start, period_end,
		cost, cost_known, currency, quantity, unit, correction FROM usage WHERE day >= ? AND day < ?
		ORDER BY account, day, family, service, zone, correction, seq`, toMS(from), toMS(to))
}

// UsageOf is Usage for one account (by id), read through the primary key
// (account, day, ...): a cycle checks each account's answer against its
// own rows without reading every account's.
func (db *DB) UsageOf(ctx context.Context, account string, from, to time.Time) ([]cost.Usage, error) {
	return db.usage(ctx, from, to, `SELECT account, service, family, zone, day, period_start, period_end,
		cost, cost_known, currency, quantity, unit, correction FROM usage WHERE account = ? AND day >= ? AND day < ?
		ORDER BY day, family, service, zone, correction, seq`, account, toMS(from), toMS(to))
}

func (db *DB) usage(ctx context.Context, from, to time.Time, query string, args ...any) ([]cost.Usage, error) {
	rows, err := db.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("query usage %s: %w", cost.Period{Start: from, End: to}, err)
	}
	defer rows.Close()
	var out []cost.Usage
	for rows.Next() {
		var (
			u                 cost.Usage
			day, start, end   int64
			costVal, quantity sql.NullFloat64
		)
		if err := rows.Scan(&u.Account, &u.Service, &u.Family, &u.Zone, &day, &start, &end, &costVal,
			&u.CostKnown, &u.Currency, &quantity, &u.Unit, &u.Correction); err != nil {
			return nil, fmt.Errorf("scan usage: %w", err)
		}
		u.Day = fromMS(day)
		u.BillingPeriod = cost.Period{Start: fromMS(start), End: fromMS(end)}
		u.Cost, u.Quantity = fromNull(costVal), fromNull(quantity)
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query usage %s: %w", cost.Period{Start: from, End: to}, err)
	}
	return out, nil
}

// Cards returns the latest known card of every account, by account.
func (db *DB) Cards(ctx context.Context) ([]cost.Card, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT account, expiry_month, expiry_year, masked FROM cards ORDER BY account`)
	if err != nil {
		return nil, fmt.Errorf("query cards: %w", err)
	}
	defer rows.Close()
	var out []cost.Card
	for rows.Next() {
		var c cost.Card
		if err := rows.Scan(&c.Account, &c.ExpiryMonth, &c.ExpiryYear, &c.Masked); err != nil {
			return nil, fmt.Errorf("scan card: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query cards: %w", err)
	}
	return out, nil
}

const fetchCols = `account, at, range_start, range_end, ok, rows, error`

// LastFetch returns the account's latest fetch-log entry; the error wraps
// ErrNotFound when the account was never fetched.
func (db *DB) LastFetch(ctx context.Context, account string) (FetchInfo, error) {
	fs, err := db.fetches(ctx, `SELECT `+fetchCols+` FROM fetches WHERE account = ? ORDER BY id DESC LIMIT 1`, account)
	if err != nil {
		return FetchInfo{}, fmt.Errorf("last fetch of account %q: %w", account, err)
	}
	if len(fs) == 0 {
		return FetchInfo{}, fmt.Errorf("last fetch of account %q: %w", account, ErrNotFound)
	}
	return fs[0], nil
}

// Fetches returns the latest fetch-log entry of every account, by account.
func (db *DB) Fetches(ctx context.Context) ([]FetchInfo, error) {
	fs, err := db.fetches(ctx, `SELECT `+fetchCols+` FROM fetches WHERE id IN
		(SELECT max(id) FROM fetches GROUP BY account) ORDER BY account`)
	if err != nil {
		return nil, fmt.Errorf("last fetches: %w", err)
	}
	return fs, nil
}

func (db *DB) fetches(ctx context.Context, query string, args ...any) ([]FetchInfo, error) {
	rows, err := db.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []FetchInfo
	for rows.Next() {
		var (
			f          FetchInfo
			at         string
			start, end sql.NullInt64
		)
		if err := rows.Scan(&f.Account, &at, &start, &end, &f.OK, &f.Rows, &f.Err); err != nil {
			return nil, err
		}
		if f.At, err = parseTime(at); err != nil {
			return nil, err
		}
		if start.Valid && end.Valid {
			f.Range = cost.Period{Start: fromMS(start.Int64), End: fromMS(end.Int64)}
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// nullFloat maps NaN, which SQLite cannot store, to NULL.
func nullFloat(f float64) sql.NullFloat64 {
	return sql.NullFloat64{Float64: f, Valid: !math.IsNaN(f)}
}

func fromNull(f sql.NullFloat64) float64 {
	if !f.Valid {
		return math.NaN()
	}
	return f.Float64
}

// LastFullFetch returns when the account was last fetched successfully over
// a range of at least days whole days (a refresh of the whole late-data
// window, or a backfill), or the zero time when it never was.
func (db *DB) LastFullFetch(ctx context.Context, account string, days int) (time.Time, error) {
	fs, err := db.fetches(ctx, `SELECT `+fetchCols+` FROM fetches WHERE account = ? AND ok <> 0
		AND range_end - range_start >= ? ORDER BY id DESC LIMIT 1`, account, int64(days)*24*time.Hour.Milliseconds())
	if err != nil {
		return time.Time{}, fmt.Errorf("last full fetch of account %q: %w", account, err)
	}
	if len(fs) == 0 {
		return time.Time{}, nil
	}
	return fs[0].At, nil
}
