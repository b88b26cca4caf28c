package postgres

import "context"

// Installation returns the value recorded under key, recording value first
// if nothing is (the first node to start decides).
func (db *DB) Installation(ctx context.Context, key, value string) (string, error) {
	if _, err := db.conn(ctx).Exec(ctx, `INSERT INTO installation (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`, key, value); err != nil {
		return "", err
	}
	var got string
	err := db.conn(ctx).QueryRow(ctx, `SELECT value FROM installation WHERE key = $1`, key).Scan(&got)
	return got, err
}
