package passkey

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"gatehouse/internal/clock"
	"gatehouse/internal/random"
)

// DefaultTTL is how long a ceremony may take when Config.TTL is zero: long
// enough to find a security key and touch it, short enough that a
// challenge does not lie around.
const DefaultTTL = 5 * time.Minute

// Config configures a Service.
type Config struct {
	// RPID is the relying party id: the host name of the public URL.
	// Passkeys are bound to it, so changing it leaves every registered
	// passkey unusable.
	RPID string
	// Origin is the public URL's origin (scheme://host[:port]); a response
	// made on any other page is refused.
	Origin string
	// DisplayName is the service name the browser shows.
	DisplayName string
	Store       Store
	Clock       clock.Clock
	// TTL is how long a ceremony may take (DefaultTTL when zero).
	TTL time.Duration
}

// Service registers and checks passkeys. It keeps no state of its own:
// ceremonies are in the Store, so any node can finish one.
type Service struct {
	wa    *webauthn.WebAuthn
	store Store
	clock clock.Clock
	ttl   time.Duration
}

// RelyingParty returns the RP ID and origin for a public URL, or
// ErrRelyingParty when browsers would not offer passkeys there (an IP
// address, or plain http other than at localhost).
func RelyingParty(publicURL string) (rpID, origin string, err error) {
	u, err := url.Parse(publicURL)
	if err != nil || u.Host == "" {
		return "", "", fmt.Errorf("%w: %q is not an absolute URL", ErrRelyingParty, publicURL)
	}
	rpID = strings.ToLower(u.Hostname())
	origin = strings.ToLower(u.Scheme + "://" + u.Host)
	if err := checkRelyingParty(rpID, origin); err != nil {
		return "", "", err
	}
	return rpID, origin, nil
}

// checkRelyingParty refuses what a browser would refuse, so that a
// misconfiguration stops the start instead of every passkey ceremony.
func checkRelyingParty(rpID, origin string) error {
	if rpID == "" || net.ParseIP(rpID) != nil {
		return fmt.Errorf("%w: the RP ID %q is not a domain name", ErrRelyingParty, rpID)
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return fmt.Errorf("%w: %q is not an origin (scheme://host[:port])", ErrRelyingParty, origin)
	}
	host := strings.ToLower(u.Hostname())
	local := host == "localhost" || strings.HasSuffix(host, ".localhost")
	if u.Scheme != "https" && !(u.Scheme == "http" && local) {
		return fmt.Errorf("%w: %s is neither https nor http://localhost", ErrRelyingParty, origin)
	}
	// The RP ID must be the origin's host or a domain it is under.
	if host != rpID && !strings.HasSuffix(host, "."+rpID) {
		return fmt.Errorf("%w: the origin %s is not on the RP ID %s", ErrRelyingParty, origin, rpID)
	}
	return nil
}

// New returns a Service for c.
func New(c Config) (*Service, error) {
	if c.Store == nil {
		return nil, errors.New("passkey: no store")
	}
	if c.DisplayName == "" {
		return nil, errors.New("passkey: no display name")
	}
	if err := checkRelyingParty(c.RPID, c.Origin); err != nil {
		return nil, err
	}
	ttl := c.TTL
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	// The browser's timeout is the ceremony's lifetime. The library's own
	// expiry (Timeouts.Enforce) stays off: it reads the real clock, and the
	// ceremony's ExpiresAt, on the injected one, already decides.
	timeout := webauthn.TimeoutConfig{Timeout: ttl, TimeoutUVD: ttl}
	wa, err := webauthn.New(&webauthn.Config{
		RPID:          c.RPID,
		RPDisplayName: c.DisplayName,
		RPOrigins:     []string{c.Origin},
		Timeouts:      webauthn.TimeoutsConfig{Login: timeout, Registration: timeout},
		// No extension is asked for, and nothing here acts on one, so an
		// output a browser or passkey manager adds unasked is ignored
		// rather than failing the holder's ceremony (the library's default).
		ExtensionsUnsolicitedOutputPolicy: protocol.UnsolicitedOutputPolicyIgnore,
	})
	if err != nil {
		return nil, fmt.Errorf("passkey: %w", err)
	}
	return &Service{wa: wa, store: c.Store, clock: c.Clock, ttl: ttl}, nil
}

