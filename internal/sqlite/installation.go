package sqlite

import "context"

// Installation returns the value recorded under key, recording value first
// if nothing is (the first node to start decides).
func (db *DB) Installation(ctx context.Context, key, value string) (string, error) {
	if _, err := db.exec(ctx, `INSERT INTO installation (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`, key, value); err != nil {
		return "", err
	}
	var got string
	err := db.writeRow(ctx, `SELECT value FROM installation WHERE key = ?`, key).Scan(&got)
	return got, err
}
