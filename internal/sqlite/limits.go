package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"gatehouse/internal/limit"
)

var _ limit.Store = (*DB)(nil)

// TakeGuess implements limit.Store: one upsert, whose WHERE refuses while
// the delay runs or the window's budget is used up. SET expressions read
// the row as it was, so consecutive+1 is the count this guess makes.
func (db *DB) TakeGuess(ctx context.Context, k limit.GuessKey, accountID string, r limit.GuessRule, now time.Time) (limit.GuessCount, bool, error) {
	t := now.UnixMicro()
	var c limit.GuessCount
	var until, start int64
	err := db.writeRow(ctx, `
		INSERT INTO guess_counters (secret, subject, scope, account_id, consecutive, delayed_until, window_start, window_count, updated_at)
		VALUES (?1, ?2, ?3, ?4, 1, CASE WHEN ?6 < 1 THEN ?5 + ?7 ELSE 0 END, ?5, 1, ?5)
		ON CONFLICT (secret, subject, scope) DO UPDATE SET
			consecutive = consecutive + 1,
			delayed_until = CASE WHEN consecutive + 1 > ?6
				THEN ?5 + min(?8, ?7 << min(consecutive - ?6, 40)) ELSE delayed_until END,
			window_start = CASE WHEN window_start + ?9 <= ?5 THEN ?5 ELSE window_start END,
			window_count = CASE WHEN window_start + ?9 <= ?5 THEN 1 ELSE window_count + 1 END,
			account_id = ?4,
			updated_at = ?5
		WHERE delayed_until <= ?5 AND (window_start + ?9 <= ?5 OR window_count < ?10)
		RETURNING consecutive, delayed_until, window_start, window_count`,
		string(k.Secret), k.Subject, k.Scope, accountID, t, r.Free, r.FirstDelay, r.MaxDelay, r.Window, r.WindowLimit).
		Scan(&c.Consecutive, &until, &start, &c.WindowCount)
	if errors.Is(err, sql.ErrNoRows) {
		err = db.writeRow(ctx, `
			SELECT consecutive, delayed_until, window_start, window_count FROM guess_counters
			WHERE secret = ? AND subject = ? AND scope = ?`, string(k.Secret), k.Subject, k.Scope).
			Scan(&c.Consecutive, &until, &start, &c.WindowCount)
		if err != nil {
			return c, false, fmt.Errorf("sqlite: read guesses: %w", err)
		}
		c.DelayedUntil, c.WindowStart = time.UnixMicro(until).UTC(), time.UnixMicro(start).UTC()
		return c, false, nil
	}
	if err != nil {
		return c, false, fmt.Errorf("sqlite: count guess: %w", err)
	}
	c.DelayedUntil, c.WindowStart = time.UnixMicro(until).UTC(), time.UnixMicro(start).UTC()
	return c, true, nil
}

// Guesses implements limit.Store.
func (db *DB) Guesses(ctx context.Context, k limit.GuessKey) (limit.GuessCount, error) {
	var c limit.GuessCount
	var until, start int64
	err := db.readRow(ctx, `
		SELECT consecutive, delayed_until, window_start, window_count FROM guess_counters
		WHERE secret = ? AND subject = ? AND scope = ?`, string(k.Secret), k.Subject, k.Scope).Scan(&c.Consecutive, &until, &start, &c.WindowCount)
	if errors.Is(err, sql.ErrNoRows) {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("sqlite: read guesses: %w", err)
	}
	c.DelayedUntil, c.WindowStart = time.UnixMicro(until).UTC(), time.UnixMicro(start).UTC()
	return c, nil
}

// ClearGuesses implements limit.Store: a right answer ends the run, and
// is given back from the window's count — the budget counts wrong ones.
func (db *DB) ClearGuesses(ctx context.Context, k limit.GuessKey) error {
	_, err := db.exec(ctx, `
		UPDATE guess_counters SET consecutive = 0, delayed_until = 0, window_count = max(window_count - 1, 0)
		WHERE secret = ? AND subject = ? AND scope = ? `,
		string(k.Secret), k.Subject, k.Scope)
	if err != nil {
		return fmt.Errorf("sqlite: clear guesses: %w", err)
	}
	return nil
}

// ForgetGuesses implements limit.Store.
func (db *DB) ForgetGuesses(ctx context.Context, s limit.Secret, subject string) error {
	if _, err := db.exec(ctx, `DELETE FROM guess_counters WHERE secret = ? AND subject = ?`, string(s), subject); err != nil {
		return fmt.Errorf("sqlite: forget guesses: %w", err)
	}
	return nil
}

// AccountGuesses implements limit.Store.
func (db *DB) AccountGuesses(ctx context.Context, accountID string) (map[limit.Secret]int, error) {
	rows, err := db.query(ctx, `
		SELECT secret, max(consecutive) FROM guess_counters
		WHERE account_id = ? AND consecutive > 0
		GROUP BY secret`, accountID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read the account's guesses: %w", err)
	}
	defer rows.Close()
	out := map[limit.Secret]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return nil, fmt.Errorf("sqlite: read the account's guesses: %w", err)
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
	args := []any{start.UnixMicro()}
	for _, k := range keys {
		args = append(args, k)
	}
	return db.windowCounts(ctx, `
		SELECT key, count FROM limit_windows
		WHERE window_start = ? AND key IN (?`+strings.Repeat(", ?", len(keys)-1)+`)`, args...)
}

