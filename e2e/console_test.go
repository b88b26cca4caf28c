package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"gatehouse/internal/totp"
)

// TestBrowser_Console_Ja and _En: in headless Chromium, in each language,
// axe on every page: a support operator (made with `gatehouse operator
// add`, an authenticator app on) finds a holder by the reference of the
// message the holder received, reads its story, and signs the holder out
// everywhere with a reason — first sent to re-verify, since the change
// needs a fresh second step. The holder is signed out, their activity page
// says what our support team did and why, and `gatehouse audit --json`
// has the line. The console offers support no reset of two-step
// verification, and the server refuses one posted anyway.
func TestBrowser_Console_Ja(t *testing.T) { consoleWalk(t, "ja") }

func TestBrowser_Console_En(t *testing.T) { consoleWalk(t, "en") }

func consoleWalk(t *testing.T, lang string) {
	p := serve(t, t.TempDir(), cheapArgon)
	const pw = "violet canoe at dawn"
	holderEmail, opEmail := "holder-"+lang+"@example.com", "support-"+lang+"@example.com"
	words := map[string]map[string]string{
		"ja": {"signed_out": "サポートチームがすべての端末からログアウトさせました", "story": "持ち主が /why のページで"},
		"en": {"signed_out": "Our support team signed you out everywhere", "story": "This is what the holder reads"},
	}[lang]

	holder := openTab(t)
	signUpEn(t, p, holder, holderEmail, pw)
	holder.useLanguage(lang, "#f-code")
	holder.run("holder confirms", typeInto("#f-code", latestCode(t, p.URL, holderEmail)), submit("/signup/confirm", "#account-email"))
	ref := newestMail(t, p.URL, holderEmail, "confirm_email").Reference

	op := openTab(t)
	signUpEn(t, p, op, opEmail, pw)
	op.useLanguage(lang, "#f-code")
	op.run("operator confirms", typeInto("#f-code", latestCode(t, p.URL, opEmail)), submit("/signup/confirm", "#account-email"))
	op.run("operator adds an app", chromedp.Navigate(p.URL+"/account/two-step/app"), visible("svg.qr"))
	uri := op.eval(`document.getElementById("otpauth-uri").textContent`)
	op.run("operator confirms the app", typeInto("#f-code", appCode(t, uri, time.Now())), submit("/account/two-step/app", ".backup-code"))
	env := map[string]string{"GATEHOUSE_DATA": p.Data}
	if out, errs, code := cli(t, env, nil, "operator", "add", "--email", opEmail, "--role", "support"); code != 0 {
		t.Fatalf("operator add: %d\n%s%s", code, out, errs)
	}

	op.run("console", chromedp.Navigate(p.URL+"/console/"), visible("#f-q"))
	op.run("search by the reference", typeInto("#f-q", ref), chromedp.Submit("#f-q"), visible("#story-link"))
	if res := op.text("#results"); !strings.Contains(res, holderEmail) {
		t.Fatalf("the search does not list the holder: %q", res)
	}
	op.run("the story", clickAndLoad("#story-link a", "#story"))
	if hint := op.text("main"); !strings.Contains(hint, words["story"]) || !strings.Contains(hint, ref) {
		t.Fatalf("the story page:\n%s", hint)
	}
	if op.eval(`String(document.getElementById("answer-form") !== null)`) != "false" {
		t.Fatal("the console shows the holder's answer form")
	}
	op.run("the account", clickAndLoad("#story-holder a", "#account-facts"))
	holderID := strings.TrimPrefix(op.path(), "/console/accounts/")
	if op.eval(`String(document.getElementById("do-reset_two_step") !== null)`) != "false" ||
		op.eval(`String(document.getElementById("admin-only") !== null)`) != "true" {
		t.Fatal("support is offered a reset of two-step verification")
	}
	// Turning the app on proved nothing of this session: the account page
	// offers to prove it (the app's code) before its forms, and returns.
	op.run("the app first", clickAndLoad("#fresh-first a", "#f-password"))
	if path := op.path(); path != "/account/reverify" {
		t.Fatalf("the way to the forms went to %s", path)
	}
	op.run("re-verify with the app", typeInto("#f-password", pw), typeInto("#f-code", appCode(t, uri, time.Now().Add(totp.Period*time.Second))),
		submit("/account/reverify", "#do-sign_out_all"))
	if op.eval(`String(document.getElementById("do-reset_two_step") !== null)`) != "false" {
		t.Fatal("support is offered a reset of two-step verification")
	}
	op.run("sign out everywhere", typeInto("#f-reason-sign_out_all", "holder called: lost phone"),
		clickAndLoad("#do-sign_out_all", "#account-facts"))
	if notice := op.text("p.notice"); notice == "" {
		t.Fatal("no notice of what was done")
	}
	// Support's reset posted anyway, with a fresh second step: refused.
	status, err := chromedp.Run(op.ctx, chromedp.Evaluate[int](`fetch(location.pathname + "/reset-two-step", {method: "POST", redirect: "manual",
		body: new URLSearchParams({reason: "asked"})}).then(r => r.status)`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if status != 403 {
		t.Fatalf("support's reset with a fresh second step: %d, want 403", status)
	}

	holder.run("holder is signed out", chromedp.Navigate(p.URL+"/account"), visible("#f-email"))
	holder.run("holder signs in again", typeInto("#f-email", holderEmail), typeInto("#f-password", pw), submit("/signin", "#account-email"))
	holder.run("holder's activity", chromedp.Navigate(p.URL+"/account/activity"), visible("#support-activity"))
	if act := holder.text("#support-activity"); !strings.Contains(act, words["signed_out"]) || !strings.Contains(act, "holder called: lost phone") ||
		strings.Contains(act, opEmail) {
		t.Fatalf("the holder's activity:\n%s", act)
	}

	out, errs, code := cli(t, env, nil, "audit", "--json", "--email", holderEmail)
	if code != 0 {
		t.Fatalf("audit: %d\n%s", code, errs)
	}
	found := false
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var e struct{ Operator, Action, Account, Reason, At string }
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("audit line %q: %v", line, err)
		}
		found = found || (e.Action == "sign_out_all" && e.Operator == opEmail && e.Account == holderID && e.Reason == "holder called: lost phone" && e.At != "")
	}
	if !found {
		t.Fatalf("no audit line for the sign-out:\n%s", out)
	}
}
