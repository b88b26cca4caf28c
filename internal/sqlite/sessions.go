package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"gatehouse/internal/account"
	"gatehouse/internal/session"
)

var _ session.Store = (*DB)(nil)

// CreateSession implements session.Store.
func (db *DB) CreateSession(ctx context.Context, s *session.Session) error {
	_, err := db.exec(ctx, `
		INSERT INTO sessions (id, token_hash, account_id, device_id, created_at, last_seen_at, authenticated_at,
			idle_timeout_us, absolute_expires_at, remember, ip, amr)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		s.ID, s.TokenHash, s.AccountID, s.DeviceID, us(s.CreatedAt), us(s.LastSeenAt), us(s.AuthenticatedAt),
		s.IdleTimeout.Microseconds(), us(s.AbsoluteExpiresAt), s.Remember, s.IP, strings.Join(s.AMR, " "))
	if err != nil {
		return fmt.Errorf("sqlite: create session: %w", err)
	}
	return nil
}

// SessionByTokenHash implements session.Store. It is the hot path of every
// signed-in request: one lookup on the unique token index, joined with the
// account by primary key.
func (db *DB) SessionByTokenHash(ctx context.Context, h []byte) (*session.Session, error) {
	var s session.Session
	var a account.Account
	var created, seen, authn, abs, revoked, aCreated, aConfirmed, aChanged, aPhone, aCompromised sql.NullInt64
	var idle int64
	var amr string
	err := db.readRow(ctx, `
		SELECT s.id, s.account_id, s.device_id, s.created_at, s.last_seen_at, s.authenticated_at, s.idle_timeout_us,
			s.absolute_expires_at, s.remember, s.ip, s.revoked_at, s.amr,
			a.id, a.email, a.phone, a.password_hash, a.language, a.time_zone, a.status,
			a.created_at, a.confirmed_at, a.password_changed_at, a.phone_confirmed_at,
			a.password_compromised_at, a.alert_email, a.alert_sms, a.changes
		FROM sessions s
		JOIN accounts a ON a.id = s.account_id
		WHERE s.token_hash = ?`, h).
		Scan(&s.ID, &s.AccountID, &s.DeviceID, &created, &seen, &authn, &idle, &abs, &s.Remember, &s.IP, &revoked, &amr,
			&a.ID, &a.Email, &a.Phone, &a.PasswordHash, &a.Language, &a.TimeZone, &a.Status, &aCreated, &aConfirmed, &aChanged, &aPhone,
			&aCompromised, &a.Alerts.Email, &a.Alerts.SMS, &a.Changes)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, session.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: read session: %w", err)
	}
	s.TokenHash = h
	s.AMR = session.ParseAMR(amr)
	s.CreatedAt, s.LastSeenAt, s.AuthenticatedAt, s.AbsoluteExpiresAt, s.RevokedAt = tm(created), tm(seen), tm(authn), tm(abs), tm(revoked)
	s.IdleTimeout = time.Duration(idle) * time.Microsecond
	a.CreatedAt, a.ConfirmedAt, a.PasswordChangedAt, a.PhoneConfirmedAt = tm(aCreated), tm(aConfirmed), tm(aChanged), tm(aPhone)
	a.PasswordCompromisedAt = tm(aCompromised)
	s.Account = &a
	return &s, nil
}

// TouchSession implements session.Store. It is the session check's own
// once-a-minute write, which the session change log leaves out (migration
// 0025): nothing to settle (see Watch), and a query less on the hot path.
func (db *DB) TouchSession(ctx context.Context, id string, at time.Time) error {
	var err error
	const q = `UPDATE sessions SET last_seen_at = ? WHERE id = ?`
	if tx := flowTx(ctx); tx != nil {
		_, err = tx.ExecContext(ctx, q, us(at), id)
	} else {
		_, err = db.write.ExecContext(ctx, q, us(at), id)
	}
	if err != nil {
		return fmt.Errorf("sqlite: touch session: %w", err)
	}
	return nil
}

// RevokeSession implements session.Store.
func (db *DB) RevokeSession(ctx context.Context, id string, at time.Time) error {
	_, err := db.exec(ctx, `
		UPDATE sessions SET revoked_at = ?
		WHERE id = ? AND revoked_at IS NULL`, us(at), id)
	if err != nil {
		return fmt.Errorf("sqlite: revoke session: %w", err)
	}
	return nil
}

// RevokeAccountSessions implements session.Store.
func (db *DB) RevokeAccountSessions(ctx context.Context, accountID string, at time.Time) error {
	_, err := db.exec(ctx, `
		UPDATE sessions SET revoked_at = ?
		WHERE account_id = ? AND revoked_at IS NULL`, us(at), accountID)
	if err != nil {
		return fmt.Errorf("sqlite: revoke the account's sessions: %w", err)
	}
	return nil
}

// Reauthenticate implements session.Store.
func (db *DB) Reauthenticate(ctx context.Context, id string, at time.Time, amr []string) error {
	// The methods are appended; a read keeps each once (session.JoinAMR).
	_, err := db.exec(ctx, `
		UPDATE sessions SET authenticated_at = ?, amr = TRIM(amr || ' ' || ?)
		WHERE id = ? AND revoked_at IS NULL`, us(at), strings.Join(amr, " "), id)
	if err != nil {
		return fmt.Errorf("sqlite: record step-up: %w", err)
	}
	return nil
}

// SessionByID implements session.Store.
func (db *DB) SessionByID(ctx context.Context, id string) (*session.Session, error) {
	var s session.Session
	var created, seen, authn, abs, revoked sql.NullInt64
	var idle int64
	var amr string
	err := db.readRow(ctx, `SELECT `+sessionColumns+`, amr FROM sessions WHERE id = ?`, id).
		Scan(&s.ID, &s.AccountID, &s.DeviceID, &created, &seen, &authn, &idle, &abs, &s.Remember, &s.IP, &revoked, &amr)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, session.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: read session: %w", err)
	}
	s.AMR = session.JoinAMR(nil, strings.Fields(amr))
	s.CreatedAt, s.LastSeenAt, s.AuthenticatedAt, s.AbsoluteExpiresAt, s.RevokedAt = tm(created), tm(seen), tm(authn), tm(abs), tm(revoked)
	s.IdleTimeout = time.Duration(idle) * time.Microsecond
	return &s, nil
}
