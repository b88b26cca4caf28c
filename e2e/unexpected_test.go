package e2e

import (
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/chromedp/chromedp"
)

// phoneScreen emulates a 390×844 phone (mobile viewport, touch) for the
// tab; it stays in force across navigations.
func phoneScreen() chromedp.Action[chromedp.Void] {
	return chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(3), chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait)
}

// walk counts what the holder does on the way from the message in their
// hand to the answer: presses (a button or a link), typed entries, and the
// characters of page text they had to read (each page's main text).
type walk struct {
	*tab
	presses, typed, read int
	pages                []string
}

func (w *walk) readPage() {
	w.t.Helper()
	n := utf8.RuneCountInString(w.text("main"))
	w.read += n
	w.pages = append(w.pages, w.path()+" "+strconv.Itoa(n))
}

func (w *walk) press(step, sel, then string) {
	w.t.Helper()
	w.presses++
	w.run(step, clickAndLoad(sel, then))
	w.readPage()
}

func (w *walk) typeIn(sel, text string) {
	w.t.Helper()
	w.typed++
	w.do("type into "+sel, typeInto(sel, text))
}

// TestBrowser_UnexpectedSMS_AnsweredInOnePressAfterSignIn is the guide's
// scenario: a second browser types the holder's right password and has
// the SMS code sent; the holder, with the SMS in hand, goes from it to
// "this wasn't me". The SMS names the site's address and /why; the
// signed-out /why gives a verdict and a sign-in that comes back to the
// story; or signing in straight away puts the request at the top of the
// account page. Either way, after the sign-in one press answers it (on a
// phone, a second press confirms the destructive answer). In Japanese and
// English, on a desktop and a phone screen, axe-core on every page in
// light and dark. The counts are logged for the closing note.
func TestBrowser_UnexpectedSMS_AnsweredInOnePressAfterSignIn(t *testing.T) {
	for _, c := range []struct {
		lang, screen string
		viaWhy       bool // from the SMS's /why, or straight to the sign-in
	}{
		{"ja", "desktop", true}, {"en", "phone", true}, {"ja", "phone", false}, {"en", "desktop", false},
	} {
		t.Run(c.lang+"-"+c.screen, func(t *testing.T) {
			t.Parallel()
			const secret = "gateway shared secret for the unexpected-SMS walk"
			g := newGateway(t, secret)
			env := map[string]string{"GATEHOUSE_SMS_DRIVER": "http", "GATEHOUSE_SMS_HTTP_URL": g.srv.URL, "GATEHOUSE_SMS_HTTP_SECRET": secret}
			for k, v := range cheapArgon {
				env[k] = v
			}
			p := serve(t, t.TempDir(), env)
			email := "seed-" + c.lang + "-" + c.screen + "@example.com"
			const pw, number, typedNumber = "violet canoe at dawn", "+819012345678", "090-1234-5678"

			// The holder's account, with SMS codes, set up on their laptop.
			setup := openTab(t)
			if c.lang == "ja" {
				signUpJa(t, p, setup, email)
			} else {
				signUpEn(t, p, setup, email, pw)
			}
			setup.run("confirm", typeInto("#f-code", latestCode(t, p.URL, email)), submit("/signup/confirm", "#account-email"))
			setup.run("open the phone page", chromedp.Navigate(p.URL+"/account/two-step/phone"), visible("#f-phone"))
			setup.run("type the number", typeInto("#f-phone", typedNumber), submit("/account/two-step/phone", "#f-code"))
			setup.run("confirm the number", typeInto("#f-code", g.code(number, 1)), submit("/account/two-step/phone/confirm", ".backup-code"))

			// Someone else has the password, and asks for the SMS code.
			other := openTab(t)
			other.run("open sign-in", chromedp.Navigate(p.URL+"/signin"), visible("#f-email"))
			other.run("the right password", typeInto("#f-email", email), typeInto("#f-password", pw), submit("/signin", "main"))
			other.expectPath("the right password", "/signin/verify")
			if other.eval(`String(document.querySelectorAll("#f-code").length)`) == "0" {
				other.run("send the SMS", clickAndLoad(`form[action="/signin/verify/resend"] button`, "#f-code"))
			}
			sms := g.codeSMS(number, 2)
			ref := sms.Reference
			site := strings.TrimPrefix(p.URL, "http://")
			body, _, _ := strings.Cut(sms.Text, "\n\n@")
			if !strings.Contains(body, site+"/why") {
				t.Fatalf("the SMS names no place to check it (%s/why):\n%s", site, sms.Text)
			}

			// The holder, SMS in hand, on a fresh browser.
			h := &walk{tab: openTab(t)}
			if c.screen == "phone" {
				h.do("a phone screen", phoneScreen())
			}
			if c.viaWhy {
				// The address, typed from the SMS, is not counted: the review
				// that measured "before" did not count it either.
				h.run("type the SMS's address", chromedp.Navigate("http://"+site+"/why"), visible("#f-ref"))
				h.useLanguage(c.lang, "#f-ref")
				h.readPage()
				h.typeIn("#f-ref", ref)
				h.press("look it up", `form[action="/why"] button[type=submit]`, "#verdict")
				if v := h.attr("#verdict", "data-verdict"); v != "ours" {
					t.Fatalf("the verdict on /why/%s: %q\n%s", ref, v, h.text("main"))
				}
				if h.eval(`String(document.querySelectorAll("#why-general").length)`) != "1" {
					t.Errorf("the signed-out page gives no advice for a sign-in code:\n%s", h.text("main"))
				}
				h.press("sign in from the verdict", "#signin-next a", "#f-email")
			} else {
				h.run("type the site's address", chromedp.Navigate("http://"+site+"/signin"), visible("#f-email"))
				h.useLanguage(c.lang, "#f-email")
				h.readPage()
			}
			h.typeIn("#f-email", email)
			h.do("type the password", typeInto("#f-password", pw)) // one entry with the address
			h.press("sign in", `form[action="/signin"] button[type=submit]`, "main")
			if h.eval(`String(document.querySelectorAll("#f-code").length)`) == "0" {
				h.press("send my own SMS code", `form[action="/signin/verify/resend"] button`, "#f-code")
			}
			h.typeIn("#f-code", g.code(number, 3))
			var answer string
			if c.viaWhy {
				h.press("the code", `form[action="/signin/verify"] button[type=submit]`, "#story")
				h.expectPath("after the sign-in", "/why/"+ref)
				if h.attr("#story-state", "class") != "state danger" {
					t.Errorf("the open request is not said to be dangerous: %q", h.text("#story-state"))
				}
				answer = `#answer-form button[value=not_me]`
			} else {
				h.press("the code", `form[action="/signin/verify"] button[type=submit]`, "#waiting")
				h.expectPath("after the sign-in", "/account")
				answer = `#waiting form[action="/why/` + ref + `"] button[name=answer][value=not_me]`
			}
			signIn, before, toAnswer := h.presses, h.presses, h.read
			if c.screen == "phone" {
				// The first press says what it will do and asks for a second.
				h.do("this wasn't me", chromedp.Click(chromedp.CSS(answer)))
				if label := h.text(answer); !strings.Contains(label, "Press again") && !strings.Contains(label, "もう一度押して") {
					t.Fatalf("no confirmation on a phone: the button reads %q", label)
				}
				h.run("confirm", clickAndLoad(answer, "#answer-actions"))
				h.readPage()
				h.presses++ // counted once: the answer and its confirmation
			} else {
				h.press("this wasn't me", answer, "#answer-actions")
			}
			if after := h.presses - before; after != 1 {
				t.Errorf("%d presses after signing in, want 1", after)
			}
			if !strings.Contains(h.text("#answer-actions"), map[string]string{"ja": "すべてのセッションをログアウトしました", "en": "signed out"}[c.lang]) {
				t.Errorf("the answer does not say what it did:\n%s", h.text("main"))
			}
			// The other browser's right code is refused now.
			other.run("the right code after the answer", typeInto("#f-code", originBound.FindStringSubmatch(sms.Text)[2]),
				clickAndLoad(`form[action="/signin/verify"] button[type=submit]`, "main"))
			if other.path() == "/account" {
				t.Fatal("the other browser signed in after this wasn't me")
			}
			t.Logf("%s %s (%s): %d presses (%d to sign in, 1 after), %d typed entries, %d characters read up to the answer (pages with their characters, the result last: %v)",
				c.lang, c.screen, map[bool]string{true: "via /why", false: "straight to sign-in"}[c.viaWhy],
				h.presses, signIn, h.typed, toAnswer, h.pages)
		})
	}
}
