package passkey_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"gatehouse/internal/passkey/passkeytest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gatehouse/internal/account"
	"gatehouse/internal/clock"
	"gatehouse/internal/passkey"
	"gatehouse/internal/random"
	"gatehouse/internal/sqlite"
)

var b64 = base64.RawURLEncoding

const (
	rpID   = "gatehouse.example"
	origin = "https://gatehouse.example"
)

var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// env is a Service on a real SQLite store, with a fake clock.
type env struct {
	t     testing.TB
	store passkey.Store
	db    *sqlite.DB // nil on the in-memory store
	clock *clock.Fake
	svc   *passkey.Service
}

func newEnv(t testing.TB) *env {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"), true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e := withStore(t, db)
	e.db = db
	return e
}

func withStore(t testing.TB, store passkey.Store) *env {
	t.Helper()
	clk := clock.NewFake(t0)
	svc, err := passkey.New(passkey.Config{RPID: rpID, Origin: origin, DisplayName: "Gatehouse", Store: store, Clock: clk.Clock()})
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, store: store, clock: clk, svc: svc}
}

// account makes an account (passkeys refer to it) and returns its id.
func (e *env) account(email string) string {
	e.t.Helper()
	id := random.ID()
	if e.db == nil {
		return id
	}
	a := &account.Account{ID: id, Email: email, PasswordHash: "$argon2id$x", Language: "en", Status: account.Active,
		CreatedAt: t0, ConfirmedAt: t0, PasswordChangedAt: t0}
	if err := e.db.CreateAccount(context.Background(), a); err != nil {
		e.t.Fatal(err)
	}
	return id
}

func (e *env) register(accountID string, a *passkeytest.Authenticator, name string) *passkey.Credential {
	e.t.Helper()
	ctx := context.Background()
	id, options, err := e.svc.BeginRegistration(ctx, accountID, "holder@example.com", "Holder")
	if err != nil {
		e.t.Fatal(err)
	}
	c, err := e.svc.FinishRegistration(ctx, accountID, id, name, a.Create(options))
	if err != nil {
		e.t.Fatalf("registration: %v", err)
	}
	return c
}

func (e *env) login(accountID string, a *passkeytest.Authenticator, opts ...passkeytest.Option) (*passkey.Credential, error) {
	e.t.Helper()
	ctx := context.Background()
	id, options, err := e.svc.BeginLogin(ctx, accountID)
	if err != nil {
		return nil, err
	}
	return e.svc.FinishLogin(ctx, accountID, id, a.Get(options, opts...))
}

