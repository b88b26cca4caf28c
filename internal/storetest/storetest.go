// Package storetest is the one store test suite: every store implementation
// (internal/sqlite, internal/postgres) runs it from its own tests, so both
// databases are held to exactly the same behaviour.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gatehouse/internal/account"
	"gatehouse/internal/apikey"
	"gatehouse/internal/backup"
	"gatehouse/internal/code"
	"gatehouse/internal/device"
	"gatehouse/internal/limit"
	"gatehouse/internal/outbox"
	"gatehouse/internal/passkey"
	"gatehouse/internal/random"
	"gatehouse/internal/request"
	"gatehouse/internal/session"
	"gatehouse/internal/signin"
	"gatehouse/internal/totp"
)

// Store is every capability's store, as one database implements them.
type Store interface {
	account.Store
	code.Store
	session.Store
	device.Store
	signin.Store
	outbox.Store
	outbox.BacklogStore
	totp.Store
	backup.Store
	passkey.Store
	limit.Store
	apikey.Store
	// InTx runs a flow in one transaction carried in the context.
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
}

// Run runs the suite; open returns a fresh, migrated, empty store.
func Run(t *testing.T, open func(t *testing.T) Store) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, Store)
	}{
		{"Accounts", testAccounts},
		{"AuthenticatorApps", testTOTPApps},
		{"BackupCodesUsedOnceAndReplacedWhole", testBackupCodes},
		{"TOTPStepUsedOnce", testTOTPStepOnce},
		{"FlowTransactionCommitsWholeOrNotAtAll", testInTx},
		{"Signups", testSignups},
		{"Preferences", testPreferences},
		{"PasswordHistory", testPasswordHistory},
		{"ChallengeSingleUseUnderConcurrency", testChallengeConcurrency},
		{"ChallengeFailuresAndResend", testChallengeFailures},
		{"SessionsAndDevices", testSessions},
		{"Attempts", testAttempts},
		{"MessagesClaimedOnceUnderConcurrency", testMessageClaims},
		{"MessageLeaseAndRetry", testMessageLease},
		{"TimesAreUTC", testTimesUTC},
		{"SealedCodeErasedAfterDelivery", testMessageSecret},
		{"OutboxBacklogCountsWhatWaits", testBacklog},
		{"Passkeys", testPasskeys},
		{"AddressAndPhoneChanges", testContact},
		{"PasskeyCeremonyTakenOnceUnderConcurrency", testPasskeyCeremonies},
		{"GuessesCountedUnderConcurrencyAndDelayed", testGuessCounters},
		{"GuessBudgetPerWindow", testGuessBudget},
		{"SendsPerDestinationInAnyTenMinutes", testSendWindows},
		{"WindowCountersAndSeenSubjects", testLimitWindows},
		{"DeviceTokenRotationReportsACopyOnce", testDeviceRotation},
		{"APIKeys", testAPIKeys},
		{"ConnectedAppKeptWithTheRequest", testConnectedApp},
		{"AccountSearchByAddressPrefixAPageAtATime", testAccountSearch},
		{"SessionByID", testSessionByID},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

var t0 = time.Date(2026, 11, 27, 9, 30, 15, 123456000, time.UTC)

func newAccount(email string) *account.Account {
	return &account.Account{ID: random.ID(), Email: email, PasswordHash: "$argon2id$x", Language: "ja",
		Status: account.Active, CreatedAt: t0, ConfirmedAt: t0, PasswordChangedAt: t0, Phone: "+819012345678"}
}

func testAccounts(t *testing.T, s Store) {
	ctx := context.Background()
	a := newAccount("Mixed.Case@example.com")
	if err := s.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateAccount(ctx, newAccount("mixed.case@EXAMPLE.com")); !errors.Is(err, account.ErrEmailTaken) {
		t.Fatalf("same address in another case: %v, want ErrEmailTaken", err)
	}
	got, err := s.AccountByEmail(ctx, "MIXED.CASE@example.com")
	if err != nil || got.ID != a.ID || got.Email != a.Email || got.Phone != a.Phone || got.Language != "ja" || got.Status != account.Active || !got.CreatedAt.Equal(t0) || !got.ConfirmedAt.Equal(t0) {
		t.Fatalf("by email: %+v %v", got, err)
	}
	if _, err := s.AccountByEmail(ctx, "nobody@example.com"); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("unknown: %v", err)
	}
	if err := s.SetStatus(ctx, a.ID, account.Disabled); err != nil {
		t.Fatal(err)
	}
	if err := s.SetStatus(ctx, "missing", account.Disabled); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("status of a missing account: %v", err)
	}
	s.CreateAccount(ctx, newAccount("second@example.com"))
	all, err := s.ListAccounts(ctx)
	if err != nil || len(all) != 2 {
		t.Fatalf("list: %d %v", len(all), err)
	}
}

