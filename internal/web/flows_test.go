package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/account"
	"gatehouse/internal/outbox"
	"gatehouse/internal/password"
	"gatehouse/internal/pgtest"
)

const goodPassword = "violet canoe at dawn"

// TestFullFlow walks every page in each language: sign up, confirm, sign
// out, sign in, change the password, sign out, forgot, reset, sign in.
func TestFullFlow_BothLanguages(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		backend, lang, signinTitle, subject string
	}{
		{"sqlite", "en", "Sign in", "your confirmation code"},
		{"sqlite", "ja", "ログイン", "確認コード"},
		{"postgres", "en", "Sign in", "your confirmation code"},
		{"postgres", "ja", "ログイン", "確認コード"},
	} {
		t.Run(tc.backend+"/"+tc.lang, func(t *testing.T) {
			t.Parallel()
			var overrides map[string]string
			if tc.backend == "postgres" {
				overrides = map[string]string{"database": pgtest.NewDatabase(t)}
			}
			h := newHarness(t, overrides)
			b := h.browser(tc.lang)
			email := "holder-" + tc.lang + "@example.com"

			r := b.get("/signup")
			if r.status != 200 || !strings.Contains(r.body, `<html lang="`+tc.lang+`">`) {
				t.Fatalf("signup page: %d, lang missing", r.status)
			}
			for _, want := range []string{`name="email"`, `autocomplete="username"`, `autocomplete="new-password"`, `name="phone"`, `data-reveal=`} {
				if !strings.Contains(r.body, want) {
					t.Errorf("signup page lacks %s", want)
				}
			}
			r = b.post("/signup", url.Values{"email": {email}, "password": {goodPassword}, "phone": {"090-1234-5678"}})
			if r.status != http.StatusSeeOther {
				t.Fatalf("signup: %d\n%s", r.status, r.body)
			}
			c := challenge(t, r.location)
			r = b.get(r.location)
			if r.status != 200 || !strings.Contains(r.body, email) || !strings.Contains(r.body, `autocomplete="one-time-code"`) {
				t.Fatalf("confirm page: %d\n%s", r.status, r.body)
			}
			msgs := h.messagesTo(email)
			if len(msgs) != 1 || !strings.Contains(msgs[0].Subject, tc.subject) || msgs[0].Language != tc.lang {
				t.Fatalf("confirmation message: %+v", msgs)
			}
			if !strings.Contains(msgs[0].Text, msgs[0].Reference) || !strings.HasPrefix(msgs[0].Reference, "GH-") {
				t.Fatal("the message must print its reference")
			}
			r = b.post("/signup/confirm", url.Values{"c": {c}, "code": {h.codeFor(email)}})
			if r.status != http.StatusSeeOther || r.location != "/account?notice=account_created" {
				t.Fatalf("confirm: %d %s", r.status, r.location)
			}
			r = b.get("/account")
			if r.status != 200 || !strings.Contains(r.body, email) || !strings.Contains(r.body, "78") {
				t.Fatalf("account page: %d\n%s", r.status, r.body)
			}
			acc, _ := h.app.DB.AccountByEmail(context.Background(), email)
			if acc.Phone != "+819012345678" || acc.Language != tc.lang {
				t.Fatalf("stored phone %q language %q", acc.Phone, acc.Language)
			}

			r = b.post("/signout", nil)
			if r.status != http.StatusSeeOther || r.location != "/signin?notice=signed_out" {
				t.Fatalf("signout: %d %s", r.status, r.location)
			}
			if r := b.get("/account"); r.status != http.StatusSeeOther || r.location != "/signin?notice=signin_needed" {
				t.Fatalf("account after signout: %d %s", r.status, r.location)
			}
			r = b.get("/signin")
			if !strings.Contains(r.body, tc.signinTitle) || !strings.Contains(r.body, `autocomplete="current-password"`) {
				t.Fatalf("sign-in page in %s:\n%s", tc.lang, r.body)
			}
			r = b.post("/signin", url.Values{"email": {strings.ToUpper(email[:1]) + email[1:]}, "password": {goodPassword}})
			if r.status != http.StatusSeeOther || r.location != "/account" {
				t.Fatalf("signin: %d %s\n%s", r.status, r.location, r.body)
			}

			newPW := "a different violet canoe"
			r = b.post("/account/password", url.Values{"current_password": {goodPassword}, "new_password": {newPW}, "signout_others": {"on"}})
			if r.status != http.StatusSeeOther || r.location != "/account?notice=password_updated" {
				t.Fatalf("change password: %d %s\n%s", r.status, r.location, r.body)
			}
			if r := b.get("/account?notice=password_updated"); r.status != 200 {
				t.Fatalf("still signed in after change: %d", r.status)
			}
			if m := h.messagesTo(email)[0]; m.Purpose != "password_changed" || m.Language != tc.lang {
				t.Fatalf("change notice: %s %s", m.Purpose, m.Language)
			}
			b.post("/signout", nil)

			r = b.post("/password/forgot", url.Values{"email": {email}})
			if r.status != http.StatusSeeOther {
				t.Fatalf("forgot: %d\n%s", r.status, r.body)
			}
			rc := challenge(t, r.location)
			if r := b.get(r.location); r.status != 200 || !strings.Contains(r.body, `name="new_password"`) {
				t.Fatalf("reset page: %d", r.status)
			}
			resetPW := "third violet canoe of the day"
			r = b.post("/password/reset", url.Values{"c": {rc}, "code": {h.codeFor(email)}, "new_password": {resetPW}})
			if r.status != http.StatusSeeOther || r.location != "/signin?"+(url.Values{"notice": {"reset_done"}, "email": {email}}).Encode() {
				t.Fatalf("reset: %d %s\n%s", r.status, r.location, r.body)
			}
			if p := b.get(r.location); !strings.Contains(p.body, `value="`+email+`"`) {
				t.Fatal("the sign-in page after a reset does not carry the address")
			}
			if m := h.messagesTo(email)[0]; m.Purpose != "password_reset" {
				t.Fatalf("reset notice: %s", m.Purpose)
			}
			if r := b.post("/signin", url.Values{"email": {email}, "password": {newPW}}); r.status != 422 {
				t.Fatalf("old password after reset: %d", r.status)
			}
			if r := b.post("/signin", url.Values{"email": {email}, "password": {resetPW}}); r.status != http.StatusSeeOther {
				t.Fatalf("new password after reset: %d", r.status)
			}
		})
	}
}

