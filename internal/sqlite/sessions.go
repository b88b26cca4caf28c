package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"gatehouse/internal/session"
)

var _ session.Store = (*DB)(nil)

// CreateDevice implements session.Store.
func (db *DB) CreateDevice(ctx context.Context, d *session.Device) error {
	_, err := db.write.ExecContext(ctx, `INSERT INTO devices (id, token_hash, first_seen, last_seen, ip, user_agent, browser, os) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		d.ID, d.TokenHash, us(d.FirstSeen), us(d.LastSeen), d.IP, d.UserAgent, d.Browser, d.OS)
	return err
}

// DeviceByTokenHash implements session.Store.
func (db *DB) DeviceByTokenHash(ctx context.Context, h []byte) (*session.Device, error) {
	var d session.Device
	var first, last sql.NullInt64
	err := db.readRow(ctx, `SELECT id, token_hash, first_seen, last_seen, ip, user_agent, browser, os FROM devices WHERE token_hash = ?`, h).
		Scan(&d.ID, &d.TokenHash, &first, &last, &d.IP, &d.UserAgent, &d.Browser, &d.OS)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, session.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	d.FirstSeen, d.LastSeen = tm(first), tm(last)
	return &d, nil
}

// TouchDevice implements session.Store.
func (db *DB) TouchDevice(ctx context.Context, id string, at time.Time, ip, ua, browser, os string) error {
	_, err := db.write.ExecContext(ctx, `UPDATE devices SET last_seen = ?, ip = ?, user_agent = ?, browser = ?, os = ? WHERE id = ?`, us(at), ip, ua, browser, os, id)
	return err
}

// CreateSession implements session.Store.
func (db *DB) CreateSession(ctx context.Context, s *session.Session) error {
	_, err := db.write.ExecContext(ctx, `INSERT INTO sessions (id, token_hash, account_id, device_id, created_at, last_seen_at, authenticated_at, idle_timeout_us, absolute_expires_at, remember, ip)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		s.ID, s.TokenHash, s.AccountID, s.DeviceID, us(s.CreatedAt), us(s.LastSeenAt), us(s.AuthenticatedAt), s.IdleTimeout.Microseconds(), us(s.AbsoluteExpiresAt), s.Remember, s.IP)
	return err
}

// SessionByTokenHash implements session.Store. It is the hot path of every
// signed-in request: one primary-key-like lookup on the unique token index.
func (db *DB) SessionByTokenHash(ctx context.Context, h []byte) (*session.Session, error) {
	var s session.Session
	var created, seen, authn, abs, revoked sql.NullInt64
	var idle int64
	err := db.readRow(ctx, `SELECT id, account_id, device_id, created_at, last_seen_at, authenticated_at, idle_timeout_us, absolute_expires_at, remember, ip, revoked_at
		FROM sessions WHERE token_hash = ?`, h).
		Scan(&s.ID, &s.AccountID, &s.DeviceID, &created, &seen, &authn, &idle, &abs, &s.Remember, &s.IP, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, session.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	s.TokenHash = h
	s.CreatedAt, s.LastSeenAt, s.AuthenticatedAt, s.AbsoluteExpiresAt, s.RevokedAt = tm(created), tm(seen), tm(authn), tm(abs), tm(revoked)
	s.IdleTimeout = time.Duration(idle) * time.Microsecond
	return &s, nil
}

// TouchSession implements session.Store.
func (db *DB) TouchSession(ctx context.Context, id string, at time.Time) error {
	_, err := db.write.ExecContext(ctx, `UPDATE sessions SET last_seen_at = ? WHERE id = ?`, us(at), id)
	return err
}

// RevokeSession implements session.Store.
func (db *DB) RevokeSession(ctx context.Context, id string, at time.Time) error {
	_, err := db.write.ExecContext(ctx, `UPDATE sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, us(at), id)
	return err
}

// RevokeAccountSessions implements session.Store.
func (db *DB) RevokeAccountSessions(ctx context.Context, accountID string, at time.Time) error {
	_, err := db.write.ExecContext(ctx, `UPDATE sessions SET revoked_at = ? WHERE account_id = ? AND revoked_at IS NULL`, us(at), accountID)
	return err
}
