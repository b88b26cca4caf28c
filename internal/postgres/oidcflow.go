package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"gatehouse/internal/oidc"
)

var _ oidc.FlowStore = (*DB)(nil)

// CreateAuthRequest implements oidc.FlowStore.
func (db *DB) CreateAuthRequest(ctx context.Context, r *oidc.Request) error {
	params, err := json.Marshal(r.Params)
	if err != nil {
		return fmt.Errorf("postgres: create auth request: %w", err)
	}
	_, err = db.conn(ctx).Exec(ctx, `
		INSERT INTO oidc_auth_requests (id, client_id, device_id, request, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6)`,
		r.ID, r.ClientID, r.DeviceID, string(params), ts(r.CreatedAt), ts(r.ExpiresAt))
	if err != nil {
		return fmt.Errorf("postgres: create auth request: %w", err)
	}
	return nil
}

const authRequestColumns = `id, client_id, device_id, request, created_at, expires_at, account_id, result, done_at, denied_at, exchanged_at`

func scanAuthRequest(row pgx.Row) (*oidc.Request, error) {
	var r oidc.Request
	var params, result string
	var account *string
	var created, expires, done, denied, exchanged *time.Time
	if err := row.Scan(&r.ID, &r.ClientID, &r.DeviceID, &params, &created, &expires, &account, &result, &done, &denied, &exchanged); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(params), &r.Params); err != nil {
		return nil, err
	}
	if result != "" {
		if err := json.Unmarshal([]byte(result), &r.Result); err != nil {
			return nil, err
		}
	}
	if account != nil {
		r.AccountID = *account
	}
	r.CreatedAt, r.ExpiresAt, r.DoneAt, r.DeniedAt, r.ExchangedAt = utc(created), utc(expires), utc(done), utc(denied), utc(exchanged)
	return &r, nil
}

// AuthRequest implements oidc.FlowStore.
func (db *DB) AuthRequest(ctx context.Context, id string, now time.Time) (*oidc.Request, error) {
	r, err := scanAuthRequest(db.conn(ctx).QueryRow(ctx, `SELECT `+authRequestColumns+` FROM oidc_auth_requests WHERE id = $1 AND expires_at > $2`, id, ts(now)))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, oidc.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: read auth request: %w", err)
	}
	return r, nil
}

