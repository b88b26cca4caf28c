package web

import (
	"net/http"
	"net/url"
	"time"

	"gatehouse/internal/account"
	"gatehouse/internal/form"
	"gatehouse/internal/grant"
	"gatehouse/internal/httpcore"
	"gatehouse/internal/signin"
)

func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	if s.signedIn(r) {
		httpcore.Redirect(w, r, "/account", nil)
		return
	}
	httpcore.Redirect(w, r, "/signin", nil)
}

func (s *Server) signinPage(r *http.Request) *page {
	p := s.newPage(r, "signin.title")
	p.Values["next"] = nextTarget(r)
	s.continuesTo(r, p)
	p.Data["RememberDays"] = int(s.RememberFor / (24 * time.Hour))
	p.Data["CodeSignIn"] = s.SignIn.CodeSignIn
	if s.Passkeys != nil {
		if u := s.passkeyElsewhere(r); u != "" {
			p.Data["PasskeyElsewhere"] = u
		} else {
			p.Data["Passkeys"], p.Data["PasskeyJS"] = true, true
		}
	}
	return p
}

// OIDCContinuePath is the OpenID provider's hand-off
// (oidcdoor.ContinuePath, which imports this package's neighbours, not
// this one: a test keeps the two equal).
const OIDCContinuePath = "/oidc/authorize/continue"

// continuesTo names, on a sign-in that an application's request started
// (next is the OpenID provider's hand-off), the application the holder is
// signing in to — "Sign in to continue to Example Shop" — from the request
// itself (continuingApp). The browser is not signed in, so its device is
// not looked up: the name is only shown, and the hand-off itself refuses
// a request another browser brought.
func (s *Server) continuesTo(r *http.Request, p *page) {
	if app := s.continuingApp(r.Context(), p.Values["next"], "", httpcore.Now(r)); app.ID != "" {
		p.Data["App"] = s.Catalog.T(p.Lang, "signin.continue_to", app.Name)
	}
}

func (s *Server) signinForm(w http.ResponseWriter, r *http.Request) {
	if s.signedIn(r) {
		httpcore.Redirect(w, r, landing(nextTarget(r)), nil)
		return
	}
	p := s.signinPage(r)
	s.notice(r, p)
	s.render(w, r, http.StatusOK, "signin", p)
}

func (s *Server) signinSubmit(w http.ResponseWriter, r *http.Request) {
	p := s.signinPage(r)
	email, ok := httpcore.Field(r, "email")
	p.Values["email"] = email
	pw := httpcore.Secret(r, "password")
	bad := form.Errors{}
	switch {
	case !ok:
		bad["email"] = "error.invalid_text"
	case email == "":
		bad["email"] = "error.required"
	case len(email) > account.MaxEmailBytes:
		bad["email"] = "error.email_invalid"
	}
	if pw == "" {
		bad["password"] = "error.required"
	}
	if len(bad) > 0 {
		s.formError(w, r, "signin", p, bad)
		return
	}
	o := httpcore.OriginOf(r)
	res, err := s.SignIn.SignIn(r.Context(), signin.Request{
		Email: email, Password: pw, Remember: r.PostFormValue("remember") != "", Previous: sessionToken(r), Origin: o,
	})
	if err != nil {
		// Which of the two was wrong is not said (ASVS v5.0.0-6.3.8): the
		// mapper marks both fields, and the one message is in the summary.
		s.formError(w, r, "signin", p, err)
		return
	}
	if res.SecondStep != nil {
		// The password was right; this browser is new to the account, so
		// a code went to the account's address. No session yet.
		q := url.Values{"c": {res.SecondStep.ID}}
		if next := p.Values["next"]; next != "" {
			q.Set("next", next)
		}
		httpcore.Redirect(w, r, "/signin/verify", q)
		return
	}
	if res.Trusted {
		// The trust cookie changes on each use (a copy of it is good for
		// one sign-in at most, and then its browser is told it is new).
		if c, err := r.Cookie(httpcore.DeviceCookie); err == nil {
			if fresh, err := s.Devices.Rotate(r.Context(), o.DeviceID, c.Value); err != nil {
				s.Log.WarnContext(r.Context(), "rotate the device cookie", "err", err)
			} else if fresh != "" {
				httpcore.SetCookie(w, httpcore.DeviceCookie, fresh, s.now().Add(400*24*time.Hour), 400*24*3600)
			}
		}
	}
	s.setSessionCookie(w, res.Session)
	httpcore.Redirect(w, r, landing(p.Values["next"]), nil)
}

// nextTarget is where a sign-in returns to once it is done — the query's
// or the form's next, a local path only (see LocalTarget) — or "".
// /signin?next=/why/{reference} is how the signed-out /why page sends its
// reader back to the story they came for, through every step of the
// sign-in.
func nextTarget(r *http.Request) string {
	v := r.URL.Query().Get("next")
	if r.Method == http.MethodPost {
		v, _ = httpcore.Field(r, "next")
	}
	return httpcore.LocalTarget(v, "")
}

// landing is the first page after a sign-in: next when there is one, the
// account page otherwise (which puts any request waiting for the holder's
// answer at its top).
func landing(next string) string {
	if next == "" {
		return "/account"
	}
	return next
}

// sessionToken is the session token the browser holds, if any: a new
// sign-in ends it.
func sessionToken(r *http.Request) string {
	if c, err := r.Cookie(httpcore.SessionCookie); err == nil {
		return c.Value
	}
	return ""
}

// setSessionCookie hands the browser its session. A remembered session's
// cookie lasts until the session's end; any other is a browser-session
// cookie, so closing the browser on a shared computer forgets it.
func (s *Server) setSessionCookie(w http.ResponseWriter, g *grant.Grant) {
	if g.Remember {
		httpcore.SetCookie(w, httpcore.SessionCookie, g.Token, g.ExpiresAt, int(g.ExpiresAt.Sub(s.now()).Seconds()))
		return
	}
	httpcore.SetCookie(w, httpcore.SessionCookie, g.Token, time.Time{}, 0)
}

func (s *Server) signout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(httpcore.SessionCookie); err == nil {
		if err := s.Sessions.End(r.Context(), c.Value); err != nil {
			httpcore.Fail(w, r, err)
			return
		}
	}
	httpcore.SetCookie(w, httpcore.SessionCookie, "", time.Time{}, -1)
	// The device cookie stays: it is how this browser is recognised next
	// time, not a credential.
	w.Header().Set("Clear-Site-Data", `"cache"`)
	httpcore.Redirect(w, r, "/signin", url.Values{"notice": {"signed_out"}})
}

// signoutEverywhere ends every session of the account, this one included
// (ASVS v5.0.0-7.5.2): the answer to a lost phone or a shared computer.
func (s *Server) signoutEverywhere(w http.ResponseWriter, r *http.Request) {
	if err := s.Accounts.SignOutEverywhere(r.Context(), state(r).Account.ID); err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	httpcore.SetCookie(w, httpcore.SessionCookie, "", time.Time{}, -1)
	w.Header().Set("Clear-Site-Data", `"cache"`)
	httpcore.Redirect(w, r, "/signin", url.Values{"notice": {"signed_out_everywhere"}})
}
