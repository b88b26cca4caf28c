package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

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

// AttemptsPage implements signin.Store. The index on (account_id,
// created_at DESC) serves it: a page reads at most Limit rows of one
// account past the cursor.
func (db *DB) AttemptsPage(ctx context.Context, accountID string, q signin.AttemptQuery) ([]*signin.Attempt, error) {
	where := []string{"account_id = ?", "created_at >= ?"}
	args := []any{accountID, us(q.Since)}
	if q.Since.IsZero() {
		args[1] = int64(0)
	}
	if !q.Before.IsZero() {
		where = append(where, "(created_at < ? OR (created_at = ? AND id < ?))")
		args = append(args, us(q.Before), us(q.Before), q.BeforeID)
	}
	if q.FailedOnly {
		where = append(where, "outcome NOT IN (?, ?)")
		args = append(args, signin.Succeeded, signin.Pending)
	}
	if !q.Until.IsZero() {
		where = append(where, "created_at < ?")
		args = append(args, us(q.Until))
	}
	if q.Outcome != "" {
		where = append(where, "outcome = ?")
		args = append(args, q.Outcome)
	}
	if q.Cause != "" {
		where = append(where, "cause = ?")
		args = append(args, q.Cause)
	}
	args = append(args, q.Limit)
	rows, err := db.query(ctx, `
		SELECT `+attemptColumns+`
		FROM signin_attempts
		WHERE `+strings.Join(where, " AND ")+`
		ORDER BY created_at DESC, id DESC
		LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list sign-in attempts: %w", err)
	}
	defer rows.Close()
	var out []*signin.Attempt
	for rows.Next() {
		a, err := scanAttempt(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list sign-in attempts: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list sign-in attempts: %w", err)
	}
	return out, nil
}

// UsedAt implements device.Store.
func (db *DB) UsedAt(ctx context.Context, accountID, deviceID string) (time.Time, error) {
	var at sql.NullInt64
	err := db.readRow(ctx, `
		SELECT last_used_at FROM account_devices
		WHERE account_id = ? AND device_id = ?`, accountID, deviceID).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("sqlite: read the account's device: %w", err)
	}
	return tm(at), nil
}

// AccountDevices implements device.Store.
func (db *DB) AccountDevices(ctx context.Context, accountID string) ([]device.AccountDevice, error) {
	rows, err := db.query(ctx, `
		SELECT d.id, d.first_seen, d.last_seen, d.ip, d.user_agent, d.browser, d.os,
			ad.name, ad.first_used_at, ad.last_used_at, ad.trusted_until
		FROM account_devices ad
		JOIN devices d ON d.id = ad.device_id
		WHERE ad.account_id = ?
		ORDER BY ad.last_used_at DESC, d.id`, accountID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list the account's devices: %w", err)
	}
	defer rows.Close()
	var out []device.AccountDevice
	for rows.Next() {
		var d device.AccountDevice
		var first, last, firstUsed, lastUsed, until sql.NullInt64
		if err := rows.Scan(&d.ID, &first, &last, &d.IP, &d.UserAgent, &d.Browser, &d.OS,
			&d.Name, &firstUsed, &lastUsed, &until); err != nil {
			return nil, fmt.Errorf("sqlite: list the account's devices: %w", err)
		}
		d.FirstSeen, d.LastSeen, d.FirstUsed, d.LastUsed, d.TrustedUntil = tm(first), tm(last), tm(firstUsed), tm(lastUsed), tm(until)
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list the account's devices: %w", err)
	}
	return out, nil
}

// RenameDevice implements device.Store.
func (db *DB) RenameDevice(ctx context.Context, accountID, deviceID, name string) (bool, error) {
	res, err := db.exec(ctx, `UPDATE account_devices SET name = ? WHERE account_id = ? AND device_id = ?`, name, accountID, deviceID)
	if err != nil {
		return false, fmt.Errorf("sqlite: rename device: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlite: rename device: %w", err)
	}
	return n == 1, nil
}

// ForgetDevice implements device.Store.
func (db *DB) ForgetDevice(ctx context.Context, accountID, deviceID string) error {
	if _, err := db.exec(ctx, `DELETE FROM account_devices WHERE account_id = ? AND device_id = ?`, accountID, deviceID); err != nil {
		return fmt.Errorf("sqlite: forget device: %w", err)
	}
	return nil
}

const sessionColumns = `id, account_id, device_id, created_at, last_seen_at, authenticated_at, idle_timeout_us,
	absolute_expires_at, remember, ip, revoked_at`

// AccountSessions implements session.Store.
func (db *DB) AccountSessions(ctx context.Context, accountID string, now time.Time) ([]*session.Session, error) {
	rows, err := db.query(ctx, `
		SELECT `+sessionColumns+` FROM sessions
		WHERE account_id = ? AND revoked_at IS NULL AND absolute_expires_at > ?
		ORDER BY last_seen_at DESC, id`, accountID, us(now))
	if err != nil {
		return nil, fmt.Errorf("sqlite: list the account's sessions: %w", err)
	}
	defer rows.Close()
	var out []*session.Session
	for rows.Next() {
		var s session.Session
		var created, seen, authn, abs, revoked sql.NullInt64
		var idle int64
		if err := rows.Scan(&s.ID, &s.AccountID, &s.DeviceID, &created, &seen, &authn, &idle, &abs, &s.Remember, &s.IP, &revoked); err != nil {
			return nil, fmt.Errorf("sqlite: list the account's sessions: %w", err)
		}
		s.CreatedAt, s.LastSeenAt, s.AuthenticatedAt, s.AbsoluteExpiresAt, s.RevokedAt = tm(created), tm(seen), tm(authn), tm(abs), tm(revoked)
		s.IdleTimeout = time.Duration(idle) * time.Microsecond
		out = append(out, &s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list the account's sessions: %w", err)
	}
	return out, nil
}

// RevokeAccountSession implements session.Store.
func (db *DB) RevokeAccountSession(ctx context.Context, accountID, id string, at time.Time) (bool, error) {
	res, err := db.exec(ctx, `
		UPDATE sessions SET revoked_at = ?
		WHERE id = ? AND account_id = ? AND revoked_at IS NULL`, us(at), id, accountID)
	if err != nil {
		return false, fmt.Errorf("sqlite: revoke session: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlite: revoke session: %w", err)
	}
	return n == 1, nil
}

// RevokeDeviceSessions implements session.Store.
func (db *DB) RevokeDeviceSessions(ctx context.Context, accountID, deviceID string, at time.Time) error {
	_, err := db.exec(ctx, `
		UPDATE sessions SET revoked_at = ?
		WHERE account_id = ? AND device_id = ? AND revoked_at IS NULL`, us(at), accountID, deviceID)
	if err != nil {
		return fmt.Errorf("sqlite: revoke the device's sessions: %w", err)
	}
	return nil
}

// RevokeOtherSessions implements session.Store.
func (db *DB) RevokeOtherSessions(ctx context.Context, accountID, keep string, at time.Time) error {
	_, err := db.exec(ctx, `
		UPDATE sessions SET revoked_at = ?
		WHERE account_id = ? AND id <> ? AND revoked_at IS NULL`, us(at), accountID, keep)
	if err != nil {
		return fmt.Errorf("sqlite: revoke the other sessions: %w", err)
	}
	return nil
}

// MarkPasswordCompromised implements account.Store.
func (db *DB) MarkPasswordCompromised(ctx context.Context, id string, at time.Time) error {
	if _, err := db.exec(ctx, `UPDATE accounts SET password_compromised_at = ? WHERE id = ?`, us(at), id); err != nil {
		return fmt.Errorf("sqlite: mark password compromised: %w", err)
	}
	return nil
}

// MarkPasswordCompromisedOnce implements account.Store.
func (db *DB) MarkPasswordCompromisedOnce(ctx context.Context, id string, at time.Time) error {
	res, err := db.exec(ctx, `UPDATE accounts SET password_compromised_at = ? WHERE id = ? AND password_compromised_at IS NULL`, us(at), id)
	if err != nil {
		return fmt.Errorf("sqlite: mark password compromised: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return account.ErrNotFound
	}
	return nil
}

// SetAlerts implements account.Store.
func (db *DB) SetAlerts(ctx context.Context, id string, a account.Alerts) error {
	if _, err := db.exec(ctx, `UPDATE accounts SET alert_email = ?, alert_sms = ? WHERE id = ?`, a.Email, a.SMS, id); err != nil {
		return fmt.Errorf("sqlite: set alerts: %w", err)
	}
	return nil
}

// MessageByReference implements outbox.Store.
func (db *DB) MessageByReference(ctx context.Context, ref string) (*outbox.Message, error) {
	m, err := scanMessage(db.readRow(ctx, `SELECT `+messageColumns+` FROM messages WHERE reference = ?`, ref))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, outbox.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: read message: %w", err)
	}
	return m, nil
}

// BlockSender implements code.Blocks.
func (db *DB) BlockSender(ctx context.Context, b *code.Block) error {
	_, err := db.exec(ctx, `INSERT INTO send_blocks (destination, device_id, ip, created_at, until) VALUES (?, ?, ?, ?, ?)`,
		b.Destination, b.DeviceID, b.IP, us(b.CreatedAt), us(b.Until))
	if err != nil {
		return fmt.Errorf("sqlite: block sender: %w", err)
	}
	return nil
}

// SenderBlocked implements code.Blocks. An empty device or network never
// matches: a block names what the sender had.
func (db *DB) SenderBlocked(ctx context.Context, destination, deviceID, ip string, now time.Time) (bool, error) {
	var n int
	err := db.readRow(ctx, `
		SELECT count(*) FROM send_blocks
		WHERE destination = ? AND until > ?
			AND ((device_id <> '' AND device_id = ?) OR (ip <> '' AND ip = ?))`,
		destination, us(now), deviceID, ip).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("sqlite: read send blocks: %w", err)
	}
	return n > 0, nil
}

// RecordAnswer implements activity.Store.
func (db *DB) RecordAnswer(ctx context.Context, a *activity.Answer) error {
	_, err := db.exec(ctx, `
		INSERT INTO answers (id, account_id, message_id, reference, challenge_id, attempt_id, cause, answer, actions,
			created_at, device_id, ip, user_agent)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.ID, a.AccountID, a.MessageID, a.Reference, a.ChallengeID, a.AttemptID, a.Cause, a.Said, joinActions(a.Actions),
		us(a.Origin.Time), a.Origin.DeviceID, a.Origin.IP, a.Origin.UserAgent)
	if err != nil {
		return fmt.Errorf("sqlite: record answer: %w", err)
	}
	return nil
}

