package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/oidc"
	"gatehouse/internal/request"
)

// connectApp registers an application and connects it to the account of
// email (a grant, as the consent page saves it); it returns its client id.
func (h *harness) connectApp(email, name string) (clientID, accountID string) {
	h.t.Helper()
	ctx := context.Background()
	c, _, err := h.app.Clients.Add(ctx, oidc.NewClient{Name: name, RedirectURIs: []string{"https://shop.example/callback"}})
	if err != nil {
		h.t.Fatal(err)
	}
	acc, err := h.app.DB.AccountByEmail(ctx, email)
	if err != nil {
		h.t.Fatal(err)
	}
	now := time.Now()
	if err := h.app.Apps.Store.SaveGrant(ctx, &oidc.Grant{AccountID: acc.ID, ClientID: c.ID, Scopes: []string{"openid", "email"},
		CreatedAt: now, LastUsedAt: now}); err != nil {
		h.t.Fatal(err)
	}
	return c.ID, acc.ID
}

// connected reports whether the application is among the account's
// connected applications.
func (h *harness) connected(accountID, clientID string) bool {
	h.t.Helper()
	apps, err := h.app.Apps.Connected(context.Background(), accountID)
	if err != nil {
		h.t.Fatal(err)
	}
	for _, a := range apps {
		if a.ClientID == clientID {
			return true
		}
	}
	return false
}

// TestConnectedApp_ItsCodeNamesItAndNotMeDisconnectsIt: an application
// sends a signed-in holder to re-verify (/account/reverify?app=…): the page
// names it, the code texted for it has cause connected_app
// (/dev/messages.json too) and names it, as do the message center and
// /why; "this wasn't me" ends the attempt, signs out the device that asked
// and disconnects the application. An unknown application id is ignored.
// In both languages.
func TestConnectedApp_ItsCodeNamesItAndNotMeDisconnectsIt(t *testing.T) {
	t.Parallel()
	onBothDatabases(t, func(t *testing.T, db map[string]string) {
		h := newHarness(t, db)
		words := map[string]struct{ asks, sms, center, heading, done string }{
			"en": {"Example Shop asks you to confirm it&#39;s you before it goes on.", "Example Shop asked you to confirm it's you.",
				"Example Shop, an application you connected, asked you to confirm it&#39;s you",
				"<h1>This code was sent because Example Shop, an application you connected, asked you to confirm it&#39;s you</h1>",
				"The application was disconnected"},
			"ja": {"Example Shopが、続ける前にご本人確認を求めています。", "「Example Shop」が本人確認を求めています。",
				"連携したアプリ「Example Shop」が、この端末でログイン中のあなたに本人確認を求めました。",
				"<h1>このコードは、連携したアプリ「Example Shop」が本人確認を求めたため送られました</h1>",
				"アプリの連携を解除しました"},
		}
		for i, lang := range []string{"en", "ja"} {
			w := words[lang]
			email, number := lang+"-app@example.com", "+81901234570"+string(rune('0'+i))
			holder := h.browser(lang)
			holder.signUp(email, goodPassword)
			if r := holder.enrolPhone("090-1234-570"+string(rune('0'+i)), number); r.status != http.StatusOK {
				t.Fatalf("%s: phone: %d", lang, r.status)
			}
			client, acct := h.connectApp(email, "Example Shop")

			// An id that names no application: the page names none.
			if p := holder.get("/account/reverify?next=/account&app=nosuchclient"); p.status != 200 ||
				strings.Contains(p.body, "Example Shop") || strings.Contains(p.body, `name="app"`) {
				t.Fatalf("%s: unknown app: %d\n%s", lang, p.status, p.body)
			}
			p := holder.get("/account/reverify?next=/account&app=" + url.QueryEscape(client))
			if p.status != 200 || !strings.Contains(p.body, w.asks) || !strings.Contains(p.body, `name="app" value="`+client+`"`) ||
				!strings.Contains(p.body, "&amp;app="+client) {
				t.Fatalf("%s: reverify page: %d\n%s", lang, p.status, p.body)
			}
			r := holder.post("/account/reverify", url.Values{"next": {"/account"}, "method": {"sms"}, "password": {goodPassword}, "app": {client}})
			if r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/signin/verify?") {
				t.Fatalf("%s: reverify: %d %s\n%s", lang, r.status, r.location, r.body)
			}
			c := challenge(t, r.location)
			m := h.newest(number, request.StepUp)
			if m.Cause != request.ConnectedApp || m.App != "Example Shop" || !strings.Contains(m.Text, w.sms) {
				t.Fatalf("%s: the code's message (%s, %q):\n%s", lang, m.Cause, m.App, m.Text)
			}
			var dev []map[string]any
			if d := holder.get("/dev/messages.json?to=" + url.QueryEscape(number)); d.status != 200 || json.Unmarshal([]byte(d.body), &dev) != nil ||
				len(dev) == 0 || dev[0]["reference"] != m.Reference || dev[0]["cause"] != "connected_app" || dev[0]["app"] != "Example Shop" {
				t.Fatalf("%s: /dev/messages.json: %d\n%s", lang, d.status, d.body)
			}
			if center := holder.get("/account/messages"); !strings.Contains(center.body, m.Reference) || !strings.Contains(center.body, w.center) {
				t.Fatalf("%s: message center:\n%s", lang, center.body)
			}
			story := holder.get("/why/" + m.Reference)
			if !strings.Contains(story.body, `data-cause="connected_app"`) || !strings.Contains(story.body, w.heading) {
				t.Fatalf("%s: story:\n%s", lang, story.body)
			}
			code := h.smsCodeFor(number)

			// "This wasn't me": the attempt ends, the device that asked
			// (this one) is signed out, and the application disconnected.
			if !h.connected(acct, client) {
				t.Fatalf("%s: the application is not connected", lang)
			}
			a := holder.answer(m.Reference, "not_me")
			if a.status != 200 || !strings.Contains(a.body, w.done) {
				t.Fatalf("%s: answer: %d\n%s", lang, a.status, a.body)
			}
			if h.connected(acct, client) {
				t.Fatalf("%s: the application is still connected", lang)
			}
			if s := holder.get("/account"); s.status != http.StatusSeeOther || !strings.HasPrefix(s.location, "/signin") {
				t.Fatalf("%s: the session that asked is still signed in: %d %s", lang, s.status, s.location)
			}
			if v := holder.post("/signin/verify", url.Values{"c": {c}, "method": {"sms"}, "next": {"/account"}, "code": {code}}); v.status == http.StatusSeeOther && v.location == "/account" {
				t.Fatalf("%s: the ended step-up passed with its code", lang)
			}
			done := h.newest(email, request.NotMeDone)
			if !strings.Contains(done.Text, m.Reference) || !strings.Contains(done.Text, w.done) {
				t.Fatalf("%s: confirmation:\n%s", lang, done.Text)
			}
		}
	})
}
