package e2e

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// devMail is one entry of the dev driver's /dev/messages.json.
type devMail struct {
	Reference, Purpose, Cause, To, Text, Channel, Language, Status string
}

// newestMail returns the newest message to an address with the purpose
// from the dev mailbox (newest first), failing the test without one.
func newestMail(t *testing.T, base, to, purpose string) devMail {
	t.Helper()
	for _, m := range devMessages(t, base) {
		// A withheld message (a decoy's) was never sent: not what arrived.
		if strings.EqualFold(m.To, to) && m.Purpose == purpose && m.Status != "withheld" {
			return m
		}
	}
	t.Fatalf("no %s message to %s in the dev mailbox", purpose, to)
	return devMail{}
}

// devMessages reads the dev mailbox, newest first.
func devMessages(t *testing.T, base string) []devMail {
	t.Helper()
	resp, err := http.Get(base + "/dev/messages.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var msgs []devMail
	if err := json.NewDecoder(resp.Body).Decode(&msgs); err != nil {
		t.Fatal(err)
	}
	return msgs
}

// codeIn is the code printed on a line of its own in a message's text.
var codeIn = regexp.MustCompile(`(?m)^    ([0-9]{6})$`)

func (m devMail) code(t *testing.T) string {
	t.Helper()
	c := codeIn.FindStringSubmatch(m.Text)
	if c == nil {
		t.Fatalf("no code in message %s:\n%s", m.Reference, m.Text)
	}
	return c[1]
}

// signUpEn opens sign-up in English and signs up with pw, ending on the
// code page.
func signUpEn(t *testing.T, p *proc, b *tab, email, pw string) {
	t.Helper()
	b.run("open sign-up", chromedp.Navigate(p.URL+"/signup"), visible("#f-email"))
	b.useLanguage("en", "#f-email")
	b.run("sign up", typeInto("#f-email", email), typeInto("#f-password", pw), submit("/signup", "#f-code"))
}

// expectPath fails the test unless the tab shows path.
func (b *tab) expectPath(step, want string) {
	b.t.Helper()
	if got := b.path(); got != want {
		b.t.Fatalf("%s: at %s (title %q), want %s\n%s", step, got, b.title(), want, b.text("main"))
	}
}

// TestBrowser_NotMe_PasswordKnown_OtherBrowserRefusedWithTheRightCode: in
// Japanese, with the new-device check on, someone else types the holder's
// right password in another browser and reaches the code step; the code's
// email says why (a right password on a device the account has not used)
// and how to check it (/why/REFERENCE, typed). The holder finds it in the
// message center, opens its story and answers "心当たりがない": every
// session ends (the holder's too), the other browser's right code is
// refused, the next sign-in must first choose a new password, and the
// activity page lists the denied attempt.
func TestBrowser_NotMe_PasswordKnown_OtherBrowserRefusedWithTheRightCode(t *testing.T) {
	env := map[string]string{"GATEHOUSE_SIGNIN_NEW_DEVICE_CHECK": "email"}
	for k, v := range cheapArgon {
		env[k] = v
	}
	p := serve(t, t.TempDir(), env)
	const email, pw, pw2 = "notme-pk-ja@example.com", "violet canoe at dawn", "a brand new passphrase 9"

	holder := openTab(t)
	signUpJa(t, p, holder, email)
	holder.run("confirm", typeInto("#f-code", latestCode(t, p.URL, email)), submit("/signup/confirm", "#account-email"))

	other := openTab(t)
	other.run("open sign-in", chromedp.Navigate(p.URL+"/signin"), visible("#f-email"))
	other.useLanguage("ja", "#f-email")
	other.run("right password in another browser", typeInto("#f-email", email), typeInto("#f-password", pw),
		submit("/signin", "#f-code"))
	other.expectPath("right password in another browser", "/signin/verify")

	m := newestMail(t, p.URL, email, "second_step")
	ref := m.Reference
	if m.Cause != "password_known" {
		t.Fatalf("second-step message %s: cause %q, want password_known\n%s", ref, m.Cause, m.Text)
	}
	mailSays(t, "second-step message", m,
		"正しいパスワードが入力されました",
		"/why/"+ref,
		"このメッセージが本物か確かめるには、"+p.URL+"/check をご自身でブラウザに入力し", "参照番号は "+p.URL+"/why/"+ref+" でも調べられます",
		p.URL+"/account/messages",
	)
	code := m.code(t)

	holder.centerEntry(t, p, ref, "このアカウントで使われたことのない端末でパスワードが入力されました")
	holder.story(t, p, ref, "password_known", "新しい端末でのパスワード入力")
	if b := holder.text(`#answer-form button[name=answer][value=not_me]`); b != "心当たりがない" {
		t.Errorf("not-me button %q, want 心当たりがない", b)
	}
	holder.run("answer 心当たりがない", clickAndLoad(`#answer-form button[name=answer][value=not_me]`, "#answer-actions"))
	actions := holder.text("#answer-actions")
	for _, want := range []string{"このログインを拒否しました", "すべてのセッションをログアウトしました", "新しいパスワードの設定"} {
		if !strings.Contains(actions, want) {
			t.Errorf("actions do not say %q:\n%s", want, actions)
		}
	}
	if next := holder.text("#answer-next"); !strings.Contains(next, "新しいパスワードを設定") {
		t.Errorf("next step %q", next)
	}

	// The other browser holds the right code, typed in time: refused.
	other.run("the right code after the answer", typeInto("#f-code", code), clickAndLoad(`form[action="/signin/verify"] button[type=submit]`, "main"))
	if got := other.path(); got == "/account" {
		t.Fatal("the denied sign-in reached /account with its right code")
	}
	if n := other.eval(`String(document.querySelectorAll("#f-code").length)`); n != "0" {
		t.Errorf("the denied sign-in still asks for a code (%s, %q)", other.path(), other.title())
	}
	other.do("the other browser is not signed in", chromedp.Navigate(p.URL+"/account"), visible("main"))
	other.expectPath("the other browser's /account", "/signin")
	if done := newestMail(t, p.URL, email, "not_me_done"); !strings.Contains(done.Text, ref) || !strings.Contains(done.Text, "拒否しました") {
		t.Errorf("the answer's confirmation email:\n%s", done.Text)
	}

	// The holder's own session ended too.
	holder.run("holder's account page", chromedp.Navigate(p.URL+"/account"), visible("#f-password"))
	holder.expectPath("holder after the answer", "/signin")

	// Signing in again, even on this known browser, asks for a code by
	// email (the password alone is someone else's too), then for a new
	// password before anything else.
	holder.run("sign in again", typeInto("#f-email", email), typeInto("#f-password", pw), submit("/signin", "#f-code"))
	holder.expectPath("sign in again", "/signin/verify")
	holder.run("the emailed code", typeInto("#f-code", latestCode(t, p.URL, email)), submit("/signin/verify", "#f-current_password"))
	holder.expectPath("after the emailed code", "/account/password")
	if n := holder.text(".notice"); !strings.Contains(n, "パスワードが第三者に知られています") {
		t.Errorf("password page notice %q", n)
	}
	holder.do("the activity page waits for the new password", chromedp.Navigate(p.URL+"/account/activity"), visible("#f-current_password"))
	holder.expectPath("activity before the new password", "/account/password")
	holder.run("choose a new password", typeInto("#f-current_password", pw), typeInto("#f-new_password", pw2),
		submit("/account/password", "#account-email"))
	holder.expectPath("after the new password", "/account")

	holder.run("security checkup", chromedp.Navigate(p.URL+"/account/security"), visible("main"))
	holder.expectPath("security checkup", "/account/security")
	if n := holder.eval(`String(document.querySelectorAll('li[data-todo="password_compromised"]').length)`); n != "0" {
		t.Errorf("the checkup still asks for a new password after one was set")
	}

	holder.run("failed sign-ins", chromedp.Navigate(p.URL+"/account/activity?failed=1"), visible("#attempts"))
	outcomes := holder.eval(`Array.from(document.querySelectorAll("#attempts li.attempt .outcome")).map(e => e.textContent.trim()).join("|")`)
	if !strings.Contains("|"+outcomes+"|", "|拒否|") {
		t.Fatalf("no denied attempt among the failed sign-ins: %q\n%s", outcomes, holder.text("#attempts"))
	}
	if n := holder.eval(`String(Array.from(document.querySelectorAll("#attempts li.attempt")).filter(li => li.querySelector(".outcome").textContent.trim() === "拒否" && li.querySelector(".answered")).length)`); n == "0" {
		t.Errorf("the denied attempt is not marked as answered \"this wasn't me\":\n%s", holder.text("#attempts"))
	}
	holder.run("the story after the answer", chromedp.Navigate(p.URL+"/why/"+ref), visible("#story-answered"))
	if n := holder.eval(`String(document.querySelectorAll("#answer-form").length)`); n != "0" {
		t.Error("the answered story still offers the answer form")
	}
}

// TestBrowser_NotMe_ResetRequested_CancelsTheReset: in English, someone
// else asks for a reset of the holder's password; the reset email says why
// and how to check it. The holder, signed in, answers "This wasn't me"
// with the message center's button: the reset is cancelled, the holder
// stays signed in, and the other person's right code is refused on the
// reset page, so their password never works.
func TestBrowser_NotMe_ResetRequested_CancelsTheReset(t *testing.T) {
	p := serve(t, t.TempDir(), cheapArgon)
	const email, pw, theirs = "notme-reset-en@example.com", "violet canoe at dawn", "someone else's new passphrase"

	holder := openTab(t)
	signUpEn(t, p, holder, email, pw)
	holder.run("confirm", typeInto("#f-code", latestCode(t, p.URL, email)), submit("/signup/confirm", "#account-email"))

	other := openTab(t)
	other.run("open forgot password", chromedp.Navigate(p.URL+"/password/forgot"), visible("#f-email"))
	other.useLanguage("en", "#f-email")
	other.run("ask for a reset of the holder's password", typeInto("#f-email", email), submit("/password/forgot", "#f-new_password"))
	other.expectPath("forgot password", "/password/reset")

	m := newestMail(t, p.URL, email, "reset_password")
	ref := m.Reference
	if m.Cause != "reset_requested" {
		t.Fatalf("reset message %s: cause %q, want reset_requested\n%s", ref, m.Cause, m.Text)
	}
	mailSays(t, "reset message", m,
		"A password reset was requested for your",
		"If it isn't you, you don't need to do anything",
		"Is this message really from us? Type "+p.URL+"/check into your browser yourself", "or look up its reference at "+p.URL+"/why/"+ref+".",
		p.URL+"/account/messages",
	)
	code := m.code(t)

	holder.centerEntry(t, p, ref, "someone asked to reset the password")
	holder.run("answer This wasn't me in the message center",
		clickAndLoad(`form[action="/why/`+ref+`"] button[name=answer][value=not_me]`, "#answer-actions"))
	if actions := holder.text("#answer-actions"); !strings.Contains(actions, "The password reset was cancelled") {
		t.Errorf("actions do not say the reset was cancelled:\n%s", actions)
	}
	if next := holder.text("#answer-next"); next == "" {
		t.Error("no next step after the answer")
	}
	holder.run("holder still signed in", chromedp.Navigate(p.URL+"/account"), visible("main"))
	holder.expectPath("holder after the answer", "/account")
	holder.run("the story after the answer", chromedp.Navigate(p.URL+"/why/"+ref), visible("#story-answered"))
	if cause := holder.attr("#story-cause", "data-cause"); cause != "reset_requested" {
		t.Errorf("story cause %q, want reset_requested", cause)
	}

	// The other person types the right code and a password of theirs.
	other.run("the right reset code after the answer", typeInto("#f-code", code), typeInto("#f-new_password", theirs),
		clickAndLoad(`form[action="/password/reset"] button[type=submit]`, "main"))
	if got := other.path(); got != "/password/reset" {
		t.Fatalf("the cancelled reset's code led to %s (notice %q)", got,
			other.eval(`(document.querySelector(".notice") || {textContent: ""}).textContent.trim()`))
	}
	if n := other.eval(`String(document.querySelectorAll("#error-summary").length)`); n != "1" {
		t.Errorf("the refused reset shows no error summary:\n%s", other.text("main"))
	}
	other.run("sign in with their password", chromedp.Navigate(p.URL+"/signin"), visible("#f-email"),
		typeInto("#f-email", email), typeInto("#f-password", theirs), submit("/signin", "main"))
	if got := other.path(); got == "/account" {
		t.Fatal("the other person's password from the cancelled reset signs in")
	}
	// The holder's password stays as it was.
	holder.run("holder signs out", clickAndLoad(`form[action="/signout"] button`, "#f-email"))
	holder.run("holder signs in with the same password", typeInto("#f-email", email), typeInto("#f-password", pw),
		submit("/signin", "#account-email"))
}

// turnOnApp adds an authenticator app on the holder's tab (two-step
// verification on, backup codes shown) and returns its otpauth:// URI.
func turnOnApp(t *testing.T, p *proc, b *tab) string {
	t.Helper()
	b.run("add an app", chromedp.Navigate(p.URL+"/account/two-step/app"), visible("svg.qr"))
	uri := b.eval(`document.getElementById("otpauth-uri").textContent`)
	b.run("confirm the app", typeInto("#f-code", appCode(t, uri, time.Now())), submit("/account/two-step/app", ".backup-code"))
	return uri
}

// emailedStep takes the second-step page's "try another way" to the code
// by email and has it sent, ending on the page that takes it.
func (b *tab) emailedStep(step string) {
	b.t.Helper()
	b.run(step+": another way, by email", clickAndLoad(`ul.other-ways a[href*="method=email"]`, `form[action="/signin/verify/resend"] button`))
	b.run(step+": send the code", resend("/signin/verify/resend", "#f-code"))
}

// TestBrowser_NotMe_OldDevice_DeniedAndForgotten: in English, with the
// new-device check on (the default). The new-device check asks a code of
// a browser the account has never used and of no other, so a browser the
// account used before is asked one only by two-step verification: the
// holder has an authenticator app, and the other person uses "try another
// way" to the emailed code (signin.email_fallback, turned on here). Their
// first sign-in's code says the right password came from a new device;
// they pass it, sign out, and sign in again from the now known device: the
// new code says an old device of the holder's, last used on a day, is
// signing in. The holder answers "This wasn't me" on /why/REFERENCE: the
// sign-in is denied and that device forgotten; its right code is refused,
// the holder's devices list only the holder's own, and the next sign-in
// there counts as a new device again.
func TestBrowser_NotMe_OldDevice_DeniedAndForgotten(t *testing.T) {
	env := map[string]string{"GATEHOUSE_SIGNIN_NEW_DEVICE_CHECK": "email", "GATEHOUSE_SIGNIN_EMAIL_FALLBACK": "true"}
	for k, v := range cheapArgon {
		env[k] = v
	}
	p := serve(t, t.TempDir(), env)
	const email, pw = "notme-old-en@example.com", "violet canoe at dawn"

	holder := openTab(t)
	signUpEn(t, p, holder, email, pw)
	holder.run("confirm", typeInto("#f-code", latestCode(t, p.URL, email)), submit("/signup/confirm", "#account-email"))
	turnOnApp(t, p, holder)

	other := openTab(t)
	signIn := func(step string) devMail {
		t.Helper()
		other.run(step+": open sign-in", chromedp.Navigate(p.URL+"/signin"), visible("#f-email"))
		other.useLanguage("en", "#f-email")
		other.run(step+": right password", typeInto("#f-email", email), typeInto("#f-password", pw), submit("/signin", "#f-code"))
		other.expectPath(step, "/signin/verify")
		other.emailedStep(step)
		return newestMail(t, p.URL, email, "second_step")
	}

	// First sign-in there: a device the account has not used.
	first := signIn("first sign-in")
	if first.Cause != "password_known" {
		t.Fatalf("first sign-in's message %s: cause %q, want password_known\n%s", first.Reference, first.Cause, first.Text)
	}
	other.run("first sign-in: the emailed code", typeInto("#f-code", first.code(t)), submit("/signin/verify", "#account-email"))
	other.run("sign out", clickAndLoad(`form[action="/signout"] button`, "#f-email"))

	// Again, from the device the account has now used.
	m := signIn("second sign-in")
	ref := m.Reference
	if ref == first.Reference {
		t.Fatalf("the second sign-in sent no new message (newest is still %s)", ref)
	}
	if m.Cause != "old_device" {
		t.Fatalf("second sign-in's message %s: cause %q, want old_device\n%s", ref, m.Cause, m.Text)
	}
	mailSays(t, "old-device message", m,
		"last used to sign in on",
		"is signing in again",
		"Is this message really from us? Type "+p.URL+"/check into your browser yourself", "or look up its reference at "+p.URL+"/why/"+ref+".",
		p.URL+"/account/messages",
	)
	code := m.code(t)

	holder.centerEntry(t, p, ref, "your password was typed on a device this account used before")
	holder.story(t, p, ref, "old_device", "an old device of yours")
	if does := holder.text("#story-not-me-will"); !strings.Contains(does, "forgets that device") {
		t.Errorf("the story says \"This wasn't me\" does %q", does)
	}
	holder.run("answer This wasn't me", clickAndLoad(`#answer-form button[name=answer][value=not_me]`, "#answer-actions"))
	actions := holder.text("#answer-actions")
	for _, want := range []string{"The sign-in was denied", "That device is forgotten", "The device that asked was signed out"} {
		if !strings.Contains(actions, want) {
			t.Errorf("actions do not say %q:\n%s", want, actions)
		}
	}
	if next := holder.text("#answer-next"); !strings.Contains(next, "Review your devices") {
		t.Errorf("next step %q", next)
	}

	// The other browser's right code, typed in time: refused.
	other.run("the right code after the answer", typeInto("#f-code", code), clickAndLoad(`form[action="/signin/verify"] button[type=submit]`, "main"))
	if got := other.path(); got == "/account" {
		t.Fatal("the denied sign-in reached /account with its right code")
	}
	if n := other.eval(`String(document.querySelectorAll("#f-code").length)`); n != "0" {
		t.Errorf("the denied sign-in still asks for a code (%s, %q)", other.path(), other.title())
	}
	other.do("the other browser is not signed in", chromedp.Navigate(p.URL+"/account"), visible("main"))
	other.expectPath("the other browser's /account", "/signin")

	// The holder stays signed in, with one device: their own.
	holder.run("holder's devices", chromedp.Navigate(p.URL+"/account/devices"), visible("main"))
	holder.expectPath("holder after the answer", "/account/devices")
	if n := holder.eval(`String(document.querySelectorAll("li.device").length)`); n != "1" {
		t.Errorf("the devices page lists %s devices, want the holder's one:\n%s", n, holder.text("main"))
	}
	holder.run("the story after the answer", chromedp.Navigate(p.URL+"/why/"+ref), visible("#story-answered"))

	// That device is a stranger again.
	again := signIn("sign-in after the answer")
	if again.Reference == ref {
		t.Fatalf("the sign-in after the answer sent no new message")
	}
	if again.Cause != "password_known" {
		t.Errorf("sign-in after the answer: cause %q, want password_known (the device forgotten)\n%s", again.Cause, again.Text)
	}
}

// codeSMS is the n-th code-bearing SMS (counting from 1) the gateway
// accepted for a number, as gateway.code counts them.
func (g *gateway) codeSMS(to string, n int) gatewaySMS {
	g.t.Helper()
	g.code(to, n) // waits for it
	var codes []gatewaySMS
	for _, m := range g.texts(to, 1) {
		if originBound.MatchString(m.Text) {
			codes = append(codes, m)
		}
	}
	return codes[n-1]
}

// TestBrowser_NotMe_Mistyped_PhoneEnrolmentBlocked: in Japanese, with the
// http SMS driver and a real local gateway. The holder's phone is
// enrolled; another person, signed in to an account of their own, types
// the holder's number on their phone page. The code SMS reaches the
// holder's number, its cause is "mistyped", and the message is the
// holder's: their message center lists it and its story says someone
// entered the number. The holder answers "心当たりがない": the request
// stops and that sender is blocked for 24 hours, so the other person's
// right code is refused and typing the number again is refused with a
// field error naming the number's holder.
func TestBrowser_NotMe_Mistyped_PhoneEnrolmentBlocked(t *testing.T) {
	const secret = "gateway shared secret for the mistyped test"
	g := newGateway(t, secret)
	env := map[string]string{"GATEHOUSE_SMS_DRIVER": "http", "GATEHOUSE_SMS_HTTP_URL": g.srv.URL, "GATEHOUSE_SMS_HTTP_SECRET": secret}
	for k, v := range cheapArgon {
		env[k] = v
	}
	p := serve(t, t.TempDir(), env)
	const email, theirs, number = "notme-mistyped-ja@example.com", "someone-else-ja@example.com", "+819012345678"

	holder := openTab(t)
	signUpJa(t, p, holder, email)
	holder.run("confirm", typeInto("#f-code", latestCode(t, p.URL, email)), submit("/signup/confirm", "#account-email"))
	holder.run("open the phone page", chromedp.Navigate(p.URL+"/account/two-step/phone"), visible("#f-phone"))
	holder.run("type the number", typeInto("#f-phone", "090-1234-5678"), submit("/account/two-step/phone", "#f-code"))
	holder.run("confirm the number", typeInto("#f-code", g.code(number, 1)), submit("/account/two-step/phone/confirm", ".backup-code"))

	other := openTab(t)
	signUpJa(t, p, other, theirs)
	other.run("confirm", typeInto("#f-code", latestCode(t, p.URL, theirs)), submit("/signup/confirm", "#account-email"))
	other.run("open the phone page", chromedp.Navigate(p.URL+"/account/two-step/phone"), visible("#f-phone"))
	other.run("type the holder's number", typeInto("#f-phone", "090-1234-5678"), submit("/account/two-step/phone", "#f-code"))
	other.expectPath("type the holder's number", "/account/two-step/phone/confirm")
	confirmURL := other.eval(`location.href`)

	sms := g.codeSMS(number, 2)
	code := originBound.FindStringSubmatch(sms.Text)[2]
	ref := sms.Reference
	if !strings.Contains(sms.Text, "この番号が入力されました") {
		t.Errorf("the code SMS %s does not say the number was entered:\n%s", ref, sms.Text)
	}
	m := newestMail(t, p.URL, number, "add_phone")
	if m.Reference != ref {
		t.Fatalf("newest add_phone message to %s is %s, the gateway's SMS is %s", number, m.Reference, ref)
	}
	if m.Cause != "mistyped" || m.Channel != "sms" {
		t.Fatalf("add_phone message %s: cause %q channel %q, want mistyped by sms\n%s", ref, m.Cause, m.Channel, m.Text)
	}

	holder.centerEntry(t, p, ref, "このアドレスまたは番号が当サービスのサイトで入力されました")
	holder.story(t, p, ref, "mistyped", "入力間違い")
	if txt := holder.text("main"); !strings.Contains(txt, "誰かがこのアドレスまたは番号を入力しました") {
		t.Errorf("the story does not say someone entered the number:\n%s", txt)
	}
	if b := holder.text(`#answer-form button[name=answer][value=not_me]`); b != "心当たりがない" {
		t.Errorf("not-me button %q, want 心当たりがない", b)
	}
	holder.run("answer 心当たりがない", clickAndLoad(`#answer-form button[name=answer][value=not_me]`, "#answer-actions"))
	actions := holder.text("#answer-actions")
	for _, want := range []string{"このコードは使えなくなり", "24時間、その人の端末とネットワークからこのアドレス・番号にはコードを送りません"} {
		if !strings.Contains(actions, want) {
			t.Errorf("actions do not say %q:\n%s", want, actions)
		}
	}
	if next := holder.text("#answer-next"); !strings.Contains(next, "あなたのアカウントには関係ありません") {
		t.Errorf("next step %q", next)
	}
	holder.run("holder still signed in, the number theirs", chromedp.Navigate(p.URL+"/account/two-step"), visible("#phone-listed"))
	if txt := holder.text("#phone-listed"); !strings.Contains(txt, "末尾78") {
		t.Errorf("holder's settings list the number as %q", txt)
	}

	// The other person's right code, typed in time: refused.
	other.run("the right code after the answer", typeInto("#f-code", code),
		clickAndLoad(`form[action="/account/two-step/phone/confirm"] button[type=submit]`, "main"))
	switch got := other.path(); {
	case strings.Contains(other.text("main"), "この申請ではコードの送信や確認ができません"),
		strings.Contains(other.text("main"), "この手続きは期限切れか、すでに完了しています"):
		// told the request was stopped, or that it ended
	case got == "/account/two-step/phone/confirm" &&
		other.eval(`String(document.querySelectorAll("#error-summary, #e-code").length)`) != "0":
		// the code page again, with the error
	default:
		t.Fatalf("the stopped request's right code led to %s (%q):\n%s", got, other.title(), other.text("main"))
	}
	if n := other.eval(`String(document.querySelectorAll(".backup-code").length)`); n != "0" {
		t.Fatal("the stopped request's code turned two-step verification on with the holder's number")
	}
	other.run("their two-step settings", chromedp.Navigate(p.URL+"/account/two-step"), visible("#two-step-state"))
	if n := other.eval(`String(document.querySelectorAll("#phone-listed").length)`); n != "0" {
		t.Errorf("the other account lists a phone: %q", other.text("#phone-listed"))
	}
	// To the other person the stopped request looks like one for a number
	// nobody holds (nothing says a holder answered): its page still takes
	// a code, and none is right.
	other.do("the code page again", chromedp.Navigate(confirmURL), visible("#f-code"))
	if txt := other.text("main"); strings.Contains(txt, "持ち主") || strings.Contains(txt, "止められました") {
		t.Errorf("the stopped request's page speaks of the number's holder:\n%s", txt)
	}

	// The number again, from the same browser: the usual code page, and no
	// text to the number.
	other.run("the number again", chromedp.Navigate(p.URL+"/account/two-step/phone"), visible("#f-phone"),
		typeInto("#f-phone", "090-1234-5678"), submit("/account/two-step/phone", "#f-code"))
	other.expectPath("the number again", "/account/two-step/phone/confirm")
	if newest := newestMail(t, p.URL, number, "add_phone"); newest.Reference != ref {
		t.Errorf("the blocked sender's request texted add_phone message %s to %s:\n%s", newest.Reference, number, newest.Text)
	}
}

// TestBrowser_YouJustNow_StepUpCodeIsRoutineAndThisWasMe: in English, a
// signed-in holder whose second step is a code by SMS re-verifies
// (/account/reverify; no waiting for the step-up window: the page is open
// to a signed-in holder at any time). The code's text says it was asked
// for from the holder's signed-in device; its cause is "you, just now",
// the message center says so, and the story calls it routine. "This was
// me" records the answer and changes nothing: the holder stays signed in
// and the code still finishes the step-up. In another browser, signed
// out, the same /why address only says the message is ours. (A code by
// email can no longer re-verify: it is no second factor — issue 18.)
func TestBrowser_YouJustNow_StepUpCodeIsRoutineAndThisWasMe(t *testing.T) {
	p := serve(t, t.TempDir(), cheapArgon)
	const email, pw, number = "youjustnow-en@example.com", "violet canoe at dawn", "+819012345670"

	holder := openTab(t)
	signUpEn(t, p, holder, email, pw)
	holder.run("confirm", typeInto("#f-code", latestCode(t, p.URL, email)), submit("/signup/confirm", "#account-email"))
	holder.run("open the phone page", chromedp.Navigate(p.URL+"/account/two-step/phone"), visible("#f-phone"))
	holder.run("type the number", typeInto("#f-phone", "090-1234-5670"), submit("/account/two-step/phone", "#f-code"))
	holder.run("confirm the number", typeInto("#f-code", latestCode(t, p.URL, number)), submit("/account/two-step/phone/confirm", ".backup-code"))

	holder.run("re-verify", chromedp.Navigate(p.URL+"/account/reverify?next=/account/two-step"), visible("#f-password"))
	if then := holder.text("main"); !strings.Contains(then, "we text a 6-digit code to the number ending in 70") {
		t.Errorf("the re-verification does not say a code will be texted:\n%s", then)
	}
	if n := holder.eval(`String(document.querySelectorAll('ul.other-ways a[href*="method=email"]').length)`); n != "0" {
		t.Error("the re-verification offers a code by email (no second factor)")
	}
	holder.run("re-verify: password", typeInto("#f-password", pw), submit("/account/reverify", "#f-code"))
	holder.expectPath("re-verify: password", "/signin/verify")
	stepUpURL := holder.eval(`location.href`)

	m := newestMail(t, p.URL, number, "step_up")
	ref := m.Reference
	if m.Cause != "you_just_now" {
		t.Fatalf("step-up message %s: cause %q, want you_just_now\n%s", ref, m.Cause, m.Text)
	}
	mailSays(t, "step-up message", m, "your code to confirm a change", "Requested from your signed-in device.")
	code := latestCode(t, p.URL, number)

	holder.centerEntry(t, p, ref, "you asked for it, signed in on this device")
	holder.story(t, p, ref, "you_just_now", "you, just now")
	if txt := holder.text("main"); !strings.Contains(txt, "This was routine") {
		t.Errorf("the story does not call the message routine:\n%s", txt)
	}
	if b := holder.text(`#answer-form button[name=answer][value=me]`); b != "This was me" {
		t.Errorf("me button %q, want This was me", b)
	}
	holder.run("answer This was me", clickAndLoad(`#answer-form button[name=answer][value=me]`, "#story-answered-me"))
	holder.expectPath("after This was me", "/why/"+ref)
	if q := holder.eval(`location.search`); q != "?notice=answered_me" {
		t.Errorf("after This was me at %s, want ?notice=answered_me", q)
	}
	if said := holder.text("#story-answered-me"); !strings.Contains(said, `You answered "this was me"`) {
		t.Errorf("the story records the answer as %q", said)
	}
	if n := holder.text(".notice"); !strings.Contains(n, "Nothing was changed") {
		t.Errorf("notice after This was me %q", n)
	}
	if n := holder.eval(`String(document.querySelectorAll("#story-answered").length)`); n != "0" {
		t.Error("the story shows a \"this wasn't me\" answer")
	}

	// Nothing changed: still signed in, and the code finishes the step-up.
	holder.run("holder still signed in", chromedp.Navigate(p.URL+"/account"), visible("#account-email"))
	holder.expectPath("holder after This was me", "/account")
	holder.run("back to the step-up", chromedp.Navigate(stepUpURL), visible("#f-code"))
	holder.run("the texted code", typeInto("#f-code", code), submit("/signin/verify", "#two-step-state"))
	holder.expectPath("after the step-up", "/account/two-step")

	// Someone else, signed out, learns only that the message is ours.
	visitor := openTab(t)
	visitor.run("a visitor types the /why address", chromedp.Navigate(p.URL+"/why/"+ref), visible("#verdict"))
	visitor.useLanguage("en", "#verdict")
	if v := visitor.text("#verdict"); !strings.Contains(v, "we sent the message with reference "+ref) {
		t.Errorf("visitor's verdict %q", v)
	}
	if n := visitor.eval(`String(document.querySelectorAll("#story, #answer-form").length)`); n != "0" {
		t.Error("a signed-out visitor sees the story or the answer form")
	}
}

// codeSignInTo asks, from the tab, for a sign-in code for email: the
// sign-in page's code link, the address, and the page that takes the code.
func (b *tab) codeSignInTo(p *proc, step, email string) {
	b.t.Helper()
	b.run(step+": open sign-in", chromedp.Navigate(p.URL+"/signin"), visible("#f-email"))
	b.useLanguage("ja", "#f-email")
	b.run(step+": sign in with a code instead", clickAndLoad(`a[href="/signin/code"]`, "#f-email"))
	b.expectPath(step+": sign in with a code instead", "/signin/code")
	b.run(step+": the holder's address", typeInto("#f-email", email), submit("/signin/code", "#f-code"))
	b.expectPath(step+": the holder's address", "/signin/code/verify")
}

// TestBrowser_NotMe_CodeSignIn_DeniedTheOtherBrowserIsRefused: in
// Japanese, with sign-in by code on (signin.code_signin), someone else asks
// in another browser for a sign-in code to the holder's address (two-step
// verification off, so a code is sent). The code's email says it was asked
// for by code; the holder finds it in the message center, opens its story
// (コードでのログイン) and answers "心当たりがない": the sign-in is denied,
// and the other browser's right code is refused. A second request, which
// the holder leaves alone, signs the other browser in with its right code
// (the feature works), and the holder's activity page lists both sign-ins
// by code: one denied, one succeeded.
func TestBrowser_NotMe_CodeSignIn_DeniedTheOtherBrowserIsRefused(t *testing.T) {
	env := map[string]string{"GATEHOUSE_SIGNIN_CODE_SIGNIN": "true"}
	for k, v := range cheapArgon {
		env[k] = v
	}
	p := serve(t, t.TempDir(), env)
	const email = "notme-codesignin-ja@example.com"

	holder := openTab(t)
	signUpJa(t, p, holder, email)
	holder.run("confirm", typeInto("#f-code", latestCode(t, p.URL, email)), submit("/signup/confirm", "#account-email"))

	other := openTab(t)
	other.codeSignInTo(p, "first request", email)

	m := newestMail(t, p.URL, email, "code_signin")
	ref := m.Reference
	if m.Cause != "code_signin" {
		t.Fatalf("code sign-in message %s: cause %q, want code_signin\n%s", ref, m.Cause, m.Text)
	}
	mailSays(t, "code sign-in message", m,
		"このアドレスに送るコードで",
		"このメッセージが本物か確かめるには、"+p.URL+"/check をご自身でブラウザに入力し", "参照番号は "+p.URL+"/why/"+ref+" でも調べられます",
		p.URL+"/account/messages",
	)
	code := m.code(t)

	holder.centerEntry(t, p, ref, "コードでのログインが申請されました")
	holder.story(t, p, ref, "code_signin", "コードでのログイン")
	if b := holder.text(`#answer-form button[name=answer][value=not_me]`); b != "心当たりがない" {
		t.Errorf("not-me button %q, want 心当たりがない", b)
	}
	holder.run("answer 心当たりがない", clickAndLoad(`#answer-form button[name=answer][value=not_me]`, "#answer-actions"))
	if actions := holder.text("#answer-actions"); !strings.Contains(actions, "拒否しました") {
		t.Errorf("actions do not say the sign-in was denied (拒否しました):\n%s", actions)
	}

	// The other browser holds the right code, typed in time: refused.
	other.run("the right code after the answer", typeInto("#f-code", code),
		clickAndLoad(`form[action="/signin/code/verify"] button[type=submit]`, "main"))
	switch got := other.path(); {
	case got == "/account":
		t.Fatal("the denied sign-in by code reached /account with its right code")
	case strings.Contains(other.text("main"), "この申請ではコードの送信や確認ができません"),
		strings.Contains(other.text("main"), "この手続きは期限切れか、すでに完了しています"):
		// told the request was stopped, or that it ended
	case got == "/signin/code/verify" &&
		other.eval(`String(document.querySelectorAll("#error-summary, #e-code").length)`) != "0":
		// the code page again, with the error
	default:
		t.Fatalf("the denied sign-in's right code led to %s (%q):\n%s", got, other.title(), other.text("main"))
	}
	other.do("the other browser is not signed in", chromedp.Navigate(p.URL+"/account"), visible("main"))
	other.expectPath("the other browser's /account", "/signin")

	// A new request, which the holder leaves alone: its right code signs in.
	other.codeSignInTo(p, "second request", email)
	again := newestMail(t, p.URL, email, "code_signin")
	if again.Reference == ref {
		t.Fatalf("the second request sent no new message (newest is still %s)", ref)
	}
	other.run("the second request's right code", typeInto("#f-code", again.code(t)),
		submit("/signin/code/verify", "#account-email"))
	other.expectPath("the second request's right code", "/account")

	holder.run("activity", chromedp.Navigate(p.URL+"/account/activity"), visible("#attempts"))
	holder.expectPath("activity", "/account/activity")
	outcomes := strings.Split(holder.eval(`Array.from(document.querySelectorAll("#attempts li.attempt")).filter(li => li.querySelector("strong").textContent.includes("コードでのログイン")).map(li => li.querySelector(".outcome").textContent.trim()).join("|")`), "|")
	denied, succeeded := 0, 0
	for _, o := range outcomes {
		switch o {
		case "拒否":
			denied++
		case "成功":
			succeeded++
		}
	}
	if len(outcomes) != 2 || denied != 1 || succeeded != 1 {
		t.Errorf("sign-ins by code on the activity page: %q, want one 拒否 and one 成功\n%s", outcomes, holder.text("#attempts"))
	}
}

// TestBrowser_Why_StrangerSeesOnlyWhetherItIsOurs: a signed-out visitor
// who types /why/REFERENCE learns only whether the message is ours — for
// a real reference of the holder, "we sent a message with reference", and
// for one that does not exist, "We can't find reference" — and neither
// page shows the holder's address or the answer form.
func TestBrowser_Why_StrangerSeesOnlyWhetherItIsOurs(t *testing.T) {
	p := serve(t, t.TempDir(), cheapArgon)
	const email, pw, fake = "why-stranger-en@example.com", "violet canoe at dawn", "GH-ZZZZ-ZZZZ"

	holder := openTab(t)
	signUpEn(t, p, holder, email, pw)
	ref := newestMail(t, p.URL, email, "confirm_email").Reference
	holder.run("confirm", typeInto("#f-code", latestCode(t, p.URL, email)), submit("/signup/confirm", "#account-email"))

	visitor := openTab(t)
	for _, tc := range []struct{ ref, says string }{
		{ref, "we sent the message with reference " + ref},
		{fake, "We can't find reference " + fake},
	} {
		visitor.run("a visitor types /why/"+tc.ref, chromedp.Navigate(p.URL+"/why/"+tc.ref), visible("#verdict"))
		visitor.useLanguage("en", "#verdict")
		if v := visitor.text("#verdict"); !strings.Contains(v, tc.says) {
			t.Errorf("/why/%s: verdict %q, want it to say %q", tc.ref, v, tc.says)
		}
		page := visitor.eval(`document.documentElement.outerHTML`)
		if strings.Contains(strings.ToLower(page), strings.ToLower(email)) || strings.Contains(page, "why-stranger-en") {
			t.Errorf("/why/%s shows the holder's address to a signed-out visitor:\n%s", tc.ref, visitor.text("main"))
		}
		if n := visitor.eval(`String(document.querySelectorAll("#answer-form, #story").length)`); n != "0" {
			t.Errorf("/why/%s: a signed-out visitor sees the story or the answer form", tc.ref)
		}
	}
}

// centerEntry opens the message center and checks that it lists the
// message ref exactly once, with the answer buttons and the cause text
// wanted.
func (b *tab) centerEntry(t *testing.T, p *proc, ref, cause string) {
	t.Helper()
	b.run("open the message center", chromedp.Navigate(p.URL+"/account/messages"), visible("#messages"))
	entry := `#messages li.message:has(form[action="/why/` + ref + `"])`
	if n := b.eval(`String(document.querySelectorAll(` + jsString(entry) + `).length)`); n != "1" {
		t.Fatalf("message center has %s entries answerable for %s:\n%s", n, ref, b.text("#messages"))
	}
	if c := b.text(entry + " .cause"); !strings.Contains(c, cause) {
		t.Errorf("message center cause %q, want %q", c, cause)
	}
}

// story opens ref's story the way the message tells the holder to (typing
// /why/REF) and checks its cause: the id and the words shown.
func (b *tab) story(t *testing.T, p *proc, ref, causeID, causeText string) {
	t.Helper()
	b.run("type the message's /why address", chromedp.Navigate(p.URL+"/why/"+ref), visible("#story"))
	if cause := b.attr("#story-cause", "data-cause"); cause != causeID {
		t.Errorf("story cause %q, want %s", cause, causeID)
	}
	if txt := b.text("#story-cause"); !strings.Contains(txt, causeText) {
		t.Errorf("story cause reads %q, want %q", txt, causeText)
	}
}

// mailSays checks that a message's text has every one of want.
func mailSays(t *testing.T, what string, m devMail, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(m.Text, w) {
			t.Errorf("%s %s lacks %q:\n%s", what, m.Reference, w, m.Text)
		}
	}
}
