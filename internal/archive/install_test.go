package archive_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"gatehouse/internal/account"
	"gatehouse/internal/archive"
	"gatehouse/internal/dkimkeys"
	"gatehouse/internal/schema"
	"gatehouse/internal/secrets"
	"gatehouse/internal/sqlite"
)

// installation is a data directory as a server leaves it: a database with
// an account, a secrets file and a generation of DKIM keys.
func installation(t *testing.T) (archive.Layout, *secrets.Secrets) {
	t.Helper()
	ctx := context.Background()
	data := t.TempDir()
	l := layoutIn(data)
	db, err := sqlite.Open(ctx, l.Database, true)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Now()
	if err := db.CreateAccount(ctx, &account.Account{ID: "acc", Email: "holder@example.com", PasswordHash: "x", Status: account.Active, CreatedAt: now, PasswordChangedAt: now}); err != nil {
		t.Fatal(err)
	}
	sec, err := secrets.Create(l.Secrets)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dkimkeys.Rotate(l.DKIMDir, now, time.Hour); err != nil {
		t.Fatal(err)
	}
	return l, sec
}

func layoutIn(data string) archive.Layout {
	return archive.Layout{Database: filepath.Join(data, "gatehouse.db"), Secrets: filepath.Join(data, "secrets.json"), DKIMDir: filepath.Join(data, "dkim")}
}

func backup(t *testing.T, l archive.Layout) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "gatehouse.backup")
	m, err := archive.Backup(context.Background(), l, dst, archive.BackupOptions{Passphrase: pass, Gatehouse: "test", WorkFactor: cheap})
	if err != nil {
		t.Fatal(err)
	}
	if m.Database != archive.SQLite || m.Schema != sqlite.KnownVersion() || !m.Has(archive.DatabaseName) || !m.Has(archive.SecretsName) || !m.Has("dkim/keys.json") || len(m.Files) != 5 {
		t.Fatalf("manifest: %+v", m)
	}
	return dst
}

func sameFile(t *testing.T, a, b string) {
	t.Helper()
	x, err1 := os.ReadFile(a)
	y, err2 := os.ReadFile(b)
	if err1 != nil || err2 != nil || !bytes.Equal(x, y) {
		t.Errorf("%s and %s differ (%v %v)", a, b, err1, err2)
	}
}

func perm(t *testing.T, p string) os.FileMode {
	t.Helper()
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

// TestBackupRestore_IntoAnEmptyDirectory: the backup file is mode 0600
// and holds no key of the secrets file in clear (raw or as the file spells
// it); restored into a directory that does not exist yet, the secrets and
// DKIM keys are byte for byte the installation's, the database holds its
// account, files are 0600 and directories 0700, and no temporary file is
// left behind.
func TestBackupRestore_IntoAnEmptyDirectory(t *testing.T) {
	ctx := context.Background()
	l, sec := installation(t)
	dst := backup(t, l)
	if m := perm(t, dst); m != 0o600 {
		t.Errorf("backup file: mode %v", m)
	}
	raw, _ := os.ReadFile(dst)
	for _, k := range [][]byte{sec.HMACKey, sec.EncryptionKey, sec.Pepper} {
		if bytes.Contains(raw, k) || bytes.Contains(raw, []byte(base64.StdEncoding.EncodeToString(k))) {
			t.Fatal("the backup holds a secret key in clear")
		}
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(l.Database), ".gatehouse-backup-*")); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}

	to := layoutIn(filepath.Join(t.TempDir(), "restored"))
	m, err := archive.Restore(ctx, to, dst, archive.RestoreOptions{Passphrase: pass})
	if err != nil {
		t.Fatal(err)
	}
	if m.Gatehouse != "test" {
		t.Errorf("manifest: %+v", m)
	}
	sameFile(t, l.Secrets, to.Secrets)
	keys, _ := filepath.Glob(filepath.Join(l.DKIMDir, "*"))
	if len(keys) != 3 {
		t.Fatalf("dkim: %v", keys)
	}
	for _, k := range keys {
		p := filepath.Join(to.DKIMDir, filepath.Base(k))
		sameFile(t, k, p)
		if m := perm(t, p); m != 0o600 {
			t.Errorf("%s: mode %v", p, m)
		}
	}
	for _, p := range []string{to.Database, to.Secrets} {
		if m := perm(t, p); m != 0o600 {
			t.Errorf("%s: mode %v", p, m)
		}
	}
	for _, d := range []string{filepath.Dir(to.Database), to.DKIMDir} {
		if m := perm(t, d); m != 0o700 {
			t.Errorf("%s: mode %v", d, m)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(to.Database), ".restore-*")); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
	if _, err := secrets.Load(to.Secrets); err != nil {
		t.Fatal(err)
	}
	if _, err := dkimkeys.Load(to.DKIMDir); err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(ctx, to.Database, false)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if a, err := db.AccountByEmail(ctx, "holder@example.com"); err != nil || a.ID != "acc" {
		t.Fatalf("restored account: %v %v", a, err)
	}
}