// user is the library's view of an account: the WebAuthn user handle is
// the account id — random, so it reveals nothing — and it is how a
// discoverable sign-in names its account.
type user struct {
	id, name, displayName string
	credentials           []webauthn.Credential
}

func (u *user) WebAuthnID() []byte                         { return []byte(u.id) }
func (u *user) WebAuthnName() string                       { return u.name }
func (u *user) WebAuthnDisplayName() string                { return u.displayName }
func (u *user) WebAuthnCredentials() []webauthn.Credential { return u.credentials }

// record decodes a stored passkey into the library's credential. The
// counter is the column's, which only rises (see Store.UsePasskey), and the
// clone warning is cleared, so that it reports this assertion alone.
func record(c *Credential) (webauthn.Credential, error) {
	var wc webauthn.Credential
	if err := json.Unmarshal(c.Data, &wc); err != nil {
		return wc, fmt.Errorf("passkey: decode passkey %s: %w", c.ID, err)
	}
	wc.Authenticator.SignCount = c.SignCount
	wc.Authenticator.CloneWarning = false
	return wc, nil
}

func (s *Service) user(accountID string, cs []*Credential) (*user, error) {
	u := &user{id: accountID}
	for _, c := range cs {
		wc, err := record(c)
		if err != nil {
			return nil, err
		}
		u.credentials = append(u.credentials, wc)
	}
	return u, nil
}

// invalid wraps a refusal of the library with ErrInvalid. The library's
// Error() is only its short description; the detail (which origin, which
// flag) is in DevInfo, which the log needs.
func invalid(what string, err error) error {
	var pe *protocol.Error
	if errors.As(err, &pe) && pe.DevInfo != "" {
		return fmt.Errorf("%w: %s: %w (%s)", ErrInvalid, what, err, pe.DevInfo)
	}
	return fmt.Errorf("%w: %s: %w", ErrInvalid, what, err)
}

// begin stores a started ceremony and returns its id and the options for
// the browser.
func (s *Service) begin(ctx context.Context, kind, accountID string, options any, sd *webauthn.SessionData) (string, []byte, error) {
	opts, err := json.Marshal(options)
	if err != nil {
		return "", nil, fmt.Errorf("passkey: encode options: %w", err)
	}
	data, err := json.Marshal(sd)
	if err != nil {
		return "", nil, fmt.Errorf("passkey: encode session data: %w", err)
	}
	now := s.clock.Now()
	c := &Ceremony{ID: random.ID(), AccountID: accountID, Kind: kind, Data: data, CreatedAt: now, ExpiresAt: now.Add(s.ttl)}
	if err := s.store.CreateCeremony(ctx, c); err != nil {
		return "", nil, fmt.Errorf("passkey: begin %s: %w", kind, err)
	}
	return c.ID, opts, nil
}

// take consumes a ceremony — before anything else is looked at, so that an
// answer, right or wrong, finishes it: each challenge gets one try — and
// checks that it is the one expected.
func (s *Service) take(ctx context.Context, id, kind, accountID string) (*webauthn.SessionData, error) {
	c, err := s.store.TakeCeremony(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("%w: unknown or already finished", ErrCeremony)
	}
	if err != nil {
		return nil, fmt.Errorf("passkey: finish %s: %w", kind, err)
	}
	switch {
	case c.Kind != kind:
		return nil, fmt.Errorf("%w: a %s ceremony, not %s", ErrCeremony, c.Kind, kind)
	case c.AccountID != accountID:
		return nil, fmt.Errorf("%w: another account's", ErrCeremony)
	case !s.clock.Now().Before(c.ExpiresAt):
		return nil, fmt.Errorf("%w: expired at %s", ErrCeremony, c.ExpiresAt.Format(time.RFC3339))
	}
	var sd webauthn.SessionData
	if err := json.Unmarshal(c.Data, &sd); err != nil {
		return nil, fmt.Errorf("passkey: decode ceremony %s: %w", c.ID, err)
	}
	return &sd, nil
}

