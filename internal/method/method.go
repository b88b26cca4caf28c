// Package method is the second step of a sign-in, one way at a time.
//
// Each way to pass it — a passkey, an authenticator app, a code by SMS, a
// code by email, a backup code — is a Method: it says whether an account
// has it set up and can use it now, where its codes go (if it sends any),
// how an answer is checked, and what passing it proves. A Set registers
// the methods by kind, once, when the server is wired (internal/app); sign-in
// (internal/signin), the two-step settings and the second-step page ask the
// Set, so a new method is one file here and one line of registration.
//
// The package holds no flow: counting guesses, the attempt's record, the
// session and the transaction stay with sign-in, which calls a Method at
// the points its About says.
package method

import (
	"context"
	"errors"
	"fmt"

	"gatehouse/internal/account"
	"gatehouse/internal/code"
	"gatehouse/internal/limit"
	"gatehouse/internal/request"
)

// Kind names a method: the value an attempt records as offered and used,
// and the page's ?method=.
type Kind string

// The kinds this version knows.
const (
	Passkey Kind = "passkey"
	App     Kind = "app"
	SMS     Kind = "sms"
	Email   Kind = "email"
	Backup  Kind = "backup"
)

// Input is how the holder gives an answer.
type Input string

// Inputs.
const (
	// Digits is a six-digit code, typed (an app's, or one that was sent).
	Digits Input = "digits"
	// Phrase is a longer code read from a list and typed as it stands
	// (a backup code: case, spaces and dashes are forgiven).
	Phrase Input = "phrase"
	// Assertion is the browser's signed answer to a ceremony the page
	// began (a passkey): nothing is typed.
	Assertion Input = "assertion"
)

// About is what a method is, the same for every account.
type About struct {
	Kind Kind
	// AMR is the RFC 8176 authentication method reference a pass by this
	// method adds ("otp", "sms", "swk", …), for a session's record and,
	// later, an OpenID Connect token's amr claim.
	AMR string
	// PhishingResistant: the answer is bound to this site's origin, so a
	// look-alike site cannot relay it (NIST SP 800-63B-4 §3.2.5).
	PhishingResistant bool
	// Factor: passing it proves a second factor (NIST SP 800-63B-4). A
	// code from the mailbox does not — whoever reads the mailbox has it —
	// so it earns no "trust this browser" and proves no step-up.
	Factor bool
	// Channel is the channel its codes are sent by; empty when Gatehouse
	// sends nothing (the holder has the answer).
	Channel request.Channel
	// Input is how the holder answers.
	Input Input
	// Secret is what a wrong answer is counted as (package limit).
	Secret limit.Secret
	// InTx: Check uses up something the holder holds (an app's time step,
	// a backup code), so it runs inside the sign-in's transaction and a
	// sign-in that rolls back leaves it unused. Otherwise Check runs
	// before the transaction: a sent code counts its own failures, and a
	// passkey's ceremony is used up whatever follows.
	InTx bool
	// Backstop: not a way of its own — it never turns two-step
	// verification on — but accepted after the account's own ways on
	// every two-step sign-in (backup codes: the way back in).
	Backstop bool
}

// Offer is whether an account has a method set up, and can pass with it.
type Offer int

// Offers.
const (
	// Off: not set up for the account.
	Off Offer = iota
	// Ready: set up, and an answer can pass now.
	Ready
	// Blocked: set up, but no answer can pass now (every passkey is flagged
	// as a copy). Two-step verification stays on — a clone must not turn
	// it off — and the method is offered only when nothing else is, so its
	// page says so and offers the other ways.
	Blocked
)

// Answer is a holder's answer to a pending second step.
type Answer struct {
	AccountID string
	// Challenge is the attempt's request (code.Challenge): its handle,
	// validity and failure count. Check may replace it with the request as
	// the check left it (a sent code's failures).
	Challenge *code.Challenge
	// Code is what was typed (Digits, Phrase).
	Code string
	// Ceremony and Response are an Assertion: the ceremony the page began
	// and the browser's answer.
	Ceremony string
	Response []byte
	Origin   request.Origin
}