// Answers implements activity.Store.
func (db *DB) Answers(ctx context.Context, accountID, challengeID, attemptID string) ([]*activity.Answer, error) {
	rows, err := db.query(ctx, `
		SELECT id, account_id, message_id, reference, challenge_id, attempt_id, cause, answer, actions,
			created_at, device_id, ip, user_agent
		FROM answers
		WHERE account_id = ? AND ((? <> '' AND challenge_id = ?) OR (? <> '' AND attempt_id = ?))
		ORDER BY created_at DESC, id DESC`, accountID, challengeID, challengeID, attemptID, attemptID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read answers: %w", err)
	}
	defer rows.Close()
	var out []*activity.Answer
	for rows.Next() {
		var a activity.Answer
		var actions string
		var at sql.NullInt64
		if err := rows.Scan(&a.ID, &a.AccountID, &a.MessageID, &a.Reference, &a.ChallengeID, &a.AttemptID, &a.Cause, &a.Said,
			&actions, &at, &a.Origin.DeviceID, &a.Origin.IP, &a.Origin.UserAgent); err != nil {
			return nil, fmt.Errorf("sqlite: read answers: %w", err)
		}
		a.Actions, a.Origin.Time = splitActions(actions), tm(at)
		out = append(out, &a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: read answers: %w", err)
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
	err := db.readRow(ctx, `
		SELECT id FROM accounts
		WHERE phone = ? AND phone_confirmed_at IS NOT NULL
		ORDER BY phone_confirmed_at DESC LIMIT 1`, number).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("sqlite: find the number's holder: %w", err)
	}
	return id, nil
}

// DeniedAttempts implements activity.Store.
func (db *DB) DeniedAttempts(ctx context.Context, accountID string, since time.Time) (map[string]bool, error) {
	rows, err := db.query(ctx, `
		SELECT attempt_id FROM answers
		WHERE account_id = ? AND created_at >= ? AND answer = 'not_me' AND attempt_id <> ''`, accountID, us(since))
	if err != nil {
		return nil, fmt.Errorf("sqlite: read answers: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("sqlite: read answers: %w", err)
		}
		out[id] = true
	}
	return out, rows.Err()
}

// Disowned implements activity.Store.
func (db *DB) Disowned(ctx context.Context, challengeID string) (bool, error) {
	var n int
	err := db.readRow(ctx, `SELECT count(*) FROM answers WHERE challenge_id = ? AND challenge_id <> '' AND answer = 'not_me'`, challengeID).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("sqlite: read answers: %w", err)
	}
	return n > 0, nil
}

