// Package signin runs password sign-in and records every attempt.
//
// Each attempt — unknown account, wrong password, success, and later
// "pending a second step" or "denied" — is stored with the typed identifier,
// the account if one matched, the device, network and time. That record is
// what the activity page shows and what the cause table reasons from when a
// code is sent ("someone entered your correct password from a device this
// account has not used").
package signin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"gatehouse/internal/account"
	"gatehouse/internal/clock"
	"gatehouse/internal/code"
	"gatehouse/internal/commit"
	"gatehouse/internal/grant"
	"gatehouse/internal/limit"
	"gatehouse/internal/method"
	"gatehouse/internal/notice"
	"gatehouse/internal/passkey"
	"gatehouse/internal/random"
	"gatehouse/internal/request"
)

// Outcome is how an attempt ended.
type Outcome string

// Attempt outcomes.
const (
	UnknownAccount Outcome = "unknown_account"
	WrongPassword  Outcome = "wrong_password"
	Succeeded      Outcome = "succeeded"
	Pending        Outcome = "pending_second_step"
	Denied         Outcome = "denied" // right password, but the account may not sign in
	// Failed: the password was right, the second step was not (too many
	// wrong codes).
	Failed Outcome = "failed_second_step"
	// Expired: the password was right, and the second step's code ran out
	// before it was entered.
	Expired Outcome = "expired"
)

// Outcomes lists every outcome (the admin API filters by them).
var Outcomes = []Outcome{UnknownAccount, WrongPassword, Succeeded, Pending, Denied, Failed, Expired}

// Method is a way to pass the second step, as an attempt records it
// (package method).
type Method = method.Kind

// Second-step methods, by the kinds package method registers, and
// Trusted.
const (
	Email   = method.Email
	App     = method.App
	SMS     = method.SMS
	Passkey = method.Passkey
	Backup  = method.Backup
	// Trusted is recorded as the method used when a browser the holder
	// chose to trust skipped the second step.
	Trusted Method = "trusted_browser"
)

// Accepts returns the methods that may pass an attempt, in the order the
// second-step page offers them: the new-device check (a code from the
// mailbox) passes only with that code; a two-step sign-in with any method
// the account has set up (ways, strongest first), the backstops (a
// backup code), and — when EmailFallback is on — a code by email last. A
// re-verification accepts only what proves a second factor: whoever reads
// the mailbox must not be able to switch two-step verification off (NIST
// SP 800-63B-4 §3.1.3: email is no second factor).
func (s *Service) Accepts(at *Attempt, ways []Method) []Method {
	if s.MailboxCheck(at) {
		return []Method{at.MethodOffered}
	}
	out := append([]Method(nil), ways...)
	out = append(out, s.methods.Backstops()...)
	if s.EmailFallback && at.Kind != StepUpKind {
		out = append(out, Email)
	}
	return slices.DeleteFunc(out, func(m Method) bool { return at.Kind == StepUpKind && !s.methods.About(m).Factor })
}

// MailboxCheck reports whether at asks for a code from the mailbox rather
// than a second factor: the new-device check, or the step after a
// password its holder reported known. Only that code passes it.
func (s *Service) MailboxCheck(at *Attempt) bool {
	m, ok := s.methods.Get(at.MethodOffered)
	return ok && at.Kind != StepUpKind && !m.About().Factor
}

// Method returns the method registered as m, for a page that shows it.
func (s *Service) Method(m Method) (method.Method, bool) { return s.methods.Get(m) }

// About returns what the method registered as m is (method.Set.About).
func (s *Service) About(m Method) method.About { return s.methods.About(m) }

// Ways returns the second-step methods a has set up, strongest first;
// none means two-step verification is off (method.Set.Ways).
func (s *Service) Ways(ctx context.Context, a *account.Account) ([]Method, error) {
	return s.methods.Ways(ctx, a)
}

// OwnPage reports whether m is answered on the second-step page rather
// than typed with the password on the re-verification form: a code that
// is sent, or a browser's assertion.
func OwnPage(m method.About) bool { return m.Channel != "" || m.Input == method.Assertion }

// Accepted reports whether m is one of the methods in list.
func Accepted(list []Method, m Method) bool {
	for _, x := range list {
		if x == m {
			return true
		}
	}
	return false
}

// Kind is what a password attempt was for.
type Kind string

// Attempt kinds. A wrong current password typed on the change-password
// page is a guess at the password like a failed sign-in, and is recorded
// the same way so the holder's activity shows it.
const (
	SignInKind     Kind = "signin"
	PasswordChange Kind = "password_change"
	StepUpKind     Kind = "step_up" // re-verification before a sensitive change
)

// Attempt is one recorded sign-in attempt: the request a second step's
// codes will be issued for (code.Challenge.AttemptID).
type Attempt struct {
	ID         string
	Kind       Kind
	Identifier string // what was typed, normalised when it parsed as an address
	AccountID  string // empty for an unknown account
	SessionID  string // the session it started, if it succeeded
	// Origin is where the attempt came from; Origin.Time is when. Browser
	// and OS are not stored: a reader derives them from the user agent.
	Origin  request.Origin
	Outcome Outcome
	// MethodOffered is the second step asked for, MethodUsed the one that
	// passed it; both empty when no second step was needed.
	MethodOffered Method
	MethodUsed    Method
	// Remember is the browser's "keep me signed in", kept until the second
	// step passes and the session starts.
	Remember bool
	EndedAt  time.Time // when a pending attempt ended
	// Cause is why its second step's codes were sent, decided when the
	// second step was asked (request.Decide); empty when none was.
	Cause request.Cause
	// App is the application that asked for a step-up (cause
	// ConnectedApp); zero otherwise.
	App request.App

	// known caches, for one sign-in, whether Origin's device is one the
	// account has signed in on (see usedBy); never stored.
	known *bool
}

// Proof is one second step a session passed — its sign-in's or a
// re-verification's — and when.
type Proof struct {
	Method Method
	At     time.Time
}

// AttemptQuery selects a page of an account's attempts for its activity
// page, newest first: those since Since, older than the cursor (Before,
// and BeforeID among attempts of the same time) when Before is set, only
// the failures (any outcome but succeeded and pending) with FailedOnly, at
// most Limit. The admin API narrows it further: only attempts before
// Until (when set), with Outcome, or with Cause (when set).
type AttemptQuery struct {
	Since      time.Time
	Before     time.Time
	BeforeID   string
	FailedOnly bool
	Limit      int
	Until      time.Time
	Outcome    Outcome
	Cause      request.Cause
}

// Store keeps attempts.
type Store interface {
	RecordAttempt(ctx context.Context, a *Attempt) error
	// Attempt returns ErrNoAttempt for an unknown id.
	Attempt(ctx context.Context, id string) (*Attempt, error)
	// EndAttempt moves a pending attempt to its outcome, if it is still
	// pending; it reports whether this call was the one that ended it (a
	// conditional update: one code passes one attempt, on any node).
	EndAttempt(ctx context.Context, id string, outcome Outcome, sessionID string, methodUsed Method, at time.Time) (bool, error)
	// AttemptsByAccount returns the account's most recent attempts, newest first.
	AttemptsByAccount(ctx context.Context, accountID string, limit int) ([]*Attempt, error)
	// AttemptsPage returns a page of the account's attempts (AttemptQuery).
	AttemptsPage(ctx context.Context, accountID string, q AttemptQuery) ([]*Attempt, error)
}

// Errors a caller must tell apart. ErrInvalid deliberately covers an
// unknown address, a wrong password and an address whose sign-up is still
// pending (ASVS v5.0.0-6.3.8): a pending sign-up is not an account, so it
// must not answer differently from an address nobody has used.
var (
	ErrInvalid  = errors.New("signin: wrong email or password")
	ErrDisabled = errors.New("signin: account disabled")
	// ErrNoAttempt is a Store's answer for an unknown attempt.
	ErrNoAttempt = errors.New("signin: no such attempt")
)

