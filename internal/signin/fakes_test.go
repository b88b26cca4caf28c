package signin_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"gatehouse/internal/account"
	"gatehouse/internal/backup"
	"gatehouse/internal/clock"
	"gatehouse/internal/code"
	"gatehouse/internal/commit"
	"gatehouse/internal/grant"
	"gatehouse/internal/limit"
	"gatehouse/internal/method"
	"gatehouse/internal/notice"
	"gatehouse/internal/outbox"
	"gatehouse/internal/passkey"
	"gatehouse/internal/random"
	"gatehouse/internal/request"
	"gatehouse/internal/signin"
	"gatehouse/internal/totp"
)

// This file holds the stand-ins of the flow tests (flow_test.go): one
// in-memory world with every store sign-in reads and writes, the real
// code service over an in-memory code store, and the real second-step
// methods (package method) over in-memory apps, backup codes and
// passkeys. Transactions are commit.Direct: what rolls back is the
// conformance suite's business (internal/method/methodtest), on both
// databases.

const (
	flowID       = "acct-flow"
	flowEmail    = "holder@example.com"
	flowPhone    = "+819012345678"
	flowDevice   = "device-flow"
	rightAppCode = "246810"
	backupCode   = "ABCD-EFGH-IJKL-MNOP"
	maxFailures  = 5
)

// flow is the world of one flow test.
type flow struct {
	t   *testing.T
	clk *clock.Fake
	log strings.Builder

	mu         sync.Mutex
	accounts   map[string]*account.Account // by id
	attempts   map[string]*signin.Attempt
	challenges map[string]*code.Challenge
	grants     []grantArgs
	used       map[string]time.Time // account+"|"+device: last use
	trusted    map[string]time.Time // account+"|"+device: until
	told       []notice.Notice
	reauths    []reauthArgs

	apps     map[string]bool // account: a confirmed app
	appSteps map[string]bool // codes already used (a replay is refused)
	backups  map[string]map[string]bool
	passkeys map[string][]*passkey.Credential

	guesses  map[limit.GuessKey]int
	delayed  bool // the limit store refuses every guess
	refusals int

	failNotices bool // the notice sender fails
	failUsedBy  bool // the device store fails

	codes *code.Service
	svc   *signin.Service
}

type grantArgs struct {
	accountID, previous string
	remember            bool
	origin              request.Origin
	grant               *grant.Grant
}

type reauthArgs struct {
	sessionID string
	at        time.Time
}

// newFlow builds a world and its service with the settings given; limits
// are off unless withLimits, passkeys on unless noPasskeys.
func newFlow(t *testing.T, set signin.Settings, opts ...func(*flowOpts)) *flow {
	t.Helper()
	var o flowOpts
	for _, fn := range opts {
		fn(&o)
	}
	f := &flow{
		t: t, clk: clock.NewFake(time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)),
		accounts: map[string]*account.Account{}, attempts: map[string]*signin.Attempt{},
		challenges: map[string]*code.Challenge{}, used: map[string]time.Time{}, trusted: map[string]time.Time{},
		apps: map[string]bool{}, appSteps: map[string]bool{}, backups: map[string]map[string]bool{},
		passkeys: map[string][]*passkey.Credential{}, guesses: map[limit.GuessKey]int{},
	}
	limits := limit.None()
	if o.limits {
		p := limit.Defaults()
		p.FreeFailures = 3
		limits = limit.New(limitStore{f}, nil, p, f.clk.Clock(), nil)
	}
	f.codes = &code.Service{Store: codeStore{f}, Blocks: code.NoBlocks{}, Key: []byte("k"), TTL: 10 * time.Minute, Cooldown: time.Minute,
		MaxFailures: maxFailures, MaxSends: 3, Clock: f.clk.Clock(), Limits: limit.None()}
	var ms []method.Method
	if !o.noPasskeys {
		ms = append(ms, method.PasskeyMethod{Keys: passkeys{f}})
	}
	ms = append(ms, method.AppMethod{Store: apps{f}, Codes: apps{f}})
	if !o.noSMS {
		ms = append(ms, method.SMSMethod{Codes: f.codes})
	}
	ms = append(ms, method.BackupMethod{Codes: backups{f}}, method.EmailMethod{Codes: f.codes})
	d := signin.Deps{
		Accounts: accounts{f}, Attempts: attempts{f}, Hasher: plainHasher{}, Sessions: sessions{f}, Tx: commit.Direct{},
		Log: slog.New(slog.NewTextHandler(&lockedWriter{f: f}, nil)), Clock: f.clk.Clock(), Devices: devices{f},
		Codes: f.codes, Notices: notices{f}, Methods: method.NewSet(ms...), Reauth: reauth{f}, Limits: limits,
	}
	if !o.noPasskeys {
		d.Passkeys = passkeys{f}
	}
	f.svc = signin.New(d, set)
	return f
}

