package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"gatehouse/internal/account"
	"gatehouse/internal/activity"
	"gatehouse/internal/check"
	"gatehouse/internal/code"
	"gatehouse/internal/device"
	"gatehouse/internal/outbox"
	"gatehouse/internal/random"
	"gatehouse/internal/request"
	"gatehouse/internal/session"
	"gatehouse/internal/signin"
)

// ActivityStore is what issue 9's pages and answers need of a store.
type ActivityStore interface {
	Store
	activity.Store
	code.Blocks
	outbox.RawStore
	check.ReportStore
	PhoneOwner(ctx context.Context, number string) (string, error)
	SetPhone(ctx context.Context, accountID, number string, confirmedAt time.Time) error
}

// RunActivity runs the store tests of the activity page, the devices page,
// the answers and the sender blocks.
func RunActivity(t *testing.T, open func(t *testing.T) ActivityStore) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, ActivityStore)
	}{
		{"AttemptsPagedNewestFirstWithFailuresFilter", testAttemptsPage},
		{"MessagesByTimeCauseAndReference", testMessageFilters},
		{"AccountDevicesRenamedAndForgotten", testAccountDevices},
		{"SessionsListedAndRevokedByDeviceOrAllButOne", testSessionRevocations},
		{"AnswersBlocksAndMarks", testAnswers},
		{"ATakenReferenceInAFlowLeavesTheFlowUsable", testReferenceInFlow},
		{"RawMessagesAndReportsKeptAndListed", testRawAndReports},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

func testAttemptsPage(t *testing.T, s ActivityStore) {
	ctx := context.Background()
	outcomes := []signin.Outcome{signin.Succeeded, signin.WrongPassword, signin.Pending, signin.Denied, signin.Succeeded}
	for i := range 25 {
		at := &signin.Attempt{ID: fmt.Sprintf("a%02d", i), Kind: signin.SignInKind, Identifier: "p@example.com", AccountID: "acc",
			Origin:  request.Origin{DeviceID: "d", IP: "192.0.2.1", UserAgent: "UA", Time: t0.Add(time.Duration(i/2) * time.Minute)},
			Outcome: outcomes[i%len(outcomes)], Cause: request.PasswordKnown}
		if err := s.RecordAttempt(ctx, at); err != nil {
			t.Fatal(err)
		}
	}
	s.RecordAttempt(ctx, &signin.Attempt{ID: "other", Kind: signin.SignInKind, AccountID: "acc2", Origin: request.Origin{Time: t0}, Outcome: signin.Succeeded})
	// Pages of 10 by the (time, id) cursor cover all 25, newest first, once
	// each, although attempts share times.
	var seen []string
	q := signin.AttemptQuery{Limit: 10}
	for {
		page, err := s.AttemptsPage(ctx, "acc", q)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range page {
			seen = append(seen, a.ID)
		}
		if len(page) < 10 {
			break
		}
		last := page[len(page)-1]
		q.Before, q.BeforeID = last.Origin.Time, last.ID
	}
	if len(seen) != 25 || seen[0] != "a24" || seen[24] != "a00" {
		t.Fatalf("paged: %v", seen)
	}
	for i := 1; i < len(seen); i++ {
		if seen[i] >= seen[i-1] {
			t.Fatalf("not newest first: %v", seen)
		}
	}
	failed, err := s.AttemptsPage(ctx, "acc", signin.AttemptQuery{FailedOnly: true, Limit: 100})
	if err != nil || len(failed) != 10 {
		t.Fatalf("failures: %d %v", len(failed), err)
	}
	for _, a := range failed {
		if a.Outcome == signin.Succeeded || a.Outcome == signin.Pending || a.Cause != request.PasswordKnown {
			t.Fatalf("failures only: %+v", a)
		}
	}
	recent, _ := s.AttemptsPage(ctx, "acc", signin.AttemptQuery{Since: t0.Add(10 * time.Minute), Limit: 100})
	if len(recent) != 5 {
		t.Fatalf("since: %d", len(recent))
	}
	// The admin API's filters: a time range, an outcome, a cause.
	for _, c := range []struct {
		q    signin.AttemptQuery
		want int
	}{
		{signin.AttemptQuery{Outcome: signin.Denied}, 5},
		{signin.AttemptQuery{Until: t0.Add(2 * time.Minute)}, 4},
		{signin.AttemptQuery{Since: t0.Add(2 * time.Minute), Until: t0.Add(4 * time.Minute)}, 4},
		{signin.AttemptQuery{Cause: request.PasswordKnown, Outcome: signin.Succeeded}, 10},
		{signin.AttemptQuery{Cause: request.Mistyped}, 0},
	} {
		c.q.Limit = 100
		got, err := s.AttemptsPage(ctx, "acc", c.q)
		if err != nil || len(got) != c.want {
			t.Errorf("%+v: %d attempts, want %d (%v)", c.q, len(got), c.want, err)
		}
	}
}

// testMessageFilters: an account's messages by time range, cause and
// reference (the admin API's filters), newest first, withheld ones never.
func testMessageFilters(t *testing.T, s ActivityStore) {
	ctx := context.Background()
	causes := []request.Cause{request.PasswordKnown, request.OldDevice, ""}
	var refs []string
	for i := range 9 {
		m := &outbox.Message{ID: fmt.Sprintf("m%02d", i), Reference: random.Reference(), AccountID: "acc", Purpose: request.SecondStep, Cause: causes[i%3],
			Channel: request.Email, To: "p@example.com", Language: "en", Subject: "s", Text: "t", CreatedAt: t0.Add(time.Duration(i) * time.Minute),
			Status: outbox.Sent, NextAttemptAt: t0}
		if i == 8 {
			m.Status = outbox.Withheld
		}
		if err := s.EnqueueMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
		refs = append(refs, m.Reference)
	}
	for _, c := range []struct {
		q    outbox.AccountQuery
		want []string
	}{
		{outbox.AccountQuery{}, []string{"m07", "m06", "m05", "m04", "m03", "m02", "m01", "m00"}},
		{outbox.AccountQuery{Since: t0.Add(2 * time.Minute), Until: t0.Add(5 * time.Minute)}, []string{"m04", "m03", "m02"}},
		{outbox.AccountQuery{Cause: request.PasswordKnown}, []string{"m06", "m03", "m00"}},
		{outbox.AccountQuery{Cause: request.PasswordKnown, Until: t0.Add(6 * time.Minute)}, []string{"m03", "m00"}},
		{outbox.AccountQuery{Reference: refs[4]}, []string{"m04"}},
		{outbox.AccountQuery{Reference: refs[8]}, nil},
	} {
		c.q.Limit = 100
		got, err := s.AccountMessages(ctx, "acc", c.q)
		var ids []string
		for _, m := range got {
			ids = append(ids, m.ID)
		}
		if err != nil || fmt.Sprint(ids) != fmt.Sprint(c.want) {
			t.Errorf("%+v: %v, want %v (%v)", c.q, ids, c.want, err)
		}
	}
}

func testAccountDevices(t *testing.T, s ActivityStore) {
	ctx := context.Background()
	a := newAccount("devs@example.com")
	s.CreateAccount(ctx, a)
	for i, id := range []string{"dev-old", "dev-new"} {
		s.CreateDevice(ctx, &device.Device{ID: id, TokenHash: device.HashToken(id), FirstSeen: t0, LastSeen: t0, IP: "192.0.2.9", UserAgent: "UA", Browser: "Firefox 3", OS: "Linux"})
		s.MarkUsed(ctx, a.ID, id, t0.Add(time.Duration(i)*time.Hour))
	}
	if at, err := s.UsedAt(ctx, a.ID, "dev-new"); err != nil || !at.Equal(t0.Add(time.Hour)) {
		t.Fatalf("used at: %v %v", at, err)
	}
	if at, err := s.UsedAt(ctx, a.ID, "never"); err != nil || !at.IsZero() {
		t.Fatalf("never used: %v %v", at, err)
	}
	s.Trust(ctx, a.ID, "dev-old", t0.Add(48*time.Hour))
	if ok, err := s.RenameDevice(ctx, a.ID, "dev-old", "台所のiPad"); !ok || err != nil {
		t.Fatalf("rename: %v %v", ok, err)
	}
	if ok, _ := s.RenameDevice(ctx, "someone-else", "dev-old", "x"); ok {
		t.Fatal("renamed another account's device")
	}
	devs, err := s.AccountDevices(ctx, a.ID)
	if err != nil || len(devs) != 2 || devs[0].ID != "dev-new" || devs[1].Name != "台所のiPad" || !devs[1].TrustedUntil.Equal(t0.Add(48*time.Hour)) ||
		devs[1].Browser != "Firefox 3" || !devs[0].FirstUsed.Equal(t0.Add(time.Hour)) {
		t.Fatalf("devices: %+v %v", devs, err)
	}
	if err := s.ForgetDevice(ctx, a.ID, "dev-old"); err != nil {
		t.Fatal(err)
	}
	if used, _ := s.UsedBy(ctx, a.ID, "dev-old"); used {
		t.Fatal("a forgotten device is still known")
	}
	if until, _ := s.TrustedUntil(ctx, a.ID, "dev-old"); !until.IsZero() {
		t.Fatal("a forgotten device is still trusted")
	}
}

func testSessionRevocations(t *testing.T, s ActivityStore) {
	ctx := context.Background()
	a := newAccount("revoke@example.com")
	s.CreateAccount(ctx, a)
	mk := func(tok, dev string, abs time.Duration) *session.Session {
		ss := &session.Session{ID: random.ID(), TokenHash: session.HashToken(tok), AccountID: a.ID, DeviceID: dev, CreatedAt: t0,
			LastSeenAt: t0, AuthenticatedAt: t0, IdleTimeout: time.Hour, AbsoluteExpiresAt: t0.Add(abs), IP: "192.0.2.1"}
		if err := s.CreateSession(ctx, ss); err != nil {
			t.Fatal(err)
		}
		return ss
	}
	here, phone1, phone2, laptop := mk("here", "d1", 24*time.Hour), mk("p1", "d2", 24*time.Hour), mk("p2", "d2", 24*time.Hour), mk("lap", "d3", 24*time.Hour)
	mk("expired", "d3", time.Minute)
	list, err := s.AccountSessions(ctx, a.ID, t0.Add(time.Hour))
	if err != nil || len(list) != 4 {
		t.Fatalf("live sessions: %d %v", len(list), err)
	}
	if ok, _ := s.RevokeAccountSession(ctx, "someone-else", laptop.ID, t0); ok {
		t.Fatal("revoked another account's session")
	}
	if err := s.RevokeDeviceSessions(ctx, a.ID, "d2", t0); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{phone1.ID, phone2.ID} {
		for _, l := range mustSessions(t, s, a.ID) {
			if l.ID == id {
				t.Fatal("a session of the signed-out device is live")
			}
		}
	}
	if err := s.RevokeOtherSessions(ctx, a.ID, here.ID, t0); err != nil {
		t.Fatal(err)
	}
	if l := mustSessions(t, s, a.ID); len(l) != 1 || l[0].ID != here.ID {
		t.Fatalf("all but here: %+v", l)
	}
	if ok, err := s.RevokeAccountSession(ctx, a.ID, here.ID, t0); !ok || err != nil {
		t.Fatalf("revoke one: %v %v", ok, err)
	}
	if ok, _ := s.RevokeAccountSession(ctx, a.ID, here.ID, t0); ok {
		t.Fatal("revoked twice")
	}
}

func mustSessions(t *testing.T, s ActivityStore, accountID string) []*session.Session {
	t.Helper()
	l, err := s.AccountSessions(context.Background(), accountID, t0)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func testAnswers(t *testing.T, s ActivityStore) {
	ctx := context.Background()
	a := newAccount("answers@example.com")
	s.CreateAccount(ctx, a)
	for i, said := range []activity.Said{activity.Me, activity.NotMe} {
		err := s.RecordAnswer(ctx, &activity.Answer{ID: random.ID(), AccountID: a.ID, MessageID: "m", Reference: "GH-AAAA-BBBB",
			ChallengeID: "ch", AttemptID: "at", Cause: request.PasswordKnown, Said: said,
			Actions: []activity.Action{activity.DeniedAttempt, activity.SignedOutAll},
			Origin:  request.Origin{DeviceID: "d", IP: "192.0.2.3", UserAgent: "UA", Time: t0.Add(time.Duration(i) * time.Minute)}})
		if err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Answers(ctx, a.ID, "ch", "")
	if err != nil || len(got) != 2 || got[0].Said != activity.NotMe || len(got[0].Actions) != 2 || got[0].Actions[1] != activity.SignedOutAll ||
		!got[0].Origin.Time.Equal(t0.Add(time.Minute)) || got[1].Said != activity.Me {
		t.Fatalf("answers by request: %+v %v", got, err)
	}
	if got, _ := s.Answers(ctx, a.ID, "", "at"); len(got) != 2 {
		t.Fatalf("answers by attempt: %d", len(got))
	}
	if got, _ := s.Answers(ctx, "someone-else", "ch", "at"); len(got) != 0 {
		t.Fatal("another account's answers")
	}
	if got, err := s.DeniedAttempts(ctx, a.ID, t0); err != nil || len(got) != 1 || !got["at"] {
		t.Fatalf("denied attempts: %v %v", got, err)
	}
	if d, err := s.Disowned(ctx, "ch"); err != nil || !d {
		t.Fatalf("disowned: %v %v", d, err)
	}
	if d, _ := s.Disowned(ctx, "other"); d {
		t.Fatal("an unanswered request is disowned")
	}
	// Requests in one query, with whether each was disowned.
	open := &code.Challenge{ID: "ch", Purpose: request.SecondStep, Cause: request.PasswordKnown, AccountID: a.ID, Channel: request.Email,
		Destination: a.Email, Origin: request.Origin{DeviceID: "d", IP: "192.0.2.3", UserAgent: "UA"}, CreatedAt: t0, SentAt: t0, ExpiresAt: t0.Add(time.Hour)}
	other := *open
	other.ID = "other"
	for _, c := range []*code.Challenge{open, &other} {
		if err := s.CreateChallenge(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	reqs, err := s.Requests(ctx, []string{"ch", "other", "missing"})
	if err != nil || len(reqs) != 2 || !reqs["ch"].Disowned || reqs["other"].Disowned || reqs["ch"].Challenge.Origin.IP != "192.0.2.3" ||
		!reqs["ch"].Challenge.CreatedAt.Equal(t0) {
		t.Fatalf("requests: %+v %v", reqs, err)
	}
	if reqs, err := s.Requests(ctx, nil); err != nil || len(reqs) != 0 {
		t.Fatalf("no requests: %v %v", reqs, err)
	}
	if got, _ := s.DeniedAttempts(ctx, a.ID, t0.Add(time.Hour)); len(got) != 0 {
		t.Fatalf("denied attempts since later: %v", got)
	}
	// A block matches the device or the network, until it ends.
	s.BlockSender(ctx, &code.Block{Destination: "+819011112222", DeviceID: "dev", IP: "198.51.100.1", CreatedAt: t0, Until: t0.Add(24 * time.Hour)})
	for _, c := range []struct {
		dev, ip string
		at      time.Time
		want    bool
	}{
		{"dev", "", t0, true}, {"", "198.51.100.1", t0, true}, {"other", "198.51.100.2", t0, false},
		{"", "", t0, false}, {"dev", "", t0.Add(25 * time.Hour), false},
	} {
		if got, err := s.SenderBlocked(ctx, "+819011112222", c.dev, c.ip, c.at); err != nil || got != c.want {
			t.Errorf("blocked(%q, %q, %v) = %v %v, want %v", c.dev, c.ip, c.at, got, err, c.want)
		}
	}
	// The compromised mark, cleared by a new password (not by a rehash).
	s.MarkPasswordCompromised(ctx, a.ID, t0)
	if got, _ := s.AccountByID(ctx, a.ID); !got.PasswordCompromisedAt.Equal(t0) || !got.Alerts.Email || got.Alerts.SMS {
		t.Fatalf("marked: %+v", got)
	}
	s.SetPasswordHash(ctx, a.ID, "$argon2id$rehash", t0, false)
	if got, _ := s.AccountByID(ctx, a.ID); got.PasswordCompromisedAt.IsZero() {
		t.Fatal("a rehash cleared the mark")
	}
	s.SetPasswordHash(ctx, a.ID, "$argon2id$new", t0, true)
	if got, _ := s.AccountByID(ctx, a.ID); !got.PasswordCompromisedAt.IsZero() {
		t.Fatal("a new password left the mark")
	}
	s.SetAlerts(ctx, a.ID, account.Alerts{SMS: true})
	if got, _ := s.AccountByID(ctx, a.ID); got.Alerts.Email || !got.Alerts.SMS {
		t.Fatalf("alerts: %+v", got.Alerts)
	}
	// Whose confirmed phone a number is.
	if id, err := s.PhoneOwner(ctx, a.Phone); err != nil || id != "" {
		t.Fatalf("an unconfirmed number has an owner: %q %v", id, err)
	}
	s.SetPhone(ctx, a.ID, a.Phone, t0)
	if id, _ := s.PhoneOwner(ctx, a.Phone); id != a.ID {
		t.Fatalf("owner: %q", id)
	}
	// A message by its reference.
	m := &outbox.Message{ID: random.ID(), Reference: random.Reference(), AccountID: a.ID, Purpose: request.SecondStep, Cause: request.PasswordKnown,
		Channel: request.Email, To: a.Email, CreatedAt: t0, Status: outbox.Queued, NextAttemptAt: t0}
	s.EnqueueMessage(ctx, m)
	if got, err := s.MessageByReference(ctx, m.Reference); err != nil || got.ID != m.ID || got.Cause != request.PasswordKnown {
		t.Fatalf("by reference: %+v %v", got, err)
	}
	if _, err := s.MessageByReference(ctx, "GH-NONE-NONE"); err != outbox.ErrNotFound {
		t.Fatalf("unknown reference: %v", err)
	}
}

// testReferenceInFlow: the outbox tries another reference when one is
// taken, inside the flow's transaction; the store's refusal must leave
// that transaction usable (on PostgreSQL a failed statement would abort
// it).
func testReferenceInFlow(t *testing.T, s ActivityStore) {
	ctx := context.Background()
	first := &outbox.Message{ID: random.ID(), Reference: "GH-TAKE-N000", Purpose: request.PasswordChanged, Channel: request.Email,
		To: "r@example.com", CreatedAt: t0, Status: outbox.Queued, NextAttemptAt: t0}
	if err := s.EnqueueMessage(ctx, first); err != nil {
		t.Fatal(err)
	}
	again := *first
	again.ID = random.ID()
	err := s.InTx(ctx, func(ctx context.Context) error {
		if err := s.EnqueueMessage(ctx, &again); err != outbox.ErrDuplicateReference {
			t.Errorf("a taken reference: %v", err)
		}
		again.Reference = "GH-FRES-H000"
		return s.EnqueueMessage(ctx, &again)
	})
	if err != nil {
		t.Fatalf("the flow after a taken reference: %v", err)
	}
	if got, err := s.MessageByReference(ctx, "GH-FRES-H000"); err != nil || got.ID != again.ID {
		t.Fatalf("the retried message: %+v %v", got, err)
	}
}
