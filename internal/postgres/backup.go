package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"gatehouse/internal/backup"
)

var _ backup.Store = (*DB)(nil)

// ReplaceBackupCodes implements backup.Store.
func (db *DB) ReplaceBackupCodes(ctx context.Context, accountID string, hashes [][]byte, at time.Time) error {
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM backup_codes WHERE account_id = $1`, accountID); err != nil {
			return err
		}
		for _, h := range hashes {
			if _, err := tx.Exec(ctx, `
				INSERT INTO backup_codes (account_id, code_hash, created_at)
				VALUES ($1, $2, $3)`, accountID, h, ts(at)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres: replace backup codes: %w", err)
	}
	return nil
}

// UseBackupCode implements backup.Store.
func (db *DB) UseBackupCode(ctx context.Context, accountID string, hash []byte, at time.Time) (bool, error) {
	tag, err := db.conn(ctx).Exec(ctx, `
		UPDATE backup_codes SET used_at = $1
		WHERE account_id = $2 AND code_hash = $3 AND used_at IS NULL`, ts(at), accountID, hash)
	if err != nil {
		return false, fmt.Errorf("postgres: use backup code: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// BackupCodesLeft implements backup.Store.
func (db *DB) BackupCodesLeft(ctx context.Context, accountID string) (int, error) {
	var n int
	err := db.conn(ctx).QueryRow(ctx, `
		SELECT count(*) FROM backup_codes
		WHERE account_id = $1 AND used_at IS NULL`, accountID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("postgres: count backup codes: %w", err)
	}
	return n, nil
}
