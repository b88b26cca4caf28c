package activity

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"gatehouse/internal/code"
	"gatehouse/internal/request"
	"gatehouse/internal/signin"
)

// WaitFor is how long an unanswered request is put to its holder at the
// top of their account after they sign in: a week, after which the
// message center and the activity page still have it.
const WaitFor = 7 * 24 * time.Hour

// maxWaiting bounds what the account page lists: beyond a few, the holder
// is better served by the activity page.
const maxWaiting = 5

// Waiting is one request the holder has not answered and that did not
// come from the browser they are using: a code someone else asked for, or
// a right password typed elsewhere whose sign-in did not finish. It is
// what the holder sees first after signing in ("was this you?").
type Waiting struct {
	// Reference is the newest message of the request, to be answered on
	// /why/{Reference}; empty for a sign-in that sent none (its second
	// step was an app or a passkey), answered by AttemptID instead.
	Reference string
	AttemptID string
	Cause     request.Cause
	// Origin is where and when the request came from.
	Origin request.Origin
	// Open: its code can still be used, or its sign-in is still pending —
	// someone is one code away.
	Open bool
	// Until is when time alone changes the entry, at the latest: its code
	// expires (it is no longer Open) or it leaves the list (it is older
	// than WaitFor). A page that keeps the list reads it again by then.
	Until time.Time
}

// asked are the causes whose unanswered requests are put to the holder:
// where "this wasn't me" protects the account. A typo of someone else's
// address (mistyped) and a request from the holder's own signed-in device
// (you_just_now, or connected_app: an application sent that device) are
// not.
var asked = []request.Cause{request.PasswordKnown, request.OldDevice, request.ResetRequested, request.CodeRequested}

// Waiting returns the account's requests of the last WaitFor that are
// unfinished (the code was never used, the sign-in never completed),
// unanswered, and not made from deviceID (the browser asking), newest
// first, at most five. A finished sign-in from a new device is told by the
// new-device alert and marked on the activity page instead: putting every
// one of the holder's own new devices to them for a week would teach them
// to wave the question away.
func (s *Service) Waiting(ctx context.Context, accountID, deviceID string) ([]Waiting, error) {
	now := s.Clock.Now()
	since := now.Add(-WaitFor)
	// Both lists are newest first, so the newest maxWaiting of each hold
	// the newest maxWaiting of all.
	reqs, err := s.Store.Unanswered(ctx, accountID, deviceID, since, asked, maxWaiting)
	if err != nil {
		return nil, err
	}
	out := make([]Waiting, 0, len(reqs))
	listed := map[string]bool{}
	for _, u := range reqs {
		w := Waiting{Reference: u.Reference, Cause: u.Cause, Origin: u.Origin, Open: now.Before(u.ExpiresAt)}
		if at := u.Attempt; at != nil {
			w.AttemptID, w.Origin = at.ID, at.Origin
			w.Open = w.Open && at.Outcome == signin.Pending
			listed[at.ID] = true
		}
		// The origin (the request's, or its sign-in's, made before it) is
		// no later than the message that keeps it in the list.
		w.Until = w.Origin.Time.Add(WaitFor)
		if w.Open && u.ExpiresAt.Before(w.Until) {
			w.Until = u.ExpiresAt
		}
		out = append(out, w)
	}
	// Right passwords whose second step sent nothing (an app, a passkey).
	ats, err := s.Store.UnansweredAttempts(ctx, accountID, deviceID, since, asked, maxWaiting)
	if err != nil {
		return nil, err
	}
	for _, at := range ats {
		if !listed[at.ID] {
			out = append(out, Waiting{AttemptID: at.ID, Cause: at.Cause, Origin: at.Origin,
				Open: at.Outcome == signin.Pending, Until: at.Origin.Time.Add(WaitFor)})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Origin.Time.After(out[j].Origin.Time) })
	if len(out) > maxWaiting {
		out = out[:maxWaiting]
	}
	return out, nil
}

