package session_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"gatehouse/internal/account"
	"gatehouse/internal/session"
	"gatehouse/internal/sqlite"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func setup(t *testing.T) (*session.Manager, *clock, *sqlite.DB) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "t.db"), true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	if err := db.CreateAccount(ctx, &account.Account{ID: "acc", Email: "a@example.com", PasswordHash: "x", Status: account.Active, CreatedAt: now, PasswordChangedAt: now}); err != nil {
		t.Fatal(err)
	}
	c := &clock{now}
	return &session.Manager{Store: db, Clock: c.now, Lifetimes: session.Lifetimes{Idle: time.Hour, Absolute: 24 * time.Hour, Remember: 30 * 24 * time.Hour}}, c, db
}

func TestStart_TokenIs256BitsAndStoredOnlyAsSHA256_V7_2_3(t *testing.T) {
	t.Parallel()
	m, _, db := setup(t)
	ctx := context.Background()
	tok, s, err := m.Start(ctx, "acc", "dev", "127.0.0.1", false)
	if err != nil {
		t.Fatal(err)
	}
	if len(tok) != 43 { // 32 bytes base64url
		t.Fatalf("token %q is not 256 bits", tok)
	}
	sum := sha256.Sum256([]byte(tok))
	got, err := db.SessionByTokenHash(ctx, sum[:])
	if err != nil || got.ID != s.ID || !bytes.Equal(got.TokenHash, sum[:]) {
		t.Fatalf("session not found by SHA-256 of its token: %v", err)
	}
	tok2, _, _ := m.Start(ctx, "acc", "dev", "127.0.0.1", false)
	if tok2 == tok {
		t.Fatal("every sign-in must get a new token (ASVS v5.0.0-7.2.4)")
	}
}

func TestCheck_IdleTimeout_V7_3_1(t *testing.T) {
	t.Parallel()
	m, c, _ := setup(t)
	ctx := context.Background()
	tok, _, _ := m.Start(ctx, "acc", "dev", "ip", false)
	c.t = c.t.Add(59 * time.Minute)
	if _, err := m.Check(ctx, tok); err != nil {
		t.Fatalf("after 59 idle minutes: %v", err)
	}
	// Use extended the idle window.
	c.t = c.t.Add(59 * time.Minute)
	if _, err := m.Check(ctx, tok); err != nil {
		t.Fatalf("59 minutes after last use: %v", err)
	}
	c.t = c.t.Add(time.Hour + time.Minute) // the timeout plus the write-back slack
	if _, err := m.Check(ctx, tok); !errors.Is(err, session.ErrNoSession) {
		t.Fatalf("after an idle hour: %v, want ErrNoSession", err)
	}
}

func TestCheck_AbsoluteTimeout_V7_3_2(t *testing.T) {
	t.Parallel()
	m, c, _ := setup(t)
	ctx := context.Background()
	tok, _, _ := m.Start(ctx, "acc", "dev", "ip", false)
	for range 24 { // keep it busy every 50 minutes for a day
		c.t = c.t.Add(50 * time.Minute)
		if c.t.Sub(time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)) >= 24*time.Hour {
			break
		}
		if _, err := m.Check(ctx, tok); err != nil {
			t.Fatalf("busy session died early at %v: %v", c.t, err)
		}
	}
	c.t = time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	if _, err := m.Check(ctx, tok); !errors.Is(err, session.ErrNoSession) {
		t.Fatalf("after 24 h: %v, want ErrNoSession", err)
	}
}

func TestCheck_RememberedSessionLasts30Days(t *testing.T) {
	t.Parallel()
	m, c, _ := setup(t)
	ctx := context.Background()
	tok, s, _ := m.Start(ctx, "acc", "dev", "ip", true)
	if want := c.t.Add(30 * 24 * time.Hour); !s.AbsoluteExpiresAt.Equal(want) {
		t.Fatalf("absolute expiry %v, want %v", s.AbsoluteExpiresAt, want)
	}
	c.t = c.t.Add(29 * 24 * time.Hour)
	if _, err := m.Check(ctx, tok); err != nil {
		t.Fatalf("day 29: %v", err)
	}
	c.t = c.t.Add(25 * time.Hour)
	if _, err := m.Check(ctx, tok); !errors.Is(err, session.ErrNoSession) {
		t.Fatalf("day 30+: %v", err)
	}
}

func TestEnd_AndEndAll_InvalidateServerSide_V7_4_1(t *testing.T) {
	t.Parallel()
	m, _, _ := setup(t)
	ctx := context.Background()
	a, _, _ := m.Start(ctx, "acc", "d1", "ip", false)
	b, _, _ := m.Start(ctx, "acc", "d2", "ip", false)
	c, _, _ := m.Start(ctx, "acc", "d3", "ip", false)
	if err := m.End(ctx, a); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Check(ctx, a); !errors.Is(err, session.ErrNoSession) {
		t.Fatalf("ended session still valid: %v", err)
	}
	if _, err := m.Check(ctx, b); err != nil {
		t.Fatalf("other session hurt by End: %v", err)
	}
	m.EndAll(ctx, "acc")
	for _, tok := range []string{b, c} {
		if _, err := m.Check(ctx, tok); !errors.Is(err, session.ErrNoSession) {
			t.Fatalf("session survived EndAll: %v", err)
		}
	}
	if _, err := m.Check(ctx, "made-up"); !errors.Is(err, session.ErrNoSession) {
		t.Fatalf("unknown token: %v", err)
	}
}

