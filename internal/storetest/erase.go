package storetest

import (
	"context"
	"errors"
	"gatehouse/internal/delivery"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/account"
	"gatehouse/internal/activity"
	"gatehouse/internal/check"
	"gatehouse/internal/code"
	"gatehouse/internal/device"
	"gatehouse/internal/limit"
	"gatehouse/internal/oidc"
	"gatehouse/internal/operator"
	"gatehouse/internal/outbox"
	"gatehouse/internal/passkey"
	"gatehouse/internal/random"
	"gatehouse/internal/request"
	"gatehouse/internal/session"
	"gatehouse/internal/signin"
	"gatehouse/internal/totp"
	"gatehouse/internal/twostep"
)

// EraseStore is what deleting an account needs of a store.
type EraseStore interface {
	ActivityStore
	OIDCStore
	account.Eraser
	delivery.Store
	operator.Store
	twostep.ResetStore
	// ReviewReport marks a report handled by an operator (the console).
	ReviewReport(ctx context.Context, id string, review check.Review, by string, at time.Time) error
}

// Inspect reads a database's rows directly, for the erase suite to count
// what is left of an account whatever the capability interfaces show.
type Inspect struct {
	// Tables lists every table of the schema with its columns.
	Tables func(t *testing.T) map[string][]string
	// Count counts the rows of table whose column equals value.
	Count func(t *testing.T, table, column, value string) int
}

// holdsNoAccount are the tables that keep nothing of any one account:
// installation-wide keys and settings, and counters per network. A new
// table must be named here, or have an account_id column, or be in the
// erase suite's traces, or the suite fails: whoever adds it decides
// whether deleting an account must delete from it (account.Eraser).
var holdsNoAccount = []string{
	"installation", "schema_migrations", "limit_windows", "api_keys",
	"oidc_signing_keys", "oidc_clients", "oidc_client_uris",
}

// RunErase runs the account deletion suite: after EraseAccount, no row of
// any table names the account, its address or its number, and another
// account's rows are all still there.
func RunErase(t *testing.T, open func(t *testing.T) (EraseStore, Inspect)) {
	t.Run("NothingOfTheAccountIsLeft", func(t *testing.T) {
		s, in := open(t)
		testErase(t, s, in)
	})
}

// traceOf is one table's column that finds an account's rows without its
// id, with the value the seed put there for an account.
type traceOf struct {
	table, column string
	value         func(a *account.Account, seeded *erasable) string
}

// erasable is what the suite seeded for one account.
type erasable struct {
	ownDevice, messageID, sessionID, familyID string
}

var traces = []traceOf{
	{"messages", "destination", func(a *account.Account, _ *erasable) string { return strings.ToLower(a.Email) }},
	{"challenges", "destination", func(a *account.Account, _ *erasable) string { return strings.ToLower(a.Email) }},
	{"signin_attempts", "identifier", func(a *account.Account, _ *erasable) string { return strings.ToLower(a.Email) }},
	{"signups", "email_key", func(a *account.Account, _ *erasable) string { return strings.ToLower(a.Email) }},
	{"send_blocks", "destination", func(a *account.Account, _ *erasable) string { return strings.ToLower(a.Email) }},
	{"limit_sends", "destination", func(a *account.Account, _ *erasable) string { return a.Phone }},
	{"guess_counters", "subject", func(a *account.Account, _ *erasable) string { return "email:" + strings.ToLower(a.Email) }},
	{"limit_seen", "subject", func(a *account.Account, _ *erasable) string { return "password:" + a.ID }},
	{"limit_refusals", "subject", func(a *account.Account, _ *erasable) string { return a.ID }},
	{"message_raw", "message_id", func(_ *account.Account, e *erasable) string { return e.messageID }},
	{"devices", "id", func(_ *account.Account, e *erasable) string { return e.ownDevice }},
	{"sessions", "id", func(_ *account.Account, e *erasable) string { return e.sessionID }},
	{"accounts", "id", func(a *account.Account, _ *erasable) string { return a.ID }},
	{"oidc_refresh_tokens", "family_id", func(_ *account.Account, e *erasable) string { return e.familyID }},
	// What it did as an operator stays in the audit trail, without naming it.
	{"audit_log", "operator_id", func(a *account.Account, _ *erasable) string { return a.ID }},
	{"audit_log", "operator_email", func(a *account.Account, _ *erasable) string { return a.Email }},
	{"reports", "handled_by", func(a *account.Account, _ *erasable) string { return a.Email }},
}

