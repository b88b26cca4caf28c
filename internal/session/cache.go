package session

import (
	"math"
	"strings"
	"sync"
	"time"

	"gatehouse/internal/account"
)

// Cache remembers recent session checks in memory so that a busy node does
// not ask the database on every request. Correctness does not depend on its
// TTL: every revocation (sign out, sign out everywhere, account disabled)
// evicts the affected entries at once — on this node directly, and on the
// other nodes through the database's notifications (PostgreSQL
// LISTEN/NOTIFY), or the change log a process on the same SQLite file
// reads (sqlite.DB.Watch). The TTL bounds the harm if a notification is
// ever lost, and a node that loses its notification connection flushes
// everything.
//
// Each session is kept packed (see packed): a full cache is what the
// collector marks on every cycle, and with one session in a dozen small
// objects, marking it was a third of a busy forward-auth node's CPU
// (issue 21). An eviction does not look for the entries it ends: it moves
// the account's or the session's generation on, and an entry kept at an
// older one is no longer returned — so the cache needs no index by account
// or session, two more maps of small objects to mark.
type Cache struct {
	TTL     time.Duration
	MaxSize int

	mu      sync.RWMutex
	entries map[string]packed // by token hash
	// accounts and sessions count the evictions of each account and
	// session (by id) since the last flush; an entry is current while
	// both counts are the ones it was kept at.
	accounts map[string]uint32
	sessions map[string]uint32
	// attached is what a page read about the account with a cached
	// session (see Attach), by token hash, forgotten with the session.
	attached map[string]any
	// epoch counts what the cache forgot: an eviction or a flush adds
	// one. Attach keeps nothing read before the latest of them.
	epoch uint64
}

// NewCache returns a cache holding at most maxSize sessions for ttl each.
func NewCache(ttl time.Duration, maxSize int) *Cache {
	c := &Cache{TTL: ttl, MaxSize: maxSize}
	c.clear()
	return c
}

// clear empties the cache; c.mu is held (or c is new).
func (c *Cache) clear() {
	c.entries = make(map[string]packed)
	c.accounts = make(map[string]uint32)
	c.sessions = make(map[string]uint32)
	c.attached = make(map[string]any)
}

// Epoch returns the cache's count of evictions and flushes. A caller about
// to read something it will Attach takes it first.
func (c *Cache) Epoch() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.epoch
}

// current returns the entry for token hash h if it is neither evicted nor
// past its time; c.mu is held.
func (c *Cache) current(h []byte, now time.Time) (packed, bool) {
	e, ok := c.entries[string(h)]
	if !ok || now.UnixNano() >= e.until ||
		e.accountGen != c.accounts[e.field(fAccountID)] || e.sessionGen != c.sessions[e.field(fID)] {
		return packed{}, false
	}
	return e, true
}

// Attach keeps v with the cached session whose token hashes to h — what a
// signed-in page read about the session's account and browser, for its
// next views — unless that session is no longer cached or the cache
// forgot anything since epoch (taken with Epoch before v was read): v may
// then predate a change, whose eviction has already passed. It is
// forgotten with the session: on every eviction of the session or its
// account, on any node (PostgreSQL's notifications, sent by triggers on
// the rows such pages read; SQLite's change log), and when the session's
// copy is refreshed.
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
	if _, ok := c.current(h, now); !ok {
		return nil
	}
	return c.attached[string(h)]
}

func (c *Cache) get(hash []byte, now time.Time) (*Session, bool) {
	c.mu.RLock()
	e, ok := c.current(hash, now)
	c.mu.RUnlock()
	if !ok {
		return nil, false
	}
	return e.unpack(hash), true // a new copy: callers may change LastSeenAt
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
	k := string(s.TokenHash)
	if _, ok := c.entries[k]; !ok && len(c.entries) >= c.MaxSize {
		// Drop an arbitrary tenth: cheap, and a miss only costs a query.
		n := max(c.MaxSize/10, 1)
		for k := range c.entries {
			delete(c.entries, k)
			delete(c.attached, k)
			if n--; n <= 0 {
				break
			}
		}
	}
	e := pack(s)
	e.until = now.Add(c.TTL).UnixNano()
	e.accountGen, e.sessionGen = c.accounts[s.AccountID], c.sessions[s.ID]
	c.entries[k] = e
	delete(c.attached, k) // read with the older copy
}

// EvictSession drops the session with the given id.
func (c *Cache) EvictSession(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	c.sessions[id]++
	c.bound()
}

// EvictAccount drops every session of the account, with what was attached
// to them. Every change to an account on any node comes here (through
// PostgreSQL's notifications or SQLite's change log), so it costs two map
// writes, whatever the cache holds.
func (c *Cache) EvictAccount(accountID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	c.accounts[accountID]++
	c.bound()
}

// bound flushes the cache once it counts more evictions than it may hold
// sessions: a flush is the only way to forget a count. c.mu is held.
func (c *Cache) bound() {
	if len(c.accounts)+len(c.sessions) > max(c.MaxSize, 1000) {
		c.clear()
	}
}

