package sqlite_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/account"
	"gatehouse/internal/device"
	"gatehouse/internal/session"
	"gatehouse/internal/sqlite"
)

// TestAccountChanges_CountedByEveryWriteAPageShows: the account's count of
// changes, read with the session, moves with every write to what a
// signed-in page keeps (session.Kept) — made through this handle or another
// process's — and not with the session check's own writes or another
// account's.
func TestAccountChanges_CountedByEveryWriteAPageShows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "t.db")
	db, err := sqlite.Open(ctx, path, true)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Another process on the same file: a `gatehouse` command.
	other, err := sqlite.Open(ctx, path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()

	now := time.Now().Truncate(time.Second)
	for _, id := range []string{"acc", "neighbour"} {
		if err := db.CreateAccount(ctx, &account.Account{ID: id, Email: id + "@example.com", PasswordHash: "x", Language: "en",
			Status: account.Active, CreatedAt: now, ConfirmedAt: now, PasswordChangedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	hash := []byte("token hash of acc's session")
	if err := db.CreateSession(ctx, &session.Session{ID: "s1", TokenHash: hash, AccountID: "acc", CreatedAt: now, LastSeenAt: now,
		AuthenticatedAt: now, IdleTimeout: time.Hour, AbsoluteExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateDevice(ctx, &device.Device{ID: "dev", TokenHash: []byte("device token"), FirstSeen: now, LastSeen: now,
		Browser: "Chrome", OS: "Linux"}); err != nil {
		t.Fatal(err)
	}
	count := func() uint64 {
		t.Helper()
		s, err := db.SessionByTokenHash(ctx, hash)
		if err != nil {
			t.Fatal(err)
		}
		return s.Account.Changes
	}
	last := count()
	step := func(what string, counted bool, write func() error) {
		t.Helper()
		if err := write(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		got := count()
		if counted && got == last {
			t.Errorf("%s: the count stayed at %d", what, got)
		}
		if !counted && got != last {
			t.Errorf("%s: the count moved from %d to %d", what, last, got)
		}
		last = got
	}
	later := now.Add(time.Minute)
	step("the device used by the account", true, func() error { return db.MarkUsed(ctx, "acc", "dev", later) })
	step("the browser trusted, by another process", true, func() error { return other.Trust(ctx, "acc", "dev", later.Add(24*time.Hour)) })
	step("the phone confirmed", true, func() error { return db.SetPhone(ctx, "acc", "+819012345678", later) })
	step("the language chosen, by another process", true, func() error { return other.SetPreferences(ctx, "acc", "ja", "") })
	step("the device's browser seen again", true, func() error {
		_, err := rawDB(t, path).ExecContext(ctx, `UPDATE devices SET browser = 'Firefox' WHERE id = 'dev'`)
		return err
	})
	step("the session used (the check's own write)", false, func() error { return db.TouchSession(ctx, "s1", later) })
	step("the session re-verified", false, func() error { return db.Reauthenticate(ctx, "s1", later, []string{"pwd", "otp", "mfa"}) })
	step("another account's browser trusted", false, func() error {
		if err := db.MarkUsed(ctx, "neighbour", "dev2", later); err != nil {
			return err
		}
		return db.Trust(ctx, "neighbour", "dev2", later.Add(time.Hour))
	})
}

func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return raw
}

// TestAccountChanges_SameRowsAsPostgreSQLNotifies: every table and event
// PostgreSQL's triggers announce to the other nodes (its migration 0018)
// is counted by a SQLite trigger too, so that the two ways of keeping a
// page's facts follow the same writes; a trigger added to one dialect and
// forgotten in the other fails here.
func TestAccountChanges_SameRowsAsPostgreSQLNotifies(t *testing.T) {
	t.Parallel()
	pg, err := os.ReadFile(filepath.Join("..", "postgres", "migrations", "0018_account_changes.sql"))
	if err != nil {
		t.Fatal(err)
	}
	lite, err := os.ReadFile(filepath.Join("migrations", "0018_account_changes.sql"))
	if err != nil {
		t.Fatal(err)
	}
	trigger := regexp.MustCompile(`(?s)CREATE TRIGGER \w+ AFTER (.+?) ON (\w+)`)
	events := func(sql string) map[string]bool {
		out := map[string]bool{}
		for _, m := range trigger.FindAllStringSubmatch(sql, -1) {
			for _, ev := range strings.Split(m[1], " OR ") {
				out[m[2]+": "+strings.Join(strings.Fields(ev), " ")] = true
			}
		}
		return out
	}
	want, got := events(string(pg)), events(string(lite))
	if len(want) < 10 {
		t.Fatalf("read only %d events from PostgreSQL's triggers: %v", len(want), want)
	}
	for ev := range want {
		if !got[ev] {
			t.Errorf("PostgreSQL announces %q; SQLite does not count it", ev)
		}
	}
}
