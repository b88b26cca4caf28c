package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"gatehouse/internal/account"
	"gatehouse/internal/session"
)

var _ session.Store = (*DB)(nil)

// CreateSession implements session.Store. A new session has a new token,
// which no node can have cached, so there is nothing to tell them.
func (db *DB) CreateSession(ctx context.Context, s *session.Session) error {
	_, err := db.conn(ctx).Exec(ctx, `
		INSERT INTO sessions (id, token_hash, account_id, device_id, created_at, last_seen_at, authenticated_at,
			idle_timeout_us, absolute_expires_at, remember, ip, amr)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		s.ID, s.TokenHash, s.AccountID, s.DeviceID, ts(s.CreatedAt), ts(s.LastSeenAt), ts(s.AuthenticatedAt),
		s.IdleTimeout.Microseconds(), ts(s.AbsoluteExpiresAt), s.Remember, s.IP, strings.Join(s.AMR, " "))
	if err != nil {
		return fmt.Errorf("postgres: create session: %w", err)
	}
	return nil
}

// SessionByTokenHash implements session.Store: the session joined with its
// account, in one round trip.
func (db *DB) SessionByTokenHash(ctx context.Context, h []byte) (*session.Session, error) {
	var s session.Session
	var a account.Account
	var created, seen, authn, abs, revoked, aCreated, aConfirmed, aChanged, aPhone, aCompromised *time.Time
	var idle int64
	var amr string
	err := db.conn(ctx).QueryRow(ctx, `
		SELECT s.id, s.account_id, s.device_id, s.created_at, s.last_seen_at, s.authenticated_at, s.idle_timeout_us,
			s.absolute_expires_at, s.remember, s.ip, s.revoked_at, s.amr,
			a.id, a.email, a.phone, a.password_hash, a.language, a.time_zone, a.status,
			a.created_at, a.confirmed_at, a.password_changed_at, a.phone_confirmed_at,
			a.password_compromised_at, a.alert_email, a.alert_sms
		FROM sessions s
		JOIN accounts a ON a.id = s.account_id
		WHERE s.token_hash = $1`, h).
		Scan(&s.ID, &s.AccountID, &s.DeviceID, &created, &seen, &authn, &idle, &abs, &s.Remember, &s.IP, &revoked, &amr,
			&a.ID, &a.Email, &a.Phone, &a.PasswordHash, &a.Language, &a.TimeZone, &a.Status, &aCreated, &aConfirmed, &aChanged, &aPhone,
			&aCompromised, &a.Alerts.Email, &a.Alerts.SMS)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, session.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: read session: %w", err)
	}
	s.TokenHash = h
	s.AMR = session.ParseAMR(amr)
	s.CreatedAt, s.LastSeenAt, s.AuthenticatedAt, s.AbsoluteExpiresAt, s.RevokedAt = utc(created), utc(seen), utc(authn), utc(abs), utc(revoked)
	s.IdleTimeout = time.Duration(idle) * time.Microsecond
	a.CreatedAt, a.ConfirmedAt, a.PasswordChangedAt, a.PhoneConfirmedAt = utc(aCreated), utc(aConfirmed), utc(aChanged), utc(aPhone)
	a.PasswordCompromisedAt = utc(aCompromised)
	s.Account = &a
	return &s, nil
}

// TouchSession implements session.Store. It tells no other node: it only
// moves last_seen_at forward, and a node whose cached copy is older than
// that goes back to the database before refusing the session as idle
// (session.Manager.Check), which is the only judgement the older time
// could change. Telling them would evict the session from every node's
// cache each time it is touched.
func (db *DB) TouchSession(ctx context.Context, id string, at time.Time) error {
	_, err := db.conn(ctx).Exec(ctx, `UPDATE sessions SET last_seen_at = $1 WHERE id = $2`, ts(at), id)
	if err != nil {
		return fmt.Errorf("postgres: touch session: %w", err)
	}
	return nil
}

// RevokeSession implements session.Store. The notification is part of the
// same statement, so it goes out when the revocation commits (with the
// flow's transaction, when there is one) and not at all if it rolls back;
// every node's cache then drops the session.
func (db *DB) RevokeSession(ctx context.Context, id string, at time.Time) error {
	_, err := db.conn(ctx).Exec(ctx, `
		WITH u AS (
			UPDATE sessions SET revoked_at = $1
			WHERE id = $2 AND revoked_at IS NULL
			RETURNING id
		)
		SELECT pg_notify('`+notifyChannel+`', 'session:' || id) FROM u`, ts(at), id)
	if err != nil {
		return fmt.Errorf("postgres: revoke session: %w", err)
	}
	return nil
}

// RevokeAccountSessions implements session.Store, telling every node to
// forget the account's sessions when the revocation commits.
func (db *DB) RevokeAccountSessions(ctx context.Context, accountID string, at time.Time) error {
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `
			UPDATE sessions SET revoked_at = $1
			WHERE account_id = $2 AND revoked_at IS NULL`, ts(at), accountID)
		if err != nil {
			return err
		}
		return notify(ctx, tx, "account", accountID)
	})
	if err != nil {
		return fmt.Errorf("postgres: revoke the account's sessions: %w", err)
	}
	return nil
}

// Reauthenticate implements session.Store; every node's cache drops the
// session when the change commits.
func (db *DB) Reauthenticate(ctx context.Context, id string, at time.Time, amr []string) error {
	// The methods are appended; a read keeps each once (session.JoinAMR).
	_, err := db.conn(ctx).Exec(ctx, `
		WITH u AS (
			UPDATE sessions SET authenticated_at = $1, amr = TRIM(amr || ' ' || $3)
			WHERE id = $2 AND revoked_at IS NULL
			RETURNING id
		)
		SELECT pg_notify('`+notifyChannel+`', 'session:' || id) FROM u`, ts(at), id, strings.Join(amr, " "))
	if err != nil {
		return fmt.Errorf("postgres: record step-up: %w", err)
	}
	return nil
}

// SessionByID implements session.Store.
func (db *DB) SessionByID(ctx context.Context, id string) (*session.Session, error) {
	var s session.Session
	var created, seen, authn, abs, revoked *time.Time
	var idle int64
	var amr string
	err := db.conn(ctx).QueryRow(ctx, `
		SELECT id, account_id, device_id, created_at, last_seen_at, authenticated_at, idle_timeout_us,
			absolute_expires_at, remember, ip, revoked_at, amr
		FROM sessions WHERE id = $1`, id).
		Scan(&s.ID, &s.AccountID, &s.DeviceID, &created, &seen, &authn, &idle, &abs, &s.Remember, &s.IP, &revoked, &amr)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, session.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: read session: %w", err)
	}
	s.AMR = session.JoinAMR(nil, strings.Fields(amr))
	s.CreatedAt, s.LastSeenAt, s.AuthenticatedAt, s.AbsoluteExpiresAt, s.RevokedAt = utc(created), utc(seen), utc(authn), utc(abs), utc(revoked)
	s.IdleTimeout = time.Duration(idle) * time.Microsecond
	return &s, nil
}
