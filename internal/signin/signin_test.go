package signin_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"gatehouse/internal/account"
	"gatehouse/internal/clock"
	"gatehouse/internal/commit"
	"gatehouse/internal/grant"
	"gatehouse/internal/limit"
	"gatehouse/internal/method"
	"gatehouse/internal/notice"
	"gatehouse/internal/outbox"
	"gatehouse/internal/request"
	"gatehouse/internal/signin"
)

// The fakes below stand in for the account store, the attempt store, the
// argon2 hasher, the session manager and the store's transactions. They
// share one world so a test can see, in order, every call sign-in made, and
// whether it ran inside a transaction. Nothing here hashes or touches a
// database: the whole file runs in milliseconds.

const (
	holderID       = "acct-holder"
	holderEmail    = "Holder@example.com" // as NormalizeEmail spells it
	holderPassword = "correct horse battery staple"
	sessionLife    = 12 * time.Hour
	rememberLife   = 30 * 24 * time.Hour
)

var (
	errInjected = errors.New("injected store failure")
	start       = time.Date(2026, 11, 28, 9, 30, 0, 0, time.UTC)
	tokyo       = time.FixedZone("JST", 9*60*60)
	changedAt   = time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
)

// fakeHash is the fake hasher's "hash" of pw: the stored hash a Verify of pw
// accepts.
func fakeHash(pw string) string { return "fake$" + pw }

type txKey struct{}

// txOf returns the number of the fake transaction ctx is inside, or 0.
func txOf(ctx context.Context) int {
	n, _ := ctx.Value(txKey{}).(int)
	return n
}

type verifyCall struct {
	pw, hash string
	tx       int
}

type setHashCall struct {
	id, hash string
	at       time.Time
	remember bool
	tx       int
}

type grantCall struct {
	accountID string
	origin    request.Origin
	remember  bool
	previous  string
	grant     *grant.Grant
	tx        int
}

type recorded struct {
	attempt signin.Attempt // a copy, as the store would have written it
	tx      int
}

// world is the shared state of the fakes.
type world struct {
	clock *clock.Fake

	mu       sync.Mutex
	accounts map[string]*account.Account // by exact (normalised) address
	rehash   bool                        // Verify of a right password asks for a rehash

	// Injected failures.
	lookupErr, verifyErr, hashErr, setHashErr, grantErr, recordErr error

	lookups    []string
	verifies   []verifyCall
	hashes     []int // the transaction each Hash ran in
	setHashes  []setHashCall
	grants     []grantCall
	attempts   []recorded
	txCalls    int
	txErrs     []error      // what each fn returned to InTx
	rolledBack map[int]bool // transactions whose fn failed
}

func newWorld() *world {
	return &world{clock: clock.NewFake(start), accounts: map[string]*account.Account{}, rolledBack: map[int]bool{}}
}

// addHolder stores the holder's account with the given status.
func (w *world) addHolder(st account.Status) *account.Account {
	a := &account.Account{
		ID: holderID, Email: holderEmail, PasswordHash: fakeHash(holderPassword), Language: "en", Status: st,
		CreatedAt: changedAt, ConfirmedAt: changedAt, PasswordChangedAt: changedAt,
	}
	w.accounts[a.Email] = a
	return a
}

// committed reports whether a write made in transaction tx is in the store.
func (w *world) committed(tx int) bool { return tx == 0 || !w.rolledBack[tx] }

// committedAttempts returns the attempts that stayed written.
func (w *world) committedAttempts() []signin.Attempt {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []signin.Attempt
	for _, r := range w.attempts {
		if w.committed(r.tx) {
			out = append(out, r.attempt)
		}
	}
	return out
}

// committedSessions counts the sessions that stayed started.
func (w *world) committedSessions() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, g := range w.grants {
		if w.committed(g.tx) {
			n++
		}
	}
	return n
}

// committedHashes counts the rehashes that stayed written.
func (w *world) committedHashes() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, s := range w.setHashes {
		if w.committed(s.tx) {
			n++
		}
	}
	return n
}

// fakeAccounts implements signin.Accounts.
type fakeAccounts struct{ w *world }

func (f fakeAccounts) AccountByEmail(_ context.Context, email string) (*account.Account, error) {
	f.w.mu.Lock()
	defer f.w.mu.Unlock()
	f.w.lookups = append(f.w.lookups, email)
	if f.w.lookupErr != nil {
		return nil, f.w.lookupErr
	}
	a, ok := f.w.accounts[email]
	if !ok {
		return nil, account.ErrNotFound
	}
	return a, nil
}

func (f fakeAccounts) AccountByID(_ context.Context, id string) (*account.Account, error) {
	f.w.mu.Lock()
	defer f.w.mu.Unlock()
	for _, a := range f.w.accounts {
		if a.ID == id {
			return a, nil
		}
	}
	return nil, account.ErrNotFound
}