// TestSignup_ExistingAddressLooksTheSame_V6_3_8: registering an address that
// has an account shows the same result as a fresh one; the holder gets a
// notice instead of a code.
func TestSignup_ExistingAddressLooksTheSame_V6_3_8(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	owner := h.browser("en")
	owner.signUp("taken@example.com", goodPassword)
	pool := h.app.Pool

	try := func(email string) (*resp, *resp, int64) {
		b := h.browser("en")
		before := pool.Hashes()
		r := b.post("/signup", url.Values{"email": {email}, "password": {"another good passphrase"}})
		n := pool.Hashes() - before
		return r, b.get(r.location), n
	}
	freshPost, freshPage, freshHashes := try("fresh@example.com")
	takenPost, takenPage, takenHashes := try("taken@example.com")
	if freshPost.status != takenPost.status || freshPost.status != http.StatusSeeOther {
		t.Fatalf("statuses differ: fresh %d, taken %d", freshPost.status, takenPost.status)
	}
	norm := func(r *resp, email, id string) string {
		return strings.NewReplacer(email, "EMAIL", id, "ID").Replace(r.body)
	}
	if norm(freshPage, "fresh@example.com", challenge(t, freshPost.location)) != norm(takenPage, "taken@example.com", challenge(t, takenPost.location)) {
		t.Fatal("the confirmation pages differ between a fresh and a registered address")
	}
	if freshHashes != 1 || takenHashes != 1 {
		t.Fatalf("argon2 hashes: fresh %d, taken %d; want 1 each", freshHashes, takenHashes)
	}
	got := h.messagesTo("taken@example.com")[0]
	if got.Purpose != "signup_existing" || got.Secret != nil || strings.Contains(got.Text, "••••••") {
		t.Fatalf("existing holder got %q with a code? %q", got.Purpose, got.Text)
	}
	// No code can confirm the decoy request.
	r := h.browser("en").post("/signup/confirm", url.Values{"c": {challenge(t, takenPost.location)}, "code": {"123456"}})
	if r.status != 422 {
		t.Fatalf("decoy confirm: %d", r.status)
	}
	acc, _ := h.app.DB.AccountByEmail(context.Background(), "taken@example.com")
	if ok, _, _ := h.app.Hasher.Verify(context.Background(), goodPassword, acc.PasswordHash); !ok {
		t.Fatal("the existing account's password must be untouched")
	}
}

