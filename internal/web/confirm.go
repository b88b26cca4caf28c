package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/text/unicode/norm"

	"gatehouse/internal/account"
	"gatehouse/internal/code"
	"gatehouse/internal/form"
	"gatehouse/internal/httpcore"
	"gatehouse/internal/request"
)

// codePage fills a code-entry page (confirm or reset) for the request, or
// answers with an error page and returns nil when the request is unknown.
func (s *Server) codePage(w http.ResponseWriter, r *http.Request, title string, p request.Purpose) (*page, *code.Challenge) {
	pg := s.newPage(r, title)
	ch, err := s.Codes.Lookup(r.Context(), challengeID(r), p)
	if err != nil {
		httpcore.Fail(w, r, err) // an unknown request: 404, as the error mapper says
		return nil, nil
	}
	pg.Values["c"] = ch.ID
	pg.Data["Destination"] = account.DisplayEmail(ch.Destination)
	pg.Data["Minutes"] = int(s.Codes.Validity().Minutes())
	pg.Data["Flow"] = "confirm"
	if p == request.ResetPassword {
		pg.Data["Flow"] = "reset"
	}
	if r.Method == http.MethodPost {
		// Whatever was typed stays in the field, right or wrong: a one-digit
		// slip should not mean typing all six again.
		if v, ok := httpcore.Field(r, "code"); ok && len(v) <= 32 {
			pg.Values["code"] = v
		}
	}
	s.notice(r, pg)
	return pg, ch
}

// codeSeparators are what people type between digits, including what a
// Japanese IME produces: after NFKC, full-width digits are ASCII digits and
// the ideographic space is a space, but the long-vowel mark and dashes
// stay what they are.
const codeSeparators = " -\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc\uff70"

// typedCode reads the code field as a person types it: "123 456",
// "123-456", or "６２２２８９" from a Japanese IME (NFKC); ok is false when
// it is not six digits.
func typedCode(r *http.Request) (string, bool) {
	v, ok := httpcore.Field(r, "code")
	if !ok {
		return "", false
	}
	v = norm.NFKC.String(v)
	out := make([]byte, 0, code.Digits)
	for _, c := range v {
		switch {
		case c >= '0' && c <= '9':
			out = append(out, byte(c))
		case strings.ContainsRune(codeSeparators, c):
		default:
			return "", false
		}
	}
	return string(out), len(out) == code.Digits
}

func (s *Server) confirmForm(w http.ResponseWriter, r *http.Request) {
	if p, _ := s.codePage(w, r, "confirm.title", request.ConfirmEmail); p != nil {
		s.render(w, r, http.StatusOK, "confirm", p)
	}
}

func (s *Server) confirmSubmit(w http.ResponseWriter, r *http.Request) {
	p, ch := s.codePage(w, r, "confirm.title", request.ConfirmEmail)
	if p == nil {
		return
	}
	c, ok := typedCode(r)
	if !ok {
		key := "error.code_format"
		if p.Values["code"] == "" {
			key = "error.required"
		}
		s.formError(w, r, "confirm", p, form.Errors{"code": key})
		return
	}
	o := httpcore.OriginOf(r)
	_, choosing := r.PostForm["new_password"]
	res, err := s.Accounts.Confirm(r.Context(), account.ConfirmRequest{
		ChallengeID: ch.ID, Code: c, NewPassword: httpcore.Secret(r, "new_password"), Origin: o, Previous: sessionToken(r),
	})
	var fe form.Errors
	switch {
	case err == nil && res.PasswordNeeded && !choosing:
		// The right code, from a browser other than the one that signed up:
		// the account gets the password chosen here.
		p.Title = s.Catalog.T(p.Lang, "confirm.choose_title")
		p.Values["code"] = c
		p.carryNot = "code" // a proven code never goes into a URL
		s.render(w, r, http.StatusOK, "confirm_password", p)
		return
	case err == nil && res.PasswordNeeded, errors.As(err, &fe):
		// No password chosen, or one the policy refuses.
		p.Title = s.Catalog.T(p.Lang, "confirm.choose_title")
		p.Values["code"] = c
		p.carryNot = "code"
		if fe == nil {
			fe = form.Errors{"new_password": "error.required"}
		}
		s.formError(w, r, "confirm_password", p, fe)
		return
	case err != nil:
		s.formError(w, r, "confirm", p, err)
		return
	}
	if res.Session == nil {
		// Confirmed from another browser (say, a phone's mail app) with a
		// password chosen there: sign in with it, like after a reset.
		httpcore.Redirect(w, r, "/signin", url.Values{"notice": {"confirmed"}, "email": {res.Account.Email}})
		return
	}
	s.setSessionCookie(w, res.Session)
	httpcore.Redirect(w, r, "/account", url.Values{"notice": {"account_created"}})
}

// resend answers a "send a new code" button: for the request in the form,
// a new code goes out (send) and the code page comes back with a notice.
func (s *Server) resend(name, title string, purpose request.Purpose, path string,
	send func(ctx context.Context, id, lang string, o request.Origin) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, ch := s.codePage(w, r, title, purpose)
		if p == nil {
			return
		}
		o := httpcore.OriginOf(r)
		if err := send(r.Context(), ch.ID, p.Lang, o); err != nil {
			s.formError(w, r, name, p, err)
			return
		}
		httpcore.Redirect(w, r, path, url.Values{"c": {ch.ID}, "notice": {"resent"}})
	}
}
