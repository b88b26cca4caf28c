package activity

import (
	"context"
	"slices"
	"time"

	"gatehouse/internal/code"
	"gatehouse/internal/request"
	"gatehouse/internal/signin"
)

// Answer is what a holder said about one message's request: "this was
// me" or "this wasn't me", and what Gatehouse did about it. Answers are
// kept: the message's story on /why shows them, and a second "this wasn't
// me" does not run the response again.
type Answer struct {
	ID          string
	AccountID   string
	MessageID   string
	Reference   string
	ChallengeID string
	AttemptID   string
	Cause       request.Cause
	Said        Said
	Actions     []Action
	// Origin is where the holder answered from, and when.
	Origin request.Origin

	// What the response signed out, for EndedSession (not stored).
	endedAll      bool
	endedDevice   string
	endedSessions []string
}

// EndedSession reports whether the response signed out the session
// sessionID on device deviceID — the answering browser's own, say: "this
// wasn't me" may end every session, the device that asked, or the session
// a finished sign-in started. The page that shows the answer needs it to
// drop its cookie, without asking the session store again.
func (a *Answer) EndedSession(sessionID, deviceID string) bool {
	if a == nil {
		return false
	}
	return a.endedAll || (deviceID != "" && deviceID == a.endedDevice) || slices.Contains(a.endedSessions, sessionID)
}

// Said is the holder's answer.
type Said string

// Answers.
const (
	Me    Said = "me"
	NotMe Said = "not_me"
)

// Action is one thing a "this wasn't me" did.
type Action string

// Actions, in the order they are taken and listed.
const (
	DeniedAttempt    Action = "denied_attempt"     // the pending sign-in can no longer pass
	StoppedRequest   Action = "stopped_request"    // its code stops working and no more are sent
	SignedOutAll     Action = "signed_out_all"     // every session of the account ended
	SignedOutDevice  Action = "signed_out_device"  // the sessions on the device that asked ended
	SignedOutSession Action = "signed_out_session" // the session the finished sign-in started ended
	PasswordMarked   Action = "password_marked"    // a new password is required at the next sign-in
	ForgotDevice     Action = "forgot_device"      // the device no longer counts as known
	BlockedSender    Action = "blocked_sender"     // no codes to this destination from that sender for a day
	CancelledReset   Action = "cancelled_reset"    // the password reset can no longer be finished
	DisconnectedApp  Action = "disconnected_app"   // the application that asked lost its grant and tokens
	NothingToUndo    Action = "nothing"            // the request had already ended; nothing was open
	StoppedTrusting  Action = "stopped_trusting"   // no browser skips the second step any more
	ConfirmedByEmail Action = "told_by_email"      // the response was confirmed by email
	ConfirmedBySMS   Action = "told_by_sms"        // … and by SMS
)

// Store keeps answers.
type Store interface {
	RecordAnswer(ctx context.Context, a *Answer) error
	// Answers returns the account's answers about one request — a
	// message's challenge or an attempt — newest first. Either id may be
	// empty.
	Answers(ctx context.Context, accountID, challengeID, attemptID string) ([]*Answer, error)
	// DeniedAttempts returns the attempts the account answered "this
	// wasn't me" about since a time: the activity page marks them, with
	// one query a page.
	DeniedAttempts(ctx context.Context, accountID string, since time.Time) (map[string]bool, error)
	// Disowned reports whether anyone answered "this wasn't me" about the
	// request: the person who made it is then told it was stopped. (The
	// answer may be another account's: a code typed for someone else's
	// number is that number's holder's to answer.)
	Disowned(ctx context.Context, challengeID string) (bool, error)
	// Unanswered returns, newest first and at most limit, the account's
	// requests since a time whose code was sent with one of causes and
	// never used, that nobody answered (neither the request nor its
	// sign-in), not made from deviceID ("": from anywhere) nor from a
	// device that completed a sign-in to the account afterwards (the
	// holder, who came back), and whose sign-in, if any, did not succeed —
	// each by its newest message. The
	// account page reads it on every view: one query, on the indexes of
	// messages by account and of answers by request.
	Unanswered(ctx context.Context, accountID, deviceID string, since time.Time, causes []request.Cause, limit int) ([]Unanswered, error)
	// UnansweredAttempts is the same for sign-in attempts (kind sign-in,
	// with one of causes, not succeeded), whether or not they sent a
	// message.
	UnansweredAttempts(ctx context.Context, accountID, deviceID string, since time.Time, causes []request.Cause, limit int) ([]*signin.Attempt, error)
	// Requests returns the requests (challenges) with the given ids, each
	// with whether it was disowned, in one query: a page of the message
	// center reads them all at once. Unknown ids are left out.
	Requests(ctx context.Context, challengeIDs []string) (map[string]Request, error)
}

// Unanswered is one request as Store.Unanswered reads it.
type Unanswered struct {
	Reference string // its newest message's
	Cause     request.Cause
	Origin    request.Origin // where the request came from, and when
	ExpiresAt time.Time      // when its code runs out
	// Attempt is the sign-in the code was the second step of; nil for a
	// request of its own (a reset, a sign-in by code without attempt).
	Attempt *signin.Attempt
}

// Request is a message's request as the message center lists it.
type Request struct {
	Challenge *code.Challenge
	Disowned  bool // someone answered "this wasn't me" about it
}

// blockFor is how long "someone mistyped" blocks the sender.
const blockFor = 24 * time.Hour
