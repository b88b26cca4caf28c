package archive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"gatehouse/internal/postgres"
	"gatehouse/internal/schema"
	"gatehouse/internal/sqlite"
)

// Layout is where an installation keeps what a backup holds.
type Layout struct {
	// Database is the SQLite database file; empty when the installation
	// runs on PostgreSQL, whose database pg_dump backs up.
	Database string
	// Secrets is the secrets file.
	Secrets string
	// DKIMDir is the directory of the DKIM keys.
	DKIMDir string
}

// path returns where the backup's file name goes.
func (l Layout) path(name string) string {
	switch name {
	case DatabaseName:
		return l.Database
	case SecretsName:
		return l.Secrets
	}
	return filepath.Join(l.DKIMDir, strings.TrimPrefix(name, DKIMPrefix))
}

// BackupOptions are what Backup needs besides the layout.
type BackupOptions struct {
	Passphrase string
	// Gatehouse is the version of the binary, recorded in the manifest.
	Gatehouse string
	// Schema is the PostgreSQL database's schema version, for the
	// manifest, when Layout.Database is empty. (A SQLite database's is
	// read from the copy.)
	Schema int
	// Check, if set, is called with the path of the database's copy
	// before it is packed: the caller checks that the secrets file is the
	// one this database was created with, since a backup pairing them
	// wrongly would only fail at the restore.
	Check func(ctx context.Context, database string) error
	// WorkFactor is scrypt's log2(N); 0 means age's default.
	WorkFactor int
	// Now is when the backup is made; zero means time.Now.
	Now time.Time
}

// Backup writes the installation's backup to dst: a consistent copy of the
// SQLite database (taken while a server goes on writing it), the secrets
// file and the DKIM keys, encrypted with o.Passphrase. dst is written
// whole or not at all (a temporary file beside it, renamed), mode 0600.
//
// The database's copy is made in a private directory beside the database
// (mode 0700, removed afterwards): it is as secret as the database, and
// only the encrypted file leaves the data directory.
func Backup(ctx context.Context, l Layout, dst string, o BackupOptions) (*Manifest, error) {
	if utf8.RuneCountInString(o.Passphrase) < MinPassphrase {
		return nil, ErrWeakPassphrase
	}
	if _, err := os.Stat(l.Secrets); err != nil {
		return nil, fmt.Errorf("the secrets file: %w (a backup without it could not restore a single password)", err)
	}
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	m := &Manifest{Gatehouse: o.Gatehouse, Database: Postgres, Schema: o.Schema, CreatedAt: now.UTC().Truncate(time.Second)}
	var files []Source
	if l.Database != "" {
		if _, err := os.Stat(l.Database); err != nil {
			return nil, fmt.Errorf("the database: %w", err)
		}
		tmp, err := os.MkdirTemp(filepath.Dir(l.Database), ".gatehouse-backup-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		snap := filepath.Join(tmp, DatabaseName)
		if err := sqlite.CopyTo(ctx, l.Database, snap); err != nil {
			return nil, err
		}
		if o.Check != nil {
			if err := o.Check(ctx, snap); err != nil {
				return nil, err
			}
		}
		if m.Schema, err = sqlite.FileVersion(ctx, snap); err != nil {
			return nil, err
		}
		m.Database = SQLite
		files = append(files, Source{DatabaseName, snap})
	}
	files = append(files, Source{SecretsName, l.Secrets})
	keys, err := dkimFiles(l.DKIMDir)
	if err != nil {
		return nil, err
	}
	files = append(files, keys...)

	if err := writeAtomic(dst, func(w io.Writer) error {
		return Write(w, o.Passphrase, m, files, o.WorkFactor)
	}); err != nil {
		return nil, err
	}
	return m, nil
}

// dkimFiles lists the DKIM key files to pack: keys.json and every
// SELECTOR.key, leaving out what else may lie there (a rotation's
// temporary file). A missing directory has none: the keys are made on the
// server's first start.
func dkimFiles(dir string) ([]Source, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("the DKIM keys: %w", err)
	}
	var out []Source
	for _, e := range entries {
		n := e.Name()
		if !e.Type().IsRegular() || !dkimFile.MatchString(n) || (n != "keys.json" && !strings.HasSuffix(n, ".key")) {
			continue
		}
		out = append(out, Source{DKIMPrefix + n, filepath.Join(dir, n)})
	}
	return out, nil
}

// writeAtomic writes path through fill: into a temporary file beside it
// (mode 0600), synced, then renamed over path, so that path is either the
// old file or the whole new one.
func writeAtomic(path string, fill func(io.Writer) error) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // after the rename, there is nothing left to remove
	err = f.Chmod(0o600)
	if err == nil {
		err = fill(f)
	}
	if err == nil {
		err = f.Sync()
	}
	if err = errors.Join(err, f.Close()); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	return syncDir(dir)
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}

// RestoreOptions are what Restore needs besides the layout and the file.
type RestoreOptions struct {
	Passphrase string
	// Force lets the restore replace an existing installation's files —
	// never while a server has its database open.
	Force bool
}

// ErrInstalled is returned by Restore when the layout already holds an
// installation and RestoreOptions.Force is not set.
var ErrInstalled = errors.New("an installation is already there")

// ErrInUse is returned by Restore when a server (or a command) has the
// installation's database open.
var ErrInUse = errors.New("a server is running on this installation (its database is in use); stop it first")

