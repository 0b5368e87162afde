package store

import (
	"context"
	"fmt"
	"time"
)

// LastGoodFetch returns when the account was last fetched successfully, or
// the zero time when it never was.
func (db *DB) LastGoodFetch(ctx context.Context, account string) (time.Time, error) {
	fs, err := db.fetches(ctx, `SELECT `+fetchCols+` FROM fetches WHERE account = ? AND ok = 1 ORDER BY id DESC LIMIT 1`, account)
	if err != nil {
		return time.Time{}, fmt.Errorf("last good fetch of account %q: %w", account, err)
	}
	if len(fs) == 0 {
		return time.Time{}, nil
	}
	return fs[0].At, nil
}