// testSignups: pending sign-ups for one address coexist; completing one
// creates the account and ends all of them in one step.
func testSignups(t *testing.T, s Store) {
	ctx := context.Background()
	mine := &account.Signup{ID: random.ID(), Email: "Pending@example.com", Phone: "+819012345678", PasswordHash: "$argon2id$mine",
		Language: "ja", DeviceID: "dev-mine", CreatedAt: t0}
	theirs := &account.Signup{ID: random.ID(), Email: "pending@EXAMPLE.com", PasswordHash: "$argon2id$theirs", Language: "en", DeviceID: "dev-theirs", CreatedAt: t0}
	other := &account.Signup{ID: random.ID(), Email: "other@example.com", PasswordHash: "$argon2id$o", Language: "en", CreatedAt: t0}
	for _, su := range []*account.Signup{mine, theirs, other} {
		if err := s.CreateSignup(ctx, su); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Signup(ctx, mine.ID)
	if err != nil || got.Email != mine.Email || got.PasswordHash != mine.PasswordHash || got.DeviceID != "dev-mine" || got.Phone != mine.Phone || !got.CreatedAt.Equal(t0) {
		t.Fatalf("signup: %+v %v", got, err)
	}
	if _, err := s.AccountByEmail(ctx, "pending@example.com"); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("a pending sign-up must not be an account: %v", err)
	}
	a := newAccount("Pending@example.com")
	if err := s.CompleteSignup(ctx, mine.ID, a); err != nil {
		t.Fatal(err)
	}
	if got, err := s.AccountByEmail(ctx, "pending@example.com"); err != nil || got.ID != a.ID {
		t.Fatalf("account after completion: %+v %v", got, err)
	}
	for _, id := range []string{mine.ID, theirs.ID} {
		if _, err := s.Signup(ctx, id); !errors.Is(err, account.ErrNotFound) {
			t.Fatalf("sign-up %s for the confirmed address must be gone: %v", id, err)
		}
	}
	if err := s.CompleteSignup(ctx, theirs.ID, newAccount("pending@example.com")); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("completing an ended sign-up: %v, want ErrNotFound", err)
	}
	if _, err := s.Signup(ctx, other.ID); err != nil {
		t.Fatalf("another address's sign-up must stay: %v", err)
	}
	// An account made meanwhile (the operator's user create) wins.
	s.CreateAccount(ctx, newAccount("other@example.com"))
	if err := s.CompleteSignup(ctx, other.ID, newAccount("other@example.com")); !errors.Is(err, account.ErrEmailTaken) {
		t.Fatalf("completing for a taken address: %v, want ErrEmailTaken", err)
	}
	if _, err := s.Signup(ctx, other.ID); err != nil {
		t.Fatalf("a refused completion must change nothing: %v", err)
	}
}

func testPreferences(t *testing.T, s Store) {
	ctx := context.Background()
	a := newAccount("prefs@example.com")
	s.CreateAccount(ctx, a)
	if err := s.SetPreferences(ctx, a.ID, "en", "America/New_York"); err != nil {
		t.Fatal(err)
	}
	got, _ := s.AccountByID(ctx, a.ID)
	if got.Language != "en" || got.TimeZone != "America/New_York" {
		t.Fatalf("preferences: %q %q", got.Language, got.TimeZone)
	}
	if err := s.SetPreferences(ctx, "missing", "en", ""); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("missing account: %v", err)
	}
}

