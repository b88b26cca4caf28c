package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"gatehouse/internal/totp"
)

// TestBrowser_TrustedBrowserThenRevoked: in headless Chromium, a holder
// with an authenticator app ticks "don't ask again on this browser", signs
// in with the password alone, stops trusting the browser on the account
// page, and is asked for the app again; axe on every page.
func TestBrowser_TrustedBrowserThenRevoked(t *testing.T) {
	p := serve(t, t.TempDir(), cheapArgon)
	const email, pw = "trusted@example.com", "violet canoe at dawn"
	b := openTab(t)
	signUpJa(t, p, b, email)
	b.run("confirm", typeInto("#f-code", latestCode(t, p.URL, email)), submit("/signup/confirm", "#account-email"))
	b.run("add an app", chromedp.Navigate(p.URL+"/account/two-step/app"), visible("svg.qr"))
	uri := b.eval(`document.getElementById("otpauth-uri").textContent`)
	b.run("confirm the app", typeInto("#f-code", appCode(t, uri, time.Now())), submit("/account/two-step/app", ".backup-code"))
	b.run("sign out", chromedp.Navigate(p.URL+"/account"), visible("#account-email"), clickAndLoad(`form[action="/signout"] button`, "#f-email"))

	b.run("password", typeInto("#f-email", email), typeInto("#f-password", pw), submit("/signin", "#f-code"))
	b.run("app code, trusting this browser", typeInto("#f-code", appCode(t, uri, time.Now().Add(totp.Period*time.Second))),
		chromedp.Click("#f-trust"), submit("/signin/verify", "#account-email"))
	if list := b.text("#trusted-browsers"); list == "" {
		t.Fatal("the trusted browser is not listed on the account page")
	}
	b.run("sign out", clickAndLoad(`form[action="/signout"] button`, "#f-email"))
	b.run("password alone", typeInto("#f-email", email), typeInto("#f-password", pw), submit("/signin", "#account-email"))
	b.run("stop trusting", clickAndLoad(`form[action="/account/trusted/stop"] button`, "#account-email"))
	b.run("sign out", clickAndLoad(`form[action="/signout"] button`, "#f-email"))
	b.run("asked again", typeInto("#f-email", email), typeInto("#f-password", pw), submit("/signin", "#f-code"))
	if h1 := b.text("h1"); !strings.Contains(h1, "認証アプリ") {
		t.Fatalf("h1 %q, want the app step", h1)
	}
}
