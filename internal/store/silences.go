package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"time"

	"github.com/costbot/costbot/internal/alert"
)

const silenceCols = `id, matchers, starts_at, ends_at, created_by, comment, updated_at`

// AddSilence stores a checked silence (alert.CheckSilence) and returns it
// with its id: a new random one when s.ID is empty.
func (db *DB) AddSilence(ctx context.Context, s alert.Silence) (alert.Silence, error) {
	if s.ID == "" {
		var b [6]byte
		if _, err := rand.Read(b[:]); err != nil {
			return s, fmt.Errorf("add silence: %w", err)
		}
		s.ID = hex.EncodeToString(b[:])
	}
	ms := make([]string, len(s.Matchers))
	for i, m := range s.Matchers {
		ms[i] = m.String()
	}
	js, err := json.Marshal(ms)
	if err != nil {
		return s, fmt.Errorf("add silence: %w", err)
	}
	_, err = db.db.ExecContext(ctx, `INSERT INTO silences (`+silenceCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		s.ID, string(js), fmtTime(s.StartsAt), fmtTime(s.EndsAt), s.CreatedBy, s.Comment, fmtTime(s.UpdatedAt))
	if err != nil {
		return s, fmt.Errorf("add silence %q: %w", s.ID, err)
	}
	return s, nil
}

// Silences returns the silences that end after endsAfter (all of them for a
// zero time; pending and active ones for the cycle's now), by start then id.
// Times compare as stored text, so to the nanosecond in UTC.
func (db *DB) Silences(ctx context.Context, endsAfter time.Time) ([]alert.Silence, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT `+silenceCols+` FROM silences WHERE ends_at > ?
		ORDER BY starts_at, id`, fmtTime(endsAfter))
	if err != nil {
		return nil, fmt.Errorf("query silences: %w", err)
	}
	defer rows.Close()
	var out []alert.Silence
	for rows.Next() {
		s, err := scanSilence(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query silences: %w", err)
	}
	return out, nil
}

// Silence returns one silence; the error wraps ErrNotFound for an unknown id.
func (db *DB) Silence(ctx context.Context, id string) (alert.Silence, error) {
	s, err := scanSilence(db.db.QueryRowContext(ctx, `SELECT `+silenceCols+` FROM silences WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return s, fmt.Errorf("silence %q: %w", id, ErrNotFound)
	}
	return s, err
}

// ExpireSilence ends the silence id at now (alert.Expire) and returns it,
// with false when it had already expired (nothing changed). The error wraps
// ErrNotFound for an unknown id.
func (db *DB) ExpireSilence(ctx context.Context, id string, now time.Time) (alert.Silence, bool, error) {
	var (
		s       alert.Silence
		changed bool
	)
	err := db.tx(ctx, func(tx *sql.Tx) error {
		var err error
		s, err = scanSilence(tx.QueryRowContext(ctx, `SELECT `+silenceCols+` FROM silences WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		} else if err != nil {
			return err
		}
		if s, changed = alert.Expire(s, now); !changed {
			return nil
		}
		_, err = tx.ExecContext(ctx, `UPDATE silences SET starts_at = ?, ends_at = ?, updated_at = ? WHERE id = ?`,
			fmtTime(s.StartsAt), fmtTime(s.EndsAt), fmtTime(s.UpdatedAt), id)
		return err
	})
	if err != nil {
		return s, false, fmt.Errorf("expire silence %q: %w", id, err)
	}
	return s, changed, nil
}

func scanSilence(row interface{ Scan(...any) error }) (alert.Silence, error) {
	var (
		s                       alert.Silence
		js, start, end, updated string
	)
	if err := row.Scan(&s.ID, &js, &start, &end, &s.CreatedBy, &s.Comment, &updated); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return s, err
		}
		return s, fmt.Errorf("scan silence: %w", err)
	}
	var ms []string
	if err := json.Unmarshal([]byte(js), &ms); err != nil {
		return s, fmt.Errorf("silence %q: matchers: %w", s.ID, err)
	}
	var err error
	if s.Matchers, err = alert.ParseMatchers(ms...); err != nil {
		return s, fmt.Errorf("silence %q: %w", s.ID, err)
	}
	for _, t := range []struct {
		dst *time.Time
		src string
	}{{&s.StartsAt, start}, {&s.EndsAt, end}, {&s.UpdatedAt, updated}} {
		if *t.dst, err = parseTime(t.src); err != nil {
			return s, fmt.Errorf("silence %q: %w", s.ID, err)
		}
	}
	return s, nil
}

// OpenShared opens the state for a command that writes beside a running
// daemon (`costbot silence`): it is Open when no other process holds the
// state; when one does (ErrLocked) it opens the file without the lock, in
// WAL mode with the same busy timeout, on a schema that must already be
// current, and migrates nothing. Use it only for small writes the daemon
// reads each cycle, such as silences.
func OpenShared(ctx context.Context, path string) (*DB, error) {
	db, err := Open(ctx, path)
	if !errors.Is(err, ErrLocked) {
		return db, err
	}
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() +
		"?_txlock=immediate&_busy_timeout=5000&_journal_mode=WAL&_foreign_keys=1&_synchronous=NORMAL"
	sqldb, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open database %q: %w", path, err)
	}
	sqldb.SetMaxOpenConns(1)
	db = &DB{db: sqldb}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		db.Close()
		return nil, err
	}
	if v, err := db.SchemaVersion(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open database %q: %w", path, err)
	} else if v != len(names) {
		db.Close()
		return nil, fmt.Errorf("open database %q: schema version %d, this binary needs %d: the running daemon is another version; restart it with this one first", path, v, len(names))
	}
	return db, nil
}
