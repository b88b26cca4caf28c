// Package dkimkeys keeps the installation's DKIM keys: it makes them, signs
// outgoing mail with them, and answers the checker's question "is this one
// of our keys?" for current and retired keys alike.
//
// Keys live in a directory of the data dir (DATA/dkim): keys.json lists
// every key the installation ever had — selector, algorithm, public key,
// when it was made and when it stopped signing — and each key still able to
// sign has its private key beside it in SELECTOR.key (PKCS #8 PEM, mode
// 0600). Every node of an installation must share the directory, like the
// secrets file.
//
// Each generation is a pair, one RSA-2048 key and one Ed25519 key, each with
// its own selector (a DNS key record names one algorithm): receivers that
// know Ed25519 (RFC 8463) get the stronger, shorter signature, the others the
// RSA one. Rotation adds a new pair and lets the old one keep signing
// beside it for an overlap, so mail stays verifiable while the new DNS
// records propagate; after that the old private keys are deleted and only
// their public keys remain, so that old mail still verifies in the checker.
package dkimkeys

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-msgauth/dkim"
)

// Algorithms of the two keys of a generation.
const (
	RSA     = "rsa"
	Ed25519 = "ed25519"
)

// RSABits is the size of a generated RSA key: 2048 bits is what RFC 8301
// recommends and what every DNS provider accepts in a TXT record.
const RSABits = 2048

// SignedHeaders are the header fields each signature covers: the ones a
// holder reads to decide who sent a message and what it is about, and the
// ones the checker reads (our reference, the body's type).
//
// Each is named once more than the message has it ("oversigning", RFC 6376
// §8.15): a signature covers the last instance of a field, so without it a
// second From or Subject added on top — the one a mail program shows —
// would leave the signature valid. Reply-To and Cc, which we never send,
// are named so that adding one breaks it.
var SignedHeaders = []string{
	"From", "From", "To", "To", "Subject", "Subject", "Date", "Date", "Message-Id", "Message-Id",
	"Reply-To", "Cc", "X-Gatehouse-Reference", "X-Gatehouse-Reference",
	"MIME-Version", "MIME-Version", "Content-Type", "Content-Type",
}

// Key is one DKIM key.
type Key struct {
	Selector  string    `json:"selector"`
	Algorithm string    `json:"algorithm"`
	Created   time.Time `json:"created"`
	// RetireAt is when the key stops signing; zero while it is the
	// current generation. A retired key's public key stays, for the
	// checker.
	RetireAt time.Time `json:"retire_at,omitzero"`
	// Public is the key as the DNS record's p= tag carries it: the PKIX
	// DER of an RSA key, the 32 raw bytes of an Ed25519 key.
	Public []byte `json:"public"`

	signer crypto.Signer
}

// Signs reports whether the key signs mail at now.
func (k *Key) Signs(now time.Time) bool {
	return k.signer != nil && (k.RetireAt.IsZero() || now.Before(k.RetireAt))
}

// Record is the key's DNS TXT record value.
func (k *Key) Record() string {
	return "v=DKIM1; k=" + k.Algorithm + "; p=" + base64.StdEncoding.EncodeToString(k.Public)
}

// ErrNone is returned by Load when the directory has no keys yet.
var ErrNone = errors.New("dkimkeys: no keys yet")

// Ring is the set of an installation's keys, read from its directory. It
// notices when another process (gatehouse dkim rotate) has changed the
// directory and reads it again, so a running server starts signing with a
// new generation without a restart.
type Ring struct {
	dir string

	mu    sync.Mutex
	keys  []*Key
	stamp fileStamp
}

type fileStamp struct {
	mod  time.Time
	size int64
}

const indexFile = "keys.json"

type index struct {
	Keys []*Key `json:"keys"`
}

// Open reads the keys in dir, first making the directory and a first
// generation if there are none: the first start of a server signs its mail
// from its first message on.
func Open(dir string, now time.Time) (*Ring, error) {
	r, err := Load(dir)
	if errors.Is(err, ErrNone) {
		if _, err := Rotate(dir, now, 0); err != nil {
			return nil, err
		}
		return Load(dir)
	}
	return r, err
}

