package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"gatehouse/internal/code"
)

var _ code.Store = (*DB)(nil)

// CreateChallenge implements code.Store.
func (db *DB) CreateChallenge(ctx context.Context, c *code.Challenge) error {
	_, err := db.exec(ctx, `INSERT INTO challenges (id, purpose, account_id, destination, device_id, code_hash, failures, created_at, sent_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.Purpose, c.AccountID, c.Destination, c.DeviceID, c.CodeHash, c.Failures, us(c.CreatedAt), us(c.SentAt), us(c.ExpiresAt))
	return err
}

// Challenge implements code.Store.
func (db *DB) Challenge(ctx context.Context, id string) (*code.Challenge, error) {
	var c code.Challenge
	var created, sent, expires, consumed sql.NullInt64
	err := db.readRow(ctx, `SELECT id, purpose, account_id, destination, device_id, code_hash, failures, created_at, sent_at, expires_at, consumed_at
		FROM challenges WHERE id = ?`, id).
		Scan(&c.ID, &c.Purpose, &c.AccountID, &c.Destination, &c.DeviceID, &c.CodeHash, &c.Failures, &created, &sent, &expires, &consumed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, code.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	c.CreatedAt, c.SentAt, c.ExpiresAt, c.ConsumedAt = tm(created), tm(sent), tm(expires), tm(consumed)
	return &c, nil
}

// RecordFailure implements code.Store.
func (db *DB) RecordFailure(ctx context.Context, id string) (int, error) {
	var n int
	err := db.writeRow(ctx, `UPDATE challenges SET failures = failures + 1 WHERE id = ? RETURNING failures`, id).Scan(&n)
	return n, err
}

// Consume implements code.Store: only the update that finds consumed_at
// still NULL wins.
func (db *DB) Consume(ctx context.Context, id string, at time.Time) (bool, error) {
	res, err := db.exec(ctx, `UPDATE challenges SET consumed_at = ? WHERE id = ? AND consumed_at IS NULL`, us(at), id)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// Resend implements code.Store.
func (db *DB) Resend(ctx context.Context, id string, hash []byte, sentAt, expiresAt time.Time) error {
	_, err := db.exec(ctx, `UPDATE challenges SET code_hash = ?, sent_at = ?, expires_at = ? WHERE id = ? AND consumed_at IS NULL`,
		hash, us(sentAt), us(expiresAt), id)
	return err
}
