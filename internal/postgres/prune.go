package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"gatehouse/internal/retention"
)

var _ retention.Store = (*DB)(nil)

// pruneLock is the advisory lock a node holds while it prunes, so that
// only one node of an installation prunes at a time.
const pruneLock = 0x6761746570 // "gatep"

// LockPruning implements retention.Store with pg_try_advisory_lock. The
// lock is a session lock, taken on a connection of its own outside the
// pool: the pass's deletes never wait for it, and closing the connection is
// what releases the lock, so a lock cannot outlive its holder, even if the
// unlock is lost.
func (db *DB) LockPruning(ctx context.Context) (func(), bool, error) {
	conn, err := pgx.ConnectConfig(ctx, db.pool.Config().ConnConfig.Copy())
	if err != nil {
		return nil, false, fmt.Errorf("postgres: lock pruning: %w", err)
	}
	var ok bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, pruneLock).Scan(&ok); err != nil || !ok {
		conn.Close(context.Background())
		if err != nil {
			return nil, false, fmt.Errorf("postgres: lock pruning: %w", err)
		}
		return nil, false, nil
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		// Unlocked before the connection closes: closing alone frees the
		// lock only once the server's backend has exited, which happens
		// after Close returns — a pass that starts at once on another node
		// (or the next test round) would find it still held.
		conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, pruneLock)
		conn.Close(ctx)
	}, true, nil
}

// prune deletes at most limit rows of table matching cond (whose only
// parameter is $1), through the primary key. Its errors name the table;
// the Prune methods return them as they are.
func (db *DB) prune(ctx context.Context, table, cond string, t time.Time, limit int) (int, error) {
	tag, err := db.pool.Exec(ctx, `
		DELETE FROM `+table+`
		WHERE id IN (SELECT id FROM `+table+` WHERE `+cond+` LIMIT $2)`, ts(t), limit)
	if err != nil {
		return 0, fmt.Errorf("postgres: prune %s: %w", table, err)
	}
	return int(tag.RowsAffected()), nil
}

// PruneChallenges implements retention.Store.
func (db *DB) PruneChallenges(ctx context.Context, t time.Time, limit int) (int, error) {
	return db.prune(ctx, "challenges", `expires_at < $1 OR consumed_at < $1`, t, limit)
}

// PruneAuthRequests implements retention.Store. An exchanged request
// expires long after its replay window (oidc.ReplayWindow).
func (db *DB) PruneAuthRequests(ctx context.Context, t time.Time, limit int) (int, error) {
	return db.prune(ctx, "oidc_auth_requests", `expires_at < $1`, t, limit)
}

// PruneAccessTokens implements retention.Store.
func (db *DB) PruneAccessTokens(ctx context.Context, t time.Time, limit int) (int, error) {
	return db.prune(ctx, "oidc_access_tokens", `expires_at < $1`, t, limit)
}

// PruneTokenFamilies implements retention.Store; their refresh tokens go
// with them (ON DELETE CASCADE).
func (db *DB) PruneTokenFamilies(ctx context.Context, t time.Time, limit int) (int, error) {
	return db.prune(ctx, "oidc_token_families", `expires_at < $1 OR revoked_at < $1`, t, limit)
}

// PruneAppEnrolments implements retention.Store.
func (db *DB) PruneAppEnrolments(ctx context.Context, t time.Time, limit int) (int, error) {
	return db.prune(ctx, "totp_apps", `confirmed_at IS NULL AND created_at < $1`, t, limit)
}

// PrunePasskeyCeremonies implements retention.Store. A finished ceremony
// is deleted as it is finished; these are the ones never finished.
func (db *DB) PrunePasskeyCeremonies(ctx context.Context, t time.Time, limit int) (int, error) {
	return db.prune(ctx, "webauthn_ceremonies", `expires_at < $1`, t, limit)
}

// PruneSignups implements retention.Store.
func (db *DB) PruneSignups(ctx context.Context, t time.Time, limit int) (int, error) {
	return db.prune(ctx, "signups", `created_at < $1 AND id NOT IN (SELECT id FROM challenges WHERE expires_at >= $1 AND consumed_at IS NULL)`, t, limit)
}

// PruneWithheldMessages implements retention.Store.
func (db *DB) PruneWithheldMessages(ctx context.Context, t time.Time, limit int) (int, error) {
	return db.prune(ctx, "messages", `status = 'withheld' AND created_at < $1`, t, limit)
}

// PruneMessages implements retention.Store.
func (db *DB) PruneMessages(ctx context.Context, t time.Time, limit int) (int, error) {
	return db.prune(ctx, "messages", `status IN ('sent', 'failed', 'withheld') AND created_at < $1`, t, limit)
}

// PruneAttempts implements retention.Store.
func (db *DB) PruneAttempts(ctx context.Context, t time.Time, limit int) (int, error) {
	return db.prune(ctx, "signin_attempts", `created_at < $1`, t, limit)
}

// PruneSessions implements retention.Store.
func (db *DB) PruneSessions(ctx context.Context, t time.Time, limit int) (int, error) {
	return db.prune(ctx, "sessions", `revoked_at < $1 OR absolute_expires_at < $1 OR last_seen_at + idle_timeout_us * interval '1 microsecond' < $1`, t, limit)
}

// PruneDevices implements retention.Store.
func (db *DB) PruneDevices(ctx context.Context, t time.Time, limit int) (int, error) {
	return db.prune(ctx, "devices", `last_seen < $1 AND NOT EXISTS (SELECT 1 FROM sessions WHERE sessions.device_id = devices.id)`, t, limit)
}

// pruneRows is prune for the limits' tables, which have no id column:
// through the row's physical address, ctid.
func (db *DB) pruneRows(ctx context.Context, table, cond string, t time.Time, limit int) (int, error) {
	tag, err := db.pool.Exec(ctx, `
		DELETE FROM `+table+`
		WHERE ctid IN (SELECT ctid FROM `+table+` WHERE `+cond+` LIMIT $2)`, t.UnixMicro(), limit)
	if err != nil {
		return 0, fmt.Errorf("postgres: prune %s: %w", table, err)
	}
	return int(tag.RowsAffected()), nil
}

// PruneLimitCounts implements retention.Store: window counts, subjects
// seen and sends, up to limit rows of each.
func (db *DB) PruneLimitCounts(ctx context.Context, t time.Time, limit int) (int, error) {
	total := 0
	for _, q := range []struct{ table, cond string }{
		{"limit_windows", `window_start < $1`}, {"limit_seen", `window_start < $1`}, {"limit_sends", `at < $1`},
	} {
		n, err := db.pruneRows(ctx, q.table, q.cond, t, limit)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// PruneGuessCounters implements retention.Store.
func (db *DB) PruneGuessCounters(ctx context.Context, t time.Time, limit int) (int, error) {
	return db.pruneRows(ctx, "guess_counters", `updated_at < $1 AND delayed_until < $1`, t, limit)
}

// PruneLimitRefusals implements retention.Store.
func (db *DB) PruneLimitRefusals(ctx context.Context, t time.Time, limit int) (int, error) {
	return db.pruneRows(ctx, "limit_refusals", `at < $1`, t, limit)
}
