// Package session keeps signed-in sessions.
//
// A session token is 256 random bits handed to the browser once, in a
// __Host- cookie; only its SHA-256 is stored, so a database copy cannot be
// replayed as a cookie. Each session names the device (package device) it
// runs on.
package session

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gatehouse/internal/account"
	"gatehouse/internal/clock"
	"gatehouse/internal/commit"
	"gatehouse/internal/grant"
	"gatehouse/internal/random"
	"gatehouse/internal/request"
	"gatehouse/internal/secevent"
)

// Session is one signed-in browser session of an account.
type Session struct {
	ID                string // public id, shown on the devices page later
	TokenHash         []byte
	AccountID         string
	DeviceID          string
	CreatedAt         time.Time
	LastSeenAt        time.Time
	AuthenticatedAt   time.Time // when the holder last proved who they are (step-up)
	IdleTimeout       time.Duration
	AbsoluteExpiresAt time.Time
	Remember          bool
	IP                string
	RevokedAt         time.Time
	// AMR lists how the holder proved who they are in this session, as
	// RFC 8176 authentication method references: what the sign-in used
	// ("pwd", "otp", "sms", "swk", and "mfa" when a second factor passed),
	// and what each step-up added. Forward-auth and ID tokens report it.
	AMR []string

	// Account is the session's account, read with the session in one
	// query: every signed-in request needs both.
	Account *account.Account
}

// Store keeps sessions.
type Store interface {
	CreateSession(ctx context.Context, s *Session) error
	// SessionByTokenHash returns the session with its Account filled in, or
	// ErrNotFound when no session has the token.
	SessionByTokenHash(ctx context.Context, h []byte) (*Session, error)
	// SessionByID returns the session with the id, revoked or not,
	// without its Account, or ErrNotFound.
	SessionByID(ctx context.Context, id string) (*Session, error)
	TouchSession(ctx context.Context, id string, at time.Time) error
	RevokeSession(ctx context.Context, id string, at time.Time) error
	// Reauthenticate records that the holder of a live session proved who
	// they are again (step-up), adding amr to the session's AMR.
	Reauthenticate(ctx context.Context, id string, at time.Time, amr []string) error
	RevokeAccountSessions(ctx context.Context, accountID string, at time.Time) error
	// AccountSessions lists the account's sessions that are neither
	// revoked nor past their absolute expiry at now, newest first (an idle
	// one is among them: the caller judges idleness).
	AccountSessions(ctx context.Context, accountID string, now time.Time) ([]*Session, error)
	// RevokeAccountSession revokes one session of the account; it reports
	// whether the account had that session live.
	RevokeAccountSession(ctx context.Context, accountID, id string, at time.Time) (bool, error)
	// RevokeDeviceSessions revokes the account's sessions on one device.
	RevokeDeviceSessions(ctx context.Context, accountID, deviceID string, at time.Time) error
	// RevokeOtherSessions revokes every session of the account but keep.
	RevokeOtherSessions(ctx context.Context, accountID, keep string, at time.Time) error
}

// ErrNotFound is returned by a Store for an unknown token.
var ErrNotFound = errors.New("session: not found")

// ErrNoSession is returned by Check for a missing, unknown, revoked or
// expired session; the caller sends the browser to the sign-in page.
var ErrNoSession = errors.New("session: not signed in")

// HashToken returns the stored form of a token.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// Lifetimes are the session timeouts (NIST 800-63B-4 §2.2.3 for AAL2:
// at most 1 h idle and 24 h overall; remembered sessions are AAL1-like and
// capped at 30 days).
type Lifetimes struct {
	Idle     time.Duration
	Absolute time.Duration
	Remember time.Duration
	// RememberIdle ends a remembered session unused for this long (0:
	// only Remember bounds it).
	RememberIdle time.Duration
}

// touchEvery returns how stale LastSeenAt may get before a check writes it
// back: a twentieth of the idle timeout, at most a minute. Writing on every
// request would turn each page view into a database write.
//
// The slack must never cost the holder their session: a use that was not
// written back happened less than touchEvery after LastSeenAt, so the idle
// judgement (see idle) allows touchEvery on top of the timeout. Any use
// therefore keeps the session alive for at least the full idle timeout
// after it, and no session outlives its last use by more than the timeout
// plus touchEvery (1 h 1 min with the defaults; 21 s for a 20 s timeout).
func touchEvery(idle time.Duration) time.Duration {
	return min(time.Minute, max(idle/20, time.Millisecond))
}

// idle reports whether s has been unused for longer than its idle timeout
// at now, judged against its stored LastSeenAt (see touchEvery).
func idle(s *Session, now time.Time) bool {
	return now.Sub(s.LastSeenAt) >= s.IdleTimeout+touchEvery(s.IdleTimeout)
}