// Requests implements activity.Store.
func (db *DB) Requests(ctx context.Context, ids []string) (map[string]activity.Request, error) {
	out := map[string]activity.Request{}
	if len(ids) == 0 {
		return out, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := db.query(ctx, `
		SELECT c.id, c.purpose, c.cause, c.attempt_id, c.account_id, c.channel, c.destination, c.device_id, c.ip, c.user_agent,
			c.failures, c.sends, c.created_at, c.sent_at, c.expires_at, c.consumed_at, c.stopped_at,
			EXISTS (SELECT 1 FROM answers a WHERE a.challenge_id = c.id AND a.answer = 'not_me')
		FROM challenges c
		WHERE c.id IN (?`+strings.Repeat(", ?", len(ids)-1)+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read requests: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c code.Challenge
		var created, sent, expires, consumed, stopped sql.NullInt64
		var disowned bool
		if err := rows.Scan(&c.ID, &c.Purpose, &c.Cause, &c.AttemptID, &c.AccountID, &c.Channel, &c.Destination,
			&c.Origin.DeviceID, &c.Origin.IP, &c.Origin.UserAgent, &c.Failures, &c.Sends, &created, &sent, &expires, &consumed, &stopped, &disowned); err != nil {
			return nil, fmt.Errorf("sqlite: read requests: %w", err)
		}
		c.CreatedAt, c.SentAt, c.ExpiresAt, c.ConsumedAt, c.StoppedAt = tm(created), tm(sent), tm(expires), tm(consumed), tm(stopped)
		out[c.ID] = activity.Request{Challenge: &c, Disowned: disowned}
	}
	return out, rows.Err()
}

// causeList writes causes as SQL placeholders and their arguments.
func causeList(causes []request.Cause) (string, []any) {
	marks := make([]string, len(causes))
	args := make([]any, len(causes))
	for i, c := range causes {
		marks[i], args[i] = "?", string(c)
	}
	return strings.Join(marks, ", "), args
}

// Unanswered implements activity.Store: the account's messages by their
// index (account, newest first), each request's newest message, and the
// answers by their partial indexes on the request and the attempt.
func (db *DB) Unanswered(ctx context.Context, accountID, deviceID string, since time.Time, causes []request.Cause, limit int) ([]activity.Unanswered, error) {
	if len(causes) == 0 {
		return nil, nil
	}
	in, causeArgs := causeList(causes)
	args := append([]any{accountID, us(since), outbox.Withheld}, causeArgs...)
	args = append(args, deviceID, deviceID, signin.Succeeded, limit)
	rows, err := db.query(ctx, `
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
			WHERE m.account_id = ? AND m.created_at >= ? AND m.challenge_id <> '' AND m.status <> ?
				AND m.cause IN (`+in+`)
				AND c.consumed_at IS NULL AND (? = '' OR c.device_id <> ?)
				AND (s.id IS NULL OR s.outcome <> ?)
				AND NOT EXISTS (SELECT 1 FROM answers a WHERE a.challenge_id = c.id AND a.challenge_id <> '')
				AND NOT EXISTS (SELECT 1 FROM answers a WHERE c.attempt_id <> '' AND a.attempt_id = c.attempt_id AND a.attempt_id <> '')
				AND NOT EXISTS (SELECT 1 FROM account_devices d WHERE d.account_id = m.account_id AND d.device_id = c.device_id
					AND c.device_id <> '' AND d.last_used_at >= c.created_at)
		)
		WHERE newest = 1
		ORDER BY sent DESC
		LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read unanswered requests: %w", err)
	}
	defer rows.Close()
	var out []activity.Unanswered
	for rows.Next() {
		var u activity.Unanswered
		var created, expires, aCreated sql.NullInt64
		var at signin.Attempt
		if err := rows.Scan(&u.Reference, &u.Cause, &u.Origin.DeviceID, &u.Origin.IP, &u.Origin.UserAgent, &created, &expires,
			&at.ID, &at.Outcome, &at.Origin.DeviceID, &at.Origin.IP, &at.Origin.UserAgent, &aCreated); err != nil {
			return nil, fmt.Errorf("sqlite: read unanswered requests: %w", err)
		}
		u.Origin.Time, u.ExpiresAt = tm(created), tm(expires)
		if at.ID != "" && at.Outcome != "" {
			at.Origin.Time = tm(aCreated)
			u.Attempt = &at
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: read unanswered requests: %w", err)
	}
	return out, nil
}

// UnansweredAttempts implements activity.Store, on the index of attempts
// by account and the answers' partial index by attempt.
func (db *DB) UnansweredAttempts(ctx context.Context, accountID, deviceID string, since time.Time, causes []request.Cause, limit int) ([]*signin.Attempt, error) {
	if len(causes) == 0 {
		return nil, nil
	}
	in, causeArgs := causeList(causes)
	args := append([]any{accountID, us(since), signin.SignInKind, signin.Succeeded, deviceID, deviceID}, causeArgs...)
	args = append(args, limit)
	rows, err := db.query(ctx, `
		SELECT `+attemptColumns+`
		FROM signin_attempts s
		WHERE s.account_id = ? AND s.created_at >= ? AND s.kind = ? AND s.outcome <> ? AND (? = '' OR s.device_id <> ?)
			AND s.cause IN (`+in+`)
			AND NOT EXISTS (SELECT 1 FROM answers a WHERE a.attempt_id = s.id AND a.attempt_id <> '')
			AND NOT EXISTS (SELECT 1 FROM account_devices d WHERE d.account_id = s.account_id AND d.device_id = s.device_id
				AND s.device_id <> '' AND d.last_used_at >= s.created_at)
		ORDER BY s.created_at DESC, s.id DESC
		LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read unanswered attempts: %w", err)
	}
	defer rows.Close()
	var out []*signin.Attempt
	for rows.Next() {
		a, err := scanAttempt(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: read unanswered attempts: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: read unanswered attempts: %w", err)
	}
	return out, nil
}
