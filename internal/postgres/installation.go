package postgres

import (
	"context"
	"fmt"
)

// Installation returns the value recorded under key, recording value first
// if nothing is (the first node to start decides).
func (db *DB) Installation(ctx context.Context, key, value string) (string, error) {
	_, err := db.conn(ctx).Exec(ctx, `
		INSERT INTO installation (key, value) VALUES ($1, $2)
		ON CONFLICT (key) DO NOTHING`, key, value)
	if err != nil {
		return "", fmt.Errorf("postgres: record installation %s: %w", key, err)
	}
	var got string
	if err := db.conn(ctx).QueryRow(ctx, `SELECT value FROM installation WHERE key = $1`, key).Scan(&got); err != nil {
		return "", fmt.Errorf("postgres: read installation %s: %w", key, err)
	}
	return got, nil
}
