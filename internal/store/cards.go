package store

import (
	"context"
	"fmt"
	"time"

	"github.com/costbot/costbot/internal/cost"
)

// SaveCard stores the card a card check read at at, replacing the account's
// earlier one, so later cycles evaluate the card the billing profile shows.
func (db *DB) SaveCard(ctx context.Context, c cost.Card, at time.Time) error {
	if c.Account == "" {
		return fmt.Errorf("save card: no account")
	}
	if _, err := db.db.ExecContext(ctx, `INSERT INTO cards (account, expiry_month, expiry_year, masked, updated_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (account) DO UPDATE SET expiry_month = excluded.expiry_month,
		expiry_year = excluded.expiry_year, masked = excluded.masked, updated_at = excluded.updated_at`,
		c.Account, c.ExpiryMonth, c.ExpiryYear, c.Masked, fmtTime(at)); err != nil {
		return fmt.Errorf("save card of account %q: %w", c.Account, err)
	}
	return nil
}
