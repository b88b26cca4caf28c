package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/signin"
	"gatehouse/internal/totp"
)

var trustedDevice = regexp.MustCompile(`name="device" value="([^"]+)"`)

// TestTrustedBrowser_SkipsTheSecondStepUntilRevoked_V6_4_4: "don't ask
// again on this browser" lets that browser sign in with the password
// alone, for 30 days; another browser is still asked; the account page
// lists it with "stop trusting"; stopping, a password change, and the end
// of the 30 days each bring the second step back.
func TestTrustedBrowser_SkipsTheSecondStepUntilRevoked_V6_4_4(t *testing.T) {
	t.Parallel()
	onBothDatabases(t, func(t *testing.T, db map[string]string) {
		h := newHarness(t, db)
		const email = "trust@example.com"
		b := h.browser("en")
		b.signUp(email, goodPassword)
		secret, _ := b.turnOnApp(t)
		now := time.Now()
		step := totp.Step(now)
		// pass signs b in through the app step, trusting it or not; each
		// call uses the next TOTP step (clock moved on by one step).
		pass := func(br *browser, trust bool) {
			t.Helper()
			step++
			at := time.Unix(step*totp.Period, 0).Add(time.Second)
			h.app.SetClock(func() time.Time { return at })
			c := br.signInTo2ndStep(email, goodPassword)
			code, _ := totp.Code(secret, step)
			form := url.Values{"c": {c}, "method": {"app"}, "code": {code}}
			if trust {
				form.Set("trust", "on")
			}
			if r := br.post("/signin/verify", form); r.status != 303 || r.location != "/account" {
				t.Fatalf("second step: %d %q\n%s", r.status, r.location, r.body)
			}
		}
		direct := func(br *browser) bool {
			t.Helper()
			br.post("/signout", url.Values{})
			r := br.post("/signin", url.Values{"email": {email}, "password": {goodPassword}})
			return r.status == 303 && r.location == "/account"
		}
		b.post("/signout", url.Values{})
		pass(b, true)
		if !direct(b) {
			t.Fatal("a trusted browser was asked for the second step")
		}
		a, _ := h.app.DB.AccountByEmail(context.Background(), email)
		atts, _ := h.app.DB.AttemptsByAccount(context.Background(), a.ID, 10)
		trustedRecorded := false
		for _, at := range atts {
			if at.MethodUsed == signin.Trusted && at.Outcome == signin.Succeeded && at.SessionID != "" {
				trustedRecorded = true
			}
		}
		if !trustedRecorded {
			t.Fatalf("the trusted sign-in is not recorded as such: %+v", atts)
		}
		if other := h.browser("en"); direct(other) {
			t.Fatal("another browser skipped the second step")
		}
		page := b.get("/account")
		id := trustedDevice.FindStringSubmatch(page.body)
		if id == nil || !strings.Contains(page.body, "Stop trusting") {
			t.Fatalf("the trusted browser is not listed:\n%s", page.body)
		}
		if r := b.post("/account/trusted/stop", url.Values{"device": {id[1]}}); r.status != 303 {
			t.Fatalf("stop trusting: %d", r.status)
		}
		if direct(b) {
			t.Fatal("still trusted after 'stop trusting'")
		}
		// Trust again; a password change ends it. The trusted sign-in
		// proved the password alone: the change asks for the app again
		// (the probe's D1).
		b = h.browser("en")
		pass(b, true)
		if !direct(b) {
			t.Fatal("trust did not take")
		}
		if r := b.get("/account/password"); r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/account/reverify") {
			t.Fatalf("a trusted browser's password-only sign-in counted as a re-verification: %d %q", r.status, r.location)
		}
		step++
		stepCode, _ := totp.Code(secret, step)
		stepAt := time.Unix(step*totp.Period, 0).Add(time.Second)
		h.app.SetClock(func() time.Time { return stepAt })
		if r := b.post("/account/reverify", url.Values{"next": {"/account/password"}, "password": {goodPassword}, "method": {"app"}, "code": {stepCode}}); r.status != http.StatusSeeOther || r.location != "/account/password" {
			t.Fatalf("reverify: %d %q\n%s", r.status, r.location, r.body)
		}
		if r := b.post("/account/password", url.Values{"current_password": {goodPassword}, "new_password": {"another long enough phrase"},
			"signout_others": {"on"}}); r.status != 303 {
			t.Fatalf("password change: %d\n%s", r.status, r.body)
		}
		b.post("/signout", url.Values{})
		if r := b.post("/signin", url.Values{"email": {email}, "password": {"another long enough phrase"}}); r.status != 303 || !strings.HasPrefix(r.location, "/signin/verify") {
			t.Fatalf("after a password change the browser is still trusted: %d %q", r.status, r.location)
		}
		// Trust ends after 30 days on its own.
		d := h.browser("en")
		step++
		at := time.Unix(step*totp.Period, 0).Add(time.Second)
		h.app.SetClock(func() time.Time { return at })
		c := d.signInTo2ndStep(email, "another long enough phrase")
		code, _ := totp.Code(secret, step)
		if r := d.post("/signin/verify", url.Values{"c": {c}, "method": {"app"}, "code": {code}, "trust": {"on"}}); r.status != 303 {
			t.Fatalf("trusting again: %d", r.status)
		}
		d.post("/signout", url.Values{})
		day29, day31 := at.Add(29*24*time.Hour), at.Add(31*24*time.Hour)
		h.app.SetClock(func() time.Time { return day29 })
		if r := d.post("/signin", url.Values{"email": {email}, "password": {"another long enough phrase"}}); r.location != "/account" {
			t.Fatalf("on day 29: %d %q", r.status, r.location)
		}
		d.post("/signout", url.Values{})
		h.app.SetClock(func() time.Time { return day31 })
		if r := d.post("/signin", url.Values{"email": {email}, "password": {"another long enough phrase"}}); !strings.HasPrefix(r.location, "/signin/verify") {
			t.Fatalf("on day 31 the browser is still trusted: %d %q", r.status, r.location)
		}
	})
}
