package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"gatehouse/internal/backup"
)

var _ backup.Store = (*DB)(nil)

// ReplaceBackupCodes implements backup.Store.
func (db *DB) ReplaceBackupCodes(ctx context.Context, accountID string, hashes [][]byte, at time.Time) error {
	err := db.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM backup_codes WHERE account_id = ?`, accountID); err != nil {
			return err
		}
		for _, h := range hashes {
			if _, err := tx.ExecContext(ctx, `
				INSERT INTO backup_codes (account_id, code_hash, created_at)
				VALUES (?, ?, ?)`, accountID, h, us(at)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: replace backup codes: %w", err)
	}
	return nil
}

// UseBackupCode implements backup.Store.
func (db *DB) UseBackupCode(ctx context.Context, accountID string, hash []byte, at time.Time) (bool, error) {
	res, err := db.exec(ctx, `
		UPDATE backup_codes SET used_at = ?
		WHERE account_id = ? AND code_hash = ? AND used_at IS NULL`, us(at), accountID, hash)
	if err != nil {
		return false, fmt.Errorf("sqlite: use backup code: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlite: use backup code: %w", err)
	}
	return n == 1, nil
}

// BackupCodesLeft implements backup.Store.
func (db *DB) BackupCodesLeft(ctx context.Context, accountID string) (int, error) {
	var n int
	err := db.readRow(ctx, `
		SELECT count(*) FROM backup_codes
		WHERE account_id = ? AND used_at IS NULL`, accountID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("sqlite: count backup codes: %w", err)
	}
	return n, nil
}