// Unfinished counts the right passwords typed on a device the account had
// not used (cause password_known) in the last WaitFor whose sign-in did
// not finish, that the holder has not answered, made neither from
// deviceID nor from a device that signed in afterwards — what someone
// holding the password but not the second step looks like — and names the
// newest, for the security checkup.
func (s *Service) Unfinished(ctx context.Context, accountID, deviceID string) (int, string, error) {
	ats, err := s.Store.UnansweredAttempts(ctx, accountID, deviceID, s.Clock.Now().Add(-WaitFor), []request.Cause{request.PasswordKnown}, 100)
	if err != nil || len(ats) == 0 {
		return 0, "", err
	}
	return len(ats), ats[0].ID, nil
}

// Unasked is what StopUnasked did.
type Unasked struct {
	// Stopped: the request was open and is now stopped; Blocked: its
	// sender sends no codes to the destination until Until.
	Stopped, Blocked bool
	Until            time.Time
	// Used: the code had already been used before the recipient spoke —
	// an account (or a change) now uses their address or number.
	Used bool
	// Already: the request had been stopped before; nothing was done
	// again (its code is forgotten then, so a repeat proves nothing and
	// must not renew the block).
	Already bool
}

// Unaskable reports whether a message's recipient may stop its request
// without an account: a code to an address or number that no account
// holds yet (a sign-up, a new address, a number being added). The codes
// of sign-ins and resets go to an account's own address, whose holder
// answers signed in.
func Unaskable(p request.Purpose) bool {
	switch p {
	case request.ConfirmEmail, request.ChangeEmail, request.AddPhone:
		return true
	}
	return false
}

// StopUnasked is "I didn't ask for this" from a message's recipient who
// need not have an account: typing the code they received proves they
// hold the address or number (and reveals nothing they did not have). The
// request is stopped and its sender — device and network — sends no codes
// there for a day, as "this wasn't me" does for a holder (cause mistyped).
// A wrong code counts against the request and the destination like any
// other guess: ErrStopCode, and ErrStopLocked once the request allows no
// more. ErrNotFound: no such message, or not one a recipient can stop this
// way.
func (s *Service) StopUnasked(ctx context.Context, ref, typed string, o request.Origin) (*Unasked, error) {
	ok, m, err := s.Genuine(ctx, ref)
	if err != nil {
		return nil, err
	}
	if !ok || m.ChallengeID == "" || !Unaskable(m.Purpose) {
		return nil, ErrNotFound
	}
	ch, err := s.Codes.Prove(ctx, m.ChallengeID, typed, o)
	switch {
	case errors.Is(err, code.ErrNotFound):
		return nil, ErrNotFound
	case errors.Is(err, code.ErrWrongCode):
		return nil, ErrStopCode
	case errors.Is(err, code.ErrLocked):
		return nil, ErrStopLocked
	case err != nil:
		return nil, fmt.Errorf("activity: stop: %w", err)
	}
	now := s.Clock.Now()
	u := &Unasked{Used: !ch.ConsumedAt.IsZero() && ch.StoppedAt.IsZero(), Already: !ch.StoppedAt.IsZero()}
	if u.Used || u.Already {
		return u, nil
	}
	err = s.Tx.InTx(ctx, func(ctx context.Context) error {
		if err := s.Codes.Stop(ctx, ch.ID); err != nil {
			return fmt.Errorf("activity: stop request: %w", err)
		}
		u.Stopped = true
		b := &code.Block{Destination: code.BlockKey(ch.Destination), DeviceID: ch.Origin.DeviceID, IP: code.BlockNetwork(ch.Origin.IP),
			CreatedAt: now, Until: now.Add(blockFor)}
		if err := s.Blocks.BlockSender(ctx, b); err != nil {
			return fmt.Errorf("activity: block sender: %w", err)
		}
		u.Blocked, u.Until = true, b.Until
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.Log.InfoContext(ctx, "recipient stopped a request", "reference", m.Reference, "purpose", m.Purpose, "stopped", u.Stopped)
	return u, nil
}
