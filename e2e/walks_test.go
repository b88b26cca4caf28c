package e2e

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"gatehouse/internal/totp"
)

// The walks: the paths the UX review of 2026-12-06 could not cover in its
// time (passkeys, the trusted browser, a re-verification after its window,
// an expired code, sign-in by code, a keyboard-only flow), each walked in
// Japanese and English, on a desktop viewport and on a phone, with
// axe-core (light and dark) after every page state. They assert paths,
// ids, form fields, status and language, not long copy.

// walkVariant is one language on one screen.
type walkVariant struct {
	lang  string
	phone bool
}

func (v walkVariant) String() string {
	if v.phone {
		return v.lang + "-phone"
	}
	return v.lang + "-desktop"
}

var walkVariants = []walkVariant{{"ja", false}, {"ja", true}, {"en", false}, {"en", true}}

// walkEnv is the configuration every walk's server runs with: sign-in by
// code on, the shortest re-verification window the configuration allows
// (the server's clock cannot be moved from outside the process), and limits
// loose enough for one test to sign up and sign in many times from one
// address.
func walkEnv(extra map[string]string) map[string]string {
	env := map[string]string{
		"GATEHOUSE_SIGNIN_CODE_SIGNIN":         "true",
		"GATEHOUSE_SESSION_STEP_UP_WITHIN":     walkStepUp.String(),
		"GATEHOUSE_LIMIT_SENDS_PER_10M":        "1000",
		"GATEHOUSE_LIMIT_SENDS_PER_DAY":        "1000",
		"GATEHOUSE_LIMIT_SENDS_PER_NETWORK":    "100000",
		"GATEHOUSE_LIMIT_ANONYMOUS_PER_MINUTE": "100000",
	}
	for k, v := range cheapArgon {
		env[k] = v
	}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

// walkStepUp is session.step_up_within for the walks: short, but long
// enough for the pages right after a sign-in (axe runs on each) to fall
// inside it on a loaded machine.
const walkStepUp = 20 * time.Second

// walkCodeTTL is code.ttl on the expired-code walk's server.
const walkCodeTTL = 10 * time.Second

// walker is one headless Chromium tab of a walk, on the variant's screen.
type walker struct {
	*tab
	v    walkVariant
	base string // the server at localhost: browsers offer passkeys to a name, not an IP address
	// switched is set once a page was in the variant's language: from then
	// on every page must be.
	switched bool
}

// openWalker starts a browser for the variant: a 1280×900 viewport, or a
// 390×844 phone (mobile emulation, touch, 3× pixels). Its context lasts
// longer than newBrowser's, since one walk's tab waits out the
// re-verification window while the others run.
func openWalker(t *testing.T, v walkVariant, p *proc) *walker {
	t.Helper()
	ctx := startChromium(t, 1280, 900, 8*time.Minute)
	screen := chromedp.EmulateViewport(1280, 900)
	if v.phone {
		screen = chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(3), chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait)
	}
	if err := chromedp.Do(ctx, screen); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return &walker{tab: &tab{t: t, ctx: ctx}, v: v, base: strings.Replace(p.URL, "127.0.0.1", "localhost", 1)}
}

// on makes the walker report to t (a subtest of the one that opened it).
func (w *walker) on(t *testing.T) *walker { w.tab.t = t; return w }

// step runs actions that end on a new page state and checks it: axe-core
// in light and dark, the page's language, and on a phone that nothing is
// wider than the screen.
func (w *walker) step(name string, actions ...chromedp.Action[chromedp.Void]) {
	w.t.Helper()
	w.run(name, actions...)
	w.checkPage(name)
}

func (w *walker) checkPage(name string) {
	w.t.Helper()
	if lang := w.attr("html", "lang"); lang == w.v.lang {
		w.switched = true
	} else if w.switched {
		w.t.Errorf("%s: %s is in %q, want %q", name, w.path(), lang, w.v.lang)
	}
	want := "1280"
	if w.v.phone {
		want = "390"
	}
	if vw := w.eval(`String(window.innerWidth)`); vw != want {
		w.t.Errorf("%s: the viewport is %s px wide, want %s", name, vw, want)
	}
	if w.v.phone {
		if over := w.eval(`(() => { const d = document.documentElement; return d.scrollWidth > window.innerWidth ? d.scrollWidth + " > " + window.innerWidth : "" })()`); over != "" {
			w.t.Errorf("%s: %s scrolls sideways on a 390 px phone (%s)", name, w.path(), over)
		}
	}
}

// open navigates to path on the walker's server.
func (w *walker) open(name, path, sel string) {
	w.t.Helper()
	w.step(name, chromedp.Navigate(w.base+path), visible(sel))
}

// language switches to the variant's language with the header's link.
func (w *walker) language(sel string) {
	w.t.Helper()
	w.useLanguage(w.v.lang, sel)
}

