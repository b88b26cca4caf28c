// Package sqlite implements every Gatehouse store on an embedded SQLite
// database (modernc.org/sqlite, no cgo).
//
// SQLite allows one writer at a time, so the DB keeps two connection pools:
// a single writer connection, which serialises writes in Go instead of
// making them fight over the file lock, and a pool of readers, which in WAL
// mode never wait for the writer.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	sqlitedriver "modernc.org/sqlite" // also registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"

	"gatehouse/internal/commit"
	"gatehouse/internal/schema"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is an open Gatehouse database.
type DB struct {
	write *sql.DB
	read  *sql.DB
	stmts sync.Map // query text → *sql.Stmt on the read pool
	// pruning is held while a retention pass runs (see LockPruning).
	pruning sync.Mutex
	// watch, while Watch runs, hears of every change to a session or its
	// account this process commits (settle).
	watch atomic.Pointer[watcher]
}

// ErrSchemaTooNew is returned when the database was migrated by a newer
// Gatehouse than this one.
var ErrSchemaTooNew = schema.ErrTooNew

// Open opens (creating if needed) the database file at path and applies
// pending migrations when migrate is set. A missing directory is created
// (mode 0700), and the database is created with mode 0600, which its -wal
// and -shm files inherit.
func Open(ctx context.Context, path string, migrate bool) (*DB, error) {
	if err := prepareFile(path); err != nil {
		return nil, err
	}
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "busy_timeout(5000)", "synchronous(NORMAL)", "foreign_keys(ON)", "mmap_size(268435456)", "cache_size(-16000)"} {
		q.Add("_pragma", p)
	}
	dsn := "file:" + path + "?" + q.Encode()
	write, err := sql.Open("sqlite", dsn+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	read, err := sql.Open("sqlite", dsn)
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	read.SetMaxOpenConns(max(4, 2*runtime.NumCPU()))
	read.SetMaxIdleConns(max(4, 2*runtime.NumCPU()))
	db := &DB{write: write, read: read}
	if err := db.write.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if migrate {
		if err := db.Migrate(ctx); err != nil {
			db.Close()
			return nil, err
		}
	} else if err := db.checkVersion(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// prepareFile makes sure the database file exists with mode 0600 before
// SQLite opens it. SQLite creates a missing file with 0644 less the umask,
// and then gives its -wal and -shm files the database file's mode; creating
// the file ourselves is what makes all three private, whatever the umask.
// An existing database that others can read (made by an older version) is
// tightened too, along with its -wal and -shm files.
func prepareFile(path string) error {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("sqlite: open %s: create its directory: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case err == nil:
		// The umask can only take bits away; set exactly 0600.
		err = errors.Join(f.Chmod(0o600), f.Close())
		if err != nil {
			return fmt.Errorf("sqlite: open %s: %w", path, err)
		}
	case !errors.Is(err, fs.ErrExist):
		return fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		st, err := os.Stat(p)
		if err != nil {
			continue // -wal and -shm exist only while the database is open
		}
		if st.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(p, st.Mode().Perm()&0o700); err != nil {
				return fmt.Errorf("sqlite: open %s: make it private: %w", p, err)
			}
		}
	}
	return nil
}

// Close closes both pools.
func (db *DB) Close() error {
	db.stmts.Range(func(_, v any) bool { v.(*sql.Stmt).Close(); return true })
	if err := errors.Join(db.write.Close(), db.read.Close()); err != nil {
		return fmt.Errorf("sqlite: close: %w", err)
	}
	return nil
}

// readRow runs a read query. Inside a flow's transaction it runs there, so
// that it sees the flow's own writes; otherwise it runs on the reader pool
// through a prepared statement kept for the life of the DB. Compiling SQL is a large part of a point lookup's cost in
// SQLite, and the hot paths (session check, account lookup) run thousands
// of times a second.
func (db *DB) readRow(ctx context.Context, query string, args ...any) *sql.Row {
	if tx := flowTx(ctx); tx != nil {
		return tx.QueryRowContext(ctx, query, args...)
	}
	st := db.prepared(ctx, query)
	if st == nil {
		return db.read.QueryRowContext(ctx, query, args...) // reports the error
	}
	return st.QueryRowContext(ctx, args...)
}

// prepared returns the reader pool's statement for query, prepared once
// and kept; nil when it does not compile (the caller runs the query
// unprepared, which reports the error). Query texts are the code's own —
// lists of placeholders vary only up to a page's length — so the set stays
// small.
func (db *DB) prepared(ctx context.Context, query string) *sql.Stmt {
	if st, ok := db.stmts.Load(query); ok {
		return st.(*sql.Stmt)
	}
	st, err := db.read.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	if prev, loaded := db.stmts.LoadOrStore(query, st); loaded {
		st.Close()
		st = prev.(*sql.Stmt)
	}
	return st
}

// Ping checks that the database answers (for /readyz).
func (db *DB) Ping(ctx context.Context) error {
	if err := db.read.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	return nil
}

// Version returns the applied schema version and the newest this binary knows.
func (db *DB) Version(ctx context.Context) (applied, known int, err error) {
	ms, err := schema.List(migrations, "migrations")
	if err != nil {
		return 0, 0, fmt.Errorf("sqlite: read schema version: %w", err)
	}
	known = ms[len(ms)-1].Version
	err = db.write.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&applied)
	if err != nil && strings.Contains(err.Error(), "no such table") {
		return 0, known, nil
	}
	if err != nil {
		return 0, known, fmt.Errorf("sqlite: read schema version: %w", err)
	}
	return applied, known, nil
}

