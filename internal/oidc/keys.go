// Package oidc is the vocabulary of Gatehouse's OpenID Connect provider:
// the applications (clients) that may let their users sign in through
// Gatehouse, and the keys their tokens are signed with — what the stores
// keep and the operator's commands change. Its front door, which
// publishes discovery and the keys, is internal/oidcdoor; the
// authorization flow will be built on zitadel/oidc's op package
// (/work/notes/oidc-design.md).
package oidc

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"gatehouse/internal/clock"
	"gatehouse/internal/crypt"
)

// RS256 is the one signature algorithm: OpenID Connect requires every
// provider to support it and every relying party to accept it, and op's
// token endpoint lists only it.
const RS256 = "RS256"

// RSABits is the size of a generated signing key.
const RSABits = 2048

// MaxTokenLifetime bounds how long anything signed with a key stays valid:
// ID tokens (5 minutes), logout tokens and Security Event Tokens (2 minutes,
// signed at each delivery attempt), with room to spare. A key replaced by a
// rotation stays published this long after it stopped signing, plus the
// rotation's overlap.
const MaxTokenLifetime = time.Hour

// Defaults of a rotation (gatehouse keys rotate-signing).
const (
	// DefaultPublishAhead is how long a new key is published before it
	// signs: relying parties cache the JWKS (ours says max-age 300) and
	// every node caches the keys (KeyCacheTTL), and a token must never
	// name a key its verifier cannot have fetched yet.
	DefaultPublishAhead = 10 * time.Minute
	// DefaultOverlap keeps a replaced key published a day beyond its
	// tokens' lifetime: op accepts an expired id_token_hint at the
	// end-session endpoint, and that hint must still verify.
	DefaultOverlap = 24 * time.Hour
)

// KeyCacheTTL is how long a node trusts its copy of the key list: another
// node, or gatehouse keys rotate-signing on the same database, adds keys
// that this node must publish well within DefaultPublishAhead.
const KeyCacheTTL = time.Minute

// SigningKey is one stored signing key. Its private half is sealed with
// the installation's encryption key; only Keys opens it.
type SigningKey struct {
	// KID is the key's id in tokens and the JWKS: its RFC 7638 thumbprint,
	// so the id says which key it is and can never name another.
	KID       string
	Algorithm string
	// PublicJWK is the public key as a JSON Web Key (kid, alg, use).
	PublicJWK []byte
	// PrivateSealed is the PKCS #8 private key sealed by crypt.Box, bound
	// to the kid (sealAD).
	PrivateSealed []byte
	CreatedAt     time.Time
	// ActiveFrom is when the key starts signing; until then it is only
	// published, so that caches of the JWKS learn it first.
	ActiveFrom time.Time
	// RetireAfter is when the key stops being published: tokens signed
	// with it have expired by then. Zero while no newer key replaced it.
	RetireAfter time.Time
}

// KeyState is where a key is in its life at a given time.
type KeyState string

// Key states, in the order of a key's life.
const (
	// Next: published, not signing yet.
	Next KeyState = "next"
	// Current: the key that signs.
	Current KeyState = "current"
	// Previous: replaced, still published until its tokens expire.
	Previous KeyState = "previous"
	// Retired: no longer published.
	Retired KeyState = "retired"
)

// KeyStore keeps the signing keys; implemented by internal/sqlite and
// internal/postgres.
type KeyStore interface {
	// AddFirstSigningKey stores k unless a key exists already, and
	// reports whether it did: two nodes starting at once make one key.
	AddFirstSigningKey(ctx context.Context, k *SigningKey) (bool, error)
	// RotateSigningKey stores k and, in the same transaction, sets
	// retireAfter on every key that has no retire_after yet.
	RotateSigningKey(ctx context.Context, k *SigningKey, retireAfter time.Time) error
	// SigningKeys returns every key, oldest first (by created_at, then
	// active_from).
	SigningKeys(ctx context.Context) ([]*SigningKey, error)
}