// inLanguage fails the test unless text is written in the variant's
// language: Japanese has kana or kanji, English has none.
func (w *walker) inLanguage(what, text string) {
	w.t.Helper()
	switch ja := japaneseText.MatchString(text); {
	case text == "":
		w.t.Errorf("%s: empty", what)
	case w.v.lang == "ja" && !ja:
		w.t.Errorf("%s is not in Japanese: %q", what, text)
	case w.v.lang == "en" && ja:
		w.t.Errorf("%s is not in English: %q", what, text)
	}
}

var japaneseText = regexp.MustCompile(`[\p{Han}\p{Hiragana}\p{Katakana}]`)

// expired matches a sentence saying a code ran out, in either language.
var expired = map[string]*regexp.Regexp{
	"en": regexp.MustCompile(`(?i)expired|ran out|no longer valid`),
	"ja": regexp.MustCompile(`期限|有効期間`),
}

// signUp signs up on the variant's language and confirms the address,
// ending on /account.
func (w *walker) signUp(p *proc, email, pw string) {
	w.t.Helper()
	w.open("open sign-up", "/signup", "#f-email")
	w.language("#f-email")
	w.step("sign up", typeInto("#f-email", email), typeInto("#f-password", pw), submit("/signup", "#f-code"))
	w.expectPath("sign up", "/signup/confirm")
	m := newestMail(w.t, p.URL, email, "confirm_email")
	if m.Language != w.v.lang {
		w.t.Errorf("the confirmation code went out in %q, want %q", m.Language, w.v.lang)
	}
	w.step("confirm", typeInto("#f-code", m.code(w.t)), submit("/signup/confirm", "#account-email"))
	w.expectPath("confirm", "/account")
}

// signOut presses the header's sign-out button.
func (w *walker) signOut() {
	w.t.Helper()
	w.step("sign out", clickAndLoad(`form[action="/signout"] button`, "#f-email"))
	w.expectPath("sign out", "/signin")
}

// addApp adds an authenticator app from the two-step page, ending on the
// backup codes, and returns it.
func (w *walker) addApp(name string) *authApp {
	w.t.Helper()
	w.open("two-step settings", "/account/two-step", "#two-step-state")
	w.step("add an app", clickAndLoad(`a[href="/account/two-step/app"]`, "#f-code"))
	w.expectPath("add an app", "/account/two-step/app")
	app := newAuthApp(w.t, w.eval(`document.getElementById("otpauth-uri").textContent`))
	w.step("confirm the app", clearField("#f-name"), typeInto("#f-name", name), typeInto("#f-code", app.code(w.t)),
		submit("/account/two-step/app", ".backup-code"))
	if n := w.eval(`String(document.querySelectorAll(".backup-code").length)`); n != "10" {
		w.t.Fatalf("%s backup codes after the first app, want 10", n)
	}
	return app
}

// authApp is an authenticator app: it gives the codes the server accepts
// (one step of drift either way), never a step used before.
type authApp struct {
	secret string
	last   int64
}

func newAuthApp(t *testing.T, uri string) *authApp {
	t.Helper()
	u, err := url.Parse(strings.TrimSpace(uri))
	if err != nil || u.Query().Get("secret") == "" {
		t.Fatalf("otpauth URI %q", uri)
	}
	return &authApp{secret: u.Query().Get("secret")}
}

// code returns the oldest acceptable code of a step after the last one
// used, waiting for the next step when none is left.
func (a *authApp) code(t *testing.T) string {
	t.Helper()
	for {
		now := time.Now()
		cur, into := totp.Step(now), now.Unix()%totp.Period
		for _, s := range []int64{cur - 1, cur, cur + 1} {
			// The previous step only early in this one: the server must
			// still be in this step when the code arrives.
			if s <= a.last || (s == cur-1 && into > 20) {
				continue
			}
			c, err := totp.Code(a.secret, s)
			if err != nil {
				t.Fatal(err)
			}
			a.last = s
			return c
		}
		time.Sleep(time.Duration(totp.Period-into)*time.Second + 200*time.Millisecond)
	}
}

// TestBrowser_Walk walks the six paths in each language on each screen.
// The paths share one server per language and screen (the expired-code
// walk has its own, with short-lived codes). The re-verification walk
// signs in first and is finished last, so that its wait for the window to
// pass overlaps the other walks.
func TestBrowser_Walk(t *testing.T) {
	chromium(t)
	for _, v := range walkVariants {
		t.Run(v.String(), func(t *testing.T) {
			t.Parallel()
			p := serve(t, t.TempDir(), walkEnv(nil))
			var rv *reverifyWalk
			// The re-verification walk's browser outlives its first subtest.
			rw := openWalker(t, v, p)
			t.Run("reverify-begin", func(t *testing.T) { rv = beginReverify(rw.on(t), p) })
			t.Run("passkey", func(t *testing.T) { walkPasskey(t, v, p) })
			t.Run("trusted-browser", func(t *testing.T) { walkTrustedBrowser(t, v, p) })
			t.Run("code-signin", func(t *testing.T) { walkCodeSignIn(t, v, p) })
			t.Run("expired-code", func(t *testing.T) { walkExpiredCode(t, v) })
			t.Run("keyboard", func(t *testing.T) { walkKeyboard(t, v, p) })
			t.Run("reverify-after-window", func(t *testing.T) {
				if rv == nil {
					t.Skip("reverify-begin did not finish")
				}
				rv.finish(t)
			})
		})
	}
}

