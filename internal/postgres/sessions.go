package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"gatehouse/internal/account"
	"gatehouse/internal/session"
)

var _ session.Store = (*DB)(nil)

// CreateDevice implements session.Store.
func (db *DB) CreateDevice(ctx context.Context, d *session.Device) error {
	_, err := db.conn(ctx).Exec(ctx, `INSERT INTO devices (id, token_hash, first_seen, last_seen, ip, user_agent, browser, os) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		d.ID, d.TokenHash, ts(d.FirstSeen), ts(d.LastSeen), d.IP, d.UserAgent, d.Browser, d.OS)
	return err
}

// DeviceByTokenHash implements session.Store.
func (db *DB) DeviceByTokenHash(ctx context.Context, h []byte) (*session.Device, error) {
	var d session.Device
	var first, last *time.Time
	err := db.conn(ctx).QueryRow(ctx, `SELECT id, token_hash, first_seen, last_seen, ip, user_agent, browser, os FROM devices WHERE token_hash = $1`, h).
		Scan(&d.ID, &d.TokenHash, &first, &last, &d.IP, &d.UserAgent, &d.Browser, &d.OS)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, session.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	d.FirstSeen, d.LastSeen = utc(first), utc(last)
	return &d, nil
}

// TouchDevice implements session.Store.
func (db *DB) TouchDevice(ctx context.Context, id string, at time.Time, ip, ua, browser, os string) error {
	_, err := db.conn(ctx).Exec(ctx, `UPDATE devices SET last_seen = $1, ip = $2, user_agent = $3, browser = $4, os = $5 WHERE id = $6`, ts(at), ip, ua, browser, os, id)
	return err
}

// CreateSession implements session.Store.
func (db *DB) CreateSession(ctx context.Context, s *session.Session) error {
	_, err := db.conn(ctx).Exec(ctx, `INSERT INTO sessions (id, token_hash, account_id, device_id, created_at, last_seen_at, authenticated_at, idle_timeout_us, absolute_expires_at, remember, ip)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		s.ID, s.TokenHash, s.AccountID, s.DeviceID, ts(s.CreatedAt), ts(s.LastSeenAt), ts(s.AuthenticatedAt), s.IdleTimeout.Microseconds(), ts(s.AbsoluteExpiresAt), s.Remember, s.IP)
	return err
}

// SessionByTokenHash implements session.Store: the session joined with its
// account, in one round trip.
func (db *DB) SessionByTokenHash(ctx context.Context, h []byte) (*session.Session, error) {
	var s session.Session
	var a account.Account
	var created, seen, authn, abs, revoked, aCreated, aConfirmed, aChanged *time.Time
	var idle int64
	err := db.conn(ctx).QueryRow(ctx, `SELECT s.id, s.account_id, s.device_id, s.created_at, s.last_seen_at, s.authenticated_at, s.idle_timeout_us,
			s.absolute_expires_at, s.remember, s.ip, s.revoked_at,
			a.id, a.email, a.phone, a.password_hash, a.language, a.time_zone, a.status, a.created_at, a.confirmed_at, a.password_changed_at
		FROM sessions s JOIN accounts a ON a.id = s.account_id WHERE s.token_hash = $1`, h).
		Scan(&s.ID, &s.AccountID, &s.DeviceID, &created, &seen, &authn, &idle, &abs, &s.Remember, &s.IP, &revoked,
			&a.ID, &a.Email, &a.Phone, &a.PasswordHash, &a.Language, &a.TimeZone, &a.Status, &aCreated, &aConfirmed, &aChanged)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, session.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	s.TokenHash = h
	s.CreatedAt, s.LastSeenAt, s.AuthenticatedAt, s.AbsoluteExpiresAt, s.RevokedAt = utc(created), utc(seen), utc(authn), utc(abs), utc(revoked)
	s.IdleTimeout = time.Duration(idle) * time.Microsecond
	a.CreatedAt, a.ConfirmedAt, a.PasswordChangedAt = utc(aCreated), utc(aConfirmed), utc(aChanged)
	s.Account = &a
	return &s, nil
}

// TouchSession implements session.Store.
func (db *DB) TouchSession(ctx context.Context, id string, at time.Time) error {
	_, err := db.conn(ctx).Exec(ctx, `UPDATE sessions SET last_seen_at = $1 WHERE id = $2`, ts(at), id)
	return err
}

// RevokeSession implements session.Store. The notification is delivered to
// every node when the update commits, so their session caches drop it.
func (db *DB) RevokeSession(ctx context.Context, id string, at time.Time) error {
	_, err := db.conn(ctx).Exec(ctx, `WITH u AS (UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL RETURNING id)
		SELECT pg_notify('`+notifyChannel+`', 'session:' || id) FROM u`, ts(at), id)
	return err
}

// RevokeAccountSessions implements session.Store, notifying every node.
func (db *DB) RevokeAccountSessions(ctx context.Context, accountID string, at time.Time) error {
	return db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE sessions SET revoked_at = $1 WHERE account_id = $2 AND revoked_at IS NULL`, ts(at), accountID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `SELECT pg_notify('`+notifyChannel+`', 'account:' || $1::text)`, accountID)
		return err
	})
}
