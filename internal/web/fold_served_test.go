package web_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestFoldedPagesSameBytesServed: the pages as served — signed out and
// signed in, in both languages, forms refused with their errors — are
// byte for byte the same drawn from the folded templates and from the
// templates parsed without folding (web.Server.UnfoldPages), request by
// request. (The app's page is left out: it offers a new secret on each
// view; TestFoldedPagesSameBytes compares it.)
func TestFoldedPagesSameBytesServed(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	u, _ := url.Parse(h.base)
	handler := h.app.Handler()
	type request struct{ method, path, form string }
	gets := func(paths ...string) []request {
		var rs []request
		for _, p := range paths {
			rs = append(rs, request{"GET", p, ""})
		}
		return rs
	}
	signedOut := append(gets("/", "/signin", "/signin?notice=signed_out&email=a%40example.com", "/signup", "/password/forgot",
		"/signin/code", "/check", "/why", "/no-such-page", "/password/reset?c=nope", "/signup/confirm?c=nope"),
		request{"POST", "/signin", "email=&password="}, request{"POST", "/signup", "email=not-an-address&password=x"},
		request{"POST", "/check", "text="})
	signedIn := append(gets("/account", "/account?notice=account_created", "/account/messages", "/account/activity",
		"/account/activity?failed=1", "/account/devices", "/account/security", "/account/password", "/account/email",
		"/account/reverify", "/account/two-step", "/account/two-step/phone",
		"/account/two-step/passkey", "/account/two-step/off"),
		request{"POST", "/account/password", "current_password=&new_password="},
		request{"POST", "/account/preferences", "language=xx&time_zone=Mars%2FOlympus"})
	compared := 0
	for _, lang := range []string{"en", "ja"} {
		anon, holder := h.browser(lang), h.browser(lang)
		holder.signUp("fold-"+lang+"@example.com", "correct horse battery staple")
		for _, set := range []struct {
			b        *browser
			requests []request
		}{{anon, signedOut}, {holder, signedIn}} {
			for _, rq := range set.requests {
				serve := func() *httptest.ResponseRecorder {
					req := httptest.NewRequest(rq.method, rq.path, strings.NewReader(rq.form))
					req.RemoteAddr, req.Host = "127.0.0.1:50000", u.Host
					req.Header.Set("Accept-Language", lang)
					if rq.method == "POST" {
						req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
						req.Header.Set("Origin", h.base)
						req.Header.Set("Sec-Fetch-Site", "same-origin")
					}
					for _, c := range set.b.client.Jar.Cookies(u) {
						req.AddCookie(c)
					}
					w := httptest.NewRecorder()
					handler.ServeHTTP(w, req)
					return w
				}
				folded := serve()
				restore := h.app.Web.UnfoldPages()
				plain := serve()
				restore()
				if folded.Code != plain.Code || folded.Body.String() != plain.Body.String() {
					t.Errorf("%s %s %s: folded %d differs from unfolded %d\n got: %s\nwant: %s", lang, rq.method, rq.path,
						folded.Code, plain.Code, folded.Body, plain.Body)
				}
				if folded.Code != http.StatusOK && folded.Code != http.StatusSeeOther && folded.Code >= 500 {
					t.Errorf("%s %s %s: %d", lang, rq.method, rq.path, folded.Code)
				}
				if strings.Contains(folded.Header().Get("Content-Type"), "text/html") {
					compared++
				}
			}
		}
	}
	t.Logf("%d pages compared", compared)
}