func (f fakeAccounts) SetPasswordHash(ctx context.Context, id, hash string, at time.Time, remember bool) error {
	f.w.mu.Lock()
	defer f.w.mu.Unlock()
	if f.w.setHashErr != nil {
		return f.w.setHashErr
	}
	f.w.setHashes = append(f.w.setHashes, setHashCall{id: id, hash: hash, at: at, remember: remember, tx: txOf(ctx)})
	return nil
}

// fakeAttempts implements signin.Store.
type fakeAttempts struct{ w *world }

func (f fakeAttempts) RecordAttempt(ctx context.Context, a *signin.Attempt) error {
	f.w.mu.Lock()
	defer f.w.mu.Unlock()
	if f.w.recordErr != nil {
		return f.w.recordErr
	}
	f.w.attempts = append(f.w.attempts, recorded{attempt: *a, tx: txOf(ctx)})
	return nil
}

// The second step (Attempt, EndAttempt) is tested through the web
// harness on both databases; these unit tests run with NewDeviceCheck off.
func (f fakeAttempts) Attempt(context.Context, string) (*signin.Attempt, error) {
	panic("these tests ask for no second step")
}

func (f fakeAttempts) EndAttempt(context.Context, string, signin.Outcome, string, signin.Method, time.Time) (bool, error) {
	panic("these tests ask for no second step")
}

func (f fakeAttempts) AttemptsByAccount(context.Context, string, int) ([]*signin.Attempt, error) {
	panic("sign-in does not read attempts")
}

func (f fakeAttempts) AttemptsPage(context.Context, string, signin.AttemptQuery) ([]*signin.Attempt, error) {
	panic("sign-in does not read attempts")
}

// fakeHasher implements account.Hasher without argon2: a stored hash
// matches exactly the password it was made from, and "" matches nothing
// (as the real hasher verifies "" against a dummy hash, and says no).
type fakeHasher struct{ w *world }

func (f fakeHasher) Hash(ctx context.Context, pw string) (string, error) {
	f.w.mu.Lock()
	defer f.w.mu.Unlock()
	f.w.hashes = append(f.w.hashes, txOf(ctx))
	if f.w.hashErr != nil {
		return "", f.w.hashErr
	}
	return "fake2$" + pw, nil
}

func (f fakeHasher) Verify(ctx context.Context, pw, hash string) (ok, rehash bool, err error) {
	f.w.mu.Lock()
	defer f.w.mu.Unlock()
	f.w.verifies = append(f.w.verifies, verifyCall{pw: pw, hash: hash, tx: txOf(ctx)})
	if f.w.verifyErr != nil {
		return false, false, f.w.verifyErr
	}
	ok = hash != "" && hash == fakeHash(pw)
	return ok, ok && f.w.rehash, nil
}

// fakeSessions implements account.Sessions; a session's expiry comes from
// the fake clock.
type fakeSessions struct{ w *world }

func (f fakeSessions) Grant(ctx context.Context, accountID string, o request.Origin, remember bool, previous string, amr ...string) (*grant.Grant, error) {
	f.w.mu.Lock()
	defer f.w.mu.Unlock()
	if f.w.grantErr != nil {
		return nil, f.w.grantErr
	}
	life := sessionLife
	if remember {
		life = rememberLife
	}
	n := len(f.w.grants) + 1
	g := &grant.Grant{
		SessionID: "session-" + string(rune('0'+n)), Token: "token-" + string(rune('0'+n)),
		Remember: remember, ExpiresAt: f.w.clock.Now().Add(life),
	}
	f.w.grants = append(f.w.grants, grantCall{accountID: accountID, origin: o, remember: remember, previous: previous, grant: g, tx: txOf(ctx)})
	return g, nil
}

func (f fakeSessions) EndAll(context.Context, string) error { panic("sign-in does not end sessions") }
func (f fakeSessions) Forget(string)                        { panic("sign-in does not change accounts") }

// fakeTx implements commit.Transactor: fn runs with a context marked with
// the transaction's number, and a failure of fn rolls back (hides) every
// write made inside it and is returned as is.
type fakeTx struct{ w *world }

func (f fakeTx) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	f.w.mu.Lock()
	f.w.txCalls++
	n := f.w.txCalls
	f.w.mu.Unlock()
	err := fn(context.WithValue(ctx, txKey{}, n))
	f.w.mu.Lock()
	defer f.w.mu.Unlock()
	f.w.txErrs = append(f.w.txErrs, err)
	if err != nil {
		f.w.rolledBack[n] = true
	}
	return err
}

// service returns a sign-in service wired to w's fakes, logging JSON into
// the returned buffer.
func (w *world) service() (*signin.Service, *bytes.Buffer) {
	return w.serviceWith(nil)
}

