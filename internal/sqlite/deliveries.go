package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"gatehouse/internal/delivery"
)

var (
	_ delivery.Store        = (*DB)(nil)
	_ delivery.BacklogStore = (*DB)(nil)
	_ delivery.ListStore    = (*DB)(nil)
)

const deliveryColumns = `id, kind, target, receiver_id, account_id, payload, status, attempts, next_at, lease_until, last_error, created_at, sent_at`

func scanDelivery(row interface{ Scan(...any) error }) (*delivery.Delivery, error) {
	var d delivery.Delivery
	var payload string
	var next, lease, created, sent sql.NullInt64
	err := row.Scan(&d.ID, &d.Kind, &d.Target, &d.Receiver, &d.AccountID, &payload, &d.Status, &d.Attempts, &next, &lease, &d.LastError, &created, &sent)
	if err != nil {
		return nil, err
	}
	d.Payload = []byte(payload)
	d.NextAt, d.LeaseUntil, d.CreatedAt, d.SentAt = tm(next), tm(lease), tm(created), tm(sent)
	return &d, nil
}

// EnqueueDelivery implements delivery.Store.
func (db *DB) EnqueueDelivery(ctx context.Context, d *delivery.Delivery) error {
	_, err := db.exec(ctx, `INSERT INTO deliveries (`+deliveryColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.ID, d.Kind, d.Target, d.Receiver, d.AccountID, string(d.Payload), d.Status, d.Attempts, us(d.NextAt), us(d.LeaseUntil), d.LastError,
		us(d.CreatedAt), us(d.SentAt))
	if err != nil {
		return fmt.Errorf("sqlite: enqueue delivery: %w", err)
	}
	return nil
}

// ClaimDelivery implements delivery.Store: one UPDATE … RETURNING, so two
// workers never claim the same delivery.
func (db *DB) ClaimDelivery(ctx context.Context, now, leaseUntil time.Time) (*delivery.Delivery, error) {
	d, err := scanDelivery(db.writeRow(ctx, `UPDATE deliveries SET status = 'sending', lease_until = ?
		WHERE id = (SELECT id FROM deliveries
			WHERE (status = 'queued' AND next_at <= ?) OR (status = 'sending' AND lease_until <= ?)
			ORDER BY next_at LIMIT 1)
		RETURNING `+deliveryColumns, us(leaseUntil), us(now), us(now)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, delivery.ErrEmpty
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: claim delivery: %w", err)
	}
	return d, nil
}

// MarkDeliverySent implements delivery.Store.
func (db *DB) MarkDeliverySent(ctx context.Context, id string, at time.Time) error {
	_, err := db.exec(ctx, `UPDATE deliveries SET status = 'sent', sent_at = ?, attempts = attempts + 1, lease_until = NULL, last_error = '' WHERE id = ?`, us(at), id)
	if err != nil {
		return fmt.Errorf("sqlite: mark delivery sent: %w", err)
	}
	return nil
}

// MarkDeliveryRetry implements delivery.Store.
func (db *DB) MarkDeliveryRetry(ctx context.Context, id string, next time.Time, lastError string, failed bool) error {
	status := delivery.Queued
	if failed {
		status = delivery.Failed
	}
	_, err := db.exec(ctx, `UPDATE deliveries SET status = ?, attempts = attempts + 1, next_at = ?, last_error = ?, lease_until = NULL WHERE id = ?`,
		status, us(next), lastError, id)
	if err != nil {
		return fmt.Errorf("sqlite: schedule delivery retry: %w", err)
	}
	return nil
}

// Delivery implements delivery.Store.
func (db *DB) Delivery(ctx context.Context, id string) (*delivery.Delivery, error) {
	d, err := scanDelivery(db.readRow(ctx, `SELECT `+deliveryColumns+` FROM deliveries WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, delivery.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: read delivery: %w", err)
	}
	return d, nil
}

// RequeueDelivery implements delivery.Store.
func (db *DB) RequeueDelivery(ctx context.Context, id string, now time.Time) error {
	res, err := db.exec(ctx, `UPDATE deliveries SET status = 'queued', attempts = 0, next_at = ?, lease_until = NULL WHERE id = ? AND status = 'failed'`,
		us(now), id)
	if err != nil {
		return fmt.Errorf("sqlite: requeue delivery: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return err
	}
	if _, err := db.Delivery(ctx, id); err != nil {
		return err
	}
	return delivery.ErrNotFailed
}

// Deliveries implements delivery.ListStore.
func (db *DB) Deliveries(ctx context.Context, q delivery.Query) ([]*delivery.Delivery, error) {
	where, args := `1 = 1`, []any{}
	if q.Status != "" {
		where += ` AND status = ?`
		args = append(args, q.Status)
	}
	if !q.Before.IsZero() {
		where += ` AND (created_at < ? OR (created_at = ? AND id < ?))`
		args = append(args, us(q.Before), us(q.Before), q.BeforeID)
	}
	rows, err := db.query(ctx, `SELECT `+deliveryColumns+` FROM deliveries WHERE `+where+` ORDER BY created_at DESC, id DESC LIMIT ?`,
		append(args, q.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list deliveries: %w", err)
	}
	defer rows.Close()
	var out []*delivery.Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list deliveries: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// DeliveryBacklog implements delivery.BacklogStore.
func (db *DB) DeliveryBacklog(ctx context.Context) (delivery.Backlog, error) {
	var n int
	var oldest sql.NullInt64
	err := db.readRow(ctx, `SELECT count(*), min(created_at) FROM deliveries WHERE status IN ('queued', 'sending')`).Scan(&n, &oldest)
	if err != nil {
		return delivery.Backlog{}, fmt.Errorf("sqlite: read delivery backlog: %w", err)
	}
	return delivery.Backlog{Depth: n, Oldest: tm(oldest)}, nil
}

// PruneDeliveries implements retention.Store.
func (db *DB) PruneDeliveries(ctx context.Context, t time.Time, limit int) (int, error) {
	return db.prune(ctx, "deliveries", `status IN ('sent', 'failed') AND created_at < ?`, limit, us(t))
}
