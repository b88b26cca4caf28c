// Package passkey registers passkeys (WebAuthn credentials) and checks
// them, for a second step, a step-up, or a sign-in on their own.
//
// The WebAuthn protocol itself is github.com/go-webauthn/webauthn's; this
// package adds what the library leaves to its caller: where credentials and
// started ceremonies live (the Store, so that any node can finish what
// another began), that a ceremony is finished once, when it expires (on the
// injected clock), whose it is, and what happens to a passkey whose
// signature counter went backwards.
package passkey

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gatehouse/internal/totp"
)

// Credential is one registered passkey of an account.
type Credential struct {
	ID        string // our row id
	AccountID string
	Name      string // the holder's name for it (CleanName)
	// CredentialID is the WebAuthn credential id, unique across the
	// installation: an assertion names only its credential, and it must
	// lead to one account.
	CredentialID []byte
	// Data is the JSON of the library's webauthn.Credential: public key,
	// flags, counter, transports, AAGUID, attestation.
	Data []byte
	// SignCount is the newest signature counter seen; it, not the copy in
	// Data, is what the next assertion is compared with.
	SignCount uint32
	// Flagged is set once the counter went backwards — a sign that the key
	// was copied — and a flagged passkey no longer passes.
	Flagged    bool
	CreatedAt  time.Time
	LastUsedAt time.Time // zero until first used
}

// The kinds of ceremony.
const (
	// KindRegister adds a passkey to a signed-in account.
	KindRegister = "register"
	// KindLogin checks a passkey of an account already named: the second
	// step after a password, or a step-up before a sensitive change.
	KindLogin = "login"
	// KindDiscoverable signs in with a passkey alone: the account is known
	// only from the answer.
	KindDiscoverable = "discoverable"
)

// Ceremony is a started registration or assertion, kept server-side — in
// the database, so that any node can finish it — until it is finished once
// or expires.
type Ceremony struct {
	ID        string
	AccountID string // empty for a discoverable (passwordless) sign-in
	Kind      string // KindRegister, KindLogin or KindDiscoverable
	Data      []byte // JSON of the library's webauthn.SessionData
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Store keeps passkeys and started ceremonies.
type Store interface {
	// CreatePasskey returns ErrDuplicate if the credential id is already
	// registered, to any account.
	CreatePasskey(ctx context.Context, c *Credential) error
	// Passkeys returns the account's passkeys, flagged or not, oldest
	// first.
	Passkeys(ctx context.Context, accountID string) ([]*Credential, error)
	// PasskeyByCredentialID returns ErrNotFound for an unknown credential.
	PasskeyByCredentialID(ctx context.Context, credentialID []byte) (*Credential, error)
	// UsePasskey records an assertion with a valid signature: the new sign
	// count, the updated Data, whether the passkey is now flagged, and when.
	// The stored count only rises and a flag, once set, stays, so that two
	// nodes recording assertions of one passkey at once cannot undo each
	// other's.
	UsePasskey(ctx context.Context, id string, signCount uint32, data []byte, flagged bool, at time.Time) error
	// RenamePasskey returns ErrNotFound unless the passkey is the account's.
	RenamePasskey(ctx context.Context, accountID, id, name string) error
	// DeletePasskey returns ErrNotFound unless the passkey is the account's.
	DeletePasskey(ctx context.Context, accountID, id string) error
	CreateCeremony(ctx context.Context, c *Ceremony) error
	// TakeCeremony deletes the ceremony and returns it, expired or not, in
	// one statement (DELETE … RETURNING), so that of two nodes finishing it
	// at once only one gets it. ErrNotFound when it is absent.
	TakeCeremony(ctx context.Context, id string) (*Ceremony, error)
}

var (
	// ErrNotFound is a Store's answer for an unknown passkey or ceremony.
	ErrNotFound = errors.New("passkey: no such passkey or ceremony")
	// ErrDuplicate is returned for a credential id already registered.
	ErrDuplicate = errors.New("passkey: this passkey is already registered")
	// ErrName is returned for a passkey name that is empty, too long or not
	// plain text.
	ErrName = errors.New("passkey: a passkey's name must be 1 to 64 characters of text")
	// ErrNone is returned when the account has no passkey that can pass.
	ErrNone = errors.New("passkey: the account has no usable passkey")
	// ErrCeremony is returned for a ceremony that is unknown, already
	// finished, expired, another account's or of another kind.
	ErrCeremony = errors.New("passkey: no such ceremony in progress")
	// ErrInvalid is returned for a response that was refused: malformed,
	// too large, signed wrongly, for another origin, RP ID or challenge, or
	// without user verification where it is required. The library's reason
	// is wrapped with it, for the log.
	ErrInvalid = errors.New("passkey: the passkey's response was refused")
	// ErrUnknown is returned (wrapping ErrInvalid) for an answer by a
	// passkey no account here has: removed, or never registered.
	ErrUnknown = fmt.Errorf("%w: unknown passkey (removed, or never registered here)", ErrInvalid)
	// ErrCloned is returned when a passkey's signature counter did not
	// increase — the key may have been copied — and for a passkey flagged
	// so before.
	ErrCloned = errors.New("passkey: the passkey's signature counter went backwards; it may have been copied")
	// ErrRelyingParty is returned by New and RelyingParty for a public URL
	// that cannot hold passkeys: browsers offer them only to a domain name
	// (never an IP address), over https or at localhost.
	ErrRelyingParty = errors.New("passkey: passkeys need a public URL with a domain name, over https (or http://localhost)")
)

// FlaggedError is the ErrCloned of the answer that flagged a passkey: the
// one moment its holder should hear of it (later answers by it are plain
// ErrCloned).
type FlaggedError struct {
	AccountID, PasskeyID, Name string
	Sent, After                uint32 // the counter the answer sent, and the one stored
}

func (e *FlaggedError) Error() string {
	return fmt.Sprintf("%v: passkey %s sent counter %d, after %d", ErrCloned, e.PasskeyID, e.Sent, e.After)
}

// Unwrap makes a FlaggedError an ErrCloned.
func (e *FlaggedError) Unwrap() error { return ErrCloned }

// MaxName bounds a passkey's name (characters).
const MaxName = totp.MaxName

// MaxResponse bounds the response of a browser accepted by a Finish
// method. A real one is a few kilobytes at most; a larger one is refused
// before anything parses it.
const MaxResponse = 64 << 10

// CleanName checks and tidies a passkey's name. The rules are an
// authenticator app's (totp.CleanName), so that the account page holds
// both kinds of name to the same rules.
func CleanName(name string) (string, error) {
	name, err := totp.CleanName(name)
	if err != nil {
		return "", ErrName
	}
	return name, nil
}
