// Package passkeytest is a software passkey for tests: an ECDSA P-256 key
// that answers the options package passkey's Begin methods return the way
// a browser and a platform Authenticator would, with "none" attestation.
// Tests outside package passkey (the web layer's) use it to drive real
// ceremonies without a browser.
package passkeytest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"testing"

	"github.com/fxamacker/cbor/v2"
)

// Authenticator is a software passkey: an ECDSA P-256 key that answers
// the options a Begin method returns the way a browser and a platform
// Authenticator would, with "none" attestation. A test changes what it
// signs with options (a wrong origin, no UV flag, a counter going back).
type Authenticator struct {
	t      testing.TB
	key    *ecdsa.PrivateKey
	ID     []byte // the credential id
	Handle []byte // the user handle it stored at registration
	count  uint32 // its signature counter; stays 0 if ZeroCounter
	origin string
	// ZeroCounter makes it one that implements no counter (many
	// platform authenticators send 0 every time).
	ZeroCounter bool
}

// Authenticator data flags.
const (
	FlagUP = 0x01 // user present
	FlagUV = 0x04 // user verified
	FlagAT = 0x40 // attested credential data included
)

var b64 = base64.RawURLEncoding

// New returns a new software passkey that signs for pages of origin.
func New(t testing.TB, origin string) *Authenticator {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id := make([]byte, 32)
	rand.Read(id)
	return &Authenticator{t: t, key: key, ID: id, origin: origin}
}

// signing is what one answer is made of, before it is signed.
type signing struct {
	clientData map[string]any
	rpID       string
	flags      byte
	counter    uint32
	userHandle []byte
	tamper     bool           // flip a bit of the signature after signing
	extensions map[string]any // clientExtensionResults
}

// Option changes what one answer signs.
type Option func(*signing)

// WithOrigin signs for another page's origin.
func WithOrigin(o string) Option { return func(s *signing) { s.clientData["origin"] = o } }

// WithRPID hashes another relying party id into the authenticator data.
func WithRPID(id string) Option { return func(s *signing) { s.rpID = id } }

// WithFlags sets the authenticator data flags (FlagUP without FlagUV: a
// key that did not verify its user).
func WithFlags(f byte) Option { return func(s *signing) { s.flags = f } }

// WithCounter signs with this signature counter.
func WithCounter(n uint32) Option { return func(s *signing) { s.counter = n } }

// WithUserHandle answers with another user handle.
func WithUserHandle(h []byte) Option { return func(s *signing) { s.userHandle = h } }

// WithType sets the client data type ("webauthn.get" / "webauthn.create").
func WithType(typ string) Option { return func(s *signing) { s.clientData["type"] = typ } }

// Tampered breaks the signature after signing.
func Tampered() Option { return func(s *signing) { s.tamper = true } }

// WithExtensions adds client extension results to the answer.
func WithExtensions(x map[string]any) Option {
	return func(s *signing) { s.extensions = x }
}

// publicKey is the part of the options a browser reads.
type publicKey struct {
	Challenge string `json:"challenge"`
	RPID      string `json:"rpId"` // assertion options
	RP        struct {
		ID string `json:"id"`
	} `json:"rp"` // creation options
	User struct {
		ID string `json:"id"`
	} `json:"user"`
	AllowCredentials   []struct{ ID string } `json:"allowCredentials"`
	ExcludeCredentials []struct{ ID string } `json:"excludeCredentials"`
}

func (a *Authenticator) readOptions(options []byte) publicKey {
	a.t.Helper()
	var o struct {
		PublicKey publicKey `json:"publicKey"`
	}
	if err := json.Unmarshal(options, &o); err != nil {
		a.t.Fatalf("options: %v", err)
	}
	return o.PublicKey
}

func (a *Authenticator) start(typ, challenge, rpID string, opts []Option) *signing {
	s := &signing{
		clientData: map[string]any{"type": typ, "challenge": challenge, "origin": a.origin, "crossOrigin": false},
		rpID:       rpID,
		flags:      FlagUP | FlagUV,
		extensions: map[string]any{},
		counter:    a.count,
		userHandle: a.Handle,
	}
	if !a.ZeroCounter {
		s.counter = a.count + 1
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

func (s *signing) authData() []byte {
	rpHash := sha256.Sum256([]byte(s.rpID))
	out := append(rpHash[:], s.flags)
	return binary.BigEndian.AppendUint32(out, s.counter)
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// create answers creation options: it takes the user handle from them and
// returns the JSON a browser script posts back.
func (a *Authenticator) Create(options []byte, opts ...Option) []byte {
	a.t.Helper()
	pk := a.readOptions(options)
	handle, err := b64.DecodeString(pk.User.ID)
	if err != nil {
		a.t.Fatalf("user id: %v", err)
	}
	a.Handle = handle
	s := a.start("webauthn.create", pk.Challenge, pk.RP.ID, append([]Option{WithCounter(a.count)}, opts...))
	s.flags |= FlagAT
	pub, err := a.key.PublicKey.Bytes() // 0x04 || X || Y
	if err != nil {
		a.t.Fatal(err)
	}
	enc, err := cbor.CTAP2EncOptions().EncMode()
	if err != nil {
		a.t.Fatal(err)
	}
	coseKey, err := enc.Marshal(map[int]any{1: 2, 3: -7, -1: 1, -2: pub[1:33], -3: pub[33:65]}) // EC2, ES256, P-256
	if err != nil {
		a.t.Fatal(err)
	}
	authData := s.authData()
	authData = append(authData, make([]byte, 16)...) // AAGUID: none
	authData = binary.BigEndian.AppendUint16(authData, uint16(len(a.ID)))
	authData = append(authData, a.ID...)
	authData = append(authData, coseKey...)
	attObj, err := enc.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": authData})
	if err != nil {
		a.t.Fatal(err)
	}
	return mustJSON(a.t, map[string]any{
		"id": b64.EncodeToString(a.ID), "rawId": b64.EncodeToString(a.ID), "type": "public-key",
		"authenticatorAttachment": "platform",
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(mustJSON(a.t, s.clientData)),
			"attestationObject": b64.EncodeToString(attObj),
			"transports":        []string{"internal", "hybrid"},
		},
		"clientExtensionResults": s.extensions,
	})
}

// get answers request options with an assertion signed over
// authenticatorData || SHA-256(clientDataJSON), and counts the use.
func (a *Authenticator) Get(options []byte, opts ...Option) []byte {
	a.t.Helper()
	pk := a.readOptions(options)
	s := a.start("webauthn.get", pk.Challenge, pk.RPID, opts)
	a.count = s.counter
	authData := s.authData()
	clientData := mustJSON(a.t, s.clientData)
	hash := sha256.Sum256(clientData)
	digest := sha256.Sum256(append(authData, hash[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, a.key, digest[:])
	if err != nil {
		a.t.Fatal(err)
	}
	if s.tamper {
		sig[len(sig)-1] ^= 1
	}
	resp := map[string]any{
		"clientDataJSON":    b64.EncodeToString(clientData),
		"authenticatorData": b64.EncodeToString(authData),
		"signature":         b64.EncodeToString(sig),
	}
	if s.userHandle != nil {
		resp["userHandle"] = b64.EncodeToString(s.userHandle)
	}
	return mustJSON(a.t, map[string]any{
		"id": b64.EncodeToString(a.ID), "rawId": b64.EncodeToString(a.ID), "type": "public-key",
		"authenticatorAttachment": "platform",
		"response":                resp,
		"clientExtensionResults":  s.extensions,
	})
}
