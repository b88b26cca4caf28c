package web_test

import (
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/passkey/passkeytest"
	"gatehouse/internal/request"
	"gatehouse/internal/signin"
)

// The harness's public URL is the default http://127.0.0.1:8080, where
// passkeys live at localhost (browsers do not offer them to an IP).
const passkeyOrigin = "http://localhost:8080"

var (
	passkeyOpts = regexp.MustCompile(`<script type="application/json" class="passkey-options">([^<]+)</script>`)
	hiddenField = func(name string) *regexp.Regexp {
		return regexp.MustCompile(`name="` + name + `" value="([^"]*)"`)
	}
)

// atLocalhost returns the harness as a browser at localhost reaches it:
// passkeys live there, not at the IP address (see passkeyElsewhere).
func atLocalhost(h *harness) *harness {
	l := *h
	l.base = strings.Replace(h.base, "127.0.0.1", "localhost", 1)
	return &l
}

// passkeyForm reads a passkey form's options and the named hidden field
// (the ceremony) from a page.
func passkeyForm(t *testing.T, body, field string) (options []byte, ceremony string) {
	t.Helper()
	o, c := passkeyOpts.FindStringSubmatch(body), hiddenField(field).FindStringSubmatch(body)
	if o == nil || c == nil || c[1] == "" {
		t.Fatalf("no passkey form (options and %s) in:\n%s", field, body)
	}
	return []byte(html.UnescapeString(o[1])), c[1]
}

// addPasskey registers a's passkey on b's account and returns the answer.
func (b *browser) addPasskey(t *testing.T, a *passkeytest.Authenticator, name string) *resp {
	t.Helper()
	page := b.get("/account/two-step/passkey")
	if page.status != 200 || !strings.Contains(page.body, `data-passkey="create"`) || !strings.Contains(page.body, "/static/passkey.js") {
		t.Fatalf("passkey page: %d\n%s", page.status, page.body)
	}
	opts, e := passkeyForm(t, page.body, "e")
	return b.post("/account/two-step/passkey", url.Values{"e": {e}, "name": {name}, "credential": {string(a.Create(opts))}})
}

