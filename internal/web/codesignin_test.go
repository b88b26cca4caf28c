package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"gatehouse/internal/outbox"
	"gatehouse/internal/request"
)

// TestCodeSignIn_SameAnswerForEveryAddressAndNotMeDeniesIt_V6_3_8: where
// the operator allows it, a code to the address signs in without the
// password. Unknown addresses, and accounts with two-step verification on,
// get the same page and a withheld record. The code's message says why it
// came (cause code_signin); "this wasn't me" denies the attempt, so the
// other browser's right code is refused. (ASVS v5.0.0-6.3.8: no account
// enumeration.)
func TestCodeSignIn_SameAnswerForEveryAddressAndNotMeDeniesIt_V6_3_8(t *testing.T) {
	t.Parallel()
	onBothDatabases(t, func(t *testing.T, db map[string]string) {
		// Many codes to one address within minutes: about the answers, not
		// the per-address limit (limit.sends_per_10m has its own tests).
		cfg := map[string]string{"signin.code_signin": "true", "limit.sends_per_10m": "20"}
		for k, v := range db {
			cfg[k] = v
		}
		h := newHarness(t, cfg)
		holder := h.browser("en")
		email := "bycode@example.com"
		holder.signUp(email, goodPassword)
		if p := holder.get("/signin"); p.status != http.StatusSeeOther {
			// signed in: the sign-in page sends to the account
			t.Fatalf("signin page while signed in: %d", p.status)
		}

		// The same page for a known and an unknown address.
		stranger := h.browser("en")
		if p := stranger.get("/signin"); !strings.Contains(p.body, `href="/signin/code"`) {
			t.Fatal("the sign-in page does not offer sign-in by code")
		}
		known := stranger.post("/signin/code", url.Values{"email": {email}})
		unknown := stranger.post("/signin/code", url.Values{"email": {"nobody@example.com"}})
		if known.status != http.StatusSeeOther || unknown.status != http.StatusSeeOther {
			t.Fatalf("request: %d %d", known.status, unknown.status)
		}
		kp, up := stranger.get(known.location), stranger.get(unknown.location)
		strip := func(s, c string) string { return strings.ReplaceAll(s, c, "C") }
		if kp.status != 200 || strip(strings.ReplaceAll(kp.body, email, "E"), challenge(t, known.location)) !=
			strip(strings.ReplaceAll(up.body, "nobody@example.com", "E"), challenge(t, unknown.location)) {
			t.Fatalf("the pages differ:\n%s\n---\n%s", kp.body, up.body)
		}
		var withheld *outbox.Message
		for _, m := range h.messagesTo("nobody@example.com") {
			withheld = m
		}
		if withheld == nil || withheld.Status != outbox.Withheld {
			t.Fatalf("unknown address: %+v", withheld)
		}
		m := h.newest(email, request.CodeSignIn)
		if m.Cause != request.CodeRequested || !strings.Contains(m.Text, "Someone asked to sign in") {
			t.Fatalf("code message (%s):\n%s", m.Cause, m.Text)
		}
		code := h.codeFor(email)
		// The holder says it wasn't them: the stranger's right code is refused.
		if r := holder.answer(m.Reference, "not_me"); r.status != 200 || !strings.Contains(r.body, "The sign-in was denied") {
			t.Fatalf("answer: %d\n%s", r.status, r.body)
		}
		c := challenge(t, known.location)
		if r := stranger.post("/signin/code/verify", url.Values{"c": {c}, "code": {code}}); r.status == http.StatusSeeOther {
			t.Fatalf("the denied sign-in by code passed: %s", r.location)
		}
		// A fresh request from the holder's other browser signs in.
		laptop := h.browser("ja")
		r := laptop.post("/signin/code", url.Values{"email": {email}})
		c = challenge(t, r.location)
		if v := laptop.post("/signin/code/verify", url.Values{"c": {c}, "code": {"000000"}}); v.status != http.StatusUnprocessableEntity {
			t.Fatalf("a wrong code: %d", v.status)
		}
		// Another browser cannot use this browser's request.
		if v := stranger.post("/signin/code/verify", url.Values{"c": {c}, "code": {h.codeFor(email)}}); v.status != http.StatusNotFound {
			t.Fatalf("another browser's request: %d", v.status)
		}
		if v := laptop.post("/signin/code/verify", url.Values{"c": {c}, "code": {h.codeFor(email)}}); v.status != http.StatusSeeOther || v.location != "/account" {
			t.Fatalf("sign in by code: %d %s\n%s", v.status, v.location, v.body)
		}
		if a := laptop.get("/account/activity"); !strings.Contains(a.body, "コードでのログイン") {
			t.Fatalf("activity:\n%s", a.body)
		}
		// A code from the mailbox is no re-verification: turning two-step
		// on asks for the password first.
		if r := laptop.get("/account/two-step/app"); r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/account/reverify") {
			t.Fatalf("two-step settings right after a code sign-in: %d %s", r.status, r.location)
		}
		laptop.post("/account/reverify", url.Values{"next": {"/account/two-step/app"}, "password": {goodPassword}})
		// With two-step on, the code sign-in is refused quietly (withheld).
		laptop.turnOnApp(t)
		before := count(h, email, request.CodeSignIn)
		stranger.post("/signin/code", url.Values{"email": {email}})
		if got := h.newest(email, request.CodeSignIn); count(h, email, request.CodeSignIn) != before+1 || got.Status != outbox.Withheld {
			t.Fatalf("two-step on: a code was sent (%s)", got.Status)
		}
	})
}

// TestCodeSignIn_OffByDefault: without the option the pages do not exist.
func TestCodeSignIn_OffByDefault(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	b := h.browser("en")
	if r := b.get("/signin/code"); r.status != http.StatusNotFound {
		t.Fatalf("GET /signin/code: %d", r.status)
	}
	if r := b.post("/signin/code", url.Values{"email": {"a@example.com"}}); r.status != http.StatusNotFound {
		t.Fatalf("POST /signin/code: %d", r.status)
	}
	if p := b.get("/signin"); strings.Contains(p.body, "/signin/code") {
		t.Fatal("the sign-in page offers sign-in by code")
	}
}
