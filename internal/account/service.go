package account

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gatehouse/internal/clock"
	"gatehouse/internal/code"
	"gatehouse/internal/commit"
	"gatehouse/internal/form"
	"gatehouse/internal/grant"
	"gatehouse/internal/i18n"
	"gatehouse/internal/limit"
	"gatehouse/internal/notice"
	"gatehouse/internal/password"
	"gatehouse/internal/random"
	"gatehouse/internal/request"
	"gatehouse/internal/secevent"
)

// Hasher hashes and verifies passwords (password.Hasher).
type Hasher interface {
	Hash(ctx context.Context, pw string) (string, error)
	// Verify reports whether pw matches hash, and whether the hash should
	// be remade with the current cost.
	Verify(ctx context.Context, pw, hash string) (ok, rehash bool, err error)
}

// Codes issues and checks one-time codes (code.Service).
type Codes interface {
	Issue(ctx context.Context, spec code.Challenge, decoy bool) (*code.Challenge, string, error)
	Lookup(ctx context.Context, id string, p request.Purpose) (*code.Challenge, error)
	Check(ctx context.Context, id string, p request.Purpose, c string, by request.Origin) (*code.Challenge, error)
	// Usable, Reserve, Unreserve and Fail serve requests answered by
	// something other than their own code (an app, a backup code, a
	// passkey): Usable refuses a used, locked or expired challenge, Reserve
	// counts an answer as wrong before it is compared, Unreserve gives the
	// count back for a right one, Fail says what a wrong one meant.
	Usable(c *code.Challenge) error
	Reserve(ctx context.Context, c *code.Challenge) error
	Unreserve(ctx context.Context, c *code.Challenge) error
	Fail(c *code.Challenge) error
	Use(ctx context.Context, c *code.Challenge) error
	Resend(ctx context.Context, id string, p request.Purpose, o request.Origin) (*code.Challenge, string, error)
	// Validity is how long a new code is valid.
	Validity() time.Duration
}

// Sessions starts and ends sessions (session.Manager).
type Sessions interface {
	// Grant starts a session for the account on the origin's device and
	// ends previous, the session token the browser held, if any: every
	// authentication gets a new token (ASVS v5.0.0-7.2.4).
	// Grant starts the session; amr is how the holder proved who they are
	// (RFC 8176 values, see session.Session.AMR).
	Grant(ctx context.Context, accountID string, o request.Origin, remember bool, previous string, amr ...string) (*grant.Grant, error)
	EndAll(ctx context.Context, accountID string) error
	// Forget drops this node's cached copies of the account's sessions,
	// which carry the account: called after a change to the account
	// commits, so the holder's next page shows it at once (the other nodes
	// learn of it from the store's notification).
	Forget(accountID string)
}

// PasswordChecks records checks of an account's password made outside the
// sign-in form (the signin package's attempt record keeps them).
type PasswordChecks interface {
	RecordPasswordCheck(ctx context.Context, accountID, email string, ok bool, o request.Origin) error
}

// PendingSignIns ends an account's sign-ins in progress (package signin):
// a right password waiting for its second step.
type PendingSignIns interface {
	EndPending(ctx context.Context, accountID string) (int, error)
}

// Service runs the account flows.
type Service struct {
	Store    Store
	Hasher   Hasher
	Policy   password.Policy
	Codes    Codes
	Notices  notice.Sender
	Sessions Sessions
	// Guesses records every check of the current password with the
	// sign-in attempts (package signin), where the guessing limits and the
	// activity page see it. Required.
	Guesses PasswordChecks
	// Pending ends the sign-ins in progress when every session is
	// signed out: someone one code away is signed in everywhere too, in a
	// minute. Required.
	Pending PendingSignIns
	// Limits counts every check of the current password before it is
	// hashed (package limit), like a sign-in's. Required: tests that are
	// about something else say limit.None().
	Limits *limit.Limiter
	// Trust ends every "don't ask again on this browser" when the password
	// changes or every session is signed out. Required.
	Trust interface {
		StopTrusting(ctx context.Context, accountID, deviceID string) error
	}
	Tx commit.Transactor // required (tests without transactions say commit.Direct{})
	// Erase deletes an account with its data (Delete); Delete fails
	// without it.
	Erase         Eraser
	Clock         clock.Clock
	Catalog       *i18n.Catalog // for the operator's (English) messages
	PhoneRegion   string        // default region for phone numbers without a country code
	HistoryLength int           // passwords that may not be reused, counting the current one (5)
	// Events, if set, records a credential change for every new password
	// and the disabling of an account, each in its flow's transaction.
	Events secevent.Sink
}

