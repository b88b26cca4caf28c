package web_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"gatehouse/internal/outbox"
	"gatehouse/internal/request"
	"gatehouse/internal/totp"
)

// limited asserts a refusal by a limit: 429, Retry-After in whole seconds
// between lo and hi, and a page in the browser's language saying how long
// to wait.
func limited(t *testing.T, what string, r *resp, lo, hi int) {
	t.Helper()
	secs, err := strconv.Atoi(r.header.Get("Retry-After"))
	if r.status != http.StatusTooManyRequests || err != nil || secs < lo || secs > hi {
		t.Fatalf("%s: %d, Retry-After %q (want 429 and %d–%d s)\n%s", what, r.status, r.header.Get("Retry-After"), lo, hi, r.body)
	}
	if !strings.Contains(r.body, "Too many tries") && !strings.Contains(r.body, "試行回数が多すぎます") {
		t.Fatalf("%s: the page does not say to wait:\n%s", what, r.body)
	}
}

// TestLimits_WrongPasswordsDelayTheStrangerNeverTheHoldersBrowser_V6_3_1
// (the contract): 20 wrong passwords in a row for one account from one
// new browser get 429 from the 6th on, before anything is hashed — the
// right password then gets 429 too, so it shows nothing — while a browser
// that signed in to the account before still signs in at once. The delay
// grows, 30 s doubling.
func TestLimits_WrongPasswordsDelayTheStrangerNeverTheHoldersBrowser_V6_3_1(t *testing.T) {
	t.Parallel()
	onBothDatabases(t, func(t *testing.T, db map[string]string) {
		h := newHarness(t, db)
		const email = "guarded@example.com"
		holder := h.browser("en")
		holder.signUp(email, goodPassword)
		holder.post("/signout", url.Values{})

		now := time.Now()
		h.app.SetClock(func() time.Time { return now })
		stranger := h.browser("ja")
		for i := 1; i <= 20; i++ {
			r := stranger.post("/signin", url.Values{"email": {email}, "password": {fmt.Sprintf("wrong passphrase number %d", i)}})
			switch {
			case i <= 5 && r.status != http.StatusUnprocessableEntity:
				t.Fatalf("wrong password %d: %d", i, r.status)
			case i > 5:
				limited(t, fmt.Sprintf("wrong password %d", i), r, 29, 30)
			}
		}
		r := stranger.post("/signin", url.Values{"email": {email}, "password": {goodPassword}})
		limited(t, "the right password while delayed", r, 29, 30)
		// The holder's browser is not slowed: it signs in at once.
		if r := holder.post("/signin", url.Values{"email": {email}, "password": {goodPassword}}); r.status != http.StatusSeeOther || r.location != "/account" {
			t.Fatalf("the holder's own browser during the attack: %d %s\n%s", r.status, r.location, r.body)
		}
		// After the delay one more guess is evaluated, and the next delay
		// is twice as long.
		now = now.Add(31 * time.Second)
		if r := stranger.post("/signin", url.Values{"email": {email}, "password": {"wrong passphrase number 21"}}); r.status != http.StatusUnprocessableEntity {
			t.Fatalf("after the delay: %d", r.status)
		}
		limited(t, "the 7th wrong password", stranger.post("/signin", url.Values{"email": {email}, "password": {"x wrong passphrase"}}), 59, 60)
		// An address with no account answers the same way: nothing tells
		// the two apart.
		nobody := h.browser("en")
		for i := 1; i <= 6; i++ {
			r := nobody.post("/signin", url.Values{"email": {"nobody-here@example.com"}, "password": {fmt.Sprintf("wrong passphrase number %d", i)}})
			if i == 6 {
				limited(t, "an address without an account", r, 29, 30)
			}
		}
	})
}