// walkPasskey: a holder adds a passkey from the account's two-step page
// (the first method: two-step verification turns on, backup codes are
// shown), signs out, and signs in with the passkey alone; on another
// device whose authenticator cannot verify its user, the same passkey is
// the second step after the password.
func walkPasskey(t *testing.T, v walkVariant, p *proc) {
	const pw = "violet canoe at dawn"
	email := "walk-passkey-" + v.String() + "@example.com"
	a := openWalker(t, v, p)
	auth := addAuthenticator(a.tab, true)
	a.signUp(p, email, pw)
	a.step("two-step settings", clickAndLoad(`a[href="/account/two-step"]`, "#two-step-state"))
	a.step("add a passkey", clickAndLoad(`a[href="/account/two-step/passkey"]`, ".passkey-start"))
	a.expectPath("add a passkey", "/account/two-step/passkey")
	a.step("create the passkey", clearField("#f-name"), typeInto("#f-name", "Laptop "+v.String()),
		clickAndLoad(".passkey-start", ".backup-code"))
	if n := a.eval(`String(document.querySelectorAll(".backup-code").length)`); n != "10" {
		t.Fatalf("%s backup codes after the first passkey, want 10", n)
	}
	a.step("backup codes saved", clickAndLoad(`main a[href="/account/two-step"]`, "#passkeys"))
	if txt := a.text("#passkeys"); !strings.Contains(txt, "Laptop "+v.String()) {
		t.Fatalf("the two-step page lists the passkeys as %q", txt)
	}
	a.inLanguage("two-step state", a.text("#two-step-state"))
	creds := auth.credentials()
	if len(creds) != 1 || !creds[0].IsResidentCredential {
		t.Fatalf("the authenticator holds %d credentials, want one discoverable", len(creds))
	}

	// Signing out lands on the sign-in page, whose autofill offer may sign
	// in with the passkey at once; otherwise its button does.
	a.do("sign out", chromedp.Click(chromedp.CSS(`form[action="/signout"] button`)))
	for end := time.Now().Add(5 * time.Second); a.path() != "/account" && time.Now().Before(end); {
		time.Sleep(100 * time.Millisecond)
	}
	if a.path() != "/account" {
		a.step("sign-in page", visible(".passkey-start"))
		a.step("passkey alone", clickAndLoad(".passkey-start", "#account-email"))
		t.Log("signed in with the passkey by the sign-in page's button")
	} else {
		t.Log("signed in with the passkey by the sign-in page's autofill offer")
	}
	a.step("signed in by passkey", visible("#account-email"))
	a.expectPath("passkey alone", "/account")

	// Another device: the passkey as the second step.
	b := openWalker(t, v, p)
	addAuthenticator(b.tab, false).add(auth.credentials()[0])
	b.open("sign-in page", "/signin", "#f-email")
	b.language("#f-email")
	b.step("password", typeInto("#f-email", email), typeInto("#f-password", pw), submit("/signin", ".passkey-start"))
	b.expectPath("password", "/signin/verify")
	if m := b.value(`form[action="/signin/verify"] input[name=method]`); m != "passkey" {
		t.Errorf("the second step offered is %q, want passkey", m)
	}
	b.inLanguage("second-step heading", b.text("h1"))
	b.step("passkey as the second step", clickAndLoad(".passkey-start", "#account-email"))
	b.expectPath("passkey as the second step", "/account")
}

