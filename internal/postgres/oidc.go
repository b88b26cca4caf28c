package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"gatehouse/internal/oidc"
)

var (
	_ oidc.KeyStore    = (*DB)(nil)
	_ oidc.ClientStore = (*DB)(nil)
)

// AddFirstSigningKey implements oidc.KeyStore. Nodes starting at once
// would each see an empty table under READ COMMITTED; the lock makes the
// second wait and then see the first one's key. It conflicts only with
// itself and with writers of this small table.
func (db *DB) AddFirstSigningKey(ctx context.Context, k *oidc.SigningKey) (bool, error) {
	var added bool
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `LOCK TABLE oidc_signing_keys IN SHARE ROW EXCLUSIVE MODE`); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `
			INSERT INTO oidc_signing_keys (kid, alg, public_jwk, private_sealed, created_at, active_from, retire_after)
			SELECT $1, $2, $3, $4, $5, $6, $7
			WHERE NOT EXISTS (SELECT 1 FROM oidc_signing_keys)`,
			k.KID, k.Algorithm, string(k.PublicJWK), k.PrivateSealed, ts(k.CreatedAt), ts(k.ActiveFrom), ts(k.RetireAfter))
		added = tag.RowsAffected() == 1
		return err
	})
	if err != nil {
		return false, fmt.Errorf("postgres: add first signing key: %w", err)
	}
	return added, nil
}

// RotateSigningKey implements oidc.KeyStore.
func (db *DB) RotateSigningKey(ctx context.Context, k *oidc.SigningKey, retireAfter time.Time) error {
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `LOCK TABLE oidc_signing_keys IN SHARE ROW EXCLUSIVE MODE`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE oidc_signing_keys SET retire_after = $1 WHERE retire_after IS NULL`, ts(retireAfter)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `
			INSERT INTO oidc_signing_keys (kid, alg, public_jwk, private_sealed, created_at, active_from, retire_after)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			k.KID, k.Algorithm, string(k.PublicJWK), k.PrivateSealed, ts(k.CreatedAt), ts(k.ActiveFrom), ts(k.RetireAfter))
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: rotate signing key: %w", err)
	}
	return nil
}

// SigningKeys implements oidc.KeyStore.
func (db *DB) SigningKeys(ctx context.Context) ([]*oidc.SigningKey, error) {
	rows, err := db.conn(ctx).Query(ctx, `
		SELECT kid, alg, public_jwk, private_sealed, created_at, active_from, retire_after
		FROM oidc_signing_keys ORDER BY created_at, active_from, kid`)
	if err != nil {
		return nil, fmt.Errorf("postgres: read signing keys: %w", err)
	}
	defer rows.Close()
	var out []*oidc.SigningKey
	for rows.Next() {
		var k oidc.SigningKey
		var pub string
		var created, active, retire *time.Time
		if err := rows.Scan(&k.KID, &k.Algorithm, &pub, &k.PrivateSealed, &created, &active, &retire); err != nil {
			return nil, fmt.Errorf("postgres: read signing keys: %w", err)
		}
		k.PublicJWK = []byte(pub)
		k.CreatedAt, k.ActiveFrom, k.RetireAfter = utc(created), utc(active), utc(retire)
		out = append(out, &k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: read signing keys: %w", err)
	}
	return out, nil
}

// AddClient implements oidc.ClientStore.
func (db *DB) AddClient(ctx context.Context, c *oidc.Client) error {
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `
			INSERT INTO oidc_clients (id, name, secret_hash, first_party, backchannel_logout_uri, created_at)
			VALUES ($1, $2, $3, $4, $5, $6)`,
			c.ID, c.Name, c.SecretHash, c.FirstParty, c.BackchannelLogoutURI, ts(c.CreatedAt))
		if err != nil {
			return err
		}
		for _, kind := range []string{"redirect", "post_logout"} {
			uris := c.RedirectURIs
			if kind == "post_logout" {
				uris = c.PostLogoutRedirectURIs
			}
			if _, err := tx.Exec(ctx, `
				INSERT INTO oidc_client_uris (client_id, kind, uri)
				SELECT $1, $2, u FROM unnest($3::text[]) AS t(u)`, c.ID, kind, uris); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres: add client: %w", err)
	}
	return nil
}

const clientColumns = `id, name, secret_hash, first_party, backchannel_logout_uri, created_at`

// ClientByID implements oidc.ClientStore.
func (db *DB) ClientByID(ctx context.Context, id string) (*oidc.Client, error) {
	c, err := scanClient(db.conn(ctx).QueryRow(ctx, `SELECT `+clientColumns+` FROM oidc_clients WHERE id = $1 AND removed_at IS NULL`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, oidc.ErrClientNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: read client: %w", err)
	}
	if err := db.clientURIs(ctx, []*oidc.Client{c}); err != nil {
		return nil, err
	}
	return c, nil
}

// Clients implements oidc.ClientStore.
func (db *DB) Clients(ctx context.Context) ([]*oidc.Client, error) {
	rows, err := db.conn(ctx).Query(ctx, `SELECT `+clientColumns+` FROM oidc_clients WHERE removed_at IS NULL ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("postgres: list clients: %w", err)
	}
	var out []*oidc.Client
	for rows.Next() {
		c, err := scanClient(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("postgres: list clients: %w", err)
		}
		out = append(out, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: list clients: %w", err)
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
		rows, err := db.conn(ctx).Query(ctx, `SELECT kind, uri FROM oidc_client_uris WHERE client_id = $1 ORDER BY kind, uri`, c.ID)
		if err != nil {
			return fmt.Errorf("postgres: read client URIs: %w", err)
		}
		for rows.Next() {
			var kind, uri string
			if err := rows.Scan(&kind, &uri); err != nil {
				rows.Close()
				return fmt.Errorf("postgres: read client URIs: %w", err)
			}
			if kind == "redirect" {
				c.RedirectURIs = append(c.RedirectURIs, uri)
			} else {
				c.PostLogoutRedirectURIs = append(c.PostLogoutRedirectURIs, uri)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("postgres: read client URIs: %w", err)
		}
	}
	return nil
}

func scanClient(row pgx.Row) (*oidc.Client, error) {
	var c oidc.Client
	var created *time.Time
	if err := row.Scan(&c.ID, &c.Name, &c.SecretHash, &c.FirstParty, &c.BackchannelLogoutURI, &created); err != nil {
		return nil, err
	}
	c.CreatedAt = utc(created)
	return &c, nil
}

// RemoveClient implements oidc.ClientStore.
func (db *DB) RemoveClient(ctx context.Context, id string, at time.Time) error {
	tag, err := db.conn(ctx).Exec(ctx, `UPDATE oidc_clients SET removed_at = $1 WHERE id = $2 AND removed_at IS NULL`, ts(at), id)
	if err != nil {
		return fmt.Errorf("postgres: remove client: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return oidc.ErrClientNotFound
	}
	return nil
}