func (db *DB) checkVersion(ctx context.Context) error {
	applied, known, err := db.Version(ctx)
	if err != nil {
		return err
	}
	if err := schema.Check(applied, known); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	return nil
}

//go:embed snapshot.sql
var snapshot string

// snapshotVersion reads the version line of snapshot.sql: the schema it
// creates is what every migration up to that version produces.
func snapshotVersion() int {
	for _, line := range strings.Split(snapshot, "\n") {
		if v, ok := strings.CutPrefix(line, "-- version: "); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n
		}
	}
	return 0
}

// Migrate brings the database up to the newest schema this binary knows. A
// new, empty database is created from snapshot.sql in one step — replaying
// every migration, ALTER TABLE after ALTER TABLE, is most of a cold start —
// and then takes any migration newer than the snapshot; an existing one
// applies each migration newer than it, in its own transaction. It refuses
// a database newer than the binary.
func (db *DB) Migrate(ctx context.Context) error { return db.migrate(ctx, true, 0) }

// migrate is Migrate; useSnapshot false replays every migration, and upTo
// > 0 stops after that version (the tests that keep snapshot.sql equal to
// the migrations, and upgrade an older database, use them).
func (db *DB) migrate(ctx context.Context, useSnapshot bool, upTo int) error {
	_, err := db.write.ExecContext(ctx, `
		CREATE TABLE IF NOT EXISTS schema_migrations (
			version INTEGER PRIMARY KEY,
			applied_at INTEGER NOT NULL
		) STRICT`)
	if err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	applied, _, err := db.Version(ctx)
	if err != nil {
		return err
	}
	if applied == 0 && useSnapshot {
		if applied, err = db.fromSnapshot(ctx); err != nil {
			return err
		}
	}
	pending, err := schema.Pending(migrations, "migrations", applied)
	if err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	for upTo > 0 && len(pending) > 0 && pending[len(pending)-1].Version > upTo {
		pending = pending[:len(pending)-1]
	}
	for _, m := range pending {
		err = db.tx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, m.Version, us(time.Now()))
			return err
		})
		if err != nil {
			return fmt.Errorf("sqlite: migration %s: %w", m.Name, err)
		}
	}
	return nil
}

// fromSnapshot creates the schema of snapshot.sql in an empty database and
// records the migrations it stands for, in one transaction. It returns the
// version the database is at: the snapshot's, or 0 when the database is not
// empty (it then takes the migrations one by one).
func (db *DB) fromSnapshot(ctx context.Context) (int, error) {
	version := snapshotVersion()
	if version == 0 {
		return 0, nil
	}
	var objects int
	err := db.write.QueryRowContext(ctx, `
		SELECT count(*) FROM sqlite_schema
		WHERE name <> 'schema_migrations' AND name NOT LIKE 'sqlite_%'`).Scan(&objects)
	if err != nil {
		return 0, fmt.Errorf("sqlite: migrate: %w", err)
	}
	if objects > 0 {
		return 0, nil
	}
	ms, err := schema.List(migrations, "migrations")
	if err != nil {
		return 0, fmt.Errorf("sqlite: migrate: %w", err)
	}
	err = db.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, snapshot); err != nil {
			return err
		}
		for _, m := range ms {
			if m.Version > version {
				break
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, m.Version, us(time.Now())); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: create schema from snapshot.sql: %w", err)
	}
	return version, nil
}

// tx runs fn in the flow's transaction, or in a transaction of its own on
// the writer. Its errors are the driver's and fn's, for the calling method
// to name. The deferred rollback (a no-op after the commit) also ends the
// transaction if fn panics, which would otherwise keep the one writer
// connection, and with it every later write, waiting for ever.
func (db *DB) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	if tx := flowTx(ctx); tx != nil {
		return fn(tx) // part of the flow's transaction (InTx)
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	db.settle(ctx)
	return nil
}

