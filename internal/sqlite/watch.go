package sqlite

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Changes is told which accounts' cached sessions to forget (every change
// to a session, to its account's record, or to anything counted in the
// account's changes), and to forget everything when changes may have been
// missed. session.Cache is one.
type Changes interface {
	EvictAccount(id string)
	Flush()
}

// watcher reads the session change log (migration 0025) and passes what is
// new to its Changes.
type watcher struct {
	c Changes

	mu   sync.Mutex
	last int64 // the highest seq passed on
}

// Watch makes c hear of every change to a session or its account, until
// ctx ends: this process's own at once — each write reads the log after it
// commits, before it returns, so the request that made a change never sees
// its old state again — and other processes' (a `gatehouse` command on the
// same file) within every, when the log is read for them. It is the SQLite
// counterpart of PostgreSQL's Listen, and what lets a session check on
// SQLite be answered from memory (session.Cache).
func (db *DB) Watch(ctx context.Context, c Changes, every time.Duration, log *slog.Logger) error {
	w := &watcher{c: c}
	// Start from the log's end, with nothing cached from before; a write
	// committed meanwhile waits for the lock and is read after it.
	w.mu.Lock()
	db.watch.Store(w)
	// On the writer, which the start has open already: the first reader
	// connection would cost the start a millisecond.
	err := db.write.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM session_changes`).Scan(&w.last)
	c.Flush()
	w.mu.Unlock()
	if err != nil {
		db.watch.Store(nil)
		return fmt.Errorf("sqlite: read the session change log: %w", err)
	}
	go w.run(ctx, db, every, log)
	return nil
}

func (w *watcher) run(ctx context.Context, db *DB, every time.Duration, log *slog.Logger) {
	defer func() {
		db.watch.Store(nil)
		w.c.Flush() // nothing heard from now on: nothing may stay cached
	}()
	tick := time.NewTicker(every)
	defer tick.Stop()
	trimmed := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if err := w.catchUp(ctx, db); err != nil && ctx.Err() == nil {
			log.Warn("session change log unreadable; cache flushed", "err", err)
		}
		if time.Since(trimmed) > time.Minute {
			trimmed = time.Now()
			if err := w.trim(ctx, db); err != nil && ctx.Err() == nil {
				log.Warn("session change log not trimmed", "err", err)
			}
		}
	}
}

// settle passes on the changes this process just committed, when a watcher
// runs. Every write path calls it after its commit.
func (db *DB) settle(ctx context.Context) {
	if w := db.watch.Load(); w != nil {
		// The write is done whatever the caller's context does next.
		w.catchUp(context.WithoutCancel(ctx), db)
	}
}

// catchUp passes on the log's rows after the last one passed on. A gap —
// rows pruned before they were read — or a failed read forgets everything.
func (w *watcher) catchUp(ctx context.Context, db *DB) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	const q = `SELECT seq, account_id FROM session_changes WHERE seq > ? ORDER BY seq`
	st := db.prepared(ctx, q) // on the reader pool, never in a flow's transaction
	if st == nil {
		w.c.Flush()
		return errors.New("sqlite: the session change log does not compile")
	}
	rows, err := st.QueryContext(ctx, w.last)
	if err != nil {
		w.c.Flush()
		return err
	}
	defer rows.Close()
	next := w.last
	for rows.Next() {
		var seq int64
		var id string
		if err := rows.Scan(&seq, &id); err != nil {
			w.c.Flush()
			return err
		}
		if seq != next+1 || id == "" {
			// Rows pruned unread, or a row that names no account (an
			// account erased, whose id the log must not keep).
			w.c.Flush()
		} else {
			w.c.EvictAccount(id)
		}
		next = seq
	}
	if err := rows.Err(); err != nil {
		w.c.Flush()
		return err
	}
	w.last = next
	return nil
}

// keepChanges is how many of the log's newest rows trimming keeps: a
// second process watching the same file (two servers) that fell that far
// behind sees a gap and forgets everything, nothing worse.
const keepChanges = 10_000

// trim deletes the log's rows older than the newest keepChanges that this
// watcher has passed on.
func (w *watcher) trim(ctx context.Context, db *DB) error {
	w.mu.Lock()
	upTo := w.last - keepChanges
	w.mu.Unlock()
	if upTo <= 0 {
		return nil
	}
	_, err := db.write.ExecContext(ctx, `DELETE FROM session_changes WHERE seq <= ?`, upTo)
	return err
}
