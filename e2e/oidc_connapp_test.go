package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowser_OIDC_ConnectedAppCodeNotMeDisconnects is the guide's
// second cause with an application in it, in Chromium, in Japanese and
// English: a holder with codes by SMS is signed in to an application
// through Gatehouse; the application asks for a fresh sign-in
// (prompt=login); the re-verification names it, and the SMS code it
// sends is recorded with cause connected_app and names the application;
// the holder, not expecting it, answers "this wasn't me" on the code's
// story — which ends that attempt and disconnects the application, whose
// next refresh is refused (invalid_grant).
func TestBrowser_OIDC_ConnectedAppCodeNotMeDisconnects(t *testing.T) {
	for _, lang := range []string{"ja", "en"} {
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			port := fmt.Sprint(freePort(t))
			issuer := "http://127.0.0.1:" + port
			env := map[string]string{"GATEHOUSE_PUBLIC_URL": issuer}
			for k, v := range cheapArgon {
				env[k] = v
			}
			data := t.TempDir()
			p := serveOn(t, data, "127.0.0.1:"+port, env)
			rp, cb := newRelyingParty(t)
			id, secret := addClient(t, data, "--name", "Example Shop", "--redirect-uri", cb, "--first-party")
			rp.start(issuer, id, secret)

			email := "connected-" + lang + "@example.com"
			const pw, number = "violet canoe at dawn", "+819012345678"
			b := openTab(t)
			if lang == "ja" {
				signUpJa(t, p, b, email)
			} else {
				signUpEn(t, p, b, email, pw)
			}
			b.run("confirm", typeInto("#f-code", latestCode(t, p.URL, email)), submit("/signup/confirm", "#account-email"))
			b.run("open the phone page", chromedp.Navigate(p.URL+"/account/two-step/phone"), visible("#f-phone"))
			b.run("type the number", typeInto("#f-phone", "090-1234-5678"), submit("/account/two-step/phone", "#f-code"))
			b.run("confirm the number", typeInto("#f-code", latestCode(t, p.URL, number)), submit("/account/two-step/phone/confirm", ".backup-code"))

			// Signed in already: the application gets its tokens at once.
			b.run("open the application", chromedp.Navigate(rp.URL+"/login"), visible("#rp-done, #rp-error"))
			got := rp.result()
			if got.err != "" || got.token.RefreshToken == "" {
				t.Fatalf("the application's sign-in: %q", got.err)
			}
			refresh := got.token.RefreshToken

			// The application asks for a fresh sign-in.
			b.run("the application asks for a fresh sign-in", chromedp.Navigate(rp.URL+"/login?prompt=login"), visible("#f-password"))
			if path := b.path(); path != "/account/reverify" {
				t.Fatalf("a fresh sign-in went to %s", path)
			}
			if main := b.text("main"); !strings.Contains(main, "Example Shop") {
				t.Fatalf("the re-verification does not name the application:\n%s", main)
			}
			b.run("password: the SMS is sent", typeInto("#f-password", pw), submit("/account/reverify", "#f-code"))
			var sms devMail
			for _, m := range devMessages(t, p.URL) {
				if m.To == number && m.Channel == "sms" {
					sms = m
					break
				}
			}
			if sms.Cause != "connected_app" || !strings.Contains(sms.Text, "Example Shop") {
				t.Fatalf("the application's code: cause %q, text:\n%s", sms.Cause, sms.Text)
			}

			// The holder did not expect it: "this wasn't me" on its story.
			b.run("the code's story", chromedp.Navigate(p.URL+"/why/"+sms.Reference), visible("#answer-form"))
			if story := b.text("main"); !strings.Contains(story, "Example Shop") {
				t.Fatalf("the story does not name the application:\n%s", story)
			}
			b.run("this wasn't me", clickAndLoad(`#answer-form button[value=not_me]`, "#answer-actions"))
			if _, err := rp.refresh(refresh); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
				t.Fatalf("the application's refresh after this wasn't me: %v", err)
			}
		})
	}
}
