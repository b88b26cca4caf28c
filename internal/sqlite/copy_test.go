package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gatehouse/internal/account"
	"gatehouse/internal/sqlite"
)

func newAccount(i int) *account.Account {
	now := time.Now()
	return &account.Account{ID: fmt.Sprintf("acc-%d", i), Email: fmt.Sprintf("h%d@example.com", i), PasswordHash: "x",
		Status: account.Active, CreatedAt: now, PasswordChangedAt: now}
}

// TestCopyTo_WhileAnotherHandleWrites: the copy taken while accounts are
// being created is a whole database — it passes SQLite's integrity check,
// has this binary's schema version, holds every account committed before
// it began and none half-written — and is mode 0600.
func TestCopyTo_WhileAnotherHandleWrites(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "gatehouse.db")
	db, err := sqlite.Open(ctx, path, true)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const before = 50
	for i := range before {
		if err := db.CreateAccount(ctx, newAccount(i)); err != nil {
			t.Fatal(err)
		}
	}
	var written atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := before; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := db.CreateAccount(ctx, newAccount(i)); err != nil {
				t.Error(err)
				return
			}
			written.Add(1)
		}
	})
	for written.Load() < 20 { // the writer is under way
		time.Sleep(time.Millisecond)
	}
	dst := filepath.Join(dir, "copy.db")
	err = sqlite.CopyTo(ctx, path, dst)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if m := mode(t, dst); m != 0o600 {
		t.Errorf("copy: mode %v, want 0600", m)
	}
	v, err := sqlite.FileVersion(ctx, dst)
	if err != nil || v != sqlite.KnownVersion() || v == 0 {
		t.Fatalf("copy's version %d (%v), want %d", v, err, sqlite.KnownVersion())
	}
	c, err := sql.Open("sqlite", dst)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var check string
	var n int
	if err := c.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity: %q %v", check, err)
	}
	if err := c.QueryRow(`SELECT count(*) FROM accounts`).Scan(&n); err != nil || n < before+20 || n > before+int(written.Load()) {
		t.Fatalf("accounts in the copy: %d (%v), want %d to %d", n, err, before+20, before+written.Load())
	}
	if err := sqlite.CopyTo(ctx, path, dst); err == nil {
		t.Fatal("a copy over an existing file was made")
	}
	if err := sqlite.CopyTo(ctx, filepath.Join(dir, "missing.db"), filepath.Join(dir, "c2.db")); err == nil {
		t.Fatal("a copy of a missing database was made")
	}
	if _, err := os.Stat(filepath.Join(dir, "missing.db")); err == nil {
		t.Fatal("copying a missing database created it")
	}
}

// TestCheckUnused: a database another handle has open (as a running
// server has) is in use; once it is closed, or when there is none, it is
// not.
func TestCheckUnused(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	if err := sqlite.CheckUnused(ctx, path); err != nil {
		t.Fatalf("no database: %v", err)
	}
	db, err := sqlite.Open(ctx, path, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateAccount(ctx, newAccount(1)); err != nil {
		t.Fatal(err)
	}
	if err := sqlite.CheckUnused(ctx, path); !errors.Is(err, sqlite.ErrInUse) {
		t.Fatalf("open database: %v, want ErrInUse", err)
	}
	db.Close()
	if err := sqlite.CheckUnused(ctx, path); err != nil {
		t.Fatalf("closed database: %v", err)
	}
	// The check left a database the server opens as before.
	db, err = sqlite.Open(ctx, path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.AccountByEmail(ctx, "h1@example.com"); err != nil {
		t.Fatalf("after the check: %v", err)
	}
}
