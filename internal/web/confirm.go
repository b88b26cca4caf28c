package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"gatehouse/internal/account"
	"gatehouse/internal/code"
)

// codePage fills a code-entry page (confirm or reset) for the request, or
// answers with an error page and returns nil when the request is unknown.
func (s *Server) codePage(w http.ResponseWriter, r *http.Request, title string, p code.Purpose) (*page, *code.Challenge) {
	pg := s.newPage(r, title)
	ch, err := s.Codes.Lookup(r.Context(), challengeID(r), p)
	if err != nil {
		if errors.Is(err, code.ErrNotFound) {
			s.errorPage(w, r, http.StatusNotFound, "error.request_unknown")
		} else {
			s.fail(w, r, err)
		}
		return nil, nil
	}
	pg.Values["c"] = ch.ID
	pg.Data["Destination"] = ch.Destination
	pg.Data["Minutes"] = int(s.Codes.TTL.Minutes())
	s.notice(r, pg)
	return pg, ch
}

// codeError shows a code page again with what was wrong with the code.
func (s *Server) codeError(w http.ResponseWriter, r *http.Request, name string, p *page, ch *code.Challenge, err error) {
	key := ""
	switch {
	case errors.Is(err, code.ErrWrongCode):
		// Re-read: the failure just recorded is not in ch.
		if fresh, err := s.Codes.Lookup(r.Context(), ch.ID, ch.Purpose); err == nil {
			ch = fresh
		}
		p.Errors["code"] = s.Catalog.T(p.Lang, "error.code_wrong", s.Codes.Remaining(ch))
	case errors.Is(err, code.ErrExpired):
		key = "error.code_expired"
	case errors.Is(err, code.ErrUsed):
		key = "error.code_used"
	case errors.Is(err, code.ErrLocked):
		key = "error.code_locked"
	case errors.Is(err, code.ErrCooldown):
		wait := int(s.Codes.CooldownLeft(ch).Seconds() + 0.999)
		p.Error = s.Catalog.T(p.Lang, "error.code_cooldown", wait)
		w.Header().Set("Retry-After", strconv.Itoa(max(wait, 1)))
		s.render(w, r, http.StatusTooManyRequests, name, p)
		return
	case errors.Is(err, code.ErrNotFound):
		s.errorPage(w, r, http.StatusNotFound, "error.request_unknown")
		return
	default:
		s.formError(w, r, name, p, err)
		return
	}
	if key != "" {
		p.Errors["code"] = s.Catalog.T(p.Lang, key)
	}
	p.Error = s.Catalog.T(p.Lang, "form.errors_above")
	s.render(w, r, http.StatusUnprocessableEntity, name, p)
}

// typedCode reads the code field, accepting "123 456" as typed from a
// message; ok is false when it is not six digits.
func typedCode(r *http.Request) (string, bool) {
	v, ok := field(r, "code")
	if !ok {
		return "", false
	}
	out := make([]byte, 0, code.Digits)
	for _, c := range []byte(v) {
		switch {
		case c >= '0' && c <= '9':
			out = append(out, c)
		case c == ' ' || c == '-':
		default:
			return "", false
		}
	}
	return string(out), len(out) == code.Digits
}

func (s *Server) confirmForm(w http.ResponseWriter, r *http.Request) {
	if p, _ := s.codePage(w, r, "confirm.title", code.ConfirmEmail); p != nil {
		s.render(w, r, http.StatusOK, "confirm", p)
	}
}

func (s *Server) confirmSubmit(w http.ResponseWriter, r *http.Request) {
	p, ch := s.codePage(w, r, "confirm.title", code.ConfirmEmail)
	if p == nil {
		return
	}
	c, ok := typedCode(r)
	if !ok {
		s.formError(w, r, "confirm", p, account.FieldErrors{"code": "error.code_format"})
		return
	}
	o, err := s.origin(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	a, sameDevice, err := s.Accounts.Confirm(r.Context(), ch.ID, c, o.DeviceID, o.Time)
	if err != nil {
		s.codeError(w, r, "confirm", p, ch, err)
		return
	}
	if !sameDevice {
		// Confirmed from another browser (say, a phone's mail app): that
		// browser never proved it knows the password, so it is not signed in.
		redirect(w, r, "/signin", url.Values{"notice": {"confirmed"}})
		return
	}
	if err := s.startSession(w, r, a, o.DeviceID, false); err != nil {
		s.fail(w, r, err)
		return
	}
	redirect(w, r, "/account", nil)
}

// resend answers a "send a new code" button: for the request in the form,
// a new code goes out (send) and the code page comes back with a notice.
func (s *Server) resend(name, title string, purpose code.Purpose, path string,
	send func(ctx context.Context, id, lang string, o account.Origin) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, ch := s.codePage(w, r, title, purpose)
		if p == nil {
			return
		}
		o, err := s.origin(w, r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if err := send(r.Context(), ch.ID, p.Lang, o); err != nil {
			s.codeError(w, r, name, p, ch, err)
			return
		}
		redirect(w, r, path, url.Values{"c": {ch.ID}, "notice": {"resent"}})
	}
}
