package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"gatehouse/internal/account"
	"gatehouse/internal/activity"
	"gatehouse/internal/code"
	"gatehouse/internal/device"
	"gatehouse/internal/outbox"
	"gatehouse/internal/request"
	"gatehouse/internal/session"
	"gatehouse/internal/signin"
)

var (
	_ activity.Store = (*DB)(nil)
	_ code.Blocks    = (*DB)(nil)
)

// AttemptsPage implements signin.Store (see the SQLite store: the index on
// (account_id, created_at DESC) serves it).
func (db *DB) AttemptsPage(ctx context.Context, accountID string, q signin.AttemptQuery) ([]*signin.Attempt, error) {
	args := []any{accountID, q.Since.UTC()}
	where := []string{"account_id = $1", "created_at >= $2"}
	if !q.Before.IsZero() {
		args = append(args, q.Before.UTC(), q.BeforeID)
		where = append(where, fmt.Sprintf("(created_at, id) < ($%d, $%d)", len(args)-1, len(args)))
	}
	if q.FailedOnly {
		args = append(args, string(signin.Succeeded), string(signin.Pending))
		where = append(where, fmt.Sprintf("outcome NOT IN ($%d, $%d)", len(args)-1, len(args)))
	}
	if !q.Until.IsZero() {
		args = append(args, q.Until.UTC())
		where = append(where, fmt.Sprintf("created_at < $%d", len(args)))
	}
	if q.Outcome != "" {
		args = append(args, string(q.Outcome))
		where = append(where, fmt.Sprintf("outcome = $%d", len(args)))
	}
	if q.Cause != "" {
		args = append(args, string(q.Cause))
		where = append(where, fmt.Sprintf("cause = $%d", len(args)))
	}
	args = append(args, q.Limit)
	rows, err := db.conn(ctx).Query(ctx, `
		SELECT `+attemptColumns+`
		FROM signin_attempts
		WHERE `+strings.Join(where, " AND ")+`
		ORDER BY created_at DESC, id DESC
		LIMIT $`+fmt.Sprint(len(args)), args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: list sign-in attempts: %w", err)
	}
	defer rows.Close()
	var out []*signin.Attempt
	for rows.Next() {
		a, err := scanAttempt(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: list sign-in attempts: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: list sign-in attempts: %w", err)
	}
	return out, nil
}

// UsedAt implements device.Store.
func (db *DB) UsedAt(ctx context.Context, accountID, deviceID string) (time.Time, error) {
	var at *time.Time
	err := db.conn(ctx).QueryRow(ctx, `
		SELECT last_used_at FROM account_devices
		WHERE account_id = $1 AND device_id = $2`, accountID, deviceID).Scan(&at)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("postgres: read the account's device: %w", err)
	}
	return utc(at), nil
}

// AccountDevices implements device.Store.
func (db *DB) AccountDevices(ctx context.Context, accountID string) ([]device.AccountDevice, error) {
	rows, err := db.conn(ctx).Query(ctx, `
		SELECT d.id, d.first_seen, d.last_seen, d.ip, d.user_agent, d.browser, d.os,
			ad.name, ad.first_used_at, ad.last_used_at, ad.trusted_until
		FROM account_devices ad
		JOIN devices d ON d.id = ad.device_id
		WHERE ad.account_id = $1
		ORDER BY ad.last_used_at DESC, d.id`, accountID)
	if err != nil {
		return nil, fmt.Errorf("postgres: list the account's devices: %w", err)
	}
	defer rows.Close()
	var out []device.AccountDevice
	for rows.Next() {
		var d device.AccountDevice
		var first, last, firstUsed, lastUsed, until *time.Time
		if err := rows.Scan(&d.ID, &first, &last, &d.IP, &d.UserAgent, &d.Browser, &d.OS,
			&d.Name, &firstUsed, &lastUsed, &until); err != nil {
			return nil, fmt.Errorf("postgres: list the account's devices: %w", err)
		}
		d.FirstSeen, d.LastSeen, d.FirstUsed, d.LastUsed, d.TrustedUntil = utc(first), utc(last), utc(firstUsed), utc(lastUsed), utc(until)
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: list the account's devices: %w", err)
	}
	return out, nil
}