// postJSON sends what the sign-in page's script sends for its options.
func (b *browser) postJSON(path, body string) *resp {
	req, _ := http.NewRequest("POST", b.h.base+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", b.h.base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.do(req)
}

// passkeySignIn runs the sign-in page's passkey-alone ceremony from b.
func (b *browser) passkeySignIn(t *testing.T, a *passkeytest.Authenticator, opts ...passkeytest.Option) *resp {
	t.Helper()
	r := b.postJSON("/signin/passkey/options", "{}")
	var got struct {
		Ceremony string          `json:"ceremony"`
		Options  json.RawMessage `json:"options"`
	}
	if r.status != 200 || json.Unmarshal([]byte(r.body), &got) != nil || got.Ceremony == "" {
		t.Fatalf("passkey options: %d %s", r.status, r.body)
	}
	return b.post("/signin/passkey", url.Values{"pk": {got.Ceremony}, "credential": {string(a.Get(got.Options, opts...))}})
}

// TestPasskey_RegisterThenSecondStepThenAlone_V6_6_1: a first passkey
// turns two-step verification on (backup codes shown once) and is offered
// first at the next sign-in; its assertion passes the second step once; a
// passkey alone (user verified) signs in without the password. Malformed,
// replayed, unverified and foreign answers are refused with a clear
// message in both languages, and leave nothing half-enabled. (ASVS
// v5.0.0-6.6.1; NIST SP 800-63B-4 phishing resistance)
func TestPasskey_RegisterThenSecondStepThenAlone_V6_6_1(t *testing.T) {
	t.Parallel()
	onBothDatabases(t, func(t *testing.T, db map[string]string) {
		h := atLocalhost(newHarness(t, db))
		const email = "passkeys@example.com"
		b := h.browser("ja")
		b.signUp(email, goodPassword)
		a := passkeytest.New(t, passkeyOrigin)

		// Bad answers at registration: refused, two-step stays off.
		page := b.get("/account/two-step/passkey")
		_, e := passkeyForm(t, page.body, "e")
		if r := b.post("/account/two-step/passkey", url.Values{"e": {e}, "name": {"鍵"}, "credential": {`{"id":"x"`}}); r.status != 422 || !strings.Contains(r.body, "パスキーの応答を受け付けられませんでした") {
			t.Fatalf("malformed registration: %d\n%s", r.status, r.body)
		}
		other := passkeytest.New(t, "https://evil.example")
		if r := b.addPasskey(t, other, "偽物"); r.status != 422 {
			t.Fatalf("registration signed for another origin: %d", r.status)
		}
		if r := b.get("/account/two-step"); !strings.Contains(r.body, "2段階認証は無効です") {
			t.Fatal("a refused passkey turned two-step verification on")
		}

		r := b.addPasskey(t, a, "ノートPC")
		if codes := backupIn.FindAllStringSubmatch(r.body, -1); r.status != 200 || len(codes) != 10 {
			t.Fatalf("first passkey: %d, %d backup codes\n%s", r.status, len(codes), r.body)
		}
		if ms := h.messagesTo(email); !strings.Contains(ms[0].Text, "パスキー") {
			t.Fatalf("holder told: %s %q", ms[0].Purpose, ms[0].Text)
		}
		if r := b.get("/account/two-step"); !strings.Contains(r.body, "ノートPC") || !strings.Contains(r.body, "2段階認証は有効です") {
			t.Fatalf("settings after the passkey:\n%s", r.body)
		}

		// The second step: the passkey is offered first.
		n := h.browser("en")
		r = n.post("/signin", url.Values{"email": {email}, "password": {goodPassword}})
		c := challenge(t, r.location)
		page = n.get(r.location)
		if !strings.Contains(page.body, "Confirm with your passkey") || !strings.Contains(page.body, "method=backup") {
			t.Fatalf("passkey step page:\n%s", page.body)
		}
		opts, pk := passkeyForm(t, page.body, "pk")
		if r := n.post("/signin/verify", url.Values{"c": {c}, "method": {"passkey"}, "pk": {pk}, "credential": {"not json"}}); r.status != 422 ||
			!strings.Contains(r.body, "answer was not accepted") {
			t.Fatalf("malformed assertion: %d\n%s", r.status, r.body)
		}
		answer := string(a.Get(opts))
		if r := n.post("/signin/verify", url.Values{"c": {c}, "method": {"passkey"}, "pk": {pk}, "credential": {answer}}); r.status != 422 {
			t.Fatalf("an answer to a used ceremony (replay): %d", r.status)
		}
		opts, pk = passkeyForm(t, n.get("/signin/verify?c="+c+"&method=passkey").body, "pk")
		if r := n.post("/signin/verify", url.Values{"c": {c}, "method": {"passkey"}, "pk": {pk}, "credential": {string(a.Get(opts, passkeytest.Tampered()))}}); r.status != 422 {
			t.Fatalf("tampered signature: %d", r.status)
		}
		opts, pk = passkeyForm(t, n.get("/signin/verify?c="+c+"&method=passkey").body, "pk")
		if r := n.post("/signin/verify", url.Values{"c": {c}, "method": {"passkey"}, "pk": {pk}, "credential": {string(a.Get(opts))}}); r.status != http.StatusSeeOther || r.location != "/account" {
			t.Fatalf("passkey second step: %d %s\n%s", r.status, r.location, r.body)
		}

		// The passkey alone, user verified; not without verification.
		alone := h.browser("en")
		if r := alone.passkeySignIn(t, a, passkeytest.WithFlags(passkeytest.FlagUP)); r.status != 422 || !strings.Contains(r.body, "not accepted") {
			t.Fatalf("passkey alone without user verification: %d\n%s", r.status, r.body)
		}
		if r := alone.get("/account"); r.status == 200 {
			t.Fatal("signed in by an unverified passkey")
		}
		if r := alone.passkeySignIn(t, a); r.status != http.StatusSeeOther || r.location != "/account" {
			t.Fatalf("passkey alone: %d %s\n%s", r.status, r.location, r.body)
		}
		if r := alone.get("/account"); r.status != 200 {
			t.Fatalf("account after the passkey alone: %d", r.status)
		}
		acct, _ := h.app.DB.AccountByEmail(t.Context(), email)
		atts, _ := h.app.DB.AttemptsByAccount(t.Context(), acct.ID, 10)
		if atts[0].MethodUsed != signin.Passkey || atts[0].Outcome != signin.Succeeded {
			t.Fatalf("passkey sign-in recorded as %s/%s", atts[0].MethodUsed, atts[0].Outcome)
		}
		if r := h.browser("en").passkeySignIn(t, passkeytest.New(t, passkeyOrigin)); r.status != 422 {
			t.Fatalf("an unknown passkey: %d", r.status)
		}
	})
}

// TestPasskey_StepUpAndRemoval_V6_4_2: after the step-up window, removing
// the passkey asks for the password and then the passkey itself; removing
// the last method turns two-step verification off and tells the holder.
func TestPasskey_StepUpAndRemoval_V6_4_2(t *testing.T) {
	t.Parallel()
	h := atLocalhost(newHarness(t, nil))
	const email = "passkey-stepup@example.com"
	b := h.browser("en")
	b.signUp(email, goodPassword)
	a := passkeytest.New(t, passkeyOrigin)
	if r := b.addPasskey(t, a, "Laptop"); r.status != 200 {
		t.Fatalf("add: %d", r.status)
	}
	id := regexp.MustCompile(`name="passkey" value="([^"]+)"`).FindStringSubmatch(b.get("/account/two-step").body)
	if id == nil {
		t.Fatal("no remove form for the passkey")
	}
	later := time.Now().Add(11 * time.Minute)
	h.app.SetClock(func() time.Time { return later })
	r := b.post("/account/two-step/passkey/remove", url.Values{"passkey": {id[1]}})
	const back = "/account/two-step?notice=reverified_again"
	if r.status != http.StatusSeeOther || r.location != "/account/reverify?next="+url.QueryEscape(back) {
		t.Fatalf("remove after 11 minutes: %d %s", r.status, r.location)
	}
	r = b.post("/account/reverify", url.Values{"next": {back}, "method": {"passkey"}, "password": {goodPassword}})
	if r.status != http.StatusSeeOther || !strings.Contains(r.location, "method=passkey") {
		t.Fatalf("reverify: %d %s", r.status, r.location)
	}
	c := challenge(t, r.location)
	page := b.get(r.location)
	opts, pk := passkeyForm(t, page.body, "pk")
	r = b.post("/signin/verify", url.Values{"c": {c}, "method": {"passkey"}, "pk": {pk}, "next": {back}, "credential": {string(a.Get(opts))}})
	if r.status != http.StatusSeeOther || r.location != back {
		t.Fatalf("step-up by passkey: %d %s\n%s", r.status, r.location, r.body)
	}
	if page := b.get(back); !strings.Contains(page.body, "press the button again") {
		t.Fatalf("back on the page after re-verifying:\n%s", page.body)
	}
	r = b.post("/account/two-step/passkey/remove", url.Values{"passkey": {id[1]}})
	if r.status != http.StatusSeeOther || !strings.Contains(r.location, "two_step_off") {
		t.Fatalf("remove: %d %s", r.status, r.location)
	}
	if ms := h.messagesTo(email); ms[0].Purpose != "two_step_off" {
		t.Fatalf("holder told: %s", ms[0].Purpose)
	}
	if r := h.browser("en").passkeySignIn(t, a); r.status != 422 {
		t.Fatalf("a removed passkey signed in: %d", r.status)
	}
}

// TestPasskey_AtTheIPAddressThePagesPointToLocalhost: browsers do not
// offer passkeys to an IP address, so at 127.0.0.1 the pages do not show
// buttons that cannot work: they name the address where passkeys do.
func TestPasskey_AtTheIPAddressThePagesPointToLocalhost(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	b := h.browser("en")
	b.signUp("ip-address@example.com", goodPassword)
	for _, path := range []string{"/account/two-step/passkey", "/signin"} {
		if path == "/signin" {
			b = h.browser("en")
		}
		r := b.get(path)
		if r.status != 200 || strings.Contains(r.body, "passkey-start") || !strings.Contains(r.body, "http://localhost:8080") {
			t.Errorf("%s at the IP address: %d\n%s", path, r.status, r.body)
		}
	}
}

// TestPasskey_ACopyIsBlockedAndTheHolderToldOnce: an answer whose counter
// went backwards (a copy of the passkey) is refused, the passkey is
// blocked and marked on the settings page, the holder is told once — not
// again for the next answers by it — and two-step verification stays on.
func TestPasskey_ACopyIsBlockedAndTheHolderToldOnce(t *testing.T) {
	t.Parallel()
	h := atLocalhost(newHarness(t, nil))
	const email = "passkey-copy@example.com"
	b := h.browser("en")
	b.signUp(email, goodPassword)
	a := passkeytest.New(t, passkeyOrigin)
	if r := b.addPasskey(t, a, "Laptop"); r.status != 200 {
		t.Fatalf("add: %d", r.status)
	}
	for range 2 {
		if r := h.browser("en").passkeySignIn(t, a); r.status != http.StatusSeeOther {
			t.Fatalf("passkey alone: %d", r.status)
		}
	}
	blocked := func() int {
		n := 0
		for _, m := range h.messagesTo(email) {
			if m.Purpose == request.PasskeyBlocked {
				n++
			}
		}
		return n
	}
	for i := range 2 {
		r := h.browser("en").passkeySignIn(t, a, passkeytest.WithCounter(1))
		if r.status != 422 || !strings.Contains(r.body, "may have been copied") {
			t.Fatalf("answer %d by a copy: %d\n%s", i, r.status, r.body)
		}
		if got := blocked(); got != 1 {
			t.Fatalf("after answer %d by the copy the holder was told %d times, want once", i, got)
		}
	}
	if r := h.browser("en").passkeySignIn(t, a); r.status != 422 {
		t.Fatalf("the blocked passkey, counter rising again: %d", r.status)
	}
	page := b.get("/account/two-step")
	if !strings.Contains(page.body, "may have been copied") || !strings.Contains(page.body, "Two-step verification is on") {
		t.Fatalf("settings after the copy:\n%s", page.body)
	}
	n := h.browser("en")
	if r := n.post("/signin", url.Values{"email": {email}, "password": {goodPassword}}); r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/signin/verify") {
		t.Fatalf("password with only a blocked passkey: %d %s (two-step must stay on)", r.status, r.location)
	}
}