// walkTrustedBrowser: a holder with an authenticator app ticks "don't ask
// again on this browser" at the second step, signs out, signs in there
// with the password alone, and is then asked to re-verify (password and
// app code) before renewing the backup codes; after it, the page says to
// press the button again, and the new codes are shown.
func walkTrustedBrowser(t *testing.T, v walkVariant, p *proc) {
	const pw = "violet canoe at dawn"
	email := "walk-trusted-" + v.String() + "@example.com"
	w := openWalker(t, v, p)
	w.signUp(p, email, pw)
	app := w.addApp("Phone")
	w.step("backup codes saved", clickAndLoad(`main a[href="/account/two-step"]`, "#two-step-state"))
	w.signOut()

	w.step("password", typeInto("#f-email", email), typeInto("#f-password", pw), submit("/signin", "#f-code"))
	w.expectPath("password", "/signin/verify")
	w.do("tick trust", chromedp.Click(chromedp.CSS("#f-trust")))
	if got := w.eval(`String(document.getElementById("f-trust").checked)`); got != "true" {
		t.Fatalf("the trust box is not ticked after pressing it")
	}
	w.inLanguage("the trust box's label", w.text(`label[for="f-trust"]`))
	w.step("app code, trusting this browser", typeInto("#f-code", app.code(t)), submit("/signin/verify", "#account-email"))
	w.expectPath("second step", "/account")
	if w.text("#trusted-browsers") == "" {
		t.Fatal("the account page does not list the trusted browser")
	}
	w.signOut()
	w.step("password alone", typeInto("#f-email", email), typeInto("#f-password", pw), submit("/signin", "#account-email"))
	w.expectPath("password alone on the trusted browser", "/account")

	// The password alone is no re-verification: a sensitive change asks.
	w.step("two-step settings", clickAndLoad(`a[href="/account/two-step"]`, "#backup-left"))
	w.step("renew backup codes", clickAndLoad(`form[action="/account/two-step/backup"] button`, "#f-password"))
	w.expectPath("renew backup codes", "/account/reverify")
	if next := w.value(`form[action="/account/reverify"] input[name=next]`); !strings.HasPrefix(next, "/account/two-step") {
		t.Errorf("the re-verification returns to %q, want the two-step page", next)
	}
	if m := w.value(`form[action="/account/reverify"] input[name=method]`); m != "app" {
		t.Errorf("the re-verification asks for %q, want app", m)
	}
	w.inLanguage("re-verification heading", w.text("h1"))
	w.step("re-verify", typeInto("#f-password", pw), typeInto("#f-code", app.code(t)), submit("/account/reverify", ".notice"))
	w.expectPath("re-verified", "/account/two-step")
	w.inLanguage("notice after re-verifying", w.text(".notice"))
	w.step("renew backup codes again", clickAndLoad(`form[action="/account/two-step/backup"] button`, ".backup-code"))
	if n := w.eval(`String(document.querySelectorAll(".backup-code").length)`); n != "10" {
		t.Fatalf("%s new backup codes, want 10", n)
	}
}

// walkCodeSignIn: sign-in by code (signin.code_signin) for a holder
// without two-step verification: the sign-in page links to it, the code
// comes by email in the holder's language, and it signs in; an address
// with no account gets the same page and no message; the session it
// starts is no re-verification, so changing the password asks for the
// password first.
func walkCodeSignIn(t *testing.T, v walkVariant, p *proc) {
	const pw = "violet canoe at dawn"
	email := "walk-code-" + v.String() + "@example.com"
	w := openWalker(t, v, p)
	w.signUp(p, email, pw)
	w.signOut()

	nobody := "walk-nobody-" + v.String() + "@example.com"
	w.step("sign in by code", clickAndLoad(`a[href="/signin/code"]`, "#f-email"))
	w.expectPath("sign in by code", "/signin/code")
	w.step("an address with no account", typeInto("#f-email", nobody), submit("/signin/code", "#f-code"))
	w.expectPath("an address with no account", "/signin/code/verify")
	nobodyPage := w.text("main")
	w.inLanguage("code page", nobodyPage)

	w.open("sign in by code again", "/signin/code", "#f-email")
	w.step("the holder's address", typeInto("#f-email", email), submit("/signin/code", "#f-code"))
	w.expectPath("the holder's address", "/signin/code/verify")
	if got := strings.ReplaceAll(w.text("main"), email, nobody); got != nobodyPage {
		t.Errorf("the code page differs for an address with an account:\n%s\nwithout:\n%s", got, nobodyPage)
	}
	m := newestMail(t, p.URL, email, "code_signin")
	if m.Language != v.lang {
		t.Errorf("the sign-in code went out in %q, want %q", m.Language, v.lang)
	}
	if n := sentTo(t, p.URL, nobody); n != 0 {
		t.Errorf("%d message(s) went to %s, which has no account", n, nobody)
	}
	w.step("enter the code", typeInto("#f-code", m.code(t)), submit("/signin/code/verify", "#account-email"))
	w.expectPath("signed in by code", "/account")

	w.step("change password", clickAndLoad(`main a[href="/account/password"]`, "#f-password"))
	w.expectPath("change password after a code", "/account/reverify")
	if n := w.eval(`String(document.querySelectorAll("form[action='/account/reverify'] #f-code").length)`); n != "0" {
		t.Errorf("the re-verification of an account without two-step verification asks for a code")
	}
	w.step("re-verify with the password", typeInto("#f-password", pw), submit("/account/reverify", "#f-current_password"))
	w.expectPath("re-verified", "/account/password")
}

