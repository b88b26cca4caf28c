// Package methodtest is the conformance suite every second-step method
// passes, on every database: internal/sqlite and internal/postgres run it
// from their tests, so a method (and the store beneath it) is held to
// the same behaviour on both.
//
// Each method is driven through sign-in as production wires it — the
// real code, limit, session, totp, backup and passkey services over the
// store under test, and the method.Set app.go builds — and must be
// offered once set up (and not before), send its code where it sends one,
// pass with the right answer and refuse a wrong one, refuse a replayed
// answer, lock the attempt after the limit of wrong answers (telling the
// holder), count its guesses against the account, report an RFC 8176 amr,
// and — where it uses up what the holder holds inside the sign-in's
// transaction — leave it unused when that transaction rolls back.
package methodtest

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"gatehouse/internal/account"
	"gatehouse/internal/backup"
	"gatehouse/internal/clock"
	"gatehouse/internal/code"
	"gatehouse/internal/crypt"
	"gatehouse/internal/grant"
	"gatehouse/internal/limit"
	"gatehouse/internal/method"
	"gatehouse/internal/notice"
	"gatehouse/internal/outbox"
	"gatehouse/internal/passkey"
	"gatehouse/internal/passkey/passkeytest"
	"gatehouse/internal/random"
	"gatehouse/internal/request"
	"gatehouse/internal/session"
	"gatehouse/internal/signin"
	"gatehouse/internal/storetest"
	"gatehouse/internal/totp"
)

// Store is a database as the suite uses it.
type Store interface {
	storetest.Store
	code.Blocks
	SetPhone(ctx context.Context, accountID, number string, confirmedAt time.Time) error
}

// amrValues is the RFC 8176 registry of authentication method reference
// values (§2): what a method may report.
var amrValues = []string{"face", "fpt", "geo", "hwk", "iris", "kba", "mca", "mfa", "otp", "pin", "pwd", "rba",
	"retina", "sc", "sms", "swk", "tel", "user", "vbm", "wia"}

const (
	password    = "correct horse battery staple"
	origin      = "http://localhost:8080"
	maxFailures = 5
)

// Run runs the suite; open returns a fresh, migrated, empty store.
func Run(t *testing.T, open func(t *testing.T) Store) {
	for _, c := range cases {
		t.Run(string(c.kind), func(t *testing.T) {
			t.Run("OfferedOnceSetUp", func(t *testing.T) { testOffer(t, newEnv(t, open(t)), c) })
			t.Run("RightAnswerPassesWithItsAMR", func(t *testing.T) { testRight(t, newEnv(t, open(t)), c) })
			t.Run("ReplayedAnswerRefused_ASVS_6_5_1", func(t *testing.T) { testReplay(t, newEnv(t, open(t)), c) })
			t.Run("WrongAnswersLockTheAttempt_ASVS_6_3_1", func(t *testing.T) { testLock(t, newEnv(t, open(t)), c) })
			if c.kind == method.App || c.kind == method.Backup {
				t.Run("RolledBackSignInLeavesItUnused", func(t *testing.T) { testRollback(t, newEnv(t, open(t)), c) })
			}
		})
	}
}

// A case is one method: how the holder sets it up, and answers it.
type kase struct {
	kind method.Kind
	// setUp makes the method usable for the holder (nil: nothing to set up,
	// the email code of the new-device check).
	setUp func(e *env)
	// way: set up, it is one of the account's ways (not a backstop, not
	// the mailbox).
	way bool
	// right is the right answer for the pending step ch.
	right func(e *env, ch *code.Challenge) answer
	// wrong is a wrong one.
	wrong func(e *env, ch *code.Challenge) answer
}

type answer struct {
	code      string
	ceremony  string
	assertion []byte
}

