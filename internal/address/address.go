// Package address changes an account's email address: the new address
// receives a code and becomes the account's only once that code is typed
// back, and both the old and the new address are told. The change is a
// sensitive one (the address is how a forgotten password is reset), so the
// web layer asks for a recent re-verification before it starts.
//
// Like sign-up, the flow does not tell whether the new address already
// has an account: the holder sees the same page either way, and an address
// that is taken gets no code (a decoy request is recorded, which no code
// can pass).
package address

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gatehouse/internal/account"
	"gatehouse/internal/code"
	"gatehouse/internal/commit"
	"gatehouse/internal/form"
	"gatehouse/internal/notice"
	"gatehouse/internal/request"
)

// Store changes the address of an account.
type Store interface {
	AccountByEmail(ctx context.Context, email string) (*account.Account, error)
	// SetEmail returns account.ErrEmailTaken when another account has the
	// address (the store's unique index decides, also between nodes).
	SetEmail(ctx context.Context, accountID, email string) error
}

// Codes is what the change needs of package code.
type Codes interface {
	Issue(ctx context.Context, spec code.Challenge, decoy bool) (*code.Challenge, string, error)
	Held(ctx context.Context, id string, p request.Purpose, accountID string) (*code.Challenge, error)
	Check(ctx context.Context, id string, p request.Purpose, c string, by request.Origin) (*code.Challenge, error)
	Use(ctx context.Context, c *code.Challenge) error
	Resend(ctx context.Context, id string, p request.Purpose, o request.Origin) (*code.Challenge, string, error)
	Validity() time.Duration
}

// Errors a caller must tell apart to show the right message.
var (
	// ErrSame: the address typed is the account's address already.
	ErrSame = errors.New("address: already your address")
	// ErrTakenMeanwhile: another account took the new address while its
	// code was on its way; the change cannot be made.
	ErrTakenMeanwhile = errors.New("address: the new address was taken meanwhile")
)

// Service changes addresses.
type Service struct {
	Store   Store
	Codes   Codes
	Notices notice.Sender
	Tx      commit.Transactor // required (tests without transactions say commit.Direct{})
	// Forget drops this node's cached sessions of an account once the
	// change commits. Required.
	Forget func(accountID string)
}

// Begin sends a code to the new address typed. Field errors come back as
// form.Errors (key "email"); ErrSame for the current address.
func (s *Service) Begin(ctx context.Context, a *account.Account, typed string, o request.Origin) (*code.Challenge, error) {
	norm, err := account.NormalizeEmail(typed)
	switch {
	case strings.TrimSpace(typed) == "":
		return nil, form.Errors{"email": "error.required"}
	case err != nil:
		return nil, form.Errors{"email": "error.email_invalid"}
	case strings.EqualFold(norm, a.Email):
		return nil, ErrSame
	}
	taken := false
	if _, err := s.Store.AccountByEmail(ctx, norm); err == nil {
		taken = true
	} else if !errors.Is(err, account.ErrNotFound) {
		return nil, fmt.Errorf("change address: look up address: %w", err)
	}
	var ch *code.Challenge
	err = s.Tx.InTx(ctx, func(ctx context.Context) error {
		var c string
		var err error
		spec := code.Challenge{Purpose: request.ChangeEmail, AccountID: a.ID, Channel: request.Email, Destination: norm, Origin: o}
		ch, c, err = s.Codes.Issue(ctx, spec, taken)
		if errors.Is(err, code.ErrBlocked) {
			// The address's holder said this sender's earlier code was not
			// theirs: answered like a taken address (withheld, no code).
			taken = true
			ch, c, err = s.Codes.Issue(ctx, spec, true)
		}
		if err != nil {
			return fmt.Errorf("change address: issue code: %w", err)
		}
		return s.send(ctx, a, ch, c, taken)
	})
	if err != nil {
		return nil, err
	}
	return ch, nil
}

// send mails the code to the new address. For an address another account
// has, the message is recorded withheld (never sent): the work is the
// same, the other account's owner is not bothered, and nobody learns the
// address is taken.
func (s *Service) send(ctx context.Context, a *account.Account, ch *code.Challenge, c string, withhold bool) error {
	_, err := s.Notices.Send(ctx, notice.Notice{
		Purpose: request.ChangeEmail, Cause: ch.Cause, ChallengeID: ch.ID, AccountID: a.ID, To: ch.Destination,
		Language: a.Language, TimeZone: a.TimeZone, Origin: ch.Origin, Code: c,
		Valid: s.Codes.Validity(), Withhold: withhold,
	})
	if err != nil {
		return fmt.Errorf("change address: send code: %w", err)
	}
	return nil
}

// Pending returns the holder's address change with the given id, if it is
// still open: code.ErrNotFound for an unknown one, another account's, or
// one already confirmed.
func (s *Service) Pending(ctx context.Context, a *account.Account, id string) (*code.Challenge, error) {
	return s.Codes.Held(ctx, id, request.ChangeEmail, a.ID)
}

// Resend sends a new code for an open change, after the cool-down.
func (s *Service) Resend(ctx context.Context, a *account.Account, id string, o request.Origin) error {
	if _, err := s.Pending(ctx, a, id); err != nil {
		return err
	}
	return s.Tx.InTx(ctx, func(ctx context.Context) error {
		ch, c, err := s.Codes.Resend(ctx, id, request.ChangeEmail, o)
		if err != nil {
			return err
		}
		ch.Origin = o
		return s.send(ctx, a, ch, c, c == "")
	})
}

// Confirm checks the code and, when it is right, makes the new address the
// account's, in one transaction with the notices: the old address is told
// where the account went, and the new one that it is now the account's.
// A wrong code is counted outside the transaction. It returns the new
// address; ErrTakenMeanwhile when another account took it meanwhile.
func (s *Service) Confirm(ctx context.Context, a *account.Account, id, typed string, o request.Origin) (string, error) {
	if _, err := s.Pending(ctx, a, id); err != nil {
		return "", err
	}
	ch, err := s.Codes.Check(ctx, id, request.ChangeEmail, typed, o)
	if err != nil {
		return "", err
	}
	old := a.Email
	err = s.Tx.InTx(ctx, func(ctx context.Context) error {
		if err := s.Codes.Use(ctx, ch); err != nil {
			return err
		}
		if err := s.Store.SetEmail(ctx, a.ID, ch.Destination); err != nil {
			if errors.Is(err, account.ErrEmailTaken) {
				return ErrTakenMeanwhile
			}
			return fmt.Errorf("change address: %w", err)
		}
		commit.After(ctx, func() { s.Forget(a.ID) })
		for _, to := range []string{old, ch.Destination} {
			if _, err := s.Notices.Send(ctx, notice.Notice{
				Purpose: request.EmailChanged, AccountID: a.ID, To: to, Language: a.Language, TimeZone: a.TimeZone,
				Origin: o, Address: account.DisplayEmail(ch.Destination),
			}); err != nil {
				return fmt.Errorf("change address: notify: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return ch.Destination, nil
}
