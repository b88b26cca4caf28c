package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"gatehouse/internal/limit"
)

var _ limit.Store = (*DB)(nil)

// TakeGuess implements limit.Store: one upsert, whose WHERE refuses while
// the delay runs or the window's budget is used up. PostgreSQL locks the
// row for the update and evaluates the WHERE on its latest version, so
// guesses arriving together on any node are counted one by one.
func (db *DB) TakeGuess(ctx context.Context, k limit.GuessKey, accountID string, r limit.GuessRule, now time.Time) (limit.GuessCount, bool, error) {
	t := now.UnixMicro()
	var c limit.GuessCount
	var until, start int64
	err := db.conn(ctx).QueryRow(ctx, `
		INSERT INTO guess_counters AS g (secret, subject, scope, account_id, consecutive, delayed_until, window_start, window_count, updated_at)
		VALUES ($1, $2, $3, $4, 1, CASE WHEN $6::int < 1 THEN $5::bigint + $7::bigint ELSE 0 END, $5, 1, $5)
		ON CONFLICT (secret, subject, scope) DO UPDATE SET
			consecutive = g.consecutive + 1,
			delayed_until = CASE WHEN g.consecutive + 1 > $6::int
				THEN $5::bigint + LEAST($8::bigint, $7::bigint << LEAST(g.consecutive - $6::int, 40)) ELSE g.delayed_until END,
			window_start = CASE WHEN g.window_start + $9::bigint <= $5::bigint THEN $5::bigint ELSE g.window_start END,
			window_count = CASE WHEN g.window_start + $9::bigint <= $5::bigint THEN 1 ELSE g.window_count + 1 END,
			account_id = $4,
			updated_at = $5
		WHERE g.delayed_until <= $5::bigint AND (g.window_start + $9::bigint <= $5::bigint OR g.window_count < $10::int)
		RETURNING consecutive, delayed_until, window_start, window_count`,
		string(k.Secret), k.Subject, k.Scope, accountID, t, r.Free, r.FirstDelay, r.MaxDelay, r.Window, r.WindowLimit).
		Scan(&c.Consecutive, &until, &start, &c.WindowCount)
	if errors.Is(err, pgx.ErrNoRows) {
		err = db.conn(ctx).QueryRow(ctx, `
			SELECT consecutive, delayed_until, window_start, window_count FROM guess_counters
			WHERE secret = $1 AND subject = $2 AND scope = $3`, string(k.Secret), k.Subject, k.Scope).
			Scan(&c.Consecutive, &until, &start, &c.WindowCount)
		if err != nil {
			return c, false, fmt.Errorf("postgres: read guesses: %w", err)
		}
		c.DelayedUntil, c.WindowStart = time.UnixMicro(until).UTC(), time.UnixMicro(start).UTC()
		return c, false, nil
	}
	if err != nil {
		return c, false, fmt.Errorf("postgres: count guess: %w", err)
	}
	c.DelayedUntil, c.WindowStart = time.UnixMicro(until).UTC(), time.UnixMicro(start).UTC()
	return c, true, nil
}

// Guesses implements limit.Store.
func (db *DB) Guesses(ctx context.Context, k limit.GuessKey) (limit.GuessCount, error) {
	var c limit.GuessCount
	var until, start int64
	err := db.conn(ctx).QueryRow(ctx, `
		SELECT consecutive, delayed_until, window_start, window_count FROM guess_counters
		WHERE secret = $1 AND subject = $2 AND scope = $3`, string(k.Secret), k.Subject, k.Scope).Scan(&c.Consecutive, &until, &start, &c.WindowCount)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("postgres: read guesses: %w", err)
	}
	c.DelayedUntil, c.WindowStart = time.UnixMicro(until).UTC(), time.UnixMicro(start).UTC()
	return c, nil
}

// ClearGuesses implements limit.Store: a right answer ends the run, and
// is given back from the window's count — the budget counts wrong ones.
func (db *DB) ClearGuesses(ctx context.Context, k limit.GuessKey) error {
	_, err := db.conn(ctx).Exec(ctx, `
		UPDATE guess_counters SET consecutive = 0, delayed_until = 0, window_count = GREATEST(window_count - 1, 0)
		WHERE secret = $1 AND subject = $2 AND scope = $3 `,
		string(k.Secret), k.Subject, k.Scope)
	if err != nil {
		return fmt.Errorf("postgres: clear guesses: %w", err)
	}
	return nil
}

// ForgetGuesses implements limit.Store.
func (db *DB) ForgetGuesses(ctx context.Context, s limit.Secret, subject string) error {
	if _, err := db.conn(ctx).Exec(ctx, `DELETE FROM guess_counters WHERE secret = $1 AND subject = $2`, string(s), subject); err != nil {
		return fmt.Errorf("postgres: forget guesses: %w", err)
	}
	return nil
}

// AccountGuesses implements limit.Store.
func (db *DB) AccountGuesses(ctx context.Context, accountID string) (map[limit.Secret]int, error) {
	rows, err := db.conn(ctx).Query(ctx, `
		SELECT secret, max(consecutive) FROM guess_counters
		WHERE account_id = $1 AND consecutive > 0
		GROUP BY secret`, accountID)
	if err != nil {
		return nil, fmt.Errorf("postgres: read the account's guesses: %w", err)
	}
	defer rows.Close()
	out := map[limit.Secret]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return nil, fmt.Errorf("postgres: read the account's guesses: %w", err)
		}
		out[limit.Secret(s)] = n
	}
	return out, rows.Err()
}