func TestCache_AnswersFromMemoryAndEvictsOnRevocation(t *testing.T) {
	t.Parallel()
	m, c, db := setup(t)
	ctx := context.Background()
	m.Cache = session.NewCache(30*time.Second, 100)
	tok, s, _ := m.Start(ctx, "acc", "dev", "ip", false)
	other, _, _ := m.Start(ctx, "acc", "dev2", "ip", false)
	if _, err := m.Check(ctx, tok); err != nil || m.Cache.Len() != 1 {
		t.Fatalf("first check: %v, cached %d", err, m.Cache.Len())
	}
	// Revoked behind the cache's back (another process): the cache still
	// answers until its TTL — which is why revocations also notify.
	db.RevokeSession(ctx, s.ID, c.t)
	if _, err := m.Check(ctx, tok); err != nil {
		t.Fatalf("cached check: %v", err)
	}
	c.t = c.t.Add(31 * time.Second)
	if _, err := m.Check(ctx, tok); !errors.Is(err, session.ErrNoSession) {
		t.Fatalf("after the TTL the revocation must show: %v", err)
	}
	// Through the manager, eviction is immediate.
	m.Check(ctx, other)
	if err := m.EndAll(ctx, "acc"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Check(ctx, other); !errors.Is(err, session.ErrNoSession) {
		t.Fatalf("EndAll must evict: %v", err)
	}
	if m.Cache.Len() != 0 {
		t.Fatalf("cache holds %d after EndAll", m.Cache.Len())
	}
}

// TestCheck_UseInsideIdleWindowAlwaysExtendsIt_V7_3_1: for any configured
// idle timeout, a holder who keeps using the session at intervals shorter
// than the timeout is never signed out, and one who stops is signed out no
// later than the timeout plus the write-back slack (a twentieth, at most a
// minute). The write-back throttle used to be the judge: with a 20 s
// timeout a holder active every 5 s was signed out at 20 s.
func TestCheck_UseInsideIdleWindowAlwaysExtendsIt_V7_3_1(t *testing.T) {
	t.Parallel()
	for _, idle := range []time.Duration{time.Second, 20 * time.Second, 90 * time.Second, 10 * time.Minute, time.Hour} {
		for _, every := range []time.Duration{idle / 4, idle / 2, idle - idle/50} {
			t.Run(idle.String()+"/"+every.String(), func(t *testing.T) {
				m, c, _ := setup(t)
				m.Lifetimes = session.Lifetimes{Idle: idle, Absolute: 1000 * idle, Remember: 1000 * idle}
				ctx := context.Background()
				tok, _, _ := m.Start(ctx, "acc", "dev", "ip", false)
				for i := range 40 {
					c.t = c.t.Add(every)
					if _, err := m.Check(ctx, tok); err != nil {
						t.Fatalf("use %d, %v after the previous one: %v", i, every, err)
					}
				}
				c.t = c.t.Add(idle - time.Millisecond)
				if _, err := m.Check(ctx, tok); err != nil {
					t.Fatalf("just inside the idle window after the last use: %v", err)
				}
				c.t = c.t.Add(idle + min(time.Minute, idle/20))
				if _, err := m.Check(ctx, tok); !errors.Is(err, session.ErrNoSession) {
					t.Fatalf("idle for the timeout plus slack: %v, want ErrNoSession", err)
				}
			})
		}
	}
}

// TestCheck_CachedCopyIsNotTheJudgeOfIdleness: with several nodes, the node
// that cached a session does not see uses served by the others; a stale
// cached LastSeenAt must not sign the holder out.
func TestCheck_CachedCopyIsNotTheJudgeOfIdleness(t *testing.T) {
	t.Parallel()
	a, c, db := setup(t)
	a.Lifetimes.Idle = 20 * time.Second
	b := &session.Manager{Store: db, Clock: c.now, Lifetimes: a.Lifetimes, Cache: session.NewCache(time.Hour, 100)}
	a.Cache = session.NewCache(time.Hour, 100)
	ctx := context.Background()
	tok, _, _ := a.Start(ctx, "acc", "dev", "ip", false)
	if _, err := b.Check(ctx, tok); err != nil { // node b caches it now
		t.Fatal(err)
	}
	for range 8 { // the holder's next requests all reach node a
		c.t = c.t.Add(5 * time.Second)
		if _, err := a.Check(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	c.t = c.t.Add(5 * time.Second)
	if _, err := b.Check(ctx, tok); err != nil {
		t.Fatalf("node b judged a busy session idle from its cached copy: %v", err)
	}
}
