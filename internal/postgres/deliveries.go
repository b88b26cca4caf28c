package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"gatehouse/internal/delivery"
)

var (
	_ delivery.Store        = (*DB)(nil)
	_ delivery.BacklogStore = (*DB)(nil)
	_ delivery.ListStore    = (*DB)(nil)
)

const deliveryColumns = `id, kind, target, receiver_id, account_id, payload, status, attempts, next_at, lease_until, last_error, created_at, sent_at`

func scanDelivery(row pgx.Row) (*delivery.Delivery, error) {
	var d delivery.Delivery
	var payload string
	var next, lease, created, sent *time.Time
	err := row.Scan(&d.ID, &d.Kind, &d.Target, &d.Receiver, &d.AccountID, &payload, &d.Status, &d.Attempts, &next, &lease, &d.LastError, &created, &sent)
	if err != nil {
		return nil, err
	}
	d.Payload = []byte(payload)
	d.NextAt, d.LeaseUntil, d.CreatedAt, d.SentAt = utc(next), utc(lease), utc(created), utc(sent)
	return &d, nil
}

// EnqueueDelivery implements delivery.Store.
func (db *DB) EnqueueDelivery(ctx context.Context, d *delivery.Delivery) error {
	_, err := db.conn(ctx).Exec(ctx, `INSERT INTO deliveries (`+deliveryColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		d.ID, d.Kind, d.Target, d.Receiver, d.AccountID, string(d.Payload), d.Status, d.Attempts, ts(d.NextAt), ts(d.LeaseUntil), d.LastError,
		ts(d.CreatedAt), ts(d.SentAt))
	if err != nil {
		return fmt.Errorf("postgres: enqueue delivery: %w", err)
	}
	return nil
}

// ClaimDelivery implements delivery.Store. FOR UPDATE SKIP LOCKED lets
// every node's worker claim a different due delivery without waiting on
// the others.
func (db *DB) ClaimDelivery(ctx context.Context, now, leaseUntil time.Time) (*delivery.Delivery, error) {
	d, err := scanDelivery(db.conn(ctx).QueryRow(ctx, `UPDATE deliveries SET status = 'sending', lease_until = $1
		WHERE id = (SELECT id FROM deliveries
			WHERE (status = 'queued' AND next_at <= $2) OR (status = 'sending' AND lease_until <= $2)
			ORDER BY next_at LIMIT 1 FOR UPDATE SKIP LOCKED)
		RETURNING `+deliveryColumns, ts(leaseUntil), ts(now)))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, delivery.ErrEmpty
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: claim delivery: %w", err)
	}
	return d, nil
}

// MarkDeliverySent implements delivery.Store.
func (db *DB) MarkDeliverySent(ctx context.Context, id string, at time.Time) error {
	_, err := db.conn(ctx).Exec(ctx, `UPDATE deliveries SET status = 'sent', sent_at = $1, attempts = attempts + 1, lease_until = NULL, last_error = '' WHERE id = $2`, ts(at), id)
	if err != nil {
		return fmt.Errorf("postgres: mark delivery sent: %w", err)
	}
	return nil
}

// MarkDeliveryRetry implements delivery.Store.
func (db *DB) MarkDeliveryRetry(ctx context.Context, id string, next time.Time, lastError string, failed bool) error {
	status := delivery.Queued
	if failed {
		status = delivery.Failed
	}
	_, err := db.conn(ctx).Exec(ctx, `UPDATE deliveries SET status = $1, attempts = attempts + 1, next_at = $2, last_error = $3, lease_until = NULL WHERE id = $4`,
		status, ts(next), lastError, id)
	if err != nil {
		return fmt.Errorf("postgres: schedule delivery retry: %w", err)
	}
	return nil
}

// Delivery implements delivery.Store.
func (db *DB) Delivery(ctx context.Context, id string) (*delivery.Delivery, error) {
	d, err := scanDelivery(db.conn(ctx).QueryRow(ctx, `SELECT `+deliveryColumns+` FROM deliveries WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, delivery.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: read delivery: %w", err)
	}
	return d, nil
}

// RequeueDelivery implements delivery.Store.
func (db *DB) RequeueDelivery(ctx context.Context, id string, now time.Time) error {
	tag, err := db.conn(ctx).Exec(ctx, `UPDATE deliveries SET status = 'queued', attempts = 0, next_at = $1, lease_until = NULL WHERE id = $2 AND status = 'failed'`,
		ts(now), id)
	if err != nil {
		return fmt.Errorf("postgres: requeue delivery: %w", err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	if _, err := db.Delivery(ctx, id); err != nil {
		return err
	}
	return delivery.ErrNotFailed
}

// Deliveries implements delivery.ListStore.
func (db *DB) Deliveries(ctx context.Context, q delivery.Query) ([]*delivery.Delivery, error) {
	where, args := `TRUE`, []any{}
	if q.Status != "" {
		args = append(args, q.Status)
		where += fmt.Sprintf(` AND status = $%d`, len(args))
	}
	if !q.Before.IsZero() {
		args = append(args, ts(q.Before), q.BeforeID)
		where += fmt.Sprintf(` AND (created_at, id) < ($%d, $%d)`, len(args)-1, len(args))
	}
	args = append(args, q.Limit)
	rows, err := db.conn(ctx).Query(ctx, `SELECT `+deliveryColumns+` FROM deliveries WHERE `+where+
		fmt.Sprintf(` ORDER BY created_at DESC, id DESC LIMIT $%d`, len(args)), args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: list deliveries: %w", err)
	}
	defer rows.Close()
	var out []*delivery.Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: list deliveries: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// DeliveryBacklog implements delivery.BacklogStore.
func (db *DB) DeliveryBacklog(ctx context.Context) (delivery.Backlog, error) {
	var n int
	var oldest *time.Time
	err := db.conn(ctx).QueryRow(ctx, `SELECT count(*), min(created_at) FROM deliveries WHERE status IN ('queued', 'sending')`).Scan(&n, &oldest)
	if err != nil {
		return delivery.Backlog{}, fmt.Errorf("postgres: read delivery backlog: %w", err)
	}
	return delivery.Backlog{Depth: n, Oldest: utc(oldest)}, nil
}

// PruneDeliveries implements retention.Store.
func (db *DB) PruneDeliveries(ctx context.Context, t time.Time, limit int) (int, error) {
	return db.prune(ctx, "deliveries", `status IN ('sent', 'failed') AND created_at < $1`, t, limit)
}
