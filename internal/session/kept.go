package session

import "sync"

// Kept keeps what a signed-in page read about a session's account and
// browser (its two-step methods, trusted browsers, requests waiting for an
// answer), by the session's token hash, with the account's change count
// it was read at (account.Account.Changes). The store counts every write
// to those rows in the writing transaction, whichever process makes it
// (SQLite triggers, migration 0018), and the session check reads the count
// with the session: a kept value is used only while the count is the one
// it was read at, so another process's change — a `gatehouse` command on
// the same data directory — shows on the next view, and no notification
// is needed. It is the session cache's Attach for a store that counts
// changes instead of announcing them; unlike the cache it keeps no
// session, so revocation stays the store's word on every check.
type Kept struct {
	max int

	mu sync.Mutex
	m  map[string]keptEntry // by token hash
}

type keptEntry struct {
	changes uint64
	v       any
}

// NewKept returns a Kept holding values for at most max sessions.
func NewKept(max int) *Kept {
	return &Kept{max: max, m: make(map[string]keptEntry)}
}

// get returns what was kept for the session whose token hashes to h, if it
// was read at the account's current change count.
func (k *Kept) get(h []byte, changes uint64) any {
	k.mu.Lock()
	defer k.mu.Unlock()
	e, ok := k.m[string(h)]
	if !ok || e.changes != changes {
		return nil
	}
	return e.v
}

// put keeps v, read after the account's change count was changes.
func (k *Kept) put(h []byte, changes uint64, v any) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.m[string(h)]; !ok && len(k.m) >= k.max {
		// Drop an arbitrary tenth: cheap, and a miss only costs a read.
		n := max(k.max/10, 1)
		for key := range k.m {
			delete(k.m, key)
			if n--; n <= 0 {
				break
			}
		}
	}
	k.m[string(h)] = keptEntry{changes: changes, v: v}
}

// Len reports for how many sessions something is kept.
func (k *Kept) Len() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.m)
}

// Mark is what a page takes, with Manager.Mark, before reading what it
// will Attach: a value read before a change is then never kept as newer.
type Mark struct {
	epoch   uint64 // the session cache's (Cache.Epoch)
	changes uint64 // the account's change count the session was read with
}

// Mark returns the mark to pass to Attach for values about to be read for
// the checked session s.
func (m *Manager) Mark(s *Session) Mark {
	var mk Mark
	if m.Cache != nil {
		mk.epoch = m.Cache.Epoch()
	}
	if s.Account != nil {
		mk.changes = s.Account.Changes
	}
	return mk
}

// Attach keeps v, read after mk was taken, with the checked session s for
// its next views (Attached): with the session cache's copy (Cache.Attach),
// or by the account's change count (Kept). Without either it keeps nothing.
func (m *Manager) Attach(s *Session, mk Mark, v any) {
	switch {
	case m.Cache != nil:
		m.Cache.Attach(s.TokenHash, mk.epoch, v)
	case m.Kept != nil && s.Account != nil:
		m.Kept.put(s.TokenHash, mk.changes, v)
	}
}

// Attached returns what was attached to the checked session s and is still
// current, or nil.
func (m *Manager) Attached(s *Session) any {
	switch {
	case m.Cache != nil:
		return m.Cache.Attached(s.TokenHash, m.now())
	case m.Kept != nil && s.Account != nil:
		return m.Kept.get(s.TokenHash, s.Account.Changes)
	}
	return nil
}
