package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gatehouse/internal/oidc"
)

var _ oidc.FlowStore = (*DB)(nil)

// CreateAuthRequest implements oidc.FlowStore.
func (db *DB) CreateAuthRequest(ctx context.Context, r *oidc.Request) error {
	params, err := json.Marshal(r.Params)
	if err != nil {
		return fmt.Errorf("sqlite: create auth request: %w", err)
	}
	_, err = db.exec(ctx, `
		INSERT INTO oidc_auth_requests (id, client_id, device_id, request, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?)`,
		r.ID, r.ClientID, r.DeviceID, string(params), us(r.CreatedAt), us(r.ExpiresAt))
	if err != nil {
		return fmt.Errorf("sqlite: create auth request: %w", err)
	}
	return nil
}

const authRequestColumns = `id, client_id, device_id, request, created_at, expires_at, account_id, result, done_at, denied_at, exchanged_at`

func scanAuthRequest(row interface{ Scan(...any) error }) (*oidc.Request, error) {
	var r oidc.Request
	var params, result string
	var account sql.NullString
	var created, expires, done, denied, exchanged sql.NullInt64
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
	r.AccountID = account.String
	r.CreatedAt, r.ExpiresAt, r.DoneAt, r.DeniedAt, r.ExchangedAt = tm(created), tm(expires), tm(done), tm(denied), tm(exchanged)
	return &r, nil
}

// AuthRequest implements oidc.FlowStore.
func (db *DB) AuthRequest(ctx context.Context, id string, now time.Time) (*oidc.Request, error) {
	r, err := scanAuthRequest(db.readRow(ctx, `SELECT `+authRequestColumns+` FROM oidc_auth_requests WHERE id = ? AND expires_at > ?`, id, us(now)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, oidc.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: read auth request: %w", err)
	}
	return r, nil
}

// CompleteAuthRequest implements oidc.FlowStore.
func (db *DB) CompleteAuthRequest(ctx context.Context, id, accountID string, res oidc.Result, at time.Time) error {
	b, err := json.Marshal(res)
	if err != nil {
		return fmt.Errorf("sqlite: complete auth request: %w", err)
	}
	r, err := db.exec(ctx, `
		UPDATE oidc_auth_requests SET account_id = ?, result = ?, done_at = ?
		WHERE id = ? AND done_at IS NULL AND denied_at IS NULL`, accountID, string(b), us(at), id)
	if err != nil {
		return fmt.Errorf("sqlite: complete auth request: %w", err)
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return oidc.ErrUsed
	}
	return nil
}

// DenyAuthRequest implements oidc.FlowStore.
func (db *DB) DenyAuthRequest(ctx context.Context, id string, at time.Time) error {
	if _, err := db.exec(ctx, `UPDATE oidc_auth_requests SET denied_at = ? WHERE id = ? AND done_at IS NULL`, us(at), id); err != nil {
		return fmt.Errorf("sqlite: deny auth request: %w", err)
	}
	return nil
}

// SaveAuthCode implements oidc.FlowStore.
func (db *DB) SaveAuthCode(ctx context.Context, id string, codeHash []byte, expires time.Time) error {
	r, err := db.exec(ctx, `
		UPDATE oidc_auth_requests SET code_hash = ?, code_expires_at = ?
		WHERE id = ? AND done_at IS NOT NULL AND code_hash IS NULL`, codeHash, us(expires), id)
	if err != nil {
		return fmt.Errorf("sqlite: save auth code: %w", err)
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return oidc.ErrUsed
	}
	return nil
}

// AuthRequestByCode implements oidc.FlowStore. An exchanged request is
// returned (a replay) until the replay window after its code expired.
func (db *DB) AuthRequestByCode(ctx context.Context, codeHash []byte, now time.Time) (*oidc.Request, error) {
	r, err := scanAuthRequest(db.readRow(ctx, `
		SELECT `+authRequestColumns+` FROM oidc_auth_requests
		WHERE code_hash = ? AND (code_expires_at > ? OR (exchanged_at IS NOT NULL AND code_expires_at > ?))`,
		codeHash, us(now), us(now.Add(-oidc.ReplayWindow))))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, oidc.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: read auth request by code: %w", err)
	}
	return r, nil
}