// serviceWith is service with the dependencies changed by edit first.
func (w *world) serviceWith(edit func(*signin.Deps)) (*signin.Service, *bytes.Buffer) {
	var buf bytes.Buffer
	d := signin.Deps{
		Accounts: fakeAccounts{w}, Attempts: fakeAttempts{w}, Hasher: fakeHasher{w}, Sessions: fakeSessions{w},
		Tx: fakeTx{w}, Log: slog.New(slog.NewJSONHandler(&buf, nil)), Limits: limit.None(),
		Devices: noDevices{}, Codes: noCodes{}, Notices: noNotices{}, Reauth: noReauth{},
		Methods: method.NewSet(method.BackupMethod{}, method.EmailMethod{}),
	}
	if edit != nil {
		edit(&d)
	}
	return signin.New(d, signin.Settings{}), &buf
}

// origin is the browser a test signs in from: its time is the fake clock's
// now, in a zone other than UTC, so the test can see it stored in UTC.
func origin(c *clock.Fake) request.Origin {
	return request.Origin{
		DeviceID: "device-1", IP: "203.0.113.7", UserAgent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0",
		Browser: "Firefox 140", OS: "Linux", Time: c.Now().In(tokyo),
	}
}

// utc is o as sign-in must store it.
func utc(o request.Origin) request.Origin {
	o.Time = o.Time.UTC()
	return o
}

// sameOrigin compares origins field by field, times by instant and zone.
func sameOrigin(got, want request.Origin) bool {
	return got.DeviceID == want.DeviceID && got.IP == want.IP && got.UserAgent == want.UserAgent &&
		got.Browser == want.Browser && got.OS == want.OS && got.Time.Equal(want.Time) &&
		got.Time.Location() == want.Time.Location()
}

// logEvent is one line of the JSON log.
type logEvent map[string]any

func events(t *testing.T, buf *bytes.Buffer) []logEvent {
	t.Helper()
	var out []logEvent
	sc := bufio.NewScanner(bytes.NewReader(buf.Bytes()))
	for sc.Scan() {
		var e logEvent
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("log line %q is not JSON: %v", sc.Text(), err)
		}
		out = append(out, e)
	}
	return out
}

// attemptEvents returns the "sign-in attempt" events in buf.
func attemptEvents(t *testing.T, buf *bytes.Buffer) []logEvent {
	t.Helper()
	var out []logEvent
	for _, e := range events(t, buf) {
		if e["msg"] == "sign-in attempt" {
			out = append(out, e)
		}
	}
	return out
}

// TestSignIn_EveryOutcome is the outcome table: what SignIn answers, what
// it records and whether it starts a session, for each kind of account and
// password.
func TestSignIn_EveryOutcome(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		status      account.Status // "" for no account
		password    string
		wantErr     error // nil for a sign-in
		wantOutcome signin.Outcome
		wantAccount string // recorded account id
		wantVerify  string // the stored hash the one Verify ran against
	}{
		{"unknown address", "", holderPassword, signin.ErrInvalid, signin.UnknownAccount, "", ""},
		{"wrong password", account.Active, "Tr0ub4dor&3", signin.ErrInvalid, signin.WrongPassword, holderID, fakeHash(holderPassword)},
		{"wrong password on a disabled account", account.Disabled, "Tr0ub4dor&3", signin.ErrInvalid, signin.WrongPassword, holderID, fakeHash(holderPassword)},
		{"disabled, right password", account.Disabled, holderPassword, signin.ErrDisabled, signin.Denied, holderID, fakeHash(holderPassword)},
		{"unconfirmed (legacy), right password", account.Unconfirmed, holderPassword, signin.ErrInvalid, signin.Denied, holderID, fakeHash(holderPassword)},
		{"a status this version does not know, right password", account.Status("locked"), holderPassword, signin.ErrInvalid, signin.Denied, holderID, fakeHash(holderPassword)},
		{"active, right password", account.Active, holderPassword, nil, signin.Succeeded, holderID, fakeHash(holderPassword)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld()
			var a *account.Account
			if tc.status != "" {
				a = w.addHolder(tc.status)
			}
			s, _ := w.service()
			o := origin(w.clock)
			res, err := s.SignIn(context.Background(), signin.Request{Email: holderEmail, Password: tc.password, Origin: o})

			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) || res != nil {
					t.Fatalf("SignIn = %v, %v; want nil, %v", res, err, tc.wantErr)
				}
			} else if err != nil || res == nil || res.Account != a || res.Session == nil {
				t.Fatalf("SignIn = %+v, %v; want the account and a session", res, err)
			}
			if len(w.verifies) != 1 || w.verifies[0].hash != tc.wantVerify || w.verifies[0].pw != tc.password {
				t.Errorf("Verify calls = %+v; want exactly one, of the typed password against %q", w.verifies, tc.wantVerify)
			}
			got := w.committedAttempts()
			if len(got) != 1 {
				t.Fatalf("recorded %d attempts, want 1: %+v", len(got), got)
			}
			at := got[0]
			if at.Outcome != tc.wantOutcome || at.AccountID != tc.wantAccount || at.Kind != signin.SignInKind ||
				at.Identifier != holderEmail || at.ID == "" || !sameOrigin(at.Origin, utc(o)) {
				t.Errorf("attempt = %+v; want outcome %s, account %q, kind signin, identifier %q, origin %+v",
					at, tc.wantOutcome, tc.wantAccount, holderEmail, utc(o))
			}
			wantSessions := 0
			if tc.wantErr == nil {
				wantSessions = 1
			}
			if n := w.committedSessions(); n != wantSessions {
				t.Errorf("sessions started = %d, want %d", n, wantSessions)
			}
			if wantSessions == 0 && at.SessionID != "" {
				t.Errorf("failed attempt names session %q", at.SessionID)
			}
			if len(w.hashes) != 0 || len(w.setHashes) != 0 {
				t.Errorf("hashed %d times and stored %d hashes without a rehash request", len(w.hashes), len(w.setHashes))
			}
		})
	}
}