// TestSignin_UnknownAndWrongPasswordAreIndistinguishable_V6_3_8: same status,
// same page, and exactly one argon2 hash each (counted, not timed).
func TestSignin_UnknownAndWrongPasswordAreIndistinguishable_V6_3_8(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	h.browser("en").signUp("known@example.com", goodPassword)
	attempt := func(email string) (*resp, int64) {
		b := h.browser("ja")
		before := h.app.Pool.Hashes()
		r := b.post("/signin", url.Values{"email": {email}, "password": {"not the password at all"}})
		return r, h.app.Pool.Hashes() - before
	}
	unknown, nu := attempt("nobody@example.com")
	wrong, nw := attempt("known@example.com")
	if unknown.status != 422 || wrong.status != 422 {
		t.Fatalf("statuses %d and %d, want 422", unknown.status, wrong.status)
	}
	strip := func(r *resp, email string) string {
		// The typed address is echoed, also inside the language switch's link.
		return strings.ReplaceAll(strings.ReplaceAll(r.body, email, "EMAIL"), url.QueryEscape(url.QueryEscape(email)), "EMAIL")
	}
	if strip(unknown, "nobody@example.com") != strip(wrong, "known@example.com") {
		t.Fatal("pages differ between unknown account and wrong password")
	}
	if !strings.Contains(wrong.body, "メールアドレスまたはパスワードが正しくありません") {
		t.Fatal("error not shown in Japanese")
	}
	if nu != 1 || nw != 1 {
		t.Fatalf("argon2 hashes: unknown %d, wrong password %d; want exactly 1 each", nu, nw)
	}
	atts, _ := h.app.DB.AttemptsByAccount(context.Background(), "", 10)
	if len(atts) != 1 || atts[0].Outcome != "unknown_account" || atts[0].Identifier != "nobody@example.com" {
		t.Fatalf("unknown-account attempt not recorded: %+v", atts)
	}
	acc, _ := h.app.DB.AccountByEmail(context.Background(), "known@example.com")
	atts, _ = h.app.DB.AttemptsByAccount(context.Background(), acc.ID, 10)
	if len(atts) != 1 || atts[0].Outcome != "wrong_password" || atts[0].Origin.DeviceID == "" || atts[0].Origin.IP != "127.0.0.1" {
		t.Fatalf("wrong-password attempt: %+v", atts)
	}
}

func TestSignin_RecordsSuccessWithDeviceAndSession(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	b := h.browser("en")
	b.signUp("rec@example.com", goodPassword)
	b.post("/signout", nil)
	if r := b.post("/signin", url.Values{"email": {"rec@example.com"}, "password": {goodPassword}}); r.status != 303 {
		t.Fatal(r.status)
	}
	acc, _ := h.app.DB.AccountByEmail(context.Background(), "rec@example.com")
	atts, _ := h.app.DB.AttemptsByAccount(context.Background(), acc.ID, 10)
	if len(atts) != 1 || atts[0].Outcome != "succeeded" || atts[0].SessionID == "" || !strings.Contains(atts[0].Origin.UserAgent, "Chrome") {
		t.Fatalf("attempt: %+v", atts[0])
	}
}

func TestSignin_DisabledAccountDenied_V7_4_2(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	b2 := h.browser("en")
	b2.signUp("gone@example.com", goodPassword)
	acc, _ := h.app.DB.AccountByEmail(context.Background(), "gone@example.com")
	if err := h.app.Accounts.Disable(context.Background(), acc.ID); err != nil {
		t.Fatal(err)
	}
	if r := b2.get("/account"); r.status != 303 {
		t.Fatalf("disabled account's session still works (ASVS v5.0.0-7.4.2): %d", r.status)
	}
	if r := b2.post("/signin", url.Values{"email": {"gone@example.com"}, "password": {goodPassword}}); r.status != 422 || !strings.Contains(r.body, "disabled") {
		t.Fatalf("disabled: %d", r.status)
	}
}

