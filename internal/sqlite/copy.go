package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"

	sqlitedriver "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"gatehouse/internal/schema"
)

// What gatehouse backup and restore need of a database file that a server
// may have open: a consistent copy taken while it writes, the copy's
// schema version, and whether anyone has the file open.

// ErrInUse is returned by CheckUnused when another process — a running
// server, or a command — has the database open.
var ErrInUse = errors.New("the database is in use by another process")

// KnownVersion returns the newest schema version this binary knows.
func KnownVersion() int {
	ms, err := schema.List(migrations, "migrations")
	if err != nil {
		return 0 // the embedded migrations are checked by the tests
	}
	return ms[len(ms)-1].Version
}

// openFile opens the existing database file at path with one connection
// and the given pragmas. mode=rw makes a missing file an error instead of
// an empty database created under the operator's feet; no journal mode is
// set, so a server's WAL database stays in WAL mode.
func openFile(path string, pragmas ...string) (*sql.DB, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	q := url.Values{"mode": {"rw"}}
	for _, p := range pragmas {
		q.Add("_pragma", p)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

// CopyTo writes a consistent copy of the database file at path to dst with
// VACUUM INTO, while other processes — a running server — go on reading
// and writing it. The copy is one read transaction: in WAL mode it sees the
// database as of its start and neither waits for writers nor holds them
// up. dst must not exist; it is created with mode 0600 first, because
// SQLite would create it readable by others (0644 less the umask).
func CopyTo(ctx context.Context, path, dst string) error {
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("sqlite: copy %s: %w", path, err)
	}
	if err := errors.Join(f.Chmod(0o600), f.Close()); err != nil {
		return fmt.Errorf("sqlite: copy %s: %w", path, err)
	}
	db, err := openFile(path, "busy_timeout(10000)")
	if err != nil {
		return err
	}
	defer db.Close()
	// VACUUM INTO accepts an existing file only when it is empty, which
	// the one just made is.
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, dst); err != nil {
		return fmt.Errorf("sqlite: copy %s to %s: %w", path, dst, err)
	}
	return nil
}

// FileVersion returns the schema version of the database file at path
// without migrating or otherwise changing it (0 for an empty database).
// Unlike Open it does not refuse a database newer than this binary: the
// caller decides.
func FileVersion(ctx context.Context, path string) (int, error) {
	db, err := openFile(path, "busy_timeout(5000)")
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var v int
	err = db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v)
	if err != nil && strings.Contains(err.Error(), "no such table") {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("sqlite: read the schema version of %s: %w", path, err)
	}
	return v, nil
}

// CheckUnused returns ErrInUse when another process has the database at
// path open, and nil when nobody has it open or it does not exist.
//
// Gatehouse keeps no lock file of its own; SQLite's locks tell. A
// connection to a database in WAL mode keeps a shared lock on the file for
// as long as it is open, so a running server always holds one. A
// connection in exclusive locking mode must take an exclusive lock on its
// first read, which fails while any shared lock is held. When nobody has
// the file open, the check itself folds the write-ahead log into the
// database as it closes, which is what a server does when it stops.
func CheckUnused(ctx context.Context, path string) error {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	// Long enough to ride out a transient lock (another command's
	// checkpoint); a server holds its lock for good.
	db, err := openFile(path, "locking_mode(EXCLUSIVE)", "busy_timeout(1000)")
	if err != nil {
		return err
	}
	defer db.Close()
	var n int
	err = db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema`).Scan(&n)
	var se *sqlitedriver.Error
	if errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY {
		return fmt.Errorf("sqlite: %s: %w", path, ErrInUse)
	}
	if err != nil {
		return fmt.Errorf("sqlite: check whether %s is in use: %w", path, err)
	}
	return nil
}
