package session_test

import (
	"context"
	"testing"
	"time"

	"gatehouse/internal/account"
	"gatehouse/internal/session"
)

// TestCache_AttachedIsForgottenWithTheSessionAndNeverKeptAcrossAnEviction:
// what a page attaches to a cached session is returned until the session's
// account is evicted, the cache flushed or the session's copy refreshed;
// an attachment read before an eviction since is refused; an account's
// eviction leaves other accounts' sessions alone.
func TestCache_AttachedIsForgottenWithTheSessionAndNeverKeptAcrossAnEviction(t *testing.T) {
	ctx := context.Background()
	m, c, db := setup(t)
	m.Cache = session.NewCache(time.Hour, 100)
	if err := db.CreateAccount(ctx, &account.Account{ID: "other", Email: "o@example.com", PasswordHash: "x", Status: account.Active, CreatedAt: c.t, PasswordChangedAt: c.t}); err != nil {
		t.Fatal(err)
	}
	start := func(acc string) (string, []byte) {
		t.Helper()
		tok, _, err := m.Start(ctx, acc, "dev", "203.0.113.1", false)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Check(ctx, tok); err != nil {
			t.Fatal(err)
		}
		return tok, session.HashToken(tok)
	}
	_, ha := start("acc")
	tb, hb := start("other")

	e := m.Cache.Epoch()
	m.Cache.Attach(ha, e, "facts of acc")
	m.Cache.Attach(hb, e, "facts of other")
	if got := m.Cache.Attached(ha, c.t); got != "facts of acc" {
		t.Fatalf("attached: %v", got)
	}
	m.Cache.EvictAccount("acc")
	if m.Cache.Attached(ha, c.t) != nil || m.Cache.Len() != 1 {
		t.Fatalf("after the account's eviction: %v, %d sessions", m.Cache.Attached(ha, c.t), m.Cache.Len())
	}
	if m.Cache.Attached(hb, c.t) != "facts of other" {
		t.Fatal("another account's attachment went with it")
	}
	// Read before that eviction: refused.
	m.Cache.Attach(hb, e, "stale")
	if m.Cache.Attached(hb, c.t) != "facts of other" {
		t.Fatal("an attachment read before an eviction was kept")
	}
	m.Cache.Attach(hb, m.Cache.Epoch(), "fresh")
	if m.Cache.Attached(hb, c.t) != "fresh" {
		t.Fatal("a fresh attachment was refused")
	}
	// The session's copy refreshed (its use written back): read again.
	c.t = c.t.Add(2 * time.Minute)
	if _, err := m.Check(ctx, tb); err != nil {
		t.Fatal(err)
	}
	if m.Cache.Attached(hb, c.t) != nil {
		t.Fatal("kept across the session's refresh")
	}
	m.Cache.Attach(hb, m.Cache.Epoch(), "again")
	m.Cache.Flush()
	if m.Cache.Attached(hb, c.t) != nil || m.Cache.Len() != 0 {
		t.Fatal("kept after a flush")
	}
}

// racingStore is a session store whose read is overtaken by a sign-out:
// the session is revoked, and its eviction done, after the row was read
// and before the check keeps it.
type racingStore struct {
	session.Store
	cache *session.Cache
	once  bool
}

func (r *racingStore) SessionByTokenHash(ctx context.Context, h []byte) (*session.Session, error) {
	s, err := r.Store.SessionByTokenHash(ctx, h)
	if err == nil && !r.once {
		r.once = true
		r.Store.RevokeSession(ctx, s.ID, time.Now())
		r.cache.EvictSession(s.ID)
	}
	return s, err
}

// TestCache_ACopyReadBeforeASignOutIsNotKept_V7_4_1: a check that read the
// session just before a sign-out committed answers with what it read, but
// does not keep it: the next check asks the store, which says the session
// has ended. Evicting one session by id leaves the account's others.
func TestCache_ACopyReadBeforeASignOutIsNotKept_V7_4_1(t *testing.T) {
	t.Parallel()
	m, _, db := setup(t)
	ctx := context.Background()
	cache := session.NewCache(time.Hour, 100)
	m.Cache = cache
	tok, s, err := m.Start(ctx, "acc", "dev-1", "192.0.2.1", false)
	if err != nil {
		t.Fatal(err)
	}
	m.Store = &racingStore{Store: db, cache: cache}
	if _, err := m.Check(ctx, tok); err != nil {
		t.Fatalf("the check that raced the sign-out: %v", err)
	}
	if cache.Len() != 0 {
		t.Fatal("a copy read before the sign-out's eviction was kept")
	}
	if _, err := m.Check(ctx, tok); err != session.ErrNoSession {
		t.Fatalf("after the sign-out: %v, want ErrNoSession", err)
	}

	m.Store = db
	tokA, _, _ := m.Start(ctx, "acc", "dev-2", "192.0.2.1", false)
	tokB, b, _ := m.Start(ctx, "acc", "dev-3", "192.0.2.1", false)
	for _, tk := range []string{tokA, tokB} {
		if _, err := m.Check(ctx, tk); err != nil {
			t.Fatal(err)
		}
	}
	if cache.Len() != 2 {
		t.Fatalf("%d cached, want 2", cache.Len())
	}
	cache.EvictSession(b.ID)
	cache.EvictSession(s.ID) // long gone: nothing to do
	if cache.Len() != 1 {
		t.Fatalf("%d cached after evicting one, want 1", cache.Len())
	}
}