// TestLimits_ResetCodesCannotBeGuessedAcrossRequests_V6_6_3 (the contract;
// the probe's D7): from one client, 30 cycles of "forgot password" and 5
// wrong codes on one address deliver at most 3 messages to it within 10
// minutes and evaluate at most 10 wrong codes; the rest are 429 with
// Retry-After. An address without an account is answered the same way.
func TestLimits_ResetCodesCannotBeGuessedAcrossRequests_V6_6_3(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	const email = "reset-victim@example.com"
	h.browser("en").signUp(email, goodPassword)
	for _, to := range []string{email, "no-account-here@example.com"} {
		before := len(h.messagesTo(to))
		attacker := h.browser("en")
		evaluated, refused := 0, 0
		for cycle := range 30 {
			r := attacker.post("/password/forgot", url.Values{"email": {to}})
			if r.status == http.StatusTooManyRequests {
				refused++
				continue
			}
			if r.status != http.StatusSeeOther {
				t.Fatalf("%s: forgot %d: %d\n%s", to, cycle, r.status, r.body)
			}
			c := challenge(t, r.location)
			for i := range 5 {
				r := attacker.post("/password/reset", url.Values{"c": {c}, "code": {fmt.Sprintf("%06d", 900000+cycle*10+i)},
					"new_password": {"takeover passphrase number one"}})
				switch r.status {
				case http.StatusUnprocessableEntity:
					evaluated++
				case http.StatusTooManyRequests:
					if r.header.Get("Retry-After") == "" {
						t.Fatalf("429 without Retry-After")
					}
					refused++
				default:
					t.Fatalf("%s: wrong code: %d\n%s", to, r.status, r.body)
				}
			}
		}
		got := len(h.messagesTo(to)) - before
		if got > 3 || evaluated > 10 || refused == 0 {
			t.Fatalf("%s: %d messages delivered, %d wrong codes evaluated, %d refused (want ≤ 3, ≤ 10, some)", to, got, evaluated, refused)
		}
		t.Logf("%s: %d messages, %d codes evaluated, %d refused", to, got, evaluated, refused)
	}
}

// TestLimits_RightPasswordFailedSecondStepTellsTheHolder_V6_3_5: the right
// password followed by wrong app codes until the attempt locks tells the
// holder — email and SMS to a confirmed phone — with cause
// password_known, as a message "this wasn't me" answers.
func TestLimits_RightPasswordFailedSecondStepTellsTheHolder_V6_3_5(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	const email, number = "told@example.com", "+819012345699"
	holder := h.browser("en")
	holder.signUp(email, goodPassword)
	holder.turnOnApp(t)
	if r := holder.enrolPhone("+81 90 1234 5699", number); r.status != http.StatusSeeOther {
		t.Fatalf("phone: %d", r.status)
	}

	thief := h.browser("en")
	c := thief.signInTo2ndStep(email, goodPassword)
	for i := range 5 {
		thief.post("/signin/verify", url.Values{"c": {c}, "method": {"app"}, "code": {fmt.Sprintf("%06d", 111110+i)}})
	}
	m := h.newest(email, request.SecondStepFailed)
	if m == nil || m.Cause != request.PasswordKnown || !strings.Contains(m.Text, "typed") {
		t.Fatalf("no password_known notice by email: %+v", m)
	}
	found := false
	for _, x := range h.messagesTo(number) {
		if x.Purpose == request.SecondStepFailed {
			found = true
		}
	}
	if !found {
		t.Error("no notice by SMS to the confirmed phone")
	}
	// "This wasn't me" on it signs out everywhere and asks for a new
	// password.
	if a := holder.answer(m.Reference, "not_me"); a.status != 200 || !strings.Contains(a.body, "signed out") {
		t.Fatalf("this wasn't me on the notice: %d\n%s", a.status, a.body)
	}
}

// trustedBrowser signs up email with an authenticator app, then passes the
// second step with "don't ask again on this browser", and signs out: the
// browser it returns is trusted.
func trustedBrowser(t *testing.T, h *harness, email string) *browser {
	t.Helper()
	b := h.browser("en")
	b.signUp(email, goodPassword)
	secret, _ := b.turnOnApp(t)
	b.post("/signout", url.Values{})
	step := totp.Step(time.Now()) + 1
	at := time.Unix(step*totp.Period, 0).Add(time.Second)
	h.app.SetClock(func() time.Time { return at })
	c := b.signInTo2ndStep(email, goodPassword)
	code, _ := totp.Code(secret, step)
	if r := b.post("/signin/verify", url.Values{"c": {c}, "method": {"app"}, "code": {code}, "trust": {"on"}}); r.status != http.StatusSeeOther {
		t.Fatalf("trust: %d", r.status)
	}
	b.post("/signout", url.Values{})
	return b
}

// TestLimits_TrustedBrowserIsNotASecondStep_V7_5_1 (the contract; the
// probe's D1): after "don't ask again on this browser", a later
// password-only sign-in on it followed by GET /account/two-step/off is sent
// to re-verify, not shown the form.
func TestLimits_TrustedBrowserIsNotASecondStep_V7_5_1(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	const email = "trusted-stepup@example.com"
	b := trustedBrowser(t, h, email)
	if r := b.post("/signin", url.Values{"email": {email}, "password": {goodPassword}}); r.status != 303 || r.location != "/account" {
		t.Fatalf("password-only sign-in on the trusted browser: %d %s", r.status, r.location)
	}
	for _, path := range []string{"/account/two-step/off", "/account/email", "/account/password"} {
		if r := b.get(path); r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/account/reverify") {
			t.Errorf("GET %s after a trusted password-only sign-in: %d %s", path, r.status, r.location)
		}
	}
}

