package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/costbot/costbot/internal/alert"
	"github.com/costbot/costbot/internal/cost"
)

const alertCols = `fingerprint, group_key, status, reason, episode, starts_at, ends_at, updated_at, finding, why`

// querier is what reads need: a *sql.DB or a *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// AlertSnapshot loads, in one read transaction, what alert.Plan needs for
// findings of the given groups (alert.Groups): the alerts Alerts returns,
// with their sends and actions.
func (db *DB) AlertSnapshot(ctx context.Context, groups []string) (alert.Snapshot, error) {
	var snap alert.Snapshot
	tx, err := db.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return snap, fmt.Errorf("load alert state: begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only
	if snap.Alerts, err = alerts(ctx, tx, groups); err != nil {
		return snap, err
	}
	if len(snap.Alerts) == 0 {
		return snap, nil
	}
	fps := make([]string, len(snap.Alerts))
	for i, st := range snap.Alerts {
		fps[i] = st.Fingerprint
	}
	if snap.Sends, err = sends(ctx, tx, fps); err != nil {
		return snap, err
	}
	if snap.Actions, err = actions(ctx, tx, alert.ActionFilter{Fingerprints: fps}); err != nil {
		return snap, err
	}
	return snap, nil
}

// Alerts returns every firing alert, every resolved alert whose resolved
// message is still owed to a notifier that got it firing, and every alert of
// any status whose group is in groups or is the group of one of the former.
// A nil groups returns the open ones only.
func (db *DB) Alerts(ctx context.Context, groups []string) ([]alert.State, error) {
	return alerts(ctx, db.db, groups)
}

func alerts(ctx context.Context, q querier, groups []string) ([]alert.State, error) {
	g, err := jsonList(groups)
	if err != nil {
		return nil, err
	}
	rows, err := q.QueryContext(ctx, `WITH open (group_key) AS (
			SELECT group_key FROM alerts WHERE status = 'firing'
			UNION
			SELECT a.group_key FROM alerts a JOIN sends f ON f.fingerprint = a.fingerprint
				AND f.episode = a.episode AND f.status = 'firing'
			WHERE a.status = 'resolved' AND NOT EXISTS (SELECT 1 FROM sends r WHERE r.fingerprint = f.fingerprint
				AND r.episode = f.episode AND r.notifier = f.notifier AND r.status = 'resolved')
		)
		SELECT `+alertCols+` FROM alerts
		WHERE group_key IN (SELECT value FROM json_each(?)) OR group_key IN (SELECT group_key FROM open)
		ORDER BY fingerprint`, g)
	if err != nil {
		return nil, fmt.Errorf("query alerts: %w", err)
	}
	defer rows.Close()
	var out []alert.State
	for rows.Next() {
		st, err := scanAlert(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query alerts: %w", err)
	}
	return out, nil
}

// Alert returns one alert; the error wraps ErrNotFound when it does not exist.
func (db *DB) Alert(ctx context.Context, fingerprint string) (alert.State, error) {
	row := db.db.QueryRowContext(ctx, `SELECT `+alertCols+` FROM alerts WHERE fingerprint = ?`, fingerprint)
	st, err := scanAlert(row)
	if errors.Is(err, sql.ErrNoRows) {
		return alert.State{}, fmt.Errorf("get alert %q: %w", fingerprint, ErrNotFound)
	}
	if err != nil {
		return alert.State{}, fmt.Errorf("get alert %q: %w", fingerprint, err)
	}
	return st, nil
}

func scanAlert(row interface{ Scan(...any) error }) (alert.State, error) {
	var (
		st                          alert.State
		status, reason              string
		starts, ends, updated, body string
	)
	if err := row.Scan(&st.Fingerprint, &st.Group, &status, &reason, &st.Episode, &starts, &ends, &updated,
		&body, &st.Why); err != nil {
		return st, err
	}
	var err error
	if st.Status, err = alert.ParseStatus(status); err != nil {
		return st, fmt.Errorf("alert %q: %w", st.Fingerprint, err)
	}
	st.Reason = alert.Reason(reason)
	if st.StartsAt, err = parseTime(starts); err != nil {
		return st, fmt.Errorf("alert %q: %w", st.Fingerprint, err)
	}
	if st.EndsAt, err = parseTime(ends); err != nil {
		return st, fmt.Errorf("alert %q: %w", st.Fingerprint, err)
	}
	if st.UpdatedAt, err = parseTime(updated); err != nil {
		return st, fmt.Errorf("alert %q: %w", st.Fingerprint, err)
	}
	if st.Finding, err = decodeFinding([]byte(body)); err != nil {
		return st, fmt.Errorf("alert %q: decode finding: %w", st.Fingerprint, err)
	}
	return st, nil
}

// SaveAlerts inserts or replaces alerts (alert.Changes.Alerts), all in one
// transaction. Existing alerts are updated in place so their sends and
// actions stay attached.
func (db *DB) SaveAlerts(ctx context.Context, alerts []alert.State) error {
	if err := db.tx(ctx, func(tx *sql.Tx) error { return saveAlerts(ctx, tx, alerts) }); err != nil {
		return fmt.Errorf("save %d alerts: %w", len(alerts), err)
	}
	return nil
}

func saveAlerts(ctx context.Context, tx *sql.Tx, alerts []alert.State) error {
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO alerts (fingerprint, group_key, kind, rule, account, family,
		service, zone, period_start, period_end, threshold, severity, status, reason, episode, starts_at, ends_at,
		updated_at, finding, why) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (fingerprint) DO UPDATE SET group_key = excluded.group_key, kind = excluded.kind,
		rule = excluded.rule, account = excluded.account, family = excluded.family, service = excluded.service,
		zone = excluded.zone, period_start = excluded.period_start, period_end = excluded.period_end,
		threshold = excluded.threshold, severity = excluded.severity, status = excluded.status,
		reason = excluded.reason, episode = excluded.episode, starts_at = excluded.starts_at,
		ends_at = excluded.ends_at, updated_at = excluded.updated_at, finding = excluded.finding,
		why = excluded.why`)
	if err != nil {
		return fmt.Errorf("prepare: %w", err)
	}
	defer stmt.Close()
	for _, st := range alerts {
		f := st.Finding
		body, err := encodeFinding(f)
		if err != nil {
			return fmt.Errorf("encode finding of alert %q: %w", st.Fingerprint, err)
		}
		if _, err := stmt.ExecContext(ctx, st.Fingerprint, st.Group, f.Kind.String(), f.Rule, f.Scope.Account,
			f.Scope.Family, f.Scope.Service, f.Scope.Zone, fmtTime(f.Period.Start), fmtTime(f.Period.End),
			f.Threshold, f.Severity.String(), st.Status.String(), string(st.Reason), st.Episode,
			fmtTime(st.StartsAt), fmtTime(st.EndsAt), fmtTime(st.UpdatedAt), string(body), st.Why); err != nil {
			return fmt.Errorf("save alert %q: %w", st.Fingerprint, err)
		}
	}
	return nil
}

// Sends returns the recorded sends of the given alerts, every episode.
func (db *DB) Sends(ctx context.Context, fingerprints []string) ([]alert.Send, error) {
	return sends(ctx, db.db, fingerprints)
}

func sends(ctx context.Context, q querier, fingerprints []string) ([]alert.Send, error) {
	fps, err := jsonList(fingerprints)
	if err != nil {
		return nil, err
	}
	rows, err := q.QueryContext(ctx, `SELECT fingerprint, episode, notifier, status, first_sent_at, sent_at,
		channel, ts FROM sends WHERE fingerprint IN (SELECT value FROM json_each(?))
		ORDER BY fingerprint, episode, notifier, status`, fps)
	if err != nil {
		return nil, fmt.Errorf("query sends: %w", err)
	}
	defer rows.Close()
	var out []alert.Send
	for rows.Next() {
		var (
			s                   alert.Send
			status, first, last string
		)
		if err := rows.Scan(&s.Fingerprint, &s.Episode, &s.Notifier, &status, &first, &last, &s.Channel,
			&s.TS); err != nil {
			return nil, fmt.Errorf("scan send: %w", err)
		}
		switch status {
		case "firing":
			s.Status = cost.StatusFiring
		case "resolved":
			s.Status = cost.StatusResolved
		default:
			return nil, fmt.Errorf("send of alert %q to %q: unknown status %q", s.Fingerprint, s.Notifier, status)
		}
		if s.FirstSentAt, err = parseTime(first); err != nil {
			return nil, fmt.Errorf("send of alert %q to %q: %w", s.Fingerprint, s.Notifier, err)
		}
		if s.SentAt, err = parseTime(last); err != nil {
			return nil, fmt.Errorf("send of alert %q to %q: %w", s.Fingerprint, s.Notifier, err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query sends: %w", err)
	}
	return out, nil
}

// RecordSend records a successful send (alert.SendOf) in one transaction,
// under the alert's current episode when s.Episode is zero. A repeat updates
// SentAt and keeps the first message reference. The error wraps ErrNotFound
// for an unknown alert.
func (db *DB) RecordSend(ctx context.Context, s alert.Send) error {
	if s.FirstSentAt.IsZero() {
		s.FirstSentAt = s.SentAt
	}
	if err := db.tx(ctx, func(tx *sql.Tx) error { return recordSend(ctx, tx, s) }); err != nil {
		return fmt.Errorf("record send of alert %q to %q: %w", s.Fingerprint, s.Notifier, err)
	}
	return nil
}

func recordSend(ctx context.Context, tx *sql.Tx, s alert.Send) error {
	if s.Status != cost.StatusFiring && s.Status != cost.StatusResolved {
		return fmt.Errorf("invalid status %v", s.Status)
	}
	// The WHERE clause also disambiguates INSERT ... SELECT ... ON CONFLICT.
	res, err := tx.ExecContext(ctx, `INSERT INTO sends (fingerprint, episode, notifier, status, first_sent_at,
		sent_at, channel, ts) SELECT fingerprint, CASE WHEN ? > 0 THEN ? ELSE episode END, ?, ?, ?, ?, ?, ?
		FROM alerts WHERE fingerprint = ?
		ON CONFLICT (fingerprint, episode, notifier, status) DO UPDATE SET sent_at = excluded.sent_at,
		channel = CASE WHEN sends.channel = '' AND sends.ts = '' THEN excluded.channel ELSE sends.channel END,
		ts = CASE WHEN sends.channel = '' AND sends.ts = '' THEN excluded.ts ELSE sends.ts END`,
		s.Episode, s.Episode, s.Notifier, s.Status.String(), fmtTime(s.FirstSentAt), fmtTime(s.SentAt), s.Channel, s.TS, s.Fingerprint)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return ErrNotFound
	}
	return nil
}

// Actions returns matching actions, oldest first.
func (db *DB) Actions(ctx context.Context, f alert.ActionFilter) ([]alert.Action, error) {
	return actions(ctx, db.db, f)
}

func actions(ctx context.Context, q querier, f alert.ActionFilter) ([]alert.Action, error) {
	fps, err := jsonList(f.Fingerprints)
	if err != nil {
		return nil, err
	}
	kind := ""
	if f.Kind != 0 {
		kind = f.Kind.String()
	}
	rows, err := q.QueryContext(ctx, `SELECT fingerprint, kind, user_name, at, until, series FROM actions
		WHERE (? = '[]' OR fingerprint IN (SELECT value FROM json_each(?))) AND (? = '' OR kind = ?)
		ORDER BY id`, fps, fps, kind, kind)
	if err != nil {
		return nil, fmt.Errorf("query actions: %w", err)
	}
	defer rows.Close()
	var out []alert.Action
	for rows.Next() {
		var (
			a               alert.Action
			kind, at, until string
		)
		if err := rows.Scan(&a.Fingerprint, &kind, &a.User, &at, &until, &a.Series); err != nil {
			return nil, fmt.Errorf("scan action: %w", err)
		}
		if a.Kind, err = alert.ParseActionKind(kind); err != nil {
			return nil, fmt.Errorf("action on alert %q: %w", a.Fingerprint, err)
		}
		if a.At, err = parseTime(at); err != nil {
			return nil, fmt.Errorf("action on alert %q: %w", a.Fingerprint, err)
		}
		if a.Until, err = parseTime(until); err != nil {
			return nil, fmt.Errorf("action on alert %q: %w", a.Fingerprint, err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query actions: %w", err)
	}
	return out, nil
}

// AddAction stores an action (alert.CheckAction). The alert must exist.
func (db *DB) AddAction(ctx context.Context, a alert.Action) error {
	err := db.tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM alerts WHERE fingerprint = ?`, a.Fingerprint).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return ErrNotFound
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO actions (fingerprint, kind, user_name, at, until, series)
			VALUES (?, ?, ?, ?, ?, ?)`, a.Fingerprint, a.Kind.String(), a.User, fmtTime(a.At), fmtTime(a.Until), a.Series)
		return err
	})
	if err != nil {
		return fmt.Errorf("add %s action on alert %q: %w", a.Kind, a.Fingerprint, err)
	}
	return nil
}

// PruneAlerts deletes alerts that ended (resolved, closed or superseded)
// before the given instant, with their sends and actions, in one
// transaction, and returns how many alerts it deleted. Firing alerts are
// never deleted, nor is any alert of a group that has one firing: the
// group's earlier alerts decide "first" or "escalated" and hold the message
// escalations thread under. Times compare as stored text, so to the second.
func (db *DB) PruneAlerts(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := db.tx(ctx, func(tx *sql.Tx) error {
		// alerts_status finds both sides; sends and actions go by
		// ON DELETE CASCADE through their fingerprint indexes.
		res, err := tx.ExecContext(ctx, `DELETE FROM alerts
			WHERE status IN ('resolved', 'closed', 'superseded') AND ends_at <> '' AND ends_at < ?
			AND group_key NOT IN (SELECT group_key FROM alerts WHERE status = 'firing')`, fmtTime(before))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("prune alerts ended before %s: %w", fmtTime(before), err)
	}
	return int(n), nil
}

// jsonList encodes ids for json_each; nil becomes an empty list.
func jsonList(ids []string) (string, error) {
	if len(ids) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal(ids)
	if err != nil {
		return "", fmt.Errorf("encode id list: %w", err)
	}
	return string(b), nil
}
