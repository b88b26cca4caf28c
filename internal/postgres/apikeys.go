package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"gatehouse/internal/apikey"
)

var _ apikey.Store = (*DB)(nil)

const apiKeyColumns = `id, name, key_hash, scopes, created_at, last_used_at, revoked_at`

func scanAPIKey(row pgx.Row) (*apikey.Key, error) {
	var k apikey.Key
	var scopes string
	var created, used, revoked *time.Time
	if err := row.Scan(&k.ID, &k.Name, &k.Hash, &scopes, &created, &used, &revoked); err != nil {
		return nil, err
	}
	k.Scopes = apikey.SplitScopes(scopes)
	k.CreatedAt, k.LastUsedAt, k.RevokedAt = utc(created), utc(used), utc(revoked)
	return &k, nil
}

// CreateAPIKey implements apikey.Store.
func (db *DB) CreateAPIKey(ctx context.Context, k *apikey.Key) error {
	_, err := db.conn(ctx).Exec(ctx, `INSERT INTO api_keys (`+apiKeyColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		k.ID, k.Name, k.Hash, apikey.JoinScopes(k.Scopes), ts(k.CreatedAt), ts(k.LastUsedAt), ts(k.RevokedAt))
	if err != nil {
		return fmt.Errorf("postgres: create API key: %w", err)
	}
	return nil
}

// APIKeyByHash implements apikey.Store.
func (db *DB) APIKeyByHash(ctx context.Context, h []byte) (*apikey.Key, error) {
	k, err := scanAPIKey(db.conn(ctx).QueryRow(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE key_hash = $1`, h))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, apikey.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: read API key: %w", err)
	}
	return k, nil
}

// APIKeys implements apikey.Store.
func (db *DB) APIKeys(ctx context.Context) ([]*apikey.Key, error) {
	rows, err := db.conn(ctx).Query(ctx, `SELECT `+apiKeyColumns+` FROM api_keys ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("postgres: list API keys: %w", err)
	}
	defer rows.Close()
	var out []*apikey.Key
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: list API keys: %w", err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: list API keys: %w", err)
	}
	return out, nil
}

// TouchAPIKey implements apikey.Store.
func (db *DB) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	if _, err := db.conn(ctx).Exec(ctx, `UPDATE api_keys SET last_used_at = $1 WHERE id = $2`, ts(at), id); err != nil {
		return fmt.Errorf("postgres: record API key use: %w", err)
	}
	return nil
}

// RevokeAPIKey implements apikey.Store.
func (db *DB) RevokeAPIKey(ctx context.Context, id string, at time.Time) error {
	tag, err := db.conn(ctx).Exec(ctx, `UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2`, ts(at), id)
	if err != nil {
		return fmt.Errorf("postgres: revoke API key: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return apikey.ErrNotFound
	}
	return nil
}
