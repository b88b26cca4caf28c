// Package code issues and checks one-time codes sent by email or SMS.
//
// Every code belongs to a recorded Challenge: one request (an address
// confirmation, a password reset, later a sign-in's second step) with its
// purpose, cause, origin, account and destination (see package request). The code itself is stored only as an HMAC under a server
// key, so a copy of the database does not let anyone brute-force the six
// digits offline. Single use, expiry and the failure count are decided by
// the store's conditional updates, not by process memory, so they hold even
// with several server processes.
package code

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"time"

	"gatehouse/internal/clock"
	"gatehouse/internal/limit"
	"gatehouse/internal/random"
	"gatehouse/internal/request"
)

// Challenge is one request that a code answers.
type Challenge struct {
	ID      string
	Purpose request.Purpose
	// Cause is why the code was sent, decided when it was first sent
	// (request.Decide) and kept for every resend.
	Cause request.Cause
	// AttemptID is the sign-in attempt the code is a second step of; empty
	// when the challenge is itself the request (a sign-up, a reset).
	AttemptID string
	AccountID string // empty when no account matched (a decoy)
	// App is the application that asked for the request (cause
	// ConnectedApp); zero otherwise.
	App         request.App
	Channel     request.Channel
	Destination string // the address or number the code went to
	// Origin is where the request came from. Browser and OS are not
	// stored; a reader derives them from Origin.UserAgent.
	Origin request.Origin
	// CodeHash is nil for a decoy: a challenge recorded so that the page
	// flow looks the same whether or not an account exists, but for which no
	// code was ever sent and none can match.
	CodeHash   []byte
	Failures   int
	Sends      int // how many times a code was sent for it (1 after Issue)
	CreatedAt  time.Time
	SentAt     time.Time
	ExpiresAt  time.Time
	ConsumedAt time.Time // zero until used
	// StoppedAt is when the destination's holder stopped the request
	// ("this wasn't me"; see Service.Stop); ConsumedAt is set too.
	StoppedAt time.Time
}

// Store keeps challenges. Implementations must make TakeFailure and
// Consume atomic: they are the only guard against parallel guessing and
// double use.
type Store interface {
	CreateChallenge(ctx context.Context, c *Challenge) error
	// Challenge returns ErrNotFound for an unknown id.
	Challenge(ctx context.Context, id string) (*Challenge, error)
	// TakeFailure counts a wrong answer in advance, if the count is below
	// max: one conditional update, so answers arriving together on any
	// node never count past max. It returns the new count and whether it
	// was counted. The count is taken before the answer is compared and
	// given back (ReturnFailure) when the answer was right.
	TakeFailure(ctx context.Context, id string, max int) (int, bool, error)
	// ReturnFailure gives back a count TakeFailure took for a right answer.
	ReturnFailure(ctx context.Context, id string) error
	// Stop ends an open request as stopped by its destination's holder:
	// used up (ConsumedAt), StoppedAt set, its code hash erased. A used
	// request is left as it is.
	Stop(ctx context.Context, id string, at time.Time) error
	// Consume marks the challenge used if it is not already; it reports
	// whether this call was the one that used it.
	Consume(ctx context.Context, id string, at time.Time) (bool, error)
	// Resend replaces the code hash and its sent and expiry times and
	// counts the send, keeping the failure count (NIST 800-63B-4 §3.1.3: a
	// new code SHALL NOT reset it).
	Resend(ctx context.Context, id string, hash []byte, sentAt, expiresAt time.Time) error
	// SendCode is Resend by a channel and to a destination that may differ
	// from the challenge's so far: a second step whose holder chose "text
	// me a code" after the app was offered. It too keeps the failure count.
	SendCode(ctx context.Context, id string, ch request.Channel, destination string, hash []byte, sentAt, expiresAt time.Time) error
}

