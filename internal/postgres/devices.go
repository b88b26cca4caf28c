package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"gatehouse/internal/device"
)

var _ device.Store = (*DB)(nil)

// CreateDevice implements device.Store.
func (db *DB) CreateDevice(ctx context.Context, d *device.Device) error {
	_, err := db.conn(ctx).Exec(ctx, `INSERT INTO devices (id, token_hash, first_seen, last_seen, ip, user_agent, browser, os) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		d.ID, d.TokenHash, ts(d.FirstSeen), ts(d.LastSeen), d.IP, d.UserAgent, d.Browser, d.OS)
	if err != nil {
		return fmt.Errorf("postgres: record device: %w", err)
	}
	return nil
}

// DeviceByTokenHash implements device.Store.
func (db *DB) DeviceByTokenHash(ctx context.Context, h []byte) (*device.Device, error) {
	var d device.Device
	var first, last *time.Time
	err := db.conn(ctx).QueryRow(ctx, `SELECT id, token_hash, first_seen, last_seen, ip, user_agent, browser, os FROM devices WHERE token_hash = $1`, h).
		Scan(&d.ID, &d.TokenHash, &first, &last, &d.IP, &d.UserAgent, &d.Browser, &d.OS)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, device.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: read device: %w", err)
	}
	d.FirstSeen, d.LastSeen = utc(first), utc(last)
	return &d, nil
}

// TouchDevice implements device.Store.
func (db *DB) TouchDevice(ctx context.Context, id string, at time.Time, ip, ua, browser, os string) error {
	_, err := db.conn(ctx).Exec(ctx, `UPDATE devices SET last_seen = $1, ip = $2, user_agent = $3, browser = $4, os = $5 WHERE id = $6`, ts(at), ip, ua, browser, os, id)
	if err != nil {
		return fmt.Errorf("postgres: update device: %w", err)
	}
	return nil
}

// UsedBy implements device.Store.
func (db *DB) UsedBy(ctx context.Context, accountID, deviceID string) (bool, error) {
	var used bool
	err := db.conn(ctx).QueryRow(ctx, `
		SELECT EXISTS (SELECT 1 FROM account_devices WHERE account_id = $1 AND device_id = $2)`,
		accountID, deviceID).Scan(&used)
	if err != nil {
		return false, fmt.Errorf("postgres: read the account's devices: %w", err)
	}
	return used, nil
}

// MarkUsed implements device.Store.
func (db *DB) MarkUsed(ctx context.Context, accountID, deviceID string, at time.Time) error {
	_, err := db.conn(ctx).Exec(ctx, `
		INSERT INTO account_devices (account_id, device_id, first_used_at, last_used_at)
		VALUES ($1, $2, $3, $3)
		ON CONFLICT (account_id, device_id) DO UPDATE SET last_used_at = excluded.last_used_at`,
		accountID, deviceID, ts(at))
	if err != nil {
		return fmt.Errorf("postgres: record the account's device: %w", err)
	}
	return nil
}
