package sqlite

import (
	"context"
	"fmt"
)

// Installation returns the value recorded under key, recording value first
// if nothing is (the first node to start decides).
func (db *DB) Installation(ctx context.Context, key, value string) (string, error) {
	_, err := db.exec(ctx, `
		INSERT INTO installation (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO NOTHING`, key, value)
	if err != nil {
		return "", fmt.Errorf("sqlite: record installation %s: %w", key, err)
	}
	var got string
	if err := db.writeRow(ctx, `SELECT value FROM installation WHERE key = ?`, key).Scan(&got); err != nil {
		return "", fmt.Errorf("sqlite: read installation %s: %w", key, err)
	}
	return got, nil
}
