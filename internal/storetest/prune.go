package storetest

import (
	"context"
	"errors"
	"gatehouse/internal/totp"
	"sort"
	"testing"
	"time"

	"gatehouse/internal/account"
	"gatehouse/internal/code"
	"gatehouse/internal/device"
	"gatehouse/internal/limit"
	"gatehouse/internal/outbox"
	"gatehouse/internal/passkey"
	"gatehouse/internal/random"
	"gatehouse/internal/request"
	"gatehouse/internal/retention"
	"gatehouse/internal/session"
	"gatehouse/internal/signin"
)

// PruneStore is a store that can also prune (internal/retention).
type PruneStore interface {
	Store
	retention.Store
}

// RunPrune runs the pruning suite; open returns a fresh, migrated, empty
// store.
func RunPrune(t *testing.T, open func(t *testing.T) PruneStore) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, PruneStore)
	}{
		{"ChallengesExpiredOrUsedGoAfterADay", testPruneChallenges},
		{"SignupsWithADeadCodeGoAfterADay", testPruneSignups},
		{"PasskeyCeremoniesExpiredGoAfterADay", testPrunePasskeyCeremonies},
		{"AppEnrolmentsNeverConfirmedGoAfterADay", testPruneAppEnrolments},
		{"WithheldMessagesGoAfterADayOthersAfterHistory", testPruneMessages},
		{"AttemptsGoAfterHistory", testPruneAttempts},
		{"SessionsGoADayAfterTheyEnd", testPruneSessions},
		{"DevicesWithoutSessionsGoAfterHistory", testPruneDevices},
		{"LimitCountsGoWhenTheirWindowsEnded", testPruneLimits},
		{"PruneDeletesInBatches", testPruneBatches},
		{"PruningLockIsHeldByOneAtATime", testPruneLock},
		{"PrunerPassKeepsWhatIsStillInUse", testPrunerPass},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

// now is "now" for the pruning tests; dayAgo and historyAgo are the
// cutoffs a pass uses with a 400-day history.
var (
	now        = t0
	dayAgo     = now.Add(-retention.Grace)
	historyAgo = now.Add(-400 * 24 * time.Hour)
)

func pruneAll(t *testing.T, prune func(context.Context, time.Time, int) (int, error), before time.Time, want int) {
	t.Helper()
	n, err := prune(context.Background(), before, 1000)
	if err != nil || n != want {
		t.Fatalf("pruned %d, %v; want %d", n, err, want)
	}
}

func testPruneChallenges(t *testing.T, s PruneStore) {
	ctx := context.Background()
	mk := func(expires, consumed time.Time) string {
		c := &code.Challenge{ID: random.ID(), Purpose: request.ConfirmEmail, Destination: "a@example.com", CodeHash: []byte{1},
			CreatedAt: expires.Add(-10 * time.Minute), SentAt: expires.Add(-10 * time.Minute), ExpiresAt: expires}
		if err := s.CreateChallenge(ctx, c); err != nil {
			t.Fatal(err)
		}
		if !consumed.IsZero() {
			if ok, err := s.Consume(ctx, c.ID, consumed); !ok || err != nil {
				t.Fatal(ok, err)
			}
		}
		return c.ID
	}
	expiredLongAgo := mk(now.Add(-25*time.Hour), time.Time{})
	usedLongAgo := mk(now.Add(time.Hour), now.Add(-25*time.Hour)) // still unexpired on paper
	expiredToday := mk(now.Add(-time.Hour), time.Time{})
	usedToday := mk(now.Add(time.Hour), now.Add(-time.Hour))
	live := mk(now.Add(5*time.Minute), time.Time{})

	pruneAll(t, s.PruneChallenges, dayAgo, 2)
	for id, keep := range map[string]bool{expiredLongAgo: false, usedLongAgo: false, expiredToday: true, usedToday: true, live: true} {
		_, err := s.Challenge(ctx, id)
		if keep && err != nil {
			t.Errorf("challenge %s: %v, want kept", id, err)
		}
		if !keep && !errors.Is(err, code.ErrNotFound) {
			t.Errorf("challenge %s: %v, want pruned", id, err)
		}
	}
}

func pruneMessage(t *testing.T, s PruneStore, status outbox.Status, created time.Time) string {
	t.Helper()
	m := &outbox.Message{ID: random.ID(), Reference: random.Reference(), Purpose: "test", Channel: "email", To: "m@example.com",
		Language: "en", Subject: "s", Text: "t", HTML: "<p>h</p>", CreatedAt: created, Status: outbox.Queued, NextAttemptAt: created}
	if status == outbox.Withheld {
		m.Status = outbox.Withheld
	}
	ctx := context.Background()
	if err := s.EnqueueMessage(ctx, m); err != nil {
		t.Fatal(err)
	}
	switch status {
	case outbox.Sent:
		if err := s.MarkSent(ctx, m.ID, created, true); err != nil {
			t.Fatal(err)
		}
	case outbox.Failed:
		if err := s.MarkRetry(ctx, m.ID, created, "gave up", true); err != nil {
			t.Fatal(err)
		}
	}
	return m.ID
}

func messageIDs(t *testing.T, s PruneStore) []string {
	t.Helper()
	ms, err := s.RecentMessages(context.Background(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range ms {
		ids = append(ids, m.ID)
	}
	sort.Strings(ids)
	return ids
}

func sorted(ids ...string) []string { sort.Strings(ids); return ids }

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func testPruneMessages(t *testing.T, s PruneStore) {
	withheldOld := pruneMessage(t, s, outbox.Withheld, now.Add(-25*time.Hour))
	withheldToday := pruneMessage(t, s, outbox.Withheld, now.Add(-time.Hour))
	sentYesterday := pruneMessage(t, s, outbox.Sent, now.Add(-25*time.Hour))
	sentAncient := pruneMessage(t, s, outbox.Sent, historyAgo.Add(-time.Hour))
	failedAncient := pruneMessage(t, s, outbox.Failed, historyAgo.Add(-time.Hour))
	queuedAncient := pruneMessage(t, s, outbox.Queued, historyAgo.Add(-time.Hour)) // still to deliver: never pruned
	sentRecent := pruneMessage(t, s, outbox.Sent, historyAgo.Add(time.Hour))

	pruneAll(t, s.PruneWithheldMessages, dayAgo, 1)
	if got, want := messageIDs(t, s), sorted(withheldToday, sentYesterday, sentAncient, failedAncient, queuedAncient, sentRecent); !equal(got, want) {
		t.Fatalf("after pruning withheld messages: %v, want %v", got, want)
	}
	pruneAll(t, s.PruneMessages, historyAgo, 2)
	if got, want := messageIDs(t, s), sorted(withheldToday, sentYesterday, queuedAncient, sentRecent); !equal(got, want) {
		t.Fatalf("after pruning history: %v, want %v (withheld old was %s)", got, want, withheldOld)
	}
}

func pruneAttempt(t *testing.T, s PruneStore, at time.Time) string {
	t.Helper()
	a := &signin.Attempt{ID: random.ID(), Identifier: "a@example.com", AccountID: "acc",
		Origin: request.Origin{DeviceID: "d", IP: "192.0.2.1", UserAgent: "UA", Time: at}, Outcome: signin.WrongPassword}
	if err := s.RecordAttempt(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	return a.ID
}

func testPruneAttempts(t *testing.T, s PruneStore) {
	pruneAttempt(t, s, historyAgo.Add(-time.Second))
	kept := pruneAttempt(t, s, historyAgo.Add(time.Second))
	pruneAll(t, s.PruneAttempts, historyAgo, 1)
	got, err := s.AttemptsByAccount(context.Background(), "acc", 10)
	if err != nil || len(got) != 1 || got[0].ID != kept {
		t.Fatalf("attempts left: %v %v", got, err)
	}
}

func pruneAccount(t *testing.T, s PruneStore) string {
	t.Helper()
	a := &account.Account{ID: random.ID(), Email: random.ID() + "@example.com", PasswordHash: "$argon2id$x", Language: "en",
		Status: account.Active, CreatedAt: t0, PasswordChangedAt: t0}
	if err := s.CreateAccount(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	return a.ID
}

func pruneDevice(t *testing.T, s PruneStore, lastSeen time.Time) (id, token string) {
	t.Helper()
	token = random.Token()
	d := &device.Device{ID: random.ID(), TokenHash: device.HashToken(token), FirstSeen: lastSeen, LastSeen: lastSeen, IP: "192.0.2.1", UserAgent: "UA", Browser: "B", OS: "O"}
	if err := s.CreateDevice(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	return d.ID, token
}

// pruneSession stores a session of accountID on deviceID last seen at
// lastSeen with the given idle timeout and absolute end; revoked if set.
func pruneSession(t *testing.T, s PruneStore, accountID, deviceID string, lastSeen time.Time, idle time.Duration, absolute, revoked time.Time) string {
	t.Helper()
	ctx := context.Background()
	token := random.Token()
	ss := &session.Session{ID: random.ID(), TokenHash: session.HashToken(token), AccountID: accountID, DeviceID: deviceID,
		CreatedAt: lastSeen, LastSeenAt: lastSeen, AuthenticatedAt: lastSeen, IdleTimeout: idle, AbsoluteExpiresAt: absolute, IP: "192.0.2.1"}
	if err := s.CreateSession(ctx, ss); err != nil {
		t.Fatal(err)
	}
	if !revoked.IsZero() {
		if err := s.RevokeSession(ctx, ss.ID, revoked); err != nil {
			t.Fatal(err)
		}
	}
	return token
}

func testPruneSessions(t *testing.T, s PruneStore) {
	ctx := context.Background()
	acc := pruneAccount(t, s)
	dev, _ := pruneDevice(t, s, now)
	h, later := time.Hour, now.Add(20*time.Hour)
	gone := map[string]string{
		"revoked two days ago":         pruneSession(t, s, acc, dev, now.Add(-49*h), h, later, now.Add(-48*h)),
		"past its lifetime since 25 h": pruneSession(t, s, acc, dev, now.Add(-26*h), 24*h, now.Add(-25*h), time.Time{}),
		"idle since 26 h (1 h limit)":  pruneSession(t, s, acc, dev, now.Add(-26*h), h, later, time.Time{}),
	}
	kept := map[string]string{
		"revoked an hour ago":           pruneSession(t, s, acc, dev, now.Add(-2*h), h, later, now.Add(-h)),
		"past its lifetime since 23 h":  pruneSession(t, s, acc, dev, now.Add(-24*h), 24*h, now.Add(-23*h), time.Time{}),
		"idle since 24 h (1 h limit)":   pruneSession(t, s, acc, dev, now.Add(-24*h), h, later, time.Time{}),
		"remembered, unused for 2 days": pruneSession(t, s, acc, dev, now.Add(-48*h), 720*h, now.Add(600*h), time.Time{}),
		"live":                          pruneSession(t, s, acc, dev, now, h, later, time.Time{}),
	}
	pruneAll(t, s.PruneSessions, dayAgo, len(gone))
	for what, token := range gone {
		if _, err := s.SessionByTokenHash(ctx, session.HashToken(token)); !errors.Is(err, session.ErrNotFound) {
			t.Errorf("session %s: %v, want pruned", what, err)
		}
	}
	for what, token := range kept {
		if _, err := s.SessionByTokenHash(ctx, session.HashToken(token)); err != nil {
			t.Errorf("session %s: %v, want kept", what, err)
		}
	}
}

func testPruneDevices(t *testing.T, s PruneStore) {
	ctx := context.Background()
	acc := pruneAccount(t, s)
	_, unusedOld := pruneDevice(t, s, historyAgo.Add(-time.Hour))
	withSession, withSessionToken := pruneDevice(t, s, historyAgo.Add(-time.Hour))
	_, recent := pruneDevice(t, s, historyAgo.Add(time.Hour))
	// Its session ended long ago but has not been pruned yet: the device stays.
	pruneSession(t, s, acc, withSession, historyAgo.Add(-2*time.Hour), time.Hour, historyAgo, time.Time{})

	pruneAll(t, s.PruneDevices, historyAgo, 1)
	if _, err := s.DeviceByTokenHash(ctx, device.HashToken(unusedOld)); !errors.Is(err, device.ErrNotFound) {
		t.Errorf("unused old device: %v, want pruned", err)
	}
	for what, token := range map[string]string{"device with a session": withSessionToken, "recently seen device": recent} {
		if _, err := s.DeviceByTokenHash(ctx, device.HashToken(token)); err != nil {
			t.Errorf("%s: %v, want kept", what, err)
		}
	}
	// Once its session is pruned, the device goes too.
	pruneAll(t, s.PruneSessions, dayAgo, 1)
	pruneAll(t, s.PruneDevices, historyAgo, 1)
}

func testPruneBatches(t *testing.T, s PruneStore) {
	ctx := context.Background()
	for range 7 {
		pruneAttempt(t, s, historyAgo.Add(-time.Hour))
	}
	var got []int
	for {
		n, err := s.PruneAttempts(ctx, historyAgo, 3)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, n)
		if n < 3 {
			break
		}
	}
	if len(got) != 3 || got[0] != 3 || got[1] != 3 || got[2] != 1 {
		t.Fatalf("batches deleted %v, want [3 3 1]", got)
	}
}

func testPruneLock(t *testing.T, s PruneStore) {
	ctx := context.Background()
	unlock, ok, err := s.LockPruning(ctx)
	if err != nil || !ok {
		t.Fatalf("first lock: %v %v", ok, err)
	}
	if _, ok, err := s.LockPruning(ctx); err != nil || ok {
		t.Fatalf("second lock while the first is held: %v %v", ok, err)
	}
	p := &retention.Pruner{Store: s, History: 400 * 24 * time.Hour, Now: func() time.Time { return now }}
	if rep, err := p.Once(ctx); err != nil || rep.Ran {
		t.Fatalf("a pass while another holds the lock: %+v %v", rep, err)
	}
	unlock()
	unlock2, ok, err := s.LockPruning(ctx)
	if err != nil || !ok {
		t.Fatalf("lock after release: %v %v", ok, err)
	}
	unlock2()
}

func testPrunerPass(t *testing.T, s PruneStore) {
	ctx := context.Background()
	acc := pruneAccount(t, s)
	dev, devToken := pruneDevice(t, s, now)
	oldDev, oldDevToken := pruneDevice(t, s, historyAgo.Add(-time.Hour))
	ended := pruneSession(t, s, acc, oldDev, historyAgo.Add(-2*time.Hour), time.Hour, historyAgo, time.Time{})
	live := pruneSession(t, s, acc, dev, now, time.Hour, now.Add(time.Hour), time.Time{})
	pruneAttempt(t, s, historyAgo.Add(-time.Hour))
	keptAttempt := pruneAttempt(t, s, now)
	pruneMessage(t, s, outbox.Withheld, now.Add(-25*time.Hour))
	keptMessage := pruneMessage(t, s, outbox.Sent, now.Add(-25*time.Hour))

	p := &retention.Pruner{Store: s, History: 400 * 24 * time.Hour, Now: func() time.Time { return now }, Batch: 1, Pause: time.Microsecond}
	rep, err := p.Once(ctx)
	if err != nil || !rep.Ran {
		t.Fatalf("pass: %+v %v", rep, err)
	}
	want := map[string]int{"sessions": 1, "devices": 1, "withheld messages": 1, "signin_attempts": 1}
	for k, v := range want {
		if rep.Deleted[k] != v {
			t.Errorf("deleted %v, want %v", rep.Deleted, want)
			break
		}
	}
	if _, err := s.SessionByTokenHash(ctx, session.HashToken(ended)); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("ended session: %v", err)
	}
	if _, err := s.DeviceByTokenHash(ctx, device.HashToken(oldDevToken)); !errors.Is(err, device.ErrNotFound) {
		t.Errorf("old device: %v", err)
	}
	if _, err := s.SessionByTokenHash(ctx, session.HashToken(live)); err != nil {
		t.Errorf("live session: %v", err)
	}
	if _, err := s.DeviceByTokenHash(ctx, device.HashToken(devToken)); err != nil {
		t.Errorf("current device: %v", err)
	}
	if got := messageIDs(t, s); !equal(got, []string{keptMessage}) {
		t.Errorf("messages left %v, want %v", got, keptMessage)
	}
	if got, _ := s.AttemptsByAccount(ctx, "acc", 10); len(got) != 1 || got[0].ID != keptAttempt {
		t.Errorf("attempts left: %v", got)
	}
	// A second pass finds nothing more.
	if rep, err := p.Once(ctx); err != nil || rep.Total() != 0 {
		t.Errorf("second pass: %+v %v", rep, err)
	}
}

func testPruneSignups(t *testing.T, s PruneStore) {
	ctx := context.Background()
	mk := func(created, expires time.Time) string {
		c := &code.Challenge{ID: random.ID(), Purpose: request.ConfirmEmail, Destination: "p@example.com", CodeHash: []byte{1},
			CreatedAt: created, SentAt: created, ExpiresAt: expires}
		if err := s.CreateChallenge(ctx, c); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateSignup(ctx, &account.Signup{ID: c.ID, Email: "p@example.com", PasswordHash: "h", Language: "en", CreatedAt: created}); err != nil {
			t.Fatal(err)
		}
		return c.ID
	}
	dead := mk(now.Add(-48*time.Hour), now.Add(-47*time.Hour))
	resentAndLive := mk(now.Add(-48*time.Hour), now.Add(5*time.Minute))
	today := mk(now.Add(-time.Hour), now.Add(-50*time.Minute))
	orphan := mk(now.Add(-80*time.Hour), now.Add(-72*time.Hour))
	pruneAll(t, s.PruneChallenges, now.Add(-60*time.Hour), 1) // orphan's code is gone, dead's is still there
	pruneAll(t, s.PruneSignups, dayAgo, 2)
	for id, want := range map[string]bool{dead: false, orphan: false, resentAndLive: true, today: true} {
		_, err := s.Signup(ctx, id)
		if got := err == nil; got != want {
			t.Errorf("signup %s kept=%v, want %v (%v)", id, got, want, err)
		}
		if err != nil && !errors.Is(err, account.ErrNotFound) {
			t.Fatal(err)
		}
	}
}

func testPrunePasskeyCeremonies(t *testing.T, s PruneStore) {
	ctx := context.Background()
	mk := func(expires time.Time) string {
		c := &passkey.Ceremony{ID: random.ID(), Kind: passkey.KindDiscoverable, Data: []byte(`{}`), CreatedAt: expires.Add(-5 * time.Minute), ExpiresAt: expires}
		if err := s.CreateCeremony(ctx, c); err != nil {
			t.Fatal(err)
		}
		return c.ID
	}
	old := mk(now.Add(-25 * time.Hour))
	today := mk(now.Add(-time.Hour))
	live := mk(now.Add(time.Minute))
	pruneAll(t, s.PrunePasskeyCeremonies, dayAgo, 1)
	if _, err := s.TakeCeremony(ctx, old); !errors.Is(err, passkey.ErrNotFound) {
		t.Errorf("ceremony expired two days ago: %v, want pruned", err)
	}
	for _, id := range []string{today, live} {
		if _, err := s.TakeCeremony(ctx, id); err != nil {
			t.Errorf("ceremony %s: %v, want kept", id, err)
		}
	}
}

func testPruneAppEnrolments(t *testing.T, s PruneStore) {
	ctx := context.Background()
	a := newAccount("enrolments@example.com")
	if err := s.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	mk := func(created time.Time, confirmed bool) string {
		app := &totp.App{ID: random.ID(), AccountID: a.ID, Secret: []byte{1}, CreatedAt: created}
		if confirmed {
			app.Name, app.ConfirmedAt = "Phone", created.Add(time.Minute)
		}
		if err := s.CreateApp(ctx, app); err != nil {
			t.Fatal(err)
		}
		return app.ID
	}
	abandoned := mk(now.Add(-25*time.Hour), false)
	recent := mk(now.Add(-time.Hour), false)
	inUse := mk(now.Add(-48*time.Hour), true)
	pruneAll(t, s.PruneAppEnrolments, dayAgo, 1)
	if _, err := s.App(ctx, abandoned); !errors.Is(err, totp.ErrNotFound) {
		t.Errorf("enrolment abandoned a day ago: %v, want pruned", err)
	}
	for _, id := range []string{recent, inUse} {
		if _, err := s.App(ctx, id); err != nil {
			t.Errorf("app %s: %v, want kept", id, err)
		}
	}
}

// testPruneLimits: window counts, subjects and sends older than the cutoff
// go, newer ones stay; a guess counter goes once untouched past its
// cutoff and not delayed; refusals go after the history.
func testPruneLimits(t *testing.T, s PruneStore) {
	ctx := context.Background()
	old, fresh := now.Add(-3*24*time.Hour), now.Add(-time.Hour)
	for _, at := range []time.Time{old, fresh} {
		if err := s.Hit(ctx, []string{"fail:192.0.2.1"}, at.Truncate(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Seen(ctx, "subj:192.0.2.1", "password:acc", at.Truncate(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.TakeSend(ctx, "a@example.com", at, 10*time.Minute, 3, 10); err != nil {
			t.Fatal(err)
		}
	}
	rule := limit.GuessRule{Free: 4, FirstDelay: 30e6, MaxDelay: 3600e6, Window: limit.Window.Microseconds(), WindowLimit: 500}
	stale, live := limit.GuessKey{Secret: limit.Password, Subject: "stale"}, limit.GuessKey{Secret: limit.Password, Subject: "live"}
	s.TakeGuess(ctx, stale, "", rule, now.Add(-40*24*time.Hour))
	s.TakeGuess(ctx, live, "", rule, now.Add(-2*24*time.Hour))
	pruneAll(t, s.PruneLimitCounts, now.Add(-2*24*time.Hour), 3)
	if c, _ := s.Counts(ctx, []string{"fail:192.0.2.1"}, fresh.Truncate(time.Hour)); c["fail:192.0.2.1"] != 1 {
		t.Errorf("the current window's count went: %v", c)
	}
	pruneAll(t, s.PruneGuessCounters, now.Add(-31*24*time.Hour), 1)
	if c, _ := s.Guesses(ctx, live); c.Consecutive != 1 {
		t.Errorf("a counter used two days ago went: %+v", c)
	}
	if c, _ := s.Guesses(ctx, stale); c.Consecutive != 0 {
		t.Errorf("a counter untouched for 40 days stayed: %+v", c)
	}
	s.RecordRefusal(ctx, limit.Refusal{Rule: limit.GuessDelay, Subject: "x", Origin: request.Origin{Time: now.Add(-500 * 24 * time.Hour)}, RetryAt: now})
	pruneAll(t, s.PruneLimitRefusals, historyAgo, 1)
}