// Accounts is what sign-in needs of the account store.
type Accounts interface {
	AccountByEmail(ctx context.Context, email string) (*account.Account, error)
	AccountByID(ctx context.Context, id string) (*account.Account, error)
	SetPasswordHash(ctx context.Context, id, hash string, at time.Time, remember bool) error
}

// Service signs holders in. Build it with New.
type Service struct {
	// Settings are the operator's choices, read by the pages too.
	Settings

	accounts Accounts
	attempts Store
	hasher   account.Hasher
	sessions account.Sessions
	tx       commit.Transactor
	log      *slog.Logger
	clock    clock.Clock
	devices  Devices
	codes    Codes
	notices  notice.Sender
	methods  *method.Set
	reauth   Reauthenticator
	passkeys interface {
		FinishDiscoverable(ctx context.Context, ceremonyID string, response []byte) (string, *passkey.Credential, error)
	}
	limits *limit.Limiter
	ended  func(Kind, Outcome, Method)
}

// Deps is what a sign-in service is built from. Every field is required
// (New panics without it) except where its comment says otherwise: a test
// that is about something else says so with an explicit stand-in —
// commit.Direct{}, limit.None(), a logger on slog.DiscardHandler.
type Deps struct {
	Accounts Accounts
	Attempts Store
	Hasher   account.Hasher
	Sessions account.Sessions
	// Tx runs each flow's writes (session, attempt, code, rehash) as one
	// transaction.
	Tx commit.Transactor
	// Log receives one structured event per attempt (see logOutcome).
	Log *slog.Logger
	// Clock dates an attempt whose origin carries no time; nil is the
	// real clock.
	Clock clock.Clock
	// Devices says which devices an account was used on and trusts.
	Devices Devices
	// Codes opens second steps and sends, checks and uses their codes.
	Codes   Codes
	Notices notice.Sender
	// Methods are the second-step methods, registered by kind.
	Methods *method.Set
	// Reauth marks a session proved again (a step-up) or not recently
	// proved (session.Manager).
	Reauth Reauthenticator
	// Passkeys signs in by a passkey alone (FinishDiscoverable); nil when
	// the public URL cannot hold passkeys (then so is the passkey method
	// absent from Methods).
	Passkeys interface {
		FinishDiscoverable(ctx context.Context, ceremonyID string, response []byte) (string, *passkey.Credential, error)
	}
	// Limits counts every guess at a password, an app's code, a backup
	// code or a passkey before it is evaluated, and refuses it with
	// *limit.Error while the account's delay runs.
	Limits *limit.Limiter
	// Ended, when set, is told of every attempt's outcome as it is logged
	// (see logOutcome), with its method: the one that passed it, else the
	// one it waits for, else "" (the password alone). A two-step sign-in
	// is told twice: pending, then how it ended. Optional (metrics).
	Ended func(Kind, Outcome, Method)
}

// Settings are the operator's sign-in choices (the signin.* keys).
type Settings struct {
	// NewDeviceCheck asks for a code sent by email when the right password
	// comes from a device the account has not been used on
	// (signin.new_device_check).
	NewDeviceCheck bool
	// EmailFallback lets a two-step sign-in pass with a code sent to the
	// account's address, as a last "other way" (weaker than every other
	// method: whoever reads the mailbox has it).
	EmailFallback bool
	// TrustFor is how long "don't ask again on this browser" lasts
	// (signin.trust_days); 0 offers no trust.
	TrustFor time.Duration
	// CodeSignIn lets an account without two-step verification sign in
	// with a code sent to its address instead of the password
	// (signin.code_signin; see RequestCode).
	CodeSignIn bool
}

// New returns a sign-in service. It panics when a required dependency is
// missing: that is a wiring mistake, not a state to run in.
func New(d Deps, set Settings) *Service {
	for name, missing := range map[string]bool{
		"Accounts": d.Accounts == nil, "Attempts": d.Attempts == nil, "Hasher": d.Hasher == nil,
		"Sessions": d.Sessions == nil, "Tx": d.Tx == nil, "Log": d.Log == nil, "Devices": d.Devices == nil,
		"Codes": d.Codes == nil, "Notices": d.Notices == nil, "Methods": d.Methods == nil,
		"Reauth": d.Reauth == nil, "Limits": d.Limits == nil,
	} {
		if missing {
			panic("signin.New: " + name + " is required")
		}
	}
	return &Service{Settings: set,
		accounts: d.Accounts, attempts: d.Attempts, hasher: d.Hasher, sessions: d.Sessions, tx: d.Tx, log: d.Log,
		clock: d.Clock, devices: d.Devices, codes: d.Codes, notices: d.Notices, methods: d.Methods, reauth: d.Reauth,
		passkeys: d.Passkeys, limits: d.Limits, ended: d.Ended}
}

// ErrPasskey marks a refused passkey answer (package passkey's error,
// joined to it, says why). It is method.ErrPasskey: the passkey method
// refuses a second step's answer, sign-in a passkey-alone one.
var ErrPasskey = method.ErrPasskey

// Codes is what sign-in needs of package code: a second step's challenge
// is opened without a code (Open) and a code is sent for it by the channel
// the holder picks (Send).
type Codes interface {
	account.Codes
	Open(ctx context.Context, spec code.Challenge) (*code.Challenge, error)
	Send(ctx context.Context, id string, p request.Purpose, ch request.Channel, destination string, o request.Origin) (*code.Challenge, string, error)
}

// Reauthenticator records a step-up on a session (session.Manager).
type Reauthenticator interface {
	// Reauthenticate marks the session proved again at at; amr is how
	// (RFC 8176 values), added to the session's.
	Reauthenticate(ctx context.Context, sessionID string, at time.Time, amr ...string) error
}

// StepUpRequest is the re-verification form of a signed-in holder.
type StepUpRequest struct {
	AccountID string
	SessionID string
	Password  string
	Method    Method // App or Backup, when two-step verification is on
	Code      string
	Origin    request.Origin
	// App, when set, is the connected application that sent the holder
	// here (an OpenID Connect client asking for a fresh sign-in or a
	// step-up): a code sent for this step-up has cause ConnectedApp and
	// names it. Zero for the holder's own step-up.
	App request.App
}

// ErrSecondStep is StepUp's answer for a wrong or used app or backup code.
var ErrSecondStep = errors.New("signin: wrong second-step code")

// ErrWrongPassword is StepUp's answer to a password that is not the
// holder's. The holder is signed in and their account known, so unlike a
// sign-in's ErrInvalid it may say which field was wrong.
var ErrWrongPassword = errors.New("signin: step up: not the holder's password")