// Manager starts, checks and ends sessions.
type Manager struct {
	Store     Store
	Lifetimes Lifetimes
	Clock     clock.Clock
	// Devices, if set, records the device of every session Grant starts
	// as used by the account (it is then no longer a new device for it).
	Devices interface {
		MarkUsed(ctx context.Context, accountID, deviceID string, at time.Time) error
	}
	// Cache, if set, answers repeated checks from memory; see Cache.
	Cache *Cache
	// Kept, if set (and Cache is not), keeps what pages read about an
	// account by its change count; set it only over a store whose
	// sessions carry the count (see Kept).
	Kept *Kept
	// AllEnded, if set, runs in EndAll's transaction after every session
	// of the account was revoked: what the sessions signed in to
	// elsewhere (the applications' refresh tokens) ends with them.
	AllEnded func(ctx context.Context, accountID string) error
	// Ended, if set, runs in the transaction of every revocation of one
	// or more of the account's sessions (a sign-out, from the devices
	// page, everywhere, by an operator): the applications the sessions
	// signed in to are told (back-channel logout). Requires Tx.
	Ended func(ctx context.Context, accountID string) error
	// Events, if set, records a secevent.SessionRevoked for every
	// revocation by EndAll, EndOne (and Revoke), EndDevice and EndOthers
	// — not for a sign-out of the browser's own session (End) — in the
	// revocation's transaction: the caller's, or one of Tx's.
	Events secevent.Sink
	// Tx joins a revocation and its event when the caller runs none
	// (required with Events).
	Tx commit.Transactor
}

// revoking runs revoke and then records its event, in one transaction;
// revoke reports whether it ended anything (an event is recorded only
// then).
func (m *Manager) revoking(ctx context.Context, e secevent.Event, revoke func(ctx context.Context) (bool, error)) (bool, error) {
	if m.Events == nil && m.Ended == nil {
		return revoke(ctx)
	}
	var ended bool
	err := m.Tx.InTx(ctx, func(ctx context.Context) error {
		var err error
		if ended, err = revoke(ctx); err != nil || !ended {
			return err
		}
		if m.Ended != nil {
			if err := m.Ended(ctx, e.AccountID); err != nil {
				return fmt.Errorf("session: after the end: %w", err)
			}
		}
		if m.Events == nil {
			return nil
		}
		e.Type, e.At = secevent.SessionRevoked, m.now()
		return secevent.Record(ctx, m.Events, e)
	})
	return ended, err
}

func (m *Manager) now() time.Time { return m.Clock.Now() }

// Grant starts a session for the account on the origin's device and ends
// previous, the token the browser held before, if any (ASVS v5.0.0-7.2.4).
// It is what account and sign-in flows use (account.Sessions); run inside
// the flow's transaction, the old session ends only if the new one starts.
//
// amr is how the holder proved who they are (Session.AMR).
func (m *Manager) Grant(ctx context.Context, accountID string, o request.Origin, remember bool, previous string, amr ...string) (*grant.Grant, error) {
	token, s, err := m.start(ctx, accountID, o.DeviceID, o.IP, remember, amr)
	if err != nil {
		return nil, fmt.Errorf("session: grant: %w", err)
	}
	if previous != "" {
		if err := m.End(ctx, previous); err != nil {
			return nil, fmt.Errorf("session: grant: %w", err)
		}
	}
	if m.Devices != nil && o.DeviceID != "" {
		if err := m.Devices.MarkUsed(ctx, accountID, o.DeviceID, s.CreatedAt); err != nil {
			return nil, fmt.Errorf("session: grant: %w", err)
		}
	}
	return &grant.Grant{SessionID: s.ID, Token: token, Remember: remember, ExpiresAt: s.AbsoluteExpiresAt}, nil
}

// Start creates a new session for the account on the device and returns its
// token. Every sign-in gets a new token (ASVS v5.0.0-7.2.4).
func (m *Manager) Start(ctx context.Context, accountID, deviceID, ip string, remember bool) (string, *Session, error) {
	return m.start(ctx, accountID, deviceID, ip, remember, nil)
}

