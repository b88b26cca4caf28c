// Package postgres implements every Gatehouse store on PostgreSQL
// (jackc/pgx/v5), for installations that run several Gatehouse nodes on one
// database. The SQL mirrors internal/sqlite's, written for this dialect;
// both pass the same store test suite (internal/storetest).
//
// Everything that must hold across nodes — single use of a code, one
// worker per message, a revoked session — is decided by the database with
// conditional updates and row locks, never by process memory.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"gatehouse/internal/commit"
	"gatehouse/internal/schema"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is an open Gatehouse database on PostgreSQL.
type DB struct {
	pool *pgxpool.Pool
	// local hears of this node's own account changes as they are written
	// (see onNotice); set by Listen.
	local atomic.Pointer[Changes]
}

// ErrSchemaTooNew is returned when the database was migrated by a newer
// Gatehouse than this one.
var ErrSchemaTooNew = schema.ErrTooNew

// Open connects to url with at most poolSize connections (0: pgx's default)
// and applies pending migrations when migrate is set.
func Open(ctx context.Context, url string, poolSize int, migrate bool) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: read the database URL: %w", err)
	}
	if poolSize > 0 {
		cfg.MaxConns = int32(poolSize)
	}
	// A database that has gone away must make requests fail fast (503), not
	// hang until the client gives up.
	cfg.ConnConfig.ConnectTimeout = 3 * time.Second
	db := &DB{}
	cfg.ConnConfig.OnNotice = db.onNotice
	// The account-change triggers' notices must reach us whatever the
	// role's default says (see onNotice).
	cfg.ConnConfig.RuntimeParams["client_min_messages"] = "notice"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	db.pool = pool
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	if migrate {
		err = db.Migrate(ctx)
	} else {
		err = db.checkVersion(ctx)
	}
	if err != nil {
		pool.Close()
		return nil, err
	}
	return db, nil
}

// Close closes the pool.
func (db *DB) Close() error { db.pool.Close(); return nil }

// Ping checks that the database answers (for /readyz).
func (db *DB) Ping(ctx context.Context) error {
	if err := db.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: ping: %w", err)
	}
	return nil
}

// KnownVersion returns the newest schema version this binary knows.
func KnownVersion() int {
	ms, err := schema.List(migrations, "migrations")
	if err != nil {
		return 0 // the embedded migrations are checked by the tests
	}
	return ms[len(ms)-1].Version
}

// Version returns the applied schema version and the newest this binary knows.
func (db *DB) Version(ctx context.Context) (applied, known int, err error) {
	ms, err := schema.List(migrations, "migrations")
	if err != nil {
		return 0, 0, fmt.Errorf("postgres: read schema version: %w", err)
	}
	known = ms[len(ms)-1].Version
	var exists bool
	if err := db.pool.QueryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&exists); err != nil {
		return 0, known, fmt.Errorf("postgres: read schema version: %w", err)
	}
	if !exists {
		return 0, known, nil
	}
	if err := db.pool.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&applied); err != nil {
		return 0, known, fmt.Errorf("postgres: read schema version: %w", err)
	}
	return applied, known, nil
}

func (db *DB) checkVersion(ctx context.Context) error {
	applied, known, err := db.Version(ctx)
	if err != nil {
		return err
	}
	if err := schema.Check(applied, known); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	return nil
}

// migrationLock is the advisory lock that serialises migrations when
// several nodes start at once.
const migrationLock = 0x6761746568 // "gateh"

// Migrate applies every migration newer than the database, each in its own
// transaction, holding an advisory lock so that nodes starting together
// take turns. It refuses a database newer than the binary.
func (db *DB) Migrate(ctx context.Context) error {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrationLock); err != nil {
		return fmt.Errorf("postgres: migrate: wait for other nodes: %w", err)
	}
	defer conn.Exec(context.Background(), `SELECT pg_advisory_unlock($1)`, migrationLock)
	_, err = conn.Exec(ctx, `
		CREATE TABLE IF NOT EXISTS schema_migrations (
			version INTEGER PRIMARY KEY,
			applied_at TIMESTAMPTZ NOT NULL
		)`)
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	applied, _, err := db.Version(ctx)
	if err != nil {
		return err
	}
	pending, err := schema.Pending(migrations, "migrations", applied)
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	for _, m := range pending {
		err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, now())`, m.Version)
			return err
		})
		if err != nil {
			return fmt.Errorf("postgres: migration %s: %w", m.Name, err)
		}
	}
	return nil
}

// ts converts a time for storage; the zero time is NULL.
func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

// utc converts a scanned nullable time back; NULL is the zero time.
func utc(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

func isUnique(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// querier is what a pool and a transaction have in common.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

type txKey struct{}

// flowTx returns the transaction InTx carries in ctx, if any.
func flowTx(ctx context.Context) pgx.Tx {
	tx, _ := ctx.Value(txKey{}).(pgx.Tx)
	return tx
}

// InTx runs fn in one transaction: every store method called with the
// context fn receives works in it, so a flow's writes land together or not
// at all, and its notifications (pg_notify) reach the other nodes only when
// it commits. A nested InTx joins the open transaction.
//
// fn's own error comes back as it is; failing to begin or commit the
// transaction gives an error naming that step.
func (db *DB) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if flowTx(ctx) != nil {
		return fn(ctx)
	}
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: begin transaction: %w", err)
	}
	// A no-op after the commit; otherwise it ends the transaction, even if
	// fn panics, and drops its notifications.
	fctx, committed := commit.Track(ctx)
	fctx = context.WithValue(fctx, txKey{}, tx)
	defer commit.Ended(fctx) // after the rollback below: outside the transaction
	defer tx.Rollback(ctx)
	if err := fn(fctx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: commit transaction: %w", err)
	}
	committed() // work that waited for the commit (commit.After)
	return nil
}

// conn is where a store method runs its SQL: the flow's transaction when
// there is one, otherwise the pool.
func (db *DB) conn(ctx context.Context) querier {
	if tx := flowTx(ctx); tx != nil {
		return tx
	}
	return db.pool
}

// inTx runs fn in the flow's transaction, or in a transaction of its own.
// Its errors are the driver's and fn's, for the calling method to name.
func (db *DB) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	if tx := flowTx(ctx); tx != nil {
		return fn(tx)
	}
	return pgx.BeginFunc(ctx, db.pool, fn)
}

// Pool returns the connection pool, for whole-database tools such as
// `gatehouse migrate-data`.
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// Installed reports whether the database already belongs to an
// installation: it holds the key fingerprint recorded at the first start,
// or an account (a database from before fingerprints were recorded). Such a
// database must never be paired with freshly generated secrets.
func (db *DB) Installed(ctx context.Context) (bool, error) {
	var installed bool
	err := db.pool.QueryRow(ctx, `
		SELECT to_regclass('installation') IS NOT NULL
			AND to_regclass('accounts') IS NOT NULL`).Scan(&installed)
	if err != nil {
		return false, fmt.Errorf("postgres: check for an installation: %w", err)
	}
	if !installed {
		return false, nil // not migrated yet: nothing in it
	}
	err = db.pool.QueryRow(ctx, `
		SELECT EXISTS (SELECT 1 FROM installation WHERE key = 'key_fingerprint')
			OR EXISTS (SELECT 1 FROM accounts)`).Scan(&installed)
	if err != nil {
		return false, fmt.Errorf("postgres: check for an installation: %w", err)
	}
	return installed, nil
}