// TestSignIn_UnknownAddressCostsOneVerification_V6_3_8: an address without
// an account costs exactly the one password verification a known address
// costs (against the empty stored hash, which the real hasher replaces by a
// dummy), and answers with the very same error, so neither the answer nor
// its timing tells whether the address has an account (ASVS v5.0.0-6.3.8).
func TestSignIn_UnknownAddressCostsOneVerification_V6_3_8(t *testing.T) {
	t.Parallel()
	answers := map[string]error{}
	for _, tc := range []struct {
		name, email, wantHash string
		wantAccount           string
	}{
		{"unknown address", "nobody@example.org", "", ""},
		{"unparsable address", "not an address", "", ""},
		{"known address, wrong password", holderEmail, fakeHash(holderPassword), holderID},
	} {
		w := newWorld()
		w.addHolder(account.Active)
		s, _ := w.service()
		res, err := s.SignIn(context.Background(), signin.Request{Email: tc.email, Password: "guess-123456", Origin: origin(w.clock)})
		if res != nil || !errors.Is(err, signin.ErrInvalid) {
			t.Errorf("%s: SignIn = %v, %v; want ErrInvalid", tc.name, res, err)
		}
		answers[tc.name] = err
		if len(w.verifies) != 1 || w.verifies[0].hash != tc.wantHash || w.verifies[0].pw != "guess-123456" {
			t.Errorf("%s: Verify calls = %+v; want exactly one, against %q", tc.name, w.verifies, tc.wantHash)
		}
		if len(w.hashes) != 0 {
			t.Errorf("%s: %d extra Hash calls: the paths would cost different time", tc.name, len(w.hashes))
		}
		if got := w.committedAttempts(); len(got) != 1 || got[0].AccountID != tc.wantAccount {
			t.Errorf("%s: attempts = %+v; want one with account %q", tc.name, got, tc.wantAccount)
		}
		if tc.wantAccount == "" {
			if got := w.committedAttempts(); len(got) == 1 && got[0].Outcome != signin.UnknownAccount {
				t.Errorf("%s: outcome %s, want %s", tc.name, got[0].Outcome, signin.UnknownAccount)
			}
		}
	}
	if answers["unknown address"] != answers["known address, wrong password"] ||
		answers["unparsable address"] != answers["known address, wrong password"] {
		t.Errorf("answers differ between unknown and known addresses: %v", answers)
	}
}