type flowOpts struct{ limits, noPasskeys, noSMS bool }

func withLimits(o *flowOpts)   { o.limits = true }
func noPasskeys(o *flowOpts)   { o.noPasskeys = true }
func noSMS(o *flowOpts)        { o.noSMS = true }
func (f *flow) logged() string { f.mu.Lock(); defer f.mu.Unlock(); return f.log.String() }

type lockedWriter struct{ f *flow }

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.f.mu.Lock()
	defer w.f.mu.Unlock()
	return w.f.log.Write(p)
}

// holder adds the active account every flow test signs in to.
func (f *flow) holder() *account.Account {
	a := &account.Account{ID: flowID, Email: flowEmail, PasswordHash: "plain$" + holderPassword, Language: "en",
		Status: account.Active, Alerts: account.Alerts{Email: true}, CreatedAt: f.clk.Now(), ConfirmedAt: f.clk.Now()}
	f.accounts[a.ID] = a
	return a
}

func (f *flow) withApp() { f.apps[flowID] = true }
func (f *flow) withPhone() {
	a := f.accounts[flowID]
	a.Phone, a.PhoneConfirmedAt = flowPhone, f.clk.Now()
}
func (f *flow) withBackup() {
	f.backups[flowID] = map[string]bool{backupCode: true, "QRST-UVWX-YZ23-4567": true}
}
func (f *flow) withPasskey(flagged bool) {
	f.passkeys[flowID] = append(f.passkeys[flowID], &passkey.Credential{ID: random.ID(), AccountID: flowID, Name: "Key", Flagged: flagged})
}
func (f *flow) knownDevice() { f.used[flowID+"|"+flowDevice] = f.clk.Now().Add(-48 * time.Hour) }

// origin is the holder's browser, now.
func (f *flow) origin() request.Origin {
	return request.Origin{DeviceID: flowDevice, IP: "198.51.100.4", UserAgent: "Firefox", Time: f.clk.Now()}
}

// signIn types the holder's right password.
func (f *flow) signIn() (*signin.Result, error) {
	return f.svc.SignIn(context.Background(), signin.Request{Email: flowEmail, Password: holderPassword, Origin: f.origin()})
}

// secondStep signs in and returns the pending second step's request.
func (f *flow) secondStep() *code.Challenge {
	f.t.Helper()
	res, err := f.signIn()
	if err != nil || res.SecondStep == nil {
		f.t.Fatalf("SignIn = %+v, %v; want a second step", res, err)
	}
	return res.SecondStep
}

// verify answers the pending second step ch by m.
func (f *flow) verify(ch *code.Challenge, m signin.Method, answer string) (*signin.Result, error) {
	r := signin.VerifyRequest{ChallengeID: ch.ID, Method: m, Code: answer, Origin: f.origin()}
	if m == signin.Passkey {
		r.Ceremony, r.Assertion = "ceremony-"+random.ID(), []byte(answer)
	}
	return f.svc.Verify(context.Background(), r)
}

// attempt returns the one attempt recorded (the test fails otherwise).
func (f *flow) attempt() *signin.Attempt {
	f.t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.attempts) != 1 {
		f.t.Fatalf("%d attempts recorded, want 1", len(f.attempts))
	}
	for _, at := range f.attempts {
		c := *at
		return &c
	}
	return nil
}

// purposes lists what the holder was told, in order.
func (f *flow) purposes() []request.Purpose {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []request.Purpose
	for _, n := range f.told {
		out = append(out, n.Purpose)
	}
	return out
}

