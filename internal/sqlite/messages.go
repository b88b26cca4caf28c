package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"gatehouse/internal/outbox"
)

var _ outbox.Store = (*DB)(nil)

const messageColumns = `
	id, reference, account_id, purpose, cause, challenge_id, channel, destination, language, subject,
	body_text, body_html, created_at, sent_at, status, attempts, next_attempt_at, last_error, handed_off_at, secret, app_name`

func scanMessage(row interface{ Scan(...any) error }) (*outbox.Message, error) {
	var m outbox.Message
	var created, sent, next, handoff sql.NullInt64
	err := row.Scan(&m.ID, &m.Reference, &m.AccountID, &m.Purpose, &m.Cause, &m.ChallengeID, &m.Channel, &m.To, &m.Language, &m.Subject, &m.Text, &m.HTML,
		&created, &sent, &m.Status, &m.Attempts, &next, &m.LastError, &handoff, &m.Secret, &m.App)
	if err != nil {
		return nil, err
	}
	m.CreatedAt, m.SentAt, m.NextAttemptAt, m.HandedOffAt = tm(created), tm(sent), tm(next), tm(handoff)
	return &m, nil
}

// EnqueueMessage implements outbox.Store.
func (db *DB) EnqueueMessage(ctx context.Context, m *outbox.Message) error {
	_, err := db.exec(ctx, `
		INSERT INTO messages (`+messageColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.ID, m.Reference, m.AccountID, m.Purpose, m.Cause, m.ChallengeID, m.Channel, m.To, m.Language, m.Subject, m.Text, m.HTML,
		us(m.CreatedAt), us(m.SentAt), m.Status, m.Attempts, us(m.NextAttemptAt), m.LastError, us(m.HandedOffAt), m.Secret, m.App)
	if isUnique(err) {
		return outbox.ErrDuplicateReference
	}
	if err != nil {
		return fmt.Errorf("sqlite: enqueue message: %w", err)
	}
	return nil
}

// ClaimMessage implements outbox.Store. The single UPDATE … RETURNING is
// atomic, so two workers can never claim the same message.
func (db *DB) ClaimMessage(ctx context.Context, now, leaseUntil time.Time) (*outbox.Message, error) {
	m, err := scanMessage(db.writeRow(ctx, `UPDATE messages SET status = 'sending', lease_until = ?
		WHERE id = (SELECT id FROM messages
			WHERE (status = 'queued' AND next_attempt_at <= ?) OR (status = 'sending' AND lease_until <= ?)
			ORDER BY next_attempt_at LIMIT 1)
		RETURNING `+messageColumns, us(leaseUntil), us(now), us(now)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, outbox.ErrEmpty
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: claim message: %w", err)
	}
	return m, nil
}

// MarkHandoff implements outbox.Store.
func (db *DB) MarkHandoff(ctx context.Context, id string, at time.Time) error {
	_, err := db.exec(ctx, `UPDATE messages SET handed_off_at = ? WHERE id = ?`, us(at), id)
	if err != nil {
		return fmt.Errorf("sqlite: record message hand-off: %w", err)
	}
	return nil
}

// MarkSent implements outbox.Store.
func (db *DB) MarkSent(ctx context.Context, id string, at time.Time, forget bool) error {
	_, err := db.exec(ctx, `UPDATE messages SET status = 'sent', sent_at = ?, attempts = attempts + 1, lease_until = NULL,
		secret = CASE WHEN ? THEN NULL ELSE secret END WHERE id = ?`, us(at), forget, id)
	if err != nil {
		return fmt.Errorf("sqlite: mark message sent: %w", err)
	}
	return nil
}

// MarkRetry implements outbox.Store.
func (db *DB) MarkRetry(ctx context.Context, id string, next time.Time, lastError string, failed bool) error {
	status := outbox.Queued
	if failed {
		status = outbox.Failed
	}
	_, err := db.exec(ctx, `UPDATE messages SET status = ?, attempts = attempts + 1, next_attempt_at = ?, last_error = ?, lease_until = NULL,
		secret = CASE WHEN ? THEN NULL ELSE secret END WHERE id = ?`,
		status, us(next), lastError, failed, id)
	if err != nil {
		return fmt.Errorf("sqlite: schedule message retry: %w", err)
	}
	return nil
}

// AccountMessages implements outbox.Store. One range of the
// messages_account index (account_id, created_at DESC), so a holder's
// page costs the same however many messages the installation keeps.
func (db *DB) AccountMessages(ctx context.Context, accountID string, q outbox.AccountQuery) ([]*outbox.Message, error) {
	where, args := `account_id = ? AND status <> 'withheld'`, []any{accountID}
	if q.Reference != "" {
		where += ` AND reference = ?`
		args = append(args, q.Reference)
	}
	if !q.Before.IsZero() {
		where += ` AND (created_at < ? OR (created_at = ? AND id < ?))`
		args = append(args, us(q.Before), us(q.Before), q.BeforeID)
	}
	if !q.Since.IsZero() {
		where += ` AND created_at >= ?`
		args = append(args, us(q.Since))
	}
	if !q.Until.IsZero() {
		where += ` AND created_at < ?`
		args = append(args, us(q.Until))
	}
	if q.Cause != "" {
		where += ` AND cause = ?`
		args = append(args, q.Cause)
	}
	rows, err := db.query(ctx, `
		SELECT `+messageColumns+`
		FROM messages
		WHERE `+where+`
		ORDER BY created_at DESC, id DESC
		LIMIT ?`, append(args, q.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: account messages: %w", err)
	}
	defer rows.Close()
	var out []*outbox.Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: account messages: %w", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: account messages: %w", err)
	}
	return out, nil
}

// RecentMessages implements outbox.Store.
func (db *DB) RecentMessages(ctx context.Context, limit int) ([]*outbox.Message, error) {
	rows, err := db.query(ctx, `SELECT `+messageColumns+` FROM messages ORDER BY created_at DESC, rowid DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: recent messages: %w", err)
	}
	defer rows.Close()
	var out []*outbox.Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: recent messages: %w", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: recent messages: %w", err)
	}
	return out, nil
}

var _ outbox.BacklogStore = (*DB)(nil)

// Backlog implements outbox.BacklogStore: one read of the index on
// (status, created_at).
func (db *DB) Backlog(ctx context.Context) (outbox.Backlog, error) {
	var n int
	var oldest sql.NullInt64
	err := db.readRow(ctx, `SELECT count(*), min(created_at) FROM messages WHERE status IN ('queued', 'sending')`).Scan(&n, &oldest)
	if err != nil {
		return outbox.Backlog{}, fmt.Errorf("sqlite: read outbox backlog: %w", err)
	}
	return outbox.Backlog{Depth: n, Oldest: tm(oldest)}, nil
}
