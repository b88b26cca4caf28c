package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"gatehouse/internal/signin"
)

var _ signin.Store = (*DB)(nil)

const attemptColumns = `id, identifier, account_id, device_id, session_id, ip, user_agent, created_at, outcome, kind,
	method_offered, method_used, remember, ended_at, cause, app_id, app_name`

func scanAttempt(row interface{ Scan(...any) error }) (*signin.Attempt, error) {
	var a signin.Attempt
	var at, ended sql.NullInt64
	err := row.Scan(&a.ID, &a.Identifier, &a.AccountID, &a.Origin.DeviceID, &a.SessionID, &a.Origin.IP, &a.Origin.UserAgent,
		&at, &a.Outcome, &a.Kind, &a.MethodOffered, &a.MethodUsed, &a.Remember, &ended, &a.Cause, &a.App.ID, &a.App.Name)
	if err != nil {
		return nil, err
	}
	a.Origin.Time, a.EndedAt = tm(at), tm(ended)
	return &a, nil
}

// RecordAttempt implements signin.Store.
func (db *DB) RecordAttempt(ctx context.Context, a *signin.Attempt) error {
	_, err := db.exec(ctx, `
		INSERT INTO signin_attempts (`+attemptColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.ID, a.Identifier, a.AccountID, a.Origin.DeviceID, a.SessionID, a.Origin.IP, a.Origin.UserAgent,
		us(a.Origin.Time), a.Outcome, a.Kind, a.MethodOffered, a.MethodUsed, a.Remember, us(a.EndedAt), a.Cause, a.App.ID, a.App.Name)
	if err != nil {
		return fmt.Errorf("sqlite: record sign-in attempt: %w", err)
	}
	return nil
}

// Attempt implements signin.Store.
func (db *DB) Attempt(ctx context.Context, id string) (*signin.Attempt, error) {
	a, err := scanAttempt(db.readRow(ctx, `SELECT `+attemptColumns+` FROM signin_attempts WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, signin.ErrNoAttempt
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: read sign-in attempt: %w", err)
	}
	return a, nil
}

// EndAttempt implements signin.Store: only the update that finds the
// attempt still pending wins.
func (db *DB) EndAttempt(ctx context.Context, id string, outcome signin.Outcome, sessionID string, methodUsed signin.Method, at time.Time) (bool, error) {
	res, err := db.exec(ctx, `
		UPDATE signin_attempts SET outcome = ?, session_id = ?, method_used = ?, ended_at = ?
		WHERE id = ? AND outcome = ?`,
		outcome, sessionID, methodUsed, us(at), id, signin.Pending)
	if err != nil {
		return false, fmt.Errorf("sqlite: end sign-in attempt: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlite: end sign-in attempt: %w", err)
	}
	return n == 1, nil
}

// SecondSteps implements web.Proofs: the second steps the session passed
// (its sign-in's and each re-verification's), newest first. The account's
// index bounds the scan to the session's lifetime; a session has few.
func (db *DB) SecondSteps(ctx context.Context, accountID, sessionID string, since time.Time) ([]signin.Proof, error) {
	rows, err := db.query(ctx, `SELECT method_used, coalesce(ended_at, created_at) AS at FROM signin_attempts
		WHERE account_id = ? AND created_at >= ? AND session_id = ? AND outcome = ? AND method_used <> ''
		ORDER BY at DESC LIMIT 100`, accountID, us(since), sessionID, signin.Succeeded)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read session's second steps: %w", err)
	}
	defer rows.Close()
	var out []signin.Proof
	for rows.Next() {
		var p signin.Proof
		var at sql.NullInt64
		if err := rows.Scan(&p.Method, &at); err != nil {
			return nil, fmt.Errorf("sqlite: read session's second steps: %w", err)
		}
		p.At = tm(at)
		out = append(out, p)
	}
	return out, rows.Err()
}

// AttemptsByAccount implements signin.Store: the newest page of the
// account's attempts (see AttemptsPage).
func (db *DB) AttemptsByAccount(ctx context.Context, accountID string, limit int) ([]*signin.Attempt, error) {
	return db.AttemptsPage(ctx, accountID, signin.AttemptQuery{Limit: limit})
}