func (e *env) discover(a *passkeytest.Authenticator, opts ...passkeytest.Option) (string, *passkey.Credential, error) {
	e.t.Helper()
	ctx := context.Background()
	id, options, err := e.svc.BeginDiscoverable(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.svc.FinishDiscoverable(ctx, id, a.Get(options, opts...))
}

func (e *env) stored(c *passkey.Credential) *passkey.Credential {
	e.t.Helper()
	got, err := e.store.PasskeyByCredentialID(context.Background(), c.CredentialID)
	if err != nil {
		e.t.Fatal(err)
	}
	return got
}

// options decodes what a Begin method hands the browser.
func options(t *testing.T, raw []byte) map[string]any {
	t.Helper()
	var o struct {
		PublicKey map[string]any `json:"publicKey"`
	}
	if err := json.Unmarshal(raw, &o); err != nil || o.PublicKey == nil {
		t.Fatalf("options %s: %v", raw, err)
	}
	return o.PublicKey
}

func credentialIDs(list any) []string {
	var ids []string
	for _, d := range list.([]any) {
		ids = append(ids, d.(map[string]any)["id"].(string))
	}
	return ids
}

func TestRegisterThenSecondStepThenPasswordless_CounterRisesAndIsStored(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	acct := e.account("holder@example.com")
	a := passkeytest.New(t, origin)

	id, raw, err := e.svc.BeginRegistration(ctx, acct, "holder@example.com", "Holder")
	if err != nil {
		t.Fatal(err)
	}
	o := options(t, raw)
	sel := o["authenticatorSelection"].(map[string]any)
	if sel["residentKey"] != "required" || sel["requireResidentKey"] != true || sel["userVerification"] != "preferred" || o["attestation"] != "none" {
		t.Fatalf("creation options: %s", raw)
	}
	user := o["user"].(map[string]any)
	if user["id"] != b64.EncodeToString([]byte(acct)) || user["name"] != "holder@example.com" || o["rp"].(map[string]any)["id"] != rpID {
		t.Fatalf("user and RP in the options: %s", raw)
	}
	if _, ok := o["excludeCredentials"]; ok {
		t.Fatalf("nothing to exclude yet: %s", raw)
	}
	c, err := e.svc.FinishRegistration(ctx, acct, id, "  My laptop ", a.Create(raw))
	if err != nil {
		t.Fatal(err)
	}
	if c.AccountID != acct || c.Name != "My laptop" || !bytes.Equal(c.CredentialID, a.ID) || c.SignCount != 0 || c.Flagged || !c.CreatedAt.Equal(t0) {
		t.Fatalf("registered: %+v", c)
	}
	list, err := e.svc.List(ctx, acct)
	if err != nil || len(list) != 1 || list[0].ID != c.ID {
		t.Fatalf("list: %+v %v", list, err)
	}

	// The second step: the account's passkey is the one allowed.
	id, raw, err = e.svc.BeginLogin(ctx, acct)
	if err != nil {
		t.Fatal(err)
	}
	o = options(t, raw)
	if ids := credentialIDs(o["allowCredentials"]); !slices.Equal(ids, []string{b64.EncodeToString(a.ID)}) || o["userVerification"] != "preferred" {
		t.Fatalf("request options: %s", raw)
	}
	e.clock.Advance(time.Minute)
	got, err := e.svc.FinishLogin(ctx, acct, id, a.Get(raw))
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != c.ID || got.SignCount != 1 {
		t.Fatalf("login: %+v", got)
	}
	if s := e.stored(c); s.SignCount != 1 || !s.LastUsedAt.Equal(t0.Add(time.Minute)) || s.Flagged {
		t.Fatalf("stored after login: %+v", s)
	}

	// Alone: no account named, none allowed, user verification required.
	id, raw, err = e.svc.BeginDiscoverable(ctx)
	if err != nil {
		t.Fatal(err)
	}
	o = options(t, raw)
	if _, ok := o["allowCredentials"]; ok || o["userVerification"] != "required" || o["rpId"] != rpID {
		t.Fatalf("discoverable options: %s", raw)
	}
	e.clock.Advance(time.Minute)
	who, got, err := e.svc.FinishDiscoverable(ctx, id, a.Get(raw))
	if err != nil {
		t.Fatal(err)
	}
	if who != acct || got.ID != c.ID || got.SignCount != 2 {
		t.Fatalf("discoverable: %s %+v", who, got)
	}
	if s := e.stored(c); s.SignCount != 2 || !s.LastUsedAt.Equal(t0.Add(2*time.Minute)) {
		t.Fatalf("stored after discoverable: %+v", s)
	}
	// The stored record is the library's, and its counter is the new one.
	var rec struct {
		Authenticator struct{ SignCount uint32 } `json:"authenticator"`
	}
	if err := json.Unmarshal(e.stored(c).Data, &rec); err != nil || rec.Authenticator.SignCount != 2 {
		t.Fatalf("stored data %s: %v", e.stored(c).Data, err)
	}
}

func TestReplay_SameCeremonyIsGoneAndAnOldAnswerFailsANewChallenge(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	acct := e.account("replay@example.com")
	a := passkeytest.New(t, origin)
	e.register(acct, a, "Key")

	id, raw, _ := e.svc.BeginLogin(ctx, acct)
	answer := a.Get(raw)
	if _, err := e.svc.FinishLogin(ctx, acct, id, answer); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.FinishLogin(ctx, acct, id, answer); !errors.Is(err, passkey.ErrCeremony) {
		t.Fatalf("the same answer again: %v, want ErrCeremony", err)
	}
	id2, _, _ := e.svc.BeginLogin(ctx, acct)
	_, err := e.svc.FinishLogin(ctx, acct, id2, answer)
	if !errors.Is(err, passkey.ErrInvalid) || !strings.Contains(err.Error(), "challenge") {
		t.Fatalf("an old answer to a new ceremony: %v, want ErrInvalid naming the challenge", err)
	}
	// A discoverable answer replayed too.
	did, draw, _ := e.svc.BeginDiscoverable(ctx)
	danswer := a.Get(draw)
	if _, _, err := e.svc.FinishDiscoverable(ctx, did, danswer); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.FinishDiscoverable(ctx, did, danswer); !errors.Is(err, passkey.ErrCeremony) {
		t.Fatalf("discoverable answer again: %v, want ErrCeremony", err)
	}
}

func TestRefusedAnswers_AreErrInvalidAndUseUpTheCeremony(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	acct := e.account("refused@example.com")
	a := passkeytest.New(t, origin)
	e.register(acct, a, "Key")

	for _, tc := range []struct {
		name   string
		answer func(options []byte) []byte
		why    string // a word of the reason, which must reach the error
	}{
		{"wrong origin", func(o []byte) []byte { return a.Get(o, passkeytest.WithOrigin("https://gatehouse.example.evil")) }, "origin"},
		{"another port", func(o []byte) []byte { return a.Get(o, passkeytest.WithOrigin("https://gatehouse.example:8443")) }, "origin"},
		{"wrong RP ID hash", func(o []byte) []byte { return a.Get(o, passkeytest.WithRPID("evil.example")) }, "RP Hash"},
		{"tampered signature", func(o []byte) []byte { return a.Get(o, passkeytest.Tampered()) }, "signature"},
		{"a creation answer type", func(o []byte) []byte { return a.Get(o, passkeytest.WithType("webauthn.create")) }, "ceremony type"},
		{"user not present", func(o []byte) []byte { return a.Get(o, passkeytest.WithFlags(passkeytest.FlagUV)) }, "presence"},
		{"malformed JSON", func([]byte) []byte { return []byte(`{"id": "AQID", "rawId": `) }, "Parse error"},
		{"not JSON at all", func([]byte) []byte { return []byte("\x00\xff") }, "Parse error"},
		{"empty", func([]byte) []byte { return nil }, "Parse error"},
		{"oversized", func(o []byte) []byte {
			return append(a.Get(o), bytes.Repeat([]byte(" "), passkey.MaxResponse)...)
		}, "bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.stored(&passkey.Credential{CredentialID: a.ID}).SignCount
			id, raw, err := e.svc.BeginLogin(ctx, acct)
			if err != nil {
				t.Fatal(err)
			}
			_, err = e.svc.FinishLogin(ctx, acct, id, tc.answer(raw))
			if !errors.Is(err, passkey.ErrInvalid) || !strings.Contains(err.Error(), tc.why) {
				t.Fatalf("got %v, want ErrInvalid saying %q", err, tc.why)
			}
			// One try per ceremony: a right answer to it now is too late.
			if _, err := e.svc.FinishLogin(ctx, acct, id, a.Get(raw)); !errors.Is(err, passkey.ErrCeremony) {
				t.Fatalf("a right answer after a refused one: %v, want ErrCeremony", err)
			}
			if after := e.stored(&passkey.Credential{CredentialID: a.ID}); after.SignCount != before || after.Flagged {
				t.Fatalf("a refused answer changed the passkey: %+v", after)
			}
		})
	}
	// And the passkey still works.
	if _, err := e.login(acct, a); err != nil {
		t.Fatal(err)
	}
}

