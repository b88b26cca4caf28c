package sqlite

import (
	"context"
	"database/sql"

	"gatehouse/internal/signin"
)

var _ signin.Store = (*DB)(nil)

// RecordAttempt implements signin.Store.
func (db *DB) RecordAttempt(ctx context.Context, a *signin.Attempt) error {
	_, err := db.exec(ctx, `INSERT INTO signin_attempts (id, identifier, account_id, device_id, session_id, ip, user_agent, created_at, outcome, kind)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.ID, a.Identifier, a.AccountID, a.DeviceID, a.SessionID, a.IP, a.UserAgent, us(a.CreatedAt), a.Outcome, a.Kind)
	return err
}

// AttemptsByAccount implements signin.Store.
func (db *DB) AttemptsByAccount(ctx context.Context, accountID string, limit int) ([]*signin.Attempt, error) {
	rows, err := db.query(ctx, `SELECT id, identifier, account_id, device_id, session_id, ip, user_agent, created_at, outcome, kind
		FROM signin_attempts WHERE account_id = ? ORDER BY created_at DESC LIMIT ?`, accountID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*signin.Attempt
	for rows.Next() {
		var a signin.Attempt
		var at sql.NullInt64
		if err := rows.Scan(&a.ID, &a.Identifier, &a.AccountID, &a.DeviceID, &a.SessionID, &a.IP, &a.UserAgent, &at, &a.Outcome, &a.Kind); err != nil {
			return nil, err
		}
		a.CreatedAt = tm(at)
		out = append(out, &a)
	}
	return out, rows.Err()
}
