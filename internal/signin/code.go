package signin

import (
	"context"
	"errors"
	"fmt"

	"gatehouse/internal/account"
	"gatehouse/internal/code"
	"gatehouse/internal/form"
	"gatehouse/internal/grant"
	"gatehouse/internal/notice"
	"gatehouse/internal/random"
	"gatehouse/internal/request"
)

// CodeSignInKind is an attempt to sign in with a code sent to the
// account's address instead of the password (signin.code_signin).
const CodeSignInKind Kind = "code_signin"

// ErrNoCodeSignIn is RequestCode's answer when the operator has not turned
// sign-in by code on.
var ErrNoCodeSignIn = errors.New("signin: sign-in by code is off")

// RequestCode starts a sign-in by code alone: a code to the account's
// address, whose message says that no password was given (cause
// code_signin). Every address gets the same answer and the same writes —
// an attempt, a request, a message — so the page tells nothing: an
// address without an active account, or one whose account has two-step
// verification on (its holder signs in with the password and the second
// step: a code to the mailbox must not skip them), gets a request no code
// answers and a message recorded withheld. It returns the request's id.
func (s *Service) RequestCode(ctx context.Context, email, lang string, o request.Origin) (string, error) {
	if !s.CodeSignIn {
		return "", ErrNoCodeSignIn
	}
	norm, err := account.NormalizeEmail(email)
	if err != nil {
		return "", form.Errors{"email": "error.email_invalid"}
	}
	if o.Time.IsZero() {
		o.Time = s.clock.Now()
	}
	o.Time = o.Time.UTC()
	at := &Attempt{ID: random.ID(), Kind: CodeSignInKind, Identifier: norm, Origin: o, Outcome: UnknownAccount,
		MethodOffered: Email, Cause: request.CodeRequested}
	a, err := s.accounts.AccountByEmail(ctx, norm)
	switch {
	case err == nil:
		at.AccountID, at.Outcome = a.ID, Pending
		if refusal(a) != nil {
			at.Outcome = Denied
		} else {
			ways, err := s.methods.Ways(ctx, a)
			if err != nil {
				return "", fmt.Errorf("sign in by code: two-step state: %w", err)
			}
			if len(ways) > 0 {
				at.Outcome = Denied
			}
		}
	case !errors.Is(err, account.ErrNotFound):
		return "", fmt.Errorf("sign in by code: look up account: %w", err)
	}
	decoy := at.Outcome != Pending
	var id string
	err = s.tx.InTx(ctx, func(ctx context.Context) error {
		if err := s.attempts.RecordAttempt(ctx, at); err != nil {
			return fmt.Errorf("sign in by code: record attempt: %w", err)
		}
		spec := code.Challenge{Purpose: request.CodeSignIn, Cause: request.CodeRequested, AttemptID: at.ID,
			Channel: request.Email, Destination: norm, Origin: o}
		n := notice.Notice{Purpose: request.CodeSignIn, Cause: request.CodeRequested, To: norm, Language: lang,
			Origin: o, Valid: s.codes.Validity(), Withhold: decoy}
		if !decoy {
			// The request keeps the address as typed: the code page shows
			// it, and the account's own spelling would tell that it exists.
			spec.AccountID = a.ID
			n.AccountID, n.To, n.Language, n.TimeZone = a.ID, a.Email, a.Language, a.TimeZone
		}
		ch, c, err := s.codes.Issue(ctx, spec, decoy)
		if err != nil {
			return fmt.Errorf("sign in by code: issue code: %w", err)
		}
		id, n.ChallengeID, n.Code = ch.ID, ch.ID, c
		if _, err := s.notices.Send(ctx, n); err != nil {
			return fmt.Errorf("sign in by code: send code: %w", err)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	s.logOutcome(ctx, at)
	return id, nil
}

// CodeRequest is a code typed on the sign-in-by-code page.
type CodeRequest struct {
	ChallengeID string
	Code        string
	Remember    bool
	Previous    string // the session token the browser held; signing in ends it
	Origin      request.Origin
}

// CodePending returns the open sign-in-by-code request for its page: only
// the browser that asked may use it (code.ErrNotFound otherwise).
func (s *Service) CodePending(ctx context.Context, challengeID string, o request.Origin) (*code.Challenge, error) {
	ch, err := s.codes.Lookup(ctx, challengeID, request.CodeSignIn)
	if err != nil {
		return nil, err
	}
	if ch.Origin.DeviceID == "" || ch.Origin.DeviceID != o.DeviceID {
		return nil, code.ErrNotFound
	}
	return ch, nil
}

// SignInByCode checks the code of a sign-in by code and, when it is right
// and the attempt still pending, starts the session — one transaction;
// five wrong codes end the attempt as failed. A holder's "this wasn't me"
// denies the attempt, after which the right code is refused too.
func (s *Service) SignInByCode(ctx context.Context, r CodeRequest) (*Result, error) {
	o := r.Origin
	if o.Time.IsZero() {
		o.Time = s.clock.Now()
	}
	o.Time = o.Time.UTC()
	ch, err := s.CodePending(ctx, r.ChallengeID, o)
	if err != nil {
		return nil, err
	}
	at, err := s.attempts.Attempt(ctx, ch.AttemptID)
	if errors.Is(err, ErrNoAttempt) {
		return nil, code.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sign in by code: read attempt: %w", err)
	}
	if ch, err = s.codes.Check(ctx, ch.ID, request.CodeSignIn, r.Code, o); err != nil {
		return nil, s.refused(ctx, at, ch, err, o)
	}
	if at.Outcome != Pending {
		return nil, code.ErrUsed
	}
	a, err := s.accounts.AccountByID(ctx, at.AccountID)
	if err != nil {
		return nil, fmt.Errorf("sign in by code: read account: %w", err)
	}
	if err := refusal(a); err != nil {
		s.end(ctx, at, Denied, o.Time)
		return nil, err
	}
	fresh, err := s.newDevice(ctx, a, o)
	if err != nil {
		return nil, err
	}
	var g *grant.Grant
	err = s.tx.InTx(ctx, func(ctx context.Context) error {
		if err := s.codes.Use(ctx, ch); err != nil {
			return err
		}
		var err error
		if g, err = s.sessions.Grant(ctx, a.ID, o, r.Remember, r.Previous, "otp"); err != nil {
			return fmt.Errorf("sign in by code: start session: %w", err)
		}
		// A code from the mailbox proved neither the password nor a second
		// step: changes behind step-up still ask for them.
		if err := s.unproved(ctx, g); err != nil {
			return err
		}
		ok, err := s.attempts.EndAttempt(ctx, at.ID, Succeeded, g.SessionID, Email, o.Time)
		if err != nil {
			return fmt.Errorf("sign in by code: end attempt: %w", err)
		}
		if !ok {
			return code.ErrUsed // denied ("this wasn't me") or passed meanwhile
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	at.Outcome, at.SessionID, at.MethodUsed, at.EndedAt = Succeeded, g.SessionID, Email, o.Time
	s.logOutcome(ctx, at)
	if fresh {
		s.alertNewDevice(ctx, a, o)
	}
	return &Result{Account: a, Session: g}, nil
}