var cases = []kase{
	{kind: method.Passkey, setUp: (*env).addPasskey, way: true, right: (*env).passkeyAnswer,
		wrong: func(e *env, ch *code.Challenge) answer {
			a := e.passkeyAnswer(ch)
			a.assertion = []byte(`{"id":"forged"}`)
			return a
		}},
	{kind: method.App, setUp: (*env).addApp, way: true, right: (*env).appCode,
		wrong: func(e *env, _ *code.Challenge) answer { return answer{code: e.otherAppCode()} }},
	{kind: method.SMS, setUp: (*env).addPhone, way: true, right: (*env).sentCode,
		wrong: func(e *env, ch *code.Challenge) answer { return answer{code: e.notTheCode()} }},
	{kind: method.Email, right: (*env).sentCode,
		wrong: func(e *env, ch *code.Challenge) answer { return answer{code: e.notTheCode()} }},
	{kind: method.Backup, setUp: func(e *env) { e.addApp(); e.addBackupCodes() }, right: (*env).backupCode,
		wrong: func(*env, *code.Challenge) answer { return answer{code: "ZZZZ-ZZZZ-ZZZZ-ZZZZ"} }},
}

// env is sign-in as app.go wires it, over the store under test.
type env struct {
	t        *testing.T
	db       Store
	clk      *clock.Fake
	svc      *signin.Service
	set      *method.Set
	apps     *totp.Service
	backups  *backup.Service
	keys     *passkey.Service
	told     *told
	sessions *failingSessions
	a        *account.Account

	appSecret string
	key       *passkeytest.Authenticator
	codes     []string // the holder's backup codes, unused first
}

func newEnv(t *testing.T, db Store) *env {
	t.Helper()
	clk := clock.NewFake(time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC))
	box, err := crypt.New(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	p := limit.Defaults()
	// Past the attempt's own limit: the attempt locks first, as with the
	// shipped defaults on one attempt (the account's delay spans them).
	p.FreeFailures = 2 * maxFailures
	p.PerDestination10m, p.PerDestinationDay = 100, 100
	limits := limit.New(db, db, p, clk.Clock(), nil)
	codes := &code.Service{Store: db, Blocks: db, Key: []byte("suite key"), TTL: 10 * time.Minute, Cooldown: time.Minute,
		MaxFailures: maxFailures, MaxSends: 3, Clock: clk.Clock(), Limits: limits}
	keys, err := passkey.New(passkey.Config{RPID: "localhost", Origin: origin, DisplayName: "Gatehouse", Store: db, Clock: clk.Clock()})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, db: db, clk: clk, keys: keys, told: &told{},
		apps:    &totp.Service{Store: db, Box: box, Issuer: "Gatehouse", Clock: clk.Clock()},
		backups: &backup.Service{Store: db, Key: []byte("suite key"), Clock: clk.Clock()},
	}
	mgr := &session.Manager{Store: db, Devices: db, Clock: clk.Clock(), Lifetimes: session.Lifetimes{
		Idle: time.Hour, Absolute: 24 * time.Hour, Remember: 30 * 24 * time.Hour, RememberIdle: 7 * 24 * time.Hour}}
	e.sessions = &failingSessions{Manager: mgr}
	// The registration app.go makes, strongest first.
	e.set = method.NewSet(method.PasskeyMethod{Keys: keys}, method.AppMethod{Store: db, Codes: e.apps},
		method.SMSMethod{Codes: codes}, method.BackupMethod{Codes: e.backups}, method.EmailMethod{Codes: codes})
	e.svc = signin.New(signin.Deps{Accounts: db, Attempts: db, Hasher: plainHasher{}, Sessions: e.sessions, Tx: db,
		Log: slog.New(slog.DiscardHandler), Clock: clk.Clock(), Devices: db, Codes: codes, Notices: e.told, Methods: e.set,
		Reauth: mgr, Passkeys: keys, Limits: limits}, signin.Settings{NewDeviceCheck: true})
	e.a = &account.Account{ID: random.ID(), Email: "holder@example.com", PasswordHash: "plain$" + password, Language: "en",
		Status: account.Active, Alerts: account.Alerts{Email: true}, CreatedAt: clk.Now(), ConfirmedAt: clk.Now(),
		PasswordChangedAt: clk.Now()}
	if err := db.CreateAccount(context.Background(), e.a); err != nil {
		t.Fatal(err)
	}
	return e
}

// browser is a new browser of the holder's: every sign-in of the suite
// comes from one, so the device is new each time.
func (e *env) browser() request.Origin {
	return request.Origin{DeviceID: random.ID(), IP: "198.51.100.7", UserAgent: "Firefox", Time: e.clk.Now()}
}

