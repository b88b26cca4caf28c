package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/request"
)

// smsLast is the origin-bound last line of an SMS: "@host #code".
var smsLast = regexp.MustCompile(`\n@([^ \n]+) #(\d{6})$`)

// smsCodeFor reads the newest code texted to a number from the message as
// delivered, by its origin-bound last line.
func (h *harness) smsCodeFor(to string) string {
	h.t.Helper()
	for _, m := range h.messagesTo(to) {
		if m.Channel != request.SMS {
			continue
		}
		shown, err := h.app.Outbox.Reveal(m)
		if err != nil {
			h.t.Fatal(err)
		}
		if c := smsLast.FindStringSubmatch(shown.Text); c != nil {
			return c[2]
		}
	}
	h.t.Fatalf("no SMS code was sent to %s", to)
	return ""
}

// enrolPhone adds a number from b (signed in, recently verified) and
// returns the answer to confirming it with the code it received.
func (b *browser) enrolPhone(typed, e164 string) *resp {
	b.h.t.Helper()
	r := b.post("/account/two-step/phone", url.Values{"phone": {typed}})
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/account/two-step/phone/confirm?") {
		b.h.t.Fatalf("phone: %d %s\n%s", r.status, r.location, r.body)
	}
	c := challenge(b.h.t, r.location)
	if p := b.get(r.location); p.status != 200 || !strings.Contains(p.body, `name="c" value="`+c+`"`) ||
		!strings.Contains(p.body, `autocomplete="one-time-code"`) {
		b.h.t.Fatalf("phone confirm page: %d\n%s", p.status, p.body)
	}
	return b.post("/account/two-step/phone/confirm", url.Values{"c": {c}, "code": {b.h.smsCodeFor(e164)}})
}