// Load reads the keys in dir without making any; ErrNone when there are
// none.
func Load(dir string) (*Ring, error) {
	r := &Ring{dir: dir}
	if err := r.reload(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *Ring) reload() error {
	path := filepath.Join(r.dir, indexFile)
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("dkimkeys: %s: %w", r.dir, ErrNone)
	}
	if err != nil {
		return fmt.Errorf("dkimkeys: %w", err)
	}
	keys, err := readIndex(r.dir)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := k.loadPrivate(r.dir); err != nil {
			return err
		}
	}
	if len(keys) == 0 {
		return fmt.Errorf("dkimkeys: %s: %w", r.dir, ErrNone)
	}
	r.keys, r.stamp = keys, fileStamp{st.ModTime(), st.Size()}
	return nil
}

func readIndex(dir string) ([]*Key, error) {
	b, err := os.ReadFile(filepath.Join(dir, indexFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("dkimkeys: %w", err)
	}
	var ix index
	if err := json.Unmarshal(b, &ix); err != nil {
		return nil, fmt.Errorf("dkimkeys: %s: %w", filepath.Join(dir, indexFile), err)
	}
	for _, k := range ix.Keys {
		if !validSelector(k.Selector) || (k.Algorithm != RSA && k.Algorithm != Ed25519) || len(k.Public) == 0 {
			return nil, fmt.Errorf("dkimkeys: %s: a key entry is malformed (selector %q, algorithm %q)", filepath.Join(dir, indexFile), k.Selector, k.Algorithm)
		}
	}
	return ix.Keys, nil
}

// loadPrivate reads the key's private half if it still has one. A missing
// file is a retired key; a file that does not match the public key is an
// error, because signing with it would make mail that never verifies.
func (k *Key) loadPrivate(dir string) error {
	path := filepath.Join(dir, k.Selector+".key")
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("dkimkeys: %w", err)
	}
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("dkimkeys: %s is readable by other users (mode %v); run chmod 600 %s", path, st.Mode().Perm(), path)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return fmt.Errorf("dkimkeys: %s: not a PEM file", path)
	}
	priv, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return fmt.Errorf("dkimkeys: %s: %w", path, err)
	}
	signer, ok := priv.(crypto.Signer)
	if !ok {
		return fmt.Errorf("dkimkeys: %s: not a signing key", path)
	}
	pub, err := publicBytes(signer.Public())
	if err != nil || !bytes.Equal(pub, k.Public) {
		return fmt.Errorf("dkimkeys: %s does not match the public key of selector %s in %s", path, k.Selector, indexFile)
	}
	k.signer = signer
	return nil
}

func publicBytes(pub crypto.PublicKey) ([]byte, error) {
	switch p := pub.(type) {
	case ed25519.PublicKey:
		return []byte(p), nil
	case *rsa.PublicKey:
		return x509.MarshalPKIXPublicKey(p)
	}
	return nil, fmt.Errorf("dkimkeys: unsupported key type %T", pub)
}

// refresh reads the directory again when keys.json changed.
func (r *Ring) refresh() {
	st, err := os.Stat(filepath.Join(r.dir, indexFile))
	if err != nil || (st.ModTime().Equal(r.stamp.mod) && st.Size() == r.stamp.size) {
		return
	}
	old, oldStamp := r.keys, r.stamp
	if err := r.reload(); err != nil {
		// A half-written or broken directory must not stop mail: keep
		// signing with what was read before.
		r.keys, r.stamp = old, oldStamp
	}
}

// Keys returns every key, newest first.
func (r *Ring) Keys() []*Key {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.refresh()
	out := append([]*Key(nil), r.keys...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Created.After(out[j].Created) })
	return out
}

// Signing returns the keys that sign mail at now: the current generation
// and, during an overlap, the one before it.
func (r *Ring) Signing(now time.Time) []*Key {
	var out []*Key
	for _, k := range r.Keys() {
		if k.Signs(now) {
			out = append(out, k)
		}
	}
	return out
}

// Lookup returns the key with the selector, current or retired.
func (r *Ring) Lookup(selector string) (*Key, bool) {
	for _, k := range r.Keys() {
		if strings.EqualFold(k.Selector, selector) {
			return k, true
		}
	}
	return nil, false
}