// TestLimits_ReverifyCountsWrongAppCodesAsFailures_V6_3_1 (the probe's D2):
// on /account/reverify, wrong app codes with the right password are
// recorded as failed second steps — never "succeeded" — and from the 5th
// in a row the next is delayed (429).
func TestLimits_ReverifyCountsWrongAppCodesAsFailures_V6_3_1(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	const email = "reverify-guess@example.com"
	b := h.browser("en")
	b.signUp(email, goodPassword)
	b.turnOnApp(t)
	for i := 1; i <= 6; i++ {
		r := b.post("/account/reverify", url.Values{"next": {"/account/password"}, "method": {"app"}, "password": {goodPassword}, "code": {fmt.Sprintf("%06d", 333330+i)}})
		if i <= 5 && r.status != http.StatusUnprocessableEntity {
			t.Fatalf("wrong app code %d: %d", i, r.status)
		}
		if i == 6 {
			limited(t, "the 6th wrong app code", r, 29, 30)
		}
	}
	a, _ := h.app.DB.AccountByEmail(context.Background(), email)
	atts, _ := h.app.DB.AttemptsByAccount(context.Background(), a.ID, 20)
	failed := 0
	for _, at := range atts {
		if at.Kind == "step_up" && at.Outcome == "succeeded" {
			t.Errorf("a re-verification with a wrong app code was recorded as succeeded: %+v", at)
		}
		if at.Kind == "step_up" && at.Outcome == "failed_second_step" {
			failed++
		}
	}
	if failed != 5 {
		t.Errorf("%d failed re-verifications recorded, want 5", failed)
	}
}

// TestLimits_TwentySimultaneousWrongCodesNeverPassTheLimit_V6_6_3 (the
// probe's D3): 20 wrong codes sent at once for one sign-in are counted at
// most 5 times in the request — on SQLite and on PostgreSQL — and the
// right code sent with them does not pass.
func TestLimits_TwentySimultaneousWrongCodesNeverPassTheLimit_V6_6_3(t *testing.T) {
	t.Parallel()
	onBothDatabases(t, func(t *testing.T, db map[string]string) {
		h := newHarness(t, withCheck(db))
		const email = "race@example.com"
		h.browser("en").signUp(email, goodPassword)
		b := h.browser("en")
		c := b.signInTo2ndStep(email, goodPassword)
		right := h.codeFor(email)
		var wg sync.WaitGroup
		for i := range 20 {
			code := fmt.Sprintf("%06d", 100000+i)
			if code == right {
				code = "999999"
			}
			wg.Go(func() { b.post("/signin/verify", url.Values{"c": {c}, "code": {code}}) })
		}
		wg.Wait()
		ch, err := h.app.DB.Challenge(context.Background(), c)
		if err != nil || ch.Failures > 5 {
			t.Fatalf("failures recorded %d (want at most 5), %v", ch.Failures, err)
		}
		if r := b.post("/signin/verify", url.Values{"c": {c}, "code": {right}}); r.status == http.StatusSeeOther && r.location == "/account" {
			t.Fatal("the right code passed after the limit")
		}
	})
}

// TestLimits_CodeSignInShowsTheAddressAsTyped_V6_3_8 (the probe's D4).
func TestLimits_CodeSignInShowsTheAddressAsTyped_V6_3_8(t *testing.T) {
	t.Parallel()
	h := newHarness(t, map[string]string{"signin.code_signin": "true"})
	h.browser("en").signUp("Hank.Mixed@example.com", goodPassword)
	b := h.browser("en")
	r := b.post("/signin/code", url.Values{"email": {"hank.mixed@example.com"}})
	page := b.get(r.location)
	if strings.Contains(page.body, "Hank.Mixed@") || !strings.Contains(page.body, "hank.mixed@example.com") {
		t.Fatalf("the code page shows the account's spelling:\n%s", page.body)
	}
}