// TestTwoStep_PhoneConfirmedByCodeTurnsItOnThenSignsInBySMS_V6_6_1: a
// number typed in the national form is stored as E.164 and texted a code;
// a wrong code leaves two-step off; the right one turns it on with backup
// codes shown once. The next sign-in texts a code (origin-bound last line,
// cause "someone has the password" for a new browser) that signs in once.
// (ASVS v5.0.0-6.6.1, NIST SP 800-63B-4 §3.1.3)
func TestTwoStep_PhoneConfirmedByCodeTurnsItOnThenSignsInBySMS_V6_6_1(t *testing.T) {
	t.Parallel()
	onBothDatabases(t, func(t *testing.T, db map[string]string) {
		h := newHarness(t, db)
		const email, number = "sms@example.com", "+819012345678"
		b := h.browser("en")
		b.signUp(email, goodPassword)
		r := b.post("/account/two-step/phone", url.Values{"phone": {"090-1234-5678"}})
		if r.status != http.StatusSeeOther {
			t.Fatalf("phone: %d\n%s", r.status, r.body)
		}
		c := challenge(t, r.location)
		if got := b.post("/account/two-step/phone/confirm", url.Values{"c": {c}, "code": {"000000"}}); got.status != 422 ||
			!strings.Contains(got.body, "tries left") {
			t.Fatalf("wrong code: %d\n%s", got.status, got.body)
		}
		if got := b.get("/account/two-step"); !strings.Contains(got.body, "is off") {
			t.Fatal("a wrong code turned two-step verification on")
		}
		other := h.browser("en")
		other.signUp("other-sms@example.com", goodPassword)
		if got := other.post("/account/two-step/phone/confirm", url.Values{"c": {c}, "code": {h.smsCodeFor(number)}}); got.status != 404 {
			t.Fatalf("another account confirming the number: %d", got.status)
		}
		r = b.post("/account/two-step/phone/confirm", url.Values{"c": {c}, "code": {h.smsCodeFor(number)}})
		if codes := backupIn.FindAllStringSubmatch(r.body, -1); r.status != 200 || len(codes) != 10 {
			t.Fatalf("confirming the first method: %d, %d backup codes\n%s", r.status, len(codes), r.body)
		}
		if got := b.post("/account/two-step/phone/confirm", url.Values{"c": {c}, "code": {h.smsCodeFor(number)}}); got.status != 404 {
			t.Fatalf("confirming the number twice: %d", got.status)
		}
		if got := b.get("/account/two-step"); !strings.Contains(got.body, "Two-step verification is on") ||
			!strings.Contains(got.body, "Number ending in 78") || strings.Contains(got.body, "12345678") {
			t.Fatalf("settings after the phone: %s", got.body)
		}
		if ms := h.messagesTo(email); ms[0].Purpose != request.TwoStepOn || !strings.Contains(ms[0].Text, "ending in 78") {
			t.Fatalf("holder told: %s %q", ms[0].Purpose, ms[0].Text)
		}

		// The contract's list of messages shows the SMS with its number.
		dev := b.get("/dev/messages.json")
		var list []struct{ To, Channel, Purpose, Cause, Reference string }
		if err := json.Unmarshal([]byte(dev.body), &list); err != nil {
			t.Fatal(err)
		}
		found := false
		for _, m := range list {
			found = found || (m.Channel == "sms" && m.To == number && m.Purpose == "add_phone" && m.Cause == "mistyped" && m.Reference != "")
		}
		if !found {
			t.Fatalf("/dev/messages.json lists no add_phone SMS to %s:\n%s", number, dev.body)
		}

		// A new browser: the password, then a code by SMS.
		n := h.browser("en")
		r = n.post("/signin", url.Values{"email": {email}, "password": {goodPassword}})
		if r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/signin/verify?") {
			t.Fatalf("sign-in: %d %s", r.status, r.location)
		}
		ms := h.messagesTo(number)
		if ms[0].Purpose != request.SecondStep || ms[0].Cause != request.PasswordKnown || ms[0].Channel != request.SMS {
			t.Fatalf("second-step SMS: %s %s %s", ms[0].Purpose, ms[0].Cause, ms[0].Channel)
		}
		shown, _ := h.app.Outbox.Reveal(ms[0])
		if m := smsLast.FindStringSubmatch(shown.Text); m == nil || m[1] != "127.0.0.1" {
			t.Fatalf("SMS without its origin-bound last line:\n%s", shown.Text)
		}
		page := n.get(r.location)
		if page.status != 200 || !strings.Contains(page.body, "ending in 78") || !strings.Contains(page.body, `autocomplete="one-time-code"`) {
			t.Fatalf("SMS step page: %d\n%s", page.status, page.body)
		}
		c = challenge(t, r.location)
		r = n.post("/signin/verify", url.Values{"c": {c}, "method": {"sms"}, "code": {h.smsCodeFor(number)}})
		if r.status != http.StatusSeeOther || r.location != "/account" {
			t.Fatalf("SMS code: %d %s\n%s", r.status, r.location, r.body)
		}
		if got := n.post("/signin/verify", url.Values{"c": {c}, "method": {"sms"}, "code": {h.smsCodeFor(number)}}); got.status != 404 {
			t.Fatalf("the same code again: %d", got.status)
		}
	})
}

// TestTwoStep_BadPhoneNumbersGetClearErrorsInBothLanguages: what does not
// parse, and numbers that cannot receive SMS, are refused next to the
// field in the page's language, and nothing is sent.
func TestTwoStep_BadPhoneNumbersGetClearErrorsInBothLanguages(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	for _, tc := range []struct{ lang, typed, want string }{
		{"en", "", "Enter"},
		{"en", "hello", "does not look like a valid phone number"},
		{"en", "03-1234-5678", "not a mobile number"},
		{"en", "0120-123-456", "not a mobile number"},
		{"ja", "12", "有効な電話番号ではない"},
		{"ja", "03-1234-5678", "携帯電話の番号ではありません"},
	} {
		b := h.browser(tc.lang)
		b.signUp("bad-"+tc.lang+"-"+strings.NewReplacer(" ", "", "-", "").Replace(tc.typed)+"@example.com", goodPassword)
		before := len(h.messagesTo("+81312345678"))
		r := b.post("/account/two-step/phone", url.Values{"phone": {tc.typed}})
		if r.status != 422 || !strings.Contains(r.body, tc.want) || !strings.Contains(r.body, `aria-invalid="true"`) {
			t.Errorf("%s %q: %d, want %q\n%s", tc.lang, tc.typed, r.status, tc.want, r.body)
		}
		if len(h.messagesTo("+81312345678")) != before {
			t.Errorf("%q: an SMS was sent to a landline", tc.typed)
		}
	}
}