func (m *Manager) start(ctx context.Context, accountID, deviceID, ip string, remember bool, amr []string) (string, *Session, error) {
	now := m.now()
	token := random.Token()
	s := &Session{
		ID: random.ID(), TokenHash: HashToken(token), AccountID: accountID, DeviceID: deviceID,
		CreatedAt: now, LastSeenAt: now, AuthenticatedAt: now, Remember: remember, IP: ip,
		IdleTimeout: m.Lifetimes.Idle, AbsoluteExpiresAt: now.Add(m.Lifetimes.Absolute), AMR: JoinAMR(nil, amr),
	}
	if remember {
		// Kept for Remember, but not unused for that long: a browser
		// left alone for RememberIdle signs in again (the probe's W8).
		s.IdleTimeout = m.Lifetimes.Remember
		if m.Lifetimes.RememberIdle > 0 {
			s.IdleTimeout = min(m.Lifetimes.RememberIdle, m.Lifetimes.Remember)
		}
		s.AbsoluteExpiresAt = now.Add(m.Lifetimes.Remember)
	}
	if err := m.Store.CreateSession(ctx, s); err != nil {
		return "", nil, err
	}
	return token, s, nil
}

// Check returns the live session for token, with its account, extending its
// idle timeout. A session of an account that is no longer active is refused
// (ASVS v5.0.0-7.4.2), whatever its timeouts say.
func (m *Manager) Check(ctx context.Context, token string) (*Session, error) {
	if token == "" {
		return nil, ErrNoSession
	}
	now := m.now()
	hash := HashToken(token)
	s, cached := (*Session)(nil), false
	var epoch uint64
	if m.Cache != nil {
		// Taken before the store is read: a copy read before an eviction
		// (a sign-out committed meanwhile) is not kept (see Cache.put).
		epoch = m.Cache.Epoch()
		s, cached = m.Cache.get(hash, now)
	}
	if !cached {
		var err error
		s, err = m.Store.SessionByTokenHash(ctx, hash)
		if errors.Is(err, ErrNotFound) {
			return nil, ErrNoSession
		}
		if err != nil {
			return nil, fmt.Errorf("session: check: %w", err)
		}
	}
	if cached && idle(s, now) {
		// This node's copy may predate uses served by other nodes; only
		// the database can say the session went idle.
		cached = false
		fresh, err := m.Store.SessionByTokenHash(ctx, hash)
		if errors.Is(err, ErrNotFound) {
			return nil, ErrNoSession
		}
		if err != nil {
			return nil, fmt.Errorf("session: check: %w", err)
		}
		s = fresh
	}
	if !s.RevokedAt.IsZero() || !now.Before(s.AbsoluteExpiresAt) || idle(s, now) ||
		s.Account == nil || s.Account.Status != account.Active {
		return nil, ErrNoSession
	}
	if now.Sub(s.LastSeenAt) >= touchEvery(s.IdleTimeout) {
		if err := m.Store.TouchSession(ctx, s.ID, now); err != nil {
			return nil, fmt.Errorf("session: check: %w", err)
		}
		s.LastSeenAt = now
		cached = false // store the fresher copy
	}
	if m.Cache != nil && !cached {
		m.Cache.put(s, now, epoch)
	}
	return s, nil
}

// ExpiresAt returns when s ends if it stays idle: the earlier of its idle
// and absolute limits. The cookie's expiry is set from it.
func (s *Session) ExpiresAt() time.Time {
	idle := s.LastSeenAt.Add(s.IdleTimeout + touchEvery(s.IdleTimeout))
	if idle.Before(s.AbsoluteExpiresAt) {
		return idle
	}
	return s.AbsoluteExpiresAt
}

// End revokes the session with the given token, if any.
func (m *Manager) End(ctx context.Context, token string) error {
	s, err := m.Store.SessionByTokenHash(ctx, HashToken(token))
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("session: end: %w", err)
	}
	end := func(ctx context.Context) error {
		if err := m.Store.RevokeSession(ctx, s.ID, m.now()); err != nil {
			return fmt.Errorf("session: end: %w", err)
		}
		if m.Ended != nil {
			if err := m.Ended(ctx, s.AccountID); err != nil {
				return fmt.Errorf("session: after the end: %w", err)
			}
		}
		return nil
	}
	if m.Ended != nil {
		err = m.Tx.InTx(ctx, end)
	} else {
		err = end(ctx)
	}
	if err != nil {
		return err
	}
	// Evicted once the revocation is committed (at once outside a flow's
	// transaction): evicted earlier, a check could re-cache the session
	// from the not-yet-committed state.
	commit.After(ctx, func() {
		if m.Cache != nil {
			m.Cache.EvictSession(s.ID)
		}
	})
	return nil
}

// Reauthenticate records that the session's holder proved who they are
// again at at (step-up): sensitive changes look at AuthenticatedAt. Every
// node drops its cached copy once the change commits.
//
// amr is how they proved it; the session's AMR gains it.
func (m *Manager) Reauthenticate(ctx context.Context, sessionID string, at time.Time, amr ...string) error {
	if err := m.Store.Reauthenticate(ctx, sessionID, at, amr); err != nil {
		return fmt.Errorf("session: reauthenticate: %w", err)
	}
	commit.After(ctx, func() {
		if m.Cache != nil {
			m.Cache.EvictSession(sessionID)
		}
	})
	return nil
}

