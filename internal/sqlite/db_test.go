package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"gatehouse/internal/request"
	"gatehouse/internal/signin"
	"gatehouse/internal/sqlite"
)

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

// TestOpen_CreatesMissingDirectoriesPrivate is the regression for
// `database: sqlite:sub/dir/x.db` failing with "unable to open database
// file (14)": the missing directories are created, mode 0700.
func TestOpen_CreatesMissingDirectoriesPrivate(t *testing.T) {
	root := t.TempDir()
	path := filepath.Join(root, "sub", "dir", "x.db")
	db, err := sqlite.Open(context.Background(), path, true)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	for _, dir := range []string{filepath.Join(root, "sub"), filepath.Join(root, "sub", "dir")} {
		if m := mode(t, dir); m != 0o700 {
			t.Errorf("%s: mode %v, want 0700", dir, m)
		}
	}
}

// TestOpen_DatabaseWALAndSHMAreMode0600 checks the database and the -wal
// and -shm files SQLite creates beside it after a write, under a umask
// that would otherwise leave them readable by everyone.
func TestOpen_DatabaseWALAndSHMAreMode0600(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	db, err := sqlite.Open(context.Background(), path, true)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.RecordAttempt(context.Background(), &signin.Attempt{ID: "a1", Identifier: "a@example.com",
		Origin: request.Origin{DeviceID: "d", IP: "192.0.2.1", UserAgent: "UA", Time: time.Now()}, Outcome: signin.UnknownAccount})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if m := mode(t, p); m != 0o600 {
			t.Errorf("%s: mode %v, want 0600", filepath.Base(p), m)
		}
	}
}

// TestOpen_TightensADatabaseOthersCanRead: a database left readable by an
// older version is made private when it is opened.
func TestOpen_TightensADatabaseOthersCanRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	db, err := sqlite.Open(context.Background(), path, true)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	os.Chmod(path, 0o644)
	db, err = sqlite.Open(context.Background(), path, true)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if m := mode(t, path); m != 0o600 {
		t.Fatalf("mode %v, want 0600", m)
	}
}