// TestSMS_ResendKeepsTheFailureCountAndHasACooldown_NIST_3_1_3: a resend
// within 60 s is refused with the wait; after it the old code stops
// working; five wrong codes across resends end the attempt; at most three
// codes go out per attempt.
func TestSMS_ResendKeepsTheFailureCountAndHasACooldown_NIST_3_1_3(t *testing.T) {
	t.Parallel()
	// Four codes to one number within minutes: about the per-request limit,
	// not the per-number one (limit.sends_per_10m has its own tests).
	h := newHarness(t, map[string]string{"limit.sends_per_10m": "10"})
	const email, number = "resend-sms@example.com", "+819012345601"
	b := h.browser("en")
	b.signUp(email, goodPassword)
	if r := b.enrolPhone("+81 90 1234 5601", number); r.status != 200 {
		t.Fatalf("enrol: %d", r.status)
	}
	n := h.browser("en")
	r := n.post("/signin", url.Values{"email": {email}, "password": {goodPassword}})
	c := challenge(t, r.location)
	first := h.smsCodeFor(number)
	for i := 0; i < 3; i++ {
		if got := n.post("/signin/verify", url.Values{"c": {c}, "method": {"sms"}, "code": {wrongCode6(first, i)}}); got.status != 422 {
			t.Fatalf("wrong code %d: %d", i, got.status)
		}
	}
	if got := n.post("/signin/verify/resend", url.Values{"c": {c}, "method": {"sms"}}); got.status != http.StatusTooManyRequests || got.header.Get("Retry-After") == "" {
		t.Fatalf("resend inside the cool-down: %d", got.status)
	}
	start := time.Now()
	h.app.SetClock(func() time.Time { return start.Add(61 * time.Second) })
	if got := n.post("/signin/verify/resend", url.Values{"c": {c}, "method": {"sms"}}); got.status != http.StatusSeeOther {
		t.Fatalf("resend: %d\n%s", got.status, got.body)
	}
	second := h.smsCodeFor(number)
	if second == first {
		t.Skip("the new code happens to equal the old one (1 in a million)")
	}
	if got := n.post("/signin/verify", url.Values{"c": {c}, "method": {"sms"}, "code": {first}}); got.status != 422 || !strings.Contains(got.body, "One try left") || strings.Contains(got.body, "1 tries") {
		t.Fatalf("the replaced code: %d (the count must go on from 3)\n%s", got.status, got.body)
	}
	h.app.SetClock(func() time.Time { return start.Add(130 * time.Second) })
	if got := n.post("/signin/verify/resend", url.Values{"c": {c}, "method": {"sms"}}); got.status != http.StatusSeeOther {
		t.Fatalf("third code: %d\n%s", got.status, got.body)
	}
	h.app.SetClock(func() time.Time { return start.Add(200 * time.Second) })
	if got := n.post("/signin/verify/resend", url.Values{"c": {c}, "method": {"sms"}}); got.status != http.StatusTooManyRequests {
		t.Fatalf("a fourth code: %d", got.status)
	}
	if got := n.post("/signin/verify", url.Values{"c": {c}, "method": {"sms"}, "code": {"000000"}}); got.status != http.StatusSeeOther ||
		!strings.Contains(got.location, "signin_again") {
		t.Fatalf("fifth wrong code: %d %s", got.status, got.location)
	}
	if got := n.post("/signin/verify", url.Values{"c": {c}, "method": {"sms"}, "code": {h.smsCodeFor(number)}}); got.status == http.StatusSeeOther && got.location == "/account" {
		t.Fatal("a locked attempt passed")
	}
}

