package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/costbot/costbot/internal/alert"
	"github.com/costbot/costbot/internal/cost"
)

// OutcomeSent is the outcome of a row whose message went out (or, after a
// restart, was found in the channel) and whose send is recorded.
const OutcomeSent = "sent"

// Delivery is one outbox row: a message planned for one notifier, sent
// (perhaps after a restart) until it is marked done.
type Delivery struct {
	// ID is "<fingerprint>-<episode>-<status>-<notifier>-<seq>": unique
	// per message, the same on every attempt, so a receiver can drop a
	// duplicate (Slack metadata, the webhook's idempotency key).
	ID       string
	Notifier string
	Episode  int
	Seq      int
	// Alert is the message as planned.
	Alert     cost.Alert
	PlannedAt time.Time
	// Claims counts the sends started for this row; above zero on a pending
	// row, an earlier send may have gone out without being marked.
	Claims    int
	ClaimedAt time.Time
	// Live is false when the alert moved on since the row was planned (a
	// firing message whose alert no longer fires in that episode, or an
	// older episode's message): the message is stale and is not sent.
	Live bool
}

// Unsure reports that an earlier send of d may have gone out.
func (d Delivery) Unsure() bool { return d.Claims > 0 }

// SavePlan saves a plan in one transaction: the alerts (as SaveAlerts) and
// an outbox row per delivery. A delivery whose message (fingerprint,
// episode, status, notifier) already has a pending row adds nothing: the
// pending row, with its id, is still what gets sent. planned stamps new rows.
func (db *DB) SavePlan(ctx context.Context, alerts []alert.State, ds []alert.Delivery, planned time.Time) error {
	err := db.tx(ctx, func(tx *sql.Tx) error {
		if err := saveAlerts(ctx, tx, alerts); err != nil {
			return err
		}
		for _, d := range ds {
			if err := addDelivery(ctx, tx, d, planned); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("save plan (%d alerts, %d deliveries): %w", len(alerts), len(ds), err)
	}
	return nil
}

func addDelivery(ctx context.Context, tx *sql.Tx, d alert.Delivery, planned time.Time) error {
	a := d.Alert
	status := a.Status.String()
	if a.Status != cost.StatusFiring && a.Status != cost.StatusResolved {
		return fmt.Errorf("add delivery of alert %q to %q: invalid status %v", a.Fingerprint, d.Notifier, a.Status)
	}
	episode := d.Episode()
	if episode == 0 {
		if err := tx.QueryRowContext(ctx, `SELECT episode FROM alerts WHERE fingerprint = ?`,
			a.Fingerprint).Scan(&episode); err != nil {
			return fmt.Errorf("add delivery of alert %q to %q: %w", a.Fingerprint, d.Notifier, err)
		}
	}
	var pending, seq int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FILTER (WHERE done_at = ''), coalesce(max(seq), 0)
		FROM outbox WHERE fingerprint = ? AND episode = ? AND status = ? AND notifier = ?`,
		a.Fingerprint, episode, status, d.Notifier).Scan(&pending, &seq); err != nil {
		return fmt.Errorf("add delivery of alert %q to %q: %w", a.Fingerprint, d.Notifier, err)
	}
	if pending > 0 {
		return nil
	}
	seq++
	body, err := encodeFinding(a.Finding)
	if err != nil {
		return fmt.Errorf("encode finding of alert %q: %w", a.Fingerprint, err)
	}
	thread := ""
	if a.Thread != nil {
		b, err := json.Marshal(a.Thread)
		if err != nil {
			return fmt.Errorf("encode thread of alert %q: %w", a.Fingerprint, err)
		}
		thread = string(b)
	}
	id := fmt.Sprintf("%s-%d-%s-%s-%d", a.Fingerprint, episode, status, d.Notifier, seq)
	if _, err := tx.ExecContext(ctx, `INSERT INTO outbox (id, fingerprint, episode, status, notifier, seq,
		reason, starts_at, ends_at, last_sent_at, why, thread, finding, planned_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, a.Fingerprint, episode, status, d.Notifier, seq,
		a.Reason, fmtTime(a.StartsAt), fmtTime(a.EndsAt), fmtTime(a.LastSentAt), a.Why, thread, string(body),
		fmtTime(planned)); err != nil {
		return fmt.Errorf("add delivery %q: %w", id, err)
	}
	return nil
}

// Outbox returns the pending rows (not done), oldest first.
func (db *DB) Outbox(ctx context.Context) ([]Delivery, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT o.id, o.fingerprint, o.episode, o.status, o.notifier, o.seq,
		o.reason, o.starts_at, o.ends_at, o.last_sent_at, o.why, o.thread, o.finding, o.planned_at, o.claims,
		o.claimed_at, a.episode = o.episode AND (o.status = 'resolved' OR a.status = 'firing')
		FROM outbox o JOIN alerts a ON a.fingerprint = o.fingerprint
		WHERE o.done_at = '' ORDER BY o.planned_at, o.rowid`)
	if err != nil {
		return nil, fmt.Errorf("query outbox: %w", err)
	}
	defer rows.Close()
	var out []Delivery
	for rows.Next() {
		var (
			d                              Delivery
			status, starts, ends, last     string
			thread, body, planned, claimed string
		)
		if err := rows.Scan(&d.ID, &d.Alert.Fingerprint, &d.Episode, &status, &d.Notifier, &d.Seq,
			&d.Alert.Reason, &starts, &ends, &last, &d.Alert.Why, &thread, &body, &planned, &d.Claims, &claimed,
			&d.Live); err != nil {
			return nil, fmt.Errorf("scan outbox: %w", err)
		}
		if err := d.decode(status, starts, ends, last, thread, body, planned, claimed); err != nil {
			return nil, fmt.Errorf("outbox row %q: %w", d.ID, err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query outbox: %w", err)
	}
	return out, nil
}

func (d *Delivery) decode(status, starts, ends, last, thread, body, planned, claimed string) error {
	switch status {
	case "firing":
		d.Alert.Status = cost.StatusFiring
	case "resolved":
		d.Alert.Status = cost.StatusResolved
	default:
		return fmt.Errorf("unknown status %q", status)
	}
	var err error
	for _, t := range []struct {
		dst *time.Time
		s   string
	}{{&d.Alert.StartsAt, starts}, {&d.Alert.EndsAt, ends}, {&d.Alert.LastSentAt, last}, {&d.PlannedAt, planned},
		{&d.ClaimedAt, claimed}} {
		if *t.dst, err = parseTime(t.s); err != nil {
			return err
		}
	}
	if thread != "" {
		d.Alert.Thread = new(cost.MessageRef)
		if err := json.Unmarshal([]byte(thread), d.Alert.Thread); err != nil {
			return fmt.Errorf("decode thread: %w", err)
		}
	}
	if d.Alert.Finding, err = decodeFinding([]byte(body)); err != nil {
		return fmt.Errorf("decode finding: %w", err)
	}
	return nil
}

// ClaimDelivery notes, before a send starts, that the pending row id is
// being sent at at. It must succeed before anything is sent: a state that
// cannot record the claim cannot record the send either. The error wraps
// ErrNotFound when no pending row has the id.
func (db *DB) ClaimDelivery(ctx context.Context, id string, at time.Time) error {
	err := db.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE outbox SET claims = claims + 1, claimed_at = ?
			WHERE id = ? AND done_at = ''`, fmtTime(at), id)
		if err != nil {
			return err
		}
		return oneRow(res)
	})
	if err != nil {
		return fmt.Errorf("claim delivery %q: %w", id, err)
	}
	return nil
}

