package session

import (
	"sync"
	"time"
)

// Cache remembers recent session checks in memory so that a busy node does
// not ask the database on every request. Correctness does not depend on its
// TTL: every revocation (sign out, sign out everywhere, account disabled)
// evicts the affected entries at once — on this node directly, and on the
// other nodes through the database's notifications (PostgreSQL
// LISTEN/NOTIFY). The TTL bounds the harm if a notification is ever lost,
// and a node that loses its notification connection flushes everything.
type Cache struct {
	TTL     time.Duration
	MaxSize int

	mu      sync.RWMutex
	entries map[string]cacheEntry // by token hash
}

type cacheEntry struct {
	s     Session
	until time.Time
}

// NewCache returns a cache holding at most maxSize sessions for ttl each.
func NewCache(ttl time.Duration, maxSize int) *Cache {
	return &Cache{TTL: ttl, MaxSize: maxSize, entries: make(map[string]cacheEntry)}
}

func (c *Cache) get(hash []byte, now time.Time) (*Session, bool) {
	c.mu.RLock()
	e, ok := c.entries[string(hash)]
	c.mu.RUnlock()
	if !ok || !now.Before(e.until) {
		return nil, false
	}
	s := e.s // a copy: callers may change LastSeenAt
	if s.Account != nil {
		a := *s.Account
		s.Account = &a
	}
	return &s, true
}

func (c *Cache) put(s *Session, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.MaxSize {
		// Drop an arbitrary tenth: cheap, and a miss only costs a query.
		n := c.MaxSize / 10
		for k := range c.entries {
			delete(c.entries, k)
			if n--; n <= 0 {
				break
			}
		}
	}
	cp := *s
	if s.Account != nil {
		a := *s.Account
		cp.Account = &a
	}
	c.entries[string(s.TokenHash)] = cacheEntry{s: cp, until: now.Add(c.TTL)}
}

// EvictSession drops the session with the given id.
func (c *Cache) EvictSession(id string) {
	c.evict(func(s *Session) bool { return s.ID == id })
}

// EvictAccount drops every session of the account.
func (c *Cache) EvictAccount(accountID string) {
	c.evict(func(s *Session) bool { return s.AccountID == accountID })
}

// Flush drops everything (after a lost notification connection).
func (c *Cache) Flush() {
	c.mu.Lock()
	c.entries = make(map[string]cacheEntry)
	c.mu.Unlock()
}

func (c *Cache) evict(match func(*Session) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.entries {
		if match(&e.s) {
			delete(c.entries, k)
		}
	}
}

// Len reports how many sessions are cached.
func (c *Cache) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}
