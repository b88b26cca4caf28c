package activity_test

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"gatehouse/internal/account"
	"gatehouse/internal/activity"
	"gatehouse/internal/clock"
	"gatehouse/internal/code"
	"gatehouse/internal/device"
	"gatehouse/internal/limit"
	"gatehouse/internal/notice"
	"gatehouse/internal/outbox"
	"gatehouse/internal/random"
	"gatehouse/internal/request"
	"gatehouse/internal/session"
	"gatehouse/internal/signin"
	"gatehouse/internal/sqlite"
)

// notices records what would be sent.
type notices struct{ sent []notice.Notice }

func (n *notices) Send(_ context.Context, x notice.Notice) (*outbox.Message, error) {
	n.sent = append(n.sent, x)
	return &outbox.Message{}, nil
}

type world struct {
	db       *sqlite.DB
	svc      *activity.Service
	codes    *code.Service
	sessions *session.Manager
	told     *notices
	acc      *account.Account
	now      time.Time
}

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "t.db"), true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	now := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	clk := clock.Clock(func() time.Time { return now })
	w := &world{db: db, now: now, told: &notices{}}
	w.codes = &code.Service{Store: db, Key: []byte("0123456789abcdef0123456789abcdef"), TTL: 10 * time.Minute, Cooldown: time.Minute,
		MaxFailures: 5, MaxSends: 3, Clock: clk, Blocks: db, Limits: limit.None()}
	w.sessions = &session.Manager{Store: db, Devices: db, Clock: clk, Lifetimes: session.Lifetimes{Idle: time.Hour, Absolute: 24 * time.Hour, Remember: 720 * time.Hour}}
	w.svc = &activity.Service{Store: db, Messages: db, Challenges: db, Codes: w.codes, Attempts: db, Accounts: db,
		Sessions: w.sessions, Devices: db, Blocks: db, Notices: w.told, Tx: db, Clock: clk, Log: slog.New(slog.DiscardHandler)}
	w.acc = &account.Account{ID: random.ID(), Email: "holder@example.com", PasswordHash: "$argon2id$x", Language: "en",
		Status: account.Active, CreatedAt: now, ConfirmedAt: now, PasswordChangedAt: now, Alerts: account.Alerts{Email: true}}
	if err := db.CreateAccount(ctx, w.acc); err != nil {
		t.Fatal(err)
	}
	return w
}

// request records what a code of this cause is sent for: a pending
// attempt from device dev (for a second step) and its challenge and
// message; it returns the message's reference.
func (w *world) request(t *testing.T, cause request.Cause, dev string) (ref string, ch *code.Challenge, at *signin.Attempt) {
	t.Helper()
	ctx := context.Background()
	o := request.Origin{DeviceID: dev, IP: "198.51.100.7", UserAgent: "UA", Time: w.now}
	p := map[request.Cause]request.Purpose{
		request.PasswordKnown: request.SecondStep, request.OldDevice: request.SecondStep, request.YouJustNow: request.StepUp, request.ConnectedApp: request.StepUp,
		request.Mistyped: request.AddPhone, request.ResetRequested: request.ResetPassword, request.CodeRequested: request.CodeSignIn,
	}[cause]
	spec := code.Challenge{Purpose: p, Cause: cause, AccountID: w.acc.ID, Destination: w.acc.Email, Origin: o}
	if cause == request.ConnectedApp {
		spec.App = shop
	}
	if p == request.StepUp {
		spec.Purpose = request.SecondStep
	}
	if p == request.AddPhone {
		spec.Destination, spec.Channel = "+819012345678", request.SMS
	}
	if p == request.SecondStep || p == request.StepUp || p == request.CodeSignIn {
		at = &signin.Attempt{ID: random.ID(), Kind: signin.SignInKind, AccountID: w.acc.ID, Origin: o, Outcome: signin.Pending, Cause: cause, App: spec.App}
		if err := w.db.RecordAttempt(ctx, at); err != nil {
			t.Fatal(err)
		}
		spec.AttemptID = at.ID
	}
	ch, _, err := w.codes.Issue(ctx, spec, false)
	if err != nil {
		t.Fatal(err)
	}
	m := &outbox.Message{ID: random.ID(), Reference: random.Reference(), AccountID: w.acc.ID, Purpose: p, Cause: cause, ChallengeID: ch.ID,
		Channel: spec.Channel, To: spec.Destination, CreatedAt: w.now, Status: outbox.Sent, NextAttemptAt: w.now}
	if m.Channel == "" {
		m.Channel = request.Email
	}
	if err := w.db.EnqueueMessage(ctx, m); err != nil {
		t.Fatal(err)
	}
	return m.Reference, ch, at
}