// TestSignIn_RightPasswordStartsSessionAndRecordsOrigin_V7_2_4: a sign-in
// hands back the account and the session Sessions granted, ends the token
// the browser held (ASVS v5.0.0-7.2.4: every authentication a new token),
// and records the attempt with the session and the origin as given — its
// time in UTC, not the time the attempt was processed. The writes run in
// one transaction.
func TestSignIn_RightPasswordStartsSessionAndRecordsOrigin_V7_2_4(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		remember bool
		previous string
		life     time.Duration
	}{
		{"fresh browser", false, "", sessionLife},
		{"browser with an old session, remembered", true, "old-token", rememberLife},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld()
			a := w.addHolder(account.Active)
			s, _ := w.service()
			o := origin(w.clock)
			w.clock.Advance(90 * time.Second) // the request is handled a little after it arrived
			res, err := s.SignIn(context.Background(), signin.Request{
				Email: holderEmail, Password: holderPassword, Remember: tc.remember, Previous: tc.previous, Origin: o,
			})
			if err != nil || res == nil {
				t.Fatalf("SignIn = %v, %v", res, err)
			}
			if len(w.grants) != 1 {
				t.Fatalf("Grant called %d times, want 1", len(w.grants))
			}
			g := w.grants[0]
			if res.Account != a || res.Session != g.grant {
				t.Errorf("result = %+v; want the account and the granted session %+v", res, g.grant)
			}
			if g.accountID != holderID || g.remember != tc.remember || g.previous != tc.previous || !sameOrigin(g.origin, utc(o)) {
				t.Errorf("Grant(%q, %+v, %v, %q); want (%q, %+v, %v, %q)",
					g.accountID, g.origin, g.remember, g.previous, holderID, utc(o), tc.remember, tc.previous)
			}
			if want := start.Add(90 * time.Second).Add(tc.life); !res.Session.ExpiresAt.Equal(want) || res.Session.Remember != tc.remember {
				t.Errorf("session expires %v (remember %v); want %v", res.Session.ExpiresAt, res.Session.Remember, want)
			}
			got := w.committedAttempts()
			if len(got) != 1 {
				t.Fatalf("recorded %d attempts, want 1", len(got))
			}
			at := got[0]
			if at.Outcome != signin.Succeeded || at.SessionID != g.grant.SessionID || at.AccountID != holderID ||
				!sameOrigin(at.Origin, utc(o)) || !at.Origin.Time.Equal(start) {
				t.Errorf("attempt = %+v; want succeeded, session %q, origin %+v at %v", at, g.grant.SessionID, utc(o), start)
			}
			if w.txCalls != 1 || g.tx != 1 || w.attempts[0].tx != 1 {
				t.Errorf("Tx calls %d; Grant in tx %d, RecordAttempt in tx %d; want both inside the one transaction",
					w.txCalls, g.tx, w.attempts[0].tx)
			}
			if len(w.txErrs) != 1 || w.txErrs[0] != nil {
				t.Errorf("transaction results = %v, want one success", w.txErrs)
			}
		})
	}
}

// TestSignIn_DirectTransactorWritesDirectly: a store without
// transactions runs the sign-in's writes one by one through
// commit.Direct, and says so by name.
func TestSignIn_DirectTransactorWritesDirectly(t *testing.T) {
	t.Parallel()
	w := newWorld()
	w.addHolder(account.Active)
	// A store without transactions says so by name: the Transactor is
	// required (a nil one would make a production flow non-atomic).
	s, _ := w.serviceWith(func(d *signin.Deps) { d.Tx, d.Log = commit.Direct{}, slog.New(slog.DiscardHandler) })
	res, err := s.SignIn(context.Background(), signin.Request{Email: holderEmail, Password: holderPassword, Origin: origin(w.clock)})
	if err != nil || res == nil || res.Session == nil {
		t.Fatalf("SignIn = %v, %v", res, err)
	}
	if got := w.committedAttempts(); len(got) != 1 || got[0].SessionID != res.Session.SessionID || w.txCalls != 0 {
		t.Errorf("attempts = %+v, tx calls %d; want one, naming the session, with no transaction", got, w.txCalls)
	}
}

// TestSignIn_RehashKeepsChangedAtAndIsNotRemembered: when Verify asks for a
// rehash (the cost changed), the new hash is stored in the sign-in's
// transaction with the old PasswordChangedAt and without adding the old
// hash to the history (it is the same password); the hashing itself runs
// before the transaction, and a failing Hash does not fail the sign-in.
func TestSignIn_RehashKeepsChangedAtAndIsNotRemembered(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		rehash     bool
		hashErr    error
		wantHashes int // Hash calls
		wantStored bool
	}{
		{"no rehash requested", false, nil, 0, false},
		{"rehash requested", true, nil, 1, true},
		{"rehash requested, Hash fails", true, errInjected, 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld()
			w.addHolder(account.Active)
			w.rehash, w.hashErr = tc.rehash, tc.hashErr
			s, _ := w.service()
			w.clock.Advance(time.Hour) // a rehash is not a password change: its time must not be "now"
			res, err := s.SignIn(context.Background(), signin.Request{Email: holderEmail, Password: holderPassword, Origin: origin(w.clock)})
			if err != nil || res == nil {
				t.Fatalf("SignIn = %v, %v; want a sign-in whatever the rehash did", res, err)
			}
			if len(w.hashes) != tc.wantHashes {
				t.Errorf("Hash calls = %d, want %d", len(w.hashes), tc.wantHashes)
			}
			for _, tx := range w.hashes {
				if tx != 0 {
					t.Errorf("Hash ran inside transaction %d; hashing is slow and must run before it", tx)
				}
			}
			if !tc.wantStored {
				if len(w.setHashes) != 0 {
					t.Errorf("stored hashes %+v, want none", w.setHashes)
				}
				return
			}
			want := setHashCall{id: holderID, hash: "fake2$" + holderPassword, at: changedAt, remember: false, tx: 1}
			if len(w.setHashes) != 1 || w.setHashes[0].id != want.id || w.setHashes[0].hash != want.hash ||
				!w.setHashes[0].at.Equal(want.at) || w.setHashes[0].remember || w.setHashes[0].tx != want.tx {
				t.Errorf("SetPasswordHash calls = %+v; want exactly %+v", w.setHashes, want)
			}
			if w.txCalls != 1 || len(w.grants) != 1 || w.grants[0].tx != 1 {
				t.Errorf("tx calls %d, grants %+v; want the rehash and the session in one transaction", w.txCalls, w.grants)
			}
		})
	}
}