// walkExpiredCode: on a server whose codes last walkCodeTTL, a code typed
// after it ran out — at sign-up confirmation, at a sign-in's second step
// (the new-device check's emailed code) and at sign-in by code — is
// refused with a sentence in the holder's language that says it expired,
// and the page offers the next step, which works.
func walkExpiredCode(t *testing.T, v walkVariant) {
	p := serve(t, t.TempDir(), walkEnv(map[string]string{
		"GATEHOUSE_CODE_TTL":                walkCodeTTL.String(),
		"GATEHOUSE_CODE_COOLDOWN":           "0s",
		"GATEHOUSE_SIGNIN_NEW_DEVICE_CHECK": "email",
	}))
	const pw = "violet canoe at dawn"
	holder := "walk-expired-" + v.String() + "@example.com"
	newcomer := "walk-newcomer-" + v.String() + "@example.com"

	// The holder's account, signed up in the holder's own browser; then
	// a sign-in by code is started there.
	h := openWalker(t, v, p)
	h.signUp(p, holder, pw)
	h.signOut()
	h.open("sign in by code", "/signin/code", "#f-email")
	h.step("ask for a sign-in code", typeInto("#f-email", holder), submit("/signin/code", "#f-code"))
	signinCode := newestMail(t, p.URL, holder, "code_signin").code(t)

	// A sign-up whose code is left to run out.
	n := openWalker(t, v, p)
	n.open("open sign-up", "/signup", "#f-email")
	n.language("#f-email")
	n.step("sign up", typeInto("#f-email", newcomer), typeInto("#f-password", pw), submit("/signup", "#f-code"))
	confirmCode := newestMail(t, p.URL, newcomer, "confirm_email").code(t)

	// The holder's password on a browser the account has not used: the
	// new-device check emails a code.
	d := openWalker(t, v, p)
	d.open("sign-in page", "/signin", "#f-email")
	d.language("#f-email")
	d.step("password on a new device", typeInto("#f-email", holder), typeInto("#f-password", pw), submit("/signin", "#f-code"))
	d.expectPath("password on a new device", "/signin/verify")
	stepCode := newestMail(t, p.URL, holder, "second_step").code(t)

	time.Sleep(walkCodeTTL + time.Second)

	// Sign-up: the code field says the code expired; "send a new code" is
	// right there, and the new code confirms.
	t.Run("signup-confirm", func(t *testing.T) {
		n := n.on(t)
		status := n.submitStatus("confirm with the expired code", "/signup/confirm", "#f-code", typeInto("#f-code", confirmCode))
		if status != 422 {
			t.Errorf("an expired confirmation code is answered %d, want 422", status)
		}
		n.expectPath("expired confirmation code", "/signup/confirm")
		n.expectExpired("expired confirmation code", "#e-code")
		if n.eval(`String(!!document.querySelector('button[formaction="/signup/confirm/resend"], form[action="/signup/confirm/resend"] button'))`) != "true" {
			t.Fatal("the page of an expired confirmation code offers no new code")
		}
		n.step("send a new code", resend("/signup/confirm/resend", "#f-code"))
		n.step("confirm with the new code", clearField("#f-code"), typeInto("#f-code", newestMail(t, p.URL, newcomer, "confirm_email").code(t)),
			submit("/signup/confirm", "#account-email"))
		n.expectPath("confirm with the new code", "/account")
	})

	// Second step: the sign-in has ended; the sign-in page says why, and
	// signing in again sends a new code, which works.
	t.Run("second-step", func(t *testing.T) {
		d := d.on(t)
		d.step("second step with the expired code", typeInto("#f-code", stepCode), submit("/signin/verify", "#f-email"))
		d.expectPath("second step with the expired code", "/signin")
		d.expectExpired("expired second-step code", ".notice")
		d.step("sign in again", clearField("#f-email"), typeInto("#f-email", holder), clearField("#f-password"), typeInto("#f-password", pw),
			submit("/signin", "#f-code"))
		d.expectPath("sign in again", "/signin/verify")
		d.step("the new code", typeInto("#f-code", newestMail(t, p.URL, holder, "second_step").code(t)), submit("/signin/verify", "#account-email"))
		d.expectPath("the new code", "/account")
	})

	// Sign-in by code: the code field says the code expired, and the page
	// offers a way to get a new one.
	t.Run("code-signin", func(t *testing.T) {
		h := h.on(t)
		status := h.submitStatus("sign in with the expired code", "/signin/code/verify", "main", typeInto("#f-code", signinCode))
		if status != 422 {
			t.Errorf("an expired sign-in code is answered %d, want 422", status)
		}
		h.expectPath("expired sign-in code", "/signin/code/verify")
		h.expectExpired("expired sign-in code", "#e-code")
		// The sentence says to send a new code "below": there must be a
		// control that does (a resend, or the code request form again).
		if h.eval(`String(!!document.querySelector('main a[href^="/signin/code"]:not([href^="/signin/code/verify"]), main [formaction^="/signin/code"]:not([formaction^="/signin/code/verify"]), main form[action="/signin/code"]'))`) != "true" {
			t.Errorf("the page of an expired sign-in code says %q but offers no way to get a new code: its controls are %s",
				h.text("#e-code"), h.eval(`[...document.querySelectorAll("main a, main button")].map(e => e.tagName.toLowerCase() + "→" + (e.getAttribute("href") || e.getAttribute("formaction") || e.closest("form").getAttribute("action"))).join(", ")`))
		}
	})
}