func testPasswordHistory(t *testing.T, s Store) {
	ctx := context.Background()
	a := newAccount("hist@example.com")
	a.PasswordHash = "h0"
	s.CreateAccount(ctx, a)
	for i := 1; i <= 6; i++ {
		if err := s.SetPasswordHash(ctx, a.ID, fmt.Sprintf("h%d", i), t0.Add(time.Duration(i)*time.Second), true); err != nil {
			t.Fatal(err)
		}
	}
	s.SetPasswordHash(ctx, a.ID, "h6-rehashed", t0.Add(6*time.Second), false)
	hist, err := s.PasswordHistory(ctx, a.ID, 4)
	if err != nil || fmt.Sprint(hist) != "[h5 h4 h3 h2]" {
		t.Fatalf("history %v %v", hist, err)
	}
	got, _ := s.AccountByID(ctx, a.ID)
	if got.PasswordHash != "h6-rehashed" || !got.PasswordChangedAt.Equal(t0.Add(6*time.Second)) {
		t.Fatalf("current: %s %v", got.PasswordHash, got.PasswordChangedAt)
	}
}

func newChallenge() *code.Challenge {
	return &code.Challenge{ID: random.ID(), Purpose: request.SecondStep, Cause: request.OldDevice, AttemptID: "att",
		AccountID: "acc", Channel: request.SMS, Destination: "+81312345678",
		Origin:   request.Origin{DeviceID: "dev", IP: "192.0.2.5", UserAgent: "UA/1", Time: t0},
		CodeHash: []byte{1, 2, 3}, CreatedAt: t0, SentAt: t0, ExpiresAt: t0.Add(10 * time.Minute)}
}

func testChallengeConcurrency(t *testing.T, s Store) {
	ctx := context.Background()
	c := newChallenge()
	if err := s.CreateChallenge(ctx, c); err != nil {
		t.Fatal(err)
	}
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			if ok, err := s.Consume(ctx, c.ID, t0); err == nil && ok {
				wins.Add(1)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d concurrent uses won, want exactly 1", wins.Load())
	}
	got, _ := s.Challenge(ctx, c.ID)
	if !got.ConsumedAt.Equal(t0) {
		t.Fatalf("consumed at %v", got.ConsumedAt)
	}
}