func TestSignin_TransparentRehash(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	ctx := context.Background()
	b := h.browser("en")
	b.signUp("old@example.com", goodPassword)
	// Store a hash made with older, weaker parameters and no pepper.
	old := password.NewHasher(password.Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1}, nil, password.NewPool(1, 1))
	weak, _ := old.Hash(ctx, goodPassword)
	acc, _ := h.app.DB.AccountByEmail(ctx, "old@example.com")
	h.app.DB.SetPasswordHash(ctx, acc.ID, weak, acc.PasswordChangedAt, false)
	if r := h.browser("en").post("/signin", url.Values{"email": {"old@example.com"}, "password": {goodPassword}}); r.status != 303 {
		t.Fatalf("signin with old hash: %d", r.status)
	}
	acc, _ = h.app.DB.AccountByEmail(ctx, "old@example.com")
	if !strings.HasPrefix(acc.PasswordHash, "$argon2id$v=19$m=8192,t=1,p=1,k=") {
		t.Fatalf("hash not upgraded: %s", acc.PasswordHash)
	}
	if r := h.browser("en").post("/signin", url.Values{"email": {"old@example.com"}, "password": {goodPassword}}); r.status != 303 {
		t.Fatalf("signin after rehash: %d", r.status)
	}
}

func TestPasswordChange_V6_2_3_NeedsCurrentAndRefusesLastFive(t *testing.T) {
	t.Parallel()
	h := newHarness(t, map[string]string{"code.cooldown": "1s"})
	b := h.browser("en")
	b.signUp("cycle@example.com", "password number zero")
	pws := []string{"password number zero", "second choice phrase", "third choice phrase", "fourth choice phrase", "fifth choice phrase"}
	cur := pws[0]
	for _, next := range pws[1:] {
		if r := b.post("/account/password", url.Values{"current_password": {cur}, "new_password": {next}}); r.status != 303 {
			t.Fatalf("change to %q: %d\n%s", next, r.status, r.body)
		}
		cur = next
	}
	for _, reused := range pws {
		r := b.post("/account/password", url.Values{"current_password": {cur}, "new_password": {reused}})
		if r.status != 422 || !strings.Contains(r.body, "used this password recently") {
			t.Fatalf("reuse of %q: %d", reused, r.status)
		}
	}
	r := b.post("/account/password", url.Values{"current_password": {"wrong current one"}, "new_password": {"brand new phrase here"}})
	if r.status != 422 || !strings.Contains(r.body, "current password is not correct") {
		t.Fatalf("wrong current: %d", r.status)
	}
	// The sixth-newest is allowed again.
	if r := b.post("/account/password", url.Values{"current_password": {cur}, "new_password": {"brand new phrase here"}}); r.status != 303 {
		t.Fatalf("fresh password: %d", r.status)
	}
	if r := b.post("/account/password", url.Values{"current_password": {"brand new phrase here"}, "new_password": {pws[0]}}); r.status != 303 {
		t.Fatalf("password six changes old should be allowed: %d\n%s", r.status, r.body)
	}
}

func TestPasswordChange_SignsOutOtherSessions_V7_4_3(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	here := h.browser("en")
	here.signUp("multi@example.com", goodPassword)
	there := h.browser("en")
	there.post("/signin", url.Values{"email": {"multi@example.com"}, "password": {goodPassword}})
	if r := there.get("/account"); r.status != 200 {
		t.Fatal("second browser not signed in")
	}
	if r := here.post("/account/password", url.Values{"current_password": {goodPassword}, "new_password": {"new phrase for many browsers"}, "signout_others": {"on"}}); r.status != 303 {
		t.Fatal(r.status)
	}
	if r := there.get("/account"); r.status != 303 {
		t.Fatalf("other browser still signed in: %d", r.status)
	}
	if r := here.get("/account"); r.status != 200 {
		t.Fatalf("this browser was signed out: %d", r.status)
	}
}

func TestReset_SignsOutEverywhereAndUnknownAddressLooksTheSame(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	b := h.browser("en")
	b.signUp("resetme@example.com", goodPassword)
	known := h.browser("en").post("/password/forgot", url.Values{"email": {"resetme@example.com"}})
	unknown := h.browser("en").post("/password/forgot", url.Values{"email": {"stranger@example.com"}})
	if known.status != 303 || unknown.status != 303 {
		t.Fatalf("forgot: %d %d", known.status, unknown.status)
	}
	kp := h.browser("en").get(known.location)
	up := h.browser("en").get(unknown.location)
	n := func(r *resp, e, id string) string { return strings.NewReplacer(e, "E", id, "ID").Replace(r.body) }
	if n(kp, "resetme@example.com", challenge(t, known.location)) != n(up, "stranger@example.com", challenge(t, unknown.location)) {
		t.Fatal("reset pages differ for known and unknown addresses")
	}
	if ms := h.messagesTo("stranger@example.com"); len(ms) != 1 || ms[0].Status != outbox.Withheld || ms[0].Secret != nil {
		t.Fatalf("an address without an account must get a withheld record and nothing sent: %+v", ms)
	}
	r := h.browser("en").post("/password/reset", url.Values{"c": {challenge(t, known.location)}, "code": {h.codeFor("resetme@example.com")}, "new_password": {"reset phrase number one"}})
	if r.status != 303 {
		t.Fatalf("reset: %d %s", r.status, r.body)
	}
	if r := b.get("/account"); r.status != 303 {
		t.Fatal("reset must sign out every session")
	}
}