// TestLimits_SendingPerDestinationNetworkAndCountry_V2_4_1: each route that
// sends a code stops at the per-address limit with a clear page and the
// same answer for an address with and without an account; the per-network
// limit holds across addresses; texts to a calling code not on the
// allow-list are refused.
func TestLimits_SendingPerDestinationNetworkAndCountry_V2_4_1(t *testing.T) {
	t.Parallel()
	h := newHarness(t, map[string]string{"signin.code_signin": "true", "limit.sends_per_network": "12", "limit.sms_countries": "81",
		"trusted_proxies": "127.0.0.0/8"})
	routes := []string{"/password/forgot", "/signin/code", "/signup"}
	for i := range routes {
		h.browser("en").signUp(fmt.Sprintf("sender-known-%d@example.com", i), goodPassword)
	}
	// Past the sign-ups' own codes.
	later := time.Now().Add(11 * time.Minute)
	h.app.SetClock(func() time.Time { return later })
	n := 0
	for i, route := range routes {
		for _, to := range []string{fmt.Sprintf("sender-known-%d@example.com", i), fmt.Sprintf("sender-unknown-%d@example.com", i)} {
			// Each from a network of its own: this part is about the
			// address's limit.
			n++
			b := h.browser("en")
			b.forwardedFor = fmt.Sprintf("203.0.%d.9", n)
			var statuses []int
			for range 4 {
				form := url.Values{"email": {to}}
				if route == "/signup" {
					form.Set("password", goodPassword)
				}
				r := b.post(route, form)
				statuses = append(statuses, r.status)
				if r.status == http.StatusTooManyRequests {
					limited(t, route, r, 1, 600)
				}
			}
			if fmt.Sprint(statuses) != "[303 303 303 429]" {
				t.Errorf("%s to %s: %v, want three sent and the fourth refused", route, to, statuses)
			}
		}
	}
	// Each refusal is recorded for the operator, whether or not the
	// address has an account.
	refused, err := h.app.DB.Refusals(context.Background(), time.Time{}, 100)
	if err != nil {
		t.Fatal(err)
	}
	recorded := map[string]bool{}
	for _, r := range refused {
		if r.Rule == "destination_10m" {
			recorded[r.Subject] = true
		}
	}
	for i := range routes {
		for _, to := range []string{fmt.Sprintf("sender-known-%d@example.com", i), fmt.Sprintf("sender-unknown-%d@example.com", i)} {
			if !recorded[to] {
				t.Errorf("no refusal recorded for %s (%v)", to, recorded)
			}
		}
	}
	// One network, many addresses: its limit (12 an hour here).
	b := h.browser("en")
	b.forwardedFor = "198.51.100.7"
	for i := range 13 {
		r := b.post("/password/forgot", url.Values{"email": {fmt.Sprintf("spray%d@example.com", i)}})
		if i < 12 && r.status != http.StatusSeeOther {
			t.Fatalf("request %d from the network: %d", i+1, r.status)
		}
		if i == 12 {
			limited(t, "the 13th request from one network", r, 1, 3600)
		}
	}
	// Another address in the same /24: the same network.
	b.forwardedFor = "198.51.100.200"
	if r := b.post("/password/forgot", url.Values{"email": {"spray-next@example.com"}}); r.status != http.StatusTooManyRequests {
		t.Errorf("another address of the /24: %d", r.status)
	}
	// A number outside the allow-list.
	p := h.browser("en")
	p.forwardedFor = "192.0.2.50"
	p.signUp("sms-abroad@example.com", goodPassword)
	if r := p.post("/account/two-step/phone", url.Values{"phone": {"+44 7911 123456"}}); r.status != http.StatusTooManyRequests {
		t.Errorf("a UK number with only +81 allowed: %d", r.status)
	}
}

// deviceCookieOf returns the browser's device cookie value.
func deviceCookieOf(t *testing.T, b *browser) string {
	t.Helper()
	u, _ := url.Parse(b.h.base)
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == "__Host-gh_device" {
			return c.Value
		}
	}
	t.Fatal("no device cookie")
	return ""
}

// TestLimits_TrustCookieChangesOnEachUse_V6_4_4 (the probe's W6): a
// trusted browser's device cookie gets a new value on each password-only
// sign-in; a copy of the old value, in another browser, is a new device,
// is asked for the second step, and tells the holder of the copy.
func TestLimits_TrustCookieChangesOnEachUse_V6_4_4(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	const email = "rotating@example.com"
	b := trustedBrowser(t, h, email)
	copied := deviceCookieOf(t, b)
	if r := b.post("/signin", url.Values{"email": {email}, "password": {goodPassword}}); r.location != "/account" {
		t.Fatalf("trusted sign-in: %d %s", r.status, r.location)
	}
	if now := deviceCookieOf(t, b); now == copied {
		t.Fatal("the device cookie did not change on a trusted sign-in")
	}
	thief := h.browser("en")
	u, _ := url.Parse(h.base)
	thief.client.Jar.SetCookies(u, []*http.Cookie{{Name: "__Host-gh_device", Value: copied, Path: "/", Secure: true}})
	if r := thief.post("/signin", url.Values{"email": {email}, "password": {goodPassword}}); r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/signin/verify") {
		t.Fatalf("a copy of the old cookie skipped the second step: %d %s", r.status, r.location)
	}
	// The superseded value coming back shows the cookie was copied (the
	// re-probe's N11): the holder is told, and the browser it came from is
	// trusted no more.
	if m := h.newest(email, request.TrustCopied); m == nil {
		t.Fatal("the holder was not told that a trusted browser's cookie was copied")
	}
	b.post("/signout", url.Values{})
	if r := b.post("/signin", url.Values{"email": {email}, "password": {goodPassword}}); !strings.HasPrefix(r.location, "/signin/verify") {
		t.Fatalf("the copied browser is still trusted: %d %s", r.status, r.location)
	}
}