// StepUp proves a signed-in holder again before a sensitive change: the
// password (recorded like a sign-in attempt), and when two-step
// verification is on a second step, then the session's AuthenticatedAt
// moves to now. An app's code or a backup code is typed with the password
// and used up in the same transaction as the session is marked. For a code
// by SMS or email, the step-up is recorded as a pending attempt of this
// session, the code sent (SMS at once; email when asked), and StepUp
// returns its challenge: the step-up continues on the second-step page,
// and Verify finishes it. A nil challenge and nil error: the holder is
// proved again.
func (s *Service) StepUp(ctx context.Context, r StepUpRequest, reauth Reauthenticator) (*code.Challenge, error) {
	o := r.Origin
	if o.Time.IsZero() {
		o.Time = s.clock.Now()
	}
	o.Time = o.Time.UTC()
	a, err := s.accounts.AccountByID(ctx, r.AccountID)
	if err != nil {
		return nil, fmt.Errorf("step up: read account: %w", err)
	}
	at := &Attempt{ID: random.ID(), Kind: StepUpKind, Identifier: a.Email, AccountID: a.ID, Origin: o, Outcome: WrongPassword, App: r.App}
	// A stolen session must not make an unthrottled password oracle: the
	// re-verification counts against the same limit as a sign-in.
	ticket, err := s.limits.Take(ctx, limit.Guess{Secret: limit.Password, AccountID: a.ID, Origin: o})
	if err != nil {
		s.logLimited(ctx, at, err)
		return nil, err
	}
	ok, _, err := s.hasher.Verify(ctx, r.Password, a.PasswordHash)
	if err != nil {
		return nil, fmt.Errorf("step up: verify password: %w", err)
	}
	ticket.Done(ctx, ok)
	if ok {
		// The session proved again: a re-verification is recorded with
		// it, like a sign-in with the session it started (what the
		// operator console asks of a session: which method proved it, when).
		at.Outcome, at.SessionID = Succeeded, r.SessionID
	}
	var ways []Method
	if ok {
		if ways, err = s.methods.Ways(ctx, a); err != nil {
			return nil, fmt.Errorf("step up: two-step state: %w", err)
		}
	}
	m := r.Method
	if len(ways) > 0 {
		at.MethodOffered = ways[0]
		if m == "" || !Accepted(s.Accepts(at, ways), m) {
			m = ways[0]
		}
	}
	about := s.methods.About(m)
	if len(ways) > 0 && OwnPage(about) {
		// The second step is answered on its own page: the attempt stays
		// pending, bound to this session, and only the password is proved
		// so far.
		at.Outcome, at.MethodOffered, at.SessionID = Pending, m, r.SessionID
		return s.pendingStepUp(ctx, a, at, m)
	}
	if !ok {
		if err := s.attempts.RecordAttempt(ctx, at); err != nil {
			return nil, fmt.Errorf("step up: record attempt: %w", err)
		}
		s.logOutcome(ctx, at)
		return nil, ErrWrongPassword
	}
	var codeTicket *limit.Ticket
	if len(ways) > 0 {
		at.MethodOffered = m
		// The app's code or backup code typed with the password: counted
		// before it is compared, like a sign-in's second step.
		if codeTicket, err = s.limits.Take(ctx, limit.Guess{Secret: about.Secret, AccountID: a.ID, Origin: o}); err != nil {
			s.logLimited(ctx, at, err)
			return nil, err
		}
	}
	err = s.tx.InTx(ctx, func(ctx context.Context) error {
		if len(ways) > 0 {
			meth, ok := s.methods.Get(m)
			if !ok {
				return ErrMethod
			}
			if err := s.answer(ctx, meth, &method.Answer{AccountID: a.ID, Code: r.Code, Origin: o}); err != nil {
				return err
			}
			at.MethodUsed = m
		}
		if err := s.attempts.RecordAttempt(ctx, at); err != nil {
			return fmt.Errorf("step up: record attempt: %w", err)
		}
		proved := []string{"pwd"}
		if len(ways) > 0 {
			proved = amrOf(about, true)
		}
		return reauth.Reauthenticate(ctx, r.SessionID, o.Time, proved...)
	})
	if errors.Is(err, errWrongAnswer) {
		// The password was right, the second step was not: recorded as
		// such (never as a success), outside the rolled-back transaction.
		codeTicket.Done(ctx, false)
		at.Outcome, at.EndedAt, at.MethodUsed = Failed, o.Time, ""
		if err := s.attempts.RecordAttempt(ctx, at); err != nil {
			return nil, fmt.Errorf("step up: record attempt: %w", err)
		}
		s.logOutcome(ctx, at)
		if codeTicket.Failures() == s.limits.Policy().FreeFailures+1 {
			// The password was right and the app's codes keep failing: the
			// run reached the delay, and the holder hears of it.
			s.secondStepFailed(ctx, at, nil, o)
		}
		return nil, ErrSecondStep
	}
	if err != nil {
		return nil, err
	}
	codeTicket.Done(ctx, true)
	s.logOutcome(ctx, at)
	if len(ways) > 0 {
		s.announce(ctx, m, a, o)
	}
	return nil, nil
}

// pendingStepUp records a step-up whose password was right as pending and
// opens its second step (texting the code at once for SMS), in one
// transaction. The cause is "you, just now": the request comes from a
// signed-in session of this account on this device; or, when a connected
// application sent the holder here (at.App), "a connected application",
// recorded with the challenge so that its messages name it and "this
// wasn't me" can disconnect it.
func (s *Service) pendingStepUp(ctx context.Context, a *account.Account, at *Attempt, m Method) (*code.Challenge, error) {
	cause := request.Decide(request.SecondStep, request.Facts{DeviceKnown: true, SessionOnDevice: true})
	if at.App.ID != "" {
		cause = request.ConnectedApp
	}
	at.Cause = cause
	var ch *code.Challenge
	err := s.tx.InTx(ctx, func(ctx context.Context) error {
		if err := s.attempts.RecordAttempt(ctx, at); err != nil {
			return fmt.Errorf("step up: record attempt: %w", err)
		}
		var err error
		ch, err = s.codes.Open(ctx, code.Challenge{
			Purpose: request.SecondStep, Cause: cause, AttemptID: at.ID, AccountID: a.ID, Origin: at.Origin, App: at.App,
		})
		if err != nil {
			return fmt.Errorf("step up: record second step: %w", err)
		}
		// A method that sends codes sends the first at once: the holder
		// picked it.
		meth, _ := s.methods.Get(m)
		if meth == nil || meth.About().Channel == "" {
			return nil
		}
		var c string
		if ch, c, err = s.codes.Send(ctx, ch.ID, request.SecondStep, meth.About().Channel, meth.Destination(a), at.Origin); err != nil {
			return fmt.Errorf("step up: issue code: %w", err)
		}
		return s.sendCode(ctx, a, ch, c, StepUpKind)
	})
	if err != nil {
		return nil, err
	}
	s.logOutcome(ctx, at)
	return ch, nil
}

// Devices says which devices an account has been used on, and which it
// trusts to skip the second step.
type Devices interface {
	UsedBy(ctx context.Context, accountID, deviceID string) (bool, error)
	// UsedAt is when a session of the account last started on the device
	// (zero: never).
	UsedAt(ctx context.Context, accountID, deviceID string) (time.Time, error)
	TrustedUntil(ctx context.Context, accountID, deviceID string) (time.Time, error)
	Trust(ctx context.Context, accountID, deviceID string, until time.Time) error
	// TrustingAccounts and StopTrusting serve TrustCopied.
	TrustingAccounts(ctx context.Context, deviceID string, now time.Time) ([]string, error)
	StopTrusting(ctx context.Context, accountID, deviceID string) error
}

// TrustCopied answers a trusted browser's cookie seen in two browsers (a
// superseded value came back: see device.Devices.Rotate): every account
// that trusted the device trusts it no more, and its holder is told on
// every channel, quoting the request that showed it (o). Failures are
// logged: the request goes on as a new device's either way.
func (s *Service) TrustCopied(ctx context.Context, deviceID string, o request.Origin) {
	ctx = context.WithoutCancel(ctx)
	accounts, err := s.devices.TrustingAccounts(ctx, deviceID, s.clock.Now())
	for _, id := range accounts {
		if err = s.devices.StopTrusting(ctx, id, deviceID); err != nil {
			break
		}
		var a *account.Account
		if a, err = s.accounts.AccountByID(ctx, id); err != nil {
			break
		}
		if _, err = s.notices.Send(ctx, notice.Notice{
			Purpose: request.TrustCopied, AccountID: a.ID, To: a.Email, Language: a.Language, TimeZone: a.TimeZone, Origin: o,
		}); err != nil {
			break
		}
	}
	if err != nil {
		s.log.ErrorContext(ctx, "sign-in: a copied trusted browser", "device", deviceID, "err", err)
	} else {
		s.log.WarnContext(ctx, "sign-in: a trusted browser's cookie was copied", "device", deviceID, "accounts", len(accounts))
	}
}

