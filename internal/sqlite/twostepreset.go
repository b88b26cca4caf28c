package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"gatehouse/internal/twostep"
)

var _ twostep.ResetStore = (*DB)(nil)

// RecordTwoStepReset implements twostep.ResetStore.
func (db *DB) RecordTwoStepReset(ctx context.Context, accountID string, at time.Time) error {
	_, err := db.exec(ctx, `INSERT INTO two_step_resets (account_id, reset_at) VALUES (?, ?)
		ON CONFLICT (account_id) DO UPDATE SET reset_at = excluded.reset_at`, accountID, us(at))
	if err != nil {
		return fmt.Errorf("sqlite: record a two-step reset: %w", err)
	}
	return nil
}

// TwoStepReset implements twostep.ResetStore.
func (db *DB) TwoStepReset(ctx context.Context, accountID, deviceID string) (time.Time, bool, error) {
	var at sql.NullInt64
	var before int
	err := db.readRow(ctx, `
		SELECT r.reset_at, COALESCE((SELECT ad.first_used_at < r.reset_at FROM account_devices ad
			WHERE ad.account_id = r.account_id AND ad.device_id = ?), 0)
		FROM two_step_resets r WHERE r.account_id = ?`, deviceID, accountID).Scan(&at, &before)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("sqlite: read a two-step reset: %w", err)
	}
	return tm(at), before == 1, nil
}
