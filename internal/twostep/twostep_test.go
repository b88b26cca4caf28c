package twostep_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"gatehouse/internal/account"
	"gatehouse/internal/backup"
	"gatehouse/internal/clock"
	"gatehouse/internal/code"
	"gatehouse/internal/crypt"
	"gatehouse/internal/limit"
	"gatehouse/internal/method"
	"gatehouse/internal/notice"
	"gatehouse/internal/outbox"
	"gatehouse/internal/passkey"
	"gatehouse/internal/phone"
	"gatehouse/internal/random"
	"gatehouse/internal/request"
	"gatehouse/internal/sqlite"
	"gatehouse/internal/totp"
	"gatehouse/internal/twostep"
)

// told records the notices the service sends.
type told struct{ ns []notice.Notice }

func (t *told) Send(_ context.Context, n notice.Notice) (*outbox.Message, error) {
	t.ns = append(t.ns, n)
	return &outbox.Message{}, nil
}

func (t *told) purposes() []request.Purpose {
	var out []request.Purpose
	for _, n := range t.ns {
		out = append(out, n.Purpose)
	}
	return out
}

type fixture struct {
	forgot int // sessions forgotten after a phone change
	svc    *twostep.Service
	db     *sqlite.DB
	told   *told
	clk    *clock.Fake
	a      *account.Account
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "t.db"), true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	box, err := crypt.New(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC))
	keys, err := passkey.New(passkey.Config{RPID: "localhost", Origin: "http://localhost:8080", DisplayName: "G", Store: db, Clock: clk.Clock()})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{db: db, told: &told{}, clk: clk}
	apps := &totp.Service{Store: db, Box: box, Issuer: "G", Clock: clk.Clock()}
	backups := &backup.Service{Store: db, Key: make([]byte, 32), Clock: clk.Clock()}
	codes := &code.Service{Store: db, Blocks: db, Key: make([]byte, 32), TTL: 10 * time.Minute, Cooldown: time.Minute, MaxFailures: 5,
		MaxSends: 3, Clock: clk.Clock(), Limits: limit.None()}
	f.svc = &twostep.Service{
		Apps: apps, Backup: backups, Passkeys: keys, Notices: f.told, Tx: db, Forget: func(string) { f.forgot++ },
		Phone: &phone.Service{Store: db, Codes: codes, Notices: f.told, Region: "JP", Clock: clk.Clock(), Tx: db},
		Set: method.NewSet(method.PasskeyMethod{Keys: keys}, method.AppMethod{Store: db, Codes: apps},
			method.SMSMethod{}, method.BackupMethod{Codes: backups}, method.EmailMethod{}),
	}
	f.a = &account.Account{ID: random.ID(), Email: "holder@example.com", PasswordHash: "x", Language: "en",
		Status: account.Active, CreatedAt: clk.Now(), ConfirmedAt: clk.Now(), PasswordChangedAt: clk.Now()}
	if err := db.CreateAccount(ctx, f.a); err != nil {
		t.Fatal(err)
	}
	return f
}

// addApp enrols and confirms an app, returning what confirming did.
func (f *fixture) addApp(t *testing.T) *twostep.Enabled {
	t.Helper()
	ctx := context.Background()
	app, key, err := f.svc.Apps.Begin(ctx, f.a.ID, f.a.Email)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := totp.Code(key.Secret, totp.Step(f.clk.Now()))
	res, err := f.svc.ConfirmApp(ctx, f.a, app.ID, "Phone", c, request.Origin{Time: f.clk.Now()})
	if err != nil {
		t.Fatal(err)
	}
	f.clk.Advance(time.Minute) // the next app code is another step
	return res
}

// TestWays_StrongestFirstAndAConfirmedPhoneOnly: no method means off; an
// app is a way; a number given at sign-up is not, a confirmed one is, after
// the app; a passkey comes first.
func TestWays_StrongestFirstAndAConfirmedPhoneOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	if ways, err := f.svc.Ways(ctx, f.a); err != nil || len(ways) != 0 {
		t.Fatalf("no method: %v %v", ways, err)
	}
	if res := f.addApp(t); !res.TurnedOn || len(res.BackupCodes) != 10 {
		t.Fatalf("first app: %+v", res)
	}
	f.a.Phone = "+819012345678" // typed at sign-up, never confirmed
	if ways, _ := f.svc.Ways(ctx, f.a); !slices.Equal(ways, []method.Kind{method.App}) {
		t.Fatalf("with an unconfirmed number: %v", ways)
	}
	f.a.PhoneConfirmedAt = f.clk.Now()
	if ways, _ := f.svc.Ways(ctx, f.a); !slices.Equal(ways, []method.Kind{method.App, method.SMS}) {
		t.Fatalf("with a confirmed number: %v", ways)
	}
	if err := f.db.CreatePasskey(ctx, &passkey.Credential{ID: random.ID(), AccountID: f.a.ID, Name: "Key",
		CredentialID: []byte("cred"), Data: []byte(`{}`), CreatedAt: f.clk.Now()}); err != nil {
		t.Fatal(err)
	}
	if ways, _ := f.svc.Ways(ctx, f.a); !slices.Equal(ways, []method.Kind{method.Passkey, method.App, method.SMS}) {
		t.Fatalf("with a passkey: %v", ways)
	}
}

