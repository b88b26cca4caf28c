package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"gatehouse/internal/outbox"
)

var _ outbox.Store = (*DB)(nil)

const messageColumns = `
	id, reference, account_id, purpose, cause, challenge_id, channel, destination, language, subject,
	body_text, body_html, created_at, sent_at, status, attempts, next_attempt_at, last_error, handed_off_at, secret, app_name`

func scanMessage(row pgx.Row) (*outbox.Message, error) {
	var m outbox.Message
	var created, sent, next, handoff *time.Time
	err := row.Scan(&m.ID, &m.Reference, &m.AccountID, &m.Purpose, &m.Cause, &m.ChallengeID, &m.Channel, &m.To, &m.Language, &m.Subject, &m.Text, &m.HTML,
		&created, &sent, &m.Status, &m.Attempts, &next, &m.LastError, &handoff, &m.Secret, &m.App)
	if err != nil {
		return nil, err
	}
	m.CreatedAt, m.SentAt, m.NextAttemptAt, m.HandedOffAt = utc(created), utc(sent), utc(next), utc(handoff)
	return &m, nil
}

// EnqueueMessage implements outbox.Store.
// A taken reference inserts nothing (ON CONFLICT DO NOTHING) rather than
// failing: a failed statement would abort the flow's transaction, and the
// outbox could not try another reference inside it.
func (db *DB) EnqueueMessage(ctx context.Context, m *outbox.Message) error {
	tag, err := db.conn(ctx).Exec(ctx, `
		INSERT INTO messages (`+messageColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)
		ON CONFLICT (reference) DO NOTHING`,
		m.ID, m.Reference, m.AccountID, m.Purpose, m.Cause, m.ChallengeID, m.Channel, m.To, m.Language, m.Subject, m.Text, m.HTML,
		ts(m.CreatedAt), ts(m.SentAt), m.Status, m.Attempts, ts(m.NextAttemptAt), m.LastError, ts(m.HandedOffAt), m.Secret, m.App)
	if isUnique(err) {
		return outbox.ErrDuplicateReference
	}
	if err != nil {
		return fmt.Errorf("postgres: enqueue message: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return outbox.ErrDuplicateReference
	}
	return nil
}

// ClaimMessage implements outbox.Store. FOR UPDATE SKIP LOCKED lets every
// node's worker claim a different due message without waiting on the others.
func (db *DB) ClaimMessage(ctx context.Context, now, leaseUntil time.Time) (*outbox.Message, error) {
	m, err := scanMessage(db.conn(ctx).QueryRow(ctx, `UPDATE messages SET status = 'sending', lease_until = $1
		WHERE id = (SELECT id FROM messages
			WHERE (status = 'queued' AND next_attempt_at <= $2) OR (status = 'sending' AND lease_until <= $2)
			ORDER BY next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED)
		RETURNING `+messageColumns, ts(leaseUntil), ts(now)))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, outbox.ErrEmpty
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: claim message: %w", err)
	}
	return m, nil
}

// MarkHandoff implements outbox.Store.
func (db *DB) MarkHandoff(ctx context.Context, id string, at time.Time) error {
	_, err := db.conn(ctx).Exec(ctx, `UPDATE messages SET handed_off_at = $1 WHERE id = $2`, ts(at), id)
	if err != nil {
		return fmt.Errorf("postgres: record message hand-off: %w", err)
	}
	return nil
}

// MarkSent implements outbox.Store.
func (db *DB) MarkSent(ctx context.Context, id string, at time.Time, forget bool) error {
	_, err := db.conn(ctx).Exec(ctx, `UPDATE messages SET status = 'sent', sent_at = $1, attempts = attempts + 1, lease_until = NULL,
		secret = CASE WHEN $2 THEN NULL ELSE secret END WHERE id = $3`, ts(at), forget, id)
	if err != nil {
		return fmt.Errorf("postgres: mark message sent: %w", err)
	}
	return nil
}

// MarkRetry implements outbox.Store.
func (db *DB) MarkRetry(ctx context.Context, id string, next time.Time, lastError string, failed bool) error {
	status := outbox.Queued
	if failed {
		status = outbox.Failed
	}
	_, err := db.conn(ctx).Exec(ctx, `UPDATE messages SET status = $1, attempts = attempts + 1, next_attempt_at = $2, last_error = $3, lease_until = NULL,
		secret = CASE WHEN $4 THEN NULL ELSE secret END WHERE id = $5`,
		status, ts(next), lastError, failed, id)
	if err != nil {
		return fmt.Errorf("postgres: schedule message retry: %w", err)
	}
	return nil
}

// AccountMessages implements outbox.Store: one range of the
// messages_account index (account_id, created_at DESC).
func (db *DB) AccountMessages(ctx context.Context, accountID string, q outbox.AccountQuery) ([]*outbox.Message, error) {
	where, args := `account_id = $1 AND status <> 'withheld'`, []any{accountID}
	if q.Reference != "" {
		args = append(args, q.Reference)
		where += fmt.Sprintf(` AND reference = $%d`, len(args))
	}
	if !q.Before.IsZero() {
		args = append(args, ts(q.Before), q.BeforeID)
		where += fmt.Sprintf(` AND (created_at, id) < ($%d, $%d)`, len(args)-1, len(args))
	}
	if !q.Since.IsZero() {
		args = append(args, ts(q.Since))
		where += fmt.Sprintf(` AND created_at >= $%d`, len(args))
	}
	if !q.Until.IsZero() {
		args = append(args, ts(q.Until))
		where += fmt.Sprintf(` AND created_at < $%d`, len(args))
	}
	if q.Cause != "" {
		args = append(args, string(q.Cause))
		where += fmt.Sprintf(` AND cause = $%d`, len(args))
	}
	args = append(args, q.Limit)
	rows, err := db.conn(ctx).Query(ctx, `
		SELECT `+messageColumns+`
		FROM messages
		WHERE `+where+`
		ORDER BY created_at DESC, id DESC
		LIMIT $`+fmt.Sprint(len(args)), args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: account messages: %w", err)
	}
	defer rows.Close()
	var out []*outbox.Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: account messages: %w", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: account messages: %w", err)
	}
	return out, nil
}

// RecentMessages implements outbox.Store.
func (db *DB) RecentMessages(ctx context.Context, limit int) ([]*outbox.Message, error) {
	rows, err := db.conn(ctx).Query(ctx, `SELECT `+messageColumns+` FROM messages ORDER BY created_at DESC, id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: recent messages: %w", err)
	}
	defer rows.Close()
	var out []*outbox.Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: recent messages: %w", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: recent messages: %w", err)
	}
	return out, nil
}

var _ outbox.BacklogStore = (*DB)(nil)

// Backlog implements outbox.BacklogStore: one read of the index on
// (status, created_at).
func (db *DB) Backlog(ctx context.Context) (outbox.Backlog, error) {
	var n int
	var oldest *time.Time
	err := db.conn(ctx).QueryRow(ctx, `SELECT count(*), min(created_at) FROM messages WHERE status IN ('queued', 'sending')`).Scan(&n, &oldest)
	if err != nil {
		return outbox.Backlog{}, fmt.Errorf("postgres: read outbox backlog: %w", err)
	}
	return outbox.Backlog{Depth: n, Oldest: utc(oldest)}, nil
}
