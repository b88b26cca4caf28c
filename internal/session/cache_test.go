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