// sentTo counts the messages the dev mailbox sent to an address (a
// withheld decoy was never sent).
func sentTo(t *testing.T, base, to string) int {
	t.Helper()
	n := 0
	for _, m := range devMessages(t, base) {
		if strings.EqualFold(m.To, to) && m.Status != "withheld" {
			n++
		}
	}
	return n
}

// submitStatus runs the actions, submits the form posting to action, and
// returns the HTTP status of the page it loads; the page is checked.
func (w *walker) submitStatus(name, action, sel string, actions ...chromedp.Action[chromedp.Void]) int64 {
	w.t.Helper()
	w.do(name, actions...)
	ctx, cancel := context.WithTimeout(w.ctx, 20*time.Second)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(`form[action="`+action+`"] button[type=submit]`)))
	if err != nil {
		w.t.Fatalf("%s: %v", name, err)
	}
	w.step(name, visible(sel))
	return resp.Status
}

// expectExpired fails the test unless the first element matching sel says,
// in the holder's language, that the code expired.
func (w *walker) expectExpired(what, sel string) {
	w.t.Helper()
	msg := w.eval(`(() => { const e = document.querySelector(` + jsString(sel) + `); return e ? e.textContent.trim() : "" })()`)
	if msg == "" {
		w.t.Fatalf("%s: nothing at %s on %s:\n%s", what, sel, w.path(), w.text("main"))
	}
	w.inLanguage(what, msg)
	if !expired[w.v.lang].MatchString(msg) {
		w.t.Errorf("%s: %q does not say the code expired", what, msg)
	}
}

// reverifyWalk is a holder signed in with password and app, left until
// the re-verification window has passed.
type reverifyWalk struct {
	w          *walker
	app        *authApp
	email, pw  string
	signedInAt time.Time
}

// beginReverify: a holder with an authenticator app signs in with it;
// right after, changing the password needs no re-verification.
func beginReverify(w *walker, p *proc) *reverifyWalk {
	t := w.t
	rv := &reverifyWalk{w: w, email: "walk-reverify-" + w.v.String() + "@example.com", pw: "violet canoe at dawn"}
	w.signUp(p, rv.email, rv.pw)
	rv.app = w.addApp("Phone")
	w.open("account", "/account", "#account-email")
	w.signOut()
	w.step("password", typeInto("#f-email", rv.email), typeInto("#f-password", rv.pw), submit("/signin", "#f-code"))
	w.step("app code", typeInto("#f-code", rv.app.code(t)), submit("/signin/verify", "#account-email"))
	rv.signedInAt = time.Now()
	w.step("change password within the window", clickAndLoad(`main a[href="/account/password"]`, "main"))
	w.expectPath("change password within the window", "/account/password")
	w.open("back to the account", "/account", "#account-email")
	return rv
}

// finish: once the window has passed, changing the password asks for the
// password and the app's code first, then goes on to the change.
func (rv *reverifyWalk) finish(t *testing.T) {
	w := rv.w.on(t)
	if wait := time.Until(rv.signedInAt.Add(walkStepUp + 2*time.Second)); wait > 0 {
		t.Logf("waiting %s for the re-verification window to pass", wait.Round(time.Second))
		time.Sleep(wait)
	}
	w.open("account", "/account", "#account-email")
	w.step("change password after the window", clickAndLoad(`main a[href="/account/password"]`, "#f-password"))
	w.expectPath("change password after the window", "/account/reverify")
	if next := w.value(`form[action="/account/reverify"] input[name=next]`); next != "/account/password" {
		t.Errorf("the re-verification returns to %q, want /account/password", next)
	}
	w.inLanguage("re-verification heading", w.text("h1"))
	w.step("re-verify with a wrong password", typeInto("#f-password", "not the password at all"), typeInto("#f-code", "000000"),
		submit("/account/reverify", "#error-summary"))
	w.expectPath("wrong password", "/account/reverify")
	w.inLanguage("re-verification error", w.text("#error-summary"))
	w.step("re-verify", clearField("#f-password"), typeInto("#f-password", rv.pw), clearField("#f-code"), typeInto("#f-code", rv.app.code(t)),
		submit("/account/reverify", "#f-current_password"))
	w.expectPath("re-verified", "/account/password")
	w.step("change the password", typeInto("#f-current_password", rv.pw), typeInto("#f-new_password", "second violet canoe"),
		submit("/account/password", ".notice"))
	w.inLanguage("notice after the change", w.text(".notice"))
}

// focusState describes the element that has focus.
type focusState struct {
	Desc    string `json:"desc"`    // tag#id[name]: the element, for messages
	Index   int    `json:"index"`   // its position in document order
	Ring    bool   `json:"ring"`    // an outline or a box-shadow is drawn
	Visible bool   `json:"visible"` // it matches :focus-visible
	InView  bool   `json:"inView"`  // it is on the screen
	Body    bool   `json:"body"`    // nothing has focus
	Main    bool   `json:"main"`    // it is inside <main>
}