// BeginRegistration starts adding a passkey to the account. userName (the
// address) and displayName are what the passkey manager shows. The passkey
// must be discoverable (a resident key), so that the same passkey later
// signs in alone; user verification is preferred, not required, so that a
// security key without a PIN still serves as a second step. The account's
// passkeys are excluded, so an authenticator holding one says so instead
// of making a second. No attestation is asked: nothing here decides by
// the authenticator's make.
func (s *Service) BeginRegistration(ctx context.Context, accountID, userName, displayName string) (string, []byte, error) {
	if accountID == "" {
		return "", nil, errors.New("passkey: begin registration: no account")
	}
	mine, err := s.store.Passkeys(ctx, accountID)
	if err != nil {
		return "", nil, fmt.Errorf("passkey: begin registration: %w", err)
	}
	u, err := s.user(accountID, mine)
	if err != nil {
		return "", nil, err
	}
	u.name, u.displayName = userName, displayName
	creation, sd, err := s.wa.BeginRegistration(u,
		webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{UserVerification: protocol.VerificationPreferred}),
		webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementRequired),
		webauthn.WithConveyancePreference(protocol.PreferNoAttestation),
		webauthn.WithExclusions(webauthn.Credentials(u.credentials).CredentialDescriptors()))
	if err != nil {
		return "", nil, fmt.Errorf("passkey: begin registration: %w", err)
	}
	return s.begin(ctx, KindRegister, accountID, creation, sd)
}

// FinishRegistration checks the browser's answer to the account's
// registration ceremony and stores the new passkey under name. A bad name
// is ErrName before the ceremony is touched, so that the holder can fix it
// and send the same answer again.
func (s *Service) FinishRegistration(ctx context.Context, accountID, ceremonyID, name string, response []byte) (*Credential, error) {
	name, err := CleanName(name)
	if err != nil {
		return nil, err
	}
	sd, err := s.take(ctx, ceremonyID, KindRegister, accountID)
	if err != nil {
		return nil, err
	}
	if len(response) > MaxResponse {
		return nil, fmt.Errorf("%w: the response is %d bytes, more than %d", ErrInvalid, len(response), MaxResponse)
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(response)
	if err != nil {
		return nil, invalid("parse the registration", err)
	}
	wc, err := s.wa.CreateCredential(&user{id: accountID}, *sd, parsed)
	if err != nil {
		return nil, invalid("check the registration", err)
	}
	data, err := json.Marshal(wc)
	if err != nil {
		return nil, fmt.Errorf("passkey: encode passkey: %w", err)
	}
	c := &Credential{ID: random.ID(), AccountID: accountID, Name: name, CredentialID: wc.ID, Data: data,
		SignCount: wc.Authenticator.SignCount, CreatedAt: s.clock.Now()}
	if err := s.store.CreatePasskey(ctx, c); err != nil {
		if errors.Is(err, ErrDuplicate) {
			return nil, ErrDuplicate
		}
		return nil, fmt.Errorf("passkey: finish registration: %w", err)
	}
	return c, nil
}

// BeginLogin starts an assertion by one of the account's passkeys (the
// second step, or a step-up): only those not flagged are allowed, and
// ErrNone says there are none. User verification is preferred: the
// password, or the session, is the other factor.
func (s *Service) BeginLogin(ctx context.Context, accountID string) (string, []byte, error) {
	mine, err := s.store.Passkeys(ctx, accountID)
	if err != nil {
		return "", nil, fmt.Errorf("passkey: begin login: %w", err)
	}
	var usable []*Credential
	for _, c := range mine {
		if !c.Flagged {
			usable = append(usable, c)
		}
	}
	if accountID == "" || len(usable) == 0 {
		return "", nil, ErrNone
	}
	u, err := s.user(accountID, usable)
	if err != nil {
		return "", nil, err
	}
	assertion, sd, err := s.wa.BeginLogin(u, webauthn.WithUserVerification(protocol.VerificationPreferred))
	if err != nil {
		return "", nil, fmt.Errorf("passkey: begin login: %w", err)
	}
	return s.begin(ctx, KindLogin, accountID, assertion, sd)
}

// FinishLogin checks the browser's answer to the account's login ceremony
// and returns the passkey that signed it, its use recorded.
func (s *Service) FinishLogin(ctx context.Context, accountID, ceremonyID string, response []byte) (*Credential, error) {
	sd, err := s.take(ctx, ceremonyID, KindLogin, accountID)
	if err != nil {
		return nil, err
	}
	parsed, err := parseAssertion(response)
	if err != nil {
		return nil, err
	}
	mine, err := s.store.Passkeys(ctx, accountID)
	if err != nil {
		return nil, fmt.Errorf("passkey: finish login: %w", err)
	}
	return s.check(ctx, accountID, mine, sd, parsed, false)
}

// BeginDiscoverable starts a sign-in by a passkey alone: no account is
// named, the browser offers whichever passkeys it holds for this site.
// User verification is required, since the passkey is then the only
// factor: something the holder has, unlocked by something they know or
// are.
func (s *Service) BeginDiscoverable(ctx context.Context) (string, []byte, error) {
	assertion, sd, err := s.wa.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return "", nil, fmt.Errorf("passkey: begin discoverable login: %w", err)
	}
	return s.begin(ctx, KindDiscoverable, "", assertion, sd)
}

