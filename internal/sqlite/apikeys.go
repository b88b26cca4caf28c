package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"gatehouse/internal/apikey"
)

var _ apikey.Store = (*DB)(nil)

const apiKeyColumns = `id, name, key_hash, scopes, created_at, last_used_at, revoked_at`

func scanAPIKey(row interface{ Scan(...any) error }) (*apikey.Key, error) {
	var k apikey.Key
	var scopes string
	var created, used, revoked sql.NullInt64
	if err := row.Scan(&k.ID, &k.Name, &k.Hash, &scopes, &created, &used, &revoked); err != nil {
		return nil, err
	}
	k.Scopes = apikey.SplitScopes(scopes)
	k.CreatedAt, k.LastUsedAt, k.RevokedAt = tm(created), tm(used), tm(revoked)
	return &k, nil
}

// CreateAPIKey implements apikey.Store.
func (db *DB) CreateAPIKey(ctx context.Context, k *apikey.Key) error {
	_, err := db.exec(ctx, `INSERT INTO api_keys (`+apiKeyColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		k.ID, k.Name, k.Hash, apikey.JoinScopes(k.Scopes), us(k.CreatedAt), us(k.LastUsedAt), us(k.RevokedAt))
	if err != nil {
		return fmt.Errorf("sqlite: create API key: %w", err)
	}
	return nil
}

// APIKeyByHash implements apikey.Store.
func (db *DB) APIKeyByHash(ctx context.Context, h []byte) (*apikey.Key, error) {
	k, err := scanAPIKey(db.readRow(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE key_hash = ?`, h))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apikey.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: read API key: %w", err)
	}
	return k, nil
}

// APIKeys implements apikey.Store.
func (db *DB) APIKeys(ctx context.Context) ([]*apikey.Key, error) {
	rows, err := db.query(ctx, `SELECT `+apiKeyColumns+` FROM api_keys ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list API keys: %w", err)
	}
	defer rows.Close()
	var out []*apikey.Key
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list API keys: %w", err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list API keys: %w", err)
	}
	return out, nil
}

// TouchAPIKey implements apikey.Store.
func (db *DB) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	if _, err := db.exec(ctx, `UPDATE api_keys SET last_used_at = ? WHERE id = ?`, us(at), id); err != nil {
		return fmt.Errorf("sqlite: record API key use: %w", err)
	}
	return nil
}

// RevokeAPIKey implements apikey.Store.
func (db *DB) RevokeAPIKey(ctx context.Context, id string, at time.Time) error {
	res, err := db.exec(ctx, `UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?`, us(at), id)
	if err != nil {
		return fmt.Errorf("sqlite: revoke API key: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return apikey.ErrNotFound
	}
	return nil
}
