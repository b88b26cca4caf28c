// Package activity answers "was this you?".
//
// Every code Gatehouse sends is for one recorded request, and its message
// carries the request's cause (package request). Given a message's
// reference, this package tells its story — the message, the request it
// answered, the sign-in attempt behind it, the holder's earlier answers —
// and carries out the holder's answer. "This wasn't me" does what the cause
// table in PRODUCT.md says for the cause, at once and on every node (every
// step is a database write that other nodes read, and session changes
// notify their caches), and is itself recorded and confirmed by a message
// on every channel the holder has.
//
// The sign-in activity page reads attempts through it too, and the same
// answer can be given to an attempt that sent no message.
package activity

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"gatehouse/internal/account"
	"gatehouse/internal/clock"
	"gatehouse/internal/code"
	"gatehouse/internal/commit"
	"gatehouse/internal/device"
	"gatehouse/internal/notice"
	"gatehouse/internal/outbox"
	"gatehouse/internal/random"
	"gatehouse/internal/request"
	"gatehouse/internal/secevent"
	"gatehouse/internal/signin"
)

// Errors a caller must tell apart.
var (
	// ErrNotFound: no message of this account has the reference (or no
	// attempt the id). A message of another account is not found either.
	ErrNotFound = errors.New("activity: no such message")
	// ErrAnswer: the answer is neither "me" nor "not_me".
	ErrAnswer = errors.New("activity: unknown answer")
	// ErrAnswered: the holder already said "this wasn't me" about the
	// request; a later answer changes nothing (the returned answer is the
	// earlier one).
	ErrAnswered = errors.New("activity: already answered")
	// ErrStopCode: the code typed to stop a request is not its code.
	ErrStopCode = errors.New("activity: stop: not the code of this request")
	// ErrStopLocked: too many wrong codes; the request is dead and nothing
	// more can come of it (a new one is stopped with its own code).
	ErrStopLocked = errors.New("activity: stop: too many wrong codes")
)

// Service tells a message's story and carries out the holder's answer.
type Service struct {
	Store    Store
	Messages interface {
		MessageByReference(ctx context.Context, ref string) (*outbox.Message, error)
	}
	Challenges interface {
		Challenge(ctx context.Context, id string) (*code.Challenge, error)
	}
	Codes interface {
		Stop(ctx context.Context, id string) error
		Prove(ctx context.Context, id, code string, by request.Origin) (*code.Challenge, error)
	}
	Attempts signin.Store
	Accounts interface {
		AccountByID(ctx context.Context, id string) (*account.Account, error)
		MarkPasswordCompromised(ctx context.Context, id string, at time.Time) error
	}
	Sessions interface {
		EndAll(ctx context.Context, accountID string) error
		EndOne(ctx context.Context, accountID, sessionID string) (bool, error)
		EndDevice(ctx context.Context, accountID, deviceID string) error
		Forget(accountID string)
	}
	Devices interface {
		ForgetDevice(ctx context.Context, accountID, deviceID string) error
		StopTrusting(ctx context.Context, accountID, deviceID string) error
		Trusted(ctx context.Context, accountID string, now time.Time) ([]device.Trusted, error)
	}
	Blocks  code.Blocks
	Notices notice.Sender
	Tx      commit.Transactor
	Clock   clock.Clock
	Log     *slog.Logger
	// NotMe, when set, is told the cause of every "this wasn't me" carried
	// out ("" for a wrong password's, which stops nothing). Optional
	// (metrics).
	NotMe func(request.Cause)
	// Events, if set, records a credential compromise when the holder
	// says "this wasn't me" about a request made with their password
	// (cause password_known), in the answer's transaction.
	Events secevent.Sink
	// DisconnectApp ends a connected application's access to the account
	// (its grant, tokens and sign-ins): "this wasn't me" about a code the
	// application caused (connected_app). It runs in the answer's
	// transaction. Nil: no application is ever disconnected.
	DisconnectApp func(ctx context.Context, accountID, clientID string) error
}