// Block stops codes to one destination from one sender: a holder said
// that a code for someone else's request ("someone mistyped") was not
// theirs. It matches a request from the sender's device or network.
type Block struct {
	Destination string // lower-cased address or E.164 number
	DeviceID    string
	IP          string // the sender's network (BlockNetwork): an IPv4 /24 or IPv6 /64
	CreatedAt   time.Time
	Until       time.Time
}

// Blocks keeps senders blocked from destinations.
type Blocks interface {
	BlockSender(ctx context.Context, b *Block) error
	// SenderBlocked reports whether a block on the destination matches the
	// device or the network and lasts beyond now.
	SenderBlocked(ctx context.Context, destination, deviceID, ip string, now time.Time) (bool, error)
}

// Errors a caller must tell apart to show the right message.
var (
	ErrNotFound  = errors.New("code: no such request")
	ErrWrongCode = errors.New("code: wrong code")
	ErrExpired   = errors.New("code: expired")
	ErrUsed      = errors.New("code: already used")
	ErrLocked    = errors.New("code: too many wrong codes")
	ErrCooldown  = errors.New("code: sent too recently")
	ErrNoMore    = errors.New("code: no more codes for this request")
	// ErrBlocked: the destination's holder blocked codes from this sender
	// (see Block); the caller records the request without a code.
	ErrBlocked = errors.New("code: the destination blocked codes from this sender")
)

// WrongCode is ErrWrongCode with how many more tries the request allows,
// so the holder is told ("2 tries left").
type WrongCode struct{ Left int }

func (e *WrongCode) Error() string { return fmt.Sprintf("code: wrong code (%d tries left)", e.Left) }

// Unwrap makes a WrongCode match ErrWrongCode.
func (e *WrongCode) Unwrap() error { return ErrWrongCode }

// TooSoon is ErrCooldown with how long until another code may be sent.
type TooSoon struct{ Wait time.Duration }

func (e *TooSoon) Error() string { return fmt.Sprintf("code: sent too recently (wait %s)", e.Wait) }

// Unwrap makes a TooSoon match ErrCooldown.
func (e *TooSoon) Unwrap() error { return ErrCooldown }

// NoBlocks is a Blocks that holds none: for tests about something else
// (a server always keeps its blocks in its database).
type NoBlocks struct{}

// BlockSender forgets the block.
func (NoBlocks) BlockSender(context.Context, *Block) error { return nil }

// SenderBlocked reports that nothing is blocked.
func (NoBlocks) SenderBlocked(context.Context, string, string, string, time.Time) (bool, error) {
	return false, nil
}

// Service issues and verifies codes.
type Service struct {
	Store       Store
	Key         []byte        // HMAC key for code hashes
	TTL         time.Duration // how long a code is valid (10 min)
	Cooldown    time.Duration // minimum time between sends (60 s)
	MaxFailures int           // wrong entries before the request is locked (5)
	MaxSends    int           // codes sent per request, the first included (3); 0 means no limit
	Clock       clock.Clock
	// Blocks, when set, refuses codes for a request typed by someone else
	// ("someone mistyped") to a destination whose holder blocked its
	// sender.
	Blocks Blocks
	// Limits counts every code sent (per destination, network, SMS
	// country) and every code typed (per destination, across requests).
	// Required: tests that are about something else say limit.None().
	Limits *limit.Limiter
}

// BlockKey is the form a destination is blocked under: an address
// lower-cased (one mailbox), a number as it is (E.164).
func BlockKey(destination string) string { return strings.ToLower(destination) }

// Blocked reports whether codes for a request from o to destination are
// blocked (see Block).
func (s *Service) Blocked(ctx context.Context, destination string, o request.Origin) (bool, error) {
	return s.Blocks.SenderBlocked(ctx, BlockKey(destination), o.DeviceID, BlockNetwork(o.IP), s.now())
}

// BlockNetwork is the network a block names: the sender's IPv4 /24 or
// IPv6 /64, so that taking another address of the same network does not
// escape it.
func BlockNetwork(ip string) string {
	if n := limit.Network(ip); n != "" {
		return n
	}
	return ip
}

