package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"gatehouse/internal/code"
	"gatehouse/internal/request"
)

var _ code.Store = (*DB)(nil)

// CreateChallenge implements code.Store.
func (db *DB) CreateChallenge(ctx context.Context, c *code.Challenge) error {
	_, err := db.conn(ctx).Exec(ctx, `
		INSERT INTO challenges (id, purpose, cause, attempt_id, account_id, channel, destination,
			device_id, ip, user_agent, code_hash, failures, sends, created_at, sent_at, expires_at, app_id, app_name)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`,
		c.ID, c.Purpose, c.Cause, c.AttemptID, c.AccountID, c.Channel, c.Destination,
		c.Origin.DeviceID, c.Origin.IP, c.Origin.UserAgent, c.CodeHash, c.Failures, c.Sends, ts(c.CreatedAt), ts(c.SentAt), ts(c.ExpiresAt),
		c.App.ID, c.App.Name)
	if err != nil {
		return fmt.Errorf("postgres: create challenge: %w", err)
	}
	return nil
}

// Challenge implements code.Store.
func (db *DB) Challenge(ctx context.Context, id string) (*code.Challenge, error) {
	var c code.Challenge
	var created, sent, expires, consumed, stopped *time.Time
	err := db.conn(ctx).QueryRow(ctx, `
		SELECT id, purpose, cause, attempt_id, account_id, channel, destination, device_id, ip, user_agent,
			code_hash, failures, sends, created_at, sent_at, expires_at, consumed_at, stopped_at, app_id, app_name
		FROM challenges
		WHERE id = $1`, id).
		Scan(&c.ID, &c.Purpose, &c.Cause, &c.AttemptID, &c.AccountID, &c.Channel, &c.Destination,
			&c.Origin.DeviceID, &c.Origin.IP, &c.Origin.UserAgent, &c.CodeHash, &c.Failures, &c.Sends, &created, &sent, &expires, &consumed, &stopped,
			&c.App.ID, &c.App.Name)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, code.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: read challenge: %w", err)
	}
	c.CreatedAt, c.SentAt, c.ExpiresAt, c.ConsumedAt, c.StoppedAt = utc(created), utc(sent), utc(expires), utc(consumed), utc(stopped)
	c.Origin.Time = c.CreatedAt
	return &c, nil
}

// TakeFailure implements code.Store: the condition is in the update, which
// PostgreSQL re-evaluates on the row's latest version, so answers arriving
// together on any node never count past max.
func (db *DB) TakeFailure(ctx context.Context, id string, max int) (int, bool, error) {
	var n int
	err := db.conn(ctx).QueryRow(ctx, `
		UPDATE challenges SET failures = failures + 1
		WHERE id = $1 AND failures < $2
		RETURNING failures`, id, max).Scan(&n)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("postgres: count wrong code: %w", err)
	}
	return n, true, nil
}

// ReturnFailure implements code.Store.
func (db *DB) ReturnFailure(ctx context.Context, id string) error {
	if _, err := db.conn(ctx).Exec(ctx, `UPDATE challenges SET failures = failures - 1 WHERE id = $1 AND failures > 0`, id); err != nil {
		return fmt.Errorf("postgres: give back a count: %w", err)
	}
	return nil
}

// Consume implements code.Store: only the update that finds consumed_at
// still NULL wins, on whichever node it runs.
func (db *DB) Consume(ctx context.Context, id string, at time.Time) (bool, error) {
	tag, err := db.conn(ctx).Exec(ctx, `
		UPDATE challenges SET consumed_at = $1
		WHERE id = $2 AND consumed_at IS NULL`, ts(at), id)
	if err != nil {
		return false, fmt.Errorf("postgres: use code: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// Stop implements code.Store.
func (db *DB) Stop(ctx context.Context, id string, at time.Time) error {
	_, err := db.conn(ctx).Exec(ctx, `
		UPDATE challenges SET consumed_at = $1, stopped_at = $1, code_hash = NULL
		WHERE id = $2 AND consumed_at IS NULL`, ts(at), id)
	if err != nil {
		return fmt.Errorf("postgres: stop request: %w", err)
	}
	return nil
}

// Resend implements code.Store.
func (db *DB) Resend(ctx context.Context, id string, hash []byte, sentAt, expiresAt time.Time) error {
	_, err := db.conn(ctx).Exec(ctx, `
		UPDATE challenges SET code_hash = $1, sent_at = $2, expires_at = $3, sends = sends + 1
		WHERE id = $4 AND (consumed_at IS NULL OR stopped_at IS NOT NULL)`,
		hash, ts(sentAt), ts(expiresAt), id)
	if err != nil {
		return fmt.Errorf("postgres: resend code: %w", err)
	}
	return nil
}

// SendCode implements code.Store.
func (db *DB) SendCode(ctx context.Context, id string, ch request.Channel, destination string, hash []byte, sentAt, expiresAt time.Time) error {
	_, err := db.conn(ctx).Exec(ctx, `
		UPDATE challenges SET channel = $1, destination = $2, code_hash = $3, sent_at = $4, expires_at = $5, sends = sends + 1
		WHERE id = $6 AND consumed_at IS NULL`,
		ch, destination, hash, ts(sentAt), ts(expiresAt), id)
	if err != nil {
		return fmt.Errorf("postgres: send code: %w", err)
	}
	return nil
}