// Sign returns msg with one DKIM-Signature per signing key prepended, for
// domain (relaxed/relaxed, SHA-256, over SignedHeaders and the whole body).
// The Ed25519 signature comes first, as RFC 8463 suggests.
func (r *Ring) Sign(msg []byte, domain string, now time.Time) ([]byte, error) {
	keys := r.Signing(now)
	if len(keys) == 0 {
		return nil, fmt.Errorf("dkimkeys: %s has no key that can sign; run gatehouse dkim rotate", r.dir)
	}
	sort.SliceStable(keys, func(i, j int) bool { return keys[i].Algorithm == Ed25519 && keys[j].Algorithm != Ed25519 })
	var sigs []string
	for _, k := range keys {
		s, err := dkim.NewSigner(&dkim.SignOptions{
			Domain: domain, Selector: k.Selector, Signer: k.signer, Hash: crypto.SHA256,
			HeaderCanonicalization: dkim.CanonicalizationRelaxed, BodyCanonicalization: dkim.CanonicalizationRelaxed,
			HeaderKeys: SignedHeaders,
		})
		if err != nil {
			return nil, fmt.Errorf("dkimkeys: %w", err)
		}
		if _, err := s.Write(msg); err != nil {
			s.Close()
			return nil, fmt.Errorf("dkimkeys: sign: %w", err)
		}
		if err := s.Close(); err != nil {
			return nil, fmt.Errorf("dkimkeys: sign with %s: %w", k.Selector, err)
		}
		sigs = append(sigs, s.Signature())
	}
	out := make([]byte, 0, len(msg)+len(sigs)*600)
	for _, s := range sigs {
		out = append(out, s...)
	}
	return append(out, msg...), nil
}

// Rotate adds a new generation (an RSA and an Ed25519 key) to dir, making
// the directory if needed. The keys that were signing keep signing for
// overlap more, then retire; private keys of keys already retired are
// deleted. It returns the new keys.
func Rotate(dir string, now time.Time, overlap time.Duration) ([]*Key, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("dkimkeys: %w", err)
	}
	keys, err := readIndex(dir)
	if err != nil {
		return nil, err
	}
	now = now.UTC().Truncate(time.Second)
	for _, k := range keys {
		if k.RetireAt.IsZero() {
			k.RetireAt = now.Add(overlap)
		}
		if !now.Before(k.RetireAt) {
			if err := os.Remove(filepath.Join(dir, k.Selector+".key")); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("dkimkeys: %w", err)
			}
		}
	}
	base := nextBase(keys, now)
	rsaKey, err := rsa.GenerateKey(rand.Reader, RSABits)
	if err != nil {
		return nil, fmt.Errorf("dkimkeys: %w", err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("dkimkeys: %w", err)
	}
	var added []*Key
	for _, s := range []struct {
		alg    string
		signer crypto.Signer
	}{{RSA, rsaKey}, {Ed25519, edKey}} {
		pub, err := publicBytes(s.signer.Public())
		if err != nil {
			return nil, err
		}
		k := &Key{Selector: base + "-" + s.alg, Algorithm: s.alg, Created: now, Public: pub, signer: s.signer}
		der, err := x509.MarshalPKCS8PrivateKey(s.signer)
		if err != nil {
			return nil, fmt.Errorf("dkimkeys: %w", err)
		}
		if err := writeFile(filepath.Join(dir, k.Selector+".key"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})); err != nil {
			return nil, err
		}
		added = append(added, k)
	}
	keys = append(keys, added...)
	b, err := json.MarshalIndent(index{Keys: keys}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("dkimkeys: %w", err)
	}
	// The index is written last: until it names the new keys, a running
	// server keeps signing with the old ones.
	if err := writeFile(filepath.Join(dir, indexFile), append(b, '\n')); err != nil {
		return nil, err
	}
	return added, nil
}

// nextBase names a generation after its day, "gh20261202a"; a second
// rotation the same day is "…b". Selectors are DNS labels and never reused.
func nextBase(keys []*Key, now time.Time) string {
	day := "gh" + now.Format("20060102")
	for c := 'a'; c <= 'z'; c++ {
		base := day + string(c)
		used := false
		for _, k := range keys {
			if strings.HasPrefix(k.Selector, base+"-") {
				used = true
			}
		}
		if !used {
			return base
		}
	}
	return day + "z" + strings.ToLower(base64.RawURLEncoding.EncodeToString([]byte(now.Format("150405"))))
}

// writeFile writes through a temporary file and a rename, so that a reader
// never sees half a file.
func writeFile(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("dkimkeys: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("dkimkeys: %w", err)
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("dkimkeys: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("dkimkeys: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("dkimkeys: %w", err)
	}
	return nil
}

func validSelector(s string) bool {
	if s == "" || len(s) > 63 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return s[0] != '-' && s[len(s)-1] != '-'
}