// wrongCode6 returns a six-digit code that is not c.
func wrongCode6(c string, i int) string {
	w := []byte(c)
	w[i%6] = '0' + (w[i%6]-'0'+1)%10
	return string(w)
}

// TestTwoStep_TryAnotherWay_EmailAndSMSFromTheAppStep: with an app and a
// phone, the sign-in asks for the app and offers SMS, a backup code and an
// email code; choosing SMS or email first shows a button that sends the
// code (nothing is sent before), then takes it.
func TestTwoStep_TryAnotherWay_EmailAndSMSFromTheAppStep(t *testing.T) {
	t.Parallel()
	h := newHarness(t, map[string]string{"signin.email_fallback": "true"})
	const email, number = "ways@example.com", "+819012345602"
	b := h.browser("ja")
	b.signUp(email, goodPassword)
	e, secret := b.enrolApp()
	if r := b.post("/account/two-step/app", url.Values{"e": {e}, "name": {"Phone"}, "code": {nowCode(t, secret, time.Now())}}); r.status != 200 {
		t.Fatalf("app: %d", r.status)
	}
	if r := b.enrolPhone("090-1234-5602", number); r.status != http.StatusSeeOther || !strings.Contains(r.location, "phone_added") {
		t.Fatalf("second method: %d %s", r.status, r.location)
	}
	if ms := h.messagesTo(email); ms[0].Purpose != request.MethodAdded || !strings.Contains(ms[0].Text, "末尾02") {
		t.Fatalf("holder told: %s %q", ms[0].Purpose, ms[0].Text)
	}
	for _, way := range []struct{ method, to string }{{"sms", number}, {"email", email}} {
		texts := len(h.messagesTo(number))
		n := h.browser("ja")
		r := n.post("/signin", url.Values{"email": {email}, "password": {goodPassword}})
		c := challenge(t, r.location)
		page := n.get(r.location)
		if !strings.Contains(page.body, "認証アプリ") || !strings.Contains(page.body, "method=sms") ||
			!strings.Contains(page.body, "method=email") || !strings.Contains(page.body, "method=backup") {
			t.Fatalf("app step without other ways:\n%s", page.body)
		}
		if len(h.messagesTo(number)) != texts {
			t.Fatal("an SMS was sent although the app was asked for")
		}
		page = n.get("/signin/verify?c=" + c + "&method=" + way.method)
		if !strings.Contains(page.body, "コードを送信") || strings.Contains(page.body, `name="code"`) {
			t.Fatalf("%s: no send button first:\n%s", way.method, page.body)
		}
		if got := n.post("/signin/verify/resend", url.Values{"c": {c}, "method": {way.method}}); got.status != http.StatusSeeOther {
			t.Fatalf("%s: send: %d\n%s", way.method, got.status, got.body)
		}
		var code string
		if way.method == "sms" {
			code = h.smsCodeFor(number)
		} else {
			code = h.codeFor(email)
		}
		if got := n.post("/signin/verify", url.Values{"c": {c}, "method": {way.method}, "code": {code}}); got.status != http.StatusSeeOther || got.location != "/account" {
			t.Fatalf("%s code: %d %s\n%s", way.method, got.status, got.location, got.body)
		}
	}
}

