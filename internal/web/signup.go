package web

import (
	"net/http"
	"net/url"

	"gatehouse/internal/account"
	"gatehouse/internal/form"
	"gatehouse/internal/httpcore"
)

// signedIn reports whether the browser holds a live session. The sign-in
// and sign-up pages send such a browser on to its account instead of
// showing forms it has no use for.
func (s *Server) signedIn(r *http.Request) bool {
	c, err := r.Cookie(httpcore.SessionCookie)
	if err != nil {
		return false
	}
	_, err = s.Sessions.Check(r.Context(), c.Value)
	return err == nil
}

func (s *Server) signupPage(r *http.Request) *page {
	p := s.newPage(r, "signup.title")
	p.Data["Region"], p.Data["PhoneExample"] = s.regionName(p.Lang), s.PhoneExample
	return p
}

func (s *Server) signupForm(w http.ResponseWriter, r *http.Request) {
	if s.signedIn(r) {
		httpcore.Redirect(w, r, "/account", nil)
		return
	}
	s.render(w, r, http.StatusOK, "signup", s.signupPage(r))
}

func (s *Server) signupSubmit(w http.ResponseWriter, r *http.Request) {
	p := s.signupPage(r)
	email, okE := httpcore.Field(r, "email")
	phone, okP := httpcore.Field(r, "phone")
	p.Values["email"], p.Values["phone"] = email, phone
	bad := form.Errors{}
	if !okE {
		bad["email"] = "error.invalid_text"
	}
	if !okP {
		bad["phone"] = "error.invalid_text"
	}
	if len(bad) > 0 {
		s.formError(w, r, "signup", p, bad)
		return
	}
	o := httpcore.OriginOf(r)
	id, err := s.Accounts.Register(r.Context(), account.Registration{
		Email: email, Password: httpcore.Secret(r, "password"), Phone: phone, Language: p.Lang, Origin: o,
	})
	if err != nil {
		s.formError(w, r, "signup", p, err)
		return
	}
	httpcore.Redirect(w, r, "/signup/confirm", url.Values{"c": {id}})
}

// challengeID reads the request id a code page continues with.
func challengeID(r *http.Request) string {
	if r.Method == http.MethodPost {
		v, _ := httpcore.Field(r, "c")
		return v
	}
	return r.URL.Query().Get("c")
}
