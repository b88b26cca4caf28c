package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"gatehouse/internal/signin"
)

var _ signin.Store = (*DB)(nil)

// RecordAttempt implements signin.Store.
func (db *DB) RecordAttempt(ctx context.Context, a *signin.Attempt) error {
	_, err := db.conn(ctx).Exec(ctx, `
		INSERT INTO signin_attempts (id, identifier, account_id, device_id, session_id, ip, user_agent,
			created_at, outcome, kind)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		a.ID, a.Identifier, a.AccountID, a.Origin.DeviceID, a.SessionID, a.Origin.IP, a.Origin.UserAgent,
		ts(a.Origin.Time), a.Outcome, a.Kind)
	if err != nil {
		return fmt.Errorf("postgres: record sign-in attempt: %w", err)
	}
	return nil
}

// AttemptsByAccount implements signin.Store.
func (db *DB) AttemptsByAccount(ctx context.Context, accountID string, limit int) ([]*signin.Attempt, error) {
	rows, err := db.conn(ctx).Query(ctx, `
		SELECT id, identifier, account_id, device_id, session_id, ip, user_agent, created_at, outcome, kind
		FROM signin_attempts
		WHERE account_id = $1
		ORDER BY created_at DESC
		LIMIT $2`, accountID, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: list sign-in attempts: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*signin.Attempt, error) {
		var a signin.Attempt
		var at time.Time
		err := r.Scan(&a.ID, &a.Identifier, &a.AccountID, &a.Origin.DeviceID, &a.SessionID, &a.Origin.IP, &a.Origin.UserAgent, &at, &a.Outcome, &a.Kind)
		a.Origin.Time = at.UTC()
		return &a, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: list sign-in attempts: %w", err)
	}
	return out, nil
}
