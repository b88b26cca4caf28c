package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"gatehouse/internal/outbox"
)

var _ outbox.Store = (*DB)(nil)

const messageColumns = `id, reference, account_id, purpose, channel, destination, language, subject, body_text, body_html, created_at, sent_at, status, attempts, next_attempt_at, last_error, handed_off_at, secret`

func scanMessage(row interface{ Scan(...any) error }) (*outbox.Message, error) {
	var m outbox.Message
	var created, sent, next, handoff sql.NullInt64
	err := row.Scan(&m.ID, &m.Reference, &m.AccountID, &m.Purpose, &m.Channel, &m.To, &m.Language, &m.Subject, &m.Text, &m.HTML,
		&created, &sent, &m.Status, &m.Attempts, &next, &m.LastError, &handoff, &m.Secret)
	if err != nil {
		return nil, err
	}
	m.CreatedAt, m.SentAt, m.NextAttemptAt, m.HandedOffAt = tm(created), tm(sent), tm(next), tm(handoff)
	return &m, nil
}

// EnqueueMessage implements outbox.Store.
func (db *DB) EnqueueMessage(ctx context.Context, m *outbox.Message) error {
	_, err := db.exec(ctx, `INSERT INTO messages (`+messageColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.ID, m.Reference, m.AccountID, m.Purpose, m.Channel, m.To, m.Language, m.Subject, m.Text, m.HTML,
		us(m.CreatedAt), us(m.SentAt), m.Status, m.Attempts, us(m.NextAttemptAt), m.LastError, us(m.HandedOffAt), m.Secret)
	if isUnique(err) {
		return outbox.ErrDuplicateReference
	}
	return err
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
	return m, err
}

// MarkHandoff implements outbox.Store.
func (db *DB) MarkHandoff(ctx context.Context, id string, at time.Time) error {
	_, err := db.exec(ctx, `UPDATE messages SET handed_off_at = ? WHERE id = ?`, us(at), id)
	return err
}

// MarkSent implements outbox.Store.
func (db *DB) MarkSent(ctx context.Context, id string, at time.Time, forget bool) error {
	_, err := db.exec(ctx, `UPDATE messages SET status = 'sent', sent_at = ?, attempts = attempts + 1, lease_until = NULL,
		secret = CASE WHEN ? THEN NULL ELSE secret END WHERE id = ?`, us(at), forget, id)
	return err
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
	return err
}

// RecentMessages implements outbox.Store.
func (db *DB) RecentMessages(ctx context.Context, limit int) ([]*outbox.Message, error) {
	rows, err := db.query(ctx, `SELECT `+messageColumns+` FROM messages ORDER BY created_at DESC, rowid DESC LIMIT ?`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*outbox.Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}