// FinishDiscoverable checks the browser's answer to a discoverable
// sign-in and returns the account it signs in to and the passkey used. The
// answer's user handle names the account, and the passkey must be that
// account's. Whether the account may sign in (its status) is the caller's
// to check.
func (s *Service) FinishDiscoverable(ctx context.Context, ceremonyID string, response []byte) (string, *Credential, error) {
	sd, err := s.take(ctx, ceremonyID, KindDiscoverable, "")
	if err != nil {
		return "", nil, err
	}
	parsed, err := parseAssertion(response)
	if err != nil {
		return "", nil, err
	}
	handle := parsed.Response.UserHandle
	if len(handle) == 0 {
		return "", nil, fmt.Errorf("%w: the answer names no account (no user handle)", ErrInvalid)
	}
	hit, err := s.store.PasskeyByCredentialID(ctx, parsed.RawID)
	if errors.Is(err, ErrNotFound) {
		return "", nil, ErrUnknown
	}
	if err != nil {
		return "", nil, fmt.Errorf("passkey: finish discoverable login: %w", err)
	}
	if !bytes.Equal(handle, []byte(hit.AccountID)) {
		return "", nil, fmt.Errorf("%w: the user handle is not the passkey's account", ErrInvalid)
	}
	mine, err := s.store.Passkeys(ctx, hit.AccountID)
	if err != nil {
		return "", nil, fmt.Errorf("passkey: finish discoverable login: %w", err)
	}
	c, err := s.check(ctx, hit.AccountID, mine, sd, parsed, true)
	if err != nil {
		return "", nil, err
	}
	return hit.AccountID, c, nil
}

func parseAssertion(response []byte) (*protocol.ParsedCredentialAssertionData, error) {
	if len(response) > MaxResponse {
		return nil, fmt.Errorf("%w: the response is %d bytes, more than %d", ErrInvalid, len(response), MaxResponse)
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		return nil, invalid("parse the assertion", err)
	}
	return parsed, nil
}

