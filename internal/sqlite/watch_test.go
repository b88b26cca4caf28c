package sqlite_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"gatehouse/internal/account"
	"gatehouse/internal/session"
	"gatehouse/internal/sqlite"
)

// heard records what a watcher passed on.
type heard struct {
	mu       sync.Mutex
	accounts []string
	flushes  int
}

func (h *heard) EvictAccount(id string) {
	h.mu.Lock()
	h.accounts = append(h.accounts, id)
	h.mu.Unlock()
}

func (h *heard) Flush() { h.mu.Lock(); h.flushes++; h.mu.Unlock() }

// take returns and forgets what was heard.
func (h *heard) take() ([]string, int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	a, f := h.accounts, h.flushes
	h.accounts, h.flushes = nil, 0
	return a, f
}

// TestWatch_EveryChangeToACachedSessionIsHeard (ASVS v5.0.0-7.4.1, 7.4.2:
// a revoked session or a disabled account is refused at once): the SQLite
// session cache answers checks from memory, so every change to what a
// cached session says must reach it — this process's own before the write
// returns, another process's (a `gatehouse` command on the same file)
// within the watch interval — and the session check's own once-a-minute
// write must not empty the cache.
func TestWatch_EveryChangeToACachedSessionIsHeard(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, other := serverAndCommand(t, "acc", "neighbour")
	now := time.Now().Truncate(time.Second)
	for i, id := range []string{"s1", "s2", "s3"} {
		if err := db.CreateSession(ctx, &session.Session{ID: id, TokenHash: []byte("token " + id), AccountID: "acc", CreatedAt: now,
			LastSeenAt: now, AuthenticatedAt: now, IdleTimeout: time.Hour, AbsoluteExpiresAt: now.Add(time.Duration(i+1) * time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}

	h := &heard{}
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	// A long interval: this process's own changes must not wait for it.
	if err := db.Watch(wctx, h, time.Hour, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	if _, f := h.take(); f != 1 {
		t.Fatalf("starting to watch flushed %d times, want 1 (nothing cached from before)", f)
	}
	later := now.Add(time.Minute)
	own := func(what string, want []string, write func() error) {
		t.Helper()
		if err := write(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		got, f := h.take()
		if f != 0 || !slices.Equal(unique(got), want) {
			t.Errorf("%s: heard accounts %q and %d flushes at once, want %q and none", what, got, f, want)
		}
	}
	own("the session used (the check's own write)", nil, func() error { return db.TouchSession(ctx, "s1", later) })
	own("another account's preferences", []string{"neighbour"}, func() error { return db.SetPreferences(ctx, "neighbour", "ja", "") })
	own("the session re-verified", []string{"acc"}, func() error { return db.Reauthenticate(ctx, "s1", later, []string{"pwd", "otp", "mfa"}) })
	own("one session revoked", []string{"acc"}, func() error { return db.RevokeSession(ctx, "s1", later) })
	own("the account disabled", []string{"acc"}, func() error { return db.SetStatus(ctx, "acc", account.Disabled) })
	own("the account enabled, in a flow's transaction", []string{"acc"}, func() error {
		return db.InTx(ctx, func(ctx context.Context) error { return db.SetStatus(ctx, "acc", account.Active) })
	})
	own("a second step added", []string{"acc"}, func() error { return db.SetPhone(ctx, "acc", "+819012345678", later) })

	// Another process: heard at the next reading of the log, which the
	// test forces with a write of this process's own.
	if err := other.RevokeAccountSessions(ctx, "acc", later); err != nil {
		t.Fatal(err)
	}
	if got, _ := h.take(); len(got) != 0 {
		t.Fatalf("another process's change heard before the log was read: %q", got)
	}
	own("another process's revocation, read with this process's next write", []string{"acc", "neighbour"}, func() error {
		return db.SetPreferences(ctx, "neighbour", "en", "")
	})

	// An erased account's id leaves the log: everything is forgotten.
	if err := db.EraseAccount(ctx, &account.Account{ID: "neighbour", Email: "neighbour@example.com"}); err != nil {
		t.Fatal(err)
	}
	if _, f := h.take(); f == 0 {
		t.Error("erasing an account flushed nothing")
	}
}

// TestWatch_AnotherProcessWithinTheInterval: with nothing written by the
// server itself, another process's revocation is heard by the poll.
func TestWatch_AnotherProcessWithinTheInterval(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, other := serverAndCommand(t, "acc")
	h := &heard{}
	wctx, stop := context.WithCancel(ctx)
	if err := db.Watch(wctx, h, 5*time.Millisecond, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	h.take()
	if err := other.SetStatus(ctx, "acc", account.Disabled); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for got, _ := h.take(); !slices.Contains(got, "acc"); got, _ = h.take() {
		if time.Since(start) > 5*time.Second {
			t.Fatal("another process's change never heard")
		}
		time.Sleep(time.Millisecond)
	}
	t.Logf("heard in %v", time.Since(start))
	// Stopping forgets everything: nothing is heard from then on.
	stop()
	for _, f := h.take(); f == 0; _, f = h.take() {
		if time.Since(start) > 5*time.Second {
			t.Fatal("stopping did not flush")
		}
		time.Sleep(time.Millisecond)
	}
}

func unique(s []string) []string {
	slices.Sort(s)
	return slices.Compact(s)
}

// serverAndCommand opens a new database file twice — the server's handle
// and a `gatehouse` command's — with the accounts ids in it.
func serverAndCommand(t *testing.T, ids ...string) (server, command *sqlite.DB) {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "t.db")
	server, err := sqlite.Open(ctx, path, true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Close() })
	command, err = sqlite.Open(ctx, path, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { command.Close() })
	now := time.Now().Truncate(time.Second)
	for _, id := range ids {
		if err := server.CreateAccount(ctx, &account.Account{ID: id, Email: id + "@example.com", PasswordHash: "x", Language: "en",
			Status: account.Active, CreatedAt: now, ConfirmedAt: now, PasswordChangedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	return server, command
}
