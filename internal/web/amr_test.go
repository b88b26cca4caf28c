package web_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"
)

// TestAMR_EachSignInRecordsWhatItProved_V6_3_3: the methods a session
// reports to the applications behind the proxy (/auth/verify's
// X-Gatehouse-AMR, the ID token's amr later) are what its sign-in proved,
// through the real pages: a confirmed sign-up the password and the mailed
// code (no second factor), a sign-in with the app's code the password, the
// code and mfa, and a trusted browser's sign-in the password alone.
func TestAMR_EachSignInRecordsWhatItProved_V6_3_3(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, db map[string]string) {
		h := newHarness(t, withCheck(db))
		amr := func(b *browser) string {
			t.Helper()
			r := b.get("/auth/verify")
			if r.status != http.StatusOK {
				t.Fatalf("/auth/verify: %d", r.status)
			}
			return r.header.Get("X-Gatehouse-AMR")
		}
		const email = "amr@example.com"
		holder := h.browser("en")
		holder.signUp(email, goodPassword)
		if got := amr(holder); got != "pwd,otp" {
			t.Fatalf("after the confirmed sign-up: %q", got)
		}
		secret, _ := holder.turnOnApp(t)

		next := time.Now().Add(30 * time.Second) // the current step was used
		h.app.SetClock(func() time.Time { return next })
		laptop := h.browser("en")
		c := laptop.signInTo2ndStep(email, goodPassword)
		if r := laptop.post("/signin/verify", url.Values{"c": {c}, "method": {"app"}, "code": {nowCode(t, secret, next)}, "trust": {"on"}}); r.status != http.StatusSeeOther {
			t.Fatalf("second step: %d\n%s", r.status, r.body)
		}
		if got := amr(laptop); got != "pwd,otp,mfa" {
			t.Fatalf("after the app's code: %q", got)
		}
		// The trusted laptop signs in again: the password alone.
		laptop.post("/signout", nil)
		if r := laptop.post("/signin", url.Values{"email": {email}, "password": {goodPassword}}); r.status != http.StatusSeeOther || r.location != "/account" {
			t.Fatalf("trusted sign-in: %d %q", r.status, r.location)
		}
		if got := amr(laptop); got != "pwd" {
			t.Fatalf("after a trusted browser's sign-in: %q", got)
		}
	})
}
