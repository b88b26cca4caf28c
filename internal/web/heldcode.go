package web

import (
	"context"
	"net/http"
	"net/url"

	"gatehouse/internal/account"
	"gatehouse/internal/code"
	"gatehouse/internal/form"
	"gatehouse/internal/httpcore"
	"gatehouse/internal/request"
)

// heldCode describes a signed-in holder's request that a code sent to a
// new address or number confirms (a phone being added, an address change):
// the page that takes the code back, its resend, and how the request is
// found. The pages of each are the same but for these.
type heldCode struct {
	template, title string
	path            string // the page (GET) and its form (POST)
	// pending returns the holder's open request with the id, or
	// code.ErrNotFound.
	pending func(ctx context.Context, a *account.Account, id string) (*code.Challenge, error)
	// resend sends a new code for it.
	resend func(ctx context.Context, a *account.Account, id string, o request.Origin) error
	// shown is the destination as the page names it.
	shown func(ch *code.Challenge) string
}

// heldPage reads the request the page names and fills the code page.
func (s *Server) heldPage(r *http.Request, h heldCode) (*page, *code.Challenge, error) {
	// A request its destination's holder stopped stays open here, as a
	// decoy (code.Service.Stop): nothing tells its requester that a holder
	// answered.
	ch, err := h.pending(r.Context(), state(r).Account, challengeID(r))
	if err != nil {
		return nil, nil, err
	}
	p := s.newPage(r, h.title)
	p.Values["c"] = ch.ID
	p.Data["Destination"] = h.shown(ch)
	p.Data["Minutes"] = int(s.Codes.Validity().Minutes())
	if r.Method == http.MethodPost {
		if v, ok := httpcore.Field(r, "code"); ok && len(v) <= 32 {
			p.Values["code"] = v
		}
	}
	s.notice(r, p)
	return p, ch, nil
}

// heldForm shows the code page.
func (s *Server) heldForm(h heldCode) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, _, err := s.heldPage(r, h)
		if err != nil {
			s.heldFail(w, r, err)
			return
		}
		s.render(w, r, http.StatusOK, h.template, p)
	}
}

// heldSubmit reads the code typed and hands it to confirm, which answers
// the request; a malformed code is answered here.
func (s *Server) heldSubmit(h heldCode, confirm func(w http.ResponseWriter, r *http.Request, p *page, ch *code.Challenge, c string, o request.Origin)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, ch, err := s.heldPage(r, h)
		if err != nil {
			s.heldFail(w, r, err)
			return
		}
		c, ok := typedCode(r)
		if !ok {
			key := "error.code_format"
			if p.Values["code"] == "" {
				key = "error.required"
			}
			s.formError(w, r, h.template, p, form.Errors{"code": key})
			return
		}
		o := httpcore.OriginOf(r)
		confirm(w, r, p, ch, c, o)
	}
}

// heldResend sends a new code, after the cool-down and within the limit.
func (s *Server) heldResend(h heldCode) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, ch, err := s.heldPage(r, h)
		if err != nil {
			s.heldFail(w, r, err)
			return
		}
		o := httpcore.OriginOf(r)
		if err := h.resend(r.Context(), state(r).Account, ch.ID, o); err != nil {
			s.formError(w, r, h.template, p, err)
			return
		}
		httpcore.Redirect(w, r, h.path, url.Values{"c": {ch.ID}, "notice": {"resent"}})
	}
}

// heldFail answers a code page whose request cannot be shown.
func (s *Server) heldFail(w http.ResponseWriter, r *http.Request, err error) {
	httpcore.Fail(w, r, err)
}