// Request is one sign-in form submission.
type Request struct {
	Email    string
	Password string
	Remember bool
	// Previous is the session token the browser already held, if any. A
	// sign-in ends it: every authentication gets a new token and the old
	// one stops working (ASVS v5.0.0-7.2.4).
	Previous string
	Origin   request.Origin
}

// Result is a sign-in whose password was right: either a session
// (Session), or a second step to pass first (SecondStep, the challenge its
// code answers; no session exists yet).
type Result struct {
	Account    *account.Account
	Session    *grant.Grant
	SecondStep *code.Challenge
	// SteppedUp: Verify finished a step-up; the browser's own session was
	// proved again and no new one started.
	SteppedUp bool
	// Trusted: the browser skipped the second step as trusted; the caller
	// gives its device cookie a new token (device.Devices.Rotate).
	Trusted bool
}

// SignIn checks the password and starts a session. Whether or not the
// address has an account, exactly one argon2 verification runs, so neither
// the answer nor its timing tells the two apart.
func (s *Service) SignIn(ctx context.Context, r Request) (*Result, error) {
	o := r.Origin
	if o.Time.IsZero() {
		o.Time = s.clock.Now()
	}
	o.Time = o.Time.UTC()
	at := &Attempt{ID: random.ID(), Kind: SignInKind, Identifier: r.Email, Origin: o}
	if norm, err := account.NormalizeEmail(r.Email); err == nil {
		at.Identifier = norm
	}
	var stored string
	a, err := s.accounts.AccountByEmail(ctx, at.Identifier)
	// An address without an account is counted under the key accounts are
	// found by (lower case): any spelling of it shares one count, as any
	// spelling of an account's address does.
	guess := limit.Guess{Secret: limit.Password, Subject: "email:" + strings.ToLower(at.Identifier), Origin: o}
	switch {
	case err == nil:
		stored = a.PasswordHash
		at.AccountID = a.ID
		guess.AccountID, guess.Subject = a.ID, ""
		if o.DeviceID != "" {
			// Read once for the limits, the new-device check and the alert.
			known, err := s.usedBy(ctx, a.ID, at)
			if err != nil {
				return nil, err
			}
			guess.Known = &known
		}
	case !errors.Is(err, account.ErrNotFound):
		return nil, fmt.Errorf("sign in: look up account: %w", err)
	}
	// Counted before the hash, for an address without an account too (the
	// same answers either way): while the delay runs nothing is hashed,
	// so a right password gives no sign.
	ticket, err := s.limits.Take(ctx, guess)
	if err != nil {
		s.logLimited(ctx, at, err)
		return nil, err
	}
	ok, rehash, err := s.hasher.Verify(ctx, r.Password, stored)
	if err != nil {
		return nil, fmt.Errorf("sign in: verify password: %w", err)
	}
	var result error
	switch {
	case a == nil:
		at.Outcome, result = UnknownAccount, ErrInvalid
	case !ok:
		at.Outcome, result = WrongPassword, ErrInvalid
	case refusal(a) != nil:
		at.Outcome, result = Denied, refusal(a)
	default:
		at.Outcome = Succeeded
	}
	if result != nil {
		ticket.Done(ctx, ok && a != nil)
		return nil, s.refuse(ctx, at, result)
	}
	// The right password: its guess is given back in the transaction that
	// starts the session or the second step (start, askSecondStep).
	ctx = context.WithValue(ctx, rightKey{}, ticket)
	var newHash string
	if rehash {
		// The configured cost changed since this hash was made; the
		// password is in hand now, so upgrade it transparently (hashed
		// here, outside the transaction: hashing is slow).
		if h, err := s.hasher.Hash(ctx, r.Password); err == nil {
			newHash = h
		} else {
			// The sign-in goes on with the old hash; the upgrade waits for
			// the next one.
			s.log.WarnContext(ctx, "sign-in: rehash with the current cost failed", "account", a.ID, "err", err)
		}
	}
	ways, err := s.methods.Ways(ctx, a)
	if err != nil {
		return nil, fmt.Errorf("sign in: two-step state: %w", err)
	}
	on := len(ways) > 0
	trusted := false
	if on && o.DeviceID != "" {
		until, err := s.devices.TrustedUntil(ctx, a.ID, o.DeviceID)
		if err != nil {
			return nil, fmt.Errorf("sign in: read device trust: %w", err)
		}
		// The holder chose to trust this browser: the password is
		// enough until then.
		trusted = o.Time.Before(until)
	}
	if on && !trusted {
		return s.askSecondStep(ctx, a, at, newHash, r.Remember, ways[0])
	}
	if trusted {
		at.MethodUsed = Trusted
	}
	if !a.PasswordCompromisedAt.IsZero() && at.MethodUsed != Trusted {
		// The holder said someone else has this password ("this wasn't
		// me"): the password alone proves nothing until a new one is set,
		// so whoever types it must also read the holder's mailbox — or the
		// first to sign in with the old password would choose the new one
		// (the probe's W7, with the new-device check off).
		return s.askSecondStep(ctx, a, at, newHash, r.Remember, Email)
	}
	if s.NewDeviceCheck {
		known, err := s.usedBy(ctx, a.ID, at)
		if err != nil {
			return nil, err
		}
		if !known {
			return s.askSecondStep(ctx, a, at, newHash, r.Remember, Email)
		}
	}
	return s.start(ctx, a, at, newHash, r.Remember, r.Previous)
}

// refusal is why an account whose password (or passkey) was right may not
// sign in, or nil. Only an active account signs in; a status this version
// does not know (a newer one wrote it, or the row is damaged) is refused
// like an unconfirmed one from data of earlier versions.
func refusal(a *account.Account) error {
	switch a.Status {
	case account.Active:
		return nil
	case account.Disabled:
		return ErrDisabled
	}
	return ErrInvalid
}

// refuse records and logs an attempt that did not sign in, and returns
// result. It is logged even when the record could not be written: a guess
// must not vanish from both the record and the log.
func (s *Service) refuse(ctx context.Context, at *Attempt, result error) error {
	err := s.attempts.RecordAttempt(ctx, at)
	s.logOutcome(ctx, at)
	if err != nil {
		return fmt.Errorf("sign in: record attempt: %w", err)
	}
	return result
}