// TestSignIn_IdentifierNormalisedForLookupAndRecord: the typed address is
// looked up and recorded in its normal spelling; what does not parse as an
// address is looked up and recorded as typed.
func TestSignIn_IdentifierNormalisedForLookupAndRecord(t *testing.T) {
	t.Parallel()
	norm := func(s string) string {
		n, err := account.NormalizeEmail(s)
		if err != nil {
			t.Fatalf("NormalizeEmail(%q): %v", s, err)
		}
		return n
	}
	for _, tc := range []struct {
		name, typed, want string
		wantOutcome       signin.Outcome
	}{
		{"holder's address, spaced and upper-cased", "  Holder@Example.COM ", norm("  Holder@Example.COM "), signin.Succeeded},
		{"unknown address, upper-cased domain", "Nobody@EXAMPLE.org", norm("Nobody@EXAMPLE.org"), signin.UnknownAccount},
		{"not an address", "  holder at example ", "  holder at example ", signin.UnknownAccount},
		{"empty", "", "", signin.UnknownAccount},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.wantOutcome == signin.Succeeded && (tc.want != holderEmail || tc.typed == tc.want) {
				t.Fatalf("test data: %q normalises to %q, want a different spelling equal to %q", tc.typed, tc.want, holderEmail)
			}
			w := newWorld()
			w.addHolder(account.Active)
			s, _ := w.service()
			_, err := s.SignIn(context.Background(), signin.Request{Email: tc.typed, Password: holderPassword, Origin: origin(w.clock)})
			if (err == nil) != (tc.wantOutcome == signin.Succeeded) {
				t.Fatalf("SignIn: %v; want outcome %s", err, tc.wantOutcome)
			}
			if len(w.lookups) != 1 || w.lookups[0] != tc.want {
				t.Errorf("looked up %q, want [%q]", w.lookups, tc.want)
			}
			if got := w.committedAttempts(); len(got) != 1 || got[0].Identifier != tc.want || got[0].Outcome != tc.wantOutcome {
				t.Errorf("attempts = %+v; want identifier %q, outcome %s", got, tc.want, tc.wantOutcome)
			}
		})
	}
}

// TestSignIn_StoreErrorsAreReturnedWrappedAndRolledBack: a failure of the
// lookup, the verification or any write is returned (wrapped, still
// matchable with errors.Is). A failure inside the successful path's
// transaction rolls back every write of it — no session is left behind, no
// rehash, no attempt — and nothing claims a success in the log.
func TestSignIn_StoreErrorsAreReturnedWrappedAndRolledBack(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		password string
		rehash   bool
		inject   func(w *world)
		wantTx   int // InTx calls
	}{
		{"account lookup", holderPassword, false, func(w *world) { w.lookupErr = errInjected }, 0},
		{"password verification", holderPassword, false, func(w *world) { w.verifyErr = errInjected }, 0},
		{"recording a failed attempt", "wrong", false, func(w *world) { w.recordErr = errInjected }, 0},
		{"storing the rehash", holderPassword, true, func(w *world) { w.setHashErr = errInjected }, 1},
		{"starting the session", holderPassword, true, func(w *world) { w.grantErr = errInjected }, 1},
		{"recording the successful attempt", holderPassword, true, func(w *world) { w.recordErr = errInjected }, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld()
			w.addHolder(account.Active)
			w.rehash = tc.rehash
			tc.inject(w)
			s, buf := w.service()
			res, err := s.SignIn(context.Background(), signin.Request{Email: holderEmail, Password: tc.password, Origin: origin(w.clock)})
			if res != nil || !errors.Is(err, errInjected) {
				t.Fatalf("SignIn = %v, %v; want the injected error", res, err)
			}
			if err == errInjected || !strings.HasPrefix(err.Error(), "sign in: ") {
				t.Errorf("error %q does not say what sign-in was doing", err)
			}
			if errors.Is(err, signin.ErrInvalid) || errors.Is(err, signin.ErrDisabled) {
				t.Errorf("a store failure %q reads as a wrong password or a disabled account", err)
			}
			if w.txCalls != tc.wantTx {
				t.Errorf("InTx calls = %d, want %d", w.txCalls, tc.wantTx)
			}
			if tc.wantTx > 0 && (len(w.txErrs) != 1 || !errors.Is(w.txErrs[0], errInjected)) {
				t.Errorf("transaction saw %v, want the injected failure", w.txErrs)
			}
			if n, a, h := w.committedSessions(), len(w.committedAttempts()), w.committedHashes(); n != 0 || a != 0 || h != 0 {
				t.Errorf("left %d sessions, %d attempts, %d rehashes behind; want none", n, a, h)
			}
			events := attemptEvents(t, buf)
			for _, e := range events {
				if e["outcome"] == string(signin.Succeeded) {
					t.Errorf("logged a success that did not happen: %v", e)
				}
			}
			// A wrong guess whose record could not be written is still in
			// the log: it must not vanish from both.
			if tc.name == "recording a failed attempt" && (len(events) != 1 || events[0]["outcome"] != string(signin.WrongPassword)) {
				t.Errorf("the unrecorded wrong guess was not logged: %v", events)
			}
		})
	}
}

