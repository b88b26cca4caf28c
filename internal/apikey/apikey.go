// Package apikey holds the operator's API keys: the bearer credentials
// programs use on the admin API (/api/admin/). A key is "gh_" and 256
// random bits, shown once when it is made (gatehouse apikey create); only
// its SHA-256 is stored — right for a high-entropy random value, which no
// one can guess or brute-force from its hash — so a copy of the database
// holds no usable key. Each key carries the scopes it may use, is named
// by the operator, records when it was last used, and can be revoked.
package apikey

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"gatehouse/internal/clock"
	"gatehouse/internal/random"
)

// Prefix starts every key, so that a key pasted in the wrong place is
// recognisable (and secret scanners can find it).
const Prefix = "gh_"

// Scope is what a key may do on the admin API.
type Scope string

// Scopes. Each admin API route names the one it needs in the route table.
const (
	// AccountsRead lists, searches and shows accounts (never a password
	// hash, a code, a secret or a full phone number).
	AccountsRead Scope = "accounts:read"
	// AccountsWrite disables, enables and deletes accounts; disabling ends
	// every session of the account, deleting removes it with its data.
	AccountsWrite Scope = "accounts:write"
	// SessionsRead lists an account's live sessions.
	SessionsRead Scope = "sessions:read"
	// SessionsWrite revokes a session.
	SessionsWrite Scope = "sessions:write"
	// ActivityRead lists an account's sign-in attempts and messages, and
	// finds a message by its reference (never a code, nor a whole phone
	// number).
	ActivityRead Scope = "activity:read"
	// DevicesRead lists the devices an account has been used on.
	DevicesRead Scope = "devices:read"
	// ClientsRead lists the OpenID Connect clients (never a secret).
	ClientsRead Scope = "clients:read"
	// ClientsWrite registers and removes OpenID Connect clients.
	ClientsWrite Scope = "clients:write"
	// DeliveriesRead lists the security events and logout tokens stored
	// for receivers, with their state (never their payload).
	DeliveriesRead Scope = "deliveries:read"
	// DeliveriesWrite retries a delivery that failed for good.
	DeliveriesWrite Scope = "deliveries:write"
)

// Scopes lists every scope, in the order they are shown.
var Scopes = []Scope{AccountsRead, AccountsWrite, SessionsRead, SessionsWrite, ActivityRead, DevicesRead, ClientsRead, ClientsWrite,
	DeliveriesRead, DeliveriesWrite}

// ParseScope returns the scope s names, or ErrScopeUnknown.
func ParseScope(s string) (Scope, error) {
	if slices.Contains(Scopes, Scope(s)) {
		return Scope(s), nil
	}
	return "", fmt.Errorf("%w: %q", ErrScopeUnknown, s)
}

// Key is one API key, as stored: never the key itself.
type Key struct {
	ID     string
	Name   string
	Scopes []Scope
	// Hash is the SHA-256 of the key.
	Hash      []byte
	CreatedAt time.Time
	// LastUsedAt is when the key was last accepted, to the minute (see
	// Service.Check); zero if never.
	LastUsedAt time.Time
	// RevokedAt is when the key was revoked; zero while it works.
	RevokedAt time.Time
}

// Allows reports whether the key carries scope s.
func (k *Key) Allows(s Scope) bool { return slices.Contains(k.Scopes, s) }

// Store keeps API keys.
type Store interface {
	CreateAPIKey(ctx context.Context, k *Key) error
	// APIKeyByHash returns the key with the hash, revoked or not, or
	// ErrNotFound.
	APIKeyByHash(ctx context.Context, h []byte) (*Key, error)
	// APIKeys lists every key, revoked ones included, oldest first.
	APIKeys(ctx context.Context) ([]*Key, error)
	// TouchAPIKey records a use of the key.
	TouchAPIKey(ctx context.Context, id string, at time.Time) error
	// RevokeAPIKey revokes the key (a revoked key keeps its first
	// revocation time); ErrNotFound when no key has the id.
	RevokeAPIKey(ctx context.Context, id string, at time.Time) error
}