// start signs the holder in: the session, the attempt that started it,
// and a transparent rehash (newHash, when set), in one transaction.
func (s *Service) start(ctx context.Context, a *account.Account, at *Attempt, newHash string, remember bool, previous string) (*Result, error) {
	fresh := true
	if at.Origin.DeviceID != "" {
		known, err := s.usedBy(ctx, a.ID, at)
		if err != nil {
			return nil, err
		}
		fresh = !known
	}
	var g *grant.Grant
	err := s.tx.InTx(ctx, func(ctx context.Context) error {
		if newHash != "" {
			if err := s.accounts.SetPasswordHash(ctx, a.ID, newHash, a.PasswordChangedAt, false); err != nil {
				return fmt.Errorf("sign in: rehash: %w", err)
			}
		}
		if err := right(ctx); err != nil {
			return err
		}
		var err error
		proved := []string{"pwd"}
		if at.MethodUsed == Passkey {
			// A passkey alone, unlocked on the device: something had and
			// something known or been.
			proved = []string{s.methods.About(Passkey).AMR, "mfa"}
		}
		if g, err = s.sessions.Grant(ctx, a.ID, at.Origin, remember, previous, proved...); err != nil {
			return fmt.Errorf("sign in: start session: %w", err)
		}
		if at.MethodUsed == Trusted {
			// A trusted browser skipped the second step: the password alone
			// is no re-verification (NIST SP 800-63B-4 §5: the cookie does
			// not replace authentication), so changes behind step-up ask.
			if err := s.unproved(ctx, g); err != nil {
				return err
			}
		}
		at.SessionID = g.SessionID
		if err := s.attempts.RecordAttempt(ctx, at); err != nil {
			return fmt.Errorf("sign in: record attempt: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.logOutcome(ctx, at)
	if fresh {
		s.alertNewDevice(ctx, a, at.Origin)
	}
	return &Result{Account: a, Session: g, Trusted: at.MethodUsed == Trusted}, nil
}

// rightKey carries the right password's limit ticket from SignIn to the
// transaction that follows it.
type rightKey struct{}

// right gives back, in ctx's transaction, the guess of the right password
// that led here (see SignIn); nothing when none did.
func right(ctx context.Context) error {
	t, _ := ctx.Value(rightKey{}).(*limit.Ticket)
	return t.Right(ctx)
}

// unproved marks a session just started as not recently verified: its
// sign-in proved less than a step-up asks (a trusted browser's password
// alone, a code from the mailbox).
func (s *Service) unproved(ctx context.Context, g *grant.Grant) error {
	if err := s.reauth.Reauthenticate(ctx, g.SessionID, time.Unix(0, 0).UTC()); err != nil {
		return fmt.Errorf("sign in: mark session: %w", err)
	}
	return nil
}

// logLimited logs a guess the limits refused before it was evaluated.
func (s *Service) logLimited(ctx context.Context, at *Attempt, err error) {
	s.log.WarnContext(ctx, "sign-in attempt limited", "attempt", at.ID, "kind", at.Kind, "account", at.AccountID,
		"device", at.Origin.DeviceID, "ip", at.Origin.IP, "err", err)
}

// usedBy is Devices.UsedBy for the attempt's device, read once per
// attempt.
func (s *Service) usedBy(ctx context.Context, accountID string, at *Attempt) (bool, error) {
	if at.known != nil {
		return *at.known, nil
	}
	used, err := s.devices.UsedBy(ctx, accountID, at.Origin.DeviceID)
	if err != nil {
		return false, fmt.Errorf("sign in: read the account's devices: %w", err)
	}
	at.known = &used
	return used, nil
}

// newDevice reports whether a session on the origin's device would be the
// account's first there: the sign-in the new-device alert is about.
func (s *Service) newDevice(ctx context.Context, a *account.Account, o request.Origin) (bool, error) {
	if o.DeviceID == "" {
		return true, nil
	}
	used, err := s.devices.UsedBy(ctx, a.ID, o.DeviceID)
	if err != nil {
		return false, fmt.Errorf("sign in: read the account's devices: %w", err)
	}
	return !used, nil
}

// alertNewDevice tells the holder that their account was signed in to
// from a device it had not used, by the channels they chose (email by
// default; SMS to a confirmed phone). Once the session exists the device
// is known, so each device is told of once. A failure is logged: the
// sign-in has happened.
func (s *Service) alertNewDevice(ctx context.Context, a *account.Account, o request.Origin) {
	send := func(ch request.Channel, to string) {
		_, err := s.notices.Send(ctx, notice.Notice{
			Purpose: request.NewDevice, AccountID: a.ID, To: to, Channel: ch, Language: a.Language, TimeZone: a.TimeZone,
			Origin: o,
		})
		if err != nil {
			s.log.ErrorContext(ctx, "sign-in: new-device alert", "account", a.ID, "channel", ch, "err", err)
		}
	}
	if a.Alerts.Email {
		send(request.Email, a.Email)
	}
	if a.Alerts.SMS && a.Phone != "" && !a.PhoneConfirmedAt.IsZero() {
		send(request.SMS, a.Phone)
	}
}

// trustAdded tells the holder a browser now skips the second step.
func (s *Service) trustAdded(ctx context.Context, a *account.Account, o request.Origin) {
	_, err := s.notices.Send(ctx, notice.Notice{
		Purpose: request.TrustAdded, AccountID: a.ID, To: a.Email, Language: a.Language, TimeZone: a.TimeZone,
		Origin: o, Valid: s.TrustFor,
	})
	if err != nil {
		s.log.ErrorContext(ctx, "sign-in: notify trust", "account", a.ID, "err", err)
	}
}

// logOutcome writes the structured event of an attempt: the operator's
// view of sign-ins, with the fields a log search filters on. The typed
// identifier is not logged (it may be a stranger's address or a mistyped
// password); the account id is, when one matched.
func (s *Service) logOutcome(ctx context.Context, at *Attempt) {
	if s.ended != nil {
		m := at.MethodUsed
		if m == "" {
			m = at.MethodOffered
		}
		s.ended(at.Kind, at.Outcome, m)
	}
	level := slog.LevelInfo
	if at.Outcome != Succeeded {
		level = slog.LevelWarn
	}
	s.log.LogAttrs(ctx, level, "sign-in attempt",
		slog.String("attempt", at.ID), slog.String("kind", string(at.Kind)), slog.String("outcome", string(at.Outcome)),
		slog.String("account", at.AccountID), slog.String("device", at.Origin.DeviceID), slog.String("ip", at.Origin.IP),
		slog.String("session", at.SessionID))
}

// EndPending ends the account's sign-ins in progress — a right password
// whose second step has not passed yet — as denied, and reports how many
// it ended: "sign out everywhere" includes whoever is one code away (the
// holder's own, the operator console's). A code typed afterwards no
// longer passes (EndAttempt is conditional), and the message's story
// stops saying "one code away".
func (s *Service) EndPending(ctx context.Context, accountID string) (int, error) {
	now := s.clock.Now().UTC()
	// A second step's challenge lives minutes; a day back finds every one
	// that could still pass.
	pending, err := s.attempts.AttemptsPage(ctx, accountID, AttemptQuery{Since: now.Add(-24 * time.Hour), Outcome: Pending, Limit: 100})
	if err != nil {
		return 0, fmt.Errorf("end pending sign-ins: %w", err)
	}
	n := 0
	for _, at := range pending {
		ok, err := s.attempts.EndAttempt(ctx, at.ID, Denied, "", "", now)
		if err != nil {
			return n, fmt.Errorf("end pending sign-ins: %w", err)
		}
		if ok {
			n++
			s.log.InfoContext(ctx, "pending sign-in ended", "attempt", at.ID, "account", accountID)
		}
	}
	return n, nil
}

// RecordPasswordCheck records a check of the current password made on an
// account page (account.PasswordChecks): a wrong one is a guess at the
// password, recorded beside failed sign-ins so the holder's activity and
// later the guessing limits see it.
func (s *Service) RecordPasswordCheck(ctx context.Context, accountID, email string, ok bool, o request.Origin) error {
	if o.Time.IsZero() {
		o.Time = s.clock.Now()
	}
	o.Time = o.Time.UTC()
	at := &Attempt{ID: random.ID(), Kind: PasswordChange, Identifier: email, AccountID: accountID, Origin: o, Outcome: WrongPassword}
	if ok {
		at.Outcome = Succeeded
	}
	if err := s.attempts.RecordAttempt(ctx, at); err != nil {
		return fmt.Errorf("record password check: %w", err)
	}
	s.logOutcome(ctx, at)
	return nil
}

// askSecondStep records the attempt as pending and sends the code of its
// second step, all in one transaction: the password was right, so — and
// only so — a code goes out (a code always means "someone typed the right
// password"). No session starts until Verify passes.
func (s *Service) askSecondStep(ctx context.Context, a *account.Account, at *Attempt, newHash string, remember bool, m Method) (*Result, error) {
	at.Outcome, at.MethodOffered, at.Remember = Pending, m, remember
	known, err := s.usedBy(ctx, a.ID, at)
	if err != nil {
		return nil, err
	}
	cause := request.Decide(request.SecondStep, request.Facts{DeviceKnown: known})
	at.Cause = cause
	meth, ok := s.methods.Get(m)
	if !ok {
		return nil, fmt.Errorf("sign in: second step %q: %w", m, ErrMethod)
	}
	about := meth.About()
	var ch *code.Challenge
	err = s.tx.InTx(ctx, func(ctx context.Context) error {
		if newHash != "" {
			if err := s.accounts.SetPasswordHash(ctx, a.ID, newHash, a.PasswordChangedAt, false); err != nil {
				return fmt.Errorf("sign in: rehash: %w", err)
			}
		}
		if err := right(ctx); err != nil {
			return err
		}
		if err := s.attempts.RecordAttempt(ctx, at); err != nil {
			return fmt.Errorf("sign in: record attempt: %w", err)
		}
		var c string
		var err error
		if about.Factor {
			// The challenge is the attempt's handle, with its validity and
			// failure count whatever the method; nothing is sent unless
			// the method sends codes (an app, a passkey or a backup code
			// answers otherwise).
			ch, err = s.codes.Open(ctx, code.Challenge{
				Purpose: request.SecondStep, Cause: cause, AttemptID: at.ID, AccountID: a.ID, Origin: at.Origin,
			})
			if err != nil {
				return fmt.Errorf("sign in: record second step: %w", err)
			}
			if about.Channel == "" {
				return nil
			}
			if ch, c, err = s.codes.Send(ctx, ch.ID, request.SecondStep, about.Channel, meth.Destination(a), at.Origin); err != nil {
				return fmt.Errorf("sign in: issue code: %w", err)
			}
			return s.sendCode(ctx, a, ch, c, at.Kind)
		}
		// The mailbox check: its code is issued with its request, which
		// nothing else can pass.
		ch, c, err = s.codes.Issue(ctx, code.Challenge{
			Purpose: request.SecondStep, Cause: cause, AttemptID: at.ID, AccountID: a.ID,
			Channel: about.Channel, Destination: meth.Destination(a), Origin: at.Origin,
		}, false)
		if err != nil {
			return fmt.Errorf("sign in: issue code: %w", err)
		}
		return s.sendCode(ctx, a, ch, c, at.Kind)
	})
	if err != nil {
		return nil, err
	}
	s.logOutcome(ctx, at)
	return &Result{Account: a, SecondStep: ch}, nil
}

// sendCode sends a second step's code; a step-up's says it is for a
// change, not a sign-in.
func (s *Service) sendCode(ctx context.Context, a *account.Account, ch *code.Challenge, c string, k Kind) error {
	p := request.SecondStep
	if k == StepUpKind {
		p = request.StepUp
	}
	var last time.Time
	if ch.Cause == request.OldDevice {
		// "Your device, last used on …": the message names the day.
		var err error
		if last, err = s.devices.UsedAt(ctx, a.ID, ch.Origin.DeviceID); err != nil {
			return fmt.Errorf("sign in: read the device's last use: %w", err)
		}
	}
	_, err := s.notices.Send(ctx, notice.Notice{
		Purpose: p, Cause: ch.Cause, ChallengeID: ch.ID, AccountID: a.ID, To: ch.Destination,
		Channel: ch.Channel, Language: a.Language, TimeZone: a.TimeZone, Origin: ch.Origin, Code: c,
		Valid: s.codes.Validity(), LastUsed: last, App: ch.App.Name,
	})
	if err != nil {
		return fmt.Errorf("sign in: send code: %w", err)
	}
	return nil
}

// Pending returns the second step a browser is in the middle of: the
// challenge and its attempt, if the attempt is still pending and the
// browser (its device) is the one that typed the password. Anything else —
// an unknown or foreign request, an attempt that has ended — is
// code.ErrNotFound: a link to the second-step page is of no use in another
// browser.
func (s *Service) Pending(ctx context.Context, challengeID string, o request.Origin) (*code.Challenge, *Attempt, error) {
	ch, err := s.codes.Lookup(ctx, challengeID, request.SecondStep)
	if err != nil {
		return nil, nil, err
	}
	if ch.Origin.DeviceID == "" || ch.Origin.DeviceID != o.DeviceID {
		return nil, nil, code.ErrNotFound
	}
	at, err := s.attempts.Attempt(ctx, ch.AttemptID)
	if errors.Is(err, ErrNoAttempt) {
		return nil, nil, code.ErrNotFound
	}
	if err != nil {
		return nil, nil, fmt.Errorf("sign in: read attempt: %w", err)
	}
	if at.Outcome != Pending {
		return nil, nil, code.ErrNotFound
	}
	return ch, at, nil
}

// VerifyRequest is a second-step code typed on the verify page.
type VerifyRequest struct {
	ChallengeID string
	// Method is how the holder answers; empty means the method the
	// attempt offered.
	Method Method
	Code   string
	Origin request.Origin
	// Previous is the session token the browser held, if any; signing in
	// ends it.
	Previous string
	// Trust asks not to ask this browser again (for TrustFor), when the
	// attempt was a two-step sign-in.
	Trust bool
	// Challenge and Attempt, when set, are what Pending returned for this
	// request and origin moments ago (the web gate reads them to show the
	// page), and Account and Accepts what Step returned for them; Verify
	// then does not read them again. Anything else is read and checked
	// here.
	Challenge *code.Challenge
	Attempt   *Attempt
	Account   *account.Account
	Accepts   []Method
	// Ceremony and Assertion are a passkey's answer (Method Passkey): the
	// ceremony the page began and the browser's response.
	Ceremony  string
	Assertion []byte
}

// Step is a pending second step as its page shows it: the challenge, the
// attempt, the account, and the methods that may pass it (Accepts).
type Step struct {
	Challenge *code.Challenge
	Attempt   *Attempt
	Account   *account.Account
	Accepts   []Method
}

// PendingStep is Pending with the account and the methods that may pass
// the attempt: what the second-step page needs.
func (s *Service) PendingStep(ctx context.Context, challengeID string, o request.Origin) (*Step, error) {
	ch, at, err := s.Pending(ctx, challengeID, o)
	if err != nil {
		return nil, err
	}
	a, err := s.accounts.AccountByID(ctx, at.AccountID)
	if err != nil {
		return nil, fmt.Errorf("sign in: read account: %w", err)
	}
	ways, err := s.ways(ctx, a, at)
	if err != nil {
		return nil, err
	}
	return &Step{Challenge: ch, Attempt: at, Account: a, Accepts: s.Accepts(at, ways)}, nil
}

// ways is the account's two-step methods, read only for a two-step
// attempt (the new-device check accepts the emailed code alone).
func (s *Service) ways(ctx context.Context, a *account.Account, at *Attempt) ([]Method, error) {
	if s.MailboxCheck(at) {
		return nil, nil
	}
	ways, err := s.methods.Ways(ctx, a)
	if err != nil {
		return nil, fmt.Errorf("sign in: two-step state: %w", err)
	}
	return ways, nil
}

// Verify checks the second step's code and, when it is right, ends the
// attempt as passed and starts the session — one transaction, and only one
// call can pass an attempt, on any node. Five wrong codes end the attempt
// as failed, a code that ran out ends it as expired; the holder then signs
// in again.
func (s *Service) Verify(ctx context.Context, r VerifyRequest) (*Result, error) {
	o := r.Origin
	if o.Time.IsZero() {
		o.Time = s.clock.Now()
	}
	o.Time = o.Time.UTC()
	ch, at := r.Challenge, r.Attempt
	if ch == nil || at == nil || ch.ID != r.ChallengeID {
		var err error
		if ch, at, err = s.Pending(ctx, r.ChallengeID, o); err != nil {
			return nil, err
		}
	}
	var err error
	m := r.Method
	if m == "" {
		m = at.MethodOffered
	}
	a, accepts := r.Account, r.Accepts
	if a == nil || a.ID != at.AccountID || accepts == nil {
		if a, err = s.accounts.AccountByID(ctx, at.AccountID); err != nil {
			return nil, fmt.Errorf("sign in: read account: %w", err)
		}
		ways, err := s.ways(ctx, a, at)
		if err != nil {
			return nil, err
		}
		accepts = s.Accepts(at, ways)
	}
	meth, ok := s.methods.Get(m)
	if !ok || !Accepted(accepts, m) {
		return nil, ErrMethod
	}
	about := meth.About()
	ans := &method.Answer{AccountID: a.ID, Challenge: ch, Code: r.Code, Ceremony: r.Ceremony, Response: r.Assertion, Origin: o}
	// Every answer is counted before it is compared: a sent code inside
	// its check (package code); an app's code, a backup code or a passkey
	// here, against the account's guessing limit across attempts (package
	// limit) and then this attempt's, so answers sent together never pass
	// either.
	var ticket *limit.Ticket
	if about.Channel != "" {
		err = meth.Check(ctx, ans)
		ch = ans.Challenge
	} else if err = s.codes.Usable(ch); err == nil {
		if ticket, err = s.limits.Take(ctx, limit.Guess{Secret: about.Secret, AccountID: a.ID, Origin: o}); err == nil {
			err = s.codes.Reserve(ctx, ch)
		}
	}
	if err != nil {
		return nil, s.refused(ctx, at, ch, err, o)
	}
	if about.Channel == "" && !about.InTx {
		// Checked before the transaction (a passkey): the ceremony is used
		// up and the passkey's counter (or its flag, for a copied key)
		// recorded whatever happens next. A refused answer counts as a
		// wrong code.
		if err := meth.Check(ctx, ans); errors.Is(err, method.ErrWrong) {
			// "sign-in: passkey refused", as operators search for it.
			s.log.WarnContext(ctx, "sign-in: "+string(m)+" refused", "attempt", at.ID, "account", a.ID, "err", err)
			s.passkeyFlagged(ctx, err, o)
			return nil, errors.Join(err, s.wrong(ctx, at, ch, ticket, o))
		} else if err != nil {
			return nil, fmt.Errorf("sign in: check %s: %w", m, err)
		}
	}
	at.MethodUsed = m
	if a.Status != account.Active {
		s.end(ctx, at, Denied, o.Time)
		return nil, ErrDisabled
	}
	fresh := false
	if at.Kind != StepUpKind {
		if fresh, err = s.newDevice(ctx, a, o); err != nil {
			return nil, err
		}
	}
	trusted := false
	var g *grant.Grant
	err = s.tx.InTx(ctx, func(ctx context.Context) error {
		if about.InTx {
			// The app's step or the backup code is used up in the same
			// transaction as the sign-in: one commit, and a rolled-back
			// sign-in leaves the code unused.
			if err := s.answer(ctx, meth, ans); err != nil {
				return err
			}
		}
		if ticket != nil {
			// The answer was right: the counts taken for it go back, in
			// the sign-in's transaction.
			if err := s.codes.Unreserve(ctx, ch); err != nil {
				return err
			}
			if err := ticket.Right(ctx); err != nil {
				return err
			}
		}
		if err := s.codes.Use(ctx, ch); err != nil {
			return err
		}
		if at.Kind == StepUpKind {
			// A step-up: the session that asked is proved again; no new
			// session starts.
			if err := s.reauth.Reauthenticate(ctx, at.SessionID, o.Time, amrOf(about, true)...); err != nil {
				return fmt.Errorf("step up: mark session: %w", err)
			}
			g = &grant.Grant{SessionID: at.SessionID}
		} else {
			var err error
			if g, err = s.sessions.Grant(ctx, a.ID, o, at.Remember, r.Previous, amrOf(about, true)...); err != nil {
				return fmt.Errorf("sign in: start session: %w", err)
			}
			if !about.Factor && !s.MailboxCheck(at) {
				// The email fallback passed a two-step sign-in: a code from
				// the mailbox is no second factor, so the session is not
				// recently verified and step-up asks for a real one.
				if err := s.unproved(ctx, g); err != nil {
					return err
				}
			}
			// Trust is earned by a second step, never by an emailed code:
			// the new-device check's or the email fallback's.
			if r.Trust && about.Factor && s.TrustFor > 0 && o.DeviceID != "" {
				if err := s.devices.Trust(ctx, a.ID, o.DeviceID, o.Time.Add(s.TrustFor)); err != nil {
					return fmt.Errorf("sign in: trust browser: %w", err)
				}
				trusted = true
			}
		}
		ok, err := s.attempts.EndAttempt(ctx, at.ID, Succeeded, g.SessionID, m, o.Time)
		if err != nil {
			return fmt.Errorf("sign in: end attempt: %w", err)
		}
		if !ok {
			return code.ErrUsed // another request passed or ended it first
		}
		return nil
	})
	if errors.Is(err, errWrongAnswer) {
		// Counted before the rolled-back transaction.
		return nil, s.wrong(ctx, at, ch, ticket, o)
	}
	if err != nil {
		return nil, err
	}
	at.Outcome, at.SessionID, at.EndedAt = Succeeded, g.SessionID, o.Time
	s.logOutcome(ctx, at)
	s.announce(ctx, m, a, o)
	if fresh {
		s.alertNewDevice(ctx, a, o)
	}
	if trusted {
		s.trustAdded(ctx, a, o)
	}
	if at.Kind == StepUpKind {
		return &Result{Account: a, SteppedUp: true}, nil
	}
	return &Result{Account: a, Session: g}, nil
}

// ErrMethod is returned for a second-step method the attempt does not
// accept (an app code for the new-device check, say).
var ErrMethod = errors.New("signin: that method cannot pass this sign-in")

// errWrongAnswer is answer's "not the code": the caller counts it against
// the attempt's limit once the transaction has rolled back.
var errWrongAnswer = errors.New("signin: wrong second-step answer")

// answer checks an answer that uses up what the holder holds (the app's
// step, the backup code), each by its own conditional update, so neither
// can pass twice on any node.
func (s *Service) answer(ctx context.Context, meth method.Method, ans *method.Answer) error {
	if !meth.About().InTx {
		return ErrMethod
	}
	err := meth.Check(ctx, ans)
	if errors.Is(err, method.ErrWrong) {
		return errWrongAnswer
	}
	if err != nil {
		return fmt.Errorf("sign in: check %s code: %w", meth.About().Kind, err)
	}
	return nil
}

// refused ends the attempt when err means it cannot pass any more (locked,
// expired) and returns err. An attempt locked by wrong answers had the
// right password: its holder is told (secondStepFailed).
func (s *Service) refused(ctx context.Context, at *Attempt, ch *code.Challenge, err error, o request.Origin) error {
	switch {
	case errors.Is(err, code.ErrLocked):
		if s.end(ctx, at, Failed, o.Time) && at.Kind != CodeSignInKind {
			s.secondStepFailed(ctx, at, ch, o)
		}
	case errors.Is(err, code.ErrExpired):
		s.end(ctx, at, Expired, o.Time)
	}
	return err
}

// wrong is a wrong answer by an app, a backup code or a passkey, already
// counted (Reserve, limit.Take): what it means for the attempt. The one
// that starts the account's delay has the holder told, even though no
// attempt was locked: someone with the password is spreading guesses
// over attempts.
func (s *Service) wrong(ctx context.Context, at *Attempt, ch *code.Challenge, t *limit.Ticket, o request.Origin) error {
	t.Done(ctx, false)
	err := s.refused(ctx, at, ch, s.codes.Fail(ch), o)
	if !errors.Is(err, code.ErrLocked) && t.Failures() == s.limits.Policy().FreeFailures+1 {
		s.secondStepFailed(ctx, at, ch, o)
	}
	return err
}

// secondStepFailed tells the holder that their right password met a
// failed second step — by email, and by SMS to a confirmed phone — as a
// message about the attempt's request (cause password_known), so that
// "this wasn't me" on it does what it does for that cause: ends every
// session and asks for a new password. A failure is logged: the refusal
// stands either way.
//
// ch is the attempt's request, nil for a re-verification answered on its
// own page (the holder answers that one on the activity page); o is the
// request that failed, whose browser and system the message names.
func (s *Service) secondStepFailed(ctx context.Context, at *Attempt, ch *code.Challenge, o request.Origin) {
	if at.AccountID == "" {
		return
	}
	ctx = context.WithoutCancel(ctx)
	a, err := s.accounts.AccountByID(ctx, at.AccountID)
	if err == nil {
		n := notice.Notice{
			Purpose: request.SecondStepFailed, Cause: request.PasswordKnown,
			AccountID: a.ID, To: a.Email, Language: a.Language, TimeZone: a.TimeZone, Origin: o,
		}
		if ch != nil {
			n.ChallengeID = ch.ID
		}
		_, err = s.notices.Send(ctx, n)
	}
	if err != nil {
		s.log.ErrorContext(ctx, "sign-in: notify failed second step", "account", at.AccountID, "err", err)
	}
}

// announce tells the holder of a pass by m when m is a method whose every
// use they hear of (a backup code, with how many are left). A failure is
// logged: the pass has happened.
func (s *Service) announce(ctx context.Context, m Method, a *account.Account, o request.Origin) {
	meth, _ := s.methods.Get(m)
	an, ok := meth.(method.Announcer)
	if !ok {
		return
	}
	n, err := an.Announce(ctx, a.ID)
	if err == nil {
		_, err = s.notices.Send(ctx, notice.Notice{
			Purpose: n.Purpose, AccountID: a.ID, To: a.Email, Language: a.Language, TimeZone: a.TimeZone,
			Origin: o, Remaining: n.Remaining,
		})
	}
	if err != nil {
		s.log.ErrorContext(ctx, "sign-in: announce a pass", "account", a.ID, "method", m, "err", err)
	}
}

// end closes a pending attempt that cannot pass any more, logs it, and
// reports whether this call ended it. A failure to record is logged, not
// returned: the holder's answer (wrong code, expired) is the same either
// way.
func (s *Service) end(ctx context.Context, at *Attempt, outcome Outcome, now time.Time) bool {
	ok, err := s.attempts.EndAttempt(ctx, at.ID, outcome, "", "", now)
	if err != nil {
		s.log.ErrorContext(ctx, "sign-in: end attempt", "attempt", at.ID, "err", err)
	}
	if ok {
		at.Outcome, at.EndedAt = outcome, now
		s.logOutcome(ctx, at)
	}
	return ok
}

// Send sends a (new) code for a pending second step by the method's
// channel — the account's address for Email, its confirmed number for SMS —
// after the cool-down and within the limit of codes per attempt; the
// failure count is kept. m must be a method the attempt accepts.
func (s *Service) Send(ctx context.Context, challengeID string, m Method, o request.Origin) error {
	st, err := s.PendingStep(ctx, challengeID, o)
	if err != nil {
		return err
	}
	meth, ok := s.methods.Get(m)
	if !ok || meth.About().Channel == "" || !Accepted(st.Accepts, m) {
		return ErrMethod
	}
	a := st.Account
	return s.tx.InTx(ctx, func(ctx context.Context) error {
		ch, c, err := s.codes.Send(ctx, st.Challenge.ID, request.SecondStep, meth.About().Channel, meth.Destination(a), o)
		if err != nil {
			return err
		}
		ch.Origin = o // the message quotes the request for this code
		return s.sendCode(ctx, a, ch, c, st.Attempt.Kind)
	})
}

// PasskeyRequest is a sign-in by a passkey alone: the discoverable
// ceremony the sign-in page began and the browser's answer.
type PasskeyRequest struct {
	Ceremony string
	Response []byte
	Remember bool
	// Previous is the session token the browser held, if any; signing in
	// ends it.
	Previous string
	Origin   request.Origin
}

// SignInPasskey signs in with a passkey alone. The passkey was unlocked
// on the holder's device (user verification is required), so it is
// something they have and something they know or are, and it cannot be
// relayed by a phishing site: no password and no second step are asked,
// and the new-device check does not apply. The attempt is recorded with
// the passkey as the method used. A refused answer is ErrPasskey (wrapping
// package passkey's reason); an account that may not sign in is
// ErrDisabled or ErrInvalid as for a password.
func (s *Service) SignInPasskey(ctx context.Context, r PasskeyRequest) (*Result, error) {
	if s.passkeys == nil {
		return nil, ErrMethod
	}
	o := r.Origin
	if o.Time.IsZero() {
		o.Time = s.clock.Now()
	}
	o.Time = o.Time.UTC()
	accountID, _, err := s.passkeys.FinishDiscoverable(ctx, r.Ceremony, r.Response)
	if err != nil {
		s.log.WarnContext(ctx, "sign-in: passkey refused", "device", o.DeviceID, "ip", o.IP, "err", err)
		s.passkeyFlagged(ctx, err, o)
		return nil, errors.Join(ErrPasskey, err)
	}
	a, err := s.accounts.AccountByID(ctx, accountID)
	if err != nil {
		return nil, fmt.Errorf("sign in: read account: %w", err)
	}
	at := &Attempt{ID: random.ID(), Kind: SignInKind, Identifier: a.Email, AccountID: a.ID, Origin: o,
		Outcome: Succeeded, MethodUsed: Passkey}
	if err := refusal(a); err != nil {
		at.Outcome = Denied
		return nil, s.refuse(ctx, at, err)
	}
	return s.start(ctx, a, at, "", r.Remember, r.Previous)
}

// passkeyFlagged tells the holder when err is the answer that just
// flagged one of their passkeys as a possible copy: someone else may hold
// it. Later answers by the blocked passkey are not told again.
func (s *Service) passkeyFlagged(ctx context.Context, err error, o request.Origin) {
	var fe *passkey.FlaggedError
	if !errors.As(err, &fe) {
		return
	}
	a, err := s.accounts.AccountByID(ctx, fe.AccountID)
	if err == nil {
		_, err = s.notices.Send(ctx, notice.Notice{
			Purpose: request.PasskeyBlocked, AccountID: a.ID, To: a.Email, Language: a.Language, TimeZone: a.TimeZone,
			Origin: o, Name: fe.Name,
		})
	}
	if err != nil {
		s.log.ErrorContext(ctx, "sign-in: notify blocked passkey", "account", fe.AccountID, "err", err)
	}
}

// amrOf is what a sign-in or step-up proved, as RFC 8176 method
// references: the password when one was typed, the second step's method,
// and "mfa" when that method is a second factor (an emailed code is not:
// the mailbox is no factor, see method.About.Factor).
func amrOf(about method.About, password bool) []string {
	var out []string
	if password {
		out = append(out, "pwd")
	}
	if about.AMR != "" {
		out = append(out, about.AMR)
	}
	if password && about.Factor {
		out = append(out, "mfa")
	}
	return out
}
