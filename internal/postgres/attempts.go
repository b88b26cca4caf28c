package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"gatehouse/internal/signin"
)

var _ signin.Store = (*DB)(nil)

const attemptColumns = `id, identifier, account_id, device_id, session_id, ip, user_agent, created_at, outcome, kind,
	method_offered, method_used, remember, ended_at, cause, app_id, app_name`

func scanAttempt(row pgx.Row) (*signin.Attempt, error) {
	var a signin.Attempt
	var at, ended *time.Time
	err := row.Scan(&a.ID, &a.Identifier, &a.AccountID, &a.Origin.DeviceID, &a.SessionID, &a.Origin.IP, &a.Origin.UserAgent,
		&at, &a.Outcome, &a.Kind, &a.MethodOffered, &a.MethodUsed, &a.Remember, &ended, &a.Cause, &a.App.ID, &a.App.Name)
	if err != nil {
		return nil, err
	}
	a.Origin.Time, a.EndedAt = utc(at), utc(ended)
	return &a, nil
}

// RecordAttempt implements signin.Store.
func (db *DB) RecordAttempt(ctx context.Context, a *signin.Attempt) error {
	_, err := db.conn(ctx).Exec(ctx, `
		INSERT INTO signin_attempts (`+attemptColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
		a.ID, a.Identifier, a.AccountID, a.Origin.DeviceID, a.SessionID, a.Origin.IP, a.Origin.UserAgent,
		ts(a.Origin.Time), a.Outcome, a.Kind, a.MethodOffered, a.MethodUsed, a.Remember, ts(a.EndedAt), a.Cause, a.App.ID, a.App.Name)
	if err != nil {
		return fmt.Errorf("postgres: record sign-in attempt: %w", err)
	}
	return nil
}

// Attempt implements signin.Store.
func (db *DB) Attempt(ctx context.Context, id string) (*signin.Attempt, error) {
	a, err := scanAttempt(db.conn(ctx).QueryRow(ctx, `SELECT `+attemptColumns+` FROM signin_attempts WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, signin.ErrNoAttempt
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: read sign-in attempt: %w", err)
	}
	return a, nil
}

// EndAttempt implements signin.Store: only the update that finds the
// attempt still pending wins, on whichever node it runs.
func (db *DB) EndAttempt(ctx context.Context, id string, outcome signin.Outcome, sessionID string, methodUsed signin.Method, at time.Time) (bool, error) {
	tag, err := db.conn(ctx).Exec(ctx, `
		UPDATE signin_attempts SET outcome = $1, session_id = $2, method_used = $3, ended_at = $4
		WHERE id = $5 AND outcome = $6`,
		outcome, sessionID, methodUsed, ts(at), id, signin.Pending)
	if err != nil {
		return false, fmt.Errorf("postgres: end sign-in attempt: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// SecondSteps implements web.Proofs: the second steps the session passed
// (its sign-in's and each re-verification's), newest first. The account's
// index bounds the scan to the session's lifetime; a session has few.
func (db *DB) SecondSteps(ctx context.Context, accountID, sessionID string, since time.Time) ([]signin.Proof, error) {
	rows, err := db.conn(ctx).Query(ctx, `SELECT method_used, coalesce(ended_at, created_at) AS at FROM signin_attempts
		WHERE account_id = $1 AND created_at >= $2 AND session_id = $3 AND outcome = $4 AND method_used <> ''
		ORDER BY at DESC LIMIT 100`, accountID, ts(since), sessionID, string(signin.Succeeded))
	if err != nil {
		return nil, fmt.Errorf("postgres: read session's second steps: %w", err)
	}
	defer rows.Close()
	var out []signin.Proof
	for rows.Next() {
		var p signin.Proof
		var method string
		var at time.Time
		if err := rows.Scan(&method, &at); err != nil {
			return nil, fmt.Errorf("postgres: read session's second steps: %w", err)
		}
		p.Method, p.At = signin.Method(method), at.UTC()
		out = append(out, p)
	}
	return out, rows.Err()
}

// AttemptsByAccount implements signin.Store: the newest page of the
// account's attempts (see AttemptsPage).
func (db *DB) AttemptsByAccount(ctx context.Context, accountID string, limit int) ([]*signin.Attempt, error) {
	return db.AttemptsPage(ctx, accountID, signin.AttemptQuery{Limit: limit})
}