// TestTwoStep_ChangingThePhoneNeedsStepUpAndTellsTheOldNumber_V6_4_2:
// after ten minutes the phone page asks to re-verify first; a new number
// confirmed by its code replaces the old one, which is told by SMS, as is
// the email address; removing the last method turns two-step off.
func TestTwoStep_ChangingThePhoneNeedsStepUpAndTellsTheOldNumber_V6_4_2(t *testing.T) {
	t.Parallel()
	onBothDatabases(t, func(t *testing.T, db map[string]string) {
		h := newHarness(t, db)
		const email, old, next = "change-sms@example.com", "+819012345603", "+819012345604"
		b := h.browser("en")
		b.signUp(email, goodPassword)
		if r := b.enrolPhone("09012345603", old); r.status != 200 {
			t.Fatalf("enrol: %d", r.status)
		}
		later := time.Now().Add(11 * time.Minute)
		h.app.SetClock(func() time.Time { return later })
		if r := b.get("/account/two-step/phone"); r.status != http.StatusSeeOther ||
			r.location != "/account/reverify?next=%2Faccount%2Ftwo-step%2Fphone" {
			t.Fatalf("phone page after 11 minutes: %d %s", r.status, r.location)
		}
		if r := b.post("/account/two-step/phone", url.Values{"phone": {next}}); r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/account/reverify") {
			t.Fatalf("posting a number after 11 minutes: %d %s", r.status, r.location)
		}
		if len(h.messagesTo(next)) != 0 {
			t.Fatal("a code was sent before the step-up")
		}
		b.stepUpBySMS(old, "/account/two-step/phone")
		// Messages are listed by time; the fixed clock would tie them.
		h.app.SetClock(func() time.Time { return later.Add(time.Minute) })
		if r := b.enrolPhone(next, next); r.status != http.StatusSeeOther || !strings.Contains(r.location, "phone_changed") {
			t.Fatalf("change: %d %s\n%s", r.status, r.location, r.body)
		}
		if ms := h.messagesTo(old); ms[0].Purpose != request.PhoneChanged || !strings.Contains(ms[0].Text, "ending 04") {
			t.Fatalf("old number told: %s %q", ms[0].Purpose, ms[0].Text)
		}
		if ms := h.messagesTo(email); ms[0].Purpose != request.PhoneChanged {
			t.Fatalf("email told: %s", ms[0].Purpose)
		}
		if r := b.get("/account/two-step"); !strings.Contains(r.body, "Number ending in 04") {
			t.Fatalf("settings after the change:\n%s", r.body)
		}
		h.app.SetClock(func() time.Time { return later.Add(2 * time.Minute) })
		if r := b.post("/account/two-step/phone/remove", nil); r.status != http.StatusSeeOther || !strings.Contains(r.location, "two_step_off") {
			t.Fatalf("remove the last method: %d %s", r.status, r.location)
		}
		if ms := h.messagesTo(next); ms[0].Purpose != request.PhoneRemoved {
			t.Fatalf("removed number told: %s", ms[0].Purpose)
		}
		if ms := h.messagesTo(email); ms[0].Purpose != request.TwoStepOff {
			t.Fatalf("email told: %s", ms[0].Purpose)
		}
		n := h.browser("en")
		if r := n.post("/signin", url.Values{"email": {email}, "password": {goodPassword}}); r.status != http.StatusSeeOther || r.location != "/account" {
			t.Fatalf("sign-in with two-step off: %d %s", r.status, r.location)
		}
	})
}

// stepUpBySMS re-verifies b with the password and then the code texted to
// number, and checks it lands back on next.
func (b *browser) stepUpBySMS(number, next string) {
	b.h.t.Helper()
	r := b.post("/account/reverify", url.Values{"next": {next}, "method": {"sms"}, "password": {goodPassword}})
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/signin/verify?") {
		b.h.t.Fatalf("reverify with SMS: %d %s\n%s", r.status, r.location, r.body)
	}
	page := b.get(r.location)
	if page.status != 200 || !strings.Contains(page.body, `name="next" value="`+next+`"`) {
		b.h.t.Fatalf("step-up code page: %d\n%s", page.status, page.body)
	}
	c := challenge(b.h.t, r.location)
	r = b.post("/signin/verify", url.Values{"c": {c}, "method": {"sms"}, "next": {next}, "code": {b.h.smsCodeFor(number)}})
	if r.status != http.StatusSeeOther || r.location != next {
		b.h.t.Fatalf("step-up code: %d %s\n%s", r.status, r.location, r.body)
	}
}