// TestRecordPasswordCheck_KindPasswordChange_V6_3_1: a check of the current
// password on the change-password page is recorded beside sign-ins, as a
// password_change attempt that succeeded or guessed wrong.
func TestRecordPasswordCheck_KindPasswordChange_V6_3_1(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		ok          bool
		recordErr   error
		wantOutcome signin.Outcome
	}{
		{"right password", true, nil, signin.Succeeded},
		{"wrong password", false, nil, signin.WrongPassword},
		{"store fails", false, errInjected, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld()
			w.recordErr = tc.recordErr
			s, buf := w.service()
			o := origin(w.clock)
			err := s.RecordPasswordCheck(context.Background(), holderID, holderEmail, tc.ok, o)
			if tc.recordErr != nil {
				if !errors.Is(err, tc.recordErr) || err == tc.recordErr {
					t.Errorf("RecordPasswordCheck = %v; want the store error, wrapped", err)
				}
				if n := len(attemptEvents(t, buf)); n != 0 {
					t.Errorf("logged %d events for an attempt that was not recorded", n)
				}
				return
			}
			if err != nil {
				t.Fatalf("RecordPasswordCheck: %v", err)
			}
			got := w.committedAttempts()
			if len(got) != 1 {
				t.Fatalf("recorded %d attempts, want 1", len(got))
			}
			at := got[0]
			if at.Kind != signin.PasswordChange || at.Outcome != tc.wantOutcome || at.AccountID != holderID ||
				at.Identifier != holderEmail || at.SessionID != "" || at.ID == "" || !sameOrigin(at.Origin, utc(o)) {
				t.Errorf("attempt = %+v; want kind %s, outcome %s, account %q, origin %+v",
					at, signin.PasswordChange, tc.wantOutcome, holderID, utc(o))
			}
			if len(w.verifies) != 0 || len(w.grants) != 0 {
				t.Errorf("verified %d passwords and started %d sessions; a record does neither", len(w.verifies), len(w.grants))
			}
		})
	}
}