func TestUserVerification_RequiredAloneOptionalAsASecondStep(t *testing.T) {
	e := newEnv(t)
	acct := e.account("uv@example.com")
	a := passkeytest.New(t, origin)
	e.register(acct, a, "Security key")

	_, _, err := e.discover(a, passkeytest.WithFlags(passkeytest.FlagUP))
	if !errors.Is(err, passkey.ErrInvalid) || !strings.Contains(err.Error(), "verification") {
		t.Fatalf("passwordless without UV: %v, want ErrInvalid (user verification)", err)
	}
	// After a password, presence is enough (a security key without a PIN).
	if _, err := e.login(acct, a, passkeytest.WithFlags(passkeytest.FlagUP)); err != nil {
		t.Fatalf("second step without UV: %v", err)
	}
	if who, _, err := e.discover(a); err != nil || who != acct {
		t.Fatalf("passwordless with UV: %s %v", who, err)
	}
}

func TestCounterGoingBack_FlagsThePasskeyForGood(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	acct := e.account("clone@example.com")
	a := passkeytest.New(t, origin)
	c := e.register(acct, a, "Key")
	if _, err := e.login(acct, a, passkeytest.WithCounter(5)); err != nil {
		t.Fatal(err)
	}
	// A copy of the key, behind the original.
	_, err := e.login(acct, a, passkeytest.WithCounter(3))
	if !errors.Is(err, passkey.ErrCloned) {
		t.Fatalf("counter 3 after 5: %v, want ErrCloned", err)
	}
	if s := e.stored(c); !s.Flagged || s.SignCount != 5 {
		t.Fatalf("after the clone warning: %+v, want flagged with count 5", s)
	}
	// The same counter again is no increase either — but the passkey is
	// already flagged, and even a correct answer is refused now.
	if _, _, err := e.discover(a, passkeytest.WithCounter(50)); !errors.Is(err, passkey.ErrCloned) {
		t.Fatalf("a flagged passkey, passwordless: %v, want ErrCloned", err)
	}
	if _, _, err := e.svc.BeginLogin(ctx, acct); !errors.Is(err, passkey.ErrNone) {
		t.Fatalf("second step with only a flagged passkey: %v, want ErrNone", err)
	}
	if s := e.stored(c); s.SignCount != 5 {
		t.Fatalf("a refused flagged passkey's count moved: %+v", s)
	}

	// With another passkey added, a login allows only that one; the flagged
	// one answering anyway is refused with ErrCloned.
	b := passkeytest.New(t, origin)
	e.register(acct, b, "Other key")
	id, raw, err := e.svc.BeginLogin(ctx, acct) // allows b only now
	if err != nil {
		t.Fatal(err)
	}
	if ids := credentialIDs(options(t, raw)["allowCredentials"]); !slices.Equal(ids, []string{b64.EncodeToString(b.ID)}) {
		t.Fatalf("allowed %v, want only the unflagged passkey", ids)
	}
	if _, err := e.svc.FinishLogin(ctx, acct, id, a.Get(raw)); !errors.Is(err, passkey.ErrCloned) {
		t.Fatalf("the flagged passkey answering: %v, want ErrCloned", err)
	}
}

