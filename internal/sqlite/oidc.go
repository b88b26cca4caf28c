package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"gatehouse/internal/oidc"
)

var (
	_ oidc.KeyStore    = (*DB)(nil)
	_ oidc.ClientStore = (*DB)(nil)
)

// AddFirstSigningKey implements oidc.KeyStore. One statement: the single
// writer makes the check and the insert one step.
func (db *DB) AddFirstSigningKey(ctx context.Context, k *oidc.SigningKey) (bool, error) {
	res, err := db.exec(ctx, `
		INSERT INTO oidc_signing_keys (kid, alg, public_jwk, private_sealed, created_at, active_from, retire_after)
		SELECT ?, ?, ?, ?, ?, ?, ?
		WHERE NOT EXISTS (SELECT 1 FROM oidc_signing_keys)`,
		k.KID, k.Algorithm, string(k.PublicJWK), k.PrivateSealed, us(k.CreatedAt), us(k.ActiveFrom), us(k.RetireAfter))
	if err != nil {
		return false, fmt.Errorf("sqlite: add first signing key: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// RotateSigningKey implements oidc.KeyStore.
func (db *DB) RotateSigningKey(ctx context.Context, k *oidc.SigningKey, retireAfter time.Time) error {
	err := db.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE oidc_signing_keys SET retire_after = ? WHERE retire_after IS NULL`, us(retireAfter)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `
			INSERT INTO oidc_signing_keys (kid, alg, public_jwk, private_sealed, created_at, active_from, retire_after)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
			k.KID, k.Algorithm, string(k.PublicJWK), k.PrivateSealed, us(k.CreatedAt), us(k.ActiveFrom), us(k.RetireAfter))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: rotate signing key: %w", err)
	}
	return nil
}

// SigningKeys implements oidc.KeyStore.
func (db *DB) SigningKeys(ctx context.Context) ([]*oidc.SigningKey, error) {
	rows, err := db.query(ctx, `
		SELECT kid, alg, public_jwk, private_sealed, created_at, active_from, retire_after
		FROM oidc_signing_keys ORDER BY created_at, active_from, kid`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read signing keys: %w", err)
	}
	defer rows.Close()
	var out []*oidc.SigningKey
	for rows.Next() {
		var k oidc.SigningKey
		var pub string
		var created, active, retire sql.NullInt64
		if err := rows.Scan(&k.KID, &k.Algorithm, &pub, &k.PrivateSealed, &created, &active, &retire); err != nil {
			return nil, fmt.Errorf("sqlite: read signing keys: %w", err)
		}
		k.PublicJWK = []byte(pub)
		k.CreatedAt, k.ActiveFrom, k.RetireAfter = tm(created), tm(active), tm(retire)
		out = append(out, &k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: read signing keys: %w", err)
	}
	return out, nil
}

// AddClient implements oidc.ClientStore.
func (db *DB) AddClient(ctx context.Context, c *oidc.Client) error {
	err := db.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `
			INSERT INTO oidc_clients (id, name, secret_hash, first_party, backchannel_logout_uri, created_at)
			VALUES (?, ?, ?, ?, ?, ?)`,
			c.ID, c.Name, c.SecretHash, c.FirstParty, c.BackchannelLogoutURI, us(c.CreatedAt))
		if err != nil {
			return err
		}
		for kind, uris := range map[string][]string{"redirect": c.RedirectURIs, "post_logout": c.PostLogoutRedirectURIs} {
			for _, u := range uris {
				if _, err := tx.ExecContext(ctx, `INSERT INTO oidc_client_uris (client_id, kind, uri) VALUES (?, ?, ?)`, c.ID, kind, u); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: add client: %w", err)
	}
	return nil
}

const clientColumns = `id, name, secret_hash, first_party, backchannel_logout_uri, created_at`

// ClientByID implements oidc.ClientStore.
func (db *DB) ClientByID(ctx context.Context, id string) (*oidc.Client, error) {
	c, err := scanClient(db.readRow(ctx, `SELECT `+clientColumns+` FROM oidc_clients WHERE id = ? AND removed_at IS NULL`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, oidc.ErrClientNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: read client: %w", err)
	}
	if err := db.clientURIs(ctx, []*oidc.Client{c}); err != nil {
		return nil, err
	}
	return c, nil
}

// Clients implements oidc.ClientStore.
func (db *DB) Clients(ctx context.Context) ([]*oidc.Client, error) {
	rows, err := db.query(ctx, `SELECT `+clientColumns+` FROM oidc_clients WHERE removed_at IS NULL ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list clients: %w", err)
	}
	var out []*oidc.Client
	for rows.Next() {
		c, err := scanClient(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("sqlite: list clients: %w", err)
		}
		out = append(out, c)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return nil, fmt.Errorf("sqlite: list clients: %w", err)
	}
	if err := db.clientURIs(ctx, out); err != nil {
		return nil, err
	}
	return out, nil
}

// clientURIs fills the clients' URIs, sorted: they are matched exactly,
// so their order means nothing.
func (db *DB) clientURIs(ctx context.Context, clients []*oidc.Client) error {
	for _, c := range clients {
		rows, err := db.query(ctx, `SELECT kind, uri FROM oidc_client_uris WHERE client_id = ? ORDER BY kind, uri`, c.ID)
		if err != nil {
			return fmt.Errorf("sqlite: read client URIs: %w", err)
		}
		for rows.Next() {
			var kind, uri string
			if err := rows.Scan(&kind, &uri); err != nil {
				rows.Close()
				return fmt.Errorf("sqlite: read client URIs: %w", err)
			}
			if kind == "redirect" {
				c.RedirectURIs = append(c.RedirectURIs, uri)
			} else {
				c.PostLogoutRedirectURIs = append(c.PostLogoutRedirectURIs, uri)
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return fmt.Errorf("sqlite: read client URIs: %w", err)
		}
	}
	return nil
}

func scanClient(row interface{ Scan(...any) error }) (*oidc.Client, error) {
	var c oidc.Client
	var created sql.NullInt64
	if err := row.Scan(&c.ID, &c.Name, &c.SecretHash, &c.FirstParty, &c.BackchannelLogoutURI, &created); err != nil {
		return nil, err
	}
	c.CreatedAt = tm(created)
	return &c, nil
}

// RemoveClient implements oidc.ClientStore.
func (db *DB) RemoveClient(ctx context.Context, id string, at time.Time) error {
	res, err := db.exec(ctx, `UPDATE oidc_clients SET removed_at = ? WHERE id = ? AND removed_at IS NULL`, us(at), id)
	if err != nil {
		return fmt.Errorf("sqlite: remove client: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return oidc.ErrClientNotFound
	}
	return nil
}