// check verifies an assertion by one of mine, the account's passkeys, and
// records its use. All of them are given to the library, flagged or not:
// it insists that every passkey the ceremony allowed is still the
// account's, and one flagged since the ceremony began is refused here
// anyway, with ErrCloned.
func (s *Service) check(ctx context.Context, accountID string, mine []*Credential, sd *webauthn.SessionData, parsed *protocol.ParsedCredentialAssertionData, discoverable bool) (*Credential, error) {
	var hit *Credential
	for _, c := range mine {
		if bytes.Equal(c.CredentialID, parsed.RawID) {
			hit = c
		}
	}
	if hit == nil {
		return nil, fmt.Errorf("%w: not a passkey of the account", ErrInvalid)
	}
	if hit.Flagged {
		return nil, fmt.Errorf("%w: passkey %s was flagged before", ErrCloned, hit.ID)
	}
	u, err := s.user(accountID, mine)
	if err != nil {
		return nil, err
	}
	var wc *webauthn.Credential
	if discoverable {
		found := func(rawID, userHandle []byte) (webauthn.User, error) { return u, nil }
		_, wc, err = s.wa.ValidatePasskeyLogin(found, *sd, parsed)
	} else {
		wc, err = s.wa.ValidateLogin(u, *sd, parsed)
	}
	if err != nil {
		return nil, invalid("check the assertion", err)
	}
	// The library checks this too (the ceremony required it); a
	// passwordless sign-in rests on it, so it is checked again here.
	if discoverable && !parsed.Response.AuthenticatorData.Flags.UserVerified() {
		return nil, fmt.Errorf("%w: user verification is required", ErrInvalid)
	}
	data, err := json.Marshal(wc)
	if err != nil {
		return nil, fmt.Errorf("passkey: encode passkey: %w", err)
	}
	now := s.clock.Now()
	// The library does not fail an assertion whose counter did not rise: it
	// only sets CloneWarning (and keeps the old count). The signature was
	// valid, so whoever sent it holds the key — but so, it seems, does
	// someone else: the passkey is flagged for good.
	if wc.Authenticator.CloneWarning {
		// Flagged, not used: its "last used" stays that of its last
		// accepted use.
		if err := s.store.UsePasskey(ctx, hit.ID, hit.SignCount, data, true, hit.LastUsedAt); err != nil {
			return nil, fmt.Errorf("passkey: flag passkey: %w", err)
		}
		return nil, &FlaggedError{AccountID: accountID, PasskeyID: hit.ID, Name: hit.Name,
			Sent: parsed.Response.AuthenticatorData.Counter, After: hit.SignCount}
	}
	if err := s.store.UsePasskey(ctx, hit.ID, wc.Authenticator.SignCount, data, false, now); err != nil {
		return nil, fmt.Errorf("passkey: record passkey use: %w", err)
	}
	hit.SignCount, hit.Data, hit.LastUsedAt = wc.Authenticator.SignCount, data, now
	return hit, nil
}

// List returns the account's passkeys, oldest first.
func (s *Service) List(ctx context.Context, accountID string) ([]*Credential, error) {
	cs, err := s.store.Passkeys(ctx, accountID)
	if err != nil {
		return nil, fmt.Errorf("passkey: list: %w", err)
	}
	return cs, nil
}

// Rename renames a passkey of the account; ErrNotFound if it is not one.
func (s *Service) Rename(ctx context.Context, accountID, id, name string) error {
	name, err := CleanName(name)
	if err != nil {
		return err
	}
	return s.store.RenamePasskey(ctx, accountID, id, name)
}

// Remove deletes a passkey of the account; ErrNotFound if it is not one.
// The authenticator keeps its copy: the caller may tell the browser
// (PublicKeyCredential.signalUnknownCredential) so that it stops offering
// it.
func (s *Service) Remove(ctx context.Context, accountID, id string) error {
	return s.store.DeletePasskey(ctx, accountID, id)
}
