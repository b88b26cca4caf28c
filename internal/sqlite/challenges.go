package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"gatehouse/internal/code"
	"gatehouse/internal/request"
)

var _ code.Store = (*DB)(nil)

// CreateChallenge implements code.Store.
func (db *DB) CreateChallenge(ctx context.Context, c *code.Challenge) error {
	_, err := db.exec(ctx, `
		INSERT INTO challenges (id, purpose, cause, attempt_id, account_id, channel, destination,
			device_id, ip, user_agent, code_hash, failures, sends, created_at, sent_at, expires_at, app_id, app_name)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.Purpose, c.Cause, c.AttemptID, c.AccountID, c.Channel, c.Destination,
		c.Origin.DeviceID, c.Origin.IP, c.Origin.UserAgent, c.CodeHash, c.Failures, c.Sends, us(c.CreatedAt), us(c.SentAt), us(c.ExpiresAt),
		c.App.ID, c.App.Name)
	if err != nil {
		return fmt.Errorf("sqlite: create challenge: %w", err)
	}
	return nil
}

// Challenge implements code.Store.
func (db *DB) Challenge(ctx context.Context, id string) (*code.Challenge, error) {
	var c code.Challenge
	var created, sent, expires, consumed, stopped sql.NullInt64
	err := db.readRow(ctx, `
		SELECT id, purpose, cause, attempt_id, account_id, channel, destination, device_id, ip, user_agent,
			code_hash, failures, sends, created_at, sent_at, expires_at, consumed_at, stopped_at, app_id, app_name
		FROM challenges
		WHERE id = ?`, id).
		Scan(&c.ID, &c.Purpose, &c.Cause, &c.AttemptID, &c.AccountID, &c.Channel, &c.Destination,
			&c.Origin.DeviceID, &c.Origin.IP, &c.Origin.UserAgent, &c.CodeHash, &c.Failures, &c.Sends, &created, &sent, &expires, &consumed, &stopped,
			&c.App.ID, &c.App.Name)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, code.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: read challenge: %w", err)
	}
	c.CreatedAt, c.SentAt, c.ExpiresAt, c.ConsumedAt, c.StoppedAt = tm(created), tm(sent), tm(expires), tm(consumed), tm(stopped)
	c.Origin.Time = c.CreatedAt
	return &c, nil
}

// TakeFailure implements code.Store: the condition is in the update, so
// only answers that find a count below max are counted.
func (db *DB) TakeFailure(ctx context.Context, id string, max int) (int, bool, error) {
	var n int
	err := db.writeRow(ctx, `
		UPDATE challenges SET failures = failures + 1
		WHERE id = ? AND failures < ?
		RETURNING failures`, id, max).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("sqlite: count wrong code: %w", err)
	}
	return n, true, nil
}

// ReturnFailure implements code.Store.
func (db *DB) ReturnFailure(ctx context.Context, id string) error {
	if _, err := db.exec(ctx, `UPDATE challenges SET failures = failures - 1 WHERE id = ? AND failures > 0`, id); err != nil {
		return fmt.Errorf("sqlite: give back a count: %w", err)
	}
	return nil
}

// Consume implements code.Store: only the update that finds consumed_at
// still NULL wins.
func (db *DB) Consume(ctx context.Context, id string, at time.Time) (bool, error) {
	res, err := db.exec(ctx, `
		UPDATE challenges SET consumed_at = ?
		WHERE id = ? AND consumed_at IS NULL`, us(at), id)
	if err != nil {
		return false, fmt.Errorf("sqlite: use code: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlite: use code: %w", err)
	}
	return n == 1, nil
}

// Stop implements code.Store.
func (db *DB) Stop(ctx context.Context, id string, at time.Time) error {
	_, err := db.exec(ctx, `
		UPDATE challenges SET consumed_at = ?, stopped_at = ?, code_hash = NULL
		WHERE id = ? AND consumed_at IS NULL`, us(at), us(at), id)
	if err != nil {
		return fmt.Errorf("sqlite: stop request: %w", err)
	}
	return nil
}

// Resend implements code.Store.
func (db *DB) Resend(ctx context.Context, id string, hash []byte, sentAt, expiresAt time.Time) error {
	_, err := db.exec(ctx, `
		UPDATE challenges SET code_hash = ?, sent_at = ?, expires_at = ?, sends = sends + 1
		WHERE id = ? AND (consumed_at IS NULL OR stopped_at IS NOT NULL)`,
		hash, us(sentAt), us(expiresAt), id)
	if err != nil {
		return fmt.Errorf("sqlite: resend code: %w", err)
	}
	return nil
}

// SendCode implements code.Store.
func (db *DB) SendCode(ctx context.Context, id string, ch request.Channel, destination string, hash []byte, sentAt, expiresAt time.Time) error {
	_, err := db.exec(ctx, `
		UPDATE challenges SET channel = ?, destination = ?, code_hash = ?, sent_at = ?, expires_at = ?, sends = sends + 1
		WHERE id = ? AND consumed_at IS NULL`,
		ch, destination, hash, us(sentAt), us(expiresAt), id)
	if err != nil {
		return fmt.Errorf("sqlite: send code: %w", err)
	}
	return nil
}