// TestCounter_TheStoredCountDecidesNotTheRecord: two nodes record uses of
// one passkey at once, and the slower one's record (with the lower count)
// lands last. The count column kept the higher one, and that is what the
// next answer is held to.
func TestCounter_TheStoredCountDecidesNotTheRecord(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	acct := e.account("race@example.com")
	a := passkeytest.New(t, origin)
	c := e.register(acct, a, "Key")
	if _, err := e.login(acct, a, passkeytest.WithCounter(2)); err != nil {
		t.Fatal(err)
	}
	slow := e.stored(c).Data // says 2
	if err := e.store.UsePasskey(ctx, c.ID, 10, []byte(`{}`), false, t0); err != nil {
		t.Fatal(err)
	}
	if err := e.store.UsePasskey(ctx, c.ID, 2, slow, false, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := e.login(acct, a, passkeytest.WithCounter(5)); !errors.Is(err, passkey.ErrCloned) {
		t.Fatalf("counter 5 after 10 was recorded: %v, want ErrCloned", err)
	}
}

func TestCounterThatStaysZero_IsNoCloneWarning(t *testing.T) {
	e := newEnv(t)
	acct := e.account("zero@example.com")
	a := passkeytest.New(t, origin)
	a.ZeroCounter = true
	c := e.register(acct, a, "Phone")
	for range 3 {
		if _, err := e.login(acct, a); err != nil {
			t.Fatalf("an authenticator without a counter: %v", err)
		}
	}
	if s := e.stored(c); s.Flagged || s.SignCount != 0 {
		t.Fatalf("stored: %+v", s)
	}
	// But once it has counted, 0 is going back.
	if _, err := e.login(acct, a, passkeytest.WithCounter(1)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.login(acct, a, passkeytest.WithCounter(0)); !errors.Is(err, passkey.ErrCloned) {
		t.Fatalf("0 after 1: %v, want ErrCloned", err)
	}
}

func TestCeremony_ExpiredAnotherAccountsOrAnotherKindIsErrCeremony(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	mine, theirs := e.account("mine@example.com"), e.account("theirs@example.com")
	a, b := passkeytest.New(t, origin), passkeytest.New(t, origin)
	e.register(mine, a, "Mine")
	e.register(theirs, b, "Theirs")

	// Just in time, then too late.
	id, raw, _ := e.svc.BeginLogin(ctx, mine)
	e.clock.Advance(passkey.DefaultTTL - time.Second)
	if _, err := e.svc.FinishLogin(ctx, mine, id, a.Get(raw)); err != nil {
		t.Fatalf("a second before expiry: %v", err)
	}
	id, raw, _ = e.svc.BeginLogin(ctx, mine)
	e.clock.Advance(passkey.DefaultTTL)
	if _, err := e.svc.FinishLogin(ctx, mine, id, a.Get(raw)); !errors.Is(err, passkey.ErrCeremony) || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("expired: %v, want ErrCeremony", err)
	}
	// Registration expires too.
	id, raw, _ = e.svc.BeginRegistration(ctx, mine, "m", "M")
	e.clock.Advance(passkey.DefaultTTL)
	if _, err := e.svc.FinishRegistration(ctx, mine, id, "Late", passkeytest.New(t, origin).Create(raw)); !errors.Is(err, passkey.ErrCeremony) {
		t.Fatalf("expired registration: %v, want ErrCeremony", err)
	}

	// Their ceremony, finished as me (with my passkey or theirs).
	id, raw, _ = e.svc.BeginLogin(ctx, theirs)
	if _, err := e.svc.FinishLogin(ctx, mine, id, a.Get(raw)); !errors.Is(err, passkey.ErrCeremony) {
		t.Fatalf("another account's ceremony: %v, want ErrCeremony", err)
	}
	id, raw, _ = e.svc.BeginRegistration(ctx, theirs, "t", "T")
	if _, err := e.svc.FinishRegistration(ctx, mine, id, "Mine too", passkeytest.New(t, origin).Create(raw)); !errors.Is(err, passkey.ErrCeremony) {
		t.Fatalf("another account's registration: %v, want ErrCeremony", err)
	}
	// My login answer with their passkey, in my ceremony.
	id, raw, _ = e.svc.BeginLogin(ctx, mine)
	if _, err := e.svc.FinishLogin(ctx, mine, id, b.Get(raw)); !errors.Is(err, passkey.ErrInvalid) {
		t.Fatalf("another account's passkey: %v, want ErrInvalid", err)
	}

	// Another kind.
	did, draw, _ := e.svc.BeginDiscoverable(ctx)
	if _, err := e.svc.FinishLogin(ctx, mine, did, a.Get(draw)); !errors.Is(err, passkey.ErrCeremony) {
		t.Fatalf("a discoverable ceremony finished as a login: %v", err)
	}
	id, raw, _ = e.svc.BeginLogin(ctx, mine)
	if _, _, err := e.svc.FinishDiscoverable(ctx, id, a.Get(raw)); !errors.Is(err, passkey.ErrCeremony) {
		t.Fatalf("a login ceremony finished as discoverable: %v", err)
	}
	id, raw, _ = e.svc.BeginLogin(ctx, mine)
	if _, err := e.svc.FinishRegistration(ctx, mine, id, "X", a.Get(raw)); !errors.Is(err, passkey.ErrCeremony) {
		t.Fatalf("a login ceremony finished as a registration: %v", err)
	}
	for _, id := range []string{"", "nonexistent"} {
		if _, err := e.svc.FinishLogin(ctx, mine, id, a.Get(raw)); !errors.Is(err, passkey.ErrCeremony) {
			t.Fatalf("ceremony %q: %v", id, err)
		}
	}
}

func TestDiscoverable_TheUserHandleMustBeThePasskeysAccount(t *testing.T) {
	e := newEnv(t)
	mine, theirs := e.account("mine@example.com"), e.account("theirs@example.com")
	a := passkeytest.New(t, origin)
	e.register(mine, a, "Mine")

	for _, tc := range []struct {
		name   string
		handle []byte
	}{{"another account", []byte(theirs)}, {"no account", []byte("nobody")}, {"none", nil}} {
		_, _, err := e.discover(a, passkeytest.WithUserHandle(tc.handle))
		if !errors.Is(err, passkey.ErrInvalid) {
			t.Fatalf("user handle of %s: %v, want ErrInvalid", tc.name, err)
		}
	}
	stranger := passkeytest.New(t, origin)
	stranger.Handle = []byte(mine)
	if _, _, err := e.discover(stranger); !errors.Is(err, passkey.ErrInvalid) || !strings.Contains(err.Error(), "unknown passkey") {
		t.Fatalf("an unregistered passkey: %v, want ErrInvalid", err)
	}
}

func TestRegistration_DuplicatesExclusionsAndNames(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	mine, theirs := e.account("mine@example.com"), e.account("theirs@example.com")
	a := passkeytest.New(t, origin)
	c := e.register(mine, a, "Laptop")

	id, raw, err := e.svc.BeginRegistration(ctx, mine, "mine@example.com", "Mine")
	if err != nil {
		t.Fatal(err)
	}
	if ids := credentialIDs(options(t, raw)["excludeCredentials"]); !slices.Equal(ids, []string{b64.EncodeToString(a.ID)}) {
		t.Fatalf("excluded %v, want the registered passkey", ids)
	}
	// A browser that ignores the exclusion: the same credential again.
	if _, err := e.svc.FinishRegistration(ctx, mine, id, "Again", a.Create(raw)); !errors.Is(err, passkey.ErrDuplicate) {
		t.Fatalf("the same credential again: %v, want ErrDuplicate", err)
	}
	id, raw, _ = e.svc.BeginRegistration(ctx, theirs, "theirs@example.com", "Theirs")
	if _, err := e.svc.FinishRegistration(ctx, theirs, id, "Stolen", a.Create(raw)); !errors.Is(err, passkey.ErrDuplicate) {
		t.Fatalf("the same credential for another account: %v, want ErrDuplicate", err)
	}
	if list, _ := e.svc.List(ctx, theirs); len(list) != 0 {
		t.Fatalf("another account got %d passkeys", len(list))
	}

	// A bad name is refused before the ceremony is used: the same answer
	// with a good name then passes.
	b := passkeytest.New(t, origin)
	id, raw, _ = e.svc.BeginRegistration(ctx, mine, "mine@example.com", "Mine")
	answer := b.Create(raw)
	for _, bad := range []string{"", "   ", strings.Repeat("x", passkey.MaxName+1), "tab\there"} {
		if _, err := e.svc.FinishRegistration(ctx, mine, id, bad, answer); !errors.Is(err, passkey.ErrName) {
			t.Fatalf("name %q: %v, want ErrName", bad, err)
		}
	}
	if _, err := e.svc.FinishRegistration(ctx, mine, id, strings.Repeat("鍵", passkey.MaxName), answer); err != nil {
		t.Fatalf("after bad names: %v", err)
	}

	// Registration answers refused like assertions.
	for _, tc := range []struct {
		name   string
		answer func(o []byte) []byte
	}{
		{"wrong origin", func(o []byte) []byte { return passkeytest.New(t, "https://evil.example").Create(o) }},
		{"wrong RP ID", func(o []byte) []byte {
			return passkeytest.New(t, origin).Create(o, passkeytest.WithRPID("evil.example"))
		}},
		{"assertion type", func(o []byte) []byte {
			return passkeytest.New(t, origin).Create(o, passkeytest.WithType("webauthn.get"))
		}},
		{"malformed", func([]byte) []byte { return []byte(`{"type":"public-key"`) }},
		{"oversized", func(o []byte) []byte {
			return append(passkeytest.New(t, origin).Create(o), bytes.Repeat([]byte("\n"), passkey.MaxResponse)...)
		}},
	} {
		id, raw, _ := e.svc.BeginRegistration(ctx, mine, "mine@example.com", "Mine")
		if _, err := e.svc.FinishRegistration(ctx, mine, id, "Key", tc.answer(raw)); !errors.Is(err, passkey.ErrInvalid) {
			t.Fatalf("registration, %s: %v, want ErrInvalid", tc.name, err)
		}
	}

	// Rename and remove: the account's own only.
	if err := e.svc.Rename(ctx, mine, c.ID, " "); !errors.Is(err, passkey.ErrName) {
		t.Fatalf("rename to blank: %v", err)
	}
	if err := e.svc.Rename(ctx, theirs, c.ID, "Mine now"); !errors.Is(err, passkey.ErrNotFound) {
		t.Fatalf("rename another's: %v", err)
	}
	if err := e.svc.Rename(ctx, mine, c.ID, "Old laptop"); err != nil || e.stored(c).Name != "Old laptop" {
		t.Fatalf("rename: %v", err)
	}
	if err := e.svc.Remove(ctx, theirs, c.ID); !errors.Is(err, passkey.ErrNotFound) {
		t.Fatalf("remove another's: %v", err)
	}
	if err := e.svc.Remove(ctx, mine, c.ID); err != nil {
		t.Fatal(err)
	}
	a.Handle = []byte(mine)
	if _, _, err := e.discover(a); !errors.Is(err, passkey.ErrInvalid) || !strings.Contains(err.Error(), "unknown passkey") {
		t.Fatalf("a removed passkey: %v, want ErrInvalid", err)
	}
}

// TestExtensionOutputsNobodyAskedFor_AreIgnored: some clients report
// extension outputs unasked (credProps above all); none is acted on, so
// none may fail the holder's ceremony.
func TestExtensionOutputsNobodyAskedFor_AreIgnored(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	acct := e.account("ext@example.com")
	a := passkeytest.New(t, origin)
	extra := map[string]any{"credProps": map[string]any{"rk": true}, "somethingNew": 1}
	id, raw, _ := e.svc.BeginRegistration(ctx, acct, "ext@example.com", "Ext")
	if _, err := e.svc.FinishRegistration(ctx, acct, id, "Key", a.Create(raw, passkeytest.WithExtensions(extra))); err != nil {
		t.Fatalf("registration with unasked outputs: %v", err)
	}
	if _, err := e.login(acct, a, passkeytest.WithExtensions(extra)); err != nil {
		t.Fatalf("login with unasked outputs: %v", err)
	}
}

func TestBeginLogin_WithoutPasskeysIsErrNone(t *testing.T) {
	e := newEnv(t)
	if _, _, err := e.svc.BeginLogin(context.Background(), e.account("none@example.com")); !errors.Is(err, passkey.ErrNone) {
		t.Fatalf("%v, want ErrNone", err)
	}
}

func TestNew_RefusesWhatBrowsersRefuse(t *testing.T) {
	store := newMemStore()
	for _, c := range []struct{ rpID, origin string }{
		{"127.0.0.1", "http://127.0.0.1:8080"},
		{"gatehouse.example", "http://gatehouse.example"},
		{"gatehouse.example", "https://other.example"},
		{"example", "https://gatehouse.example.evil"},
		{"gatehouse.example", "https://gatehouse.example/path"},
		{"", "https://gatehouse.example"},
	} {
		_, err := passkey.New(passkey.Config{RPID: c.rpID, Origin: c.origin, DisplayName: "G", Store: store})
		if !errors.Is(err, passkey.ErrRelyingParty) {
			t.Errorf("RP ID %q, origin %q: %v, want ErrRelyingParty", c.rpID, c.origin, err)
		}
	}
	for _, c := range []struct{ rpID, origin string }{
		{"localhost", "http://localhost:8080"},
		{"example.com", "https://login.example.com"},
	} {
		if _, err := passkey.New(passkey.Config{RPID: c.rpID, Origin: c.origin, DisplayName: "G", Store: store}); err != nil {
			t.Errorf("RP ID %q, origin %q: %v", c.rpID, c.origin, err)
		}
	}
	id, o, err := passkey.RelyingParty("https://Login.Example.COM:8443/gatehouse/")
	if err != nil || id != "login.example.com" || o != "https://login.example.com:8443" {
		t.Fatalf("relying party: %q %q %v", id, o, err)
	}
	if _, _, err := passkey.RelyingParty("http://127.0.0.1:8080"); !errors.Is(err, passkey.ErrRelyingParty) {
		t.Fatalf("an IP address: %v", err)
	}
}

// FuzzParseResponse feeds arbitrary bytes as the browser's answer to
// FinishRegistration, FinishLogin and FinishDiscoverable, each on a fresh
// ceremony: nothing may panic, and every answer is ErrInvalid — a valid
// one cannot be made without the key and the new challenge.
func FuzzParseResponse(f *testing.F) {
	e := withStore(f, newMemStore())
	ctx := context.Background()
	acct := e.account("")
	a := passkeytest.New(f, origin)
	_, reg, _ := e.svc.BeginRegistration(ctx, acct, "fuzz@example.com", "Fuzz")
	registration := a.Create(reg)
	e.register(acct, a, "Key")
	_, req, _ := e.svc.BeginLogin(ctx, acct)
	assertion := a.Get(req)
	for _, seed := range [][]byte{registration, assertion, assertion[:len(assertion)/2], []byte(`{}`), []byte(`null`), nil,
		[]byte(`{"id":"AA","rawId":"AA","type":"public-key","response":{"clientDataJSON":"e30","authenticatorData":"","signature":""}}`)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		id, _, err := e.svc.BeginRegistration(ctx, acct, "fuzz@example.com", "Fuzz")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.FinishRegistration(ctx, acct, id, "Key", data); !errors.Is(err, passkey.ErrInvalid) {
			t.Fatalf("registration: %v, want ErrInvalid", err)
		}
		id, _, err = e.svc.BeginLogin(ctx, acct)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.FinishLogin(ctx, acct, id, data); !errors.Is(err, passkey.ErrInvalid) {
			t.Fatalf("login: %v, want ErrInvalid", err)
		}
		id, _, err = e.svc.BeginDiscoverable(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.svc.FinishDiscoverable(ctx, id, data); !errors.Is(err, passkey.ErrInvalid) {
			t.Fatalf("discoverable: %v, want ErrInvalid", err)
		}
	})
}

// BenchmarkFinishLogin measures the verification of one passkey assertion
// (ES256): taking the ceremony, parsing, checking the signature, recording
// the use. Beginning the ceremony and signing the answer are done before
// the clock starts.
func BenchmarkFinishLogin(b *testing.B) {
	for _, bc := range []struct {
		name string
		env  func(b *testing.B) *env
	}{
		{"sqlite", func(b *testing.B) *env { return newEnv(b) }},
		{"memory", func(b *testing.B) *env { return withStore(b, newMemStore()) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			e := bc.env(b)
			ctx := context.Background()
			acct := e.account("bench@example.com")
			a := passkeytest.New(b, origin)
			e.register(acct, a, "Key")
			ids, answers := make([]string, b.N), make([][]byte, b.N)
			for i := range b.N {
				id, raw, err := e.svc.BeginLogin(ctx, acct)
				if err != nil {
					b.Fatal(err)
				}
				ids[i], answers[i] = id, a.Get(raw)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if _, err := e.svc.FinishLogin(ctx, acct, ids[i], answers[i]); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
		})
		// On every core at once: many holders' passkeys, each answer
		// verified by whichever goroutine takes it. The passkeys keep no
		// counter (as most platform passkeys do), so answers verified out
		// of order are not mistaken for clones.
		b.Run(bc.name+"/parallel", func(b *testing.B) {
			e := bc.env(b)
			ctx := context.Background()
			type job struct {
				acct, id string
				answer   []byte
			}
			const holders = 64
			accts, keys := make([]string, holders), make([]*passkeytest.Authenticator, holders)
			for i := range holders {
				accts[i] = e.account(fmt.Sprintf("bench%d@example.com", i))
				keys[i] = passkeytest.New(b, origin)
				keys[i].ZeroCounter = true
				e.register(accts[i], keys[i], "Key")
			}
			jobs := make([]job, b.N)
			for i := range b.N {
				h := i % holders
				id, raw, err := e.svc.BeginLogin(ctx, accts[h])
				if err != nil {
					b.Fatal(err)
				}
				jobs[i] = job{accts[h], id, keys[h].Get(raw)}
			}
			var next atomic.Int64
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					j := jobs[next.Add(1)-1]
					if _, err := e.svc.FinishLogin(ctx, j.acct, j.id, j.answer); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
		})
	}
}

// memStore is an in-memory passkey.Store, for the fuzz target and the
// benchmark, which would otherwise mostly measure the database.
type memStore struct {
	mu         sync.Mutex
	passkeys   []*passkey.Credential
	ceremonies map[string]*passkey.Ceremony
}

func newMemStore() *memStore { return &memStore{ceremonies: map[string]*passkey.Ceremony{}} }

func (m *memStore) CreatePasskey(_ context.Context, c *passkey.Credential) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, p := range m.passkeys {
		if bytes.Equal(p.CredentialID, c.CredentialID) {
			return passkey.ErrDuplicate
		}
	}
	cp := *c
	m.passkeys = append(m.passkeys, &cp)
	return nil
}

func (m *memStore) Passkeys(_ context.Context, accountID string) ([]*passkey.Credential, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*passkey.Credential
	for _, p := range m.passkeys {
		if p.AccountID == accountID {
			cp := *p
			out = append(out, &cp)
		}
	}
	return out, nil
}

func (m *memStore) PasskeyByCredentialID(_ context.Context, id []byte) (*passkey.Credential, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, p := range m.passkeys {
		if bytes.Equal(p.CredentialID, id) {
			cp := *p
			return &cp, nil
		}
	}
	return nil, passkey.ErrNotFound
}

func (m *memStore) find(accountID, id string) *passkey.Credential {
	for _, p := range m.passkeys {
		if p.ID == id && (accountID == "" || p.AccountID == accountID) {
			return p
		}
	}
	return nil
}

func (m *memStore) UsePasskey(_ context.Context, id string, count uint32, data []byte, flagged bool, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.find("", id)
	if p == nil {
		return passkey.ErrNotFound
	}
	p.SignCount, p.Data, p.Flagged, p.LastUsedAt = max(p.SignCount, count), data, p.Flagged || flagged, at
	return nil
}

func (m *memStore) RenamePasskey(_ context.Context, accountID, id, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.find(accountID, id)
	if p == nil {
		return passkey.ErrNotFound
	}
	p.Name = name
	return nil
}

func (m *memStore) DeletePasskey(_ context.Context, accountID, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.find(accountID, id)
	if p == nil {
		return passkey.ErrNotFound
	}
	m.passkeys = slices.DeleteFunc(m.passkeys, func(q *passkey.Credential) bool { return q == p })
	return nil
}

func (m *memStore) CreateCeremony(_ context.Context, c *passkey.Ceremony) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	cp := *c
	m.ceremonies[c.ID] = &cp
	return nil
}

func (m *memStore) TakeCeremony(_ context.Context, id string) (*passkey.Ceremony, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.ceremonies[id]
	if !ok {
		return nil, passkey.ErrNotFound
	}
	delete(m.ceremonies, id)
	return c, nil
}