func TestReset_RefusedPasswordDoesNotCostTheCode(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	h.browser("en").signUp("keep@example.com", goodPassword)
	r := h.browser("en").post("/password/forgot", url.Values{"email": {"keep@example.com"}})
	c := challenge(t, r.location)
	code := h.codeFor("keep@example.com")
	r = h.browser("en").post("/password/reset", url.Values{"c": {c}, "code": {code}, "new_password": {goodPassword}})
	if r.status != 422 || !strings.Contains(r.body, "used this password recently") {
		t.Fatalf("reuse via reset: %d", r.status)
	}
	r = h.browser("en").post("/password/reset", url.Values{"c": {c}, "code": {code}, "new_password": {"password1234"}})
	if r.status != 422 || !strings.Contains(r.body, "common or breached") {
		t.Fatalf("blocklisted via reset: %d", r.status)
	}
	if r := h.browser("en").post("/password/reset", url.Values{"c": {c}, "code": {code}, "new_password": {"finally a fine phrase"}}); r.status != 303 {
		t.Fatalf("the code should still work: %d\n%s", r.status, r.body)
	}
}

// TestSignup_SecondSignupDoesNotKillTheFirstsCode: two pending sign-ups
// for one address (the owner's and a stranger's) each keep their code; the
// first confirmed makes the account and ends the other.
func TestSignup_SecondSignupDoesNotKillTheFirstsCode(t *testing.T) {
	t.Parallel()
	onBothDatabases(t, func(t *testing.T, db map[string]string) {
		h := newHarness(t, db)
		owner := h.browser("en")
		first := owner.post("/signup", url.Values{"email": {"race@example.com"}, "password": {goodPassword}})
		firstCode := h.codeFor("race@example.com")
		stranger := h.browser("en")
		second := stranger.post("/signup", url.Values{"email": {"race@example.com"}, "password": {"someone else's phrase"}})
		if second.status != 303 {
			t.Fatal(second.status)
		}
		secondCode := h.codeFor("race@example.com")
		r := owner.post("/signup/confirm", url.Values{"c": {challenge(t, first.location)}, "code": {firstCode}})
		if r.status != 303 || r.location != "/account?notice=account_created" {
			t.Fatalf("the first sign-up's code must still work after a second sign-up: %d %s", r.status, r.location)
		}
		accs, _ := h.app.DB.ListAccounts(context.Background())
		if len(accs) != 1 || accs[0].Status != account.Active {
			t.Fatalf("accounts: %d", len(accs))
		}
		r = stranger.post("/signup/confirm", url.Values{"c": {challenge(t, second.location)}, "code": {secondCode}})
		if r.status != 404 || !strings.Contains(r.body, "This request has ended") {
			t.Fatalf("the other pending sign-up must end when the address is confirmed: %d", r.status)
		}
		// Nor can it be revived: a resend mails nothing to the address,
		// which has an account now.
		h.app.SetClock(func() time.Time { return time.Now().Add(2 * time.Minute) }) // past the cool-down
		before := len(h.messagesTo("race@example.com"))
		r = stranger.post("/signup/confirm/resend", url.Values{"c": {challenge(t, second.location)}})
		if r.status != 303 || len(h.messagesTo("race@example.com")) != before {
			t.Fatalf("a resend for an ended sign-up: %d, messages %d -> %d", r.status, before, len(h.messagesTo("race@example.com")))
		}
		if r := owner.post("/signin", url.Values{"email": {"race@example.com"}, "password": {"someone else's phrase"}}); r.status != 422 {
			t.Fatalf("the stranger's password must not work: %d", r.status)
		}
	})
}