// TestLog_OneEventPerOutcomeWithoutIdentifierOrPassword: every outcome is
// one structured "sign-in attempt" event carrying the fields a log search
// filters on (outcome, account, device, ip), at warning level unless it
// succeeded, and never the typed identifier or the password.
func TestLog_OneEventPerOutcomeWithoutIdentifierOrPassword(t *testing.T) {
	t.Parallel()
	const typed = "  Holder@Example.COM "
	for _, tc := range []struct {
		name        string
		status      account.Status // "" for no account
		password    string
		check       *bool // a password check instead of a sign-in
		wantOutcome signin.Outcome
		wantKind    signin.Kind
		wantAccount string
		wantLevel   string
	}{
		{"unknown address", "", holderPassword, nil, signin.UnknownAccount, signin.SignInKind, "", "WARN"},
		{"wrong password", account.Active, "Tr0ub4dor&3", nil, signin.WrongPassword, signin.SignInKind, holderID, "WARN"},
		{"disabled", account.Disabled, holderPassword, nil, signin.Denied, signin.SignInKind, holderID, "WARN"},
		{"unconfirmed", account.Unconfirmed, holderPassword, nil, signin.Denied, signin.SignInKind, holderID, "WARN"},
		{"succeeded", account.Active, holderPassword, nil, signin.Succeeded, signin.SignInKind, holderID, "INFO"},
		{"password check, right", "", "", ptr(true), signin.Succeeded, signin.PasswordChange, holderID, "INFO"},
		{"password check, wrong", "", "", ptr(false), signin.WrongPassword, signin.PasswordChange, holderID, "WARN"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld()
			if tc.status != "" {
				w.addHolder(tc.status)
			}
			s, buf := w.service()
			o := origin(w.clock)
			if tc.check != nil {
				if err := s.RecordPasswordCheck(context.Background(), holderID, holderEmail, *tc.check, o); err != nil {
					t.Fatal(err)
				}
			} else {
				_, _ = s.SignIn(context.Background(), signin.Request{Email: typed, Password: tc.password, Origin: o})
			}
			all := events(t, buf)
			if len(all) != 1 || all[0]["msg"] != "sign-in attempt" {
				t.Fatalf("log = %v; want exactly one sign-in attempt event", all)
			}
			e := all[0]
			for k, want := range map[string]string{
				"outcome": string(tc.wantOutcome), "kind": string(tc.wantKind), "account": tc.wantAccount,
				"device": o.DeviceID, "ip": o.IP, "level": tc.wantLevel,
			} {
				if got, ok := e[k].(string); !ok || got != want {
					t.Errorf("event %s = %v, want %q", k, e[k], want)
				}
			}
			if id, _ := e["attempt"].(string); id == "" || id != w.committedAttempts()[0].ID {
				t.Errorf("event attempt = %v; want the recorded attempt's id", e["attempt"])
			}
			raw := strings.ToLower(buf.String())
			for _, secret := range []string{strings.TrimSpace(typed), holderEmail, "holder@", holderPassword, tc.password} {
				if secret != "" && strings.Contains(raw, strings.ToLower(secret)) {
					t.Errorf("log carries %q: %s", secret, buf.String())
				}
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// TestAccepts_WhichWaysPassWhichAttempt: the new-device check passes only
// with the emailed code; a two-step sign-in with the account's own ways in
// order (strongest first), then a backup code, then — only with the email
// fallback on — an emailed code. Nothing else (an app code for an account
// without an app, say) is accepted.
func TestAccepts_WhichWaysPassWhichAttempt(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		offered  signin.Method
		ways     []signin.Method
		fallback bool
		want     []signin.Method
	}{
		{signin.Email, nil, true, []signin.Method{signin.Email}},
		{signin.Email, []signin.Method{signin.App}, true, []signin.Method{signin.Email}},
		{signin.App, []signin.Method{signin.App}, false, []signin.Method{signin.App, signin.Backup}},
		{signin.Passkey, []signin.Method{signin.Passkey, signin.App, signin.SMS}, true,
			[]signin.Method{signin.Passkey, signin.App, signin.SMS, signin.Backup, signin.Email}},
		{signin.SMS, []signin.Method{signin.SMS}, true, []signin.Method{signin.SMS, signin.Backup, signin.Email}},
	} {
		w := newWorld()
		s, _ := w.service()
		s.EmailFallback = tc.fallback
		got := s.Accepts(&signin.Attempt{MethodOffered: tc.offered}, tc.ways)
		if len(got) != len(tc.want) {
			t.Errorf("%s %v fallback=%v: %v, want %v", tc.offered, tc.ways, tc.fallback, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%s %v fallback=%v: %v, want %v", tc.offered, tc.ways, tc.fallback, got, tc.want)
			}
		}
		for _, m := range []signin.Method{signin.Email, signin.App, signin.SMS, signin.Backup, signin.Passkey, signin.Trusted} {
			want := false
			for _, x := range tc.want {
				want = want || x == m
			}
			if signin.Accepted(got, m) != want {
				t.Errorf("%s %v: Accepted(%s) = %v", tc.offered, tc.ways, m, !want)
			}
		}
	}
}

// The stand-ins below are for tests of a sign-in that asks no second
// step: a device never seen, nothing sent, no step-up.
type noDevices struct{}

func (noDevices) UsedBy(context.Context, string, string) (bool, error)      { return true, nil }
func (noDevices) UsedAt(context.Context, string, string) (time.Time, error) { return time.Time{}, nil }
func (noDevices) TrustedUntil(context.Context, string, string) (time.Time, error) {
	return time.Time{}, nil
}
func (noDevices) Trust(context.Context, string, string, time.Time) error { panic("no trust here") }
func (noDevices) TrustingAccounts(context.Context, string, time.Time) ([]string, error) {
	return nil, nil
}
func (noDevices) StopTrusting(context.Context, string, string) error { return nil }

type noCodes struct{ signin.Codes }

type noNotices struct{}

func (noNotices) Send(context.Context, notice.Notice) (*outbox.Message, error) {
	return &outbox.Message{}, nil
}

type noReauth struct{}

func (noReauth) Reauthenticate(context.Context, string, time.Time, ...string) error { return nil }