// Flush drops everything (after a lost notification connection).
func (c *Cache) Flush() {
	c.mu.Lock()
	c.epoch++
	c.clear()
	c.mu.Unlock()
}

// Len reports how many sessions are cached and current. It walks the
// cache: for tests and occasional reports.
func (c *Cache) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	n := 0
	for _, e := range c.entries {
		if e.accountGen == c.accounts[e.field(fAccountID)] && e.sessionGen == c.sessions[e.field(fID)] {
			n++
		}
	}
	return n
}

// packed is a cached Session with its Account: its strings one after
// another in text, the rest in fields without pointers, so that the
// collector has one object to mark per entry and nothing inside it.
// Unpacking slices text (no copy) and costs what copying a Session did.
type packed struct {
	text  string
	ends  [nFields]uint32 // where each of text's fields ends
	times [nTimes]int64   // UnixNano, or noTime
	idle  time.Duration
	until int64 // UnixNano: the entry's TTL
	// The account's and the session's eviction counts it was kept at.
	accountGen, sessionGen uint32
	changes                uint64
	remember, alertEmail   bool
	alertSMS               bool
}

// The text fields of a packed session, in order.
const (
	fID = iota
	fAccountID
	fDeviceID
	fIP
	fAMR // space-separated, as stored
	fEmail
	fPhone
	fPasswordHash
	fLanguage
	fTimeZone
	fStatus
	nFields
)

// The times of a packed session.
const (
	tCreated = iota
	tLastSeen
	tAuthenticated
	tAbsolute
	tRevoked
	tAccountCreated
	tConfirmed
	tPasswordChanged
	tPhoneConfirmed
	tCompromised
	nTimes
)

// noTime stands for the zero time.Time, which UnixNano cannot express.
const noTime = math.MinInt64

func (e *packed) field(i int) string {
	start := uint32(0)
	if i > 0 {
		start = e.ends[i-1]
	}
	return e.text[start:e.ends[i]]
}

func pack(s *Session) packed {
	a := s.Account
	if a == nil {
		a = &account.Account{} // never cached without one; kept safe anyway
	}
	var e packed
	fields := [nFields]string{
		fID: s.ID, fAccountID: s.AccountID, fDeviceID: s.DeviceID, fIP: s.IP, fAMR: strings.Join(s.AMR, " "),
		fEmail: a.Email, fPhone: a.Phone, fPasswordHash: a.PasswordHash, fLanguage: a.Language,
		fTimeZone: a.TimeZone, fStatus: string(a.Status),
	}
	var b strings.Builder
	for i, f := range fields {
		b.WriteString(f)
		e.ends[i] = uint32(b.Len())
	}
	e.text = b.String()
	for i, t := range [nTimes]time.Time{
		tCreated: s.CreatedAt, tLastSeen: s.LastSeenAt, tAuthenticated: s.AuthenticatedAt, tAbsolute: s.AbsoluteExpiresAt,
		tRevoked: s.RevokedAt, tAccountCreated: a.CreatedAt, tConfirmed: a.ConfirmedAt, tPasswordChanged: a.PasswordChangedAt,
		tPhoneConfirmed: a.PhoneConfirmedAt, tCompromised: a.PasswordCompromisedAt,
	} {
		e.times[i] = noTime
		if !t.IsZero() {
			e.times[i] = t.UnixNano()
		}
	}
	e.idle, e.remember, e.changes = s.IdleTimeout, s.Remember, a.Changes
	e.alertEmail, e.alertSMS = a.Alerts.Email, a.Alerts.SMS
	return e
}

// unpack returns a new Session (and Account) from e; hash is its token's.
func (e *packed) unpack(hash []byte) *Session {
	t := func(i int) time.Time {
		if e.times[i] == noTime {
			return time.Time{}
		}
		return time.Unix(0, e.times[i]).UTC()
	}
	// One allocation for both, as the store's read makes them.
	both := &struct {
		s Session
		a account.Account
	}{
		s: Session{
			ID: e.field(fID), TokenHash: hash, AccountID: e.field(fAccountID), DeviceID: e.field(fDeviceID),
			CreatedAt: t(tCreated), LastSeenAt: t(tLastSeen), AuthenticatedAt: t(tAuthenticated), IdleTimeout: e.idle,
			AbsoluteExpiresAt: t(tAbsolute), Remember: e.remember, IP: e.field(fIP), RevokedAt: t(tRevoked),
			AMR: ParseAMR(e.field(fAMR)),
		},
		a: account.Account{
			ID: e.field(fAccountID), Email: e.field(fEmail), Phone: e.field(fPhone), PasswordHash: e.field(fPasswordHash),
			Language: e.field(fLanguage), TimeZone: e.field(fTimeZone), Status: account.Status(e.field(fStatus)),
			CreatedAt: t(tAccountCreated), ConfirmedAt: t(tConfirmed), PasswordChangedAt: t(tPasswordChanged),
			PhoneConfirmedAt: t(tPhoneConfirmed), PasswordCompromisedAt: t(tCompromised),
			Alerts: account.Alerts{Email: e.alertEmail, SMS: e.alertSMS}, Changes: e.changes,
		},
	}
	both.s.Account = &both.a
	return &both.s
}
