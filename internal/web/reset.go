package web

import (
	"net/http"
	"net/url"
	"time"

	"gatehouse/internal/code"
	"gatehouse/internal/form"
	"gatehouse/internal/httpcore"
	"gatehouse/internal/request"
)

func (s *Server) forgotForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "forgot", s.newPage(r, "forgot.title"))
}

func (s *Server) forgotSubmit(w http.ResponseWriter, r *http.Request) {
	p := s.newPage(r, "forgot.title")
	email, ok := httpcore.Field(r, "email")
	p.Values["email"] = email
	if !ok {
		s.formError(w, r, "forgot", p, form.Errors{"email": "error.invalid_text"})
		return
	}
	o := httpcore.OriginOf(r)
	id, err := s.Accounts.RequestReset(r.Context(), email, p.Lang, o)
	if err != nil {
		s.formError(w, r, "forgot", p, err)
		return
	}
	httpcore.Redirect(w, r, "/password/reset", url.Values{"c": {id}})
}

func (s *Server) resetPage(w http.ResponseWriter, r *http.Request) (*page, *code.Challenge) {
	return s.codePage(w, r, "reset.title", request.ResetPassword)
}

func (s *Server) resetForm(w http.ResponseWriter, r *http.Request) {
	if p, _ := s.resetPage(w, r); p != nil {
		s.render(w, r, http.StatusOK, "reset", p)
	}
}

func (s *Server) resetSubmit(w http.ResponseWriter, r *http.Request) {
	p, ch := s.resetPage(w, r)
	if p == nil {
		return
	}
	c, ok := typedCode(r)
	if !ok && p.Values["code"] != "" {
		s.formError(w, r, "reset", p, form.Errors{"code": "error.code_format"})
		return
	}
	o := httpcore.OriginOf(r)
	if err := s.Accounts.Reset(r.Context(), ch.ID, c, httpcore.Secret(r, "new_password"), o); err != nil {
		s.formError(w, r, "reset", p, err)
		return
	}
	httpcore.SetCookie(w, httpcore.SessionCookie, "", time.Time{}, -1)
	httpcore.Redirect(w, r, "/signin", url.Values{"notice": {"reset_done"}, "email": {ch.Destination}})
}