// Registration is what the sign-up form submits.
type Registration struct {
	Email    string
	Password string
	Phone    string
	Language string
	Origin   request.Origin
}

// ErrBusy is password.ErrBusy, re-exported for callers of this package.
var ErrBusy = password.ErrBusy

// checkPassword applies the policy and returns field errors keyed by field.
func (s *Service) checkPassword(name, pw, email string) form.Errors {
	if pw == "" {
		return form.Errors{name: "error.required"}
	}
	if r := s.Policy.Check(pw, email); r != "" {
		return form.Errors{name: "password.reason." + string(r)}
	}
	return nil
}

// Register starts a sign-up and returns the id of the confirmation request
// the browser continues with. Whether or not the address already has an
// account, the caller sees the same result and the same amount of work: a
// fresh or unconfirmed address gets a confirmation code, an address with an
// account gets a notice instead.
func (s *Service) Register(ctx context.Context, r Registration) (string, error) {
	errs := form.Errors{}
	email, err := NormalizeEmail(r.Email)
	if r.Email == "" {
		errs["email"] = "error.required"
	} else if err != nil {
		errs["email"] = "error.email_invalid"
	}
	var phone string
	if r.Phone != "" {
		if phone, err = NormalizePhone(r.Phone, s.PhoneRegion); err != nil {
			errs["phone"] = "error.phone_invalid"
		}
	}
	for k, v := range s.checkPassword("password", r.Password, email) {
		errs[k] = v
	}
	if len(errs) > 0 {
		return "", errs
	}
	// Hash before looking the address up, so every path costs one hash.
	hash, err := s.Hasher.Hash(ctx, r.Password)
	if err != nil {
		return "", err
	}
	var id string
	err = s.Tx.InTx(ctx, func(ctx context.Context) error {
		existing, err := s.Store.AccountByEmail(ctx, email)
		switch {
		case errors.Is(err, ErrNotFound):
		case err != nil:
			return err
		default:
			id, err = s.registerExisting(ctx, existing, email, r)
			return err
		}
		// No account yet: a pending sign-up, with its own code. Other
		// pending sign-ups for the address (someone else's typo, or this
		// person's earlier try) keep theirs; the first one confirmed wins.
		ch, c, err := s.Codes.Issue(ctx, code.Challenge{Purpose: request.ConfirmEmail, Destination: email, Origin: r.Origin}, false)
		if errors.Is(err, code.ErrBlocked) {
			// The address's holder said this sender's earlier code was not
			// theirs: the same page, a request no code answers, and the
			// message recorded but not sent.
			id, err = s.registerBlocked(ctx, email, r)
			return err
		}
		if err != nil {
			return fmt.Errorf("register: issue code: %w", err)
		}
		su := &Signup{ID: ch.ID, Email: email, Phone: phone, PasswordHash: hash, Language: r.Language,
			DeviceID: r.Origin.DeviceID, CreatedAt: r.Origin.Time.UTC()}
		if err := s.Store.CreateSignup(ctx, su); err != nil {
			return fmt.Errorf("register: %w", err)
		}
		id = ch.ID
		return s.sendCode(ctx, ch, c, "", email, r.Language, "")
	})
	if err != nil {
		return "", err
	}
	return id, nil
}

// registerBlocked answers a sign-up whose sender is blocked from the
// address (code.ErrBlocked) like one for a taken address: a decoy request,
// and the message it would have cost recorded withheld.
func (s *Service) registerBlocked(ctx context.Context, email string, r Registration) (string, error) {
	ch, _, err := s.Codes.Issue(ctx, code.Challenge{Purpose: request.ConfirmEmail, Destination: email, Origin: r.Origin}, true)
	if err != nil {
		return "", fmt.Errorf("register: issue decoy: %w", err)
	}
	_, err = s.Notices.Send(ctx, notice.Notice{
		Purpose: request.ConfirmEmail, Cause: ch.Cause, ChallengeID: ch.ID, To: email, Language: r.Language, Origin: r.Origin,
		Withhold: true,
	})
	if err != nil {
		return "", fmt.Errorf("register: record withheld message: %w", err)
	}
	return ch.ID, nil
}