const focusJS = `(() => {
  const e = document.activeElement;
  if (!e || e === document.body || e === document.documentElement) return {desc: "body", index: -1, body: true};
  const cs = getComputedStyle(e), r = e.getBoundingClientRect();
  let desc = e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.getAttribute("name") ? "[name=" + e.getAttribute("name") + "]" : "") +
    (e.getAttribute("href") ? "[href=" + e.getAttribute("href") + "]" : "") + (e.getAttribute("formaction") ? "[formaction=" + e.getAttribute("formaction") + "]" : "");
  const label = (e.innerText || e.value || "").trim().slice(0, 30);
  if (label && e.type !== "password") desc += " " + JSON.stringify(label);
  return {
    desc: desc,
    index: [...document.querySelectorAll("*")].indexOf(e),
    ring: (cs.outlineStyle !== "none" && parseFloat(cs.outlineWidth) > 0) || (cs.boxShadow !== "" && cs.boxShadow !== "none"),
    visible: e.matches(":focus-visible"),
    inView: r.width > 0 && r.height > 0 && r.bottom > 0 && r.right > 0 && r.top < innerHeight && r.left < innerWidth,
    body: false,
    main: !!e.closest("main"),
  };
})()`

// keyboard drives a walker with key events only: Tab, Shift+Tab, Enter,
// Space, and the characters typed into the focused field.
type keyboard struct {
	w     *walker
	fresh bool     // a page has just loaded: the first Tab must reach the skip link
	stops []string // the focus stops of the current page
}

func (k *keyboard) focus() focusState {
	k.w.t.Helper()
	f, err := chromedp.Run(k.w.ctx, chromedp.Evaluate[focusState](focusJS))
	if err != nil {
		k.w.t.Fatalf("read the focus: %v", err)
	}
	return f
}

func (k *keyboard) keys(keys string, mods ...chromedp.Modifier) {
	k.w.t.Helper()
	var opts []chromedp.KeyOption
	if len(mods) > 0 {
		opts = append(opts, chromedp.KeyModifiers(mods...))
	}
	k.w.do("press "+strings.NewReplacer("\t", "Tab", "\r", "Enter", " ", "Space").Replace(keys), chromedp.KeyEvent(keys, opts...))
}

// tabTo presses Tab (or Shift+Tab, back) until the element matching sel
// has focus, at most max times. Every stop on the way must show a focus
// ring, be on the screen, and come after the last (before it, going back)
// in document order; the first stop on a new page is the skip link.
func (k *keyboard) tabTo(sel string, max int, back ...bool) {
	k.w.t.Helper()
	t := k.w.t
	shift := len(back) > 0 && back[0]
	for i := 0; i < max; i++ {
		before := k.focus()
		if shift {
			k.keys("\t", chromedp.ModifierShift)
		} else {
			k.keys("\t")
		}
		f := k.focus()
		k.stops = append(k.stops, f.Desc)
		switch {
		case f.Body:
			t.Fatalf("Tab left nothing focused on %s (stops: %s)", k.w.path(), strings.Join(k.stops, " → "))
		case !f.Ring || !f.Visible:
			t.Errorf("no visible focus on %s at %s (outline/box-shadow drawn: %v, :focus-visible: %v)", f.Desc, k.w.path(), f.Ring, f.Visible)
		case !f.InView:
			t.Errorf("the focused %s is off the screen at %s", f.Desc, k.w.path())
		}
		if k.fresh && !shift {
			if k.w.eval(`String(document.activeElement.matches("a.skip"))`) != "true" {
				t.Errorf("the first Tab on %s reaches %s, want the skip link", k.w.path(), f.Desc)
			}
			k.fresh = false
		} else if !before.Body && (shift && f.Index >= before.Index || !shift && f.Index <= before.Index) {
			t.Errorf("focus went from %s to %s on %s: against document order (stops: %s)", before.Desc, f.Desc, k.w.path(), strings.Join(k.stops, " → "))
		}
		if k.w.eval(`String(document.activeElement.matches(`+jsString(sel)+`))`) == "true" {
			return
		}
	}
	t.Fatalf("%d Tab presses on %s did not reach %s (stops: %s)", max, k.w.path(), sel, strings.Join(k.stops, " → "))
}

// typeText types into the focused field.
func (k *keyboard) typeText(text string) {
	k.w.t.Helper()
	k.w.do("type", chromedp.KeyEvent(text))
}

// activate presses key (Enter or Space) on the focused element, which loads
// a page showing sel; the page is checked like every other.
func (k *keyboard) activate(name, key, sel string) {
	k.w.t.Helper()
	on := k.focus()
	ctx, cancel := context.WithTimeout(k.w.ctx, 20*time.Second)
	defer cancel()
	if _, err := chromedp.RunResponse(ctx, chromedp.KeyEvent(key)); err != nil {
		k.w.t.Fatalf("%s: %v (focus was on %s)", name, err, on.Desc)
	}
	k.w.step(name, visible(sel))
	k.w.t.Logf("keyboard: %s: %s", name, strings.Join(k.stops, " → "))
	k.fresh, k.stops = true, nil
}

