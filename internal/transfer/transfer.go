// Package transfer copies a whole embedded (SQLite) installation into
// PostgreSQL, for an installation that outgrows one machine.
//
// Rows are copied table by table in primary-key order, in batches, with
// INSERT … ON CONFLICT DO NOTHING, so running the copy again adds nothing
// twice and an interrupted copy can simply be run again. At the end the
// row counts of both databases are compared.
package transfer

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// kind says how a column's SQLite value becomes a PostgreSQL value.
type kind int

const (
	plain     kind = iota
	timestamp      // INTEGER microseconds → TIMESTAMPTZ (NULL stays NULL)
	boolean        // INTEGER 0/1 → BOOLEAN
)

type table struct {
	name    string
	key     string // conflict target; "" means compare whole rows
	order   string
	columns []string
	kinds   map[string]kind
}

// tables lists what is copied, parents before children.
var tables = []table{
	{name: "installation", key: "key", order: "key", columns: []string{"key", "value"}},
	{name: "accounts", key: "id", order: "id",
		columns: []string{"id", "email", "email_key", "phone", "password_hash", "language", "time_zone", "status", "created_at", "confirmed_at", "password_changed_at", "phone_confirmed_at",
			"password_compromised_at", "alert_email", "alert_sms", "changes"},
		kinds: map[string]kind{"created_at": timestamp, "confirmed_at": timestamp, "password_changed_at": timestamp, "phone_confirmed_at": timestamp,
			"password_compromised_at": timestamp, "alert_email": boolean, "alert_sms": boolean}},
	{name: "password_history", order: "rowid",
		columns: []string{"account_id", "password_hash", "replaced_at"},
		kinds:   map[string]kind{"replaced_at": timestamp}},
	{name: "challenges", key: "id", order: "id",
		columns: []string{"id", "purpose", "cause", "attempt_id", "account_id", "channel", "destination", "device_id", "ip", "user_agent",
			"code_hash", "failures", "sends", "created_at", "sent_at", "expires_at", "consumed_at", "stopped_at", "app_id", "app_name"},
		kinds: map[string]kind{"created_at": timestamp, "sent_at": timestamp, "expires_at": timestamp, "consumed_at": timestamp, "stopped_at": timestamp}},
	{name: "signups", key: "id", order: "id",
		columns: []string{"id", "email", "email_key", "phone", "password_hash", "language", "device_id", "created_at"},
		kinds:   map[string]kind{"created_at": timestamp}},
	{name: "devices", key: "id", order: "id",
		columns: []string{"id", "token_hash", "first_seen", "last_seen", "ip", "user_agent", "browser", "os", "previous_token_hash"},
		kinds:   map[string]kind{"first_seen": timestamp, "last_seen": timestamp}},
	{name: "sessions", key: "id", order: "id",
		columns: []string{"id", "token_hash", "account_id", "device_id", "created_at", "last_seen_at", "authenticated_at", "idle_timeout_us", "absolute_expires_at", "remember", "ip", "revoked_at", "amr"},
		kinds:   map[string]kind{"created_at": timestamp, "last_seen_at": timestamp, "authenticated_at": timestamp, "absolute_expires_at": timestamp, "revoked_at": timestamp, "remember": boolean}},
	{name: "signin_attempts", key: "id", order: "id",
		columns: []string{"id", "identifier", "account_id", "device_id", "session_id", "ip", "user_agent", "created_at", "outcome", "kind",
			"method_offered", "method_used", "remember", "ended_at", "cause", "app_id", "app_name"},
		kinds: map[string]kind{"created_at": timestamp, "ended_at": timestamp, "remember": boolean}},
	{name: "totp_apps", key: "id", order: "id",
		columns: []string{"id", "account_id", "name", "secret", "created_at", "confirmed_at", "last_used_at"},
		kinds:   map[string]kind{"created_at": timestamp, "confirmed_at": timestamp, "last_used_at": timestamp}},
	{name: "totp_steps", key: "account_id", order: "account_id", columns: []string{"account_id", "last_step"}},
	{name: "backup_codes", key: "account_id, code_hash", order: "account_id, code_hash",
		columns: []string{"account_id", "code_hash", "created_at", "used_at"},
		kinds:   map[string]kind{"created_at": timestamp, "used_at": timestamp}},
	{name: "account_devices", key: "account_id, device_id", order: "account_id, device_id",
		columns: []string{"account_id", "device_id", "first_used_at", "last_used_at", "trusted_until", "name"},
		kinds:   map[string]kind{"first_used_at": timestamp, "last_used_at": timestamp, "trusted_until": timestamp}},
	{name: "passkeys", key: "id", order: "id",
		columns: []string{"id", "account_id", "name", "credential_id", "data", "sign_count", "flagged", "created_at", "last_used_at"},
		kinds:   map[string]kind{"flagged": boolean, "created_at": timestamp, "last_used_at": timestamp}},
	{name: "webauthn_ceremonies", key: "id", order: "id",
		columns: []string{"id", "account_id", "kind", "data", "created_at", "expires_at"},
		kinds:   map[string]kind{"created_at": timestamp, "expires_at": timestamp}},
	{name: "answers", key: "id", order: "id",
		columns: []string{"id", "account_id", "message_id", "reference", "challenge_id", "attempt_id", "cause", "answer", "actions",
			"created_at", "device_id", "ip", "user_agent"},
		kinds: map[string]kind{"created_at": timestamp}},
	{name: "send_blocks", order: "rowid",
		columns: []string{"destination", "device_id", "ip", "created_at", "until"},
		kinds:   map[string]kind{"created_at": timestamp, "until": timestamp}},
	// The limits' counts are microseconds in both databases: copied as
	// they are, so a migration does not hand an attacker a fresh budget.
	{name: "guess_counters", key: "secret, subject, scope", order: "secret, subject, scope",
		columns: []string{"secret", "subject", "scope", "account_id", "consecutive", "delayed_until", "window_start", "window_count", "updated_at"}},
	{name: "limit_windows", key: "key, window_start", order: "key, window_start", columns: []string{"key", "window_start", "count"}},
	{name: "limit_seen", key: "key, window_start, subject", order: "key, window_start, subject", columns: []string{"key", "window_start", "subject"}},
	{name: "limit_sends", order: "rowid", columns: []string{"destination", "at"}},
	{name: "limit_refusals", order: "rowid", columns: []string{"at", "rule", "subject", "device_id", "ip", "user_agent", "retry_at"}},
	{name: "messages", key: "id", order: "id",
		columns: []string{"id", "reference", "account_id", "purpose", "cause", "challenge_id", "channel", "destination", "language", "subject", "body_text", "body_html", "created_at", "sent_at", "status", "attempts", "next_attempt_at", "lease_until", "last_error", "handed_off_at", "secret", "app_name"},
		kinds:   map[string]kind{"created_at": timestamp, "sent_at": timestamp, "next_attempt_at": timestamp, "lease_until": timestamp, "handed_off_at": timestamp}},
	{name: "message_raw", key: "message_id", order: "message_id", columns: []string{"message_id", "raw"}},
	{name: "oidc_signing_keys", key: "kid", order: "kid",
		columns: []string{"kid", "alg", "public_jwk", "private_sealed", "created_at", "active_from", "retire_after"},
		kinds:   map[string]kind{"created_at": timestamp, "active_from": timestamp, "retire_after": timestamp}},
	{name: "oidc_clients", key: "id", order: "id",
		columns: []string{"id", "name", "secret_hash", "first_party", "backchannel_logout_uri", "created_at", "removed_at"},
		kinds:   map[string]kind{"first_party": boolean, "created_at": timestamp, "removed_at": timestamp}},
	{name: "oidc_client_uris", key: "client_id, kind, uri", order: "client_id, kind, uri", columns: []string{"client_id", "kind", "uri"}},
	{name: "oidc_auth_requests", key: "id", order: "id",
		columns: []string{"id", "client_id", "device_id", "request", "created_at", "expires_at", "account_id", "result", "done_at", "denied_at",
			"code_hash", "code_expires_at", "exchanged_at"},
		kinds: map[string]kind{"created_at": timestamp, "expires_at": timestamp, "done_at": timestamp, "denied_at": timestamp,
			"code_expires_at": timestamp, "exchanged_at": timestamp}},
	{name: "oidc_token_families", key: "id", order: "id",
		columns: []string{"id", "client_id", "account_id", "session_id", "scopes", "amr", "acr", "auth_time", "created_at", "expires_at",
			"last_used_at", "last_device_id", "revoked_at", "revoke_reason"},
		kinds: map[string]kind{"auth_time": timestamp, "created_at": timestamp, "expires_at": timestamp, "last_used_at": timestamp, "revoked_at": timestamp}},
	{name: "oidc_refresh_tokens", key: "token_hash", order: "token_hash",
		columns: []string{"token_hash", "family_id", "created_at", "expires_at", "rotated_at"},
		kinds:   map[string]kind{"created_at": timestamp, "expires_at": timestamp, "rotated_at": timestamp}},
	{name: "oidc_access_tokens", key: "id", order: "id",
		columns: []string{"id", "client_id", "account_id", "auth_request_id", "family_id", "scopes", "created_at", "expires_at", "revoked_at"},
		kinds:   map[string]kind{"created_at": timestamp, "expires_at": timestamp, "revoked_at": timestamp}},
	{name: "oidc_grants", key: "account_id, client_id", order: "account_id, client_id",
		columns: []string{"account_id", "client_id", "scopes", "created_at", "last_used_at", "last_device_id", "revoked_at"},
		kinds:   map[string]kind{"created_at": timestamp, "last_used_at": timestamp, "revoked_at": timestamp}},
	{name: "oidc_sessions", key: "sid", order: "sid",
		columns: []string{"sid", "session_id", "client_id", "account_id", "created_at", "logged_out_at"},
		kinds:   map[string]kind{"created_at": timestamp, "logged_out_at": timestamp}},
	{name: "reports", key: "id", order: "id",
		columns: []string{"id", "account_id", "created_at", "kind", "verdict", "reasons", "reference", "content", "ip", "lookalikes", "review", "handled_at", "handled_by"},
		kinds:   map[string]kind{"created_at": timestamp, "handled_at": timestamp}},
	{name: "deliveries", key: "id", order: "id",
		columns: []string{"id", "kind", "target", "receiver_id", "account_id", "payload", "status", "attempts", "next_at", "lease_until", "last_error", "created_at", "sent_at"},
		kinds:   map[string]kind{"next_at": timestamp, "lease_until": timestamp, "created_at": timestamp, "sent_at": timestamp}},
	{name: "api_keys", key: "id", order: "id",
		columns: []string{"id", "name", "key_hash", "scopes", "created_at", "last_used_at", "revoked_at"},
		kinds:   map[string]kind{"created_at": timestamp, "last_used_at": timestamp, "revoked_at": timestamp}},
	{name: "operators", key: "account_id", order: "account_id",
		columns: []string{"account_id", "role", "added_at"},
		kinds:   map[string]kind{"added_at": timestamp}},
	{name: "two_step_resets", key: "account_id", order: "account_id",
		columns: []string{"account_id", "reset_at"},
		kinds:   map[string]kind{"reset_at": timestamp}},
	{name: "audit_log", key: "id", order: "id",
		columns: []string{"id", "at", "operator_id", "operator_email", "action", "account_id", "reason", "ip", "device", "detail"},
		kinds:   map[string]kind{"at": timestamp}},
}