func TestSignoutEverywhere_V7_5_2(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	a := h.browser("ja")
	a.signUp("everywhere@example.com", goodPassword)
	b := h.browser("en")
	b.post("/signin", url.Values{"email": {"everywhere@example.com"}, "password": {goodPassword}})
	r := a.post("/account/signout-everywhere", nil)
	if r.status != 303 || r.location != "/signin?notice=signed_out_everywhere" {
		t.Fatalf("sign out everywhere: %d %s", r.status, r.location)
	}
	if r := a.get(r.location); !strings.Contains(r.body, "すべてのセッションをログアウトしました") {
		t.Fatal("notice not shown")
	}
	for _, br := range []*browser{a, b} {
		if r := br.get("/account"); r.status != 303 {
			t.Fatalf("a session survived: %d", r.status)
		}
	}
	if r := h.browser("en").post("/account/signout-everywhere", nil); r.status != 303 || r.location != "/signin?notice=signin_needed" {
		t.Fatalf("signed-out request: %d %s", r.status, r.location)
	}
}

// TestConfirm_FromAnotherBrowserChoosesThePassword_PreHijacking: a code
// entered in a browser other than the one that signed up confirms the
// address, but the password typed at sign-up — possibly a stranger's, who
// used someone else's address — is never activated: the confirmer chooses
// the password, and is then sent to sign in with it.
func TestConfirm_FromAnotherBrowserChoosesThePassword_PreHijacking(t *testing.T) {
	t.Parallel()
	onBothDatabases(t, func(t *testing.T, db map[string]string) {
		h := newHarness(t, db)
		attacker := h.browser("en")
		r := attacker.post("/signup", url.Values{"email": {"victim@example.com"}, "password": {goodPassword}})
		c := challenge(t, r.location)
		owner := h.browser("ja")
		code := h.codeFor("victim@example.com")
		r = owner.post("/signup/confirm", url.Values{"c": {c}, "code": {code}})
		if r.status != 200 || !strings.Contains(r.body, `name="new_password"`) || !strings.Contains(r.body, "パスワードの設定") {
			t.Fatalf("confirming elsewhere must ask for a password: %d\n%s", r.status, r.body)
		}
		if strings.Contains(r.body, "code%3d"+code) || strings.Contains(r.body, "code%3D"+code) {
			t.Fatal("the proven code is carried in the language switch's URL")
		}
		if accs, _ := h.app.DB.ListAccounts(context.Background()); len(accs) != 0 {
			t.Fatal("no account may exist before the confirmer chose a password")
		}
		// A refused password keeps the page (and the code) alive.
		r = owner.post("/signup/confirm", url.Values{"c": {c}, "code": {code}, "new_password": {"password1234"}})
		if r.status != 422 || !strings.Contains(r.body, `name="new_password"`) {
			t.Fatalf("common password: %d", r.status)
		}
		r = owner.post("/signup/confirm", url.Values{"c": {c}, "code": {code}, "new_password": {"the owner's own phrase"}})
		if r.status != 303 || !strings.HasPrefix(r.location, "/signin?") {
			t.Fatalf("confirm elsewhere: %d %s", r.status, r.location)
		}
		for _, c := range r.cookies {
			if c.Name == "__Host-gh_session" {
				t.Fatal("the other browser got a session")
			}
		}
		if r := attacker.post("/signin", url.Values{"email": {"victim@example.com"}, "password": {goodPassword}}); r.status != 422 {
			t.Fatalf("the sign-up password must not be activated: %d", r.status)
		}
		if r := owner.post("/signin", url.Values{"email": {"victim@example.com"}, "password": {"the owner's own phrase"}}); r.status != 303 {
			t.Fatalf("the owner cannot sign in with the password they chose: %d", r.status)
		}
	})
}

// TestCodes_NeverStoredReadable: the stored message shows a mask and keeps
// the code only sealed; the delivered message carries it.
func TestCodes_NeverStoredReadable(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	h.browser("en").post("/signup", url.Values{"email": {"sealed@example.com"}, "password": {goodPassword}})
	m := h.messagesTo("sealed@example.com")[0]
	code := h.codeFor("sealed@example.com")
	if strings.Contains(m.Text, code) || strings.Contains(m.HTML, code) || !strings.Contains(m.Text, "    ••••••") {
		t.Fatalf("stored text reveals the code or lacks the mask:\n%s", m.Text)
	}
	if len(m.Secret) == 0 || strings.Contains(string(m.Secret), code) {
		t.Fatal("the code must be kept sealed")
	}
}