// sending counts a code about to go to destination for the request c,
// made from o: the send limits (package limit), and for a request typed
// by someone else, the holder's block on its sender — checked for every
// code of the request, resends included.
func (s *Service) sending(ctx context.Context, c *Challenge, ch request.Channel, destination string, o request.Origin) error {
	if c.Cause == request.Mistyped && c.CodeHash != nil {
		blocked, err := s.Blocked(ctx, destination, o)
		if err != nil {
			return fmt.Errorf("code: sending: %w", err)
		}
		if blocked {
			return ErrBlocked
		}
	}
	// A typed destination (a sign-up, a new address, a number being added:
	// cause "mistyped") may be anyone's; the others are the account's own.
	return s.Limits.Sending(ctx, limit.Send{Channel: ch, Destination: BlockKey(destination), AccountID: c.AccountID,
		Own: c.Cause != request.Mistyped, Proven: c.Purpose == request.SecondStep || c.Purpose == request.StepUp, Origin: o})
}

// Digits is the length of every code.
const Digits = 6

func (s *Service) now() time.Time { return s.Clock.Now() }

// Validity is how long a new code is valid (TTL).
func (s *Service) Validity() time.Duration { return s.TTL }

func (s *Service) hash(id, code string) []byte {
	m := hmac.New(sha256.New, s.Key)
	m.Write([]byte(id))
	m.Write([]byte{0})
	m.Write([]byte(code))
	return m.Sum(nil)
}

// Issue records a new challenge for the request spec describes (its
// purpose, cause, account, attempt, channel, destination and origin) and
// returns it with its code. With decoy set, the challenge is recorded
// without a code (see Challenge.CodeHash) and the returned code is empty.
func (s *Service) Issue(ctx context.Context, spec Challenge, decoy bool) (*Challenge, string, error) {
	now := s.now()
	c := &spec
	c.ID, c.CodeHash, c.Failures, c.Sends, c.ConsumedAt = random.ID(), nil, 0, 1, time.Time{}
	c.CreatedAt, c.SentAt, c.ExpiresAt = now, now, now.Add(s.TTL)
	if c.Channel == "" {
		c.Channel = request.Email
	}
	if c.Cause == "" {
		// Every purpose but a second step has one cause; a second step's
		// depends on the device, which only the caller knows.
		if c.Purpose == request.SecondStep {
			return nil, "", errors.New("code: issue: a second step needs its cause decided by the caller")
		}
		c.Cause = request.Decide(c.Purpose, request.Facts{})
	}
	var code string
	if !decoy {
		code = random.Digits(Digits)
		c.CodeHash = s.hash(c.ID, code)
	}
	// A decoy is counted like a code: a request for an address nobody
	// holds is refused exactly when one for a holder's would be.
	if err := s.sending(ctx, c, c.Channel, c.Destination, c.Origin); err != nil {
		return nil, "", fmt.Errorf("code: issue: %w", err)
	}
	if err := s.Store.CreateChallenge(ctx, c); err != nil {
		return nil, "", fmt.Errorf("code: issue: %w", err)
	}
	return c, code, nil
}

// Open records a second step's challenge that has no code yet: the
// holder's app, passkey or a backup code answers it, or they ask for a
// code by SMS or email with Send. It carries the attempt's validity and
// failure count whatever the method, so switching methods resets neither.
// The caller decides the cause, as for Issue.
func (s *Service) Open(ctx context.Context, spec Challenge) (*Challenge, error) {
	if spec.Cause == "" {
		return nil, errors.New("code: open: a second step needs its cause decided by the caller")
	}
	now := s.now()
	c := &spec
	c.ID, c.CodeHash, c.Failures, c.Sends, c.ConsumedAt = random.ID(), nil, 0, 0, time.Time{}
	c.CreatedAt, c.SentAt, c.ExpiresAt = now, now, now.Add(s.TTL)
	c.Channel, c.Destination = "", ""
	if err := s.Store.CreateChallenge(ctx, c); err != nil {
		return nil, fmt.Errorf("code: open: %w", err)
	}
	return c, nil
}