// Errors.
var (
	// ErrNotFound: no key has that id (or hash).
	ErrNotFound = errors.New("apikey: not found")
	// ErrInvalid: the request's key is missing, malformed, unknown or
	// revoked. Which one is never said.
	ErrInvalid = errors.New("apikey: no valid API key")
	// ErrScope: the key is valid and lacks the route's scope.
	ErrScope = errors.New("apikey: the key lacks the scope this needs")
	// ErrScopeUnknown: a scope name that is not one of Scopes.
	ErrScopeUnknown = errors.New("apikey: unknown scope")
	// ErrName: a key's name is empty, longer than 100 characters or holds
	// control characters.
	ErrName = errors.New("apikey: a key needs a name of 1 to 100 printable characters")
)

// touchEvery is how stale LastUsedAt may get before a use writes it back:
// a write per request would turn every call into a database write.
const touchEvery = time.Minute

// Service makes, checks, lists and revokes keys.
type Service struct {
	Store Store
	Clock clock.Clock
}

// Hash is the stored form of a key.
func Hash(key string) []byte {
	h := sha256.Sum256([]byte(key))
	return h[:]
}

// Create makes a key with a name and scopes. The key is returned once, and
// only its hash is kept.
func (s *Service) Create(ctx context.Context, name string, scopes []Scope) (string, *Key, error) {
	name = strings.TrimSpace(name)
	if name == "" || len([]rune(name)) > 100 || strings.ContainsFunc(name, unicode.IsControl) {
		return "", nil, ErrName
	}
	if len(scopes) == 0 {
		return "", nil, fmt.Errorf("%w: a key needs at least one scope", ErrScopeUnknown)
	}
	var kept []Scope
	for _, sc := range scopes {
		if _, err := ParseScope(string(sc)); err != nil {
			return "", nil, err
		}
		if !slices.Contains(kept, sc) {
			kept = append(kept, sc)
		}
	}
	key := Prefix + random.Token()
	k := &Key{ID: random.ID(), Name: name, Scopes: kept, Hash: Hash(key), CreatedAt: s.Clock.Now()}
	if err := s.Store.CreateAPIKey(ctx, k); err != nil {
		return "", nil, fmt.Errorf("apikey: create: %w", err)
	}
	return key, k, nil
}

// Check returns the live key the request presented, or ErrInvalid. The
// key is found by its hash (an index lookup, which reveals nothing of
// how close a wrong key came) and the hash is compared once more in
// constant time. A use is recorded at most once a minute.
func (s *Service) Check(ctx context.Context, key string) (*Key, error) {
	if !strings.HasPrefix(key, Prefix) || len(key) > 200 {
		return nil, ErrInvalid
	}
	h := Hash(key)
	k, err := s.Store.APIKeyByHash(ctx, h)
	if errors.Is(err, ErrNotFound) {
		return nil, ErrInvalid
	}
	if err != nil {
		return nil, fmt.Errorf("apikey: check: %w", err)
	}
	if subtle.ConstantTimeCompare(k.Hash, h) != 1 || !k.RevokedAt.IsZero() {
		return nil, ErrInvalid
	}
	if now := s.Clock.Now(); now.Sub(k.LastUsedAt) >= touchEvery {
		if err := s.Store.TouchAPIKey(ctx, k.ID, now); err != nil {
			return nil, fmt.Errorf("apikey: record use: %w", err)
		}
		k.LastUsedAt = now
	}
	return k, nil
}

// List returns every key, revoked ones included, oldest first.
func (s *Service) List(ctx context.Context) ([]*Key, error) {
	return s.Store.APIKeys(ctx)
}

// Revoke revokes the key with the id: it stops working at once.
func (s *Service) Revoke(ctx context.Context, id string) error {
	return s.Store.RevokeAPIKey(ctx, id, s.Clock.Now())
}

// JoinScopes is how stores keep a key's scopes: space-separated.
func JoinScopes(scopes []Scope) string {
	out := make([]string, len(scopes))
	for i, s := range scopes {
		out[i] = string(s)
	}
	return strings.Join(out, " ")
}

// SplitScopes reads what JoinScopes wrote.
func SplitScopes(s string) []Scope {
	var out []Scope
	for _, f := range strings.Fields(s) {
		out = append(out, Scope(f))
	}
	return out
}
