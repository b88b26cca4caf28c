package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"gatehouse/internal/passkey"
)

var _ passkey.Store = (*DB)(nil)

const passkeyColumns = `id, account_id, name, credential_id, data, sign_count, flagged, created_at, last_used_at`

func scanPasskey(row interface{ Scan(...any) error }) (*passkey.Credential, error) {
	var c passkey.Credential
	var count int64
	var created, used sql.NullInt64
	if err := row.Scan(&c.ID, &c.AccountID, &c.Name, &c.CredentialID, &c.Data, &count, &c.Flagged, &created, &used); err != nil {
		return nil, err
	}
	c.SignCount = uint32(count)
	c.CreatedAt, c.LastUsedAt = tm(created), tm(used)
	return &c, nil
}

// CreatePasskey implements passkey.Store.
func (db *DB) CreatePasskey(ctx context.Context, c *passkey.Credential) error {
	_, err := db.exec(ctx, `
		INSERT INTO passkeys (`+passkeyColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.AccountID, c.Name, c.CredentialID, c.Data, int64(c.SignCount), c.Flagged, us(c.CreatedAt), us(c.LastUsedAt))
	if isUnique(err) {
		return passkey.ErrDuplicate
	}
	if err != nil {
		return fmt.Errorf("sqlite: create passkey: %w", err)
	}
	return nil
}

// Passkeys implements passkey.Store.
func (db *DB) Passkeys(ctx context.Context, accountID string) ([]*passkey.Credential, error) {
	rows, err := db.query(ctx, `
		SELECT `+passkeyColumns+`
		FROM passkeys
		WHERE account_id = ?
		ORDER BY created_at, id`, accountID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list passkeys: %w", err)
	}
	defer rows.Close()
	var out []*passkey.Credential
	for rows.Next() {
		c, err := scanPasskey(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list passkeys: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list passkeys: %w", err)
	}
	return out, nil
}

// PasskeyByCredentialID implements passkey.Store.
func (db *DB) PasskeyByCredentialID(ctx context.Context, credentialID []byte) (*passkey.Credential, error) {
	c, err := scanPasskey(db.readRow(ctx, `SELECT `+passkeyColumns+` FROM passkeys WHERE credential_id = ?`, credentialID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, passkey.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: read passkey: %w", err)
	}
	return c, nil
}

// UsePasskey implements passkey.Store: max() keeps the higher count and OR
// keeps a flag, whichever of two racing writes lands last.
func (db *DB) UsePasskey(ctx context.Context, id string, signCount uint32, data []byte, flagged bool, at time.Time) error {
	res, err := db.exec(ctx, `
		UPDATE passkeys
		SET sign_count = max(sign_count, ?), data = ?, flagged = (flagged OR ?), last_used_at = ?
		WHERE id = ?`, int64(signCount), data, flagged, us(at), id)
	if err != nil {
		return fmt.Errorf("sqlite: record passkey use: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return passkey.ErrNotFound
	}
	return nil
}

// RenamePasskey implements passkey.Store.
func (db *DB) RenamePasskey(ctx context.Context, accountID, id, name string) error {
	res, err := db.exec(ctx, `UPDATE passkeys SET name = ? WHERE id = ? AND account_id = ?`, name, id, accountID)
	if err != nil {
		return fmt.Errorf("sqlite: rename passkey: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return passkey.ErrNotFound
	}
	return nil
}

// DeletePasskey implements passkey.Store.
func (db *DB) DeletePasskey(ctx context.Context, accountID, id string) error {
	res, err := db.exec(ctx, `DELETE FROM passkeys WHERE id = ? AND account_id = ?`, id, accountID)
	if err != nil {
		return fmt.Errorf("sqlite: delete passkey: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return passkey.ErrNotFound
	}
	return nil
}

// CreateCeremony implements passkey.Store.
func (db *DB) CreateCeremony(ctx context.Context, c *passkey.Ceremony) error {
	_, err := db.exec(ctx, `
		INSERT INTO webauthn_ceremonies (id, account_id, kind, data, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?)`,
		c.ID, c.AccountID, c.Kind, c.Data, us(c.CreatedAt), us(c.ExpiresAt))
	if err != nil {
		return fmt.Errorf("sqlite: create passkey ceremony: %w", err)
	}
	return nil
}

// TakeCeremony implements passkey.Store. The DELETE … RETURNING runs on the
// one writer, so of two requests finishing one ceremony only the first
// finds it.
func (db *DB) TakeCeremony(ctx context.Context, id string) (*passkey.Ceremony, error) {
	c := passkey.Ceremony{ID: id}
	var created, expires sql.NullInt64
	err := db.writeRow(ctx, `
		DELETE FROM webauthn_ceremonies
		WHERE id = ?
		RETURNING account_id, kind, data, created_at, expires_at`, id).
		Scan(&c.AccountID, &c.Kind, &c.Data, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, passkey.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: take passkey ceremony: %w", err)
	}
	c.CreatedAt, c.ExpiresAt = tm(created), tm(expires)
	return &c, nil
}
