package postgres_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"gatehouse/internal/pgtest"
	"gatehouse/internal/postgres"
)

type changes struct {
	mu       sync.Mutex
	sessions []string
	accounts []string
	flushes  int
}

func (c *changes) EvictSession(id string) {
	c.mu.Lock()
	c.sessions = append(c.sessions, id)
	c.mu.Unlock()
}
func (c *changes) EvictAccount(id string) {
	c.mu.Lock()
	c.accounts = append(c.accounts, id)
	c.mu.Unlock()
}
func (c *changes) Flush() { c.mu.Lock(); c.flushes++; c.mu.Unlock() }
func (c *changes) seen() (int, int, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.sessions), len(c.accounts), c.flushes
}

// TestListen_RevocationsReachOtherNodes: a revocation committed through one
// connection pool (node B) is delivered to another's listener (node A).
func TestListen_RevocationsReachOtherNodes(t *testing.T) {
	url := pgtest.NewDatabase(t)
	ctx := context.Background()
	a, err := postgres.Open(ctx, url, 4, true)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, _ := postgres.Open(ctx, url, 4, false)
	defer b.Close()
	c := &changes{}
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go a.Listen(lctx, c, slog.New(slog.DiscardHandler))
	deadline := time.Now().Add(5 * time.Second)
	for _, _, f := c.seen(); f == 0; _, _, f = c.seen() { // listening
		if time.Now().After(deadline) {
			t.Fatal("listener never connected")
		}
		time.Sleep(10 * time.Millisecond)
	}
	b.RevokeAccountSessions(ctx, "acc-1", time.Now())
	start := time.Now()
	for _, n, _ := c.seen(); n == 0; _, n, _ = c.seen() {
		if time.Since(start) > time.Second {
			t.Fatal("account revocation not delivered within 1 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("delivered in %v", time.Since(start))
}