// shop is the connected application a connected_app request names.
var shop = request.App{ID: "client-shop", Name: "Example Shop"}

// TestAnswer_NotMeDoesWhatTheCauseTableSays: each cause's "this wasn't
// me" takes exactly its row's steps, is recorded, confirmed, and not run
// twice.
func TestAnswer_NotMeDoesWhatTheCauseTableSays(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cause request.Cause
		want  []activity.Action
	}{
		{request.PasswordKnown, []activity.Action{activity.DeniedAttempt, activity.StoppedRequest, activity.SignedOutAll,
			activity.StoppedTrusting, activity.PasswordMarked, activity.ConfirmedByEmail}},
		{request.OldDevice, []activity.Action{activity.DeniedAttempt, activity.StoppedRequest, activity.SignedOutDevice,
			activity.ForgotDevice, activity.ConfirmedByEmail}},
		{request.Mistyped, []activity.Action{activity.StoppedRequest, activity.BlockedSender, activity.ConfirmedByEmail}},
		{request.ResetRequested, []activity.Action{activity.CancelledReset, activity.ConfirmedByEmail}},
		{request.CodeRequested, []activity.Action{activity.DeniedAttempt, activity.StoppedRequest, activity.ConfirmedByEmail}},
		{request.YouJustNow, []activity.Action{activity.DeniedAttempt, activity.StoppedRequest, activity.SignedOutDevice,
			activity.ConfirmedByEmail}},
		{request.ConnectedApp, []activity.Action{activity.DeniedAttempt, activity.StoppedRequest, activity.SignedOutDevice,
			activity.DisconnectedApp, activity.ConfirmedByEmail}},
	} {
		t.Run(string(tc.cause), func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			ctx := context.Background()
			dev := "their-device"
			// The device has a session of the account, and is known to it.
			w.db.CreateDevice(ctx, &device.Device{ID: dev, TokenHash: device.HashToken(dev), FirstSeen: w.now, LastSeen: w.now, IP: "198.51.100.7"})
			g, err := w.sessions.Grant(ctx, w.acc.ID, request.Origin{DeviceID: dev}, false, "")
			if err != nil {
				t.Fatal(err)
			}
			// ... and skips the second step there ("stopped trusting" is
			// reported only when a browser was trusted).
			if err := w.db.Trust(ctx, w.acc.ID, dev, w.now.Add(24*time.Hour)); err != nil {
				t.Fatal(err)
			}
			var disconnected []string
			w.svc.DisconnectApp = func(_ context.Context, accountID, clientID string) error {
				disconnected = append(disconnected, accountID+" "+clientID)
				return nil
			}
			ref, ch, at := w.request(t, tc.cause, dev)
			a, err := w.svc.Answer(ctx, w.acc.ID, ref, activity.NotMe, request.Origin{DeviceID: "holder", IP: "192.0.2.1"})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(a.Actions, tc.want) {
				t.Fatalf("actions %v, want %v", a.Actions, tc.want)
			}
			if want := slices.Contains(tc.want, activity.DisconnectedApp); want != slices.Equal(disconnected, []string{w.acc.ID + " " + shop.ID}) {
				t.Fatalf("disconnected %v (should disconnect %s: %v)", disconnected, shop.ID, want)
			}
			// The request takes no code any more.
			if err := w.codes.Use(ctx, ch); !errors.Is(err, code.ErrUsed) {
				t.Fatalf("the request is still open: %v", err)
			}
			if at != nil {
				got, _ := w.db.Attempt(ctx, at.ID)
				if got.Outcome != signin.Denied {
					t.Fatalf("attempt %s", got.Outcome)
				}
			}
			// The session on that device ends where the row says so.
			_, serr := w.sessions.Check(ctx, g.Token)
			ended := slices.Contains(tc.want, activity.SignedOutAll) || slices.Contains(tc.want, activity.SignedOutDevice)
			if ended != errors.Is(serr, session.ErrNoSession) {
				t.Fatalf("session check after the answer: %v (should end: %v)", serr, ended)
			}
			if used, _ := w.db.UsedBy(ctx, w.acc.ID, dev); used == slices.Contains(tc.want, activity.ForgotDevice) && tc.cause != request.PasswordKnown {
				t.Fatalf("device still known: %v", used)
			}
			acc, _ := w.db.AccountByID(ctx, w.acc.ID)
			if acc.PasswordCompromisedAt.IsZero() == (tc.cause == request.PasswordKnown) {
				t.Fatalf("password mark: %v", acc.PasswordCompromisedAt)
			}
			if blocked, _ := w.codes.Blocked(ctx, "+819012345678", request.Origin{DeviceID: dev}); blocked != (tc.cause == request.Mistyped) {
				t.Fatalf("sender blocked: %v", blocked)
			}
			if until, _ := w.db.TrustedUntil(ctx, w.acc.ID, dev); until.IsZero() != (tc.cause == request.PasswordKnown || tc.cause == request.OldDevice) {
				t.Fatalf("trust after the answer: %v", until)
			}
			if len(w.told.sent) != 1 || w.told.sent[0].Purpose != request.NotMeDone || w.told.sent[0].About != tc.cause {
				t.Fatalf("confirmation: %+v", w.told.sent)
			}
			// Asked again (either way): the first answer, nothing done again.
			if _, err := w.svc.Answer(ctx, w.acc.ID, ref, activity.Me, request.Origin{}); !errors.Is(err, activity.ErrAnswered) {
				t.Fatalf("this was me after this wasn't me: %v", err)
			}
			again, err := w.svc.Answer(ctx, w.acc.ID, ref, activity.NotMe, request.Origin{})
			if !errors.Is(err, activity.ErrAnswered) || again.ID != a.ID || len(w.told.sent) != 1 {
				t.Fatalf("a second answer: %+v %v (%d notices)", again, err, len(w.told.sent))
			}
			// Another account cannot answer it.
			if _, err := w.svc.Answer(ctx, "someone-else", ref, activity.NotMe, request.Origin{}); !errors.Is(err, activity.ErrNotFound) {
				t.Fatalf("another account: %v", err)
			}
		})
	}
}

