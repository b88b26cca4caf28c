package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"gatehouse/internal/twostep"
)

var _ twostep.ResetStore = (*DB)(nil)

// RecordTwoStepReset implements twostep.ResetStore.
func (db *DB) RecordTwoStepReset(ctx context.Context, accountID string, at time.Time) error {
	_, err := db.conn(ctx).Exec(ctx, `INSERT INTO two_step_resets (account_id, reset_at) VALUES ($1, $2)
		ON CONFLICT (account_id) DO UPDATE SET reset_at = excluded.reset_at`, accountID, ts(at))
	if err != nil {
		return fmt.Errorf("postgres: record a two-step reset: %w", err)
	}
	return nil
}

// TwoStepReset implements twostep.ResetStore.
func (db *DB) TwoStepReset(ctx context.Context, accountID, deviceID string) (time.Time, bool, error) {
	var at time.Time
	var before bool
	err := db.conn(ctx).QueryRow(ctx, `
		SELECT r.reset_at, COALESCE((SELECT ad.first_used_at < r.reset_at FROM account_devices ad
			WHERE ad.account_id = r.account_id AND ad.device_id = $1), false)
		FROM two_step_resets r WHERE r.account_id = $2`, deviceID, accountID).Scan(&at, &before)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("postgres: read a two-step reset: %w", err)
	}
	return at.UTC(), before, nil
}
