// Package phone enrols the holder's mobile number for codes by SMS: the
// number typed is parsed (nyaruka/phonenumbers) and stored as E.164, and it
// receives second-step codes only once the holder typed back the code sent
// to it — so a mistyped number never becomes a way into the account, and
// the stranger who owns it learns, from the message, that no account of
// theirs was involved (cause "mistyped").
//
// Turning two-step verification on with the confirmed number, making the
// backup codes and telling the holder are package twostep's; this package
// owns the number and its confirmation.
package phone

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"

	"gatehouse/internal/account"
	"gatehouse/internal/clock"
	"gatehouse/internal/code"
	"gatehouse/internal/commit"
	"gatehouse/internal/notice"
	"gatehouse/internal/request"
)

// Store keeps an account's number and when it was confirmed.
type Store interface {
	// SetPhone sets the account's number (E.164, or "" for none) and when
	// it was confirmed (zero: not confirmed). account.ErrNotFound for an
	// unknown account.
	SetPhone(ctx context.Context, accountID, number string, confirmedAt time.Time) error
	// PhoneOwner returns the id of an account whose confirmed number this
	// is, or "" when none.
	PhoneOwner(ctx context.Context, number string) (string, error)
	// AccountByID reads that holder's account: the code is written in
	// their language.
	AccountByID(ctx context.Context, id string) (*account.Account, error)
}

// Codes is what enrolment needs of package code.
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
	// ErrInvalid: what was typed is not a phone number.
	ErrInvalid = errors.New("phone: not a valid phone number")
	// ErrNotMobile: a valid number that cannot receive SMS reliably (a
	// landline, toll-free, premium or internet-telephony number).
	ErrNotMobile = errors.New("phone: not a mobile number")
	// ErrSame: the number is already the account's confirmed number.
	ErrSame = errors.New("phone: already your number")
)

// Normalize parses a number typed in any common form ("090-1234-5678",
// "+81 90 1234 5678", full-width digits) and returns it as E.164. Numbers
// without a country code are read as numbers of region. Only numbers that
// receive SMS are accepted: mobile numbers, and those the numbering plan
// cannot tell from landlines (most of North America).
func Normalize(typed, region string) (string, error) {
	typed = strings.TrimSpace(typed)
	if typed == "" || len(typed) > 64 {
		return "", ErrInvalid
	}
	n, err := phonenumbers.Parse(typed, region)
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return "", ErrInvalid
	}
	switch phonenumbers.GetNumberType(n) {
	case phonenumbers.MOBILE, phonenumbers.FIXED_LINE_OR_MOBILE:
	default:
		return "", ErrNotMobile
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}

// Mask shows a number the way pages and messages list it: its last two
// digits only.
func Mask(e164 string) string {
	if len(e164) <= 2 {
		return e164
	}
	return e164[len(e164)-2:]
}

// Service enrols numbers.
type Service struct {
	Store   Store
	Codes   Codes
	Notices notice.Sender
	Region  string // phone.default_region
	Clock   clock.Clock
	// Tx runs a code's challenge and its message as one transaction
	// (required; tests without transactions say commit.Direct{}).
	Tx commit.Transactor
}

// Begin sends a code by SMS to the number typed, to prove the holder has
// it. The number is not the account's until Confirm; the challenge (its
// destination) holds it until then.
func (s *Service) Begin(ctx context.Context, a *account.Account, typed string, o request.Origin) (*code.Challenge, error) {
	number, err := Normalize(typed, s.Region)
	if err != nil {
		return nil, err
	}
	if number == a.Phone && !a.PhoneConfirmedAt.IsZero() {
		return nil, ErrSame
	}
	var ch *code.Challenge
	err = s.Tx.InTx(ctx, func(ctx context.Context) error {
		var c string
		var err error
		spec := code.Challenge{Purpose: request.AddPhone, AccountID: a.ID, Channel: request.SMS, Destination: number, Origin: o}
		ch, c, err = s.Codes.Issue(ctx, spec, false)
		if errors.Is(err, code.ErrBlocked) {
			// The number's holder said this sender's earlier code was not
			// theirs: a request no code answers, its message withheld — the
			// same pages as any other number, nothing said about a holder.
			ch, c, err = s.Codes.Issue(ctx, spec, true)
		}
		if err != nil {
			return fmt.Errorf("phone: issue code: %w", err)
		}
		return s.send(ctx, a, ch, c)
	})
	if err != nil {
		return nil, err
	}
	return ch, nil
}

