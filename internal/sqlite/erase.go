package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"gatehouse/internal/account"
	"gatehouse/internal/operator"
)

var _ account.Eraser = (*DB)(nil)

// EraseAccount implements account.Eraser: one statement per table, in the
// flow's transaction (account.Service.Delete ends the sessions first).
// Rows that name the account are found by its id through each table's
// index on account_id; rows that name only its address or number are
// looked for among the rows of no account.
func (db *DB) EraseAccount(ctx context.Context, a *account.Account) error {
	t := account.TracesOf(a)
	id := a.ID
	var stmts []struct {
		q    string
		args []any
	}
	add := func(q string, args ...any) {
		stmts = append(stmts, struct {
			q    string
			args []any
		}{q, args})
	}
	addrs, addrArgs := in(t.Addresses)
	subjects, subjectArgs := in(t.Subjects)
	seen, seenArgs := in(t.Seen)
	add(`DELETE FROM message_raw WHERE message_id IN (SELECT id FROM messages WHERE account_id = ?)`, id)
	add(`DELETE FROM message_raw WHERE message_id IN (SELECT id FROM messages WHERE account_id = '' AND lower(destination) IN `+addrs+`)`, addrArgs...)
	add(`DELETE FROM messages WHERE account_id = ?`, id)
	add(`DELETE FROM messages WHERE account_id = '' AND lower(destination) IN `+addrs, addrArgs...)
	add(`DELETE FROM answers WHERE account_id = ?`, id)
	add(`DELETE FROM challenges WHERE account_id = ?`, id)
	add(`DELETE FROM challenges WHERE account_id = '' AND lower(destination) IN `+addrs, addrArgs...)
	add(`DELETE FROM signin_attempts WHERE account_id = ?`, id)
	add(`DELETE FROM signin_attempts WHERE account_id = '' AND lower(identifier) IN `+addrs, addrArgs...)
	add(`DELETE FROM webauthn_ceremonies WHERE account_id = ?`, id)
	add(`DELETE FROM signups WHERE email_key = ?`, t.EmailKey)
	add(`DELETE FROM send_blocks WHERE destination IN `+addrs, addrArgs...)
	add(`DELETE FROM guess_counters WHERE account_id = ?`, id)
	add(`DELETE FROM guess_counters WHERE subject IN `+subjects, subjectArgs...)
	add(`DELETE FROM limit_seen WHERE subject IN `+seen, seenArgs...)
	add(`DELETE FROM limit_refusals WHERE subject IN `+subjects, subjectArgs...)
	add(`DELETE FROM limit_sends WHERE lower(destination) IN `+addrs, addrArgs...)
	add(`DELETE FROM sessions WHERE account_id = ?`, id)
	// A browser other accounts use (or have a session on) stays theirs.
	add(`DELETE FROM devices
		WHERE id IN (SELECT device_id FROM account_devices WHERE account_id = ?)
			AND NOT EXISTS (SELECT 1 FROM account_devices o WHERE o.device_id = devices.id AND o.account_id <> ?)
			AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.device_id = devices.id AND s.account_id <> ?)`, id, id, id)
	// The applications it signed in to: their tokens, grants, sessions and
	// requests (its sessions' end revoked the tokens already).
	add(`DELETE FROM oidc_refresh_tokens WHERE family_id IN (SELECT id FROM oidc_token_families WHERE account_id = ?)`, id)
	for _, table := range []string{"oidc_access_tokens", "oidc_token_families", "oidc_grants", "oidc_sessions", "oidc_auth_requests"} {
		add(`DELETE FROM `+table+` WHERE account_id = ?`, id)
	}
	for _, table := range []string{"deliveries", "account_devices", "totp_steps", "totp_apps", "backup_codes", "passkeys", "reports", "password_history",
		"operators", "audit_log", "two_step_resets"} {
		add(`DELETE FROM `+table+` WHERE account_id = ?`, id)
	}
	// What it did as an operator stays in the audit trail, not who did it.
	add(`UPDATE audit_log SET operator_id = '', operator_email = '`+operator.ErasedOperator+`' WHERE operator_id = ?`, id)
	add(`UPDATE reports SET handled_by = '`+operator.ErasedOperator+`' WHERE handled_by = ?`, a.Email)
	err := db.tx(ctx, func(tx *sql.Tx) error {
		for _, s := range stmts {
			if _, err := tx.ExecContext(ctx, s.q, s.args...); err != nil {
				return fmt.Errorf("%s: %w", strings.Fields(s.q)[2], err)
			}
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM accounts WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return account.ErrNotFound
		}
		// The session change log (migration 0025) must not keep the
		// account's id either: its rows go, and one that names no account
		// — forget every cached session — takes their place (see Watch).
		if _, err := tx.ExecContext(ctx, `DELETE FROM session_changes WHERE account_id = ?`, id); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO session_changes (account_id) VALUES ('')`)
		return err
	})
	if errors.Is(err, account.ErrNotFound) {
		return err
	}
	if err != nil {
		return fmt.Errorf("sqlite: erase account: %w", err)
	}
	return nil
}

// in is an SQL list of len(values) placeholders, and its arguments.
func in(values []string) (string, []any) {
	args := make([]any, len(values))
	for i, v := range values {
		args[i] = v
	}
	return "(" + strings.TrimSuffix(strings.Repeat("?, ", len(values)), ", ") + ")", args
}