// TestLimits_AMistypedBlockHoldsForResendsAndTheWholeNetwork (the probe's
// D5 and D6): after the holder of a number answers "this wasn't me" to one
// of a sender's phone enrolments, neither the sender's other open
// enrolment nor a new one from another address of the same IPv6 /64 with a
// fresh browser texts the number again; the refusal does not say that
// the number's holder answered (W12).
func TestLimits_AMistypedBlockHoldsForResendsAndTheWholeNetwork(t *testing.T) {
	t.Parallel()
	h := newHarness(t, map[string]string{"trusted_proxies": "127.0.0.0/8", "limit.sends_per_10m": "20"})
	const number = "+819012340001"
	holder := h.browser("en")
	holder.forwardedFor = "192.0.2.1"
	holder.signUp("block-holder@example.com", goodPassword)
	if r := holder.enrolPhone("+81 90 1234 0001", number); r.status >= 400 {
		t.Fatalf("holder's phone: %d", r.status)
	}
	now := time.Now()
	h.app.SetClock(func() time.Time { return now })
	sender := h.browser("en")
	sender.forwardedFor = "2001:db8:1:2::10"
	sender.signUp("block-sender@example.com", goodPassword)
	var pending []string
	for range 2 {
		r := sender.post("/account/two-step/phone", url.Values{"phone": {"+81 90 1234 0001"}})
		if r.status != http.StatusSeeOther {
			t.Fatalf("enrol the holder's number: %d\n%s", r.status, r.body)
		}
		pending = append(pending, challenge(t, r.location))
	}
	texts := sentTo(h, number, request.AddPhone)
	m := h.newest(number, request.AddPhone)
	if a := holder.answer(m.Reference, "not_me"); a.status != 200 {
		t.Fatalf("answer: %d\n%s", a.status, a.body)
	}
	now = now.Add(2 * time.Minute) // past the resend cool-down
	// The other open enrolment (D5): answered like any resend, nothing sent.
	if r := sender.post("/account/two-step/phone/resend", url.Values{"c": {pending[0]}}); r.status != http.StatusSeeOther {
		t.Errorf("resend of the other open enrolment after the block: %d\n%s", r.status, r.body)
	}
	// The stopped one: its right code is "not correct", like a code for a
	// number nobody holds (W12: nothing says a holder answered).
	if r := sender.post("/account/two-step/phone/confirm", url.Values{"c": {pending[1]}, "code": {h.smsCodeFor(number)}}); r.status != http.StatusUnprocessableEntity ||
		!strings.Contains(r.body, "That code is not correct") {
		t.Errorf("the stopped enrolment's right code: %d\n%s", r.status, r.body)
	}
	// Another address of the same /64, a fresh browser and account (D6):
	// the same pages as any number, and no text.
	other := h.browser("en")
	other.forwardedFor = "2001:db8:1:2::99"
	other.signUp("block-sender-2@example.com", goodPassword)
	if r := other.post("/account/two-step/phone", url.Values{"phone": {"+81 90 1234 0001"}}); r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/account/two-step/phone/confirm") {
		t.Errorf("a new enrolment from the same /64: %d %s\n%s", r.status, r.location, r.body)
	}
	if got := sentTo(h, number, request.AddPhone); got != texts {
		t.Errorf("%d more codes texted to the blocked number", got-texts)
	}
}