// Send sends a new code for an open challenge by ch to destination, and
// returns it; the previous code, if any, stops working. The cool-down
// applies to a second code by the same channel; the limit of codes per
// request (MaxSends) applies to all of them, and the failure count is kept
// (NIST SP 800-63B-4 §3.1.3: a new code SHALL NOT reset it).
func (s *Service) Send(ctx context.Context, id string, p request.Purpose, ch request.Channel, destination string, o request.Origin) (*Challenge, string, error) {
	c, err := s.Lookup(ctx, id, p)
	if err != nil {
		return nil, "", fmt.Errorf("code: send: %w", err)
	}
	now := s.now()
	if err := s.sendable(c, ch, now); err != nil {
		return c, "", err
	}
	if err := s.sending(ctx, c, ch, destination, o); err != nil {
		return c, "", err
	}
	code := random.Digits(Digits)
	h := s.hash(c.ID, code)
	sent, expires := now, now.Add(s.TTL)
	if err := s.Store.SendCode(ctx, c.ID, ch, destination, h, sent, expires); err != nil {
		return c, "", err
	}
	c.CodeHash, c.Channel, c.Destination, c.SentAt, c.ExpiresAt = h, ch, destination, sent, expires
	c.Sends++
	return c, code, nil
}

// sendable says why c may not get a new code by ch now, or nil: it is
// used, or locked; a second step nobody asked a code for in time has
// ended; the last code by that channel is too recent (the cool-down); or
// the request has had its codes (MaxSends, every channel together).
func (s *Service) sendable(c *Challenge, ch request.Channel, now time.Time) error {
	switch {
	case !c.ConsumedAt.IsZero():
		return ErrUsed
	case c.Failures >= s.MaxFailures:
		return ErrLocked
	case c.Sends == 0 && !now.Before(c.ExpiresAt):
		return ErrExpired
	case c.Sends > 0 && c.Channel == ch && now.Sub(c.SentAt) < s.Cooldown:
		return &TooSoon{Wait: s.Cooldown - now.Sub(c.SentAt)}
	case s.MaxSends > 0 && c.Sends >= s.MaxSends:
		return ErrNoMore
	}
	return nil
}

// Lookup returns the challenge with the given id and purpose.
func (s *Service) Lookup(ctx context.Context, id string, p request.Purpose) (*Challenge, error) {
	c, err := s.Store.Challenge(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("code: lookup: %w", err)
	}
	if c.Purpose != p {
		return nil, ErrNotFound
	}
	return c, nil
}

// Held returns the open challenge with the given id and purpose that a
// signed-in holder started (a number being added, an address being
// changed): ErrNotFound for an unknown one, another account's, or one
// already used — a link to it is of no use to anyone else.
func (s *Service) Held(ctx context.Context, id string, p request.Purpose, accountID string) (*Challenge, error) {
	c, err := s.Lookup(ctx, id, p)
	if err != nil {
		return nil, fmt.Errorf("code: held: %w", err)
	}
	c = asked(c) // a stopped request stays open to its requester, as a decoy
	if c.AccountID == "" || c.AccountID != accountID || !c.ConsumedAt.IsZero() {
		return nil, ErrNotFound
	}
	return c, nil
}

// Verify checks code against the challenge and, when it matches, uses it up.
func (s *Service) Verify(ctx context.Context, id string, p request.Purpose, code string, by request.Origin) (*Challenge, error) {
	c, err := s.Check(ctx, id, p, code, by)
	if err != nil {
		return c, fmt.Errorf("code: verify: %w", err)
	}
	return c, s.Use(ctx, c)
}

// Usable reports whether a challenge just read can still be answered —
// not used, not locked, not expired — for a request answered by something
// other than its own code (an authenticator app, a backup code), whose
// wrong answers are counted with Fail.
func (s *Service) Usable(c *Challenge) error {
	switch {
	case !c.ConsumedAt.IsZero():
		return ErrUsed
	case c.Failures >= s.MaxFailures:
		return ErrLocked
	case !s.now().Before(c.ExpiresAt):
		return ErrExpired
	}
	return nil
}