// account reads the holder's account as it is stored now.
func (e *env) account() *account.Account {
	e.t.Helper()
	a, err := e.db.AccountByID(context.Background(), e.a.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

// signIn types the right password from a new browser and returns the
// second step it asks for.
func (e *env) signIn(c kase) (*code.Challenge, request.Origin) {
	e.t.Helper()
	o := e.browser()
	res, err := e.svc.SignIn(context.Background(), signin.Request{Email: e.a.Email, Password: password, Origin: o})
	if err != nil || res.SecondStep == nil {
		e.t.Fatalf("SignIn = %+v, %v; want a second step", res, err)
	}
	st, err := e.svc.PendingStep(context.Background(), res.SecondStep.ID, o)
	if err != nil || !signin.Accepted(st.Accepts, c.kind) {
		e.t.Fatalf("PendingStep = %+v, %v; want %s accepted", st, err, c.kind)
	}
	// A method that sends codes and is not the one offered first sends
	// when the holder asks.
	if ab := e.set.About(c.kind); ab.Channel != "" && st.Attempt.MethodOffered != c.kind {
		if err := e.svc.Send(context.Background(), res.SecondStep.ID, c.kind, o); err != nil {
			e.t.Fatalf("Send(%s): %v", c.kind, err)
		}
	}
	return res.SecondStep, o
}

// verify answers ch by the case's method from browser o.
func (e *env) verify(c kase, ch *code.Challenge, o request.Origin, a answer) (*signin.Result, error) {
	o.Time = e.clk.Now()
	return e.svc.Verify(context.Background(), signin.VerifyRequest{ChallengeID: ch.ID, Method: c.kind, Code: a.code,
		Ceremony: a.ceremony, Assertion: a.assertion, Origin: o})
}

// attempt reads ch's attempt.
func (e *env) attempt(ch *code.Challenge) *signin.Attempt {
	e.t.Helper()
	at, err := e.db.Attempt(context.Background(), ch.AttemptID)
	if err != nil {
		e.t.Fatal(err)
	}
	return at
}

func testOffer(t *testing.T, e *env, c kase) {
	ctx := context.Background()
	ways, err := e.svc.Ways(ctx, e.account())
	if err != nil || len(ways) != 0 {
		t.Fatalf("a new account's ways: %v, %v; want none", ways, err)
	}
	if c.setUp == nil {
		// The mailbox: asked of a new browser by the new-device check,
		// and then the only way that passes.
		ch, o := e.signIn(c)
		st, err := e.svc.PendingStep(ctx, ch.ID, o)
		if err != nil || !slices.Equal(st.Accepts, []method.Kind{c.kind}) {
			t.Fatalf("Accepts = %v, %v; want %s alone", st.Accepts, err, c.kind)
		}
		return
	}
	c.setUp(e)
	ways, err = e.svc.Ways(ctx, e.account())
	if err != nil || slices.Contains(ways, c.kind) != c.way {
		t.Fatalf("ways once set up: %v, %v; %s a way: %v", ways, err, c.kind, c.way)
	}
	if on, err := e.set.Ways(ctx, e.account()); err != nil || len(on) == 0 {
		t.Fatalf("two-step verification is off once %s is set up: %v", c.kind, err)
	}
	ch, o := e.signIn(c)
	st, err := e.svc.PendingStep(ctx, ch.ID, o)
	if err != nil || !signin.Accepted(st.Accepts, c.kind) {
		t.Fatalf("Accepts = %v, %v; want %s", st.Accepts, err, c.kind)
	}
}

func testRight(t *testing.T, e *env, c kase) {
	if c.setUp != nil {
		c.setUp(e)
	}
	ch, o := e.signIn(c)
	ab := e.set.About(c.kind)
	if ab.Channel != "" {
		n := e.told.last(t)
		want := e.a.Email
		if ab.Channel == request.SMS {
			want = e.account().Phone
		}
		if n.Channel != ab.Channel || n.To != want || n.ChallengeID != ch.ID || n.Purpose != request.SecondStep {
			t.Fatalf("code notice %+v: want one by %s to %s for %s", n, ab.Channel, want, ch.ID)
		}
	} else if slices.ContainsFunc(e.told.all(), func(n notice.Notice) bool { return n.Code != "" }) {
		t.Fatalf("%s sends nothing, yet a code went out", c.kind)
	}
	res, err := e.verify(c, ch, o, c.right(e, ch))
	if err != nil || res.Session == nil {
		t.Fatalf("Verify with the right answer = %+v, %v", res, err)
	}
	at := e.attempt(ch)
	if at.Outcome != signin.Succeeded || at.MethodUsed != c.kind || at.SessionID != res.Session.SessionID {
		t.Fatalf("attempt %+v: want passed by %s", at, c.kind)
	}
	if !slices.Contains(amrValues, ab.AMR) {
		t.Fatalf("%s reports amr %q, not an RFC 8176 value", c.kind, ab.AMR)
	}
	if ab.PhishingResistant != (c.kind == method.Passkey) {
		t.Fatalf("%s phishing-resistant: %v", c.kind, ab.PhishingResistant)
	}
	if ab.Factor == (c.kind == method.Email) {
		t.Fatalf("%s a second factor: %v", c.kind, ab.Factor)
	}
}

func testReplay(t *testing.T, e *env, c kase) {
	if c.setUp != nil {
		c.setUp(e)
	}
	ch, o := e.signIn(c)
	used := c.right(e, ch)
	if _, err := e.verify(c, ch, o, used); err != nil {
		t.Fatal(err)
	}
	// The same answer, for the next sign-in (another browser, moments
	// later): refused, and no session starts.
	next, o2 := e.signIn(c)
	res, err := e.verify(c, next, o2, used)
	if err == nil || res != nil {
		t.Fatalf("the replayed answer = %+v, %v; want refused", res, err)
	}
	if errors.Is(err, signin.ErrMethod) {
		t.Fatalf("replay refused as the wrong method, not as a used answer: %v", err)
	}
	if at := e.attempt(next); at.Outcome != signin.Pending {
		t.Fatalf("attempt %+v after a replay: want still pending", at)
	}
	// The right answer for this one still passes (an app's next code is
	// a step later).
	e.clk.Advance(totp.Period * time.Second)
	if _, err := e.verify(c, next, o2, c.right(e, next)); err != nil {
		t.Fatalf("the fresh answer after a replay: %v", err)
	}
}

func testLock(t *testing.T, e *env, c kase) {
	if c.setUp != nil {
		c.setUp(e)
	}
	ch, o := e.signIn(c)
	var err error
	for i := range maxFailures {
		_, err = e.verify(c, ch, o, c.wrong(e, ch))
		if i < maxFailures-1 && !errors.Is(err, code.ErrWrongCode) {
			t.Fatalf("wrong answer %d: %v, want code.ErrWrongCode", i+1, err)
		}
	}
	if !errors.Is(err, code.ErrLocked) {
		t.Fatalf("wrong answer %d: %v, want code.ErrLocked", maxFailures, err)
	}
	if at := e.attempt(ch); at.Outcome != signin.Failed {
		t.Fatalf("attempt %+v: want failed", at)
	}
	if !slices.ContainsFunc(e.told.all(), func(n notice.Notice) bool {
		return n.Purpose == request.SecondStepFailed && n.ChallengeID == ch.ID
	}) {
		t.Fatal("the holder was not told of the failed second step")
	}
	// Locked: even the right answer no longer passes, and no session
	// exists.
	if res, err := e.verify(c, ch, o, c.right(e, ch)); err == nil || res != nil {
		t.Fatalf("the right answer after the lock = %+v, %v", res, err)
	}
	// Every wrong answer counted against the account too (package limit).
	state, err := e.db.AccountGuesses(context.Background(), e.a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if n := state[e.set.About(c.kind).Secret]; n < maxFailures {
		t.Fatalf("account's count for %s = %d (state %v), want ≥ %d", e.set.About(c.kind).Secret, n, state, maxFailures)
	}
}

func testRollback(t *testing.T, e *env, c kase) {
	c.setUp(e)
	ch, o := e.signIn(c)
	a := c.right(e, ch)
	e.sessions.fail = true
	if _, err := e.verify(c, ch, o, a); !errors.Is(err, errGrant) {
		t.Fatalf("Verify with the session failing = %v", err)
	}
	e.sessions.fail = false
	if at := e.attempt(ch); at.Outcome != signin.Pending {
		t.Fatalf("attempt %+v after a rolled-back pass: want pending", at)
	}
	// Nothing was used up: the same answer passes now.
	if res, err := e.verify(c, ch, o, a); err != nil || res.Session == nil {
		t.Fatalf("the same answer after the rollback = %+v, %v", res, err)
	}
}

// addApp enrols and confirms an authenticator app, then lets its step
// pass so that the sign-in's code is another one.
func (e *env) addApp() {
	e.t.Helper()
	ctx := context.Background()
	app, key, err := e.apps.Begin(ctx, e.a.ID, e.a.Email)
	if err != nil {
		e.t.Fatal(err)
	}
	c, _ := totp.Code(key.Secret, totp.Step(e.clk.Now()))
	if err := e.apps.Confirm(ctx, e.a.ID, app.ID, "Phone", c); err != nil {
		e.t.Fatal(err)
	}
	e.appSecret = key.Secret
	e.clk.Advance(totp.Period * time.Second)
}

// appCode is the app's code now; the next one is a step later.
func (e *env) appCode(*code.Challenge) answer {
	c, err := totp.Code(e.appSecret, totp.Step(e.clk.Now()))
	if err != nil {
		e.t.Fatal(err)
	}
	return answer{code: c}
}

// otherAppCode is a six-digit code the app does not show now.
func (e *env) otherAppCode() string {
	right := e.appCode(nil).code
	for {
		if c := random.Digits(6); c != right {
			return c
		}
	}
}

func (e *env) addPhone() {
	e.t.Helper()
	if err := e.db.SetPhone(context.Background(), e.a.ID, "+819012345678", e.clk.Now()); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) addBackupCodes() {
	e.t.Helper()
	codes, err := e.backups.New(context.Background(), e.a.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	e.codes = codes
}

// backupCode is the next unused backup code.
func (e *env) backupCode(*code.Challenge) answer {
	c := e.codes[0]
	e.codes = e.codes[1:]
	return answer{code: c}
}

func (e *env) addPasskey() {
	e.t.Helper()
	ctx := context.Background()
	e.key = passkeytest.New(e.t, origin)
	id, options, err := e.keys.BeginRegistration(ctx, e.a.ID, e.a.Email, "Holder")
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.keys.FinishRegistration(ctx, e.a.ID, id, "Laptop", e.key.Create(options)); err != nil {
		e.t.Fatal(err)
	}
}

// passkeyAnswer begins the ceremony the second-step page would, and has
// the passkey answer it.
func (e *env) passkeyAnswer(*code.Challenge) answer {
	e.t.Helper()
	id, options, err := e.keys.BeginLogin(context.Background(), e.a.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return answer{ceremony: id, assertion: e.key.Get(options)}
}

// sentCode is the code last sent to the holder.
func (e *env) sentCode(*code.Challenge) answer { return answer{code: e.told.last(e.t).Code} }

// notTheCode is a six-digit code other than the last one sent.
func (e *env) notTheCode() string {
	right := e.told.last(e.t).Code
	for {
		if c := random.Digits(6); c != right {
			return c
		}
	}
}

// told records what the holder is told.
type told struct {
	mu sync.Mutex
	ns []notice.Notice
}

func (t *told) Send(_ context.Context, n notice.Notice) (*outbox.Message, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.ns = append(t.ns, n)
	return &outbox.Message{}, nil
}

func (t *told) all() []notice.Notice {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.ns)
}

// last is the newest notice that carried a code.
func (t *told) last(tb testing.TB) notice.Notice {
	tb.Helper()
	ns := t.all()
	for i := len(ns) - 1; i >= 0; i-- {
		if ns[i].Code != "" {
			return ns[i]
		}
	}
	tb.Fatal("no code was sent")
	return notice.Notice{}
}

// plainHasher's hash of pw is "plain$"+pw: the suite is about the second
// step, not argon2.
type plainHasher struct{}

func (plainHasher) Hash(_ context.Context, pw string) (string, error) { return "plain$" + pw, nil }
func (plainHasher) Verify(_ context.Context, pw, hash string) (bool, bool, error) {
	return hash == "plain$"+pw, false, nil
}

var errGrant = errors.New("methodtest: the session could not start")

// failingSessions is the session manager, whose Grant fails while fail
// is set: the sign-in's transaction then rolls back.
type failingSessions struct {
	*session.Manager
	fail bool
}

func (s *failingSessions) Grant(ctx context.Context, accountID string, o request.Origin, remember bool, previous string, amr ...string) (*grant.Grant, error) {
	if s.fail {
		return nil, errGrant
	}
	return s.Manager.Grant(ctx, accountID, o, remember, previous, amr...)
}