// TestRestore_RefusesBeforeWritingAnything: a wrong passphrase, an
// existing installation without Force, one in use even with Force, and a
// backup of a newer schema change nothing; Force on a stopped
// installation replaces it, its old log and its old DKIM keys included.
func TestRestore_RefusesBeforeWritingAnything(t *testing.T) {
	ctx := context.Background()
	l, _ := installation(t)
	dst := backup(t, l)
	other, otherSec := installation(t)
	unchanged := func(what string) {
		t.Helper()
		if s, err := secrets.Load(other.Secrets); err != nil || !bytes.Equal(s.Pepper, otherSec.Pepper) {
			t.Fatalf("%s: the secrets file changed (%v)", what, err)
		}
		if left, _ := filepath.Glob(filepath.Join(filepath.Dir(other.Database), ".restore-*")); len(left) != 0 {
			t.Fatalf("%s: left behind %v", what, left)
		}
	}

	empty := layoutIn(filepath.Join(t.TempDir(), "empty"))
	if _, err := archive.Restore(ctx, empty, dst, archive.RestoreOptions{Passphrase: "not the passphrase at all"}); !errors.Is(err, archive.ErrWrongPassphrase) {
		t.Fatalf("wrong passphrase: %v", err)
	}
	if _, err := os.Stat(filepath.Dir(empty.Database)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a wrong passphrase created the data directory: %v", err)
	}

	if _, err := archive.Restore(ctx, other, dst, archive.RestoreOptions{Passphrase: pass}); !errors.Is(err, archive.ErrInstalled) {
		t.Fatalf("over an installation: %v", err)
	}
	unchanged("without force")

	db, err := sqlite.Open(ctx, other.Database, false) // as a running server has it
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.AccountByEmail(ctx, "holder@example.com"); err != nil {
		t.Fatal(err)
	}
	if _, err := archive.Restore(ctx, other, dst, archive.RestoreOptions{Passphrase: pass, Force: true}); !errors.Is(err, archive.ErrInUse) {
		t.Fatalf("in use: %v", err)
	}
	unchanged("in use")
	db.Close()

	// A log the old database left (a server killed) must not be applied
	// to the restored one; a key the backup does not have goes.
	os.WriteFile(other.Database+"-wal", []byte("an old log"), 0o600)
	os.WriteFile(filepath.Join(other.DKIMDir, "old-rsa.key"), []byte("old"), 0o600)
	if _, err := archive.Restore(ctx, other, dst, archive.RestoreOptions{Passphrase: pass, Force: true}); err != nil {
		t.Fatalf("forced: %v", err)
	}
	sameFile(t, l.Secrets, other.Secrets)
	if _, err := os.Stat(filepath.Join(other.DKIMDir, "old-rsa.key")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("an old DKIM key stayed: %v", err)
	}
	if _, err := os.Stat(other.Database + "-wal"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the old log stayed: %v", err)
	}
	if _, err := sqlite.FileVersion(ctx, other.Database); err != nil {
		t.Fatal(err)
	}

	// A backup from a newer schema, and one of SQLite into PostgreSQL.
	newer := filepath.Join(t.TempDir(), "newer.backup")
	f, _ := os.Create(newer)
	err = archive.Write(f, pass, &archive.Manifest{Database: archive.SQLite, Schema: sqlite.KnownVersion() + 1, CreatedAt: time.Now()},
		[]archive.Source{{Name: archive.DatabaseName, Path: l.Database}, {Name: archive.SecretsName, Path: l.Secrets}}, cheap)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := archive.Restore(ctx, empty, newer, archive.RestoreOptions{Passphrase: pass}); !errors.Is(err, schema.ErrTooNew) {
		t.Fatalf("newer schema: %v", err)
	}
	pg := empty
	pg.Database = ""
	if _, err := archive.Restore(ctx, pg, dst, archive.RestoreOptions{Passphrase: pass}); !errors.Is(err, archive.ErrWrongDatabase) {
		t.Fatalf("into PostgreSQL: %v", err)
	}
	if _, err := os.Stat(filepath.Dir(empty.Database)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a refused restore created the data directory: %v", err)
	}
}

