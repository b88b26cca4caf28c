package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/outbox"
	"gatehouse/internal/request"
)

// TestEmailChange_NeedsStepUpACodeAndTellsBothAddresses_V6_4_2: changing
// the address asks to re-verify after ten minutes; the new address gets a
// code (cause "mistyped": nothing ties it to the account yet) and becomes
// the account's only when the code is typed back; the old and the new
// address are told; an address that has an account answers the same page
// and gets nothing. (ASVS v5.0.0-6.4.2, 6.3.8)
func TestEmailChange_NeedsStepUpACodeAndTellsBothAddresses_V6_4_2(t *testing.T) {
	t.Parallel()
	onBothDatabases(t, func(t *testing.T, db map[string]string) {
		h := newHarness(t, db)
		const old, next, taken = "old-address@example.com", "new-address@example.com", "someone-else@example.com"
		h.browser("en").signUp(taken, goodPassword)
		b := h.browser("ja")
		b.signUp(old, goodPassword)
		later := time.Now().Add(11 * time.Minute)
		h.app.SetClock(func() time.Time { return later })
		if r := b.get("/account/email"); r.status != http.StatusSeeOther || r.location != "/account/reverify?next=%2Faccount%2Femail" {
			t.Fatalf("after 11 minutes: %d %s", r.status, r.location)
		}
		if r := b.post("/account/reverify", url.Values{"next": {"/account/email"}, "password": {goodPassword}}); r.status != http.StatusSeeOther || r.location != "/account/email" {
			t.Fatalf("reverify: %d %s", r.status, r.location)
		}
		if r := b.post("/account/email", url.Values{"email": {"not an address"}}); r.status != 422 || !strings.Contains(r.body, "name@example.com") {
			t.Fatalf("bad address: %d", r.status)
		}
		if r := b.post("/account/email", url.Values{"email": {old}}); r.status != 422 || !strings.Contains(r.body, "すでにこのアドレス") {
			t.Fatalf("same address: %d", r.status)
		}

		// An address with an account: the same answer, and nothing sent.
		rt := b.post("/account/email", url.Values{"email": {taken}})
		if rt.status != http.StatusSeeOther || !strings.HasPrefix(rt.location, "/account/email/confirm?c=") {
			t.Fatalf("taken address: %d %s", rt.status, rt.location)
		}
		for _, m := range h.messagesTo(taken) {
			if m.Purpose == request.ChangeEmail && m.Status != outbox.Withheld {
				t.Fatalf("a code went to an address that has an account: %s", m.Status)
			}
		}
		pt := b.get(rt.location)
		if got := b.post("/account/email/confirm", url.Values{"c": {challenge(t, rt.location)}, "code": {"123456"}}); got.status != 422 {
			t.Fatalf("a code for the taken address: %d", got.status)
		}

		r := b.post("/account/email", url.Values{"email": {next}})
		pn := b.get(r.location)
		// The two pages differ only in the address and the request id.
		norm := func(body, addr, id string) string {
			return strings.NewReplacer(addr, "ADDR", id, "ID").Replace(body)
		}
		if norm(pt.body, taken, challenge(t, rt.location)) != norm(pn.body, next, challenge(t, r.location)) {
			t.Error("the confirm page tells a taken address from a free one")
		}
		ms := h.messagesTo(next)
		if len(ms) != 1 || ms[0].Purpose != request.ChangeEmail || ms[0].Cause != request.Mistyped {
			t.Fatalf("code to the new address: %+v", ms)
		}
		// Its "not you" paragraph speaks of an address change, not a sign-up.
		if !strings.Contains(ms[0].Text, "メールアドレスの変更で") || strings.Contains(ms[0].Text, "アカウントは作成されず") {
			t.Fatalf("the code's not-you paragraph:\n%s", ms[0].Text)
		}
		c := challenge(t, r.location)
		if got := b.post("/account/email/confirm", url.Values{"c": {c}, "code": {wrongCode6(h.codeFor(next), 0)}}); got.status != 422 {
			t.Fatalf("wrong code: %d", got.status)
		}
		// Messages are listed by time; the fixed clock would tie them.
		h.app.SetClock(func() time.Time { return later.Add(time.Minute) })
		got := b.post("/account/email/confirm", url.Values{"c": {c}, "code": {h.codeFor(next)}})
		if got.status != http.StatusSeeOther || got.location != "/account?notice=email_changed" {
			t.Fatalf("confirm: %d %s\n%s", got.status, got.location, got.body)
		}
		if page := b.get("/account"); !strings.Contains(page.body, next) {
			t.Fatalf("account page after the change:\n%s", page.body)
		}
		for _, to := range []string{old, next} {
			if ms := h.messagesTo(to); ms[0].Purpose != request.EmailChanged || !strings.Contains(ms[0].Text, next) {
				t.Fatalf("%s told: %s %q", to, ms[0].Purpose, ms[0].Text)
			}
		}
		n := h.browser("en")
		if r := n.post("/signin", url.Values{"email": {old}, "password": {goodPassword}}); r.status == http.StatusSeeOther {
			t.Fatal("the old address still signs in")
		}
		if r := n.post("/signin", url.Values{"email": {next}, "password": {goodPassword}}); r.status != http.StatusSeeOther || r.location != "/account" {
			t.Fatalf("the new address: %d %s", r.status, r.location)
		}
	})
}