// RenameDevice implements device.Store.
func (db *DB) RenameDevice(ctx context.Context, accountID, deviceID, name string) (bool, error) {
	tag, err := db.conn(ctx).Exec(ctx, `UPDATE account_devices SET name = $1 WHERE account_id = $2 AND device_id = $3`, name, accountID, deviceID)
	if err != nil {
		return false, fmt.Errorf("postgres: rename device: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// ForgetDevice implements device.Store.
func (db *DB) ForgetDevice(ctx context.Context, accountID, deviceID string) error {
	if _, err := db.conn(ctx).Exec(ctx, `DELETE FROM account_devices WHERE account_id = $1 AND device_id = $2`, accountID, deviceID); err != nil {
		return fmt.Errorf("postgres: forget device: %w", err)
	}
	return nil
}

// AccountSessions implements session.Store.
func (db *DB) AccountSessions(ctx context.Context, accountID string, now time.Time) ([]*session.Session, error) {
	rows, err := db.conn(ctx).Query(ctx, `
		SELECT id, account_id, device_id, created_at, last_seen_at, authenticated_at, idle_timeout_us,
			absolute_expires_at, remember, ip, revoked_at
		FROM sessions
		WHERE account_id = $1 AND revoked_at IS NULL AND absolute_expires_at > $2
		ORDER BY last_seen_at DESC, id`, accountID, now.UTC())
	if err != nil {
		return nil, fmt.Errorf("postgres: list the account's sessions: %w", err)
	}
	defer rows.Close()
	var out []*session.Session
	for rows.Next() {
		var s session.Session
		var created, seen, authn, abs, revoked *time.Time
		var idle int64
		if err := rows.Scan(&s.ID, &s.AccountID, &s.DeviceID, &created, &seen, &authn, &idle, &abs, &s.Remember, &s.IP, &revoked); err != nil {
			return nil, fmt.Errorf("postgres: list the account's sessions: %w", err)
		}
		s.CreatedAt, s.LastSeenAt, s.AuthenticatedAt, s.AbsoluteExpiresAt, s.RevokedAt = utc(created), utc(seen), utc(authn), utc(abs), utc(revoked)
		s.IdleTimeout = time.Duration(idle) * time.Microsecond
		out = append(out, &s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: list the account's sessions: %w", err)
	}
	return out, nil
}

// RevokeAccountSession implements session.Store; every node's cache drops
// the session when the revocation commits (see RevokeSession).
func (db *DB) RevokeAccountSession(ctx context.Context, accountID, id string, at time.Time) (bool, error) {
	var n int
	err := db.conn(ctx).QueryRow(ctx, `
		WITH u AS (
			UPDATE sessions SET revoked_at = $1
			WHERE id = $2 AND account_id = $3 AND revoked_at IS NULL
			RETURNING id
		), n AS (SELECT pg_notify('`+notifyChannel+`', 'session:' || id) FROM u)
		SELECT count(*) FROM n`, ts(at), id, accountID).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("postgres: revoke session: %w", err)
	}
	return n == 1, nil
}

// RevokeDeviceSessions implements session.Store, telling every node to
// forget the account's sessions when the revocation commits.
func (db *DB) RevokeDeviceSessions(ctx context.Context, accountID, deviceID string, at time.Time) error {
	return db.revokeSome(ctx, "revoke the device's sessions", accountID, `
		UPDATE sessions SET revoked_at = $1
		WHERE account_id = $2 AND device_id = $3 AND revoked_at IS NULL`, ts(at), accountID, deviceID)
}

// RevokeOtherSessions implements session.Store, telling every node to
// forget the account's sessions when the revocation commits.
func (db *DB) RevokeOtherSessions(ctx context.Context, accountID, keep string, at time.Time) error {
	return db.revokeSome(ctx, "revoke the other sessions", accountID, `
		UPDATE sessions SET revoked_at = $1
		WHERE account_id = $2 AND id <> $3 AND revoked_at IS NULL`, ts(at), accountID, keep)
}

func (db *DB) revokeSome(ctx context.Context, op, accountID, query string, args ...any) error {
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, query, args...); err != nil {
			return err
		}
		return notify(ctx, tx, "account", accountID)
	})
	if err != nil {
		return fmt.Errorf("postgres: %s: %w", op, err)
	}
	return nil
}

// MarkPasswordCompromised implements account.Store; cached sessions carry
// the account, so every node is told to forget them.
func (db *DB) MarkPasswordCompromised(ctx context.Context, id string, at time.Time) error {
	return db.updateAccount(ctx, "mark password compromised", id, `UPDATE accounts SET password_compromised_at = $2 WHERE id = $1`, ts(at))
}