// TestLimits_RememberedSessionsEndWhenUnused_V7_3_1 (the probe's W8): a
// "keep me signed in" session ends after session.remember_idle unused,
// though its lifetime is longer; used within it, it lives on.
func TestLimits_RememberedSessionsEndWhenUnused_V7_3_1(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	const email = "remember-idle@example.com"
	h.browser("en").signUp(email, goodPassword)
	now := time.Now()
	h.app.SetClock(func() time.Time { return now })
	b := h.browser("en")
	if r := b.post("/signin", url.Values{"email": {email}, "password": {goodPassword}, "remember": {"on"}}); r.location != "/account" {
		t.Fatalf("sign in: %d %s", r.status, r.location)
	}
	now = now.Add(13 * 24 * time.Hour)
	if r := b.get("/account"); r.status != 200 {
		t.Fatalf("used after 13 days: %d", r.status)
	}
	now = now.Add(15 * 24 * time.Hour)
	if r := b.get("/account"); r.status != http.StatusSeeOther {
		t.Fatalf("unused for 15 days: %d, still signed in", r.status)
	}
}

// TestLimits_CredentialStuffingSlowsTheNetworkNotTheAccounts_V6_3_1: one
// address trying many accounts (credential stuffing) is refused from the
// 21st account in the hour, before anything is hashed; another network is
// not slowed, and neither is a browser that signed in to its own account
// before, on that same address (a café, a carrier's NAT).
func TestLimits_CredentialStuffingSlowsTheNetworkNotTheAccounts_V6_3_1(t *testing.T) {
	t.Parallel()
	h := newHarness(t, map[string]string{"trusted_proxies": "127.0.0.0/8"})
	const email = "cafe-regular@example.com"
	regular := h.browser("en")
	regular.forwardedFor = "203.0.113.77"
	regular.signUp(email, goodPassword)
	regular.post("/signout", url.Values{})
	stuffer := h.browser("en")
	stuffer.forwardedFor = "203.0.113.77"
	var last *resp
	for i := range 21 {
		last = stuffer.post("/signin", url.Values{"email": {fmt.Sprintf("victim%d@example.com", i)}, "password": {"leaked password from elsewhere"}})
		if i < 20 && last.status != http.StatusUnprocessableEntity {
			t.Fatalf("account %d: %d", i+1, last.status)
		}
	}
	limited(t, "the 21st account from one address", last, 1, 3600)
	elsewhere := h.browser("en")
	elsewhere.forwardedFor = "198.51.100.77"
	if r := elsewhere.post("/signin", url.Values{"email": {"victim0@example.com"}, "password": {"another leaked one"}}); r.status != http.StatusUnprocessableEntity {
		t.Errorf("another network: %d", r.status)
	}
	if r := regular.post("/signin", url.Values{"email": {email}, "password": {goodPassword}}); r.location != "/account" {
		t.Errorf("the regular's own browser on the stuffed address: %d %s", r.status, r.location)
	}
}

// TestLimits_PasskeyCeremoniesPerNetwork (the probe's W10): anyone may ask
// for a passkey sign-in ceremony, and each is a row: 30 a minute per
// network, then 429 in JSON with Retry-After.
func TestLimits_PasskeyCeremoniesPerNetwork(t *testing.T) {
	t.Parallel()
	h := atLocalhost(newHarness(t, nil))
	b := h.browser("en")
	for i := range 31 {
		r := b.postJSON("/signin/passkey/options", "{}")
		if i < 30 && r.status != 200 {
			t.Fatalf("ceremony %d: %d %s", i+1, r.status, r.body)
		}
		if i == 30 && (r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" || !strings.Contains(r.body, `"limited"`)) {
			t.Fatalf("the 31st ceremony in a minute: %d %q %s", r.status, r.header.Get("Retry-After"), r.body)
		}
	}
}

// TestLimits_SMSFirstSignInAndCountryBudget_V2_4_1: a password sign-in on
// an account whose second step is SMS texts at most 3 codes to the number
// in 10 minutes, whatever browsers ask (then 429, and the holder's own
// browser still gets its code); and texts to one calling code stop at
// limit.sms_per_country a day.
func TestLimits_SMSFirstSignInAndCountryBudget_V2_4_1(t *testing.T) {
	t.Parallel()
	h := newHarness(t, map[string]string{"limit.sms_per_country": "6"})
	// Noon: the day's count does not end under the test.
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	h.app.SetClock(func() time.Time { return now })
	const email, number = "sms-first@example.com", "+819012340077"
	holder := h.browser("en")
	holder.signUp(email, goodPassword)
	if r := holder.enrolPhone("+81 90 1234 0077", number); r.status >= 400 {
		t.Fatalf("phone: %d", r.status)
	}
	// Past the enrolment's own code.
	now = now.Add(11 * time.Minute)
	var statuses []int
	for range 4 {
		statuses = append(statuses, h.browser("en").post("/signin", url.Values{"email": {email}, "password": {goodPassword}}).status)
	}
	if fmt.Sprint(statuses) != "[303 303 303 429]" {
		t.Errorf("SMS-first sign-ins from new browsers: %v", statuses)
	}
	if r := holder.post("/signin", url.Values{"email": {email}, "password": {goodPassword}}); r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/signin/verify") {
		t.Errorf("the holder's own browser: %d %s", r.status, r.location)
	}
	// The country's budget: 1 enrolment + 3 + 1 texts so far today; one
	// more number of the same country gets one, the next none.
	other := h.browser("en")
	other.signUp("sms-country@example.com", goodPassword)
	if r := other.post("/account/two-step/phone", url.Values{"phone": {"+81 90 1234 0078"}}); r.status != http.StatusSeeOther {
		t.Fatalf("the 6th text to +81: %d", r.status)
	}
	if r := other.post("/account/two-step/phone", url.Values{"phone": {"+81 90 1234 0079"}}); r.status != http.StatusTooManyRequests {
		t.Errorf("the 7th text to +81 in a day: %d", r.status)
	}
}

