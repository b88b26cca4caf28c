package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/request"
	"gatehouse/internal/signin"
)

// withCheck turns the new-device check on (the harness turns it off for
// the tests that are about something else).
func withCheck(db map[string]string, more ...string) map[string]string {
	out := map[string]string{"signin.new_device_check": "email"}
	for k, v := range db {
		out[k] = v
	}
	for i := 0; i+1 < len(more); i += 2 {
		out[more[i]] = more[i+1]
	}
	return out
}

// signInTo posts the sign-in form and returns the second step's request id
// (the c of /signin/verify), failing unless a second step was asked for.
func (b *browser) signInTo2ndStep(email, pw string) string {
	b.h.t.Helper()
	r := b.post("/signin", url.Values{"email": {email}, "password": {pw}})
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/signin/verify?") {
		b.h.t.Fatalf("sign-in from a new browser: %d → %q, want the second step", r.status, r.location)
	}
	for _, c := range r.cookies {
		if c.Name == "__Host-gh_session" && c.Value != "" {
			b.h.t.Fatal("a session cookie was set before the second step passed")
		}
	}
	return challenge(b.h.t, r.location)
}

func secondStepMessages(h *harness, to string) int {
	n := 0
	for _, m := range h.messagesTo(to) {
		if m.Purpose == request.SecondStep {
			n++
		}
	}
	return n
}

// TestNewDevice_RightPasswordOnANewBrowserAsksForTheEmailedCode_V6_3_3: on
// by default, a right password from a browser the account has not been
// used on starts no session; a code goes to the account's address, saying
// why (someone has the password), and only that browser can use it. A
// wrong password sends nothing: a code always means the right password was
// typed. The browser is then known, and is not asked again.
func TestNewDevice_RightPasswordOnANewBrowserAsksForTheEmailedCode_V6_3_3(t *testing.T) {
	t.Parallel()
	onBothDatabases(t, func(t *testing.T, db map[string]string) {
		h := newHarness(t, withCheck(db))
		const email = "viola@example.com"
		home := h.browser("en")
		home.signUp(email, goodPassword)
		// The browser that signed up is known: no second step.
		home.post("/signout", url.Values{})
		if r := home.post("/signin", url.Values{"email": {email}, "password": {goodPassword}}); r.status != 303 || r.location != "/account" {
			t.Fatalf("known browser: %d → %q", r.status, r.location)
		}

		// A wrong password from a new browser: refused, and no code.
		if r := h.browser("en").post("/signin", url.Values{"email": {email}, "password": {"not the password at all"}}); r.status != 422 {
			t.Fatalf("wrong password: %d", r.status)
		}
		if n := secondStepMessages(h, email); n != 0 {
			t.Fatalf("%d second-step codes sent for a wrong password", n)
		}

		away := h.browser("ja")
		c := away.signInTo2ndStep(email, goodPassword)
		if r := away.get("/account"); r.status != 303 || !strings.HasPrefix(r.location, "/signin") {
			t.Fatalf("signed in before the second step: %d %q", r.status, r.location)
		}
		ms := h.messagesTo(email)
		if ms[0].Purpose != request.SecondStep || ms[0].Cause != request.PasswordKnown || ms[0].Channel != request.Email || ms[0].ChallengeID != c {
			t.Fatalf("the code's message: %s/%s/%s/%s", ms[0].Purpose, ms[0].Cause, ms[0].Channel, ms[0].ChallengeID)
		}
		if !strings.Contains(ms[0].Text, "第三者があなたのパスワードを知っています") && !strings.Contains(ms[0].Text, "someone else knows your password") {
			t.Fatalf("the message does not say why it was sent:\n%s", ms[0].Text)
		}
		page := away.get("/signin/verify?c=" + c)
		if page.status != 200 || !strings.Contains(page.body, "v***@example.com") || !strings.Contains(page.body, `autocomplete="one-time-code"`) {
			t.Fatalf("verify page: %d\n%s", page.status, page.body)
		}
		code := h.codeFor(email)

		// Another browser holding the link and the code gets nowhere.
		if r := h.browser("en").post("/signin/verify", url.Values{"c": {c}, "code": {code}}); r.status != 404 {
			t.Fatalf("the code from another browser: %d", r.status)
		}
		// A wrong code counts; the right one signs in.
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		if r := away.post("/signin/verify", url.Values{"c": {c}, "code": {wrong}}); r.status != 422 || !strings.Contains(r.body, "あと4回") {
			t.Fatalf("wrong code: %d\n%s", r.status, r.body)
		}
		if r := away.post("/signin/verify", url.Values{"c": {c}, "code": {code}}); r.status != 303 || r.location != "/account" {
			t.Fatalf("right code: %d %q\n%s", r.status, r.location, r.body)
		}
		if r := away.get("/account"); r.status != 200 {
			t.Fatalf("not signed in after the second step: %d", r.status)
		}
		// The same form again: the attempt has ended.
		if r := away.post("/signin/verify", url.Values{"c": {c}, "code": {code}}); r.status != 404 {
			t.Fatalf("replayed second step: %d", r.status)
		}
		// The attempt's record: pending, then passed by email, with its session.
		a, _ := h.app.DB.AccountByEmail(context.Background(), email)
		atts, _ := h.app.DB.AttemptsByAccount(context.Background(), a.ID, 10)
		var passed *signin.Attempt
		for _, at := range atts {
			if at.MethodOffered == signin.Email {
				passed = at
			}
		}
		if passed == nil || passed.Outcome != signin.Succeeded || passed.MethodUsed != signin.Email || passed.SessionID == "" || passed.EndedAt.IsZero() {
			t.Fatalf("the attempt's record: %+v", passed)
		}
		// Now a known browser.
		away.post("/signout", url.Values{})
		if r := away.post("/signin", url.Values{"email": {email}, "password": {goodPassword}}); r.status != 303 || r.location != "/account" {
			t.Fatalf("the same browser again: %d → %q", r.status, r.location)
		}
	})
}