// CompleteAuthRequest implements oidc.FlowStore.
func (db *DB) CompleteAuthRequest(ctx context.Context, id, accountID string, res oidc.Result, at time.Time) error {
	b, err := json.Marshal(res)
	if err != nil {
		return fmt.Errorf("postgres: complete auth request: %w", err)
	}
	tag, err := db.conn(ctx).Exec(ctx, `
		UPDATE oidc_auth_requests SET account_id = $1, result = $2, done_at = $3
		WHERE id = $4 AND done_at IS NULL AND denied_at IS NULL`, accountID, string(b), ts(at), id)
	if err != nil {
		return fmt.Errorf("postgres: complete auth request: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return oidc.ErrUsed
	}
	return nil
}

// DenyAuthRequest implements oidc.FlowStore.
func (db *DB) DenyAuthRequest(ctx context.Context, id string, at time.Time) error {
	if _, err := db.conn(ctx).Exec(ctx, `UPDATE oidc_auth_requests SET denied_at = $1 WHERE id = $2 AND done_at IS NULL`, ts(at), id); err != nil {
		return fmt.Errorf("postgres: deny auth request: %w", err)
	}
	return nil
}

// SaveAuthCode implements oidc.FlowStore.
func (db *DB) SaveAuthCode(ctx context.Context, id string, codeHash []byte, expires time.Time) error {
	tag, err := db.conn(ctx).Exec(ctx, `
		UPDATE oidc_auth_requests SET code_hash = $1, code_expires_at = $2
		WHERE id = $3 AND done_at IS NOT NULL AND code_hash IS NULL`, codeHash, ts(expires), id)
	if err != nil {
		return fmt.Errorf("postgres: save auth code: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return oidc.ErrUsed
	}
	return nil
}

// AuthRequestByCode implements oidc.FlowStore. An exchanged request is
// returned (a replay) until the replay window after its code expired.
func (db *DB) AuthRequestByCode(ctx context.Context, codeHash []byte, now time.Time) (*oidc.Request, error) {
	r, err := scanAuthRequest(db.conn(ctx).QueryRow(ctx, `
		SELECT `+authRequestColumns+` FROM oidc_auth_requests
		WHERE code_hash = $1 AND (code_expires_at > $2 OR (exchanged_at IS NOT NULL AND code_expires_at > $3))`,
		codeHash, ts(now), ts(now.Add(-oidc.ReplayWindow))))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, oidc.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: read auth request by code: %w", err)
	}
	return r, nil
}

func insertAccessToken(ctx context.Context, tx pgx.Tx, t *oidc.AccessToken) error {
	_, err := tx.Exec(ctx, `
		INSERT INTO oidc_access_tokens (id, client_id, account_id, auth_request_id, family_id, scopes, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		t.ID, t.ClientID, t.AccountID, t.AuthRequestID, t.FamilyID, oidc.Scopes(t.Scopes), ts(t.CreatedAt), ts(t.ExpiresAt))
	return err
}

func insertRefreshToken(ctx context.Context, tx pgx.Tx, t *oidc.RefreshToken) error {
	_, err := tx.Exec(ctx, `
		INSERT INTO oidc_refresh_tokens (token_hash, family_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
		t.Hash, t.FamilyID, ts(t.CreatedAt), ts(t.ExpiresAt))
	return err
}

// touchGrant records a use of the account's grant to the client.
func touchGrant(ctx context.Context, tx pgx.Tx, accountID, clientID, deviceID string, at time.Time) error {
	_, err := tx.Exec(ctx, `
		UPDATE oidc_grants SET last_used_at = $1, last_device_id = CASE WHEN $2::text = '' THEN last_device_id ELSE $2::text END
		WHERE account_id = $3 AND client_id = $4 AND revoked_at IS NULL`,
		ts(at), deviceID, accountID, clientID)
	return err
}

// IssueTokens implements oidc.FlowStore. The conditional update of the
// request is what lets one exchange win: a concurrent one waits for the
// row's lock, then (READ COMMITTED) re-checks exchanged_at, matches
// nothing and gets ErrUsed.
func (db *DB) IssueTokens(ctx context.Context, is oidc.Issue) error {
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if is.Code != "" {
			tag, err := tx.Exec(ctx, `UPDATE oidc_auth_requests SET exchanged_at = $1 WHERE id = $2 AND exchanged_at IS NULL`, ts(is.At), is.Code)
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 0 {
				return oidc.ErrUsed
			}
		}
		if f := is.Family; f != nil {
			_, err := tx.Exec(ctx, `
				INSERT INTO oidc_token_families (id, client_id, account_id, session_id, scopes, amr, acr, auth_time,
					created_at, expires_at, last_used_at, last_device_id)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
				f.ID, f.ClientID, f.AccountID, f.SessionID, oidc.Scopes(f.Scopes), oidc.Scopes(f.AMR), f.ACR, ts(f.AuthTime),
				ts(f.CreatedAt), ts(f.ExpiresAt), ts(f.LastUsedAt), f.LastDeviceID)
			if err != nil {
				return err
			}
		}
		if is.Refresh != nil {
			if err := insertRefreshToken(ctx, tx, is.Refresh); err != nil {
				return err
			}
		}
		if err := insertAccessToken(ctx, tx, is.Access); err != nil {
			return err
		}
		return touchGrant(ctx, tx, is.Access.AccountID, is.Access.ClientID, is.DeviceID, is.At)
	})
	if errors.Is(err, oidc.ErrUsed) {
		return err
	}
	if err != nil {
		return fmt.Errorf("postgres: issue tokens: %w", err)
	}
	return nil
}

// revokeFamily revokes a family (keeping the first reason) and the access
// tokens it bought.
func revokeFamily(ctx context.Context, tx pgx.Tx, familyID, reason string, at time.Time) error {
	if _, err := tx.Exec(ctx, `
		UPDATE oidc_token_families SET revoked_at = $1, revoke_reason = $2 WHERE id = $3 AND revoked_at IS NULL`,
		ts(at), reason, familyID); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `UPDATE oidc_access_tokens SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL`, ts(at), familyID)
	return err
}

// RevokeRequestTokens implements oidc.FlowStore.
func (db *DB) RevokeRequestTokens(ctx context.Context, requestID, reason string, at time.Time) error {
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT DISTINCT family_id FROM oidc_access_tokens WHERE auth_request_id = $1 AND family_id != ''`, requestID)
		if err != nil {
			return err
		}
		families, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		for _, f := range families {
			if err := revokeFamily(ctx, tx, f, reason, at); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, `UPDATE oidc_access_tokens SET revoked_at = $1 WHERE auth_request_id = $2 AND revoked_at IS NULL`, ts(at), requestID)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: revoke a code's tokens: %w", err)
	}
	return nil
}

const familyColumns = `f.id, f.client_id, f.account_id, f.session_id, f.scopes, f.amr, f.acr, f.auth_time, f.created_at, f.expires_at,
	f.last_used_at, f.last_device_id, f.revoked_at, f.revoke_reason`

// RefreshToken implements oidc.FlowStore.
func (db *DB) RefreshToken(ctx context.Context, hash []byte) (*oidc.RefreshToken, *oidc.Family, error) {
	var t oidc.RefreshToken
	var f oidc.Family
	var scopes, amr string
	var tCreated, tExpires, tRotated, authTime, created, expires, used, revoked *time.Time
	err := db.conn(ctx).QueryRow(ctx, `
		SELECT t.token_hash, t.family_id, t.created_at, t.expires_at, t.rotated_at, `+familyColumns+`
		FROM oidc_refresh_tokens t JOIN oidc_token_families f ON f.id = t.family_id
		WHERE t.token_hash = $1`, hash).Scan(&t.Hash, &t.FamilyID, &tCreated, &tExpires, &tRotated,
		&f.ID, &f.ClientID, &f.AccountID, &f.SessionID, &scopes, &amr, &f.ACR, &authTime, &created, &expires,
		&used, &f.LastDeviceID, &revoked, &f.RevokeReason)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil, oidc.ErrNotFound
	}
	if err != nil {
		return nil, nil, fmt.Errorf("postgres: read refresh token: %w", err)
	}
	t.CreatedAt, t.ExpiresAt, t.RotatedAt = utc(tCreated), utc(tExpires), utc(tRotated)
	f.Scopes, f.AMR = oidc.ParseScopes(scopes), oidc.ParseScopes(amr)
	f.AuthTime, f.CreatedAt, f.ExpiresAt, f.LastUsedAt, f.RevokedAt = utc(authTime), utc(created), utc(expires), utc(used), utc(revoked)
	return &t, &f, nil
}

// RotateRefreshToken implements oidc.FlowStore. As in IssueTokens, the
// conditional update serialises concurrent uses of one token: the loser
// waits for the winner's row lock, re-checks rotated_at and gets ErrUsed.
func (db *DB) RotateRefreshToken(ctx context.Context, oldHash []byte, next *oidc.RefreshToken, access *oidc.AccessToken, deviceID string, at time.Time) error {
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE oidc_refresh_tokens SET rotated_at = $1 WHERE token_hash = $2 AND rotated_at IS NULL`, ts(at), oldHash)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return oidc.ErrUsed
		}
		if err := insertRefreshToken(ctx, tx, next); err != nil {
			return err
		}
		if err := insertAccessToken(ctx, tx, access); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `
			UPDATE oidc_token_families SET last_used_at = $1, last_device_id = CASE WHEN $2::text = '' THEN last_device_id ELSE $2::text END
			WHERE id = $3`, ts(at), deviceID, next.FamilyID); err != nil {
			return err
		}
		return touchGrant(ctx, tx, access.AccountID, access.ClientID, deviceID, at)
	})
	if errors.Is(err, oidc.ErrUsed) {
		return err
	}
	if err != nil {
		return fmt.Errorf("postgres: rotate refresh token: %w", err)
	}
	return nil
}

// RevokeFamily implements oidc.FlowStore.
func (db *DB) RevokeFamily(ctx context.Context, familyID, reason string, at time.Time) error {
	if err := db.inTx(ctx, func(tx pgx.Tx) error { return revokeFamily(ctx, tx, familyID, reason, at) }); err != nil {
		return fmt.Errorf("postgres: revoke token family: %w", err)
	}
	return nil
}

// AccessToken implements oidc.FlowStore.
func (db *DB) AccessToken(ctx context.Context, id string) (*oidc.AccessToken, error) {
	var t oidc.AccessToken
	var scopes string
	var created, expires, revoked *time.Time
	err := db.conn(ctx).QueryRow(ctx, `
		SELECT id, client_id, account_id, auth_request_id, family_id, scopes, created_at, expires_at, revoked_at
		FROM oidc_access_tokens WHERE id = $1`, id).Scan(&t.ID, &t.ClientID, &t.AccountID, &t.AuthRequestID, &t.FamilyID,
		&scopes, &created, &expires, &revoked)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, oidc.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: read access token: %w", err)
	}
	t.Scopes = oidc.ParseScopes(scopes)
	t.CreatedAt, t.ExpiresAt, t.RevokedAt = utc(created), utc(expires), utc(revoked)
	return &t, nil
}

// RevokeAccessToken implements oidc.FlowStore.
func (db *DB) RevokeAccessToken(ctx context.Context, id string, at time.Time) error {
	if _, err := db.conn(ctx).Exec(ctx, `UPDATE oidc_access_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL`, ts(at), id); err != nil {
		return fmt.Errorf("postgres: revoke access token: %w", err)
	}
	return nil
}

// Grant implements oidc.FlowStore.
func (db *DB) Grant(ctx context.Context, accountID, clientID string) (*oidc.Grant, error) {
	var g oidc.Grant
	var scopes string
	var created, used *time.Time
	err := db.conn(ctx).QueryRow(ctx, `
		SELECT account_id, client_id, scopes, created_at, last_used_at, last_device_id FROM oidc_grants
		WHERE account_id = $1 AND client_id = $2 AND revoked_at IS NULL`, accountID, clientID).Scan(
		&g.AccountID, &g.ClientID, &scopes, &created, &used, &g.LastDeviceID)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, oidc.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: read grant: %w", err)
	}
	g.Scopes = oidc.ParseScopes(scopes)
	g.CreatedAt, g.LastUsedAt = utc(created), utc(used)
	return &g, nil
}

// SaveGrant implements oidc.FlowStore: a live grant keeps its first
// created_at; a revoked one is replaced whole.
func (db *DB) SaveGrant(ctx context.Context, g *oidc.Grant) error {
	_, err := db.conn(ctx).Exec(ctx, `
		INSERT INTO oidc_grants (account_id, client_id, scopes, created_at, last_used_at, last_device_id)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (account_id, client_id) DO UPDATE SET scopes = EXCLUDED.scopes,
			created_at = CASE WHEN oidc_grants.revoked_at IS NULL THEN oidc_grants.created_at ELSE EXCLUDED.created_at END,
			last_used_at = EXCLUDED.last_used_at, last_device_id = EXCLUDED.last_device_id, revoked_at = NULL`,
		g.AccountID, g.ClientID, oidc.Scopes(g.Scopes), ts(g.CreatedAt), ts(g.LastUsedAt), g.LastDeviceID)
	if err != nil {
		return fmt.Errorf("postgres: save grant: %w", err)
	}
	return nil
}

// ConnectedApps implements oidc.FlowStore. LEAST and GREATEST stand for
// SQLite's two-argument MIN and MAX (the COALESCEs make both arguments
// non-NULL whenever either side exists); the families' MAX of text
// compares bytes (COLLATE "C"), as SQLite does.
func (db *DB) ConnectedApps(ctx context.Context, accountID string, now time.Time) ([]*oidc.App, error) {
	rows, err := db.conn(ctx).Query(ctx, `
		SELECT c.id, c.name, COALESCE(g.scopes, ''),
			LEAST(COALESCE(g.created_at, f.created_at), COALESCE(f.created_at, g.created_at)),
			GREATEST(COALESCE(g.last_used_at, f.last_used_at), COALESCE(f.last_used_at, g.last_used_at)),
			COALESCE(NULLIF(f.last_device_id, ''), g.last_device_id, ''), COALESCE(f.scopes, '')
		FROM oidc_clients c
		LEFT JOIN oidc_grants g ON g.client_id = c.id AND g.account_id = $1 AND g.revoked_at IS NULL
		LEFT JOIN (SELECT client_id, MIN(created_at) AS created_at, MAX(last_used_at) AS last_used_at,
				MAX(last_device_id COLLATE "C") AS last_device_id, MAX(scopes COLLATE "C") AS scopes
			FROM oidc_token_families WHERE account_id = $1 AND revoked_at IS NULL AND expires_at > $2
			GROUP BY client_id) f ON f.client_id = c.id
		WHERE c.removed_at IS NULL AND (g.client_id IS NOT NULL OR f.client_id IS NOT NULL)
		ORDER BY c.name COLLATE "C"`, accountID, ts(now))
	if err != nil {
		return nil, fmt.Errorf("postgres: list connected apps: %w", err)
	}
	defer rows.Close()
	var out []*oidc.App
	for rows.Next() {
		var a oidc.App
		var scopes, familyScopes string
		var first, last *time.Time
		if err := rows.Scan(&a.ClientID, &a.Name, &scopes, &first, &last, &a.LastDeviceID, &familyScopes); err != nil {
			return nil, fmt.Errorf("postgres: list connected apps: %w", err)
		}
		if scopes == "" {
			scopes = familyScopes
		}
		a.Scopes = oidc.ParseScopes(scopes)
		a.FirstUsedAt, a.LastUsedAt = utc(first), utc(last)
		out = append(out, &a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: list connected apps: %w", err)
	}
	oidc.SortApps(out)
	return out, nil
}

// Disconnect implements oidc.FlowStore.
func (db *DB) Disconnect(ctx context.Context, accountID, clientID, reason string, at time.Time) ([]string, error) {
	var sids []string
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE oidc_grants SET revoked_at = $1 WHERE account_id = $2 AND client_id = $3 AND revoked_at IS NULL`,
			ts(at), accountID, clientID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `
			UPDATE oidc_token_families SET revoked_at = $1, revoke_reason = $2
			WHERE account_id = $3 AND client_id = $4 AND revoked_at IS NULL`, ts(at), reason, accountID, clientID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `
			UPDATE oidc_access_tokens SET revoked_at = $1 WHERE account_id = $2 AND client_id = $3 AND revoked_at IS NULL`,
			ts(at), accountID, clientID); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `
			UPDATE oidc_sessions SET logged_out_at = $1 WHERE account_id = $2 AND client_id = $3 AND logged_out_at IS NULL
			RETURNING sid`, ts(at), accountID, clientID)
		if err != nil {
			return err
		}
		sids, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: disconnect application: %w", err)
	}
	return sids, nil
}

