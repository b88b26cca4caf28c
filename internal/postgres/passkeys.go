package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"gatehouse/internal/passkey"
)

var _ passkey.Store = (*DB)(nil)

const passkeyColumns = `id, account_id, name, credential_id, data, sign_count, flagged, created_at, last_used_at`

func scanPasskey(row pgx.Row) (*passkey.Credential, error) {
	var c passkey.Credential
	var count int64
	var created, used *time.Time
	if err := row.Scan(&c.ID, &c.AccountID, &c.Name, &c.CredentialID, &c.Data, &count, &c.Flagged, &created, &used); err != nil {
		return nil, err
	}
	c.SignCount = uint32(count)
	c.CreatedAt, c.LastUsedAt = utc(created), utc(used)
	return &c, nil
}

// CreatePasskey implements passkey.Store.
func (db *DB) CreatePasskey(ctx context.Context, c *passkey.Credential) error {
	_, err := db.conn(ctx).Exec(ctx, `
		INSERT INTO passkeys (`+passkeyColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		c.ID, c.AccountID, c.Name, c.CredentialID, c.Data, int64(c.SignCount), c.Flagged, ts(c.CreatedAt), ts(c.LastUsedAt))
	if isUnique(err) {
		return passkey.ErrDuplicate
	}
	if err != nil {
		return fmt.Errorf("postgres: create passkey: %w", err)
	}
	return nil
}

// Passkeys implements passkey.Store.
func (db *DB) Passkeys(ctx context.Context, accountID string) ([]*passkey.Credential, error) {
	rows, err := db.conn(ctx).Query(ctx, `
		SELECT `+passkeyColumns+`
		FROM passkeys
		WHERE account_id = $1
		ORDER BY created_at, id`, accountID)
	if err != nil {
		return nil, fmt.Errorf("postgres: list passkeys: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*passkey.Credential, error) { return scanPasskey(r) })
	if err != nil {
		return nil, fmt.Errorf("postgres: list passkeys: %w", err)
	}
	return out, nil
}

// PasskeyByCredentialID implements passkey.Store.
func (db *DB) PasskeyByCredentialID(ctx context.Context, credentialID []byte) (*passkey.Credential, error) {
	c, err := scanPasskey(db.conn(ctx).QueryRow(ctx, `SELECT `+passkeyColumns+` FROM passkeys WHERE credential_id = $1`, credentialID))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, passkey.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: read passkey: %w", err)
	}
	return c, nil
}

// UsePasskey implements passkey.Store: GREATEST keeps the higher count and
// OR keeps a flag, whichever of two nodes' writes lands last.
func (db *DB) UsePasskey(ctx context.Context, id string, signCount uint32, data []byte, flagged bool, at time.Time) error {
	tag, err := db.conn(ctx).Exec(ctx, `
		UPDATE passkeys
		SET sign_count = GREATEST(sign_count, $1), data = $2, flagged = (flagged OR $3), last_used_at = $4
		WHERE id = $5`, int64(signCount), data, flagged, ts(at), id)
	if err != nil {
		return fmt.Errorf("postgres: record passkey use: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return passkey.ErrNotFound
	}
	return nil
}

// RenamePasskey implements passkey.Store.
func (db *DB) RenamePasskey(ctx context.Context, accountID, id, name string) error {
	tag, err := db.conn(ctx).Exec(ctx, `UPDATE passkeys SET name = $1 WHERE id = $2 AND account_id = $3`, name, id, accountID)
	if err != nil {
		return fmt.Errorf("postgres: rename passkey: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return passkey.ErrNotFound
	}
	return nil
}

// DeletePasskey implements passkey.Store.
func (db *DB) DeletePasskey(ctx context.Context, accountID, id string) error {
	tag, err := db.conn(ctx).Exec(ctx, `DELETE FROM passkeys WHERE id = $1 AND account_id = $2`, id, accountID)
	if err != nil {
		return fmt.Errorf("postgres: delete passkey: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return passkey.ErrNotFound
	}
	return nil
}

// CreateCeremony implements passkey.Store.
func (db *DB) CreateCeremony(ctx context.Context, c *passkey.Ceremony) error {
	_, err := db.conn(ctx).Exec(ctx, `
		INSERT INTO webauthn_ceremonies (id, account_id, kind, data, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6)`,
		c.ID, c.AccountID, c.Kind, c.Data, ts(c.CreatedAt), ts(c.ExpiresAt))
	if err != nil {
		return fmt.Errorf("postgres: create passkey ceremony: %w", err)
	}
	return nil
}

// TakeCeremony implements passkey.Store. Two nodes' DELETEs of one row
// wait for each other on its lock, and the second then finds it gone, so
// only one gets the ceremony.
func (db *DB) TakeCeremony(ctx context.Context, id string) (*passkey.Ceremony, error) {
	c := passkey.Ceremony{ID: id}
	var created, expires *time.Time
	err := db.conn(ctx).QueryRow(ctx, `
		DELETE FROM webauthn_ceremonies
		WHERE id = $1
		RETURNING account_id, kind, data, created_at, expires_at`, id).
		Scan(&c.AccountID, &c.Kind, &c.Data, &created, &expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, passkey.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: take passkey ceremony: %w", err)
	}
	c.CreatedAt, c.ExpiresAt = utc(created), utc(expires)
	return &c, nil
}