// MarkPasswordCompromisedOnce implements account.Store: the conditional
// update waits on a concurrent mark's row lock, then finds it marked.
func (db *DB) MarkPasswordCompromisedOnce(ctx context.Context, id string, at time.Time) error {
	return db.updateAccount(ctx, "mark password compromised", id,
		`UPDATE accounts SET password_compromised_at = $2 WHERE id = $1 AND password_compromised_at IS NULL`, ts(at))
}

// SetAlerts implements account.Store (see MarkPasswordCompromised).
func (db *DB) SetAlerts(ctx context.Context, id string, a account.Alerts) error {
	return db.updateAccount(ctx, "set alerts", id, `UPDATE accounts SET alert_email = $2, alert_sms = $3 WHERE id = $1`, a.Email, a.SMS)
}

// MessageByReference implements outbox.Store.
func (db *DB) MessageByReference(ctx context.Context, ref string) (*outbox.Message, error) {
	m, err := scanMessage(db.conn(ctx).QueryRow(ctx, `SELECT `+messageColumns+` FROM messages WHERE reference = $1`, ref))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, outbox.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: read message: %w", err)
	}
	return m, nil
}

// BlockSender implements code.Blocks.
func (db *DB) BlockSender(ctx context.Context, b *code.Block) error {
	_, err := db.conn(ctx).Exec(ctx, `INSERT INTO send_blocks (destination, device_id, ip, created_at, until) VALUES ($1, $2, $3, $4, $5)`,
		b.Destination, b.DeviceID, b.IP, ts(b.CreatedAt), ts(b.Until))
	if err != nil {
		return fmt.Errorf("postgres: block sender: %w", err)
	}
	return nil
}

// SenderBlocked implements code.Blocks (see the SQLite store).
func (db *DB) SenderBlocked(ctx context.Context, destination, deviceID, ip string, now time.Time) (bool, error) {
	var blocked bool
	err := db.conn(ctx).QueryRow(ctx, `
		SELECT EXISTS (SELECT 1 FROM send_blocks
			WHERE destination = $1 AND until > $2
				AND ((device_id <> '' AND device_id = $3) OR (ip <> '' AND ip = $4)))`,
		destination, now.UTC(), deviceID, ip).Scan(&blocked)
	if err != nil {
		return false, fmt.Errorf("postgres: read send blocks: %w", err)
	}
	return blocked, nil
}