// TestWays_OnlyABlockedPasskeyKeepsTwoStepOn: a passkey blocked as a
// possible copy does not pass, but two-step verification does not quietly
// turn off because of it: the passkey step is still asked (and offers the
// other ways, a backup code among them).
func TestWays_OnlyABlockedPasskeyKeepsTwoStepOn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	if err := f.db.CreatePasskey(ctx, &passkey.Credential{ID: random.ID(), AccountID: f.a.ID, Name: "Key",
		CredentialID: []byte("cred"), Data: []byte(`{}`), Flagged: true, CreatedAt: f.clk.Now()}); err != nil {
		t.Fatal(err)
	}
	ways, err := f.svc.Ways(ctx, f.a)
	if err != nil || !slices.Equal(ways, []method.Kind{method.Passkey}) {
		t.Fatalf("only a blocked passkey: %v %v", ways, err)
	}
	m, _ := f.svc.Methods(ctx, f.a)
	if !m.On() {
		t.Fatal("a blocked passkey turned two-step verification off")
	}
}

// TestOff_RemovesEveryMethodAndTellsTheHolder: turning off removes the
// apps, passkeys and backup codes, and the holder is told; removing the
// last app on its own does the same.
func TestOff_RemovesEveryMethodAndTellsTheHolder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	f.addApp(t)
	f.addApp(t)
	if err := f.db.CreatePasskey(ctx, &passkey.Credential{ID: random.ID(), AccountID: f.a.ID, Name: "Key",
		CredentialID: []byte("cred"), Data: []byte(`{}`), CreatedAt: f.clk.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Off(ctx, f.a, request.Origin{Time: f.clk.Now()}); err != nil {
		t.Fatal(err)
	}
	m, _ := f.svc.Methods(ctx, f.a)
	if m.On() || len(m.Apps) != 0 || len(m.Passkeys) != 0 || m.BackupLeft != 0 {
		t.Fatalf("after turning off: %+v", m)
	}
	if got := f.told.purposes(); got[len(got)-1] != request.TwoStepOff {
		t.Fatalf("holder told %v", got)
	}
	res := f.addApp(t)
	if !res.TurnedOn {
		t.Fatal("the first app after turning off did not turn it on again")
	}
	apps, _ := f.svc.Apps.Store.Apps(ctx, f.a.ID)
	off, err := f.svc.RemoveApp(ctx, f.a, apps[0].ID, request.Origin{Time: f.clk.Now()})
	if err != nil || !off {
		t.Fatalf("removing the last app: off=%v %v", off, err)
	}
	if left, _ := f.svc.Backup.Left(ctx, f.a.ID); left != 0 {
		t.Fatalf("%d backup codes left after the last method went", left)
	}
}

// addPhone enrols number by the code sent to it.
func (f *fixture) addPhone(t *testing.T, number string) *twostep.Enabled {
	t.Helper()
	ctx := context.Background()
	o := request.Origin{DeviceID: "dev", Time: f.clk.Now()}
	ch, err := f.svc.Phone.Begin(ctx, f.a, number, o)
	if err != nil {
		t.Fatal(err)
	}
	sent := f.told.ns[len(f.told.ns)-1]
	if sent.Channel != request.SMS || sent.Code == "" {
		t.Fatalf("enrolment code %+v", sent)
	}
	res, err := f.svc.ConfirmPhone(ctx, f.a, ch.ID, sent.Code, o)
	if err != nil {
		t.Fatal(err)
	}
	// The account as the store now has it (the pages read it so).
	if f.a, err = f.db.AccountByID(ctx, f.a.ID); err != nil {
		t.Fatal(err)
	}
	f.clk.Advance(2 * time.Minute)
	return res
}

// TestPhone_FirstTurnsOnAReplacementTellsTheOldNumber: a confirmed number
// turns two-step verification on (with backup codes) and is a way; a new
// number replaces it, the old one told by SMS; removing the last method
// turns it off and tells the number. Every change drops the cached
// sessions, which carry the account.
func TestPhone_FirstTurnsOnAReplacementTellsTheOldNumber(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	if _, err := f.svc.ConfirmPhone(ctx, f.a, "no-such-request", "123456", request.Origin{Time: f.clk.Now()}); err == nil {
		t.Fatal("an unknown enrolment confirmed")
	}
	if res := f.addPhone(t, "090-1234-5678"); !res.TurnedOn || len(res.BackupCodes) != 10 || res.Replaced {
		t.Fatalf("first phone: %+v", res)
	}
	if ways, _ := f.svc.Ways(ctx, f.a); !slices.Equal(ways, []method.Kind{method.SMS}) {
		t.Fatalf("ways %v", ways)
	}
	f.told.ns = nil
	if res := f.addPhone(t, "090-8765-4321"); res.TurnedOn || !res.Replaced {
		t.Fatalf("second phone: %+v", res)
	}
	var toOld bool
	for _, n := range f.told.ns {
		toOld = toOld || (n.Purpose == request.PhoneChanged && n.Channel == request.SMS && n.To == "+819012345678")
	}
	if !toOld {
		t.Fatalf("the replaced number was not told: %+v", f.told.ns)
	}
	off, err := f.svc.RemovePhone(ctx, f.a, request.Origin{Time: f.clk.Now()})
	if err != nil || !off {
		t.Fatalf("removing the only method: off=%v %v", off, err)
	}
	if got := f.told.purposes(); !slices.Contains(got, request.PhoneRemoved) || !slices.Contains(got, request.TwoStepOff) {
		t.Fatalf("told %v", got)
	}
	if f.forgot != 3 {
		t.Fatalf("sessions forgotten %d times, want after each of 3 changes", f.forgot)
	}
	b := *f.a
	b.Phone, b.PhoneConfirmedAt = "", time.Time{}
	if _, err := f.svc.RemovePhone(ctx, &b, request.Origin{Time: f.clk.Now()}); !errors.Is(err, code.ErrNotFound) {
		t.Fatalf("removing no number: %v", err)
	}
}

// TestRemovePhone_OtherMethodsKeepTwoStepOn: with an app beside it, the
// number goes and two-step verification stays on; the holder is told the
// method went.
func TestRemovePhone_OtherMethodsKeepTwoStepOn(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.addApp(t)
	f.addPhone(t, "090-1234-5678")
	off, err := f.svc.RemovePhone(context.Background(), f.a, request.Origin{Time: f.clk.Now()})
	if err != nil || off {
		t.Fatalf("off=%v %v", off, err)
	}
	if got := f.told.purposes(); got[len(got)-1] != request.MethodRemoved {
		t.Fatalf("told %v", got)
	}
}

// TestPasskeys_RemoveAndRenewBackupCodes: removing one passkey of two
// keeps two-step on, the last turns it off; new backup codes replace the
// old set whole.
func TestPasskeys_RemoveAndRenewBackupCodes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	var ids []string
	for _, c := range []string{"a", "b"} {
		id := random.ID()
		ids = append(ids, id)
		if err := f.db.CreatePasskey(ctx, &passkey.Credential{ID: id, AccountID: f.a.ID, Name: "Key " + c,
			CredentialID: []byte("cred-" + c), Data: []byte(`{}`), CreatedAt: f.clk.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	f.addApp(t) // two-step is on already (the passkeys), so no backup codes yet
	if left, _ := f.svc.Backup.Left(ctx, f.a.ID); left != 0 {
		t.Fatalf("%d backup codes before any were made", left)
	}
	codes, err := f.svc.NewBackupCodes(ctx, f.a, request.Origin{Time: f.clk.Now()})
	if left, _ := f.svc.Backup.Left(ctx, f.a.ID); err != nil || len(codes) != 10 || left != 10 ||
		f.told.purposes()[len(f.told.ns)-1] != request.BackupRenewed {
		t.Fatalf("NewBackupCodes = %d codes, %v; told %v", len(codes), err, f.told.purposes())
	}
	apps, _ := f.svc.Apps.Store.Apps(ctx, f.a.ID)
	if off, err := f.svc.RemoveApp(ctx, f.a, apps[0].ID, request.Origin{Time: f.clk.Now()}); err != nil || off {
		t.Fatalf("RemoveApp with passkeys left: off=%v %v", off, err)
	}
	if off, err := f.svc.RemovePasskey(ctx, f.a, ids[0], request.Origin{Time: f.clk.Now()}); err != nil || off {
		t.Fatalf("first passkey: off=%v %v", off, err)
	}
	if off, err := f.svc.RemovePasskey(ctx, f.a, ids[1], request.Origin{Time: f.clk.Now()}); err != nil || !off {
		t.Fatalf("last passkey: off=%v %v", off, err)
	}
	if left, _ := f.svc.Backup.Left(ctx, f.a.ID); left != 0 {
		t.Fatalf("%d backup codes left once off", left)
	}
}

// TestPasskeysOff_ConfirmAndRemoveSayWhy: without passkeys (a public URL
// that cannot hold them) adding one says why and removing finds none.
func TestPasskeysOff_ConfirmAndRemoveSayWhy(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.svc.Passkeys = nil
	ctx := context.Background()
	if _, _, err := f.svc.ConfirmPasskey(ctx, f.a, "c", "Key", nil, request.Origin{}); !errors.Is(err, passkey.ErrRelyingParty) {
		t.Fatalf("ConfirmPasskey = %v", err)
	}
	if _, err := f.svc.RemovePasskey(ctx, f.a, "p", request.Origin{}); !errors.Is(err, passkey.ErrNotFound) {
		t.Fatalf("RemovePasskey = %v", err)
	}
}