func insertAccessToken(ctx context.Context, tx *sql.Tx, t *oidc.AccessToken) error {
	_, err := tx.ExecContext(ctx, `
		INSERT INTO oidc_access_tokens (id, client_id, account_id, auth_request_id, family_id, scopes, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		t.ID, t.ClientID, t.AccountID, t.AuthRequestID, t.FamilyID, oidc.Scopes(t.Scopes), us(t.CreatedAt), us(t.ExpiresAt))
	return err
}

func insertRefreshToken(ctx context.Context, tx *sql.Tx, t *oidc.RefreshToken) error {
	_, err := tx.ExecContext(ctx, `
		INSERT INTO oidc_refresh_tokens (token_hash, family_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
		t.Hash, t.FamilyID, us(t.CreatedAt), us(t.ExpiresAt))
	return err
}

// touchGrant records a use of the account's grant to the client.
func touchGrant(ctx context.Context, tx *sql.Tx, accountID, clientID, deviceID string, at time.Time) error {
	_, err := tx.ExecContext(ctx, `
		UPDATE oidc_grants SET last_used_at = ?, last_device_id = CASE WHEN ? = '' THEN last_device_id ELSE ? END
		WHERE account_id = ? AND client_id = ? AND revoked_at IS NULL`,
		us(at), deviceID, deviceID, accountID, clientID)
	return err
}

// IssueTokens implements oidc.FlowStore.
func (db *DB) IssueTokens(ctx context.Context, is oidc.Issue) error {
	err := db.tx(ctx, func(tx *sql.Tx) error {
		if is.Code != "" {
			r, err := tx.ExecContext(ctx, `UPDATE oidc_auth_requests SET exchanged_at = ? WHERE id = ? AND exchanged_at IS NULL`, us(is.At), is.Code)
			if err != nil {
				return err
			}
			if n, _ := r.RowsAffected(); n == 0 {
				return oidc.ErrUsed
			}
		}
		if f := is.Family; f != nil {
			_, err := tx.ExecContext(ctx, `
				INSERT INTO oidc_token_families (id, client_id, account_id, session_id, scopes, amr, acr, auth_time,
					created_at, expires_at, last_used_at, last_device_id)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				f.ID, f.ClientID, f.AccountID, f.SessionID, oidc.Scopes(f.Scopes), oidc.Scopes(f.AMR), f.ACR, us(f.AuthTime),
				us(f.CreatedAt), us(f.ExpiresAt), us(f.LastUsedAt), f.LastDeviceID)
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
		return fmt.Errorf("sqlite: issue tokens: %w", err)
	}
	return nil
}

// revokeFamily revokes a family (keeping the first reason) and the access
// tokens it bought.
func revokeFamily(ctx context.Context, tx *sql.Tx, familyID, reason string, at time.Time) error {
	if _, err := tx.ExecContext(ctx, `
		UPDATE oidc_token_families SET revoked_at = ?, revoke_reason = ? WHERE id = ? AND revoked_at IS NULL`,
		us(at), reason, familyID); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `UPDATE oidc_access_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL`, us(at), familyID)
	return err
}

// RevokeRequestTokens implements oidc.FlowStore.
func (db *DB) RevokeRequestTokens(ctx context.Context, requestID, reason string, at time.Time) error {
	err := db.tx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT DISTINCT family_id FROM oidc_access_tokens WHERE auth_request_id = ? AND family_id != ''`, requestID)
		if err != nil {
			return err
		}
		var families []string
		for rows.Next() {
			var f string
			if err := rows.Scan(&f); err != nil {
				rows.Close()
				return err
			}
			families = append(families, f)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, f := range families {
			if err := revokeFamily(ctx, tx, f, reason, at); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE oidc_access_tokens SET revoked_at = ? WHERE auth_request_id = ? AND revoked_at IS NULL`, us(at), requestID)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: revoke a code's tokens: %w", err)
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
	var tCreated, tExpires, tRotated, authTime, created, expires, used, revoked sql.NullInt64
	err := db.readRow(ctx, `
		SELECT t.token_hash, t.family_id, t.created_at, t.expires_at, t.rotated_at, `+familyColumns+`
		FROM oidc_refresh_tokens t JOIN oidc_token_families f ON f.id = t.family_id
		WHERE t.token_hash = ?`, hash).Scan(&t.Hash, &t.FamilyID, &tCreated, &tExpires, &tRotated,
		&f.ID, &f.ClientID, &f.AccountID, &f.SessionID, &scopes, &amr, &f.ACR, &authTime, &created, &expires,
		&used, &f.LastDeviceID, &revoked, &f.RevokeReason)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, oidc.ErrNotFound
	}
	if err != nil {
		return nil, nil, fmt.Errorf("sqlite: read refresh token: %w", err)
	}
	t.CreatedAt, t.ExpiresAt, t.RotatedAt = tm(tCreated), tm(tExpires), tm(tRotated)
	f.Scopes, f.AMR = oidc.ParseScopes(scopes), oidc.ParseScopes(amr)
	f.AuthTime, f.CreatedAt, f.ExpiresAt, f.LastUsedAt, f.RevokedAt = tm(authTime), tm(created), tm(expires), tm(used), tm(revoked)
	return &t, &f, nil
}

// RotateRefreshToken implements oidc.FlowStore.
func (db *DB) RotateRefreshToken(ctx context.Context, oldHash []byte, next *oidc.RefreshToken, access *oidc.AccessToken, deviceID string, at time.Time) error {
	err := db.tx(ctx, func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, `UPDATE oidc_refresh_tokens SET rotated_at = ? WHERE token_hash = ? AND rotated_at IS NULL`, us(at), oldHash)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return oidc.ErrUsed
		}
		if err := insertRefreshToken(ctx, tx, next); err != nil {
			return err
		}
		if err := insertAccessToken(ctx, tx, access); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `
			UPDATE oidc_token_families SET last_used_at = ?, last_device_id = CASE WHEN ? = '' THEN last_device_id ELSE ? END
			WHERE id = ?`, us(at), deviceID, deviceID, next.FamilyID); err != nil {
			return err
		}
		return touchGrant(ctx, tx, access.AccountID, access.ClientID, deviceID, at)
	})
	if errors.Is(err, oidc.ErrUsed) {
		return err
	}
	if err != nil {
		return fmt.Errorf("sqlite: rotate refresh token: %w", err)
	}
	return nil
}

// RevokeFamily implements oidc.FlowStore.
func (db *DB) RevokeFamily(ctx context.Context, familyID, reason string, at time.Time) error {
	if err := db.tx(ctx, func(tx *sql.Tx) error { return revokeFamily(ctx, tx, familyID, reason, at) }); err != nil {
		return fmt.Errorf("sqlite: revoke token family: %w", err)
	}
	return nil
}

// AccessToken implements oidc.FlowStore.
func (db *DB) AccessToken(ctx context.Context, id string) (*oidc.AccessToken, error) {
	var t oidc.AccessToken
	var scopes string
	var created, expires, revoked sql.NullInt64
	err := db.readRow(ctx, `
		SELECT id, client_id, account_id, auth_request_id, family_id, scopes, created_at, expires_at, revoked_at
		FROM oidc_access_tokens WHERE id = ?`, id).Scan(&t.ID, &t.ClientID, &t.AccountID, &t.AuthRequestID, &t.FamilyID,
		&scopes, &created, &expires, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, oidc.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: read access token: %w", err)
	}
	t.Scopes = oidc.ParseScopes(scopes)
	t.CreatedAt, t.ExpiresAt, t.RevokedAt = tm(created), tm(expires), tm(revoked)
	return &t, nil
}

// RevokeAccessToken implements oidc.FlowStore.
func (db *DB) RevokeAccessToken(ctx context.Context, id string, at time.Time) error {
	if _, err := db.exec(ctx, `UPDATE oidc_access_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, us(at), id); err != nil {
		return fmt.Errorf("sqlite: revoke access token: %w", err)
	}
	return nil
}

// Grant implements oidc.FlowStore.
func (db *DB) Grant(ctx context.Context, accountID, clientID string) (*oidc.Grant, error) {
	var g oidc.Grant
	var scopes string
	var created, used sql.NullInt64
	err := db.readRow(ctx, `
		SELECT account_id, client_id, scopes, created_at, last_used_at, last_device_id FROM oidc_grants
		WHERE account_id = ? AND client_id = ? AND revoked_at IS NULL`, accountID, clientID).Scan(
		&g.AccountID, &g.ClientID, &scopes, &created, &used, &g.LastDeviceID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, oidc.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: read grant: %w", err)
	}
	g.Scopes = oidc.ParseScopes(scopes)
	g.CreatedAt, g.LastUsedAt = tm(created), tm(used)
	return &g, nil
}

// SaveGrant implements oidc.FlowStore.
func (db *DB) SaveGrant(ctx context.Context, g *oidc.Grant) error {
	_, err := db.exec(ctx, `
		INSERT INTO oidc_grants (account_id, client_id, scopes, created_at, last_used_at, last_device_id)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (account_id, client_id) DO UPDATE SET scopes = excluded.scopes,
			created_at = CASE WHEN oidc_grants.revoked_at IS NULL THEN oidc_grants.created_at ELSE excluded.created_at END,
			last_used_at = excluded.last_used_at, last_device_id = excluded.last_device_id, revoked_at = NULL`,
		g.AccountID, g.ClientID, oidc.Scopes(g.Scopes), us(g.CreatedAt), us(g.LastUsedAt), g.LastDeviceID)
	if err != nil {
		return fmt.Errorf("sqlite: save grant: %w", err)
	}
	return nil
}

// ConnectedApps implements oidc.FlowStore.
func (db *DB) ConnectedApps(ctx context.Context, accountID string, now time.Time) ([]*oidc.App, error) {
	rows, err := db.query(ctx, `
		SELECT c.id, c.name, COALESCE(g.scopes, ''),
			MIN(COALESCE(g.created_at, f.created_at), COALESCE(f.created_at, g.created_at)),
			MAX(COALESCE(g.last_used_at, f.last_used_at), COALESCE(f.last_used_at, g.last_used_at)),
			COALESCE(NULLIF(f.last_device_id, ''), g.last_device_id, ''), COALESCE(f.scopes, '')
		FROM oidc_clients c
		LEFT JOIN oidc_grants g ON g.client_id = c.id AND g.account_id = ? AND g.revoked_at IS NULL
		LEFT JOIN (SELECT client_id, MIN(created_at) AS created_at, MAX(last_used_at) AS last_used_at,
				MAX(last_device_id) AS last_device_id, MAX(scopes) AS scopes
			FROM oidc_token_families WHERE account_id = ? AND revoked_at IS NULL AND expires_at > ?
			GROUP BY client_id) f ON f.client_id = c.id
		WHERE c.removed_at IS NULL AND (g.client_id IS NOT NULL OR f.client_id IS NOT NULL)
		ORDER BY c.name`, accountID, accountID, us(now))
	if err != nil {
		return nil, fmt.Errorf("sqlite: list connected apps: %w", err)
	}
	defer rows.Close()
	var out []*oidc.App
	for rows.Next() {
		var a oidc.App
		var scopes, familyScopes string
		var first, last sql.NullInt64
		if err := rows.Scan(&a.ClientID, &a.Name, &scopes, &first, &last, &a.LastDeviceID, &familyScopes); err != nil {
			return nil, fmt.Errorf("sqlite: list connected apps: %w", err)
		}
		if scopes == "" {
			scopes = familyScopes
		}
		a.Scopes = oidc.ParseScopes(scopes)
		a.FirstUsedAt, a.LastUsedAt = tm(first), tm(last)
		out = append(out, &a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list connected apps: %w", err)
	}
	oidc.SortApps(out)
	return out, nil
}

// Disconnect implements oidc.FlowStore.
func (db *DB) Disconnect(ctx context.Context, accountID, clientID, reason string, at time.Time) ([]string, error) {
	var sids []string
	err := db.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE oidc_grants SET revoked_at = ? WHERE account_id = ? AND client_id = ? AND revoked_at IS NULL`,
			us(at), accountID, clientID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `
			UPDATE oidc_token_families SET revoked_at = ?, revoke_reason = ?
			WHERE account_id = ? AND client_id = ? AND revoked_at IS NULL`, us(at), reason, accountID, clientID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `
			UPDATE oidc_access_tokens SET revoked_at = ? WHERE account_id = ? AND client_id = ? AND revoked_at IS NULL`,
			us(at), accountID, clientID); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `
			UPDATE oidc_sessions SET logged_out_at = ? WHERE account_id = ? AND client_id = ? AND logged_out_at IS NULL
			RETURNING sid`, us(at), accountID, clientID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var sid string
			if err := rows.Scan(&sid); err != nil {
				return err
			}
			sids = append(sids, sid)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: disconnect application: %w", err)
	}
	return sids, nil
}

// RevokeAccountTokens implements oidc.FlowStore.
func (db *DB) RevokeAccountTokens(ctx context.Context, accountID, reason string, at time.Time) error {
	err := db.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `
			UPDATE oidc_token_families SET revoked_at = ?, revoke_reason = ? WHERE account_id = ? AND revoked_at IS NULL`,
			us(at), reason, accountID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE oidc_access_tokens SET revoked_at = ? WHERE account_id = ? AND revoked_at IS NULL`, us(at), accountID)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: revoke an account's tokens: %w", err)
	}
	return nil
}

// AppSession implements oidc.FlowStore.
func (db *DB) AppSession(ctx context.Context, sessionID, clientID, accountID, sid string, at time.Time) (string, error) {
	var got string
	err := db.writeRow(ctx, `
		INSERT INTO oidc_sessions (sid, session_id, client_id, account_id, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (session_id, client_id) DO UPDATE SET logged_out_at = NULL
		RETURNING sid`, sid, sessionID, clientID, accountID, us(at)).Scan(&got)
	if err != nil {
		return "", fmt.Errorf("sqlite: record application session: %w", err)
	}
	return got, nil
}

// EndAppSessions implements oidc.FlowStore.
func (db *DB) EndAppSessions(ctx context.Context, accountID string, at time.Time) ([]oidc.AppSession, error) {
	var out []oidc.AppSession
	err := db.tx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `
			UPDATE oidc_sessions SET logged_out_at = ?
			WHERE account_id = ? AND logged_out_at IS NULL
				AND session_id IN (SELECT id FROM sessions WHERE account_id = ? AND revoked_at IS NOT NULL)
			RETURNING sid, client_id`, us(at), accountID, accountID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var a oidc.AppSession
			if err := rows.Scan(&a.SID, &a.ClientID); err != nil {
				return err
			}
			out = append(out, a)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: end application sessions: %w", err)
	}
	return out, nil
}
