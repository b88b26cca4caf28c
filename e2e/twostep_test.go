package e2e

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"gatehouse/internal/totp"
)

// appCode computes what an authenticator app shows for an otpauth:// URI
// at t.
func appCode(t *testing.T, uri string, at time.Time) string {
	t.Helper()
	u, err := url.Parse(strings.TrimSpace(uri))
	if err != nil {
		t.Fatal(err)
	}
	c, err := totp.Code(u.Query().Get("secret"), totp.Step(at))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestBrowser_AuthenticatorApp_EnrolSignOutSignInWithIt: in headless
// Chromium, a holder adds an authenticator app (the QR code is drawn, the
// otpauth:// URI is on the page), sees ten backup codes, signs out, signs in
// with password and the app's code, then in another browser with a backup
// code; every page passes the accessibility check.
func TestBrowser_AuthenticatorApp_EnrolSignOutSignInWithIt(t *testing.T) {
	p := serve(t, t.TempDir(), cheapArgon)
	const email, pw = "app-user@example.com", "violet canoe at dawn"
	b := openTab(t)
	signUpJa(t, p, b, email)
	b.run("confirm", typeInto("#f-code", latestCode(t, p.URL, email)), submit("/signup/confirm", "#account-email"))
	b.run("open two-step settings", chromedp.Navigate(p.URL+"/account/two-step"), visible("#two-step-state"))
	b.run("add an app", chromedp.Navigate(p.URL+"/account/two-step/app"), visible("svg.qr"))
	uri := b.eval(`document.getElementById("otpauth-uri").textContent`)
	if !strings.HasPrefix(uri, "otpauth://totp/") {
		t.Fatalf("otpauth URI on the page: %q", uri)
	}
	b.run("confirm the app", clearField("#f-name"), typeInto("#f-name", "Work phone"), typeInto("#f-code", appCode(t, uri, time.Now())),
		submit("/account/two-step/app", ".backup-code"))
	codes := b.eval(`Array.from(document.querySelectorAll(".backup-code")).map(e => e.textContent).join(" ")`)
	if n := len(strings.Fields(codes)); n != 10 {
		t.Fatalf("%d backup codes shown: %q", n, codes)
	}
	b.run("sign out", chromedp.Navigate(p.URL+"/account"), visible("#account-email"), clickAndLoad(`form[action="/signout"] button`, "#f-email"))

	// The current step was spent on the enrolment; the app's next code is
	// accepted already (one step of clock drift either way).
	b.run("password", typeInto("#f-email", email), typeInto("#f-password", pw), submit("/signin", "#f-code"))
	b.run("app code", typeInto("#f-code", appCode(t, uri, time.Now().Add(totp.Period*time.Second))), submit("/signin/verify", "#account-email"))

	other := openTab(t)
	other.run("open sign-in", chromedp.Navigate(p.URL+"/signin"), visible("#f-email"))
	other.run("password elsewhere", typeInto("#f-email", email), typeInto("#f-password", pw), submit("/signin", "#f-code"))
	other.run("try another way", clickAndLoad(`a[href*="method=backup"]`, "#f-code"))
	other.run("backup code", typeInto("#f-code", strings.Fields(codes)[0]), submit("/signin/verify", "#account-email"))
}
