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

// Trust implements device.Store.
func (db *DB) Trust(ctx context.Context, accountID, deviceID string, until time.Time) error {
	_, err := db.conn(ctx).Exec(ctx, `
		UPDATE account_devices SET trusted_until = $1
		WHERE account_id = $2 AND device_id = $3`, ts(until), accountID, deviceID)
	if err != nil {
		return fmt.Errorf("postgres: trust device: %w", err)
	}
	return nil
}

// TrustedUntil implements device.Store.
func (db *DB) TrustedUntil(ctx context.Context, accountID, deviceID string) (time.Time, error) {
	var until *time.Time
	err := db.conn(ctx).QueryRow(ctx, `
		SELECT trusted_until FROM account_devices
		WHERE account_id = $1 AND device_id = $2`, accountID, deviceID).Scan(&until)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("postgres: read device trust: %w", err)
	}
	return utc(until), nil
}

// Trusted implements device.Store.
func (db *DB) Trusted(ctx context.Context, accountID string, now time.Time) ([]device.Trusted, error) {
	rows, err := db.conn(ctx).Query(ctx, `
		SELECT d.id, d.first_seen, d.last_seen, d.ip, d.user_agent, d.browser, d.os, ad.trusted_until
		FROM account_devices ad
		JOIN devices d ON d.id = ad.device_id
		WHERE ad.account_id = $1 AND ad.trusted_until > $2
		ORDER BY ad.trusted_until DESC`, accountID, ts(now))
	if err != nil {
		return nil, fmt.Errorf("postgres: list trusted devices: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (device.Trusted, error) {
		var t device.Trusted
		var first, last, until *time.Time
		err := r.Scan(&t.ID, &first, &last, &t.IP, &t.UserAgent, &t.Browser, &t.OS, &until)
		t.FirstSeen, t.LastSeen, t.Until = utc(first), utc(last), utc(until)
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: list trusted devices: %w", err)
	}
	return out, nil
}

// StopTrusting implements device.Store.
func (db *DB) StopTrusting(ctx context.Context, accountID, deviceID string) error {
	_, err := db.conn(ctx).Exec(ctx, `
		UPDATE account_devices SET trusted_until = NULL
		WHERE account_id = $1 AND ($2 = '' OR device_id = $2)`, accountID, deviceID)
	if err != nil {
		return fmt.Errorf("postgres: stop trusting devices: %w", err)
	}
	return nil
}

// RotateToken implements device.Store.
func (db *DB) RotateToken(ctx context.Context, id string, old, new []byte) (bool, error) {
	tag, err := db.conn(ctx).Exec(ctx, `UPDATE devices SET token_hash = $1, previous_token_hash = $3 WHERE id = $2 AND token_hash = $3`, new, id, old)
	if err != nil {
		return false, fmt.Errorf("postgres: rotate device token: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// TakeSupersededToken implements device.Store.
func (db *DB) TakeSupersededToken(ctx context.Context, h []byte) (string, error) {
	var id string
	err := db.conn(ctx).QueryRow(ctx, `UPDATE devices SET previous_token_hash = NULL WHERE previous_token_hash = $1 RETURNING id`, h).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("postgres: read a superseded device token: %w", err)
	}
	return id, nil
}

// TrustingAccounts implements device.Store.
func (db *DB) TrustingAccounts(ctx context.Context, deviceID string, now time.Time) ([]string, error) {
	rows, err := db.conn(ctx).Query(ctx, `SELECT account_id FROM account_devices WHERE device_id = $1 AND trusted_until > $2`, deviceID, ts(now))
	if err != nil {
		return nil, fmt.Errorf("postgres: read the device's trust: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("postgres: read the device's trust: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}