// sentTo counts the messages of purpose p to an address or number that
// were not withheld (a decoy's are recorded, never sent).
func sentTo(h *harness, to string, p request.Purpose) int {
	n := 0
	for _, m := range h.messagesTo(to) {
		if m.Purpose == p && m.Status != outbox.Withheld {
			n++
		}
	}
	return n
}

// TestLimits_SecondProbeFindings: what the re-probe of this build found
// one step past the fixes, each now answered.
func TestLimits_SecondProbeFindings(t *testing.T) {
	t.Parallel()
	t.Run("a sender's own known browser gets no fresh allowance for someone else's number", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, nil)
		m := h.browser("en")
		m.signUp("n1-sender@example.com", goodPassword) // m is now a known browser of its own account
		var statuses []int
		for range 4 {
			statuses = append(statuses, m.post("/account/two-step/phone", url.Values{"phone": {"+81 90 5555 0001"}}).status)
		}
		if fmt.Sprint(statuses) != "[303 303 303 429]" {
			t.Errorf("enrolments of one number from the sender's known browser: %v", statuses)
		}
	})
	t.Run("an exhausted SMS country cap never keeps the holder from their own code", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, map[string]string{"limit.sms_per_country": "3"})
		holder := h.browser("en")
		holder.signUp("n2-holder@example.com", goodPassword)
		holder.enrolPhone("+81 80 1111 2222", "+818011112222")
		holder.post("/signout", url.Values{})
		m := h.browser("en")
		m.signUp("n2-sender@example.com", goodPassword)
		for i := range 4 {
			m.post("/account/two-step/phone", url.Values{"phone": {fmt.Sprintf("+81 90 5555 %04d", 1000+i)}})
		}
		if r := m.post("/account/two-step/phone", url.Values{"phone": {"+81 90 5555 2000"}}); r.status != http.StatusTooManyRequests {
			t.Fatalf("the cap: %d", r.status)
		}
		if r := holder.post("/signin", url.Values{"email": {"n2-holder@example.com"}, "password": {goodPassword}}); r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/signin/verify") {
			t.Errorf("the holder's SMS sign-in with the cap used up: %d %s", r.status, r.location)
		}
	})
	t.Run("codes anyone can ask for never use up a holder's own sign-in codes", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, nil)
		const email, number = "third-probe@example.com", "+817022223333"
		holder := h.browser("en")
		holder.signUp(email, goodPassword)
		holder.enrolPhone("+81 70 2222 3333", number)
		holder.post("/signout", url.Values{})
		for i := range 3 {
			m := h.browser("en")
			m.signUp(fmt.Sprintf("third-probe-attacker%d@example.com", i), goodPassword)
			m.post("/account/two-step/phone", url.Values{"phone": {"+81 70 2222 3333"}})
		}
		fresh := h.browser("en")
		if r := fresh.post("/signin", url.Values{"email": {email}, "password": {goodPassword}}); r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/signin/verify") {
			t.Errorf("the holder on a new browser after 3 codes others asked for: %d %s", r.status, r.location)
		}
	})
	t.Run("with the email fallback on, an emailed code is no re-verification", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, map[string]string{"signin.email_fallback": "true"})
		const email = "n4@example.com"
		b := h.browser("en")
		b.signUp(email, goodPassword)
		b.turnOnApp(t)
		x := h.browser("en")
		c := x.signInTo2ndStep(email, goodPassword)
		x.post("/signin/verify/resend", url.Values{"c": {c}, "method": {"email"}})
		if r := x.post("/signin/verify", url.Values{"c": {c}, "method": {"email"}, "code": {h.codeFor(email)}}); r.location != "/account" {
			t.Fatalf("the fallback: %d %s", r.status, r.location)
		}
		if r := x.get("/account/two-step/off"); r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/account/reverify") {
			t.Errorf("two-step off after the email fallback: %d %s", r.status, r.location)
		}
	})
	t.Run("an address without an account is counted whatever its letter case", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, nil)
		b := h.browser("en")
		for i := range 5 {
			b.post("/signin", url.Values{"email": {"ZOE@example.com"}, "password": {fmt.Sprintf("wrong passphrase number %d", i)}})
		}
		if r := b.post("/signin", url.Values{"email": {"zoe@example.com"}, "password": {"wrong passphrase number 9"}}); r.status != http.StatusTooManyRequests {
			t.Errorf("another spelling of the same unknown address: %d", r.status)
		}
	})
	t.Run("a new password starts the count again, on any browser", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, nil)
		const email = "n7@example.com"
		h.browser("en").signUp(email, goodPassword)
		a := h.browser("en")
		for i := range 6 {
			a.post("/signin", url.Values{"email": {email}, "password": {fmt.Sprintf("wrong passphrase number %d", i)}})
		}
		n := h.browser("en")
		r := n.post("/password/forgot", url.Values{"email": {email}})
		const fresh = "brand new passphrase 99 q"
		n.post("/password/reset", url.Values{"c": {challenge(t, r.location)}, "code": {h.codeFor(email)}, "new_password": {fresh}})
		if r := n.post("/signin", url.Values{"email": {email}, "password": {fresh}}); r.location != "/account" {
			t.Errorf("the new password on the resetting browser: %d %s", r.status, r.location)
		}
	})
	t.Run("the failed-second-step notice names the browser, and a failing re-verification sends it", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, nil)
		const email = "n8@example.com"
		b := h.browser("en")
		b.signUp(email, goodPassword)
		b.turnOnApp(t)
		x := h.browser("en")
		c := x.signInTo2ndStep(email, goodPassword)
		for i := range 5 {
			x.post("/signin/verify", url.Values{"c": {c}, "method": {"app"}, "code": {fmt.Sprintf("%06d", 111110+i)}})
		}
		if m := h.newest(email, request.SecondStepFailed); m == nil || !strings.Contains(m.Text, "Chrome") {
			t.Errorf("the notice does not name the browser: %+v", m)
		}
		before := count(h, email, request.SecondStepFailed)
		for i := range 5 {
			b.post("/account/reverify", url.Values{"next": {"/account/password"}, "method": {"app"}, "password": {goodPassword}, "code": {fmt.Sprintf("%06d", 222220+i)}})
		}
		if count(h, email, request.SecondStepFailed) != before+1 {
			t.Error("five wrong app codes on the re-verification told nobody")
		}
	})
}