// Story is one message as its holder's "why did I get this?" page tells
// it.
type Story struct {
	Message *outbox.Message
	// Challenge is the request a code answered; nil for a notice.
	Challenge *code.Challenge
	// Attempt is the sign-in (or step-up) the code was a second step of;
	// nil otherwise.
	Attempt *signin.Attempt
	// Answers are the holder's earlier answers about the request, newest
	// first.
	Answers []*Answer
}

// Answerable reports whether the holder may answer "this was me" or
// "this wasn't me": the message carried a code for a request that was not
// the holder's own finished one (see Own).
func (st *Story) Answerable() bool {
	return st.Challenge != nil && st.Message.Cause != "" && !st.Own()
}

// Own reports whether the code was for the holder's own request, now
// done: an address or number they confirmed with it (their sign-up, their
// new address, their phone). Such a code was not "someone's typo" any
// more, whatever was known when it was sent.
func (st *Story) Own() bool {
	ch := st.Challenge
	if ch == nil || st.Message.Cause != request.Mistyped || ch.ConsumedAt.IsZero() || !ch.StoppedAt.IsZero() || st.NotMe() != nil {
		return false
	}
	return ch.AccountID == st.Message.AccountID || ch.Purpose == request.ConfirmEmail
}

// NotMe returns the holder's "this wasn't me" answer, if they gave one.
func (st *Story) NotMe() *Answer {
	for _, a := range st.Answers {
		if a.Said == NotMe {
			return a
		}
	}
	return nil
}

// Genuine reports whether ref is the reference of a message Gatehouse
// sent (withheld messages were not sent), and when and for what: all a
// visitor who is not its holder may learn.
func (s *Service) Genuine(ctx context.Context, ref string) (bool, *outbox.Message, error) {
	m, err := s.Messages.MessageByReference(ctx, ref)
	if errors.Is(err, outbox.ErrNotFound) {
		return false, nil, nil
	}
	if err != nil {
		return false, nil, err
	}
	if m.Status == outbox.Withheld {
		return false, nil, nil
	}
	return true, m, nil
}

// StoryOf returns the story of the account's message with reference ref,
// or nil when ref is not one of the account's messages (a visitor is then
// shown what anyone may learn about it).
func (s *Service) StoryOf(ctx context.Context, accountID, ref string) (*Story, error) {
	st, err := s.Story(ctx, accountID, ref)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	return st, err
}

// Story returns the story of the account's message with reference ref.
func (s *Service) Story(ctx context.Context, accountID, ref string) (*Story, error) {
	ok, m, err := s.Genuine(ctx, ref)
	if err != nil {
		return nil, err
	}
	if !ok || m.AccountID != accountID || accountID == "" {
		return nil, ErrNotFound
	}
	st := &Story{Message: m}
	if m.ChallengeID == "" {
		return st, nil
	}
	ch, err := s.Challenges.Challenge(ctx, m.ChallengeID)
	if errors.Is(err, code.ErrNotFound) {
		return st, nil // pruned after its retention period
	}
	if err != nil {
		return nil, fmt.Errorf("activity: read request: %w", err)
	}
	st.Challenge = ch
	if ch.AttemptID != "" {
		at, err := s.Attempts.Attempt(ctx, ch.AttemptID)
		switch {
		case err == nil:
			st.Attempt = at
		case !errors.Is(err, signin.ErrNoAttempt):
			return nil, fmt.Errorf("activity: read attempt: %w", err)
		}
	}
	if st.Answers, err = s.Store.Answers(ctx, accountID, ch.ID, ch.AttemptID); err != nil {
		return nil, err
	}
	if st.NotMe() == nil && ch.AccountID == accountID {
		// Stopped by its recipient, not by this holder: this holder asked
		// for it (a number or an address they typed), and sees it as the
		// code page shows it to them — still open.
		st.Challenge = code.AsAsked(ch)
	}
	return st, nil
}