// Reserve counts an answer to an open challenge as wrong before it is
// compared (an app's code, a backup code, a passkey), or returns ErrLocked
// when none is left: answers sent together can never pass the limit. A
// right answer is given back with Unreserve; for a wrong one, Fail says
// what it meant.
func (s *Service) Reserve(ctx context.Context, c *Challenge) error {
	n, ok, err := s.Store.TakeFailure(ctx, c.ID, s.MaxFailures)
	if err != nil {
		return fmt.Errorf("code: reserve: %w", err)
	}
	if !ok {
		c.Failures = max(c.Failures, s.MaxFailures)
		return ErrLocked
	}
	c.Failures = n
	return nil
}

// Unreserve gives back the count Reserve took, for a right answer.
func (s *Service) Unreserve(ctx context.Context, c *Challenge) error {
	if err := s.Store.ReturnFailure(ctx, c.ID); err != nil {
		return fmt.Errorf("code: unreserve: %w", err)
	}
	c.Failures = max(0, c.Failures-1)
	return nil
}

// Fail is what a wrong answer, already counted by Reserve, means:
// ErrWrongCode, or ErrLocked when it was the last one allowed.
func (s *Service) Fail(c *Challenge) error {
	if c.Failures >= s.MaxFailures {
		return ErrLocked
	}
	return &WrongCode{Left: s.Remaining(c)}
}

// Check reports whether code, typed by the browser at by, answers the
// challenge without using it up, for flows that have more to validate
// before they commit (see Use). The comparison is constant-time. A wrong
// code counts towards the request's limit and, across requests, towards
// the destination's guessing limit (package limit), which refuses with
// *limit.Error before anything is compared while its delay runs.
func (s *Service) Check(ctx context.Context, id string, p request.Purpose, code string, by request.Origin) (*Challenge, error) {
	c, err := s.Lookup(ctx, id, p)
	if err != nil {
		return nil, fmt.Errorf("code: check: %w", err)
	}
	c = asked(c)
	switch {
	case !c.ConsumedAt.IsZero():
		return c, ErrUsed
	case c.Failures < s.MaxFailures && !s.now().Before(c.ExpiresAt):
		return c, ErrExpired
	}
	return c, s.compare(ctx, c, code, by)
}

// Prove reports whether code is the one last sent for the challenge, for
// its recipient who stops a request they did not make (see
// activity.Service.StopUnasked). Unlike Check it answers after the code
// ran out, or after the request was used or stopped: a dead code grants
// nothing, but it still proves that its holder read the message, and a
// typo's recipient often reads it hours later. Wrong codes count exactly
// as Check's do, against the request and the destination.
func (s *Service) Prove(ctx context.Context, id, code string, by request.Origin) (*Challenge, error) {
	c, err := s.Store.Challenge(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("code: prove: %w", err)
	}
	if !c.StoppedAt.IsZero() {
		// Stopped already (its code is forgotten then): saying so again
		// tells the reference's holder nothing new.
		return c, nil
	}
	return c, s.compare(ctx, c, code, by)
}

// compare answers one guess at c's code: refused while the destination's
// delay runs, counted before it is compared (constant-time), and given back
// when right. A request locked by wrong codes answers ErrLocked (or, while
// the delay runs, 429 like every other guess at its destination).
func (s *Service) compare(ctx context.Context, c *Challenge, code string, by request.Origin) error {
	guess := limit.Guess{Secret: limit.CodeSecret(c.Channel), AccountID: c.AccountID, Subject: "to:" + BlockKey(c.Destination), Origin: by}
	if c.Failures >= s.MaxFailures {
		if err := s.Limits.Delayed(ctx, guess); err != nil {
			return fmt.Errorf("code: compare: %w", err)
		}
		return ErrLocked
	}
	t, err := s.Limits.Take(ctx, guess)
	if err != nil {
		return fmt.Errorf("code: compare: %w", err)
	}
	if err := s.Reserve(ctx, c); err != nil {
		return fmt.Errorf("code: compare: %w", err)
	}
	// A decoy has no hash; comparing against a fresh one keeps the work equal.
	want := c.CodeHash
	if want == nil {
		want = s.hash(c.ID, "decoy")
	}
	if len(code) != Digits || !hmac.Equal(s.hash(c.ID, code), want) || c.CodeHash == nil {
		t.Done(ctx, false)
		return s.Fail(c)
	}
	t.Done(ctx, true)
	return s.Unreserve(ctx, c)
}

