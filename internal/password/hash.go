// Package password turns passwords into stored hashes and back into yes/no
// answers, and decides which new passwords are acceptable.
//
// Hashes are argon2id in the PHC string format, so every stored hash carries
// its own parameters and a change of configuration is applied transparently
// the next time the holder signs in (see Hasher.Verify's rehash result). All
// argon2 work runs through a Pool so that a flood of sign-ins queues briefly
// and is then refused, instead of allocating 19 MiB per request without limit.
package password

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/text/unicode/norm"
)

// Params are the argon2id cost parameters.
type Params struct {
	MemoryKiB   uint32
	Iterations  uint32
	Parallelism uint8
}

// DefaultParams are OWASP's second argon2id option: 19 MiB, 2 passes, 1 lane.
var DefaultParams = Params{MemoryKiB: 19 * 1024, Iterations: 2, Parallelism: 1}

const (
	saltLen = 16
	keyLen  = 32
)

// ErrMalformedHash is returned when a stored hash cannot be parsed.
var ErrMalformedHash = errors.New("password: malformed hash")

// Hasher hashes and verifies passwords with fixed parameters and an optional
// pepper, running every argon2 computation on its Pool.
type Hasher struct {
	params Params
	pepper []byte
	pepID  string // short fingerprint of the pepper, recorded in each hash
	pool   *Pool
	dummy  string // hash verified for unknown accounts so they cost the same
}

// NewHasher returns a Hasher. pepper may be nil (no pepper).
func NewHasher(p Params, pepper []byte, pool *Pool) *Hasher {
	h := &Hasher{params: p, pepper: pepper, pool: pool}
	if len(pepper) > 0 {
		sum := sha256.Sum256(pepper)
		h.pepID = hex.EncodeToString(sum[:4])
	}
	// The dummy only has to look like a hash with the current parameters:
	// verifying against it runs the same argon2 work and can never succeed,
	// because its key is random rather than derived from any password.
	key := make([]byte, keyLen)
	rand.Read(key)
	h.dummy = h.encode(derived{params: p, salt: salt(), key: key, peppered: h.pepID != ""})
	return h
}

func salt() []byte {
	s := make([]byte, saltLen)
	rand.Read(s)
	return s
}

// prepare applies NFC normalisation (NIST 800-63B-4 §3.1.1.2) and, when
// peppered, a keyed HMAC so that a stolen database alone cannot be attacked.
func (h *Hasher) prepare(pw string, peppered bool) []byte {
	b := []byte(norm.NFC.String(pw))
	if peppered {
		m := hmac.New(sha256.New, h.pepper)
		m.Write(b)
		return m.Sum(nil)
	}
	return b
}

type derived struct {
	params   Params
	salt     []byte
	key      []byte
	peppered bool
}

func (h *Hasher) derive(pw string, s []byte, p Params, peppered bool) derived {
	key := argon2.IDKey(h.prepare(pw, peppered), s, p.Iterations, p.MemoryKiB, p.Parallelism, keyLen)
	return derived{params: p, salt: s, key: key, peppered: peppered}
}

func (h *Hasher) encode(d derived) string {
	b64 := base64.RawStdEncoding
	params := fmt.Sprintf("m=%d,t=%d,p=%d", d.params.MemoryKiB, d.params.Iterations, d.params.Parallelism)
	if d.peppered {
		params += ",k=" + h.pepID
	}
	return fmt.Sprintf("$argon2id$v=%d$%s$%s$%s", argon2.Version, params, b64.EncodeToString(d.salt), b64.EncodeToString(d.key))
}

// Hash returns the PHC string of pw with the configured parameters. It
// returns ErrBusy when the pool is saturated.
func (h *Hasher) Hash(ctx context.Context, pw string) (string, error) {
	var out string
	err := h.pool.Do(ctx, func() {
		out = h.encode(h.derive(pw, salt(), h.params, h.pepID != ""))
	})
	return out, err
}

// Verify reports whether pw matches the stored PHC hash, and whether the
// hash should be replaced because the configured parameters or pepper
// changed. An empty stored hash (unknown account) is verified against a
// dummy so that the caller spends exactly one argon2 computation either way.
func (h *Hasher) Verify(ctx context.Context, pw, stored string) (ok, rehash bool, err error) {
	unknown := stored == ""
	if unknown {
		stored = h.dummy
	}
	p, pepID, s, key, err := parse(stored)
	if err != nil {
		return false, false, err
	}
	peppered := pepID != ""
	if peppered && pepID != h.pepID {
		return false, false, fmt.Errorf("password: hash needs pepper %s, which is not configured", pepID)
	}
	err = h.pool.Do(ctx, func() {
		d := h.derive(pw, s, p, peppered)
		ok = subtle.ConstantTimeCompare(d.key, key) == 1
	})
	if err != nil || unknown {
		return false, false, err
	}
	rehash = ok && (p != h.params || pepID != h.pepID)
	return ok, rehash, nil
}

// parse splits "$argon2id$v=19$m=..,t=..,p=..[,k=..]$salt$key".
func parse(s string) (p Params, pepID string, salt, key []byte, err error) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return p, "", nil, nil, ErrMalformedHash
	}
	for _, kv := range strings.Split(parts[3], ",") {
		name, val, found := strings.Cut(kv, "=")
		if !found {
			return p, "", nil, nil, ErrMalformedHash
		}
		var n uint64
		if name != "k" {
			if _, err := fmt.Sscanf(val, "%d", &n); err != nil {
				return p, "", nil, nil, ErrMalformedHash
			}
		}
		switch name {
		case "m":
			p.MemoryKiB = uint32(n)
		case "t":
			p.Iterations = uint32(n)
		case "p":
			p.Parallelism = uint8(n)
		case "k":
			pepID = val
		default:
			return p, "", nil, nil, ErrMalformedHash
		}
	}
	if p.MemoryKiB == 0 || p.Iterations == 0 || p.Parallelism == 0 {
		return p, "", nil, nil, ErrMalformedHash
	}
	b64 := base64.RawStdEncoding
	if salt, err = b64.DecodeString(parts[4]); err != nil {
		return p, "", nil, nil, ErrMalformedHash
	}
	if key, err = b64.DecodeString(parts[5]); err != nil {
		return p, "", nil, nil, ErrMalformedHash
	}
	return p, pepID, salt, key, nil
}
