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
	"time"

	"gatehouse/internal/account"
	"gatehouse/internal/clock"
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
)

// Kind is what a password attempt was for.
type Kind string

// Attempt kinds. A wrong current password typed on the change-password
// page is a guess at the password like a failed sign-in, and is recorded
// the same way so the holder's activity shows it.
const (
	SignInKind     Kind = "signin"
	PasswordChange Kind = "password_change"
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
}

// Store keeps attempts.
type Store interface {
	RecordAttempt(ctx context.Context, a *Attempt) error
	// AttemptsByAccount returns the account's most recent attempts, newest first.
	AttemptsByAccount(ctx context.Context, accountID string, limit int) ([]*Attempt, error)
}

// Errors a caller must tell apart. ErrInvalid deliberately covers an
// unknown address, a wrong password and an address whose sign-up is still
// pending (ASVS v5.0.0-6.3.8): a pending sign-up is not an account, so it
// must not answer differently from an address nobody has used.
var (
	ErrInvalid  = errors.New("signin: wrong email or password")
	ErrDisabled = errors.New("signin: account disabled")
)

// Accounts is what sign-in needs of the account store.
type Accounts interface {
	AccountByEmail(ctx context.Context, email string) (*account.Account, error)
	SetPasswordHash(ctx context.Context, id, hash string, at time.Time, remember bool) error
}

// Service signs holders in.
type Service struct {
	Accounts Accounts
	Attempts Store
	Hasher   account.Hasher
	Sessions account.Sessions
	// Tx runs the writes of a successful sign-in (session, attempt, the
	// end of the previous session) as one transaction; nil runs them one
	// by one.
	Tx account.Transactor
	// Log receives one structured event per attempt (see logOutcome); nil
	// logs nothing.
	Log *slog.Logger
	// Clock dates an attempt whose origin carries no time.
	Clock clock.Clock
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

// Result is a successful sign-in.
type Result struct {
	Account *account.Account
	Session *account.Grant
}

// SignIn checks the password and starts a session. Whether or not the
// address has an account, exactly one argon2 verification runs, so neither
// the answer nor its timing tells the two apart.
func (s *Service) SignIn(ctx context.Context, r Request) (*Result, error) {
	o := r.Origin
	if o.Time.IsZero() {
		o.Time = s.Clock.Now()
	}
	o.Time = o.Time.UTC()
	at := &Attempt{ID: random.ID(), Kind: SignInKind, Identifier: r.Email, Origin: o}
	if norm, err := account.NormalizeEmail(r.Email); err == nil {
		at.Identifier = norm
	}
	var stored string
	a, err := s.Accounts.AccountByEmail(ctx, at.Identifier)
	switch {
	case err == nil:
		stored = a.PasswordHash
		at.AccountID = a.ID
	case !errors.Is(err, account.ErrNotFound):
		return nil, fmt.Errorf("sign in: look up account: %w", err)
	}
	ok, rehash, err := s.Hasher.Verify(ctx, r.Password, stored)
	if err != nil {
		return nil, fmt.Errorf("sign in: verify password: %w", err)
	}
	var result error
	switch {
	case a == nil:
		at.Outcome, result = UnknownAccount, ErrInvalid
	case !ok:
		at.Outcome, result = WrongPassword, ErrInvalid
	case a.Status == account.Unconfirmed: // only from data of earlier versions
		at.Outcome, result = Denied, ErrInvalid
	case a.Status == account.Disabled:
		at.Outcome, result = Denied, ErrDisabled
	case a.Status != account.Active:
		// Only an active account signs in; a status this version does not
		// know (a newer one wrote it, or the row is damaged) is refused.
		at.Outcome, result = Denied, ErrInvalid
	default:
		at.Outcome = Succeeded
	}
	if result != nil {
		err := s.Attempts.RecordAttempt(ctx, at)
		// Logged even when the record could not be written: a guess must
		// not vanish from both the record and the log.
		s.logOutcome(ctx, at)
		if err != nil {
			return nil, fmt.Errorf("sign in: record attempt: %w", err)
		}
		return nil, result
	}
	var newHash string
	if rehash {
		// The configured cost changed since this hash was made; the
		// password is in hand now, so upgrade it transparently (hashed
		// here, outside the transaction: hashing is slow).
		if h, err := s.Hasher.Hash(ctx, r.Password); err == nil {
			newHash = h
		} else if s.Log != nil {
			// The sign-in goes on with the old hash; the upgrade waits for
			// the next one.
			s.Log.WarnContext(ctx, "sign-in: rehash with the current cost failed", "account", a.ID, "err", err)
		}
	}
	var g *account.Grant
	err = s.inTx(ctx, func(ctx context.Context) error {
		if newHash != "" {
			if err := s.Accounts.SetPasswordHash(ctx, a.ID, newHash, a.PasswordChangedAt, false); err != nil {
				return fmt.Errorf("sign in: rehash: %w", err)
			}
		}
		var err error
		if g, err = s.Sessions.Grant(ctx, a.ID, o, r.Remember, r.Previous); err != nil {
			return fmt.Errorf("sign in: start session: %w", err)
		}
		at.SessionID = g.SessionID
		if err := s.Attempts.RecordAttempt(ctx, at); err != nil {
			return fmt.Errorf("sign in: record attempt: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.logOutcome(ctx, at)
	return &Result{Account: a, Session: g}, nil
}

// logOutcome writes the structured event of an attempt: the operator's
// view of sign-ins, with the fields a log search filters on. The typed
// identifier is not logged (it may be a stranger's address or a mistyped
// password); the account id is, when one matched.
func (s *Service) logOutcome(ctx context.Context, at *Attempt) {
	if s.Log == nil {
		return
	}
	level := slog.LevelInfo
	if at.Outcome != Succeeded {
		level = slog.LevelWarn
	}
	s.Log.LogAttrs(ctx, level, "sign-in attempt",
		slog.String("attempt", at.ID), slog.String("kind", string(at.Kind)), slog.String("outcome", string(at.Outcome)),
		slog.String("account", at.AccountID), slog.String("device", at.Origin.DeviceID), slog.String("ip", at.Origin.IP),
		slog.String("session", at.SessionID))
}

// RecordPasswordCheck records a check of the current password made on an
// account page (account.PasswordChecks): a wrong one is a guess at the
// password, recorded beside failed sign-ins so the holder's activity and
// later the guessing limits see it.
func (s *Service) RecordPasswordCheck(ctx context.Context, accountID, email string, ok bool, o request.Origin) error {
	if o.Time.IsZero() {
		o.Time = s.Clock.Now()
	}
	o.Time = o.Time.UTC()
	at := &Attempt{ID: random.ID(), Kind: PasswordChange, Identifier: email, AccountID: accountID, Origin: o, Outcome: WrongPassword}
	if ok {
		at.Outcome = Succeeded
	}
	if err := s.Attempts.RecordAttempt(ctx, at); err != nil {
		return fmt.Errorf("record password check: %w", err)
	}
	s.logOutcome(ctx, at)
	return nil
}

func (s *Service) inTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if s.Tx == nil {
		return fn(ctx)
	}
	return s.Tx.InTx(ctx, fn)
}