// Answer records the holder's answer about their message ref and, for
// "this wasn't me", carries out the cause's response (see respond). A
// second "this wasn't me" about the same request returns the first one
// without doing anything again.
func (s *Service) Answer(ctx context.Context, accountID, ref string, said Said, o request.Origin) (*Answer, error) {
	if said != Me && said != NotMe {
		return nil, ErrAnswer
	}
	st, err := s.Story(ctx, accountID, ref)
	if err != nil {
		return nil, err
	}
	if !st.Answerable() {
		return nil, ErrNotFound
	}
	if prev := st.NotMe(); prev != nil {
		return prev, ErrAnswered
	}
	a := &Answer{
		ID: random.ID(), AccountID: accountID, MessageID: st.Message.ID, Reference: st.Message.Reference,
		ChallengeID: st.Challenge.ID, Cause: st.Message.Cause, Said: said, Origin: s.origin(o),
	}
	if st.Attempt != nil {
		a.AttemptID = st.Attempt.ID
	}
	return a, s.carryOut(ctx, a, st.Challenge, st.Attempt)
}

// AnswerAttempt is Answer for a sign-in attempt on the activity page,
// which may have sent no message (a passkey, a trusted browser, a wrong
// password). An attempt with a second step answers as its cause; one whose
// password (or passkey) was right without one as "someone has the
// password"; a wrong password changes nothing but is recorded.
func (s *Service) AnswerAttempt(ctx context.Context, accountID, attemptID string, said Said, o request.Origin) (*Answer, error) {
	if said != Me && said != NotMe {
		return nil, ErrAnswer
	}
	at, err := s.Attempts.Attempt(ctx, attemptID)
	if errors.Is(err, signin.ErrNoAttempt) || (err == nil && (at.AccountID != accountID || accountID == "")) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("activity: read attempt: %w", err)
	}
	prev, err := s.Store.Answers(ctx, accountID, "", at.ID)
	if err != nil {
		return nil, err
	}
	for _, p := range prev {
		if p.Said == NotMe {
			return p, ErrAnswered
		}
	}
	a := &Answer{ID: random.ID(), AccountID: accountID, AttemptID: at.ID, Cause: at.Cause, Said: said, Origin: s.origin(o)}
	switch {
	case at.Outcome == signin.WrongPassword || at.Outcome == signin.UnknownAccount:
		// A wrong password: whoever typed it does not know it. Nothing to
		// stop; the answer is kept, and the holder is told what it means.
		a.Cause = ""
	case a.Cause == "":
		// The password (or a passkey) was right and no second step was
		// asked: as good as "someone has the password".
		a.Cause = request.PasswordKnown
	}
	return a, s.carryOut(ctx, a, nil, at)
}

func (s *Service) origin(o request.Origin) request.Origin {
	if o.Time.IsZero() {
		o.Time = s.Clock.Now()
	}
	o.Time = o.Time.UTC()
	return o
}

// carryOut runs the response and records the answer in one transaction,
// then confirms a "this wasn't me" by message (also in it: the
// confirmation is part of the response, and the outbox delivers it once
// it commits).
func (s *Service) carryOut(ctx context.Context, a *Answer, ch *code.Challenge, at *signin.Attempt) error {
	acc, err := s.Accounts.AccountByID(ctx, a.AccountID)
	if err != nil {
		return fmt.Errorf("activity: read account: %w", err)
	}
	err = s.Tx.InTx(ctx, func(ctx context.Context) error {
		a.Actions = nil
		if a.Said == NotMe {
			if err := s.respond(ctx, a, ch, at); err != nil {
				return err
			}
			if err := s.confirm(ctx, acc, a); err != nil {
				return err
			}
		}
		return s.Store.RecordAnswer(ctx, a)
	})
	if err != nil {
		return err
	}
	s.Log.InfoContext(ctx, "holder answered", "account", a.AccountID, "answer", a.Said, "cause", a.Cause,
		"reference", a.Reference, "attempt", a.AttemptID, "actions", fmt.Sprint(a.Actions))
	if a.Said == NotMe && s.NotMe != nil {
		s.NotMe(a.Cause)
	}
	return nil
}