func testErase(t *testing.T, s EraseStore, in Inspect) {
	ctx := context.Background()
	gone := newAccount("Erase.Me@example.com")
	kept := newAccount("keep@example.com")
	kept.Phone = "+819087654321"
	shared := &device.Device{ID: random.ID(), TokenHash: device.HashToken(random.Token()), FirstSeen: t0, LastSeen: t0, IP: "192.0.2.9", UserAgent: "UA"}
	if err := s.CreateDevice(ctx, shared); err != nil {
		t.Fatal(err)
	}
	seeded := map[string]*erasable{}
	for _, a := range []*account.Account{gone, kept} {
		if err := s.CreateAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
		seeded[a.ID] = seedErasable(t, s, a, shared.ID)
	}
	// The erased account, as an operator, also handled the other
	// account's report: that report stays, without the operator's address.
	other := &check.Report{ID: random.ID(), AccountID: kept.ID, CreatedAt: t0, Kind: "text", Verdict: check.CannotTell, Content: []byte("c")}
	if err := s.FileReport(ctx, other); err != nil {
		t.Fatal(err)
	}
	if err := s.ReviewReport(ctx, other.ID, check.ReviewGenuine, gone.Email, t0); err != nil {
		t.Fatal(err)
	}

	// Every table is accounted for, and the seed reaches each.
	tables := in.Tables(t)
	var withAccount []string
	for table, cols := range tables {
		switch {
		case slices.Contains(cols, "account_id"):
			withAccount = append(withAccount, table)
		case slices.ContainsFunc(traces, func(tr traceOf) bool { return tr.table == table }), slices.Contains(holdsNoAccount, table):
		default:
			t.Errorf("table %s has no account_id column and is not known to the erase suite: decide whether deleting an account deletes from it (account.Eraser), and say so here", table)
		}
	}
	sort.Strings(withAccount)
	type count struct{ table, column, value string }
	counts := func(a *account.Account) map[count]int {
		out := map[count]int{}
		for _, table := range withAccount {
			out[count{table, "account_id", a.ID}] = in.Count(t, table, "account_id", a.ID)
		}
		for _, tr := range traces {
			v := tr.value(a, seeded[a.ID])
			out[count{tr.table, tr.column, v}] = in.Count(t, tr.table, tr.column, v)
		}
		return out
	}
	before, keptBefore := counts(gone), counts(kept)
	for c, n := range before {
		if n == 0 {
			t.Errorf("the seed left %s.%s = %q empty: seed a row there, so that the suite sees it erased", c.table, c.column, c.value)
		}
	}

	err := s.InTx(ctx, func(ctx context.Context) error {
		if err := s.RevokeAccountSessions(ctx, gone.ID, t0); err != nil {
			return err
		}
		return s.EraseAccount(ctx, gone)
	})
	if err != nil {
		t.Fatalf("erase: %v", err)
	}
	for c, n := range counts(gone) {
		if n != 0 {
			t.Errorf("after erasing: %d rows of %s with %s = %q (%d before)", n, c.table, c.column, c.value, before[c])
		}
	}
	for c, n := range counts(kept) {
		if n != keptBefore[c] {
			t.Errorf("the other account's %s with %s = %q: %d rows, %d before", c.table, c.column, c.value, n, keptBefore[c])
		}
	}
	if n := in.Count(t, "reports", "id", other.ID); n != 1 {
		t.Errorf("the other account's report the erased operator handled: %d rows", n)
	}
	if r, err := s.ReportByID(ctx, other.ID); err != nil || r.HandledBy != operator.ErasedOperator || r.Review != check.ReviewGenuine {
		t.Errorf("that report after erasing: %+v %v, want handled by %q", r, err, operator.ErasedOperator)
	}
	if n := in.Count(t, "devices", "id", shared.ID); n != 1 {
		t.Errorf("the browser both accounts used: %d rows", n)
	}
	if _, err := s.AccountByID(ctx, gone.ID); !errors.Is(err, account.ErrNotFound) {
		t.Errorf("the erased account: %v", err)
	}
	if err := s.EraseAccount(ctx, gone); !errors.Is(err, account.ErrNotFound) {
		t.Errorf("erasing it again: %v, want account.ErrNotFound", err)
	}
}

