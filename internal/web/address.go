package web

import (
	"errors"
	"net/http"
	"net/url"

	"gatehouse/internal/account"
	"gatehouse/internal/address"
	"gatehouse/internal/code"
)

// emailForm asks for the new address (step-up first: the address is how
// a forgotten password is reset).
func (s *Server) emailForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "email", s.emailPage(r))
}

func (s *Server) emailPage(r *http.Request) *page {
	p := s.newPage(r, "email.title")
	p.Data["Current"] = state(r).account.Email
	return p
}

// emailSubmit sends a code to the new address; the holder lands on the
// page that takes it back — the same page whether or not the address has
// an account.
func (s *Server) emailSubmit(w http.ResponseWriter, r *http.Request) {
	st := state(r)
	p := s.emailPage(r)
	typed, ok := field(r, "email")
	p.Values["email"] = typed
	if !ok || len(typed) > 4*account.MaxEmailBytes {
		s.formError(w, r, "email", p, account.FieldErrors{"email": "error.email_invalid"})
		return
	}
	o, err := s.origin(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ch, err := s.Addresses.Begin(r.Context(), st.account, typed, o)
	switch {
	case errors.Is(err, address.ErrSame):
		s.formError(w, r, "email", p, account.FieldErrors{"email": "error.email_same"})
		return
	case err != nil:
		s.formError(w, r, "email", p, err)
		return
	}
	redirect(w, r, "/account/email/confirm", url.Values{"c": {ch.ID}})
}

func (s *Server) emailConfirmPage(r *http.Request) (*page, *code.Challenge, error) {
	ch, err := s.Addresses.Pending(r.Context(), state(r).account, challengeID(r))
	if err != nil {
		return nil, nil, err
	}
	p := s.newPage(r, "email.confirm_title")
	p.Values["c"] = ch.ID
	p.Data["Destination"] = account.DisplayEmail(ch.Destination)
	p.Data["Minutes"] = int(s.Codes.Validity().Minutes())
	if r.Method == http.MethodPost {
		if v, ok := field(r, "code"); ok && len(v) <= 32 {
			p.Values["code"] = v
		}
	}
	s.notice(r, p)
	return p, ch, nil
}

func (s *Server) emailConfirmForm(w http.ResponseWriter, r *http.Request) {
	p, _, err := s.emailConfirmPage(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "email_confirm", p)
}

// emailConfirmSubmit takes the code back: the new address becomes the
// account's, and both addresses are told.
func (s *Server) emailConfirmSubmit(w http.ResponseWriter, r *http.Request) {
	p, ch, err := s.emailConfirmPage(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	c, ok := typedCode(r)
	if !ok {
		key := "error.code_format"
		if p.Values["code"] == "" {
			key = "error.required"
		}
		s.formError(w, r, "email_confirm", p, account.FieldErrors{"code": key})
		return
	}
	o, err := s.origin(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if _, err := s.Addresses.Confirm(r.Context(), state(r).account, ch.ID, c, o); err != nil {
		if errors.Is(err, account.ErrEmailTaken) {
			p.Error = s.Catalog.T(p.Lang, "error.email_taken_meanwhile")
			s.showErrors(w, r, http.StatusConflict, "email_confirm", p)
			return
		}
		s.codeError(w, r, "email_confirm", p, ch, err)
		return
	}
	redirect(w, r, "/account", url.Values{"notice": {"email_changed"}})
}

// emailResend sends a new code to the new address.
func (s *Server) emailResend(w http.ResponseWriter, r *http.Request) {
	p, ch, err := s.emailConfirmPage(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	o, err := s.origin(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.Addresses.Resend(r.Context(), state(r).account, ch.ID, o); err != nil {
		if errors.Is(err, code.ErrNoMore) {
			p.Error = s.Catalog.T(p.Lang, classify(r.Context(), err).key)
			s.showErrors(w, r, http.StatusTooManyRequests, "email_confirm", p)
			return
		}
		s.codeError(w, r, "email_confirm", p, ch, err)
		return
	}
	redirect(w, r, "/account/email/confirm", url.Values{"c": {ch.ID}, "notice": {"resent"}})
}