// ErrWrongDatabase is returned by Restore for a backup of a SQLite
// database into an installation configured for PostgreSQL.
var ErrWrongDatabase = errors.New("this backup holds a SQLite database, but the installation is configured for PostgreSQL: restore it without --database postgres://…, then move it with gatehouse migrate-data")

// Restore restores the backup at src into the layout. It writes nothing
// unless the passphrase opens the backup, the backup's schema is one this
// binary knows, and the layout holds no installation (a database, a
// secrets file or DKIM keys) — or Force is set and no process has the
// database open. Every file is written beside its place first (mode 0600,
// directories 0700) and checked against the manifest; only when all are
// whole are they renamed into place. A database's old -wal and -shm files
// are removed, since SQLite would otherwise apply the old log to the new
// database.
//
// On PostgreSQL a backup holds no database, and nothing can tell here
// whether a node is running: Restore writes only the secrets file and the
// DKIM keys.
func Restore(ctx context.Context, l Layout, src string, o RestoreOptions) (*Manifest, error) {
	m, changed, err := restore(ctx, l, src, o)
	if err != nil && !changed {
		// The staged files are gone again; the operator needs to know
		// that the installation is as it was.
		err = fmt.Errorf("%w; nothing was written", err)
	}
	return m, err
}

// restore is Restore; changed reports whether the installation was
// touched (an old log removed, a file moved into place) before an error.
func restore(ctx context.Context, l Layout, src string, o RestoreOptions) (*Manifest, bool, error) {
	f, err := os.Open(src)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	r, err := Open(f, o.Passphrase)
	if err != nil {
		return nil, false, err
	}
	man := r.Manifest()
	m := &man
	known := postgres.KnownVersion()
	if m.Database == SQLite {
		if l.Database == "" {
			return nil, false, ErrWrongDatabase
		}
		known = sqlite.KnownVersion()
	}
	if err := schema.Check(m.Schema, known); err != nil {
		return nil, false, err
	}
	present, err := l.present()
	if err != nil {
		return nil, false, err
	}
	if len(present) > 0 && !o.Force {
		return nil, false, fmt.Errorf("%w (%s). Restore into an empty data directory, or stop the server and pass --force to replace them", ErrInstalled, strings.Join(present, ", "))
	}
	if err := l.checkUnused(ctx, *m); err != nil {
		return nil, false, err
	}

	// Stage every file beside its place.
	type staged struct{ tmp, dst string }
	var done []staged
	defer func() {
		for _, s := range done {
			os.Remove(s.tmp) // gone already when renamed
		}
	}()
	for {
		e, body, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, false, err
		}
		dst := l.path(e.Name)
		tmp, err := stage(dst, body)
		if tmp != "" {
			done = append(done, staged{tmp, dst})
		}
		if err != nil {
			return nil, false, err
		}
	}

	// A server could have started while the files were unpacked.
	if err := l.checkUnused(ctx, *m); err != nil {
		return nil, false, err
	}
	changed := false
	dirs := map[string]bool{}
	for _, s := range done {
		if s.dst == l.Database {
			for _, p := range []string{l.Database + "-wal", l.Database + "-shm"} {
				if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
					return nil, changed, err
				}
				changed = true
			}
		}
		if err := os.Rename(s.tmp, s.dst); err != nil {
			return nil, changed, err
		}
		changed = true
		dirs[filepath.Dir(s.dst)] = true
	}
	// A forced restore leaves no DKIM key of the old installation beside
	// the backup's: the keys are the backup's, and only those.
	if o.Force {
		stale, err := dkimFiles(l.DKIMDir)
		if err != nil {
			return nil, changed, err
		}
		for _, s := range stale {
			if !m.Has(s.Name) {
				if err := os.Remove(s.Path); err != nil {
					return nil, changed, err
				}
				dirs[l.DKIMDir] = true
			}
		}
	}
	for d := range dirs {
		if err := syncDir(d); err != nil {
			return nil, changed, err
		}
	}
	return m, true, nil
}

// present lists the files that make an installation — its database,
// secrets file and DKIM key index — that the layout already holds.
func (l Layout) present() ([]string, error) {
	paths := []string{l.Secrets, filepath.Join(l.DKIMDir, "keys.json")}
	if l.Database != "" {
		paths = append([]string{l.Database}, paths...)
	}
	var out []string
	for _, p := range paths {
		if _, err := os.Lstat(p); err == nil {
			out = append(out, p)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	return out, nil
}

// checkUnused refuses when a process has the SQLite database open. With
// a backup that holds no database (PostgreSQL), the database file is
// left alone and there is nothing to ask.
func (l Layout) checkUnused(ctx context.Context, m Manifest) error {
	if l.Database == "" || m.Database != SQLite {
		return nil
	}
	err := sqlite.CheckUnused(ctx, l.Database)
	if errors.Is(err, sqlite.ErrInUse) {
		return ErrInUse
	}
	return err
}

// stage writes body to a new temporary file in dst's directory (created
// 0700 when missing), synced, and returns its path; on failure the path
// of whatever was created, for the caller to remove.
func stage(dst string, body io.Reader) (string, error) {
	dir := filepath.Dir(dst)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	f, err := os.CreateTemp(dir, ".restore-*")
	if err != nil {
		return "", err
	}
	err = f.Chmod(0o600)
	if err == nil {
		_, err = io.Copy(f, body)
	}
	if err == nil {
		err = f.Sync()
	}
	return f.Name(), errors.Join(err, f.Close())
}