// Use marks a checked challenge as used. Only one caller can win: a second
// use, here or on another server process, gets ErrUsed.
func (s *Service) Use(ctx context.Context, c *Challenge) error {
	now := s.now()
	ok, err := s.Store.Consume(ctx, c.ID, now)
	if err != nil {
		return fmt.Errorf("code: use: %w", err)
	}
	if !ok {
		return ErrUsed
	}
	c.ConsumedAt = now
	return nil
}

// Stop ends a request so that no code answers it and none is sent for it
// any more ("this wasn't me"). Stopping a used request changes nothing.
// To whoever asked for it, a stopped request then looks like a decoy (see
// asked): its codes are wrong, its resends send nothing — exactly what a
// request for an address or number without a holder does — so that
// nobody learns from the refusal that the destination has a holder who
// answered.
func (s *Service) Stop(ctx context.Context, id string) error {
	return s.Store.Stop(ctx, id, s.now())
}

// AsAsked returns c as the side that asked for it sees it: a request its
// recipient stopped is a decoy still open (no code, not used). Every page
// the requester reads — the code page, and their own message center and
// story when the message is theirs — shows it so, or the stop would tell
// them that the address or number has someone who answered.
func AsAsked(c *Challenge) *Challenge { return asked(c) }

// asked returns c as the requester's side sees it: a stopped request is a
// decoy still open (no code, not used).
func asked(c *Challenge) *Challenge {
	if c.StoppedAt.IsZero() {
		return c
	}
	d := *c
	d.ConsumedAt, d.CodeHash = time.Time{}, nil
	return &d
}

// Remaining returns how many wrong entries c still allows.
func (s *Service) Remaining(c *Challenge) int { return max(0, s.MaxFailures-c.Failures) }

// Resend issues a new code for an open challenge, after the cool-down. The
// old code stops working. For a decoy it returns an empty code and no error,
// so the caller's page looks the same.
func (s *Service) Resend(ctx context.Context, id string, p request.Purpose, o request.Origin) (*Challenge, string, error) {
	c, err := s.Lookup(ctx, id, p)
	if err != nil {
		return nil, "", fmt.Errorf("code: resend: %w", err)
	}
	c = asked(c)
	now := s.now()
	if err := s.sendable(c, c.Channel, now); err != nil {
		return c, "", err
	}
	if err := s.sending(ctx, c, c.Channel, c.Destination, o); errors.Is(err, ErrBlocked) {
		// The destination's holder blocked this sender: answered like a
		// decoy's resend (nothing is sent, nothing said about the holder).
		return c, "", nil
	} else if err != nil {
		return c, "", err
	}
	c.SentAt, c.ExpiresAt = now, now.Add(s.TTL)
	var code string
	var h []byte
	if c.CodeHash != nil {
		code = random.Digits(Digits)
		h = s.hash(c.ID, code)
	}
	if err := s.Store.Resend(ctx, c.ID, h, c.SentAt, c.ExpiresAt); err != nil {
		return c, "", err
	}
	c.CodeHash = h
	c.Sends++
	return c, code, nil
}

// CooldownLeft returns how long until c may be resent.
func (s *Service) CooldownLeft(c *Challenge) time.Duration {
	return max(0, s.Cooldown-s.now().Sub(c.SentAt))
}
