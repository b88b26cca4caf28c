package passkey_test

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

// authenticator is a software passkey: an ECDSA P-256 key that answers
// the options a Begin method returns the way a browser and a platform
// authenticator would, with "none" attestation. A test changes what it
// signs with options (a wrong origin, no UV flag, a counter going back).
type authenticator struct {
	t      testing.TB
	key    *ecdsa.PrivateKey
	id     []byte // the credential id
	handle []byte // the user handle it stored at registration
	count  uint32 // its signature counter; stays 0 if zeroCounter
	origin string
	// zeroCounter makes it one that implements no counter (many
	// platform authenticators send 0 every time).
	zeroCounter bool
}

// Authenticator data flags.
const (
	flagUP = 0x01 // user present
	flagUV = 0x04 // user verified
	flagAT = 0x40 // attested credential data included
)

var b64 = base64.RawURLEncoding

func newAuthenticator(t testing.TB, origin string) *authenticator {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id := make([]byte, 32)
	rand.Read(id)
	return &authenticator{t: t, key: key, id: id, origin: origin}
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

type option func(*signing)

func withOrigin(o string) option     { return func(s *signing) { s.clientData["origin"] = o } }
func withRPID(id string) option      { return func(s *signing) { s.rpID = id } }
func withFlags(f byte) option        { return func(s *signing) { s.flags = f } }
func withCounter(n uint32) option    { return func(s *signing) { s.counter = n } }
func withUserHandle(h []byte) option { return func(s *signing) { s.userHandle = h } }
func withType(typ string) option     { return func(s *signing) { s.clientData["type"] = typ } }
func tampered() option               { return func(s *signing) { s.tamper = true } }
func withExtensions(x map[string]any) option {
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

func (a *authenticator) readOptions(options []byte) publicKey {
	a.t.Helper()
	var o struct {
		PublicKey publicKey `json:"publicKey"`
	}
	if err := json.Unmarshal(options, &o); err != nil {
		a.t.Fatalf("options: %v", err)
	}
	return o.PublicKey
}

func (a *authenticator) start(typ, challenge, rpID string, opts []option) *signing {
	s := &signing{
		clientData: map[string]any{"type": typ, "challenge": challenge, "origin": a.origin, "crossOrigin": false},
		rpID:       rpID,
		flags:      flagUP | flagUV,
		extensions: map[string]any{},
		counter:    a.count,
		userHandle: a.handle,
	}
	if !a.zeroCounter {
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
func (a *authenticator) create(options []byte, opts ...option) []byte {
	a.t.Helper()
	pk := a.readOptions(options)
	handle, err := b64.DecodeString(pk.User.ID)
	if err != nil {
		a.t.Fatalf("user id: %v", err)
	}
	a.handle = handle
	s := a.start("webauthn.create", pk.Challenge, pk.RP.ID, append([]option{withCounter(a.count)}, opts...))
	s.flags |= flagAT
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
	authData = binary.BigEndian.AppendUint16(authData, uint16(len(a.id)))
	authData = append(authData, a.id...)
	authData = append(authData, coseKey...)
	attObj, err := enc.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": authData})
	if err != nil {
		a.t.Fatal(err)
	}
	return mustJSON(a.t, map[string]any{
		"id": b64.EncodeToString(a.id), "rawId": b64.EncodeToString(a.id), "type": "public-key",
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
func (a *authenticator) get(options []byte, opts ...option) []byte {
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
		"id": b64.EncodeToString(a.id), "rawId": b64.EncodeToString(a.id), "type": "public-key",
		"authenticatorAttachment": "platform",
		"response":                resp,
		"clientExtensionResults":  s.extensions,
	})
}