// registerExisting answers a sign-up for an address that has an account:
// the same page (a decoy request no code can answer), and a notice to the
// holder instead of a code.
func (s *Service) registerExisting(ctx context.Context, a *Account, email string, r Registration) (string, error) {
	ch, _, err := s.Codes.Issue(ctx, code.Challenge{Purpose: request.ConfirmEmail, Destination: email, Origin: r.Origin}, true)
	if err != nil {
		return "", fmt.Errorf("register: issue decoy: %w", err)
	}
	_, err = s.Notices.Send(ctx, notice.Notice{
		Purpose: request.SignupExisting, AccountID: a.ID, To: a.Email, Language: a.Language, TimeZone: a.TimeZone,
		Origin: r.Origin,
	})
	if err != nil {
		return "", fmt.Errorf("register: notify holder: %w", err)
	}
	return ch.ID, nil
}

// sendCode sends the code of challenge ch, which says itself what it is for,
// why it was sent and from where (package notice writes the words).
func (s *Service) sendCode(ctx context.Context, ch *code.Challenge, c, accountID, to, lang, tz string) error {
	_, err := s.Notices.Send(ctx, notice.Notice{
		Purpose: ch.Purpose, Cause: ch.Cause, ChallengeID: ch.ID, AccountID: accountID, To: to, Channel: ch.Channel,
		Language: lang, TimeZone: tz, Origin: ch.Origin, Code: c, Valid: s.Codes.Validity(),
	})
	if err != nil {
		return fmt.Errorf("send %s code: %w", ch.Purpose, err)
	}
	return nil
}

// ResendConfirmation sends a new confirmation code for the request.
func (s *Service) ResendConfirmation(ctx context.Context, challengeID, _ string, o request.Origin) error {
	return s.Tx.InTx(ctx, func(ctx context.Context) error { return s.resendConfirmation(ctx, challengeID, o) })
}

// resendConfirmation issues the new code and queues its message (one transaction: see the
// exported method).
func (s *Service) resendConfirmation(ctx context.Context, challengeID string, o request.Origin) error {
	ch, c, err := s.Codes.Resend(ctx, challengeID, request.ConfirmEmail, o)
	if err != nil || c == "" {
		return err
	}
	su, err := s.Store.Signup(ctx, ch.ID)
	if errors.Is(err, ErrNotFound) {
		// The sign-up ended (another one for the address was confirmed):
		// answer like a decoy and send nothing — the address's owner has
		// an account now and must not get codes for a dead request.
		return nil
	}
	if err != nil {
		return err
	}
	ch.Origin = o // the message quotes the request for this code
	return s.sendCode(ctx, ch, c, "", ch.Destination, su.Language, "")
}

// ConfirmRequest is a sign-up code typed on the confirmation page.
type ConfirmRequest struct {
	ChallengeID string
	Code        string
	// NewPassword is the password chosen on the confirming browser when it
	// is not the one that signed up (see Confirmation.PasswordNeeded).
	NewPassword string
	Origin      request.Origin
	// Previous is the session token the browser held, if any; signing in
	// ends it.
	Previous string
}

// Confirmation is what a successful Confirm did.
type Confirmation struct {
	Account *Account
	// Session is the session started for the confirming browser, or nil.
	// Only the browser that signed up with this password is signed in; one
	// that chose a password here signs in with it, like after a reset.
	Session *grant.Grant
	// PasswordNeeded: the code is right, but the browser confirming it is
	// not the one that signed up, and chose no password. Whoever signed up
	// chose the password, and the owner of the address — who has just
	// proved it — must not be handed an account with a stranger's password
	// (account pre-hijacking). The caller asks for a new password and calls
	// Confirm again with it; the code is not used up until then, and
	// nothing else was done.
	PasswordNeeded bool
}