// seedErasable gives account a a row in every table that can hold one of
// its own, and the rows that name its address without naming it.
func seedErasable(t *testing.T, s EraseStore, a *account.Account, sharedDevice string) *erasable {
	t.Helper()
	ctx := context.Background()
	key := strings.ToLower(a.Email)
	e := &erasable{ownDevice: random.ID(), sessionID: random.ID()}
	o := request.Origin{DeviceID: e.ownDevice, IP: "192.0.2.1", UserAgent: "UA", Time: t0}
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("seed %s: %v", what, err)
		}
	}
	must("device", s.CreateDevice(ctx, &device.Device{ID: e.ownDevice, TokenHash: device.HashToken(random.Token()), FirstSeen: t0, LastSeen: t0, IP: o.IP, UserAgent: o.UserAgent}))
	for _, d := range []string{e.ownDevice, sharedDevice} {
		must("device used", s.MarkUsed(ctx, a.ID, d, t0))
	}
	must("trust", s.Trust(ctx, a.ID, e.ownDevice, t0.Add(time.Hour)))
	for i, d := range []string{e.ownDevice, sharedDevice} {
		id := e.sessionID
		if i > 0 {
			id = random.ID()
		}
		must("session", s.CreateSession(ctx, &session.Session{ID: id, TokenHash: session.HashToken(random.Token()), AccountID: a.ID, DeviceID: d,
			CreatedAt: t0, LastSeenAt: t0, AuthenticatedAt: t0, IdleTimeout: time.Hour, AbsoluteExpiresAt: t0.Add(time.Hour), IP: o.IP}))
	}
	attempt := &signin.Attempt{ID: random.ID(), Kind: signin.SignInKind, Identifier: key, AccountID: a.ID, Origin: o, Outcome: signin.Succeeded}
	must("attempt", s.RecordAttempt(ctx, attempt))
	must("attempt typed before the account", s.RecordAttempt(ctx, &signin.Attempt{ID: random.ID(), Kind: signin.SignInKind, Identifier: key, Origin: o, Outcome: signin.WrongPassword}))
	ch := &code.Challenge{ID: random.ID(), Purpose: request.SecondStep, Cause: request.PasswordKnown, AttemptID: attempt.ID, AccountID: a.ID,
		Channel: request.Email, Destination: key, Origin: o, CodeHash: []byte("h"), Sends: 1, CreatedAt: t0, SentAt: t0, ExpiresAt: t0.Add(time.Hour)}
	must("challenge", s.CreateChallenge(ctx, ch))
	must("decoy challenge", s.CreateChallenge(ctx, &code.Challenge{ID: random.ID(), Purpose: request.ConfirmEmail, Channel: request.Email, Destination: key,
		Origin: o, Sends: 1, CreatedAt: t0, SentAt: t0, ExpiresAt: t0.Add(time.Hour)}))
	m := &outbox.Message{ID: random.ID(), Reference: random.Reference(), AccountID: a.ID, Purpose: request.SecondStep, Cause: request.PasswordKnown, ChallengeID: ch.ID,
		Channel: request.Email, To: key, Language: "en", Subject: "s", Text: "t", CreatedAt: t0, SentAt: t0, Status: outbox.Sent, NextAttemptAt: t0}
	must("message", s.EnqueueMessage(ctx, m))
	e.messageID = m.ID
	must("raw message", s.KeepRaw(ctx, m.ID, []byte("sealed")))
	must("withheld message", s.EnqueueMessage(ctx, &outbox.Message{ID: random.ID(), Reference: random.Reference(), Purpose: request.ConfirmEmail,
		Channel: request.Email, To: key, Language: "en", Subject: "s", Text: "t", CreatedAt: t0, Status: outbox.Withheld, NextAttemptAt: t0}))
	must("answer", s.RecordAnswer(ctx, &activity.Answer{ID: random.ID(), AccountID: a.ID, MessageID: m.ID, Reference: m.Reference, ChallengeID: ch.ID,
		Cause: request.PasswordKnown, Said: activity.Me, Origin: o}))
	rep := &check.Report{ID: random.ID(), AccountID: a.ID, CreatedAt: t0, Kind: "text", Verdict: check.CannotTell, Content: []byte("c"), IP: o.IP,
		Lookalikes: []string{"gatehouse-login.example"}}
	must("report", s.FileReport(ctx, rep))
	// Handled by this account as an operator: its address must not stay
	// on the reports it handled.
	must("report handled", s.ReviewReport(ctx, rep.ID, check.ReviewPhishing, a.Email, t0))
	app := &totp.App{ID: random.ID(), AccountID: a.ID, Name: "phone", Secret: []byte("sealed"), CreatedAt: t0, ConfirmedAt: t0}
	must("app", s.CreateApp(ctx, app))
	_, err := s.UseStep(ctx, a.ID, app.ID, 42, t0)
	must("app step", err)
	must("backup codes", s.ReplaceBackupCodes(ctx, a.ID, [][]byte{[]byte("b1-" + a.ID), []byte("b2-" + a.ID)}, t0))
	must("passkey", s.CreatePasskey(ctx, &passkey.Credential{ID: random.ID(), AccountID: a.ID, Name: "key", CredentialID: []byte("cred-" + a.ID), Data: []byte("{}"), CreatedAt: t0}))
	must("ceremony", s.CreateCeremony(ctx, &passkey.Ceremony{ID: random.ID(), AccountID: a.ID, Kind: passkey.KindRegister, Data: []byte("{}"), CreatedAt: t0, ExpiresAt: t0.Add(time.Minute)}))
	must("password history", s.SetPasswordHash(ctx, a.ID, "$argon2id$new", t0, true))
	rule := limit.GuessRule{Free: 3, FirstDelay: 1e6, MaxDelay: 1e9, Window: 30 * 24 * 3600 * 1e6, WindowLimit: 1000}
	_, _, err = s.TakeGuess(ctx, limit.GuessKey{Secret: limit.Password, Subject: a.ID}, a.ID, rule, t0)
	must("guess", err)
	_, _, err = s.TakeGuess(ctx, limit.GuessKey{Secret: limit.Password, Subject: "email:" + key}, "", rule, t0)
	must("guess at the address", err)
	_, err = s.Seen(ctx, "subj:192.0.2.0/24", "password:"+a.ID, t0.Truncate(time.Hour))
	must("seen", err)
	must("refusal", s.RecordRefusal(ctx, limit.Refusal{Rule: limit.GuessDelay, Subject: a.ID, Origin: o, RetryAt: t0.Add(time.Minute)}))
	_, _, err = s.TakeSend(ctx, a.Phone, t0, 10*time.Minute, 5, 20)
	must("send", err)
	must("block", s.BlockSender(ctx, &code.Block{Destination: key, DeviceID: "someone-else", IP: "198.51.100.0/24", CreatedAt: t0, Until: t0.Add(24 * time.Hour)}))
	must("sign-up", s.CreateSignup(ctx, &account.Signup{ID: random.ID(), Email: a.Email, PasswordHash: "$argon2id$x", Language: "en", CreatedAt: t0}))
	// An application it signed in to: the request, the tokens, the grant,
	// the application's session.
	client := flowClient(t, s, "App of "+a.Email)
	req, _ := doneRequest(t, s, a.ID, client.ID, t0)
	is := newIssue(a.ID, client.ID, req.ID, t0)
	issue(t, s, is)
	e.familyID = is.Family.ID
	must("grant", s.SaveGrant(ctx, &oidc.Grant{AccountID: a.ID, ClientID: client.ID, Scopes: []string{"openid"}, CreatedAt: t0, LastUsedAt: t0}))
	_, err = s.AppSession(ctx, e.sessionID, client.ID, a.ID, random.ID(), t0)
	must("application session", err)
	// It is an operator: its role, what was done to it, what it did.
	must("operator", s.SetOperator(ctx, a.ID, operator.Support, t0))
	must("two-step reset", s.RecordTwoStepReset(ctx, a.ID, t0))
	must("audit about it", s.AddAudit(ctx, &operator.Entry{ID: random.ID(), At: t0, OperatorID: "op", OperatorEmail: "op@example.com",
		Action: operator.ViewAccount, AccountID: a.ID}))
	must("audit by it", s.AddAudit(ctx, &operator.Entry{ID: random.ID(), At: t0, OperatorID: a.ID, OperatorEmail: a.Email,
		Action: operator.SignOutAll, AccountID: "someone-else", Reason: "asked on the phone"}))
	// A security event about it, waiting for its receiver.
	must("delivery", s.EnqueueDelivery(ctx, &delivery.Delivery{ID: random.ID(), Kind: delivery.SET, Target: "https://receiver.example/events",
		AccountID: a.ID, Payload: []byte(`{}`), Status: delivery.Queued, NextAt: t0, CreatedAt: t0}))
	return e
}