func (s *Service) send(ctx context.Context, a *account.Account, ch *code.Challenge, c string) error {
	if c == "" {
		// A decoy (a blocked sender, a stopped request): recorded
		// withheld, on the requester's account, never sent.
		_, err := s.Notices.Send(ctx, notice.Notice{
			Purpose: request.AddPhone, Cause: ch.Cause, ChallengeID: ch.ID, AccountID: a.ID, To: ch.Destination,
			Channel: request.SMS, Language: a.Language, TimeZone: a.TimeZone, Origin: ch.Origin, Valid: s.Codes.Validity(),
			Withhold: true,
		})
		if err != nil {
			return fmt.Errorf("phone: record withheld code: %w", err)
		}
		return nil
	}
	// A number that is another holder's confirmed phone was mistyped (or
	// is being taken over): the message is theirs, so it is in their
	// message center, where they can say it was not them.
	holder, lang, tz := a.ID, a.Language, a.TimeZone
	if owner, err := s.Store.PhoneOwner(ctx, ch.Destination); err != nil {
		return fmt.Errorf("phone: find the number's holder: %w", err)
	} else if owner != "" && owner != a.ID {
		o, err := s.Store.AccountByID(ctx, owner)
		if err != nil {
			return fmt.Errorf("phone: read the number's holder: %w", err)
		}
		holder, lang, tz = o.ID, o.Language, o.TimeZone
	}
	_, err := s.Notices.Send(ctx, notice.Notice{
		Purpose: request.AddPhone, Cause: ch.Cause, ChallengeID: ch.ID, AccountID: holder, To: ch.Destination,
		Channel: request.SMS, Language: lang, TimeZone: tz, Origin: ch.Origin, Code: c,
		Valid: s.Codes.Validity(),
	})
	if err != nil {
		return fmt.Errorf("phone: send code: %w", err)
	}
	return nil
}

// Pending returns the holder's enrolment with the given id, if it is still
// open: code.ErrNotFound for an unknown one, another account's, or one
// already confirmed (a link to it is of no use to anyone else).
func (s *Service) Pending(ctx context.Context, a *account.Account, id string) (*code.Challenge, error) {
	return s.Codes.Held(ctx, id, request.AddPhone, a.ID)
}

// Resend sends a new code to the number of an open enrolment, after the
// cool-down and within the limit of codes per request; the failure count
// is kept.
func (s *Service) Resend(ctx context.Context, a *account.Account, id string, o request.Origin) error {
	if _, err := s.Pending(ctx, a, id); err != nil {
		return err
	}
	return s.Tx.InTx(ctx, func(ctx context.Context) error {
		ch, c, err := s.Codes.Resend(ctx, id, request.AddPhone, o)
		if err != nil {
			return err
		}
		ch.Origin = o // the message quotes the request for this code
		return s.send(ctx, a, ch, c)
	})
}

// Check checks the code typed for an open enrolment without using it up.
// It runs outside the confirming transaction, so that a wrong code is
// counted towards the limit even though nothing else is written.
func (s *Service) Check(ctx context.Context, a *account.Account, id, typed string, o request.Origin) (*code.Challenge, error) {
	if _, err := s.Pending(ctx, a, id); err != nil {
		return nil, err
	}
	return s.Codes.Check(ctx, id, request.AddPhone, typed, o)
}

// Confirm uses up a checked enrolment's code and makes its number the
// account's confirmed number. Meant to run in the caller's transaction
// (package twostep), with what confirming turns on; only one call wins, on
// any node.
func (s *Service) Confirm(ctx context.Context, a *account.Account, ch *code.Challenge) error {
	if err := s.Codes.Use(ctx, ch); err != nil {
		return err
	}
	if err := s.Store.SetPhone(ctx, a.ID, ch.Destination, s.Clock.Now()); err != nil {
		return fmt.Errorf("phone: set number: %w", err)
	}
	return nil
}

// Remove forgets the account's number: it receives no more codes.
func (s *Service) Remove(ctx context.Context, a *account.Account) error {
	if err := s.Store.SetPhone(ctx, a.ID, "", time.Time{}); err != nil {
		return fmt.Errorf("phone: remove number: %w", err)
	}
	return nil
}
