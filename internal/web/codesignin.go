package web

import (
	"net/http"
	"net/url"

	"gatehouse/internal/account"
	"gatehouse/internal/form"
	"gatehouse/internal/httpcore"
	"gatehouse/internal/signin"
)

// codeSigninForm is /signin/code: the address to send a sign-in code to,
// where the operator allows sign-in by code (signin.code_signin).
func (s *Server) codeSigninForm(w http.ResponseWriter, r *http.Request) {
	if !s.SignIn.CodeSignIn {
		httpcore.Fail(w, r, httpcore.ErrUnknown)
		return
	}
	p := s.newPage(r, "codesignin.title")
	p.Values["next"] = nextTarget(r)
	s.render(w, r, http.StatusOK, "signin_code", p)
}

// codeSigninSubmit sends the code and goes to the page that takes it.
// Every address gets the same page (see signin.RequestCode).
func (s *Server) codeSigninSubmit(w http.ResponseWriter, r *http.Request) {
	if !s.SignIn.CodeSignIn {
		httpcore.Fail(w, r, httpcore.ErrUnknown)
		return
	}
	p := s.newPage(r, "codesignin.title")
	p.Values["next"] = nextTarget(r)
	email, ok := httpcore.Field(r, "email")
	p.Values["email"] = email
	switch {
	case !ok:
		s.formError(w, r, "signin_code", p, form.Errors{"email": "error.invalid_text"})
		return
	case email == "":
		s.formError(w, r, "signin_code", p, form.Errors{"email": "error.required"})
		return
	}
	o := httpcore.OriginOf(r)
	id, err := s.SignIn.RequestCode(r.Context(), email, p.Lang, o)
	if err != nil {
		s.formError(w, r, "signin_code", p, err)
		return
	}
	q := url.Values{"c": {id}}
	if next := p.Values["next"]; next != "" {
		q.Set("next", next)
	}
	httpcore.Redirect(w, r, "/signin/code/verify", q)
}

// codeVerifyPage is the page of an open sign-in by code, for the browser
// that asked (anyone else: the request is unknown).
func (s *Server) codeVerifyPage(w http.ResponseWriter, r *http.Request) *page {
	if !s.SignIn.CodeSignIn {
		httpcore.Fail(w, r, httpcore.ErrUnknown)
		return nil
	}
	o := httpcore.OriginOf(r)
	p := s.newPage(r, "codesignin.verify_title")
	ch, err := s.SignIn.CodePending(r.Context(), challengeID(r), o)
	if err != nil {
		httpcore.Fail(w, r, err)
		return nil
	}
	p.Values["c"] = ch.ID
	p.Values["next"] = nextTarget(r)
	p.Data["Destination"] = account.DisplayEmail(ch.Destination)
	p.Data["Minutes"] = int(s.Codes.Validity().Minutes())
	p.Data["RememberDays"] = int(s.RememberFor.Hours() / 24)
	p.Data["Challenge"] = ch
	if r.Method == http.MethodPost {
		if v, ok := httpcore.Field(r, "code"); ok && len(v) <= 32 {
			p.Values["code"] = v
		}
	}
	return p
}

func (s *Server) codeVerifyForm(w http.ResponseWriter, r *http.Request) {
	if p := s.codeVerifyPage(w, r); p != nil {
		s.render(w, r, http.StatusOK, "signin_code_verify", p)
	}
}

// codeVerifySubmit signs in with the code.
func (s *Server) codeVerifySubmit(w http.ResponseWriter, r *http.Request) {
	p := s.codeVerifyPage(w, r)
	if p == nil {
		return
	}
	c, ok := typedCode(r)
	if !ok {
		s.formError(w, r, "signin_code_verify", p, form.Errors{"code": "error.code_format"})
		return
	}
	o := httpcore.OriginOf(r)
	res, err := s.SignIn.SignInByCode(r.Context(), signin.CodeRequest{
		ChallengeID: p.Values["c"], Code: c, Remember: r.PostFormValue("remember") != "", Previous: sessionToken(r), Origin: o,
	})
	if err != nil {
		s.formError(w, r, "signin_code_verify", p, err)
		return
	}
	s.setSessionCookie(w, res.Session)
	httpcore.Redirect(w, r, landing(p.Values["next"]), nil)
}
