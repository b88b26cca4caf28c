package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"gatehouse/internal/device"
)

var _ device.Store = (*DB)(nil)

// CreateDevice implements device.Store.
func (db *DB) CreateDevice(ctx context.Context, d *device.Device) error {
	_, err := db.exec(ctx, `INSERT INTO devices (id, token_hash, first_seen, last_seen, ip, user_agent, browser, os) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		d.ID, d.TokenHash, us(d.FirstSeen), us(d.LastSeen), d.IP, d.UserAgent, d.Browser, d.OS)
	if err != nil {
		return fmt.Errorf("sqlite: record device: %w", err)
	}
	return nil
}

// DeviceByTokenHash implements device.Store.
func (db *DB) DeviceByTokenHash(ctx context.Context, h []byte) (*device.Device, error) {
	var d device.Device
	var first, last sql.NullInt64
	err := db.readRow(ctx, `SELECT id, token_hash, first_seen, last_seen, ip, user_agent, browser, os FROM devices WHERE token_hash = ?`, h).
		Scan(&d.ID, &d.TokenHash, &first, &last, &d.IP, &d.UserAgent, &d.Browser, &d.OS)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, device.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: read device: %w", err)
	}
	d.FirstSeen, d.LastSeen = tm(first), tm(last)
	return &d, nil
}

// TouchDevice implements device.Store.
func (db *DB) TouchDevice(ctx context.Context, id string, at time.Time, ip, ua, browser, os string) error {
	_, err := db.exec(ctx, `UPDATE devices SET last_seen = ?, ip = ?, user_agent = ?, browser = ?, os = ? WHERE id = ?`, us(at), ip, ua, browser, os, id)
	if err != nil {
		return fmt.Errorf("sqlite: update device: %w", err)
	}
	return nil
}

// UsedBy implements device.Store.
func (db *DB) UsedBy(ctx context.Context, accountID, deviceID string) (bool, error) {
	var n int
	err := db.readRow(ctx, `
		SELECT count(*) FROM account_devices
		WHERE account_id = ? AND device_id = ?`, accountID, deviceID).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("sqlite: read the account's devices: %w", err)
	}
	return n > 0, nil
}

// MarkUsed implements device.Store.
func (db *DB) MarkUsed(ctx context.Context, accountID, deviceID string, at time.Time) error {
	_, err := db.exec(ctx, `
		INSERT INTO account_devices (account_id, device_id, first_used_at, last_used_at)
		VALUES (?, ?, ?, ?)
		ON CONFLICT (account_id, device_id) DO UPDATE SET last_used_at = excluded.last_used_at`,
		accountID, deviceID, us(at), us(at))
	if err != nil {
		return fmt.Errorf("sqlite: record the account's device: %w", err)
	}
	return nil
}

// Trust implements device.Store.
func (db *DB) Trust(ctx context.Context, accountID, deviceID string, until time.Time) error {
	_, err := db.exec(ctx, `
		UPDATE account_devices SET trusted_until = ?
		WHERE account_id = ? AND device_id = ?`, us(until), accountID, deviceID)
	if err != nil {
		return fmt.Errorf("sqlite: trust device: %w", err)
	}
	return nil
}

// TrustedUntil implements device.Store.
func (db *DB) TrustedUntil(ctx context.Context, accountID, deviceID string) (time.Time, error) {
	var until sql.NullInt64
	err := db.readRow(ctx, `
		SELECT trusted_until FROM account_devices
		WHERE account_id = ? AND device_id = ?`, accountID, deviceID).Scan(&until)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("sqlite: read device trust: %w", err)
	}
	return tm(until), nil
}

// Trusted implements device.Store.
func (db *DB) Trusted(ctx context.Context, accountID string, now time.Time) ([]device.Trusted, error) {
	rows, err := db.query(ctx, `
		SELECT d.id, d.first_seen, d.last_seen, d.ip, d.user_agent, d.browser, d.os, ad.trusted_until
		FROM account_devices ad
		JOIN devices d ON d.id = ad.device_id
		WHERE ad.account_id = ? AND ad.trusted_until > ?
		ORDER BY ad.trusted_until DESC`, accountID, us(now))
	if err != nil {
		return nil, fmt.Errorf("sqlite: list trusted devices: %w", err)
	}
	defer rows.Close()
	var out []device.Trusted
	for rows.Next() {
		var t device.Trusted
		var first, last, until sql.NullInt64
		if err := rows.Scan(&t.ID, &first, &last, &t.IP, &t.UserAgent, &t.Browser, &t.OS, &until); err != nil {
			return nil, fmt.Errorf("sqlite: list trusted devices: %w", err)
		}
		t.FirstSeen, t.LastSeen, t.Until = tm(first), tm(last), tm(until)
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list trusted devices: %w", err)
	}
	return out, nil
}

// StopTrusting implements device.Store.
func (db *DB) StopTrusting(ctx context.Context, accountID, deviceID string) error {
	_, err := db.exec(ctx, `
		UPDATE account_devices SET trusted_until = NULL
		WHERE account_id = ? AND (? = '' OR device_id = ?)`, accountID, deviceID, deviceID)
	if err != nil {
		return fmt.Errorf("sqlite: stop trusting devices: %w", err)
	}
	return nil
}

// RotateToken implements device.Store.
func (db *DB) RotateToken(ctx context.Context, id string, old, new []byte) (bool, error) {
	res, err := db.exec(ctx, `UPDATE devices SET token_hash = ?, previous_token_hash = ? WHERE id = ? AND token_hash = ?`, new, old, id, old)
	if err != nil {
		return false, fmt.Errorf("sqlite: rotate device token: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlite: rotate device token: %w", err)
	}
	return n == 1, nil
}

// TakeSupersededToken implements device.Store.
func (db *DB) TakeSupersededToken(ctx context.Context, h []byte) (string, error) {
	var id string
	err := db.writeRow(ctx, `UPDATE devices SET previous_token_hash = NULL WHERE previous_token_hash = ? RETURNING id`, h).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("sqlite: read a superseded device token: %w", err)
	}
	return id, nil
}

// TrustingAccounts implements device.Store.
func (db *DB) TrustingAccounts(ctx context.Context, deviceID string, now time.Time) ([]string, error) {
	rows, err := db.query(ctx, `SELECT account_id FROM account_devices WHERE device_id = ? AND trusted_until > ?`, deviceID, us(now))
	if err != nil {
		return nil, fmt.Errorf("sqlite: read the device's trust: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("sqlite: read the device's trust: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}