// TestAnswer_ThisWasMeChangesNothing and unknown answers are refused.
func TestAnswer_ThisWasMeChangesNothing(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	ref, ch, at := w.request(t, request.PasswordKnown, "dev")
	if _, err := w.svc.Answer(ctx, w.acc.ID, ref, "maybe", request.Origin{}); !errors.Is(err, activity.ErrAnswer) {
		t.Fatalf("unknown answer: %v", err)
	}
	a, err := w.svc.Answer(ctx, w.acc.ID, ref, activity.Me, request.Origin{})
	if err != nil || len(a.Actions) != 0 || len(w.told.sent) != 0 {
		t.Fatalf("this was me: %+v %v", a, err)
	}
	if got, _ := w.db.Attempt(ctx, at.ID); got.Outcome != signin.Pending {
		t.Fatalf("attempt %s", got.Outcome)
	}
	if err := w.codes.Usable(ch); err != nil {
		t.Fatalf("the request was stopped: %v", err)
	}
	st, err := w.svc.Story(ctx, w.acc.ID, ref)
	if err != nil || len(st.Answers) != 1 || st.NotMe() != nil || st.Attempt == nil || st.Challenge == nil {
		t.Fatalf("story: %+v %v", st, err)
	}
}

// TestAnswerAttempt_ConnectedAppDisconnectsTheAttemptsApplication: "this
// wasn't me" on the activity page's row of a step-up an application asked
// for (no message needed) disconnects the application its attempt names.
func TestAnswerAttempt_ConnectedAppDisconnectsTheAttemptsApplication(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	var disconnected []string
	w.svc.DisconnectApp = func(_ context.Context, accountID, clientID string) error {
		disconnected = append(disconnected, accountID+" "+clientID)
		return nil
	}
	_, _, at := w.request(t, request.ConnectedApp, "their-device")
	a, err := w.svc.AnswerAttempt(ctx, w.acc.ID, at.ID, activity.NotMe, request.Origin{DeviceID: "holder", IP: "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	if a.Cause != request.ConnectedApp || !slices.Contains(a.Actions, activity.DisconnectedApp) ||
		!slices.Equal(disconnected, []string{w.acc.ID + " " + shop.ID}) {
		t.Fatalf("answer %s %v, disconnected %v", a.Cause, a.Actions, disconnected)
	}
	if got, _ := w.db.Attempt(ctx, at.ID); got.Outcome != signin.Denied {
		t.Fatalf("attempt %s", got.Outcome)
	}
}