// Keys is the installation's signing keys: it makes them, and answers
// which key signs now and which are published.
type Keys struct {
	Store KeyStore
	// Box seals private keys at rest.
	Box   *crypt.Box
	Clock clock.Clock

	mu      sync.Mutex
	list    []*SigningKey
	readAt  time.Time
	private map[string]*rsa.PrivateKey // opened once per kid
}

// sealAD binds a sealed private key to its row: a sealed key copied onto
// another kid does not open.
func sealAD(kid string) []byte { return []byte("oidc-signing-key\x00" + kid) }

// NewSigningKey generates an RS256 key that signs from activeFrom.
func (k *Keys) NewSigningKey(now, activeFrom time.Time) (*SigningKey, error) {
	priv, err := rsa.GenerateKey(rand.Reader, RSABits)
	if err != nil {
		return nil, fmt.Errorf("oidc: generate signing key: %w", err)
	}
	jwk := jose.JSONWebKey{Key: &priv.PublicKey, Algorithm: RS256, Use: "sig"}
	thumb, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("oidc: signing key thumbprint: %w", err)
	}
	jwk.KeyID = base64.RawURLEncoding.EncodeToString(thumb)
	pub, err := jwk.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("oidc: signing key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("oidc: signing key: %w", err)
	}
	// Second precision: what both databases keep, so that what was made
	// and what is read back compare equal.
	return &SigningKey{
		KID: jwk.KeyID, Algorithm: RS256, PublicJWK: pub, PrivateSealed: k.Box.Seal(der, sealAD(jwk.KeyID)),
		CreatedAt: now.UTC().Truncate(time.Second), ActiveFrom: activeFrom.UTC().Truncate(time.Second),
	}, nil
}

// Ensure makes the first key if the installation has none; it signs at
// once, since no token can have been signed before it.
func (k *Keys) Ensure(ctx context.Context) error {
	list, err := k.keys(ctx, false)
	if err != nil || len(list) > 0 {
		return err
	}
	now := k.Clock.Now()
	key, err := k.NewSigningKey(now, now)
	if err != nil {
		return err
	}
	if _, err := k.Store.AddFirstSigningKey(ctx, key); err != nil {
		return fmt.Errorf("oidc: store the first signing key: %w", err)
	}
	k.forget()
	return nil
}

// Rotate adds the next key: published at once, signing from now +
// publishAhead. Every key it replaces stays published until MaxTokenLifetime
// + overlap after the new key starts signing.
func (k *Keys) Rotate(ctx context.Context, publishAhead, overlap time.Duration) (*SigningKey, error) {
	if publishAhead < 0 || overlap < 0 {
		return nil, errors.New("oidc: publish-ahead and overlap must not be negative")
	}
	if err := k.Ensure(ctx); err != nil {
		return nil, err
	}
	now := k.Clock.Now()
	key, err := k.NewSigningKey(now, now.Add(publishAhead))
	if err != nil {
		return nil, err
	}
	if err := k.Store.RotateSigningKey(ctx, key, key.ActiveFrom.Add(MaxTokenLifetime+overlap)); err != nil {
		return nil, fmt.Errorf("oidc: store the new signing key: %w", err)
	}
	k.forget()
	return key, nil
}

// forget drops the cached list, so the next read sees this node's own
// changes at once.
func (k *Keys) forget() {
	k.mu.Lock()
	k.readAt = time.Time{}
	k.mu.Unlock()
}

// keys returns the key list, from the cache while it is fresh.
func (k *Keys) keys(ctx context.Context, cached bool) ([]*SigningKey, error) {
	now := k.Clock.Now()
	k.mu.Lock()
	if cached && !k.readAt.IsZero() && now.Sub(k.readAt) < KeyCacheTTL && now.After(k.readAt) {
		list := k.list
		k.mu.Unlock()
		return list, nil
	}
	k.mu.Unlock()
	list, err := k.Store.SigningKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("oidc: read signing keys: %w", err)
	}
	k.mu.Lock()
	k.list, k.readAt = list, now
	k.mu.Unlock()
	return list, nil
}

// List returns every key, oldest first, read afresh (for the operator).
func (k *Keys) List(ctx context.Context) ([]*SigningKey, error) { return k.keys(ctx, false) }

