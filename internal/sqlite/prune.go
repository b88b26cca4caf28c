package sqlite

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gatehouse/internal/retention"
)

var _ retention.Store = (*DB)(nil)

// LockPruning implements retention.Store. One SQLite database has one
// Gatehouse process, so the lock is this DB's; deleting is idempotent, so
// even two processes on one file would only do some work twice.
func (db *DB) LockPruning(context.Context) (func(), bool, error) {
	if !db.pruning.TryLock() {
		return nil, false, nil
	}
	return db.pruning.Unlock, true, nil
}

// prune deletes at most limit rows of table matching cond. The rows are
// found on the read pool, which in WAL mode never holds up the writer, and
// deleted by rowid on the writer with cond checked again, so the single
// writer is held only for the deletion of one batch, whatever it took to
// find it. Its errors name the table; the Prune methods return them as
// they are.
func (db *DB) prune(ctx context.Context, table, cond string, limit int, args ...any) (int, error) {
	n, err := db.pruneBatch(ctx, table, cond, limit, args...)
	if err != nil {
		return 0, fmt.Errorf("sqlite: prune %s: %w", table, err)
	}
	return n, nil
}

func (db *DB) pruneBatch(ctx context.Context, table, cond string, limit int, args ...any) (int, error) {
	rows, err := db.read.QueryContext(ctx, `
		SELECT rowid FROM `+table+`
		WHERE `+cond+`
		LIMIT ?`, append(args, limit)...)
	if err != nil {
		return 0, err
	}
	var ids []any
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
		ids = append(ids, id)
	}
	if err := rows.Close(); err != nil {
		return 0, err
	}
	if err := rows.Err(); err != nil || len(ids) == 0 {
		return 0, err
	}
	marks := strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",")
	res, err := db.write.ExecContext(ctx, `
		DELETE FROM `+table+`
		WHERE rowid IN (`+marks+`) AND (`+cond+`)`, append(ids, args...)...)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// PruneChallenges implements retention.Store.
func (db *DB) PruneChallenges(ctx context.Context, t time.Time, limit int) (int, error) {
	return db.prune(ctx, "challenges", `expires_at < ? OR consumed_at < ?`, limit, us(t), us(t))
}

// PruneAuthRequests implements retention.Store. An exchanged request
// expires long after its replay window (oidc.ReplayWindow).
func (db *DB) PruneAuthRequests(ctx context.Context, t time.Time, limit int) (int, error) {
	return db.prune(ctx, "oidc_auth_requests", `expires_at < ?`, limit, us(t))
}

// PruneAccessTokens implements retention.Store.
func (db *DB) PruneAccessTokens(ctx context.Context, t time.Time, limit int) (int, error) {
	return db.prune(ctx, "oidc_access_tokens", `expires_at < ?`, limit, us(t))
}

// PruneTokenFamilies implements retention.Store; their refresh tokens go
// with them (ON DELETE CASCADE).
func (db *DB) PruneTokenFamilies(ctx context.Context, t time.Time, limit int) (int, error) {
	return db.prune(ctx, "oidc_token_families", `expires_at < ? OR revoked_at < ?`, limit, us(t), us(t))
}

// PrunePasskeyCeremonies implements retention.Store. A finished ceremony
// is deleted as it is finished; these are the ones never finished.
func (db *DB) PrunePasskeyCeremonies(ctx context.Context, t time.Time, limit int) (int, error) {
	return db.prune(ctx, "webauthn_ceremonies", `expires_at < ?`, limit, us(t))
}

// PruneAppEnrolments implements retention.Store.
func (db *DB) PruneAppEnrolments(ctx context.Context, t time.Time, limit int) (int, error) {
	return db.prune(ctx, "totp_apps", `confirmed_at IS NULL AND created_at < ?`, limit, us(t))
}

// PruneSignups implements retention.Store.
func (db *DB) PruneSignups(ctx context.Context, t time.Time, limit int) (int, error) {
	return db.prune(ctx, "signups", `created_at < ? AND id NOT IN (SELECT id FROM challenges WHERE expires_at >= ? AND consumed_at IS NULL)`, limit, us(t), us(t))
}

// PruneWithheldMessages implements retention.Store.
func (db *DB) PruneWithheldMessages(ctx context.Context, t time.Time, limit int) (int, error) {
	return db.prune(ctx, "messages", `status = 'withheld' AND created_at < ?`, limit, us(t))
}

// PruneMessages implements retention.Store.
func (db *DB) PruneMessages(ctx context.Context, t time.Time, limit int) (int, error) {
	return db.prune(ctx, "messages", `status IN ('sent', 'failed', 'withheld') AND created_at < ?`, limit, us(t))
}

// PruneAttempts implements retention.Store.
func (db *DB) PruneAttempts(ctx context.Context, t time.Time, limit int) (int, error) {
	return db.prune(ctx, "signin_attempts", `created_at < ?`, limit, us(t))
}

// PruneSessions implements retention.Store. Times are microseconds, as is
// idle_timeout_us, so the idle end is a plain sum.
func (db *DB) PruneSessions(ctx context.Context, t time.Time, limit int) (int, error) {
	return db.prune(ctx, "sessions", `revoked_at < ? OR absolute_expires_at < ? OR last_seen_at + idle_timeout_us < ?`, limit, us(t), us(t), us(t))
}

// PruneDevices implements retention.Store.
func (db *DB) PruneDevices(ctx context.Context, t time.Time, limit int) (int, error) {
	return db.prune(ctx, "devices", `last_seen < ? AND NOT EXISTS (SELECT 1 FROM sessions WHERE sessions.device_id = devices.id)`, limit, us(t))
}

// PruneLimitCounts implements retention.Store: window counts, subjects
// seen and sends, up to limit rows of each.
func (db *DB) PruneLimitCounts(ctx context.Context, t time.Time, limit int) (int, error) {
	total := 0
	for _, q := range []struct{ table, cond string }{
		{"limit_windows", `window_start < ?`}, {"limit_seen", `window_start < ?`}, {"limit_sends", `at < ?`},
	} {
		n, err := db.prune(ctx, q.table, q.cond, limit, t.UnixMicro())
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// PruneGuessCounters implements retention.Store.
func (db *DB) PruneGuessCounters(ctx context.Context, t time.Time, limit int) (int, error) {
	return db.prune(ctx, "guess_counters", `updated_at < ? AND delayed_until < ?`, limit, t.UnixMicro(), t.UnixMicro())
}

// PruneLimitRefusals implements retention.Store.
func (db *DB) PruneLimitRefusals(ctx context.Context, t time.Time, limit int) (int, error) {
	return db.prune(ctx, "limit_refusals", `at < ?`, limit, t.UnixMicro())
}