func testChallengeFailures(t *testing.T, s Store) {
	ctx := context.Background()
	c := newChallenge()
	decoy := newChallenge()
	decoy.CodeHash, decoy.AccountID = nil, ""
	s.CreateChallenge(ctx, c)
	s.CreateChallenge(ctx, decoy)
	// Twenty wrong answers at once against a limit of 10: exactly ten
	// are counted, whatever the database (the probe's D3: PostgreSQL
	// counted as many as arrived together).
	var wg sync.WaitGroup
	var counted atomic.Int32
	for range 20 {
		wg.Go(func() {
			if _, ok, err := s.TakeFailure(ctx, c.ID, 10); err == nil && ok {
				counted.Add(1)
			}
		})
	}
	wg.Wait()
	got, _ := s.Challenge(ctx, c.ID)
	if got.Failures != 10 || counted.Load() != 10 {
		t.Fatalf("failures %d, %d counted, after 20 concurrent answers with a limit of 10", got.Failures, counted.Load())
	}
	if err := s.ReturnFailure(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if n, ok, err := s.TakeFailure(ctx, c.ID, 10); err != nil || !ok || n != 10 {
		t.Fatalf("after a count given back: %d, %v, %v", n, ok, err)
	}
	// The request the code belongs to comes back whole: purpose, cause,
	// attempt, channel and origin.
	if got.Purpose != c.Purpose || got.Cause != c.Cause || got.AttemptID != c.AttemptID || got.Channel != c.Channel ||
		got.Destination != c.Destination || got.Origin != c.Origin {
		t.Fatalf("challenge lost its request: got %+v, want %+v", got, c)
	}
	if err := s.Resend(ctx, c.ID, []byte{9}, t0.Add(time.Minute), t0.Add(11*time.Minute)); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Challenge(ctx, c.ID)
	if !bytes.Equal(got.CodeHash, []byte{9}) || got.Failures != 10 || !got.ExpiresAt.Equal(t0.Add(11*time.Minute)) {
		t.Fatalf("after resend: %+v", got)
	}
	d, _ := s.Challenge(ctx, decoy.ID)
	if d.CodeHash != nil || d.AccountID != "" {
		t.Fatalf("decoy came back with a hash: %+v", d)
	}
	if _, err := s.Challenge(ctx, "missing"); !errors.Is(err, code.ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}
}

func testSessions(t *testing.T, s Store) {
	ctx := context.Background()
	a := newAccount("sess@example.com")
	a.Status = account.Active
	s.CreateAccount(ctx, a)
	dev := &device.Device{ID: random.ID(), TokenHash: device.HashToken("devtok"), FirstSeen: t0, LastSeen: t0, IP: "192.0.2.1", UserAgent: "UA", Browser: "Chrome 1", OS: "Linux"}
	if err := s.CreateDevice(ctx, dev); err != nil {
		t.Fatal(err)
	}
	s.TouchDevice(ctx, dev.ID, t0.Add(time.Hour), "192.0.2.2", "UA2", "Firefox 2", "Windows 11")
	gd, err := s.DeviceByTokenHash(ctx, device.HashToken("devtok"))
	if err != nil || gd.IP != "192.0.2.2" || gd.Browser != "Firefox 2" || !gd.FirstSeen.Equal(t0) || !gd.LastSeen.Equal(t0.Add(time.Hour)) {
		t.Fatalf("device: %+v %v", gd, err)
	}
	if _, err := s.DeviceByTokenHash(ctx, []byte("nope")); !errors.Is(err, device.ErrNotFound) {
		t.Fatalf("unknown device: %v", err)
	}
	mk := func(tok string) *session.Session {
		ss := &session.Session{ID: random.ID(), TokenHash: session.HashToken(tok), AccountID: a.ID, DeviceID: dev.ID, CreatedAt: t0,
			LastSeenAt: t0, AuthenticatedAt: t0, IdleTimeout: time.Hour, AbsoluteExpiresAt: t0.Add(24 * time.Hour), Remember: true, IP: "192.0.2.1"}
		if err := s.CreateSession(ctx, ss); err != nil {
			t.Fatal(err)
		}
		return ss
	}
	one, two := mk("one"), mk("two")
	got, err := s.SessionByTokenHash(ctx, session.HashToken("one"))
	if err != nil || got.ID != one.ID || got.IdleTimeout != time.Hour || !got.Remember || got.Account == nil || got.Account.Email != a.Email || !got.RevokedAt.IsZero() {
		t.Fatalf("session: %+v %v", got, err)
	}
	s.TouchSession(ctx, one.ID, t0.Add(time.Minute))
	s.RevokeSession(ctx, one.ID, t0.Add(2*time.Minute))
	got, _ = s.SessionByTokenHash(ctx, session.HashToken("one"))
	if !got.LastSeenAt.Equal(t0.Add(time.Minute)) || !got.RevokedAt.Equal(t0.Add(2*time.Minute)) {
		t.Fatalf("touched/revoked: %+v", got)
	}
	s.RevokeAccountSessions(ctx, a.ID, t0.Add(3*time.Minute))
	got, _ = s.SessionByTokenHash(ctx, session.HashToken("two"))
	if got.ID != two.ID || !got.RevokedAt.Equal(t0.Add(3*time.Minute)) {
		t.Fatalf("revoke all: %+v", got)
	}
	if _, err := s.SessionByTokenHash(ctx, []byte("nope")); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("unknown session: %v", err)
	}
}