// lastCode is the code of the newest notice that carried one.
func (f *flow) lastCode() notice.Notice {
	f.t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := len(f.told) - 1; i >= 0; i-- {
		if f.told[i].Code != "" {
			return f.told[i]
		}
	}
	f.t.Fatal("no code was sent")
	return notice.Notice{}
}

type accounts struct{ f *flow }

func (s accounts) AccountByEmail(_ context.Context, email string) (*account.Account, error) {
	for _, a := range s.f.accounts {
		if strings.EqualFold(a.Email, email) {
			c := *a
			return &c, nil
		}
	}
	return nil, account.ErrNotFound
}

func (s accounts) AccountByID(_ context.Context, id string) (*account.Account, error) {
	if a, ok := s.f.accounts[id]; ok {
		c := *a
		return &c, nil
	}
	return nil, account.ErrNotFound
}

func (s accounts) SetPasswordHash(_ context.Context, id, hash string, _ time.Time, _ bool) error {
	s.f.accounts[id].PasswordHash = hash
	return nil
}

type attempts struct{ f *flow }

func (s attempts) RecordAttempt(_ context.Context, a *signin.Attempt) error {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	c := *a
	s.f.attempts[a.ID] = &c
	return nil
}

func (s attempts) Attempt(_ context.Context, id string) (*signin.Attempt, error) {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	a, ok := s.f.attempts[id]
	if !ok {
		return nil, signin.ErrNoAttempt
	}
	c := *a
	return &c, nil
}

func (s attempts) EndAttempt(_ context.Context, id string, o signin.Outcome, sessionID string, m signin.Method, at time.Time) (bool, error) {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	a, ok := s.f.attempts[id]
	if !ok || a.Outcome != signin.Pending {
		return false, nil
	}
	a.Outcome, a.SessionID, a.MethodUsed, a.EndedAt = o, sessionID, m, at
	return true, nil
}

func (attempts) AttemptsByAccount(context.Context, string, int) ([]*signin.Attempt, error) {
	panic("sign-in does not list attempts")
}

// AttemptsPage lists the account's attempts of an outcome since a time
// (EndPending's question), in no particular order.
func (s attempts) AttemptsPage(_ context.Context, accountID string, q signin.AttemptQuery) ([]*signin.Attempt, error) {
	if q.Outcome == "" || !q.Before.IsZero() || q.FailedOnly || q.Cause != "" || !q.Until.IsZero() {
		panic("sign-in lists only the attempts of one outcome")
	}
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	var out []*signin.Attempt
	for _, a := range s.f.attempts {
		if a.AccountID == accountID && a.Outcome == q.Outcome && !a.Origin.Time.Before(q.Since) && len(out) < q.Limit {
			c := *a
			out = append(out, &c)
		}
	}
	return out, nil
}

// plainHasher's hash of pw is "plain$"+pw.
type plainHasher struct{}

func (plainHasher) Hash(_ context.Context, pw string) (string, error) { return "plain$" + pw, nil }
func (plainHasher) Verify(_ context.Context, pw, hash string) (bool, bool, error) {
	return hash != "" && hash == "plain$"+pw, false, nil
}

type sessions struct{ f *flow }

func (s sessions) Grant(_ context.Context, accountID string, o request.Origin, remember bool, previous string, amr ...string) (*grant.Grant, error) {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	g := &grant.Grant{SessionID: "session-" + random.ID(), Token: random.ID(), Remember: remember}
	s.f.grants = append(s.f.grants, grantArgs{accountID: accountID, previous: previous, remember: remember, origin: o, grant: g})
	// Once a session started there, the account has used the device.
	s.f.used[accountID+"|"+o.DeviceID] = o.Time
	return g, nil
}

func (sessions) EndAll(context.Context, string) error { panic("sign-in ends no sessions") }
func (sessions) Forget(string)                        { panic("sign-in changes no account") }

type reauth struct{ f *flow }

func (r reauth) Reauthenticate(_ context.Context, sessionID string, at time.Time, amr ...string) error {
	r.f.mu.Lock()
	defer r.f.mu.Unlock()
	r.f.reauths = append(r.f.reauths, reauthArgs{sessionID, at})
	return nil
}

type devices struct{ f *flow }

var errDevices = errors.New("injected device store failure")

