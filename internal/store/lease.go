package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Leader election on a shared (PostgreSQL) state. One row of the leader
// table holds the lease: who holds it, until when (the database's clock,
// so replicas' clocks may differ), and an epoch that grows by one each time
// the lease changes hands. The holder renews it well inside its duration;
// another replica takes it only once it has expired.
//
// Fencing: a leader's writes carry its fence (WithFence). Each fenced
// transaction first reads the lease row FOR SHARE and fails with
// ErrNotLeader unless this holder and epoch still hold an unexpired
// lease; the row lock keeps another replica from taking the lease until
// the transaction ends. A leader that stalls (a long GC pause, a lost
// network) past its lease therefore cannot write once it wakes: its
// outbox claims fail, so it sends nothing the new leader also sends.

// ErrNotLeader is returned (wrapped) by a fenced write whose lease is lost.
var ErrNotLeader = errors.New("this replica no longer holds the leader lease")

// errNoLease is what the lease calls return on a SQLite state, which has
// no lease: its file lock already admits one process.
var errNoLease = errors.New("leader lease: only a shared (PostgreSQL) state has one; a SQLite state admits one process by its file lock")

// Fence identifies one tenure of the leader lease.
type Fence struct {
	Holder string
	Epoch  int64
}

type fenceKey struct{}

// WithFence returns ctx whose writes on a shared state succeed only while
// f still holds the lease. SQLite state ignores it: its file lock already
// admits one process.
func WithFence(ctx context.Context, f Fence) context.Context {
	return context.WithValue(ctx, fenceKey{}, f)
}

func (db *DB) checkFence(ctx context.Context, tx *sql.Tx) error {
	f, ok := ctx.Value(fenceKey{}).(Fence)
	if !ok || !db.pg {
		return nil
	}
	var epoch int64
	err := tx.QueryRowContext(ctx, `SELECT epoch FROM leader
		WHERE id = 1 AND holder = ? AND epoch = ? AND expires_at > clock_timestamp() FOR SHARE`,
		f.Holder, f.Epoch).Scan(&epoch)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w (holder %s, epoch %d)", ErrNotLeader, f.Holder, f.Epoch)
	}
	if err != nil {
		return fmt.Errorf("check leader lease: %w", err)
	}
	return nil
}

// Lease is the state of the leader lease as one replica last saw it.
type Lease struct {
	Holder  string
	Epoch   int64
	Expires time.Time
	// Held reports that the caller holds it (Acquire's result).
	Held bool
}

// Fence returns the fence of a held lease.
func (l Lease) Fence() Fence { return Fence{Holder: l.Holder, Epoch: l.Epoch} }

// AcquireLease takes the leader lease for holder for ttl, or renews it if
// holder has it: it succeeds when the lease is free, expired or holder's.
// A new tenure (the lease was another's, or holder's had expired) gets the
// next epoch; a renewal keeps it. When another replica holds it, the
// result says who, with Held false. Only a shared (PostgreSQL) state has a
// lease.
func (db *DB) AcquireLease(ctx context.Context, holder string, ttl time.Duration) (Lease, error) {
	if holder == "" || ttl <= 0 {
		return Lease{}, fmt.Errorf("acquire leader lease: want a holder and a positive duration, got %q, %s", holder, ttl)
	}
	if !db.pg {
		return Lease{}, errNoLease
	}
	var l Lease
	err := db.db.QueryRowContext(ctx, `UPDATE leader SET
			epoch = CASE WHEN holder = ? AND expires_at > clock_timestamp() THEN epoch ELSE epoch + 1 END,
			holder = ?, expires_at = clock_timestamp() + ? * interval '1 microsecond'
		WHERE id = 1 AND (holder = ? OR expires_at <= clock_timestamp())
		RETURNING holder, epoch, expires_at`, holder, holder, ttl.Microseconds(), holder).Scan(&l.Holder, &l.Epoch, &l.Expires)
	if err == nil {
		l.Held = true
		l.Expires = l.Expires.UTC()
		return l, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return Lease{}, fmt.Errorf("acquire leader lease: %w", err)
	}
	l, err = db.CurrentLease(ctx)
	if err != nil {
		return Lease{}, err
	}
	return l, nil
}

// CurrentLease returns who holds the lease and until when (Held false);
// a zero Holder means nobody ever held it.
func (db *DB) CurrentLease(ctx context.Context) (Lease, error) {
	if !db.pg {
		return Lease{}, errNoLease
	}
	var l Lease
	if err := db.db.QueryRowContext(ctx, `SELECT holder, epoch, expires_at FROM leader WHERE id = 1`).
		Scan(&l.Holder, &l.Epoch, &l.Expires); err != nil {
		return Lease{}, fmt.Errorf("read leader lease: %w", err)
	}
	l.Expires = l.Expires.UTC()
	return l, nil
}

// ReleaseLease gives the lease up if holder has it, so another replica
// takes over at once instead of after it expires (a clean shutdown).
func (db *DB) ReleaseLease(ctx context.Context, holder string) error {
	if !db.pg {
		return errNoLease
	}
	if _, err := db.db.ExecContext(ctx, `UPDATE leader SET expires_at = clock_timestamp()
		WHERE id = 1 AND holder = ? AND expires_at > clock_timestamp()`, holder); err != nil {
		return fmt.Errorf("release leader lease: %w", err)
	}
	return nil
}