func testAttempts(t *testing.T, s Store) {
	ctx := context.Background()
	for i, o := range []signin.Outcome{signin.WrongPassword, signin.Succeeded, signin.UnknownAccount} {
		acc := "acc"
		if o == signin.UnknownAccount {
			acc = ""
		}
		kind := signin.SignInKind
		if i == 0 {
			kind = signin.PasswordChange
		}
		if err := s.RecordAttempt(ctx, &signin.Attempt{ID: random.ID(), Kind: kind, Identifier: "a@example.com", AccountID: acc,
			Origin: request.Origin{DeviceID: "d", IP: "192.0.2.1", UserAgent: "UA", Time: t0.Add(time.Duration(i) * time.Second)}, Outcome: o}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.AttemptsByAccount(ctx, "acc", 10)
	if err != nil || len(got) != 2 || got[0].Outcome != signin.Succeeded || got[1].Outcome != signin.WrongPassword || !got[0].Origin.Time.Equal(t0.Add(time.Second)) ||
		got[0].Kind != signin.SignInKind || got[1].Kind != signin.PasswordChange {
		t.Fatalf("attempts: %v %v", got, err)
	}
}

func newMessage(i int) *outbox.Message {
	return &outbox.Message{ID: random.ID(), Reference: random.Reference(), Purpose: "test", Channel: "email", To: fmt.Sprintf("m%d@example.com", i),
		Language: "en", Subject: "s", Text: "t", HTML: "<p>h</p>", CreatedAt: t0, Status: outbox.Queued, NextAttemptAt: t0}
}

func testMessageClaims(t *testing.T, s Store) {
	ctx := context.Background()
	const n = 30
	for i := range n {
		if err := s.EnqueueMessage(ctx, newMessage(i)); err != nil {
			t.Fatal(err)
		}
	}
	dup := newMessage(99)
	first, _ := s.RecentMessages(ctx, 1)
	dup.Reference = first[0].Reference
	if err := s.EnqueueMessage(ctx, dup); !errors.Is(err, outbox.ErrDuplicateReference) {
		t.Fatalf("duplicate reference: %v", err)
	}
	var mu sync.Mutex
	claimed := map[string]int{}
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			for {
				m, err := s.ClaimMessage(ctx, t0.Add(time.Second), t0.Add(time.Hour))
				if errors.Is(err, outbox.ErrEmpty) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				claimed[m.ID]++
				mu.Unlock()
				s.MarkSent(ctx, m.ID, t0.Add(2*time.Second), true)
			}
		})
	}
	wg.Wait()
	if len(claimed) != n {
		t.Fatalf("claimed %d distinct messages, want %d", len(claimed), n)
	}
	for id, c := range claimed {
		if c != 1 {
			t.Fatalf("message %s claimed %d times", id, c)
		}
	}
	ms, _ := s.RecentMessages(ctx, 100)
	for _, m := range ms {
		if m.Status != outbox.Sent || m.Attempts != 1 || !m.SentAt.Equal(t0.Add(2*time.Second)) {
			t.Fatalf("after delivery: %+v", m)
		}
	}
}

