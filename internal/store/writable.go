package store

import (
	"context"
	"database/sql"
	"fmt"
)

// CheckWritable proves the state can still be written: it rewrites the
// schema version (to the same value) in a write transaction, which fails
// on a read-only file, a full disk or a lost lock.
func (db *DB) CheckWritable(ctx context.Context) error {
	err := db.tx(ctx, func(tx *sql.Tx) error {
		v, err := db.schemaVersion(ctx, tx)
		if err != nil {
			return err
		}
		return db.setSchemaVersion(ctx, tx, v)
	})
	if err != nil {
		return fmt.Errorf("state is not writable: %w", err)
	}
	return nil
}