// RevokeAccountTokens implements oidc.FlowStore.
func (db *DB) RevokeAccountTokens(ctx context.Context, accountID, reason string, at time.Time) error {
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `
			UPDATE oidc_token_families SET revoked_at = $1, revoke_reason = $2 WHERE account_id = $3 AND revoked_at IS NULL`,
			ts(at), reason, accountID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE oidc_access_tokens SET revoked_at = $1 WHERE account_id = $2 AND revoked_at IS NULL`, ts(at), accountID)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: revoke an account's tokens: %w", err)
	}
	return nil
}

// AppSession implements oidc.FlowStore.
func (db *DB) AppSession(ctx context.Context, sessionID, clientID, accountID, sid string, at time.Time) (string, error) {
	var got string
	err := db.conn(ctx).QueryRow(ctx, `
		INSERT INTO oidc_sessions (sid, session_id, client_id, account_id, created_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (session_id, client_id) DO UPDATE SET logged_out_at = NULL
		RETURNING sid`, sid, sessionID, clientID, accountID, ts(at)).Scan(&got)
	if err != nil {
		return "", fmt.Errorf("postgres: record application session: %w", err)
	}
	return got, nil
}

// EndAppSessions implements oidc.FlowStore.
func (db *DB) EndAppSessions(ctx context.Context, accountID string, at time.Time) ([]oidc.AppSession, error) {
	rows, err := db.conn(ctx).Query(ctx, `
		UPDATE oidc_sessions SET logged_out_at = $1
		WHERE account_id = $2 AND logged_out_at IS NULL
			AND session_id IN (SELECT id FROM sessions WHERE account_id = $2 AND revoked_at IS NOT NULL)
		RETURNING sid, client_id`, ts(at), accountID)
	if err != nil {
		return nil, fmt.Errorf("postgres: end application sessions: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (oidc.AppSession, error) {
		var a oidc.AppSession
		err := r.Scan(&a.SID, &a.ClientID)
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: end application sessions: %w", err)
	}
	return out, nil
}