// testBacklog: the backlog is the queued and claimed messages, and the
// oldest of them; sent, failed and withheld ones are not waiting.
func testBacklog(t *testing.T, s Store) {
	ctx := context.Background()
	if b, err := s.Backlog(ctx); err != nil || b.Depth != 0 || !b.Oldest.IsZero() {
		t.Fatalf("empty store: %+v %v", b, err)
	}
	var ms []*outbox.Message
	for i := range 5 {
		m := newMessage(i)
		m.CreatedAt = t0.Add(time.Duration(i) * time.Minute)
		m.NextAttemptAt = m.CreatedAt
		if i == 4 {
			m.Status = outbox.Withheld
		}
		if err := s.EnqueueMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	// The oldest is sent, the next one failed for good, the third claimed.
	for _, step := range []func() error{
		func() error { return s.MarkSent(ctx, ms[0].ID, t0.Add(time.Hour), true) },
		func() error { return s.MarkRetry(ctx, ms[1].ID, t0.Add(time.Hour), "no", true) },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	if m, err := s.ClaimMessage(ctx, t0.Add(2*time.Minute), t0.Add(time.Hour)); err != nil || m.ID != ms[2].ID {
		t.Fatalf("claim: %+v %v", m, err)
	}
	b, err := s.Backlog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if b.Depth != 2 || !b.Oldest.Equal(ms[2].CreatedAt) || b.Oldest.Location() != time.UTC {
		t.Fatalf("backlog %+v, want 2 messages from %s", b, ms[2].CreatedAt)
	}
}

func testMessageLease(t *testing.T, s Store) {
	ctx := context.Background()
	m := newMessage(1)
	m.Purpose, m.Cause, m.ChallengeID, m.Channel = request.SecondStep, request.PasswordKnown, "ch1", request.SMS
	s.EnqueueMessage(ctx, m)
	if _, err := s.ClaimMessage(ctx, t0.Add(-time.Second), t0.Add(time.Minute)); !errors.Is(err, outbox.ErrEmpty) {
		t.Fatalf("claimed before due: %v", err)
	}
	c, err := s.ClaimMessage(ctx, t0, t0.Add(time.Minute))
	if err != nil || c.ID != m.ID || c.Status != outbox.Sending {
		t.Fatalf("claim: %+v %v", c, err)
	}
	if c.Purpose != m.Purpose || c.Cause != m.Cause || c.ChallengeID != m.ChallengeID || c.Channel != m.Channel {
		t.Fatalf("the message lost its request: %+v", c)
	}
	if !c.HandedOffAt.IsZero() {
		t.Fatal("a fresh message has no hand-off")
	}
	if err := s.MarkHandoff(ctx, m.ID, t0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ClaimMessage(ctx, t0.Add(59*time.Second), t0.Add(2*time.Minute)); !errors.Is(err, outbox.ErrEmpty) {
		t.Fatalf("claimed while leased: %v", err)
	}
	// The node died mid-delivery: the next claim sees the interrupted hand-off.
	if c, err := s.ClaimMessage(ctx, t0.Add(time.Minute), t0.Add(2*time.Minute)); err != nil || c.ID != m.ID || !c.HandedOffAt.Equal(t0.Add(time.Second)) {
		t.Fatalf("after the lease ran out: %+v %v", c, err)
	}
	s.MarkRetry(ctx, m.ID, t0.Add(10*time.Minute), "boom", false)
	got, _ := s.RecentMessages(ctx, 1)
	if got[0].Status != outbox.Queued || got[0].Attempts != 1 || got[0].LastError != "boom" || !got[0].NextAttemptAt.Equal(t0.Add(10*time.Minute)) {
		t.Fatalf("retry: %+v", got[0])
	}
	s.MarkRetry(ctx, m.ID, t0.Add(20*time.Minute), "boom again", true)
	if _, err := s.ClaimMessage(ctx, t0.Add(time.Hour), t0.Add(2*time.Hour)); !errors.Is(err, outbox.ErrEmpty) {
		t.Fatalf("a failed message was claimed: %v", err)
	}
}

func testTimesUTC(t *testing.T, s Store) {
	ctx := context.Background()
	tokyo := time.FixedZone("JST", 9*3600)
	a := newAccount("tz@example.com")
	a.CreatedAt = time.Date(2026, 11, 28, 0, 30, 0, 0, tokyo)
	s.CreateAccount(ctx, a)
	got, _ := s.AccountByID(ctx, a.ID)
	if got.CreatedAt.Location() != time.UTC || !got.CreatedAt.Equal(a.CreatedAt) {
		t.Fatalf("stored %v, read back %v", a.CreatedAt, got.CreatedAt)
	}
}

func testMessageSecret(t *testing.T, s Store) {
	ctx := context.Background()
	kept, erased, failed := newMessage(1), newMessage(2), newMessage(3)
	for _, m := range []*outbox.Message{kept, erased, failed} {
		m.Secret = []byte("sealed")
		if err := s.EnqueueMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	s.MarkSent(ctx, kept.ID, t0, false)
	s.MarkSent(ctx, erased.ID, t0, true)
	s.MarkRetry(ctx, failed.ID, t0, "gave up", true)
	withheld := newMessage(4)
	withheld.Status = outbox.Withheld
	s.EnqueueMessage(ctx, withheld)
	if m, err := s.ClaimMessage(ctx, t0.Add(time.Hour), t0.Add(2*time.Hour)); !errors.Is(err, outbox.ErrEmpty) {
		t.Fatalf("a withheld message was claimed for delivery: %+v %v", m, err)
	}
	ms, _ := s.RecentMessages(ctx, 10)
	got := map[string][]byte{}
	for _, m := range ms {
		got[m.ID] = m.Secret
	}
	if string(got[kept.ID]) != "sealed" || got[erased.ID] != nil || got[failed.ID] != nil {
		t.Fatalf("secrets after delivery: kept %q, erased %q, failed %q", got[kept.ID], got[erased.ID], got[failed.ID])
	}
}

// testInTx: a flow's writes, across capabilities, land together or not at
// all; reads inside see the flow's own writes; a nested InTx joins.
func testInTx(t *testing.T, s Store) {
	ctx := context.Background()
	boom := errors.New("the third write failed")
	a := newAccount("flow@example.com")
	ch := newChallenge()
	m := newMessage(1)
	flow := func(fail bool) error {
		return s.InTx(ctx, func(ctx context.Context) error {
			if err := s.CreateAccount(ctx, a); err != nil {
				return err
			}
			if got, err := s.AccountByEmail(ctx, a.Email); err != nil || got.ID != a.ID {
				return fmt.Errorf("the flow does not see its own write: %v", err)
			}
			if err := s.InTx(ctx, func(ctx context.Context) error { return s.CreateChallenge(ctx, ch) }); err != nil {
				return err
			}
			if err := s.SetStatus(ctx, a.ID, account.Disabled); err != nil {
				return err
			}
			if fail {
				return boom
			}
			return s.EnqueueMessage(ctx, m)
		})
	}
	if err := flow(true); !errors.Is(err, boom) {
		t.Fatalf("failed flow: %v", err)
	}
	if _, err := s.AccountByEmail(ctx, a.Email); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("a failed flow left its account behind: %v", err)
	}
	if _, err := s.Challenge(ctx, ch.ID); !errors.Is(err, code.ErrNotFound) {
		t.Fatalf("a failed flow left its challenge (written in a nested InTx) behind: %v", err)
	}
	if err := flow(false); err != nil {
		t.Fatal(err)
	}
	got, err := s.AccountByEmail(ctx, a.Email)
	if err != nil || got.Status != account.Disabled {
		t.Fatalf("committed flow: %+v %v", got, err)
	}
	if _, err := s.Challenge(ctx, ch.ID); err != nil {
		t.Fatalf("committed flow's challenge: %v", err)
	}
	if ms, _ := s.RecentMessages(ctx, 10); len(ms) != 1 {
		t.Fatalf("committed flow's message: %d", len(ms))
	}
}

func testTOTPApps(t *testing.T, s Store) {
	ctx := context.Background()
	a := newAccount("totp@example.com")
	s.CreateAccount(ctx, a)
	app := &totp.App{ID: random.ID(), AccountID: a.ID, Secret: []byte{1, 2, 3}, CreatedAt: t0}
	if err := s.CreateApp(ctx, app); err != nil {
		t.Fatal(err)
	}
	got, err := s.App(ctx, app.ID)
	if err != nil || got.Confirmed() || !bytes.Equal(got.Secret, app.Secret) || got.AccountID != a.ID || !got.CreatedAt.Equal(t0) {
		t.Fatalf("pending app: %+v %v", got, err)
	}
	if err := s.ConfirmApp(ctx, app.ID, "Phone", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.ConfirmApp(ctx, app.ID, "Again", t0.Add(2*time.Minute)); !errors.Is(err, totp.ErrNotFound) {
		t.Fatalf("confirming twice: %v", err)
	}
	apps, err := s.Apps(ctx, a.ID)
	if err != nil || len(apps) != 1 || apps[0].Name != "Phone" || !apps[0].ConfirmedAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("apps: %+v %v", apps, err)
	}
	if err := s.DeleteApp(ctx, "someone-else", app.ID); !errors.Is(err, totp.ErrNotFound) {
		t.Fatalf("deleting another account's app: %v", err)
	}
	if err := s.DeleteApp(ctx, a.ID, app.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.App(ctx, app.ID); !errors.Is(err, totp.ErrNotFound) {
		t.Fatalf("deleted app: %v", err)
	}
}

// testTOTPStepOnce: a step is recorded only if newer than the account's
// last one, and of many concurrent attempts at one step exactly one wins.
func testTOTPStepOnce(t *testing.T, s Store) {
	ctx := context.Background()
	a := newAccount("steps@example.com")
	s.CreateAccount(ctx, a)
	app := &totp.App{ID: random.ID(), AccountID: a.ID, Secret: []byte{1}, CreatedAt: t0, ConfirmedAt: t0}
	s.CreateApp(ctx, app)
	if last, err := s.LastStep(ctx, a.ID); last != 0 || err != nil {
		t.Fatalf("no step used yet: %d %v", last, err)
	}
	for _, c := range []struct {
		step int64
		want bool
	}{{100, true}, {100, false}, {99, false}, {101, true}} {
		if ok, err := s.UseStep(ctx, a.ID, app.ID, c.step, t0); ok != c.want || err != nil {
			t.Fatalf("step %d: %v %v, want %v", c.step, ok, err, c.want)
		}
	}
	if last, _ := s.LastStep(ctx, a.ID); last != 101 {
		t.Fatalf("last step %d", last)
	}
	if got, _ := s.App(ctx, app.ID); got.LastUsedAt.IsZero() {
		t.Fatal("the app's last use was not recorded")
	}
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			if ok, err := s.UseStep(ctx, a.ID, app.ID, 200, t0); err == nil && ok {
				wins.Add(1)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d concurrent uses of one step won, want exactly 1", wins.Load())
	}
}

func testBackupCodes(t *testing.T, s Store) {
	ctx := context.Background()
	a := newAccount("backup@example.com")
	s.CreateAccount(ctx, a)
	set := [][]byte{{1}, {2}, {3}}
	if err := s.ReplaceBackupCodes(ctx, a.ID, set, t0); err != nil {
		t.Fatal(err)
	}
	if n, err := s.BackupCodesLeft(ctx, a.ID); n != 3 || err != nil {
		t.Fatalf("left %d %v", n, err)
	}
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if ok, err := s.UseBackupCode(ctx, a.ID, []byte{2}, t0); err == nil && ok {
				wins.Add(1)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("one code used %d times", wins.Load())
	}
	if ok, _ := s.UseBackupCode(ctx, "other-account", []byte{1}, t0); ok {
		t.Fatal("another account used the code")
	}
	if n, _ := s.BackupCodesLeft(ctx, a.ID); n != 2 {
		t.Fatalf("left %d after one use", n)
	}
	if err := s.ReplaceBackupCodes(ctx, a.ID, [][]byte{{9}}, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.UseBackupCode(ctx, a.ID, []byte{1}, t0); ok {
		t.Fatal("a code of the replaced set still worked")
	}
	if n, _ := s.BackupCodesLeft(ctx, a.ID); n != 1 {
		t.Fatalf("left %d in the new set", n)
	}
}

// testConnectedApp: a code an application caused keeps the application —
// its id and name on the challenge and the step-up attempt, its name on
// the message — so "this wasn't me" can disconnect it and every page can
// name it; other rows name none.
func testConnectedApp(t *testing.T, s Store) {
	ctx := context.Background()
	app := request.App{ID: "client-1", Name: "Example Shop"}
	at := &signin.Attempt{ID: random.ID(), Kind: signin.StepUpKind, Identifier: "a@example.com", AccountID: "acc",
		Origin: request.Origin{DeviceID: "d", IP: "192.0.2.1", UserAgent: "UA", Time: t0}, Outcome: signin.Pending,
		Cause: request.ConnectedApp, App: app}
	if err := s.RecordAttempt(ctx, at); err != nil {
		t.Fatal(err)
	}
	c := newChallenge()
	c.Cause, c.AttemptID, c.App = request.ConnectedApp, at.ID, app
	plain := newChallenge()
	for _, ch := range []*code.Challenge{c, plain} {
		if err := s.CreateChallenge(ctx, ch); err != nil {
			t.Fatal(err)
		}
	}
	m := newMessage(0)
	m.Cause, m.ChallengeID, m.App = request.ConnectedApp, c.ID, app.Name
	if err := s.EnqueueMessage(ctx, m); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Challenge(ctx, c.ID); err != nil || got.App != app || got.Cause != request.ConnectedApp {
		t.Fatalf("challenge: %+v %v", got, err)
	}
	if got, err := s.Challenge(ctx, plain.ID); err != nil || got.App != (request.App{}) {
		t.Fatalf("plain challenge: %+v %v", got, err)
	}
	if got, err := s.Attempt(ctx, at.ID); err != nil || got.App != app || got.Cause != request.ConnectedApp {
		t.Fatalf("attempt: %+v %v", got, err)
	}
	ms, err := s.RecentMessages(ctx, 10)
	if err != nil || len(ms) != 1 || ms[0].App != app.Name || ms[0].Cause != request.ConnectedApp {
		t.Fatalf("messages: %v %v", ms, err)
	}
}