// ErrWrong is a wrong, used or refused answer: the caller counts it
// against the attempt. Check returns other errors (a store failing) as
// they are.
var ErrWrong = errors.New("method: wrong or used answer")

// ErrPasskey marks a passkey's answer that package passkey refused; the
// error also carries the reason (passkey.ErrCloned, …).
var ErrPasskey = errors.New("method: the passkey was not accepted")

// Method is one way to pass the second step.
type Method interface {
	// About says what the method is.
	About() About
	// Offer says whether a has the method set up and can pass with it.
	Offer(ctx context.Context, a *account.Account) (Offer, error)
	// Destination is where a's codes go (an address, a confirmed number);
	// empty for a method that sends none.
	Destination(a *account.Account) string
	// Check checks ans: nil for a right answer (used up, for an InTx
	// method), an error wrapping ErrWrong for a wrong one. A method that
	// sends codes checks the code against its request, which counts the
	// failure itself; its errors are package code's (code.ErrWrongCode,
	// code.ErrLocked, …).
	Check(ctx context.Context, ans *Answer) error
}

// Announcer is a Method whose every use the holder is told of: the
// notice to send (its purpose and what it counts), which the caller
// addresses and sends after the pass commits.
type Announcer interface {
	Method
	Announce(ctx context.Context, accountID string) (Notice, error)
}

// Notice is what an Announcer has the holder told.
type Notice struct {
	Purpose   request.Purpose
	Remaining int // e.g. the backup codes left
}

// Set is the methods a server offers, registered by kind. Its order is
// the order of strength a sign-in offers the account's ways in.
type Set struct {
	order  []Method
	byKind map[Kind]Method
}

// NewSet registers ms, strongest first. A kind registered twice is a
// wiring mistake and panics.
func NewSet(ms ...Method) *Set {
	s := &Set{byKind: map[Kind]Method{}}
	for _, m := range ms {
		k := m.About().Kind
		if _, dup := s.byKind[k]; dup {
			panic(fmt.Sprintf("method: %q registered twice", k))
		}
		s.order = append(s.order, m)
		s.byKind[k] = m
	}
	return s
}

// Get returns the method registered as k.
func (s *Set) Get(k Kind) (Method, bool) {
	m, ok := s.byKind[k]
	return m, ok
}

// About returns what the method registered as k is; the zero About (no
// factor, nothing sent) for a kind not registered.
func (s *Set) About(k Kind) About {
	if m, ok := s.byKind[k]; ok {
		return m.About()
	}
	return About{Kind: k}
}

// Ways returns the methods a has set up, strongest first, which is the
// order a sign-in offers them in; none means two-step verification is
// off. A method set up but Blocked is listed only when no other can pass.
// Backstops are not ways (see Backstops).
func (s *Set) Ways(ctx context.Context, a *account.Account) ([]Kind, error) {
	var ready, blocked []Kind
	for _, m := range s.order {
		ab := m.About()
		if ab.Backstop {
			continue
		}
		o, err := m.Offer(ctx, a)
		if err != nil {
			return nil, fmt.Errorf("method: offer %s: %w", ab.Kind, err)
		}
		switch o {
		case Ready:
			ready = append(ready, ab.Kind)
		case Blocked:
			blocked = append(blocked, ab.Kind)
		}
	}
	if len(ready) == 0 {
		return blocked, nil
	}
	return ready, nil
}

// Backstops returns the methods accepted after an account's own ways on
// every two-step sign-in, in order.
func (s *Set) Backstops() []Kind {
	var out []Kind
	for _, m := range s.order {
		if ab := m.About(); ab.Backstop {
			out = append(out, ab.Kind)
		}
	}
	return out
}