// States gives each key of list its state at now. At most one key is
// Current: the newest whose ActiveFrom has come and that is not retired.
func States(list []*SigningKey, now time.Time) map[string]KeyState {
	out := make(map[string]KeyState, len(list))
	var current *SigningKey
	for _, key := range list {
		switch {
		case !key.RetireAfter.IsZero() && !now.Before(key.RetireAfter):
			out[key.KID] = Retired
		case now.Before(key.ActiveFrom):
			out[key.KID] = Next
		default:
			out[key.KID] = Previous
			if current == nil || !key.ActiveFrom.Before(current.ActiveFrom) {
				current = key
			}
		}
	}
	if current != nil {
		out[current.KID] = Current
	}
	return out
}

// ErrNoSigningKey is returned when no key signs at the time asked: the
// installation has none yet (Ensure has not run).
var ErrNoSigningKey = errors.New("oidc: no signing key is active")

// Signer is the key that signs at now, opened.
type Signer struct {
	KID string
	Key *rsa.PrivateKey
}

// Signing returns the key that signs now.
func (k *Keys) Signing(ctx context.Context) (*Signer, error) {
	list, err := k.keys(ctx, true)
	if err == nil && len(list) == 0 {
		// A new installation signing before its first start finished
		// making the first key (see Published).
		if err = k.Ensure(ctx); err == nil {
			list, err = k.keys(ctx, false)
		}
	}
	if err != nil {
		return nil, err
	}
	states := States(list, k.Clock.Now())
	for _, key := range list {
		if states[key.KID] == Current {
			priv, err := k.open(key)
			if err != nil {
				return nil, err
			}
			return &Signer{KID: key.KID, Key: priv}, nil
		}
	}
	return nil, ErrNoSigningKey
}

// open returns a key's private half, opening it once.
func (k *Keys) open(key *SigningKey) (*rsa.PrivateKey, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if p, ok := k.private[key.KID]; ok {
		return p, nil
	}
	der, err := k.Box.Open(key.PrivateSealed, sealAD(key.KID))
	if err != nil {
		return nil, fmt.Errorf("oidc: open signing key %s (is this the installation's secrets file?): %w", key.KID, err)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("oidc: signing key %s: %w", key.KID, err)
	}
	priv, ok := parsed.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("oidc: signing key %s is not an RSA key", key.KID)
	}
	var pub jose.JSONWebKey
	if err := pub.UnmarshalJSON(key.PublicJWK); err != nil {
		return nil, fmt.Errorf("oidc: signing key %s: public key: %w", key.KID, err)
	}
	// A private key that does not match the published one would sign
	// tokens no relying party can verify.
	if rp, ok := pub.Key.(*rsa.PublicKey); !ok || !rp.Equal(&priv.PublicKey) {
		return nil, fmt.Errorf("oidc: signing key %s does not match its public key", key.KID)
	}
	if k.private == nil {
		k.private = map[string]*rsa.PrivateKey{}
	}
	k.private[key.KID] = priv
	return priv, nil
}

// Published returns the JSON Web Key Set relying parties verify with:
// every key that is not retired — the next one, the current one, and those
// whose tokens may still be in use.
func (k *Keys) Published(ctx context.Context) (*jose.JSONWebKeySet, error) {
	list, err := k.keys(ctx, true)
	if err == nil && len(list) == 0 {
		// A new installation asked before its first start finished
		// making the first key.
		if err = k.Ensure(ctx); err == nil {
			list, err = k.keys(ctx, false)
		}
	}
	if err != nil {
		return nil, err
	}
	states := States(list, k.Clock.Now())
	set := &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{}}
	// Newest first: a verifier that tries keys in order tries the one most
	// tokens name first.
	for i := len(list) - 1; i >= 0; i-- {
		key := list[i]
		if states[key.KID] == Retired {
			continue
		}
		var jwk jose.JSONWebKey
		if err := json.Unmarshal(key.PublicJWK, &jwk); err != nil {
			return nil, fmt.Errorf("oidc: signing key %s: public key: %w", key.KID, err)
		}
		set.Keys = append(set.Keys, jwk)
	}
	return set, nil
}
