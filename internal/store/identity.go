package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/costbot/costbot/internal/alert"
	"github.com/costbot/costbot/internal/cost"
)

// RekeyAlerts moves alerts stored under an account name to the account's
// id (alert.Rekey), with their sends and actions, in one transaction, and
// returns how many it moved. ids maps configured account names to ids.
// State written before alerts were keyed by account id thus keeps every
// alert, its episode and its message threads: nothing re-fires on upgrade.
// An alert whose new fingerprint is already stored is left as it is. It is
// idempotent and cheap once everything is keyed by id.
func (db *DB) RekeyAlerts(ctx context.Context, ids map[string]string) (int, error) {
	var accounts []string
	for name, id := range ids {
		if name != "" && name != id {
			accounts = append(accounts, name)
		}
	}
	if len(accounts) == 0 {
		return 0, nil
	}
	names, err := jsonList(accounts)
	if err != nil {
		return 0, err
	}
	n := 0
	err = db.tx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+alertCols+` FROM alerts
			WHERE account IN (SELECT value FROM json_each(?)) ORDER BY fingerprint`, names)
		if err != nil {
			return err
		}
		var old []alert.State
		for rows.Next() {
			st, err := scanAlert(rows)
			if err != nil {
				rows.Close()
				return err
			}
			old = append(old, st)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, st := range old {
			moved, ok := alert.Rekey(st, ids)
			if !ok {
				continue
			}
			var exists int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM alerts WHERE fingerprint = ?`, moved.Fingerprint).Scan(&exists); err != nil {
				return err
			}
			if exists > 0 {
				continue
			}
			if err := saveAlerts(ctx, tx, []alert.State{moved}); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE sends SET fingerprint = ? WHERE fingerprint = ?`, moved.Fingerprint, st.Fingerprint); err != nil {
				return err
			}
			series := ""
			if moved.Finding.Kind == cost.KindAnomaly {
				series = alert.SeriesOf(moved.Finding)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE actions SET fingerprint = ?,
				series = CASE WHEN kind = 'expected' AND ? <> '' THEN ? ELSE series END WHERE fingerprint = ?`,
				moved.Fingerprint, series, series, st.Fingerprint); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM alerts WHERE fingerprint = ?`, st.Fingerprint); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("rekey alerts by account id: %w", err)
	}
	return n, nil
}

// LatestRecorded returns the latest instant the state records: an alert
// starting or changing, a send, an action or a fetch (UTC; zero for an empty
// state). Times compare as stored text, so to the second. A cycle at an
// earlier instant must not write to this state.
func (db *DB) LatestRecorded(ctx context.Context) (time.Time, error) {
	var latest time.Time
	for _, q := range []string{
		`SELECT max(starts_at) FROM alerts`, `SELECT max(updated_at) FROM alerts`,
		`SELECT max(sent_at) FROM sends`, `SELECT max(at) FROM actions`, `SELECT max(at) FROM fetches`,
	} {
		var s sql.NullString
		if err := db.db.QueryRowContext(ctx, q).Scan(&s); err != nil {
			return time.Time{}, fmt.Errorf("read latest recorded instant: %w", err)
		}
		t, err := parseTime(s.String)
		if err != nil {
			return time.Time{}, fmt.Errorf("read latest recorded instant: %w", err)
		}
		if t.After(latest) {
			latest = t
		}
	}
	return latest, nil
}

// CopyTo writes a consistent copy of the database to path as a SQLite file
// (VACUUM INTO; from PostgreSQL, copyToSQLite), which must not exist yet.
// Opening the copy gives a throwaway state.
func (db *DB) CopyTo(ctx context.Context, path string) error {
	if path == "" {
		return errors.New("copy database: empty path")
	}
	if db.pg {
		return db.copyToSQLite(ctx, path)
	}
	if _, err := db.db.ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
		return fmt.Errorf("copy database to %q: %w", path, err)
	}
	return nil
}