// TestNewDevice_FiveWrongCodesEndTheAttempt_V6_3_1: the fifth wrong code
// ends the attempt as failed; even the right code then does nothing, and
// the holder signs in again.
func TestNewDevice_FiveWrongCodesEndTheAttempt_V6_3_1(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withCheck(nil))
	const email = "five@example.com"
	h.browser("en").signUp(email, goodPassword)
	b := h.browser("en")
	c := b.signInTo2ndStep(email, goodPassword)
	code := h.codeFor(email)
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	for i := range 4 {
		if r := b.post("/signin/verify", url.Values{"c": {c}, "code": {wrong}}); r.status != 422 {
			t.Fatalf("wrong code %d: %d", i+1, r.status)
		}
	}
	if r := b.post("/signin/verify", url.Values{"c": {c}, "code": {wrong}}); r.status != 303 || !strings.Contains(r.location, "signin_again") {
		t.Fatalf("fifth wrong code: %d %q", r.status, r.location)
	}
	if r := b.post("/signin/verify", url.Values{"c": {c}, "code": {code}}); r.status != 404 {
		t.Fatalf("the right code after the attempt failed: %d", r.status)
	}
	a, _ := h.app.DB.AccountByEmail(context.Background(), email)
	atts, _ := h.app.DB.AttemptsByAccount(context.Background(), a.ID, 10)
	if atts[0].Outcome != signin.Failed {
		t.Fatalf("attempt outcome %s, want %s", atts[0].Outcome, signin.Failed)
	}
}

// TestNewDevice_ResendAfterCooldownAtMostThreeCodes_V6_5_3: a new code needs
// the cool-down, keeps the failure count (NIST SP 800-63B-4), replaces the
// old code, and a request gets three codes at most.
func TestNewDevice_ResendAfterCooldownAtMostThreeCodes_V6_5_3(t *testing.T) {
	t.Parallel()
	// About the per-request limit, not the per-address one
	// (limit.sends_per_10m has its own tests).
	h := newHarness(t, withCheck(nil, "limit.sends_per_10m", "10"))
	const email = "resend@example.com"
	h.browser("en").signUp(email, goodPassword)
	b := h.browser("en")
	c := b.signInTo2ndStep(email, goodPassword)
	first := h.codeFor(email)
	wrong := "000000"
	if first == wrong {
		wrong = "111111"
	}
	b.post("/signin/verify", url.Values{"c": {c}, "code": {wrong}})
	if r := b.post("/signin/verify/resend", url.Values{"c": {c}}); r.status != 429 {
		t.Fatalf("resend during the cool-down: %d", r.status)
	}
	start := time.Now()
	for i := 1; i <= 2; i++ {
		at := start.Add(time.Duration(i) * 61 * time.Second)
		h.app.SetClock(func() time.Time { return at })
		if r := b.post("/signin/verify/resend", url.Values{"c": {c}}); r.status != 303 {
			t.Fatalf("resend %d: %d", i, r.status)
		}
	}
	h.app.SetClock(func() time.Time { return start.Add(4 * time.Minute) })
	if r := b.post("/signin/verify/resend", url.Values{"c": {c}}); r.status != 429 || !strings.Contains(r.body, "No more codes") {
		t.Fatalf("a fourth code: %d", r.status)
	}
	if n := secondStepMessages(h, email); n != 3 {
		t.Fatalf("%d codes sent, want 3", n)
	}
	latest := h.codeFor(email)
	if latest != first {
		if r := b.post("/signin/verify", url.Values{"c": {c}, "code": {first}}); r.status != 422 || !strings.Contains(r.body, "3 tries left") {
			t.Fatalf("the replaced code (failures kept: 3 left): %d\n%s", r.status, r.body)
		}
	}
	if r := b.post("/signin/verify", url.Values{"c": {c}, "code": {latest}}); r.status != 303 || r.location != "/account" {
		t.Fatalf("the newest code: %d %q", r.status, r.location)
	}
}

// TestNewDevice_OffAsksNothing: with signin.new_device_check off, the
// right password signs in from any browser.
func TestNewDevice_OffAsksNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	h.browser("en").signUp("off@example.com", goodPassword)
	if r := h.browser("en").post("/signin", url.Values{"email": {"off@example.com"}, "password": {goodPassword}}); r.status != 303 || r.location != "/account" {
		t.Fatalf("check off: %d → %q", r.status, r.location)
	}
	if n := secondStepMessages(h, "off@example.com"); n != 0 {
		t.Fatalf("%d codes sent with the check off", n)
	}
}