// EndAll revokes every session of the account (sign out everywhere,
// password reset, account disabled).
func (m *Manager) EndAll(ctx context.Context, accountID string) error {
	_, err := m.revoking(ctx, secevent.Event{AccountID: accountID, Scope: "all"}, func(ctx context.Context) (bool, error) {
		if err := m.Store.RevokeAccountSessions(ctx, accountID, m.now()); err != nil {
			return false, fmt.Errorf("session: end all: %w", err)
		}
		if m.AllEnded != nil {
			if err := m.AllEnded(ctx, accountID); err != nil {
				return false, fmt.Errorf("session: end all: %w", err)
			}
		}
		commit.After(ctx, func() { m.Forget(accountID) }) // see End
		return true, nil
	})
	return err
}

// Forget evicts cached state about an account whose sessions or record
// changed (this node's own change, whose notification to the other nodes
// reaches this one a moment later too, or an operator command).
func (m *Manager) Forget(accountID string) {
	if m.Cache != nil {
		m.Cache.EvictAccount(accountID)
	}
}

// List returns the account's live sessions, the most recently used first:
// the devices page shows them.
func (m *Manager) List(ctx context.Context, accountID string) ([]*Session, error) {
	now := m.now()
	all, err := m.Store.AccountSessions(ctx, accountID, now)
	if err != nil {
		return nil, fmt.Errorf("session: list: %w", err)
	}
	live := all[:0]
	for _, s := range all {
		if !idle(s, now) {
			live = append(live, s)
		}
	}
	return live, nil
}

// EndOne revokes one session of the account ("sign out this session" on
// the devices page); it reports whether the account had it live.
func (m *Manager) EndOne(ctx context.Context, accountID, sessionID string) (bool, error) {
	return m.revoking(ctx, secevent.Event{AccountID: accountID, Scope: "session", SessionID: sessionID}, func(ctx context.Context) (bool, error) {
		ok, err := m.Store.RevokeAccountSession(ctx, accountID, sessionID, m.now())
		if err != nil {
			return false, fmt.Errorf("session: end one: %w", err)
		}
		commit.After(ctx, func() {
			if m.Cache != nil {
				m.Cache.EvictSession(sessionID)
			}
		})
		return ok, nil
	})
}

// Revoke revokes the session with the id, whoever's it is (the admin
// API); ErrNotFound when no live session has it.
func (m *Manager) Revoke(ctx context.Context, sessionID string) error {
	s, err := m.Store.SessionByID(ctx, sessionID)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return ErrNotFound
		}
		return fmt.Errorf("session: revoke: %w", err)
	}
	// The operator's (the admin API's) doing, as the event says.
	ok, err := m.EndOne(secevent.WithBy(ctx, secevent.ByAdmin), s.AccountID, s.ID)
	if err != nil {
		return err
	}
	if !ok {
		return ErrNotFound
	}
	return nil
}

// EndDevice revokes the account's sessions on one device.
func (m *Manager) EndDevice(ctx context.Context, accountID, deviceID string) error {
	_, err := m.revoking(ctx, secevent.Event{AccountID: accountID, Scope: "device"}, func(ctx context.Context) (bool, error) {
		if err := m.Store.RevokeDeviceSessions(ctx, accountID, deviceID, m.now()); err != nil {
			return false, fmt.Errorf("session: end device: %w", err)
		}
		commit.After(ctx, func() { m.Forget(accountID) })
		return true, nil
	})
	return err
}

// EndOthers revokes every session of the account except keep ("sign out
// everywhere except here").
func (m *Manager) EndOthers(ctx context.Context, accountID, keep string) error {
	_, err := m.revoking(ctx, secevent.Event{AccountID: accountID, Scope: "others"}, func(ctx context.Context) (bool, error) {
		if err := m.Store.RevokeOtherSessions(ctx, accountID, keep, m.now()); err != nil {
			return false, fmt.Errorf("session: end others: %w", err)
		}
		commit.After(ctx, func() { m.Forget(accountID) })
		return true, nil
	})
	return err
}

// JoinAMR returns have with add's method references appended, each once, in
// order. Stores keep the result space-separated (RFC 8176 values have no
// spaces).
func JoinAMR(have, add []string) []string {
	out := have
	for _, a := range add {
		if a != "" && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

// ParseAMR reads a store's space-separated method references, each kept
// once, in order (one allocation: the check's hot path reads it).
func ParseAMR(stored string) []string {
	out := strings.Fields(stored)
	n := 0
	for _, a := range out {
		if !slices.Contains(out[:n], a) {
			out[n] = a
			n++
		}
	}
	return out[:n]
}