// RecordAnswer implements activity.Store.
func (db *DB) RecordAnswer(ctx context.Context, a *activity.Answer) error {
	_, err := db.conn(ctx).Exec(ctx, `
		INSERT INTO answers (id, account_id, message_id, reference, challenge_id, attempt_id, cause, answer, actions,
			created_at, device_id, ip, user_agent)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		a.ID, a.AccountID, a.MessageID, a.Reference, a.ChallengeID, a.AttemptID, string(a.Cause), string(a.Said), joinActions(a.Actions),
		ts(a.Origin.Time), a.Origin.DeviceID, a.Origin.IP, a.Origin.UserAgent)
	if err != nil {
		return fmt.Errorf("postgres: record answer: %w", err)
	}
	return nil
}

// Answers implements activity.Store.
func (db *DB) Answers(ctx context.Context, accountID, challengeID, attemptID string) ([]*activity.Answer, error) {
	rows, err := db.conn(ctx).Query(ctx, `
		SELECT id, account_id, message_id, reference, challenge_id, attempt_id, cause, answer, actions,
			created_at, device_id, ip, user_agent
		FROM answers
		WHERE account_id = $1 AND (($2 <> '' AND challenge_id = $2) OR ($3 <> '' AND attempt_id = $3))
		ORDER BY created_at DESC, id DESC`, accountID, challengeID, attemptID)
	if err != nil {
		return nil, fmt.Errorf("postgres: read answers: %w", err)
	}
	defer rows.Close()
	var out []*activity.Answer
	for rows.Next() {
		var a activity.Answer
		var actions string
		var at *time.Time
		if err := rows.Scan(&a.ID, &a.AccountID, &a.MessageID, &a.Reference, &a.ChallengeID, &a.AttemptID, &a.Cause, &a.Said,
			&actions, &at, &a.Origin.DeviceID, &a.Origin.IP, &a.Origin.UserAgent); err != nil {
			return nil, fmt.Errorf("postgres: read answers: %w", err)
		}
		a.Actions, a.Origin.Time = splitActions(actions), utc(at)
		out = append(out, &a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: read answers: %w", err)
	}
	return out, nil
}

func joinActions(as []activity.Action) string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = string(a)
	}
	return strings.Join(s, " ")
}

func splitActions(s string) []activity.Action {
	var out []activity.Action
	for _, f := range strings.Fields(s) {
		out = append(out, activity.Action(f))
	}
	return out
}

// PhoneOwner implements phone.Store.
func (db *DB) PhoneOwner(ctx context.Context, number string) (string, error) {
	var id string
	err := db.conn(ctx).QueryRow(ctx, `
		SELECT id FROM accounts
		WHERE phone = $1 AND phone_confirmed_at IS NOT NULL
		ORDER BY phone_confirmed_at DESC LIMIT 1`, number).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("postgres: find the number's holder: %w", err)
	}
	return id, nil
}

// DeniedAttempts implements activity.Store.
func (db *DB) DeniedAttempts(ctx context.Context, accountID string, since time.Time) (map[string]bool, error) {
	rows, err := db.conn(ctx).Query(ctx, `
		SELECT attempt_id FROM answers
		WHERE account_id = $1 AND created_at >= $2 AND answer = 'not_me' AND attempt_id <> ''`, accountID, since.UTC())
	if err != nil {
		return nil, fmt.Errorf("postgres: read answers: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("postgres: read answers: %w", err)
		}
		out[id] = true
	}
	return out, rows.Err()
}

// Disowned implements activity.Store.
func (db *DB) Disowned(ctx context.Context, challengeID string) (bool, error) {
	var found bool
	err := db.conn(ctx).QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM answers WHERE challenge_id = $1 AND challenge_id <> '' AND answer = 'not_me')`, challengeID).Scan(&found)
	if err != nil {
		return false, fmt.Errorf("postgres: read answers: %w", err)
	}
	return found, nil
}

