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
	"gatehouse/internal/random"
	"gatehouse/internal/request"
	"gatehouse/internal/web"
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

// pendingRequest stores an authorization request of the client, brought
// by the browser of the account's newest session (as /oidc/authorize
// stores it), and returns the hand-off address that continues it.
func (h *harness) pendingRequest(clientID, accountID string) string {
	h.t.Helper()
	ctx := context.Background()
	sessions, err := h.app.Sessions.List(ctx, accountID)
	if err != nil || len(sessions) == 0 {
		h.t.Fatalf("the holder's sessions: %v, %d", err, len(sessions))
	}
	now := time.Now()
	r := &oidc.Request{ID: random.ID(), ClientID: clientID, DeviceID: sessions[0].DeviceID, CreatedAt: now,
		ExpiresAt: now.Add(oidc.AuthRequestLifetime),
		Params:    oidc.Params{RedirectURI: "https://shop.example/callback", Scopes: []string{"openid"}, ResponseType: "code"}}
	if err := h.app.Apps.Store.CreateAuthRequest(ctx, r); err != nil {
		h.t.Fatal(err)
	}
	return web.OIDCContinuePath + "?id=" + url.QueryEscape(r.ID)
}

// otherBrowsersRequest stores a request of the client that another
// browser brought, and returns its hand-off address.
func (h *harness) otherBrowsersRequest(clientID string) string {
	h.t.Helper()
	now := time.Now()
	r := &oidc.Request{ID: random.ID(), ClientID: clientID, DeviceID: "another-browser", CreatedAt: now,
		ExpiresAt: now.Add(oidc.AuthRequestLifetime),
		Params:    oidc.Params{RedirectURI: "https://shop.example/callback", Scopes: []string{"openid"}, ResponseType: "code"}}
	if err := h.app.Apps.Store.CreateAuthRequest(context.Background(), r); err != nil {
		h.t.Fatal(err)
	}
	return web.OIDCContinuePath + "?id=" + url.QueryEscape(r.ID)
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

			// The application is the one whose request the holder is
			// continuing, never one the address names: a link naming a
			// registered client, or a hand-off for a request that does not
			// exist or that another browser brought, names none.
			next := h.pendingRequest(client, acct)
			for what, q := range map[string]string{
				"an app in the address": "next=/account&app=" + url.QueryEscape(client),
				"no such request":       "next=" + url.QueryEscape(web.OIDCContinuePath+"?id=nosuchrequest") + "&app=" + url.QueryEscape(client),
				"another browser's":     "next=" + url.QueryEscape(h.otherBrowsersRequest(client)),
			} {
				if p := holder.get("/account/reverify?" + q); p.status != 200 || strings.Contains(p.body, "Example Shop") {
					t.Fatalf("%s: %s: %d\n%s", lang, what, p.status, p.body)
				}
			}
			p := holder.get("/account/reverify?next=" + url.QueryEscape(next))
			if p.status != 200 || !strings.Contains(p.body, w.asks) {
				t.Fatalf("%s: reverify page: %d\n%s", lang, p.status, p.body)
			}
			r := holder.post("/account/reverify", url.Values{"next": {next}, "method": {"sms"}, "password": {goodPassword}})
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