// Progress is told how far the copy of a table has come.
type Progress func(table string, done, total int)

// Count is one table's row counts after the copy.
type Count struct {
	Table       string
	Source, Dst int
}

// ErrMismatch is returned when the row counts differ after the copy.
var ErrMismatch = errors.New("transfer: row counts differ")

const batch = 500

// Copy copies every table from src (a migrated SQLite database) to dst (a
// migrated PostgreSQL database) and verifies the row counts.
func Copy(ctx context.Context, src *sql.DB, dst *pgxpool.Pool, progress Progress) ([]Count, error) {
	if err := sameKeys(ctx, src, dst); err != nil {
		return nil, err
	}
	for _, t := range tables {
		if err := copyTable(ctx, src, dst, t, progress); err != nil {
			return nil, fmt.Errorf("copy %s: %w", t.name, err)
		}
	}
	var counts []Count
	var bad []string
	for _, t := range tables {
		c := Count{Table: t.name}
		if err := src.QueryRowContext(ctx, "SELECT count(*) FROM "+t.name).Scan(&c.Source); err != nil {
			return nil, err
		}
		if err := dst.QueryRow(ctx, "SELECT count(*) FROM "+t.name).Scan(&c.Dst); err != nil {
			return nil, err
		}
		counts = append(counts, c)
		if c.Source != c.Dst {
			bad = append(bad, fmt.Sprintf("%s: %d in SQLite, %d in PostgreSQL", t.name, c.Source, c.Dst))
		}
	}
	if len(bad) > 0 {
		return counts, fmt.Errorf("%w: %s", ErrMismatch, strings.Join(bad, "; "))
	}
	return counts, nil
}