// walkKeyboard: sign up, confirm, sign out, sign in, add an authenticator
// app, sign out and sign in with it — with key events only (Tab,
// Shift+Tab, Enter, Space and typed characters; no clicks, no focusing by
// script). Every focus stop shows a ring and follows document order.
func walkKeyboard(t *testing.T, v walkVariant, p *proc) {
	const pw = "violet canoe at dawn"
	email := "walk-keys-" + v.String() + "@example.com"
	k := &keyboard{w: openWalker(t, v, p)}
	w := k.w
	w.open("open sign-up", "/signup", "#f-email")
	k.fresh = true
	if w.attr("html", "lang") != v.lang {
		k.tabTo(`nav.langs a[hreflang="`+v.lang+`"]`, 6)
		k.activate("switch language", "\r", `html[lang="`+v.lang+`"] #f-email`)
	}

	// The skip link takes the next Tab into the page's own content.
	k.tabTo("a.skip", 1)
	k.keys("\r")
	k.tabTo("#f-email", 1)
	if f := k.focus(); !f.Main {
		t.Errorf("after the skip link, Tab reaches %s, outside <main>", f.Desc)
	}
	k.typeText(email)
	k.tabTo("#f-password", 1)
	k.typeText(pw)
	k.tabTo("#f-email", 1, true) // Shift+Tab: back to the address
	if got := w.value("#f-email"); got != email {
		t.Errorf("the address field holds %q, want %q", got, email)
	}
	k.tabTo("#f-password", 1)
	k.tabTo(`button[data-reveal="f-password"]`, 1)
	k.keys(" ")
	if typ := w.eval(`document.getElementById("f-password").type`); typ != "text" {
		t.Errorf("Space on \"show password\" left the field of type %q", typ)
	}
	k.keys(" ")
	k.tabTo(`form[action="/signup"] button[type=submit]`, 3)
	k.activate("sign up", "\r", "#f-code")
	w.expectPath("sign up", "/signup/confirm")

	k.tabTo("#f-code", 8)
	k.typeText(newestMail(t, p.URL, email, "confirm_email").code(t))
	k.tabTo(`form[action="/signup/confirm"] button[type=submit]`, 1)
	k.activate("confirm", "\r", "#account-email")
	w.expectPath("confirm", "/account")

	k.tabTo(`form[action="/signout"] button`, 6)
	k.activate("sign out", "\r", "#f-email")
	w.expectPath("sign out", "/signin")
	k.tabTo("#f-email", 8)
	k.typeText(email)
	k.tabTo("#f-password", 1)
	k.typeText(pw)
	k.activate("sign in (Enter in the password field)", "\r", "#account-email")
	w.expectPath("sign in", "/account")

	k.tabTo(`main a[href="/account/two-step"]`, 20)
	k.activate("two-step settings", "\r", "#two-step-state")
	k.tabTo(`main a[href="/account/two-step/app"]`, 20)
	k.activate("add an app", "\r", "#f-code")
	w.expectPath("add an app", "/account/two-step/app")
	k.tabTo("details summary", 10)
	k.keys(" ")
	if open := w.eval(`String(document.querySelector("details").open)`); open != "true" {
		t.Fatal("Space on \"cannot scan?\" did not open it")
	}
	app := newAuthApp(t, w.eval(`document.getElementById("otpauth-uri").textContent`))
	k.tabTo("#f-name", 4)
	if w.value("#f-name") == "" {
		k.typeText("Keys")
	}
	k.tabTo("#f-code", 1)
	k.typeText(app.code(t))
	k.tabTo(`form[action="/account/two-step/app"] button[type=submit]`, 1)
	k.activate("confirm the app", "\r", ".backup-code")
	k.tabTo(`main a[href="/account/two-step"]`, 8)
	k.activate("backup codes saved", "\r", "#two-step-state")
	if w.text("#backup-left") == "" {
		t.Error("the two-step page does not show two-step verification on")
	}

	k.tabTo(`form[action="/signout"] button`, 6)
	k.activate("sign out", "\r", "#f-email")
	k.tabTo("#f-email", 8)
	k.typeText(email)
	k.tabTo("#f-password", 1)
	k.typeText(pw)
	k.tabTo(`form[action="/signin"] button[type=submit]`, 4)
	k.activate("sign in", " ", "#f-code") // Space on the button
	w.expectPath("sign in", "/signin/verify")
	k.tabTo("#f-code", 8)
	k.typeText(app.code(t))
	k.tabTo(`form[action="/signin/verify"] button[type=submit]`, 3)
	k.activate("app code", "\r", "#account-email")
	w.expectPath("app code", "/account")
}