func (d devices) UsedBy(_ context.Context, accountID, deviceID string) (bool, error) {
	if d.f.failUsedBy {
		return false, errDevices
	}
	_, ok := d.f.used[accountID+"|"+deviceID]
	return ok && deviceID != "", nil
}

func (d devices) UsedAt(_ context.Context, accountID, deviceID string) (time.Time, error) {
	return d.f.used[accountID+"|"+deviceID], nil
}

func (d devices) TrustedUntil(_ context.Context, accountID, deviceID string) (time.Time, error) {
	return d.f.trusted[accountID+"|"+deviceID], nil
}

func (d devices) Trust(_ context.Context, accountID, deviceID string, until time.Time) error {
	d.f.trusted[accountID+"|"+deviceID] = until
	return nil
}

func (d devices) TrustingAccounts(_ context.Context, deviceID string, now time.Time) ([]string, error) {
	var out []string
	for k, until := range d.f.trusted {
		if acct, dev, _ := strings.Cut(k, "|"); dev == deviceID && now.Before(until) {
			out = append(out, acct)
		}
	}
	return out, nil
}

func (d devices) StopTrusting(_ context.Context, accountID, deviceID string) error {
	delete(d.f.trusted, accountID+"|"+deviceID)
	return nil
}

var errNotices = errors.New("injected outbox failure")

type notices struct{ f *flow }

func (n notices) Send(_ context.Context, x notice.Notice) (*outbox.Message, error) {
	n.f.mu.Lock()
	defer n.f.mu.Unlock()
	if n.f.failNotices {
		return nil, errNotices
	}
	n.f.told = append(n.f.told, x)
	return &outbox.Message{}, nil
}

// apps stands in for totp: the holder's app shows rightAppCode, whose
// step passes once.
type apps struct{ f *flow }

func (s apps) Apps(_ context.Context, accountID string) ([]*totp.App, error) {
	if !s.f.apps[accountID] {
		return nil, nil
	}
	return []*totp.App{{ID: "app-1", AccountID: accountID, Name: "Phone", ConfirmedAt: s.f.clk.Now()}}, nil
}

func (s apps) Verify(_ context.Context, accountID, c string) (*totp.App, error) {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	switch {
	case !s.f.apps[accountID] || c != rightAppCode:
		return nil, totp.ErrNoMatch
	case s.f.appSteps[accountID+c]:
		return nil, totp.ErrReplayed
	}
	s.f.appSteps[accountID+c] = true
	return &totp.App{ID: "app-1"}, nil
}

type backups struct{ f *flow }

func (s backups) Use(_ context.Context, accountID, typed string) error {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	if !s.f.backups[accountID][typed] {
		return backup.ErrNoMatch
	}
	delete(s.f.backups[accountID], typed)
	return nil
}

func (s backups) Left(_ context.Context, accountID string) (int, error) {
	return len(s.f.backups[accountID]), nil
}

// passkeys stands in for package passkey: the answer "good" passes,
// "cloned" flags the passkey as a copy, anything else is refused; a
// discoverable answer "good:<account>" signs that account in.
type passkeys struct{ f *flow }

func (p passkeys) List(_ context.Context, accountID string) ([]*passkey.Credential, error) {
	return p.f.passkeys[accountID], nil
}

func (p passkeys) FinishLogin(_ context.Context, accountID, _ string, response []byte) (*passkey.Credential, error) {
	return p.answer(accountID, string(response))
}

func (p passkeys) FinishDiscoverable(_ context.Context, _ string, response []byte) (string, *passkey.Credential, error) {
	acct, ok := strings.CutPrefix(string(response), "good:")
	if !ok {
		_, err := p.answer(flowID, string(response))
		return "", nil, err
	}
	c, err := p.answer(acct, "good")
	return acct, c, err
}

func (p passkeys) answer(accountID, response string) (*passkey.Credential, error) {
	ps := p.f.passkeys[accountID]
	switch {
	case len(ps) == 0:
		return nil, passkey.ErrNone
	case response == "cloned":
		ps[0].Flagged = true
		return nil, &passkey.FlaggedError{AccountID: accountID, PasskeyID: ps[0].ID, Name: ps[0].Name}
	case response != "good":
		return nil, passkey.ErrInvalid
	case ps[0].Flagged:
		return nil, passkey.ErrCloned
	}
	return ps[0], nil
}