// sameKeys refuses to merge two installations made with different secrets:
// the target's sessions and passwords could then never all be verified.
func sameKeys(ctx context.Context, src *sql.DB, dst *pgxpool.Pool) error {
	var a, b string
	src.QueryRowContext(ctx, `SELECT value FROM installation WHERE key = 'key_fingerprint'`).Scan(&a)
	err := dst.QueryRow(ctx, `SELECT value FROM installation WHERE key = 'key_fingerprint'`).Scan(&b)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return err
	}
	if a != "" && b != "" && a != b {
		return fmt.Errorf("transfer: the PostgreSQL database belongs to an installation with other secrets (key fingerprint %s, SQLite has %s)", b, a)
	}
	return nil
}

func copyTable(ctx context.Context, src *sql.DB, dst *pgxpool.Pool, t table, progress Progress) error {
	var total int
	if err := src.QueryRowContext(ctx, "SELECT count(*) FROM "+t.name).Scan(&total); err != nil {
		return err
	}
	if progress != nil {
		progress(t.name, 0, total)
	}
	rows, err := src.QueryContext(ctx, "SELECT "+strings.Join(t.columns, ", ")+" FROM "+t.name+" ORDER BY "+t.order)
	if err != nil {
		return err
	}
	defer rows.Close()
	insert := insertSQL(t)
	done := 0
	b := &pgx.Batch{}
	flush := func() error {
		if b.Len() == 0 {
			return nil
		}
		err := dst.SendBatch(ctx, b).Close()
		b = &pgx.Batch{}
		return err
	}
	for rows.Next() {
		vals := make([]any, len(t.columns))
		ptrs := make([]any, len(t.columns))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		for i, c := range t.columns {
			vals[i] = convert(t.kinds[c], vals[i])
		}
		b.Queue(insert, vals...)
		done++
		if b.Len() == batch {
			if err := flush(); err != nil {
				return err
			}
			if progress != nil {
				progress(t.name, done, total)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if err := flush(); err != nil {
		return err
	}
	if progress != nil {
		progress(t.name, done, total)
	}
	return nil
}

func insertSQL(t table) string {
	ph := make([]string, len(t.columns))
	for i := range ph {
		ph[i] = fmt.Sprintf("$%d", i+1)
	}
	cols := strings.Join(t.columns, ", ")
	if t.key != "" {
		return fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s) ON CONFLICT (%s) DO NOTHING", t.name, cols, strings.Join(ph, ", "), t.key)
	}
	// No natural key (password history): insert only a row not already there.
	conds := make([]string, len(t.columns))
	for i, c := range t.columns {
		conds[i] = fmt.Sprintf("%s IS NOT DISTINCT FROM $%d", c, i+1)
	}
	typed := make([]string, len(t.columns))
	for i := range t.columns {
		typed[i] = fmt.Sprintf("$%d", i+1)
	}
	return fmt.Sprintf("INSERT INTO %s (%s) SELECT %s WHERE NOT EXISTS (SELECT 1 FROM %s WHERE %s)",
		t.name, cols, strings.Join(typed, ", "), t.name, strings.Join(conds, " AND "))
}

func convert(k kind, v any) any {
	switch k {
	case timestamp:
		if n, ok := v.(int64); ok {
			return time.UnixMicro(n).UTC()
		}
		return nil
	case boolean:
		n, _ := v.(int64)
		return n != 0
	}
	return v
}