// respond does what "this wasn't me" does for the answer's cause (the
// cause table in PRODUCT.md), appending each step to a.Actions.
func (s *Service) respond(ctx context.Context, a *Answer, ch *code.Challenge, at *signin.Attempt) error {
	now := a.Origin.Time
	did := func(x Action) { a.Actions = append(a.Actions, x) }
	deny := func() error {
		if at == nil {
			return nil
		}
		ok, err := s.Attempts.EndAttempt(ctx, at.ID, signin.Denied, "", "", now)
		if err != nil {
			return fmt.Errorf("activity: deny attempt: %w", err)
		}
		if ok {
			did(DeniedAttempt)
		}
		return nil
	}
	stop := func(x Action) error {
		if ch == nil {
			return nil
		}
		if err := s.Codes.Stop(ctx, ch.ID); err != nil {
			return fmt.Errorf("activity: stop request: %w", err)
		}
		did(x)
		return nil
	}
	endSession := func() error {
		// The sign-in finished before the answer: its session ends too.
		if at == nil || at.Outcome != signin.Succeeded || at.SessionID == "" {
			return nil
		}
		ok, err := s.Sessions.EndOne(ctx, a.AccountID, at.SessionID)
		if err != nil {
			return fmt.Errorf("activity: sign out session: %w", err)
		}
		if ok {
			did(SignedOutSession)
			a.endedSessions = append(a.endedSessions, at.SessionID)
		}
		return nil
	}
	device := ""
	// denyAndSignOut: the attempt cannot pass, its code is dead, and the
	// device that asked is signed out.
	denyAndSignOut := func() error {
		if err := deny(); err != nil {
			return err
		}
		if err := stop(StoppedRequest); err != nil {
			return err
		}
		if device == "" {
			return nil
		}
		if err := s.Sessions.EndDevice(ctx, a.AccountID, device); err != nil {
			return fmt.Errorf("activity: sign out device: %w", err)
		}
		did(SignedOutDevice)
		a.endedDevice = device
		return nil
	}
	switch {
	case at != nil:
		device = at.Origin.DeviceID
	case ch != nil:
		device = ch.Origin.DeviceID
	}
	switch a.Cause {
	case request.PasswordKnown:
		// Someone else has the password: their attempt can no longer
		// pass even with the code, every session ends (theirs too, if one
		// started), no browser skips the second step, and the next
		// sign-in must set a new password.
		trusted, err := s.Devices.Trusted(ctx, a.AccountID, now)
		if err != nil {
			return fmt.Errorf("activity: read trusted browsers: %w", err)
		}
		if err := deny(); err != nil {
			return err
		}
		if err := stop(StoppedRequest); err != nil {
			return err
		}
		if device != "" {
			if err := s.Devices.ForgetDevice(ctx, a.AccountID, device); err != nil {
				return fmt.Errorf("activity: forget device: %w", err)
			}
		}
		if err := s.Sessions.EndAll(ctx, a.AccountID); err != nil {
			return fmt.Errorf("activity: sign out everywhere: %w", err)
		}
		did(SignedOutAll)
		a.endedAll = true
		if err := s.Devices.StopTrusting(ctx, a.AccountID, ""); err != nil {
			return fmt.Errorf("activity: stop trusting: %w", err)
		}
		if len(trusted) > 0 {
			did(StoppedTrusting)
		}
		if err := s.Accounts.MarkPasswordCompromised(ctx, a.AccountID, now); err != nil {
			return fmt.Errorf("activity: mark password: %w", err)
		}
		did(PasswordMarked)
		if err := secevent.Record(ctx, s.Events, secevent.Event{Type: secevent.CredentialCompromise, AccountID: a.AccountID, At: now,
			Credential: secevent.Password, Reason: "the holder said a request made with the password was not theirs"}); err != nil {
			return fmt.Errorf("activity: record the compromise: %w", err)
		}
		commit.After(ctx, func() { s.Sessions.Forget(a.AccountID) })
	case request.OldDevice:
		// A device the account used before is not the holder's any more
		// (sold, lost, shared): deny it and make it a stranger again.
		if err := denyAndSignOut(); err != nil {
			return err
		}
		if device != "" {
			if err := s.Devices.ForgetDevice(ctx, a.AccountID, device); err != nil {
				return fmt.Errorf("activity: forget device: %w", err)
			}
			did(ForgotDevice)
		}
	case request.Mistyped:
		// Someone else's request reached this holder: it gets no more
		// codes, and its sender sends none here for a day.
		if err := stop(StoppedRequest); err != nil {
			return err
		}
		if ch != nil {
			// The sender's network (/24, /64), not its one address: another
			// address of the same network is the same sender (the probe's D6).
			b := &code.Block{Destination: code.BlockKey(ch.Destination), DeviceID: ch.Origin.DeviceID, IP: code.BlockNetwork(ch.Origin.IP),
				CreatedAt: now, Until: now.Add(blockFor)}
			if err := s.Blocks.BlockSender(ctx, b); err != nil {
				return fmt.Errorf("activity: block sender: %w", err)
			}
			did(BlockedSender)
		}
	case request.ResetRequested:
		if err := stop(CancelledReset); err != nil {
			return err
		}
	case request.CodeRequested:
		if err := deny(); err != nil {
			return err
		}
		if err := stop(StoppedRequest); err != nil {
			return err
		}
		if err := endSession(); err != nil {
			return err
		}
	case request.YouJustNow:
		// Asked from a signed-in session of this account: whoever is at
		// that device is not the holder, so it is signed out.
		if err := denyAndSignOut(); err != nil {
			return err
		}
	case request.ConnectedApp:
		// An application sent a signed-in browser of this account to prove
		// it's the holder again: whoever is at that device is not the
		// holder, and the application they used is disconnected.
		if err := denyAndSignOut(); err != nil {
			return err
		}
		var app request.App
		switch {
		case ch != nil && ch.App.ID != "":
			app = ch.App
		case at != nil:
			app = at.App
		}
		if app.ID != "" && s.DisconnectApp != nil {
			if err := s.DisconnectApp(ctx, a.AccountID, app.ID); err != nil {
				return fmt.Errorf("activity: disconnect application: %w", err)
			}
			did(DisconnectedApp)
		}
	}
	if len(a.Actions) == 0 {
		did(NothingToUndo)
	}
	return nil
}

