package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowser_Ja_NewDeviceAsksForTheEmailedCode: with the new-device check
// on (the default), a second browser that types the right password lands on
// the code page, in Japanese, showing the masked address; the emailed code
// (autocomplete one-time-code) signs it in; the page passes the
// accessibility check. The first browser is not asked.
func TestBrowser_Ja_NewDeviceAsksForTheEmailedCode(t *testing.T) {
	env := map[string]string{"GATEHOUSE_SIGNIN_NEW_DEVICE_CHECK": "email"}
	for k, v := range cheapArgon {
		env[k] = v
	}
	p := serve(t, t.TempDir(), env)
	const email, pw = "newdevice-ja@example.com", "violet canoe at dawn"
	home := openTab(t)
	signUpJa(t, p, home, email)
	home.run("confirm", typeInto("#f-code", latestCode(t, p.URL, email)), submit("/signup/confirm", "#account-email"))

	away := openTab(t)
	away.run("open sign-in", chromedp.Navigate(p.URL+"/signin"), visible("#f-email"))
	away.useLanguage("ja", "#f-email")
	away.run("right password on a new browser", typeInto("#f-email", email), typeInto("#f-password", pw),
		submit("/signin", "#f-code"))
	if h1 := away.text("h1"); h1 != "メールで届いたコードの入力" {
		t.Fatalf("h1 %q, want the code page", h1)
	}
	if intro := away.text("main"); !strings.Contains(intro, "n***@example.com") || !strings.Contains(intro, "このブラウザからこのアカウントへのログインは初めて") {
		t.Fatalf("the page does not say where the code went and why:\n%s", intro)
	}
	if ac := away.attr("#f-code", "autocomplete"); ac != "one-time-code" {
		t.Fatalf("code input autocomplete %q", ac)
	}
	away.run("enter the emailed code", typeInto("#f-code", latestCode(t, p.URL, email)), submit("/signin/verify", "#account-email"))
}
