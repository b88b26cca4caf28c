package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"gatehouse/internal/signin"
)

var _ signin.Store = (*DB)(nil)

// RecordAttempt implements signin.Store.
func (db *DB) RecordAttempt(ctx context.Context, a *signin.Attempt) error {
	_, err := db.exec(ctx, `
		INSERT INTO signin_attempts (id, identifier, account_id, device_id, session_id, ip, user_agent,
			created_at, outcome, kind)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.ID, a.Identifier, a.AccountID, a.Origin.DeviceID, a.SessionID, a.Origin.IP, a.Origin.UserAgent,
		us(a.Origin.Time), a.Outcome, a.Kind)
	if err != nil {
		return fmt.Errorf("sqlite: record sign-in attempt: %w", err)
	}
	return nil
}

// AttemptsByAccount implements signin.Store.
func (db *DB) AttemptsByAccount(ctx context.Context, accountID string, limit int) ([]*signin.Attempt, error) {
	rows, err := db.query(ctx, `
		SELECT id, identifier, account_id, device_id, session_id, ip, user_agent, created_at, outcome, kind
		FROM signin_attempts
		WHERE account_id = ?
		ORDER BY created_at DESC
		LIMIT ?`, accountID, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list sign-in attempts: %w", err)
	}
	defer rows.Close()
	var out []*signin.Attempt
	for rows.Next() {
		var a signin.Attempt
		var at sql.NullInt64
		if err := rows.Scan(&a.ID, &a.Identifier, &a.AccountID, &a.Origin.DeviceID, &a.SessionID, &a.Origin.IP, &a.Origin.UserAgent, &at, &a.Outcome, &a.Kind); err != nil {
			return nil, fmt.Errorf("sqlite: list sign-in attempts: %w", err)
		}
		a.Origin.Time = tm(at)
		out = append(out, &a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list sign-in attempts: %w", err)
	}
	return out, nil
}