type txKey struct{}

// flowTx returns the transaction InTx carries in ctx, if any.
func flowTx(ctx context.Context) *sql.Tx {
	tx, _ := ctx.Value(txKey{}).(*sql.Tx)
	return tx
}

// InTx runs fn in one transaction: every store method called with the
// context fn receives works in it, so a flow's writes land together or not
// at all. A nested InTx joins the open transaction. The transaction holds
// SQLite's one writer, so fn must not do slow work such as hashing.
//
// fn's own error comes back as it is; failing to begin or commit the
// transaction gives an error naming that step.
func (db *DB) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if flowTx(ctx) != nil {
		return fn(ctx)
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin transaction: %w", err)
	}
	fctx, committed := commit.Track(ctx)
	fctx = context.WithValue(fctx, txKey{}, tx)
	// Ended runs after the rollback (a no-op after the commit): Finally's
	// work must not wait for the one writer this transaction holds.
	defer commit.Ended(fctx)
	defer tx.Rollback()
	if err := fn(fctx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit transaction: %w", err)
	}
	committed() // work that waited for the commit (commit.After): an outbox woken first
	db.settle(ctx)
	return nil
}

// exec runs a write: in the flow's transaction when there is one, otherwise
// on the writer connection.
func (db *DB) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if tx := flowTx(ctx); tx != nil {
		return tx.ExecContext(ctx, query, args...)
	}
	res, err := db.write.ExecContext(ctx, query, args...)
	if err == nil {
		// A statement that changed no row fired no trigger: nothing to
		// settle (an idle worker's poll costs no read).
		if n, _ := res.RowsAffected(); n > 0 {
			db.settle(ctx)
		}
	}
	return res, err
}

// writeRow runs a write that returns a row (RETURNING), like exec.
func (db *DB) writeRow(ctx context.Context, query string, args ...any) *writtenRow {
	if tx := flowTx(ctx); tx != nil {
		return &writtenRow{row: tx.QueryRowContext(ctx, query, args...)}
	}
	return &writtenRow{row: db.write.QueryRowContext(ctx, query, args...), db: db, ctx: ctx}
}

// writtenRow is writeRow's row: outside a flow's transaction the write
// commits when the row is scanned, and Scan then settles it (see Watch).
type writtenRow struct {
	row *sql.Row
	db  *DB // nil inside a flow's transaction, which settles on commit
	ctx context.Context
}

// Scan is sql.Row's.
func (r *writtenRow) Scan(dest ...any) error {
	err := r.row.Scan(dest...)
	if r.db != nil && !errors.Is(err, sql.ErrNoRows) {
		// No row returned, none written (a claim on an empty queue).
		r.db.settle(r.ctx)
	}
	return err
}

// query runs a read returning rows: in the flow's transaction (which sees
// its own writes) or on the reader pool through a kept prepared statement
// (see readRow: the holder's pages run several such reads each).
func (db *DB) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if tx := flowTx(ctx); tx != nil {
		return tx.QueryContext(ctx, query, args...)
	}
	if st := db.prepared(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return db.read.QueryContext(ctx, query, args...)
}

// us converts a time to stored microseconds; the zero time is NULL.
func us(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

// tm converts stored microseconds back to a UTC time.
func tm(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMicro(v.Int64).UTC()
}

// isUnique reports whether err is a unique or primary-key violation, by
// SQLite's extended result code rather than by its message text.
func isUnique(err error) bool {
	var se *sqlitedriver.Error
	if !errors.As(err, &se) {
		return false
	}
	return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

// SQL returns the read pool, for whole-database tools such as
// `gatehouse migrate-data` that read every table.
func (db *DB) SQL() *sql.DB { return db.read }

// Installed reports whether the database already belongs to an
// installation: it holds the key fingerprint recorded at the first start,
// or an account (a database from before fingerprints were recorded). Such a
// database must never be paired with freshly generated secrets.
func (db *DB) Installed(ctx context.Context) (bool, error) {
	var tables int
	err := db.write.QueryRowContext(ctx, `
		SELECT count(*) FROM sqlite_master
		WHERE type = 'table' AND name IN ('installation', 'accounts')`).Scan(&tables)
	if err != nil {
		return false, fmt.Errorf("sqlite: check for an installation: %w", err)
	}
	if tables < 2 {
		return false, nil // not migrated yet: nothing in it
	}
	var installed bool
	err = db.write.QueryRowContext(ctx, `
		SELECT EXISTS (SELECT 1 FROM installation WHERE key = 'key_fingerprint')
			OR EXISTS (SELECT 1 FROM accounts)`).Scan(&installed)
	if err != nil {
		return false, fmt.Errorf("sqlite: check for an installation: %w", err)
	}
	return installed, nil
}