// Hit implements limit.Store.
func (db *DB) Hit(ctx context.Context, keys []string, start time.Time) error {
	for _, k := range keys {
		_, err := db.exec(ctx, `
			INSERT INTO limit_windows (key, window_start, count) VALUES (?, ?, 1)
			ON CONFLICT (key, window_start) DO UPDATE SET count = count + 1`, k, start.UnixMicro())
		if err != nil {
			return fmt.Errorf("sqlite: count: %w", err)
		}
	}
	return nil
}

// Seen implements limit.Store.
func (db *DB) Seen(ctx context.Context, key, subject string, start time.Time) (bool, error) {
	res, err := db.exec(ctx, `
		INSERT INTO limit_seen (key, window_start, subject) VALUES (?, ?, ?)
		ON CONFLICT DO NOTHING`, key, start.UnixMicro(), subject)
	if err != nil {
		return false, fmt.Errorf("sqlite: record subject: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlite: record subject: %w", err)
	}
	return n == 1, nil
}

// TakeSend implements limit.Store. One INSERT … SELECT: the writer
// connection runs it alone, so the counts it reads are the ones it adds to.
func (db *DB) TakeSend(ctx context.Context, destination string, now time.Time, window time.Duration, short, day int) (bool, time.Time, error) {
	t := now.UnixMicro()
	shortFrom, dayFrom := now.Add(-window).UnixMicro(), now.Add(-24*time.Hour).UnixMicro()
	res, err := db.exec(ctx, `
		INSERT INTO limit_sends (destination, at)
		SELECT ?1, ?2
		WHERE (SELECT count(*) FROM limit_sends WHERE destination = ?1 AND at > ?3) < ?4
		  AND (SELECT count(*) FROM limit_sends WHERE destination = ?1 AND at > ?5) < ?6`,
		destination, t, shortFrom, short, dayFrom, day)
	if err != nil {
		return false, time.Time{}, fmt.Errorf("sqlite: count send: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return false, time.Time{}, fmt.Errorf("sqlite: count send: %w", err)
	} else if n == 1 {
		return true, time.Time{}, nil
	}
	// Refused: the next send is allowed once the oldest send that fills a
	// window leaves it.
	retry := now.Add(time.Minute)
	for _, w := range []struct {
		from  int64
		limit int
		span  time.Duration
	}{{dayFrom, day, 24 * time.Hour}, {shortFrom, short, window}} {
		var at sql.NullInt64
		err := db.writeRow(ctx, `
			SELECT at FROM limit_sends WHERE destination = ? AND at > ?
			ORDER BY at DESC LIMIT 1 OFFSET ?`, destination, w.from, w.limit-1).Scan(&at)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return false, time.Time{}, fmt.Errorf("sqlite: read sends: %w", err)
		}
		if r := time.UnixMicro(at.Int64).Add(w.span).UTC(); r.After(now) {
			retry = r
			break
		}
	}
	return false, retry, nil
}

// RecordRefusal implements limit.Store.
func (db *DB) RecordRefusal(ctx context.Context, r limit.Refusal) error {
	at := r.Origin.Time
	if at.IsZero() {
		at = time.Now()
	}
	_, err := db.exec(ctx, `
		INSERT INTO limit_refusals (at, rule, subject, device_id, ip, user_agent, retry_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
		at.UnixMicro(), string(r.Rule), r.Subject, r.Origin.DeviceID, r.Origin.IP, r.Origin.UserAgent, r.RetryAt.UnixMicro())
	if err != nil {
		return fmt.Errorf("sqlite: record refusal: %w", err)
	}
	return nil
}

// Refusals implements limit.Store.
func (db *DB) Refusals(ctx context.Context, since time.Time, n int) ([]limit.Refusal, error) {
	rows, err := db.query(ctx, `
		SELECT at, rule, subject, device_id, ip, user_agent, retry_at FROM limit_refusals
		WHERE at >= ? ORDER BY at DESC LIMIT ?`, since.UnixMicro(), n)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read refusals: %w", err)
	}
	defer rows.Close()
	var out []limit.Refusal
	for rows.Next() {
		var r limit.Refusal
		var at, retry int64
		if err := rows.Scan(&at, &r.Rule, &r.Subject, &r.Origin.DeviceID, &r.Origin.IP, &r.Origin.UserAgent, &retry); err != nil {
			return nil, fmt.Errorf("sqlite: read refusals: %w", err)
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
		WHERE window_start = ? AND substr(key, 1, length(?)) = ?`, start.UnixMicro(), prefix, prefix)
}

// windowCounts reads the (key, count) rows of a query on limit_windows.
func (db *DB) windowCounts(ctx context.Context, query string, args ...any) (map[string]int, error) {
	out := map[string]int{}
	rows, err := db.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read limit counts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			return nil, fmt.Errorf("sqlite: read limit counts: %w", err)
		}
		out[k] = n
	}
	return out, rows.Err()
}
