package postgres_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/account"
	"gatehouse/internal/pgtest"
	"gatehouse/internal/postgres"
	"gatehouse/internal/session"
)

// delivered records, in order, the notifications a node's listener
// receives ("session:ID", "account:ID", "flush").
type delivered chan string

func (d delivered) EvictSession(id string) { d <- "session:" + id }
func (d delivered) EvictAccount(id string) { d <- "account:" + id }
func (d delivered) Flush()                 { d <- "flush" }

// until returns what arrived before want, failing the test if want does
// not arrive within a few seconds.
func (d delivered) until(t *testing.T, want string) []string {
	t.Helper()
	var before []string
	timeout := time.After(5 * time.Second)
	for {
		select {
		case got := <-d:
			if got == want {
				return before
			}
			before = append(before, got)
		case <-timeout:
			t.Fatalf("%q not delivered within 5 s; got %q", want, before)
		}
	}
}

// twoNodes returns node A, listening into the returned channel, and node
// B, which writes; both on one fresh database.
func twoNodes(t *testing.T) (a, b *postgres.DB, d delivered) {
	t.Helper()
	url := pgtest.NewDatabase(t)
	ctx := context.Background()
	a, err := postgres.Open(ctx, url, 4, true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	b, err = postgres.Open(ctx, url, 4, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	d = make(delivered, 100)
	lctx, cancel := context.WithCancel(ctx)
	t.Cleanup(cancel)
	go a.Listen(lctx, d, slog.New(slog.DiscardHandler))
	d.until(t, "flush") // listening from here on
	return a, b, d
}

// newSignedIn stores an account with one session, as node B.
func newSignedIn(t *testing.T, db *postgres.DB, id string) (accountID, sessionID string) {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	a := &account.Account{ID: id, Email: id + "@example.com", PasswordHash: "h0", Language: "en", Status: account.Active,
		CreatedAt: now, PasswordChangedAt: now}
	if err := db.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	s := &session.Session{ID: id + "-s", TokenHash: []byte(id + "-token"), AccountID: id, CreatedAt: now, LastSeenAt: now, AuthenticatedAt: now,
		IdleTimeout: time.Hour, AbsoluteExpiresAt: now.Add(time.Hour)}
	if err := db.CreateSession(ctx, s); err != nil {
		t.Fatal(err)
	}
	return a.ID, s.ID
}

// TestNotify_EveryWriteACachedSessionShowsTellsOtherNodes: a cached
// session carries its account, so a change to the account (password —
// changed or transparently rehashed —, preferences, status) or to the
// session (revoked, one or all) must reach every node's cache.
func TestNotify_EveryWriteACachedSessionShowsTellsOtherNodes(t *testing.T) {
	t.Parallel()
	_, b, d := twoNodes(t)
	acc, sess := newSignedIn(t, b, "acc-1")
	ctx := context.Background()
	for _, w := range []struct {
		name  string
		write func() error
		want  string
	}{
		{"password change", func() error { return b.SetPasswordHash(ctx, acc, "h1", time.Now(), true) }, "account:" + acc},
		{"rehash", func() error { return b.SetPasswordHash(ctx, acc, "h1-rehashed", time.Now(), false) }, "account:" + acc},
		{"preferences", func() error { return b.SetPreferences(ctx, acc, "ja", "Asia/Tokyo") }, "account:" + acc},
		{"status", func() error { return b.SetStatus(ctx, acc, account.Disabled) }, "account:" + acc},
		{"sign out", func() error { return b.RevokeSession(ctx, sess, time.Now()) }, "session:" + sess},
		{"sign out everywhere", func() error { return b.RevokeAccountSessions(ctx, acc, time.Now()) }, "account:" + acc},
	} {
		if err := w.write(); err != nil {
			t.Fatalf("%s: %v", w.name, err)
		}
		if before := d.until(t, w.want); len(before) > 0 {
			t.Errorf("%s: unexpected notifications first: %q", w.name, before)
		}
	}
}

// TestNotify_OnlyWhenTheFlowCommits: notifications sent by a flow's writes
// go out with its commit. A flow that fails sends none: since notifications
// arrive in commit order, one from the failed flow (which ended first)
// would arrive before the committed flow's.
func TestNotify_OnlyWhenTheFlowCommits(t *testing.T) {
	t.Parallel()
	_, b, d := twoNodes(t)
	ctx := context.Background()
	failedAcc, failedSess := newSignedIn(t, b, "acc-failed")
	okAcc, _ := newSignedIn(t, b, "acc-ok")

	errQueue := errors.New("the notice could not be queued")
	err := b.InTx(ctx, func(ctx context.Context) error {
		if err := b.SetPasswordHash(ctx, failedAcc, "h-new", time.Now(), true); err != nil {
			return err
		}
		if err := b.RevokeSession(ctx, failedSess, time.Now()); err != nil {
			return err
		}
		if err := b.RevokeAccountSessions(ctx, failedAcc, time.Now()); err != nil {
			return err
		}
		return errQueue
	})
	if err != errQueue {
		t.Fatalf("failed flow: %v, want its own error back", err)
	}
	if a, err := b.AccountByID(ctx, failedAcc); err != nil || a.PasswordHash != "h0" {
		t.Fatalf("failed flow's password change was kept: %+v %v", a, err)
	}

	err = b.InTx(ctx, func(ctx context.Context) error {
		if err := b.SetPasswordHash(ctx, okAcc, "h-new", time.Now(), true); err != nil {
			return err
		}
		return b.RevokeAccountSessions(ctx, okAcc, time.Now())
	})
	if err != nil {
		t.Fatal(err)
	}
	before := d.until(t, "account:"+okAcc)
	for _, n := range before {
		if strings.HasSuffix(n, ":"+failedAcc) || strings.HasSuffix(n, ":"+failedSess) {
			t.Errorf("the failed flow's notification %q was delivered", n)
		}
	}
	if len(before) > 0 {
		t.Errorf("unexpected notifications: %q", before)
	}
}