// confirm tells the holder what their "this wasn't me" did, by email
// (and by SMS to a confirmed phone: package notice copies security
// notices there).
func (s *Service) confirm(ctx context.Context, acc *account.Account, a *Answer) error {
	names := make([]string, 0, len(a.Actions))
	for _, x := range a.Actions {
		names = append(names, string(x))
	}
	_, err := s.Notices.Send(ctx, notice.Notice{
		Purpose: request.NotMeDone, AccountID: acc.ID, To: acc.Email, Language: acc.Language, TimeZone: acc.TimeZone,
		Origin: a.Origin, Reference: a.Reference, Actions: names, About: a.Cause,
	})
	if err != nil {
		return fmt.Errorf("activity: confirm answer: %w", err)
	}
	a.Actions = append(a.Actions, ConfirmedByEmail)
	if !acc.PhoneConfirmedAt.IsZero() && acc.Phone != "" {
		a.Actions = append(a.Actions, ConfirmedBySMS)
	}
	return nil
}

// Activity returns a page of the account's sign-in attempts of the last
// 90 days (see signin.AttemptQuery; Since is set here).
func (s *Service) Activity(ctx context.Context, accountID string, q signin.AttemptQuery) ([]*signin.Attempt, error) {
	q.Since = s.Clock.Now().Add(-Window)
	q.Limit = min(max(q.Limit, 1), 100)
	return s.Attempts.AttemptsPage(ctx, accountID, q)
}

// Window is how far back the activity page reaches.
const Window = 90 * 24 * time.Hour

// Requests returns the requests (challenges) behind a page of the message
// center, each with whether it was disowned, read at once.
func (s *Service) Requests(ctx context.Context, challengeIDs []string) (map[string]Request, error) {
	reqs, err := s.Store.Requests(ctx, challengeIDs)
	if err != nil {
		return nil, fmt.Errorf("activity: requests: %w", err)
	}
	return reqs, nil
}

// Disowned returns the attempts of the activity window the holder said
// were not them.
func (s *Service) Disowned(ctx context.Context, accountID string) (map[string]bool, error) {
	return s.Store.DeniedAttempts(ctx, accountID, s.Clock.Now().Add(-Window))
}
