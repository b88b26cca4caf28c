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
	"time"

	"gatehouse/internal/account"
	"gatehouse/internal/password"
	"gatehouse/internal/random"
	"gatehouse/internal/session"
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

// Attempt is one recorded sign-in attempt.
type Attempt struct {
	ID         string
	Kind       Kind
	Identifier string // what was typed, normalised when it parsed as an address
	AccountID  string // empty for an unknown account
	DeviceID   string
	SessionID  string // the session it started, if it succeeded
	IP         string
	UserAgent  string
	CreatedAt  time.Time
	Outcome    Outcome
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
	Hasher   *password.Hasher
	Sessions *session.Manager
	// Tx runs the writes of a successful sign-in (session, attempt, the
	// end of the previous session) as one transaction; nil runs them one
	// by one.
	Tx account.Transactor
}

// Request is one sign-in form submission.
type Request struct {
	Email    string
	Password string
	Remember bool
	// Previous is the session token the browser already held, if any. A
	// sign-in ends it: every authentication gets a new token and the old
	// one stops working (ASVS v5.0.0-7.2.4).
	Previous  string
	DeviceID  string
	IP        string
	UserAgent string
	Time      time.Time
}

// Result is a successful sign-in.
type Result struct {
	Account *account.Account
	Session *session.Session
	Token   string
}

// SignIn checks the password and starts a session. Whether or not the
// address has an account, exactly one argon2 verification runs, so neither
// the answer nor its timing tells the two apart.
func (s *Service) SignIn(ctx context.Context, r Request) (*Result, error) {
	at := &Attempt{
		ID: random.ID(), Kind: SignInKind, Identifier: r.Email, DeviceID: r.DeviceID, IP: r.IP,
		UserAgent: r.UserAgent, CreatedAt: r.Time.UTC(),
	}
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
		return nil, err
	}
	ok, rehash, err := s.Hasher.Verify(ctx, r.Password, stored)
	if err != nil {
		return nil, err
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
	default:
		at.Outcome = Succeeded
	}
	if result != nil {
		if err := s.Attempts.RecordAttempt(ctx, at); err != nil {
			return nil, err
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
		}
	}
	var token string
	var sess *session.Session
	err = s.inTx(ctx, func(ctx context.Context) error {
		if newHash != "" {
			if err := s.Accounts.SetPasswordHash(ctx, a.ID, newHash, a.PasswordChangedAt, false); err != nil {
				return err
			}
		}
		var err error
		if token, sess, err = s.Sessions.Start(ctx, a.ID, r.DeviceID, r.IP, r.Remember); err != nil {
			return err
		}
		at.SessionID = sess.ID
		if err := s.Attempts.RecordAttempt(ctx, at); err != nil {
			return err
		}
		if r.Previous != "" {
			return s.Sessions.End(ctx, r.Previous)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &Result{Account: a, Session: sess, Token: token}, nil
}

// RecordPasswordCheck records a check of the current password made on an
// account page (account.PasswordChecks): a wrong one is a guess at the
// password, recorded beside failed sign-ins so the holder's activity and
// later the guessing limits see it.
func (s *Service) RecordPasswordCheck(ctx context.Context, accountID, email string, ok bool, o account.Origin) error {
	at := &Attempt{
		ID: random.ID(), Kind: PasswordChange, Identifier: email, AccountID: accountID, DeviceID: o.DeviceID,
		IP: o.IP, UserAgent: o.UserAgent, CreatedAt: o.Time.UTC(), Outcome: WrongPassword,
	}
	if ok {
		at.Outcome = Succeeded
	}
	return s.Attempts.RecordAttempt(ctx, at)
}

func (s *Service) inTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if s.Tx == nil {
		return fn(ctx)
	}
	return s.Tx.InTx(ctx, fn)
}