// Confirm checks the code of a sign-up request and creates the account.
// From the browser that signed up, the password chosen then is kept and the
// browser is signed in. From any other browser it answers PasswordNeeded
// unless r.NewPassword is given, which then replaces the sign-up's password.
func (s *Service) Confirm(ctx context.Context, r ConfirmRequest) (*Confirmation, error) {
	ch, err := s.Codes.Check(ctx, r.ChallengeID, request.ConfirmEmail, r.Code, r.Origin)
	if err != nil {
		return nil, err
	}
	su, err := s.Store.Signup(ctx, ch.ID)
	if errors.Is(err, ErrNotFound) {
		// Another sign-up for the address was confirmed first: this
		// request has ended, and no new code can revive it.
		return nil, code.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	sameBrowser := su.DeviceID != "" && su.DeviceID == r.Origin.DeviceID
	hash := su.PasswordHash
	if !sameBrowser {
		if r.NewPassword == "" {
			return &Confirmation{PasswordNeeded: true}, nil
		}
		if errs := s.checkPassword("new_password", r.NewPassword, su.Email); errs != nil {
			return nil, errs
		}
		if hash, err = s.Hasher.Hash(ctx, r.NewPassword); err != nil {
			return nil, err
		}
	}
	at := r.Origin.Time.UTC()
	a := &Account{
		ID: random.ID(), Email: su.Email, Phone: su.Phone, PasswordHash: hash, Language: su.Language,
		Status: Active, CreatedAt: su.CreatedAt, ConfirmedAt: at, PasswordChangedAt: at,
	}
	out := &Confirmation{Account: a}
	// The code is used, the account made and the browser signed in
	// together: a code spent on an account that was never created would
	// leave the holder stuck.
	err = s.Tx.InTx(ctx, func(ctx context.Context) error {
		if err := s.Codes.Use(ctx, ch); err != nil {
			return err
		}
		if err := s.Store.CompleteSignup(ctx, su.ID, a); err != nil {
			return err
		}
		if !sameBrowser {
			return nil
		}
		// The password typed at sign-up and the mailed code: no second factor.
		g, err := s.Sessions.Grant(ctx, a.ID, r.Origin, false, r.Previous, "pwd", "otp")
		if err != nil {
			return fmt.Errorf("confirm: sign in: %w", err)
		}
		out.Session = g
		return nil
	})
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrEmailTaken) {
		return nil, code.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// reused reports whether pw equals the current password or one of the
// previous ones the history keeps.
func (s *Service) reused(ctx context.Context, a *Account, pw string) (bool, error) {
	hist, err := s.Store.PasswordHistory(ctx, a.ID, s.HistoryLength-1)
	if err != nil {
		return false, err
	}
	for _, h := range append([]string{a.PasswordHash}, hist...) {
		ok, _, err := s.Hasher.Verify(ctx, pw, h)
		if err != nil && !errors.Is(err, password.ErrMalformedHash) {
			return false, err
		}
		if ok {
			return true, nil
		}
	}
	return false, nil
}

// setPassword checks the new password against the policy and the history,
// runs first (if any) once everything is validated, stores the new hash and
// notifies the holder.
//
// first runs first inside the transaction (a reset uses its code there),
// after last (a reset ends every session); either may be nil.
func (s *Service) setPassword(ctx context.Context, a *Account, name, pw string, purpose request.Purpose, o request.Origin, first, after func(ctx context.Context) error) error {
	if errs := s.checkPassword(name, pw, a.Email); errs != nil {
		return errs
	}
	if reused, err := s.reused(ctx, a, pw); err != nil {
		return err
	} else if reused {
		return form.Errors{name: "password.reason." + string(password.Reused)}
	}
	hash, err := s.Hasher.Hash(ctx, pw)
	if err != nil {
		return err
	}
	// Everything that follows is one transaction: the code (if any) is
	// used, the password changed, the notice queued and (after) the
	// sessions ended — all of it or none.
	return s.Tx.InTx(ctx, func(ctx context.Context) error {
		if first != nil {
			if err := first(ctx); err != nil {
				return err
			}
		}
		if err := s.Store.SetPasswordHash(ctx, a.ID, hash, o.Time.UTC(), true); err != nil {
			return fmt.Errorf("set password: %w", err)
		}
		commit.After(ctx, func() { s.Sessions.Forget(a.ID) })
		if err := s.stopTrusting(ctx, a.ID); err != nil {
			return err
		}
		// Guesses at the old password say nothing about the new one: the
		// holder, on any browser, signs in with it at once, and the count
		// (and its 30-day budget) starts again.
		if err := s.Limits.Forget(ctx, a.ID, limit.Password); err != nil {
			return err
		}
		if _, err := s.Notices.Send(ctx, notice.Notice{
			Purpose: purpose, AccountID: a.ID, To: a.Email, Language: a.Language, TimeZone: a.TimeZone, Origin: o,
		}); err != nil {
			return fmt.Errorf("set password: notify holder: %w", err)
		}
		reason := "password changed"
		if purpose == request.PasswordReset {
			reason = "password reset with an emailed code"
		}
		if err := secevent.Record(ctx, s.Events, secevent.Event{Type: secevent.CredentialChange, AccountID: a.ID, At: o.Time,
			Credential: secevent.Password, Change: secevent.Update, Reason: reason}); err != nil {
			return fmt.Errorf("set password: %w", err)
		}
		if after != nil {
			return after(ctx)
		}
		return nil
	})
}

// PasswordChange is the change-password form of a signed-in holder.
type PasswordChange struct {
	AccountID string
	Current   string
	Next      string
	// SignOutOthers ends every other session; this browser then gets a
	// fresh session (Session, Remember) so the holder stays signed in here.
	SignOutOthers bool
	Session       string // the browser's session token
	Remember      bool   // whether the browser's session was remembered
	Origin        request.Origin
}

// ChangePassword changes a signed-in holder's password after checking the
// current one (ASVS v5.0.0-6.2.3). Both fields are checked in one round,
// so the holder fixes everything at once; every check of the current
// password is recorded like a sign-in attempt, because a wrong one is a
// guess at the password. With c.SignOutOthers every session ends and the
// returned grant is this browser's new session, all in one transaction
// (ASVS v5.0.0-7.4.3); otherwise the grant is nil.
func (s *Service) ChangePassword(ctx context.Context, c PasswordChange) (*grant.Grant, error) {
	a, err := s.Store.AccountByID(ctx, c.AccountID)
	if err != nil {
		return nil, err
	}
	errs := s.checkPassword("new_password", c.Next, a.Email)
	if c.Current == "" {
		if errs == nil {
			errs = form.Errors{}
		}
		errs["current_password"] = "error.required"
		return nil, errs
	}
	o := c.Origin
	ticket, err := s.Limits.Take(ctx, limit.Guess{Secret: limit.Password, AccountID: a.ID, Origin: o})
	if err != nil {
		return nil, err
	}
	ok, _, err := s.Hasher.Verify(ctx, c.Current, a.PasswordHash)
	if err != nil {
		return nil, err
	}
	ticket.Done(ctx, ok)
	if !ok {
		// A wrong guess is recorded on its own; a right one with the change.
		if err := s.Guesses.RecordPasswordCheck(ctx, a.ID, a.Email, false, o); err != nil {
			return nil, err
		}
	}
	if !ok {
		if errs == nil {
			errs = form.Errors{}
		}
		errs["current_password"] = "error.current_password_wrong"
	}
	if errs != nil {
		return nil, errs
	}
	record := func(ctx context.Context) error { return s.Guesses.RecordPasswordCheck(ctx, a.ID, a.Email, true, o) }
	var g *grant.Grant
	var after func(ctx context.Context) error
	if c.SignOutOthers {
		after = func(ctx context.Context) error {
			if err := s.Sessions.EndAll(ctx, a.ID); err != nil {
				return fmt.Errorf("change password: sign out everywhere: %w", err)
			}
			var err error
			g, err = s.Sessions.Grant(ctx, a.ID, o, c.Remember, "", "pwd")
			return err
		}
	}
	if err := s.setPassword(ctx, a, "new_password", c.Next, request.PasswordChanged, o, record, after); err != nil {
		return nil, err
	}
	return g, nil
}

// CheckPassword checks the holder's current password for a step-up (see
// the web layer's re-verification), recording the check like a sign-in
// attempt: a wrong one is a guess at the password.
func (s *Service) CheckPassword(ctx context.Context, accountID, pw string, o request.Origin) error {
	if pw == "" {
		return form.Errors{"password": "error.required"}
	}
	a, err := s.Store.AccountByID(ctx, accountID)
	if err != nil {
		return err
	}
	ticket, err := s.Limits.Take(ctx, limit.Guess{Secret: limit.Password, AccountID: a.ID, Origin: o})
	if err != nil {
		return err
	}
	ok, _, err := s.Hasher.Verify(ctx, pw, a.PasswordHash)
	if err != nil {
		return err
	}
	ticket.Done(ctx, ok)
	if err := s.Guesses.RecordPasswordCheck(ctx, a.ID, a.Email, ok, o); err != nil {
		return err
	}
	if !ok {
		return form.Errors{"password": "error.current_password_wrong"}
	}
	return nil
}

// SignOutEverywhere ends every session of the account, the caller's
// included (ASVS v5.0.0-7.5.2): the answer to a lost phone or a shared
// computer. It ends the sign-ins in progress too (a right password
// waiting for its second step): whoever is one code away would otherwise
// be signed in a minute later, the same "everywhere".
func (s *Service) SignOutEverywhere(ctx context.Context, accountID string) error {
	return s.Tx.InTx(ctx, func(ctx context.Context) error {
		// The sign-ins first: a code passing at this moment either ended
		// its attempt before (and its session, committed, ends below) or
		// waits on the attempt's row and then finds it denied.
		if _, err := s.Pending.EndPending(ctx, accountID); err != nil {
			return err
		}
		if err := s.Sessions.EndAll(ctx, accountID); err != nil {
			return err
		}
		return s.stopTrusting(ctx, accountID)
	})
}

// MarkPasswordKnown records that someone else has the account's password,
// said for the holder (by support, the holder on the phone: "I got a code
// I didn't ask for"), as their own "this wasn't me" would: every session
// and sign-in in progress ends, no browser skips the second step, the
// password alone proves nothing until the holder sets a new one (a
// sign-in with it also needs the holder's mailbox), and receivers hear of
// a compromised credential. One transaction.
func (s *Service) MarkPasswordKnown(ctx context.Context, accountID string) error {
	now := s.Clock.Now().UTC()
	return s.Tx.InTx(ctx, func(ctx context.Context) error {
		// The mark first, conditional: of presses at once (or a second
		// one before the holder set a new password) one marks, the others
		// are ErrPasswordKnownAlready and change nothing — no second
		// event to the receivers.
		err := s.Store.MarkPasswordCompromisedOnce(ctx, accountID, now)
		if errors.Is(err, ErrNotFound) {
			if _, err := s.Store.AccountByID(ctx, accountID); err != nil {
				return err
			}
			return ErrPasswordKnownAlready
		}
		if err != nil {
			return fmt.Errorf("mark password known: %w", err)
		}
		if err := s.SignOutEverywhere(ctx, accountID); err != nil {
			return err
		}
		if err := secevent.Record(ctx, s.Events, secevent.Event{Type: secevent.CredentialCompromise, AccountID: accountID, At: now,
			Credential: secevent.Password, Reason: "the holder told support a request made with the password was not theirs"}); err != nil {
			return fmt.Errorf("mark password known: %w", err)
		}
		commit.After(ctx, func() { s.Sessions.Forget(accountID) })
		return nil
	})
}

// ErrPasswordKnownAlready: the password is marked as known to someone else
// already, and the holder has not set a new one since.
var ErrPasswordKnownAlready = errors.New("account: the password is marked known already")

// stopTrusting ends the account's trusted browsers: a password change or
// "sign out everywhere" is the holder taking back control, so no browser
// keeps skipping the second step.
func (s *Service) stopTrusting(ctx context.Context, accountID string) error {
	if err := s.Trust.StopTrusting(ctx, accountID, ""); err != nil {
		return fmt.Errorf("stop trusting browsers: %w", err)
	}
	return nil
}

// SetPreferences sets the language of the holder's messages and their time
// zone ("" for the default of that language).
func (s *Service) SetPreferences(ctx context.Context, accountID, lang, tz string) error {
	errs := form.Errors{}
	if !i18n.Supported(lang) {
		errs["language"] = "error.choose_option"
	}
	if tz != "" && !i18n.KnownZone(tz) {
		errs["time_zone"] = "error.choose_option"
	}
	if len(errs) > 0 {
		return errs
	}
	return s.Tx.InTx(ctx, func(ctx context.Context) error {
		if err := s.Store.SetPreferences(ctx, accountID, lang, tz); err != nil {
			return fmt.Errorf("set preferences: %w", err)
		}
		commit.After(ctx, func() { s.Sessions.Forget(accountID) })
		return nil
	})
}

// RequestReset starts a password reset and returns the request id. Every
// address gets the same answer; only a confirmed account's address receives
// a code.
func (s *Service) RequestReset(ctx context.Context, email, lang string, o request.Origin) (string, error) {
	norm, err := NormalizeEmail(email)
	if email == "" {
		return "", form.Errors{"email": "error.required"}
	} else if err != nil {
		return "", form.Errors{"email": "error.email_invalid"}
	}
	var id string
	err = s.Tx.InTx(ctx, func(ctx context.Context) (err error) {
		id, err = s.requestReset(ctx, norm, lang, o)
		return err
	})
	return id, err
}

// requestReset records the reset request and its message (a code, or a
// withheld record for an address without an active account).
func (s *Service) requestReset(ctx context.Context, norm, lang string, o request.Origin) (string, error) {
	a, err := s.Store.AccountByEmail(ctx, norm)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return "", err
	}
	if a == nil || a.Status != Active {
		ch, _, err := s.Codes.Issue(ctx, code.Challenge{Purpose: request.ResetPassword, Destination: norm, Origin: o}, true)
		if err != nil {
			return "", fmt.Errorf("request reset: issue decoy: %w", err)
		}
		// Record, but never send, what this request would have cost: the
		// same writes as for an address with an account.
		_, err = s.Notices.Send(ctx, notice.Notice{
			Purpose: request.ResetPassword, Cause: ch.Cause, ChallengeID: ch.ID, To: norm, Language: lang, Origin: o,
			Withhold: true,
		})
		if err != nil {
			return "", fmt.Errorf("request reset: record withheld message: %w", err)
		}
		return ch.ID, nil
	}
	// The request records the address as typed (normalised), not the
	// account's stored spelling: the code page shows it, and showing the
	// stored spelling would tell whoever typed KNOWN@… that an account
	// exists. The code goes to the stored address.
	ch, c, err := s.Codes.Issue(ctx, code.Challenge{Purpose: request.ResetPassword, AccountID: a.ID, Destination: norm, Origin: o}, false)
	if err != nil {
		return "", fmt.Errorf("request reset: issue code: %w", err)
	}
	return ch.ID, s.sendCode(ctx, ch, c, a.ID, a.Email, a.Language, a.TimeZone)
}

// ResendReset sends a new reset code for the request, in the account's
// language (lang, the page's, is not used: the message goes to the holder).
func (s *Service) ResendReset(ctx context.Context, challengeID, _ string, o request.Origin) error {
	return s.Tx.InTx(ctx, func(ctx context.Context) error { return s.resendReset(ctx, challengeID, o) })
}

// resendReset issues the new code and queues its message (one transaction: see the
// exported method).
func (s *Service) resendReset(ctx context.Context, challengeID string, o request.Origin) error {
	ch, c, err := s.Codes.Resend(ctx, challengeID, request.ResetPassword, o)
	if err != nil || c == "" {
		return err
	}
	a, err := s.Store.AccountByID(ctx, ch.AccountID)
	if err != nil {
		return err
	}
	ch.Origin = o // the message quotes the request for this code
	return s.sendCode(ctx, ch, c, a.ID, a.Email, a.Language, a.TimeZone)
}

// Reset sets a new password with a reset code and signs the account out
// everywhere. The holder then signs in with the new password (no automatic
// sign-in: OWASP Forgot Password cheat sheet).
func (s *Service) Reset(ctx context.Context, challengeID, c, next string, o request.Origin) error {
	ch, err := s.Codes.Lookup(ctx, challengeID, request.ResetPassword)
	if err != nil {
		return err
	}
	// The rule is checked before the code is used up, so a refused password
	// does not cost the holder their code.
	if errs := s.checkPassword("new_password", next, ch.Destination); errs != nil {
		return errs
	}
	if c == "" {
		return form.Errors{"code": "error.required"}
	}
	// Checked, not used: a password refused for reuse must not cost the
	// holder their code. It is used only once everything else is valid.
	if ch, err = s.Codes.Check(ctx, challengeID, request.ResetPassword, c, o); err != nil {
		return err
	}
	a, err := s.Store.AccountByID(ctx, ch.AccountID)
	if err != nil {
		return err
	}
	return s.setPassword(ctx, a, "new_password", next, request.PasswordReset, o,
		func(ctx context.Context) error { return s.Codes.Use(ctx, ch) },
		func(ctx context.Context) error { return s.Sessions.EndAll(ctx, a.ID) })
}

// Create makes an active account directly (the operator's "user create").
func (s *Service) Create(ctx context.Context, email, pw, lang string) (*Account, error) {
	norm, err := NormalizeEmail(email)
	if err != nil {
		return nil, err
	}
	if errs := s.checkPassword("password", pw, norm); errs != nil {
		return nil, fmt.Errorf("password refused: %s", s.Catalog.T("en", errs["password"]))
	}
	hash, err := s.Hasher.Hash(ctx, pw)
	if err != nil {
		return nil, err
	}
	now := s.Clock.Now()
	a := &Account{ID: random.ID(), Email: norm, PasswordHash: hash, Language: lang, Status: Active,
		CreatedAt: now, ConfirmedAt: now, PasswordChangedAt: now}
	return a, s.Store.CreateAccount(ctx, a)
}

// List returns every account, for the operator (gatehouse user list, and
// the admin API later).
func (s *Service) List(ctx context.Context) ([]*Account, error) {
	return s.Store.ListAccounts(ctx)
}

// Search returns one page of the accounts whose address starts with
// prefix, in address order, after the address after (see
// Store.SearchAccounts), for the admin API.
func (s *Service) Search(ctx context.Context, prefix, after string, limit int) ([]*Account, error) {
	return s.Store.SearchAccounts(ctx, strings.ToLower(strings.TrimSpace(prefix)), strings.ToLower(after), limit)
}

// ByID returns the account with the id, or ErrNotFound.
func (s *Service) ByID(ctx context.Context, id string) (*Account, error) {
	return s.Store.AccountByID(ctx, id)
}

// DisableByEmail disables the account with the address (see Disable); it
// returns ErrNotFound when no account has it.
func (s *Service) DisableByEmail(ctx context.Context, email string) (*Account, error) {
	norm, err := NormalizeEmail(email)
	if err != nil {
		return nil, err
	}
	a, err := s.Store.AccountByEmail(ctx, norm)
	if err != nil {
		return nil, err
	}
	return a, s.Disable(ctx, a.ID)
}

// Disable stops an account from signing in and ends its sessions
// (ASVS v5.0.0-7.4.2). It is the operator's doing (gatehouse user
// disable, the admin API), and its events say so.
func (s *Service) Disable(ctx context.Context, id string) error {
	ctx = secevent.WithBy(ctx, secevent.ByAdmin)
	return s.Tx.InTx(ctx, func(ctx context.Context) error {
		if err := s.Store.SetStatus(ctx, id, Disabled); err != nil {
			return err
		}
		if err := secevent.Record(ctx, s.Events, secevent.Event{Type: secevent.AccountDisabled, AccountID: id, At: s.Clock.Now()}); err != nil {
			return fmt.Errorf("disable: %w", err)
		}
		return s.Sessions.EndAll(ctx, id)
	})
}

// Delete removes the account with the id and everything that belongs to
// it (see Eraser), in one transaction: its sessions end first, so that
// every node forgets them when it commits, then its data goes. It returns
// the account as it was, or ErrNotFound.
func (s *Service) Delete(ctx context.Context, id string) (*Account, error) {
	if s.Erase == nil {
		return nil, errors.New("account: delete: no Eraser wired")
	}
	var a *Account
	err := s.Tx.InTx(ctx, func(ctx context.Context) error {
		var err error
		if a, err = s.Store.AccountByID(ctx, id); err != nil {
			return err
		}
		if err := s.Sessions.EndAll(ctx, id); err != nil {
			return err
		}
		return s.Erase.EraseAccount(ctx, a)
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// DeleteByEmail is Delete for the account with the address (gatehouse
// user delete).
func (s *Service) DeleteByEmail(ctx context.Context, email string) (*Account, error) {
	norm, err := NormalizeEmail(email)
	if err != nil {
		return nil, err
	}
	a, err := s.Store.AccountByEmail(ctx, norm)
	if err != nil {
		return nil, err
	}
	return s.Delete(ctx, a.ID)
}

// Enable lets a disabled account sign in again. Its sessions stay ended:
// the holder signs in afresh. An account that is not disabled is left as
// it is.
func (s *Service) Enable(ctx context.Context, id string) error {
	a, err := s.Store.AccountByID(ctx, id)
	if err != nil {
		return err
	}
	if a.Status != Disabled {
		return nil
	}
	return s.Store.SetStatus(ctx, id, Active)
}

// SetAlerts sets the channels of the new-device alert. SMS needs a
// confirmed phone; the caller checks it, so that the page can say so.
//
// Turning the alert off on every channel is itself told, by email and to
// a confirmed phone: it is what someone who took over the account would
// do first.
func (s *Service) SetAlerts(ctx context.Context, accountID string, a Alerts, o request.Origin) error {
	acc, err := s.Store.AccountByID(ctx, accountID)
	if err != nil {
		return fmt.Errorf("set alerts: %w", err)
	}
	err = s.Tx.InTx(ctx, func(ctx context.Context) error {
		if err := s.Store.SetAlerts(ctx, accountID, a); err != nil {
			return fmt.Errorf("set alerts: %w", err)
		}
		if !a.Off() || acc.Alerts.Off() {
			return nil
		}
		_, err := s.Notices.Send(ctx, notice.Notice{Purpose: request.AlertsOff, AccountID: acc.ID, To: acc.Email,
			Language: acc.Language, TimeZone: acc.TimeZone, Origin: o})
		return err
	})
	if err != nil {
		return err
	}
	s.Sessions.Forget(accountID) // cached sessions carry the account
	return nil
}