// Counts implements limit.Store.
func (db *DB) Counts(ctx context.Context, keys []string, start time.Time) (map[string]int, error) {
	if len(keys) == 0 {
		return map[string]int{}, nil
	}
	return db.windowCounts(ctx, `
		SELECT key, count FROM limit_windows
		WHERE window_start = $1 AND key = ANY($2)`, start.UnixMicro(), keys)
}

// Hit implements limit.Store.
func (db *DB) Hit(ctx context.Context, keys []string, start time.Time) error {
	if len(keys) == 0 {
		return nil
	}
	_, err := db.conn(ctx).Exec(ctx, `
		INSERT INTO limit_windows AS w (key, window_start, count)
		SELECT k, $2, 1 FROM unnest($1::text[]) AS k
		ON CONFLICT (key, window_start) DO UPDATE SET count = w.count + 1`, keys, start.UnixMicro())
	if err != nil {
		return fmt.Errorf("postgres: count: %w", err)
	}
	return nil
}

// Seen implements limit.Store.
func (db *DB) Seen(ctx context.Context, key, subject string, start time.Time) (bool, error) {
	tag, err := db.conn(ctx).Exec(ctx, `
		INSERT INTO limit_seen (key, window_start, subject) VALUES ($1, $2, $3)
		ON CONFLICT DO NOTHING`, key, start.UnixMicro(), subject)
	if err != nil {
		return false, fmt.Errorf("postgres: record subject: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// TakeSend implements limit.Store. A transaction-scoped advisory lock on
// the destination makes count-then-insert one step across nodes: two sends
// to one address never both see room for one.
func (db *DB) TakeSend(ctx context.Context, destination string, now time.Time, window time.Duration, short, day int) (bool, time.Time, error) {
	t := now.UnixMicro()
	shortFrom, dayFrom := now.Add(-window).UnixMicro(), now.Add(-24*time.Hour).UnixMicro()
	ok := false
	retry := now.Add(time.Minute)
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('limit_sends:' || $1, 0))`, destination); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `
			INSERT INTO limit_sends (destination, at)
			SELECT $1, $2
			WHERE (SELECT count(*) FROM limit_sends WHERE destination = $1 AND at > $3) < $4
			  AND (SELECT count(*) FROM limit_sends WHERE destination = $1 AND at > $5) < $6`,
			destination, t, shortFrom, short, dayFrom, day)
		if err != nil {
			return err
		}
		if ok = tag.RowsAffected() == 1; ok {
			return nil
		}
		for _, w := range []struct {
			from  int64
			limit int
			span  time.Duration
		}{{dayFrom, day, 24 * time.Hour}, {shortFrom, short, window}} {
			var at int64
			err := tx.QueryRow(ctx, `
				SELECT at FROM limit_sends WHERE destination = $1 AND at > $2
				ORDER BY at DESC LIMIT 1 OFFSET $3`, destination, w.from, w.limit-1).Scan(&at)
			if errors.Is(err, pgx.ErrNoRows) {
				continue
			}
			if err != nil {
				return err
			}
			if r := time.UnixMicro(at).Add(w.span).UTC(); r.After(now) {
				retry = r
				break
			}
		}
		return nil
	})
	if err != nil {
		return false, time.Time{}, fmt.Errorf("postgres: count send: %w", err)
	}
	return ok, retry, nil
}

// RecordRefusal implements limit.Store.
func (db *DB) RecordRefusal(ctx context.Context, r limit.Refusal) error {
	at := r.Origin.Time
	if at.IsZero() {
		at = time.Now()
	}
	_, err := db.conn(ctx).Exec(ctx, `
		INSERT INTO limit_refusals (at, rule, subject, device_id, ip, user_agent, retry_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		at.UnixMicro(), string(r.Rule), r.Subject, r.Origin.DeviceID, r.Origin.IP, r.Origin.UserAgent, r.RetryAt.UnixMicro())
	if err != nil {
		return fmt.Errorf("postgres: record refusal: %w", err)
	}
	return nil
}

// Refusals implements limit.Store.
func (db *DB) Refusals(ctx context.Context, since time.Time, n int) ([]limit.Refusal, error) {
	rows, err := db.conn(ctx).Query(ctx, `
		SELECT at, rule, subject, device_id, ip, user_agent, retry_at FROM limit_refusals
		WHERE at >= $1 ORDER BY at DESC LIMIT $2`, since.UnixMicro(), n)
	if err != nil {
		return nil, fmt.Errorf("postgres: read refusals: %w", err)
	}
	defer rows.Close()
	var out []limit.Refusal
	for rows.Next() {
		var r limit.Refusal
		var at, retry int64
		if err := rows.Scan(&at, &r.Rule, &r.Subject, &r.Origin.DeviceID, &r.Origin.IP, &r.Origin.UserAgent, &retry); err != nil {
			return nil, fmt.Errorf("postgres: read refusals: %w", err)
		}
		r.Origin.Time, r.RetryAt = time.UnixMicro(at).UTC(), time.UnixMicro(retry).UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}

// WindowCounts implements limit.Store.
func (db *DB) WindowCounts(ctx context.Context, prefix string, start time.Time) (map[string]int, error) {
	return db.windowCounts(ctx, `
		SELECT key, count FROM limit_windows
		WHERE window_start = $1 AND starts_with(key, $2)`, start.UnixMicro(), prefix)
}

// windowCounts reads the (key, count) rows of a query on limit_windows.
func (db *DB) windowCounts(ctx context.Context, query string, args ...any) (map[string]int, error) {
	out := map[string]int{}
	rows, err := db.conn(ctx).Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: read limit counts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			return nil, fmt.Errorf("postgres: read limit counts: %w", err)
		}
		out[k] = n
	}
	return out, rows.Err()
}