// TestBackup_PostgresHoldsSecretsAndKeysOnly: with the database on
// PostgreSQL the backup holds the secrets file and DKIM keys, and its
// manifest the schema version the caller read.
func TestBackup_PostgresHoldsSecretsAndKeysOnly(t *testing.T) {
	l, _ := installation(t)
	l.Database = ""
	dst := filepath.Join(t.TempDir(), "pg.backup")
	m, err := archive.Backup(context.Background(), l, dst, archive.BackupOptions{Passphrase: pass, Schema: 7, WorkFactor: cheap})
	if err != nil {
		t.Fatal(err)
	}
	if m.Database != archive.Postgres || m.Schema != 7 || m.Has(archive.DatabaseName) || !m.Has(archive.SecretsName) || len(m.Files) != 4 {
		t.Fatalf("manifest: %+v", m)
	}
	to := layoutIn(t.TempDir())
	to.Database = ""
	if _, err := archive.Restore(context.Background(), to, dst, archive.RestoreOptions{Passphrase: pass}); err != nil {
		t.Fatal(err)
	}
	sameFile(t, l.Secrets, to.Secrets)
}

// TestBackup_RefusesAShortPassphraseAndAMissingSecretsFile writes nothing.
func TestBackup_RefusesAShortPassphraseAndAMissingSecretsFile(t *testing.T) {
	l, _ := installation(t)
	dst := filepath.Join(t.TempDir(), "b")
	if _, err := archive.Backup(context.Background(), l, dst, archive.BackupOptions{Passphrase: "short"}); !errors.Is(err, archive.ErrWeakPassphrase) {
		t.Fatalf("short: %v", err)
	}
	os.Remove(l.Secrets)
	if _, err := archive.Backup(context.Background(), l, dst, archive.BackupOptions{Passphrase: pass, WorkFactor: cheap}); err == nil {
		t.Fatal("a backup without the secrets file was made")
	}
	if entries, _ := os.ReadDir(filepath.Dir(dst)); len(entries) != 0 {
		t.Fatalf("left behind: %v", entries)
	}
}

// TestRestore_ACutShortBackupLeavesNothing: a backup cut short fails while
// its files are unpacked, and the files staged so far are removed: the
// data directory holds nothing but what was there.
func TestRestore_ACutShortBackupLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	db, sec := filepath.Join(dir, "db"), filepath.Join(dir, "secrets.json")
	noise := make([]byte, 300<<10) // incompressible: several age chunks
	rand.Read(noise)
	os.WriteFile(db, noise, 0o600)
	os.WriteFile(sec, []byte("{}"), 0o600)
	var buf bytes.Buffer
	err := archive.Write(&buf, pass, &archive.Manifest{Database: archive.SQLite, CreatedAt: time.Now()},
		[]archive.Source{{Name: archive.DatabaseName, Path: db}, {Name: archive.SecretsName, Path: sec}}, cheap)
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(dir, "cut.backup")
	os.WriteFile(cut, buf.Bytes()[:buf.Len()-1000], 0o600)
	data := filepath.Join(dir, "data")
	_, err = archive.Restore(context.Background(), layoutIn(data), cut, archive.RestoreOptions{Passphrase: pass})
	if !errors.Is(err, archive.ErrDamaged) {
		t.Fatalf("cut short: %v", err)
	}
	if entries, _ := os.ReadDir(data); len(entries) != 0 {
		t.Fatalf("left in the data directory: %v", entries)
	}
}
