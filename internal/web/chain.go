package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"gatehouse/internal/httpcore"
	"gatehouse/internal/signin"
)

// prepare starts building the pages' assets (templates, static files,
// busy pages) in the background and builds the pages' chains, once, before
// the route table is served.
func (s *Server) prepare() {
	s.startAssets()
	s.pagesChain = &httpcore.Chain{
		Name:        "pages",
		Browser:     true,
		Body:        httpcore.FormBody,
		Error:       s.errorPageText,
		Busy:        s.busy,
		NoSession:   s.signInFirst,
		Compromised: s.newPasswordFirst,
		Stale:       s.reverifyFirst,
	}
	s.apiChain = httpcore.NewJSON()
	// The console's chain is the pages' but for its detour to a fresh
	// second step, which returns to the page a change's button is on.
	c := *s.pagesChain
	c.Name, c.Stale = "console", s.consoleReverify
	s.consoleChain = &c
}

// Pages is the chain of the holder's pages: HTML forms. A POST must be a
// browser's form post (urlencoded, with Origin or Sec-Fetch-Site, and
// same-origin: CSRF), errors are pages in the holder's language, a missing
// session redirects to the sign-in page. It answers the URLs no route has,
// too (a page, not the mux's plain text).
func (s *Server) Pages() *httpcore.Chain {
	if s.pagesChain == nil {
		s.prepare()
	}
	return s.pagesChain
}

// signInFirst sends a request without a session to the sign-in page, which
// returns to where it was going (returnTo).
func (s *Server) signInFirst(w http.ResponseWriter, r *http.Request) {
	q := url.Values{"notice": {"signin_needed"}}
	if back := returnTo(r); back != "" && back != "/account" {
		q.Set("next", back)
	}
	httpcore.Redirect(w, r, "/signin", q)
}

// newPasswordFirst sends a holder who said someone else has their password
// to set a new one: nothing else until then.
func (s *Server) newPasswordFirst(w http.ResponseWriter, r *http.Request) {
	httpcore.Redirect(w, r, "/account/password", url.Values{"notice": {"password_compromised"}})
}

// reverifyFirst sends a holder whose proof of identity is too old for a
// sensitive change to a short re-verification, then back to the page the
// form belongs to: a form post cannot be replayed after the detour.
func (s *Server) reverifyFirst(w http.ResponseWriter, r *http.Request) {
	back := r.URL.Path
	if rt := state(r).Route; rt != nil && rt.Page != "" {
		back = rt.Page
	}
	if r.Method == http.MethodPost {
		// The holder pressed a button: say, back on its page, that the
		// proof is done and the button is to be pressed again.
		back += "?notice=reverified_again"
	}
	httpcore.Redirect(w, r, "/account/reverify", url.Values{"next": {back}})
}

// returnTo is where a sign-in asked for by a signed-in page returns: the
// page itself for a GET, the story for a form posted on /why/{reference}
// (its answer is given there again, by the holder, once signed in); "" for
// anything else, whose form would have to be filled in again anyway.
func returnTo(r *http.Request) string {
	switch {
	case r.Method == http.MethodGet:
		return httpcore.LocalTarget(r.URL.RequestURI(), "")
	case strings.HasPrefix(r.URL.Path, "/why/"):
		return httpcore.LocalTarget(r.URL.Path, "")
	}
	return ""
}

// RequirePending is the gate of the password-checked access level: the
// request names (c) a second step that is still pending and was started by
// this browser. Anything else is the "request unknown" answer — a link to
// the page is of no use in another browser, or after the attempt ended. The
// step it finds is the handler's (stepOf).
func (s *Server) RequirePending(_ *httpcore.Route, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		o, err := httpcore.Recognise(w, r)
		if err != nil {
			httpcore.Fail(w, r, err)
			return
		}
		step, err := s.SignIn.PendingStep(r.Context(), challengeID(r), o)
		if err != nil {
			httpcore.Fail(w, r, err)
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), stepKey{}, step)))
	}
}

type stepKey struct{}

// stepOf is the pending second step of a password-checked route.
func stepOf(r *http.Request) *signin.Step {
	st, _ := r.Context().Value(stepKey{}).(*signin.Step)
	return st
}

// state is the request's state in the HTTP core.
func state(r *http.Request) *httpcore.State { return httpcore.StateOf(r) }