// CompleteDelivery marks the pending row id done with outcome (OutcomeSent)
// and records its send s (as RecordSend), in one
// transaction: either both are kept or neither. The error wraps
// ErrNotFound when no pending row has the id.
func (db *DB) CompleteDelivery(ctx context.Context, id, outcome string, s alert.Send) error {
	if s.FirstSentAt.IsZero() {
		s.FirstSentAt = s.SentAt
	}
	err := db.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE outbox SET done_at = ?, outcome = ? WHERE id = ? AND done_at = ''`,
			fmtTime(s.SentAt), outcome, id)
		if err != nil {
			return err
		}
		if err := oneRow(res); err != nil {
			return err
		}
		return recordSend(ctx, tx, s)
	})
	if err != nil {
		return fmt.Errorf("complete delivery %q: %w", id, err)
	}
	return nil
}

// DropDelivery marks the pending row id done without sending it, with
// outcome "dropped: " + why (its notifier is gone from the configuration,
// or the message went stale).
func (db *DB) DropDelivery(ctx context.Context, id, why string, at time.Time) error {
	err := db.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE outbox SET done_at = ?, outcome = ? WHERE id = ? AND done_at = ''`,
			fmtTime(at), "dropped: "+why, id)
		if err != nil {
			return err
		}
		return oneRow(res)
	})
	if err != nil {
		return fmt.Errorf("drop delivery %q: %w", id, err)
	}
	return nil
}

func oneRow(res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("no pending outbox row: %w", ErrNotFound)
	}
	return nil
}