// codeStore is code.Store in memory.
type codeStore struct{ f *flow }

func (s codeStore) CreateChallenge(_ context.Context, c *code.Challenge) error {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	x := *c
	s.f.challenges[c.ID] = &x
	return nil
}

func (s codeStore) Challenge(_ context.Context, id string) (*code.Challenge, error) {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	c, ok := s.f.challenges[id]
	if !ok {
		return nil, code.ErrNotFound
	}
	x := *c
	return &x, nil
}

func (s codeStore) TakeFailure(_ context.Context, id string, max int) (int, bool, error) {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	c := s.f.challenges[id]
	if c.Failures >= max {
		return c.Failures, false, nil
	}
	c.Failures++
	return c.Failures, true, nil
}

func (s codeStore) ReturnFailure(_ context.Context, id string) error {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	s.f.challenges[id].Failures--
	return nil
}

func (s codeStore) Stop(_ context.Context, id string, at time.Time) error {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	c := s.f.challenges[id]
	if c.ConsumedAt.IsZero() {
		c.ConsumedAt, c.StoppedAt, c.CodeHash = at, at, nil
	}
	return nil
}

func (s codeStore) Consume(_ context.Context, id string, at time.Time) (bool, error) {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	c := s.f.challenges[id]
	if !c.ConsumedAt.IsZero() {
		return false, nil
	}
	c.ConsumedAt = at
	return true, nil
}

func (s codeStore) Resend(_ context.Context, id string, hash []byte, sentAt, expiresAt time.Time) error {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	c := s.f.challenges[id]
	c.CodeHash, c.SentAt, c.ExpiresAt = hash, sentAt, expiresAt
	c.Sends++
	return nil
}

func (s codeStore) SendCode(_ context.Context, id string, ch request.Channel, destination string, hash []byte, sentAt, expiresAt time.Time) error {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	c := s.f.challenges[id]
	c.Channel, c.Destination, c.CodeHash, c.SentAt, c.ExpiresAt = ch, destination, hash, sentAt, expiresAt
	c.Sends++
	return nil
}

// limitStore is limit.Store in memory: guesses counted in a row per key
// (a right one clears them), refused all while delayed is set.
type limitStore struct{ f *flow }

func (s limitStore) TakeGuess(_ context.Context, k limit.GuessKey, _ string, _ limit.GuessRule, now time.Time) (limit.GuessCount, bool, error) {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	if s.f.delayed {
		return limit.GuessCount{Consecutive: s.f.guesses[k], DelayedUntil: now.Add(time.Minute)}, false, nil
	}
	s.f.guesses[k]++
	return limit.GuessCount{Consecutive: s.f.guesses[k]}, true, nil
}

func (s limitStore) Guesses(_ context.Context, k limit.GuessKey) (limit.GuessCount, error) {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	return limit.GuessCount{Consecutive: s.f.guesses[k]}, nil
}

func (s limitStore) ClearGuesses(_ context.Context, k limit.GuessKey) error {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	delete(s.f.guesses, k)
	return nil
}

func (limitStore) ForgetGuesses(context.Context, limit.Secret, string) error { return nil }
func (limitStore) WindowCounts(context.Context, string, time.Time) (map[string]int, error) {
	return map[string]int{}, nil
}
func (limitStore) AccountGuesses(context.Context, string) (map[limit.Secret]int, error) {
	return nil, nil
}
func (limitStore) Counts(context.Context, []string, time.Time) (map[string]int, error) {
	return map[string]int{}, nil
}
func (limitStore) Hit(context.Context, []string, time.Time) error { return nil }
func (limitStore) Seen(context.Context, string, string, time.Time) (bool, error) {
	return false, nil
}
func (limitStore) TakeSend(context.Context, string, time.Time, time.Duration, int, int) (bool, time.Time, error) {
	return true, time.Time{}, nil
}
func (s limitStore) RecordRefusal(context.Context, limit.Refusal) error {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	s.f.refusals++
	return nil
}
func (limitStore) Refusals(context.Context, time.Time, int) ([]limit.Refusal, error) { return nil, nil }