// TestLimits_LogsCarryNoAddresses: refusals are logged without the
// addresses or numbers they were about (a short hash stands in).
func TestLimits_LogsCarryNoAddresses(t *testing.T) {
	t.Parallel()
	var logs safeBuffer
	h := newHarnessLog(t, nil, slog.New(slog.NewTextHandler(&logs, nil)))
	b := h.browser("en")
	for range 4 {
		b.post("/password/forgot", url.Values{"email": {"logged-victim@example.com"}})
	}
	for i := range 6 {
		b.post("/signin", url.Values{"email": {"nobody-logged@example.com"}, "password": {fmt.Sprintf("wrong passphrase number %d", i)}})
	}
	out := logs.String()
	if !strings.Contains(out, "limit: refused") {
		t.Fatalf("no refusal logged:\n%s", out)
	}
	if strings.Contains(out, "logged-victim") || strings.Contains(out, "nobody-logged") {
		t.Errorf("an address in the log:\n%s", out)
	}
}

// safeBuffer is a bytes.Buffer the server's goroutines may write to.
type safeBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *safeBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// TestLimits_AtMostThreeLiveCodesPerDestination: with codes valid longer
// than 10 minutes (code.ttl 30m), the per-address window is as long as a
// code lives, so at most 3 requests to one address have a live code.
func TestLimits_AtMostThreeLiveCodesPerDestination(t *testing.T) {
	t.Parallel()
	h := newHarness(t, map[string]string{"code.ttl": "30m"})
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	h.app.SetClock(func() time.Time { return now })
	var statuses []int
	for range 4 {
		statuses = append(statuses, h.browser("en").post("/password/forgot", url.Values{"email": {"live-codes@example.com"}}).status)
		now = now.Add(8 * time.Minute)
	}
	if fmt.Sprint(statuses) != "[303 303 303 429]" {
		t.Errorf("requests every 8 minutes with 30-minute codes: %v", statuses)
	}
}
