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

	mu        sync.RWMutex
	entries   map[string]cacheEntry          // by token hash
	byAccount map[string]map[string]struct{} // account id → its entries' token hashes
	byID      map[string]string              // session id → its entry's token hash
	// attached is what a page read about the account with a cached
	// session (see Attach), by token hash, forgotten with the session.
	attached map[string]any
	// epoch counts what the cache forgot: an eviction or a flush adds
	// one. Attach keeps nothing read before the latest of them.
	epoch uint64
}

type cacheEntry struct {
	s     Session
	until time.Time
}

// NewCache returns a cache holding at most maxSize sessions for ttl each.
func NewCache(ttl time.Duration, maxSize int) *Cache {
	return &Cache{TTL: ttl, MaxSize: maxSize, entries: make(map[string]cacheEntry),
		byAccount: make(map[string]map[string]struct{}), byID: make(map[string]string), attached: make(map[string]any)}
}

// Epoch returns the cache's count of evictions and flushes. A caller about
// to read something it will Attach takes it first.
func (c *Cache) Epoch() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.epoch
}

// Attach keeps v with the cached session whose token hashes to h — what a
// signed-in page read about the session's account and browser, for its
// next views — unless that session is no longer cached or the cache
// forgot anything since epoch (taken with Epoch before v was read): v may
// then predate a change, whose eviction has already passed. It is
// forgotten with the session: on every eviction of the session or its
// account, on any node (PostgreSQL's notifications, sent by triggers on
// the rows such pages read), and when the session's copy is refreshed.
func (c *Cache) Attach(h []byte, epoch uint64, v any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[string(h)]; !ok || c.epoch != epoch {
		return
	}
	c.attached[string(h)] = v
}

// Attached returns what was attached to the cached session whose token
// hashes to h, or nil.
func (c *Cache) Attached(h []byte, now time.Time) any {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.entries[string(h)]
	if !ok || !now.Before(e.until) {
		return nil
	}
	return c.attached[string(h)]
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

// put keeps a copy of s, read from the store after the cache's epoch was
// taken: when anything was evicted since, the copy may predate that
// revocation — a sign-out that committed while it was being read, whose
// eviction found nothing to drop — and is not kept (the next check reads
// the store again).
func (c *Cache) put(s *Session, now time.Time, epoch uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.epoch != epoch {
		return
	}
	if len(c.entries) >= c.MaxSize {
		// Drop an arbitrary tenth: cheap, and a miss only costs a query.
		n := c.MaxSize / 10
		for k, e := range c.entries {
			c.remove(k, &e.s)
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
	k := string(s.TokenHash)
	if old, ok := c.entries[k]; ok && (old.s.AccountID != cp.AccountID || old.s.ID != cp.ID) {
		c.remove(k, &old.s)
	}
	c.entries[k] = cacheEntry{s: cp, until: now.Add(c.TTL)}
	delete(c.attached, k) // read with the older copy
	hs := c.byAccount[cp.AccountID]
	if hs == nil {
		hs = make(map[string]struct{}, 1)
		c.byAccount[cp.AccountID] = hs
	}
	hs[k] = struct{}{}
	c.byID[cp.ID] = k
}

// remove drops one entry and its indexes; c.mu is held.
func (c *Cache) remove(k string, s *Session) {
	delete(c.entries, k)
	delete(c.attached, k)
	if c.byID[s.ID] == k {
		delete(c.byID, s.ID)
	}
	if hs := c.byAccount[s.AccountID]; hs != nil {
		delete(hs, k)
		if len(hs) == 0 {
			delete(c.byAccount, s.AccountID)
		}
	}
}

// EvictSession drops the session with the given id.
func (c *Cache) EvictSession(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	if k, ok := c.byID[id]; ok {
		if e, ok := c.entries[k]; ok {
			c.remove(k, &e.s)
		}
		delete(c.byID, id)
	}
}

// EvictAccount drops every session of the account, with what was attached
// to them. Every change to an account on any node comes here (through
// PostgreSQL's notifications), so it looks only at that account's entries.
func (c *Cache) EvictAccount(accountID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	for k := range c.byAccount[accountID] {
		if e, ok := c.entries[k]; ok {
			delete(c.byID, e.s.ID)
		}
		delete(c.entries, k)
		delete(c.attached, k)
	}
	delete(c.byAccount, accountID)
}

// Flush drops everything (after a lost notification connection).
func (c *Cache) Flush() {
	c.mu.Lock()
	c.epoch++
	c.entries = make(map[string]cacheEntry)
	c.byAccount = make(map[string]map[string]struct{})
	c.byID = make(map[string]string)
	c.attached = make(map[string]any)
	c.mu.Unlock()
}

// Len reports how many sessions are cached.
func (c *Cache) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}