// Requests implements activity.Store.
func (db *DB) Requests(ctx context.Context, ids []string) (map[string]activity.Request, error) {
	out := map[string]activity.Request{}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := db.conn(ctx).Query(ctx, `
		SELECT c.id, c.purpose, c.cause, c.attempt_id, c.account_id, c.channel, c.destination, c.device_id, c.ip, c.user_agent,
			c.failures, c.sends, c.created_at, c.sent_at, c.expires_at, c.consumed_at, c.stopped_at,
			EXISTS (SELECT 1 FROM answers a WHERE a.challenge_id = c.id AND a.answer = 'not_me')
		FROM challenges c
		WHERE c.id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("postgres: read requests: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c code.Challenge
		var created, sent, expires, consumed, stopped *time.Time
		var disowned bool
		if err := rows.Scan(&c.ID, &c.Purpose, &c.Cause, &c.AttemptID, &c.AccountID, &c.Channel, &c.Destination,
			&c.Origin.DeviceID, &c.Origin.IP, &c.Origin.UserAgent, &c.Failures, &c.Sends, &created, &sent, &expires, &consumed, &stopped, &disowned); err != nil {
			return nil, fmt.Errorf("postgres: read requests: %w", err)
		}
		c.CreatedAt, c.SentAt, c.ExpiresAt, c.ConsumedAt, c.StoppedAt = utc(created), utc(sent), utc(expires), utc(consumed), utc(stopped)
		out[c.ID] = activity.Request{Challenge: &c, Disowned: disowned}
	}
	return out, rows.Err()
}

func causeStrings(causes []request.Cause) []string {
	out := make([]string, len(causes))
	for i, c := range causes {
		out[i] = string(c)
	}
	return out
}

// Unanswered implements activity.Store: the account's messages by their
// index (account, newest first), each request's newest message, and the
// answers by their partial indexes on the request and the attempt.
func (db *DB) Unanswered(ctx context.Context, accountID, deviceID string, since time.Time, causes []request.Cause, limit int) ([]activity.Unanswered, error) {
	if len(causes) == 0 {
		return nil, nil
	}
	rows, err := db.conn(ctx).Query(ctx, `
		SELECT reference, cause, device_id, ip, user_agent, created_at, expires_at,
			attempt_id, outcome, a_device_id, a_ip, a_user_agent, a_created_at
		FROM (
			SELECT m.reference, m.cause, c.device_id, c.ip, c.user_agent, c.created_at, c.expires_at,
				c.attempt_id, COALESCE(s.outcome, '') AS outcome, COALESCE(s.device_id, '') AS a_device_id,
				COALESCE(s.ip, '') AS a_ip, COALESCE(s.user_agent, '') AS a_user_agent, s.created_at AS a_created_at,
				m.created_at AS sent,
				ROW_NUMBER() OVER (PARTITION BY c.id ORDER BY m.created_at DESC, m.id DESC) AS newest
			FROM messages m
			JOIN challenges c ON c.id = m.challenge_id
			LEFT JOIN signin_attempts s ON s.id = c.attempt_id AND c.attempt_id <> ''
			WHERE m.account_id = $1 AND m.created_at >= $2 AND m.challenge_id <> '' AND m.status <> $3
				AND m.cause = ANY($4)
				AND c.consumed_at IS NULL AND ($5 = '' OR c.device_id <> $5)
				AND (s.id IS NULL OR s.outcome <> $6)
				AND NOT EXISTS (SELECT 1 FROM answers a WHERE a.challenge_id = c.id AND a.challenge_id <> '')
				AND NOT EXISTS (SELECT 1 FROM answers a WHERE c.attempt_id <> '' AND a.attempt_id = c.attempt_id AND a.attempt_id <> '')
				AND NOT EXISTS (SELECT 1 FROM account_devices d WHERE d.account_id = m.account_id AND d.device_id = c.device_id
					AND c.device_id <> '' AND d.last_used_at >= c.created_at)
		) r
		WHERE newest = 1
		ORDER BY sent DESC
		LIMIT $7`, accountID, since.UTC(), string(outbox.Withheld), causeStrings(causes), deviceID, string(signin.Succeeded), limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: read unanswered requests: %w", err)
	}
	defer rows.Close()
	var out []activity.Unanswered
	for rows.Next() {
		var u activity.Unanswered
		var created, expires, aCreated *time.Time
		var at signin.Attempt
		if err := rows.Scan(&u.Reference, &u.Cause, &u.Origin.DeviceID, &u.Origin.IP, &u.Origin.UserAgent, &created, &expires,
			&at.ID, &at.Outcome, &at.Origin.DeviceID, &at.Origin.IP, &at.Origin.UserAgent, &aCreated); err != nil {
			return nil, fmt.Errorf("postgres: read unanswered requests: %w", err)
		}
		u.Origin.Time, u.ExpiresAt = utc(created), utc(expires)
		if at.ID != "" && at.Outcome != "" {
			at.Origin.Time = utc(aCreated)
			u.Attempt = &at
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: read unanswered requests: %w", err)
	}
	return out, nil
}

// UnansweredAttempts implements activity.Store, on the index of attempts
// by account and the answers' partial index by attempt.
func (db *DB) UnansweredAttempts(ctx context.Context, accountID, deviceID string, since time.Time, causes []request.Cause, limit int) ([]*signin.Attempt, error) {
	if len(causes) == 0 {
		return nil, nil
	}
	rows, err := db.conn(ctx).Query(ctx, `
		SELECT `+attemptColumns+`
		FROM signin_attempts s
		WHERE s.account_id = $1 AND s.created_at >= $2 AND s.kind = $3 AND s.outcome <> $4 AND ($5 = '' OR s.device_id <> $5)
			AND s.cause = ANY($6)
			AND NOT EXISTS (SELECT 1 FROM answers a WHERE a.attempt_id = s.id AND a.attempt_id <> '')
			AND NOT EXISTS (SELECT 1 FROM account_devices d WHERE d.account_id = s.account_id AND d.device_id = s.device_id
				AND s.device_id <> '' AND d.last_used_at >= s.created_at)
		ORDER BY s.created_at DESC, s.id DESC
		LIMIT $7`, accountID, since.UTC(), string(signin.SignInKind), string(signin.Succeeded), deviceID, causeStrings(causes), limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: read unanswered attempts: %w", err)
	}
	defer rows.Close()
	var out []*signin.Attempt
	for rows.Next() {
		a, err := scanAttempt(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: read unanswered attempts: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: read unanswered attempts: %w", err)
	}
	return out, nil
}
