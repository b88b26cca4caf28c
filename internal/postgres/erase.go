package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"gatehouse/internal/account"
	"gatehouse/internal/operator"
)

var _ account.Eraser = (*DB)(nil)

// EraseAccount implements account.Eraser (see the SQLite store: the same
// statements, table by table), in the flow's transaction, and tells every
// node to forget what it cached of the account when it commits.
func (db *DB) EraseAccount(ctx context.Context, a *account.Account) error {
	t := account.TracesOf(a)
	id := a.ID
	type stmt struct {
		q    string
		args []any
	}
	stmts := []stmt{
		{`DELETE FROM message_raw WHERE message_id IN (SELECT id FROM messages WHERE account_id = $1)`, []any{id}},
		{`DELETE FROM message_raw WHERE message_id IN (SELECT id FROM messages WHERE account_id = '' AND lower(destination) = ANY($1))`, []any{t.Addresses}},
		{`DELETE FROM messages WHERE account_id = $1`, []any{id}},
		{`DELETE FROM messages WHERE account_id = '' AND lower(destination) = ANY($1)`, []any{t.Addresses}},
		{`DELETE FROM answers WHERE account_id = $1`, []any{id}},
		{`DELETE FROM challenges WHERE account_id = $1`, []any{id}},
		{`DELETE FROM challenges WHERE account_id = '' AND lower(destination) = ANY($1)`, []any{t.Addresses}},
		{`DELETE FROM signin_attempts WHERE account_id = $1`, []any{id}},
		{`DELETE FROM signin_attempts WHERE account_id = '' AND lower(identifier) = ANY($1)`, []any{t.Addresses}},
		{`DELETE FROM webauthn_ceremonies WHERE account_id = $1`, []any{id}},
		{`DELETE FROM signups WHERE email_key = $1`, []any{t.EmailKey}},
		{`DELETE FROM send_blocks WHERE destination = ANY($1)`, []any{t.Addresses}},
		{`DELETE FROM guess_counters WHERE account_id = $1`, []any{id}},
		{`DELETE FROM guess_counters WHERE subject = ANY($1)`, []any{t.Subjects}},
		{`DELETE FROM limit_seen WHERE subject = ANY($1)`, []any{t.Seen}},
		{`DELETE FROM limit_refusals WHERE subject = ANY($1)`, []any{t.Subjects}},
		{`DELETE FROM limit_sends WHERE lower(destination) = ANY($1)`, []any{t.Addresses}},
		{`DELETE FROM sessions WHERE account_id = $1`, []any{id}},
		// A browser other accounts use (or have a session on) stays theirs.
		{`DELETE FROM devices
			WHERE id IN (SELECT device_id FROM account_devices WHERE account_id = $1)
				AND NOT EXISTS (SELECT 1 FROM account_devices o WHERE o.device_id = devices.id AND o.account_id <> $1)
				AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.device_id = devices.id AND s.account_id <> $1)`, []any{id}},
	}
	// The applications it signed in to: their tokens, grants, sessions and
	// requests (its sessions' end revoked the tokens already).
	stmts = append(stmts, stmt{`DELETE FROM oidc_refresh_tokens WHERE family_id IN (SELECT id FROM oidc_token_families WHERE account_id = $1)`, []any{id}})
	for _, table := range []string{"oidc_access_tokens", "oidc_token_families", "oidc_grants", "oidc_sessions", "oidc_auth_requests",
		"deliveries", "account_devices", "totp_steps", "totp_apps", "backup_codes", "passkeys", "reports", "password_history",
		"operators", "audit_log", "two_step_resets"} {
		stmts = append(stmts, stmt{`DELETE FROM ` + table + ` WHERE account_id = $1`, []any{id}})
	}
	// What it did as an operator stays in the audit trail, not who did it.
	stmts = append(stmts, stmt{`UPDATE audit_log SET operator_id = '', operator_email = '` + operator.ErasedOperator + `' WHERE operator_id = $1`, []any{id}})
	stmts = append(stmts, stmt{`UPDATE reports SET handled_by = '` + operator.ErasedOperator + `' WHERE handled_by = $1`, []any{a.Email}})
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		for _, s := range stmts {
			if _, err := tx.Exec(ctx, s.q, s.args...); err != nil {
				return fmt.Errorf("%s: %w", strings.Fields(s.q)[2], err)
			}
		}
		tag, err := tx.Exec(ctx, `DELETE FROM accounts WHERE id = $1`, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return account.ErrNotFound
		}
		return notify(ctx, tx, "account", id)
	})
	if errors.Is(err, account.ErrNotFound) {
		return err
	}
	if err != nil {
		return fmt.Errorf("postgres: erase account: %w", err)
	}
	return nil
}
