package web

import (
	"net/http"
	"net/url"

	"gatehouse/internal/account"
	"gatehouse/internal/code"
	"gatehouse/internal/form"
	"gatehouse/internal/httpcore"
	"gatehouse/internal/request"
)

// emailForm asks for the new address (step-up first: the address is how
// a forgotten password is reset).
func (s *Server) emailForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "email", s.emailPage(r))
}

func (s *Server) emailPage(r *http.Request) *page {
	p := s.newPage(r, "email.title")
	p.Data["Current"] = state(r).Account.Email
	return p
}

// emailSubmit sends a code to the new address; the holder lands on the
// page that takes it back — the same page whether or not the address has
// an account.
func (s *Server) emailSubmit(w http.ResponseWriter, r *http.Request) {
	st := state(r)
	p := s.emailPage(r)
	typed, ok := httpcore.Field(r, "email")
	p.Values["email"] = typed
	if !ok || len(typed) > 4*account.MaxEmailBytes {
		s.formError(w, r, "email", p, form.Errors{"email": "error.email_invalid"})
		return
	}
	o := httpcore.OriginOf(r)
	ch, err := s.Addresses.Begin(r.Context(), st.Account, typed, o)
	if err != nil {
		s.formError(w, r, "email", p, err) // the same address: beside the field
		return
	}
	httpcore.Redirect(w, r, "/account/email/confirm", url.Values{"c": {ch.ID}})
}

// emailCode is the page that takes back the code sent to the new
// address.
func (s *Server) emailCode() heldCode {
	return heldCode{
		template: "email_confirm", title: "email.confirm_title", path: "/account/email/confirm",
		pending: s.Addresses.Pending, resend: s.Addresses.Resend,
		shown: func(ch *code.Challenge) string { return account.DisplayEmail(ch.Destination) },
	}
}

// emailConfirm takes the code back: the new address becomes the
// account's, and both addresses are told.
func (s *Server) emailConfirm(w http.ResponseWriter, r *http.Request, p *page, ch *code.Challenge, c string, o request.Origin) {
	if _, err := s.Addresses.Confirm(r.Context(), state(r).Account, ch.ID, c, o); err != nil {
		s.formError(w, r, "email_confirm", p, err)
		return
	}
	httpcore.Redirect(w, r, "/account", url.Values{"notice": {"email_changed"}})
}
