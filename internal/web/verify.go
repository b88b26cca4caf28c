package web

import (
	"errors"
	"net/http"
	"net/url"

	"gatehouse/internal/account"
	"gatehouse/internal/code"
	"gatehouse/internal/signin"
)

// requirePending is the gate of the password-checked access level: the
// request names (c) a second step that is still pending and was started by
// this browser. Anything else is the "request unknown" answer — a link to
// the page is of no use in another browser, or after the attempt ended.
func (s *Server) requirePending(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		o, err := s.origin(w, r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		ch, at, err := s.SignIn.Pending(r.Context(), challengeID(r), o)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		st := state(r)
		st.pending, st.attempt = ch, at
		next(w, r)
	}
}

// method is the second-step method the request asks for (?method= or the
// form's method field), or the one the attempt offered.
func method(r *http.Request) signin.Method {
	v := r.URL.Query().Get("method")
	if r.Method == http.MethodPost {
		v, _ = field(r, "method")
	}
	m := signin.Method(v)
	if at := state(r).attempt; m == "" || !signin.Allowed(at.MethodOffered, m) {
		m = at.MethodOffered
	}
	return m
}

// verifyPage is the second-step page of the pending sign-in, for the
// method asked for: the emailed code, the app's code, or a backup code,
// with "try another way" to the others the attempt accepts.
func (s *Server) verifyPage(r *http.Request) *page {
	st := state(r)
	m := method(r)
	p := s.newPage(r, "verify.title_"+string(m))
	p.Values["c"] = st.pending.ID
	p.Values["method"] = string(m)
	p.Data["Method"] = string(m)
	p.Data["Other"] = ""
	// Trusting the browser is offered for two-step sign-ins only: the
	// new-device check is passed once per browser anyway.
	p.Data["CanTrust"] = st.attempt.MethodOffered == signin.App && s.TrustFor > 0
	p.Data["TrustDays"] = int(s.TrustFor.Hours() / 24)
	switch m {
	case signin.App:
		p.Data["Other"] = string(signin.Backup)
	case signin.Backup:
		p.Data["Other"] = string(signin.App)
	}
	p.Data["Destination"] = account.MaskEmail(st.pending.Destination)
	p.Data["Minutes"] = int(s.Codes.Validity().Minutes())
	if r.Method == http.MethodPost {
		if v, ok := field(r, "code"); ok && len(v) <= 32 {
			p.Values["code"] = v
		}
	}
	s.notice(r, p)
	return p
}

func (s *Server) verifyForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "signin_verify", s.verifyPage(r))
}

func (s *Server) verifySubmit(w http.ResponseWriter, r *http.Request) {
	p := s.verifyPage(r)
	m := signin.Method(p.Values["method"])
	c, ok := typedCode(r)
	if m == signin.Backup {
		// A backup code is 16 characters; the backup package reads it
		// as typed (case, spaces, dashes, full-width).
		c, ok = field(r, "code")
		ok = ok && c != "" && len(c) <= 64
	}
	if !ok {
		key := "error.code_format"
		if m == signin.Backup {
			key = "error.backup_format"
		}
		if p.Values["code"] == "" {
			key = "error.required"
		}
		s.formError(w, r, "signin_verify", p, account.FieldErrors{"code": key})
		return
	}
	o, err := s.origin(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	res, err := s.SignIn.Verify(r.Context(), signin.VerifyRequest{
		ChallengeID: state(r).pending.ID, Method: m, Code: c, Origin: o, Previous: sessionToken(r),
		Trust: r.PostFormValue("trust") != "", Challenge: state(r).pending, Attempt: state(r).attempt,
	})
	switch {
	case errors.Is(err, code.ErrLocked), errors.Is(err, code.ErrExpired):
		// The attempt has ended: the holder signs in again (a new
		// password check, a new code).
		redirect(w, r, "/signin", url.Values{"notice": {"signin_again"}})
		return
	case errors.Is(err, signin.ErrDisabled):
		p.Error = s.Catalog.T(p.Lang, classify(r.Context(), err).key)
		s.showErrors(w, r, http.StatusUnprocessableEntity, "signin_verify", p)
		return
	case err != nil:
		s.codeError(w, r, "signin_verify", p, state(r).pending, err)
		return
	}
	s.setSessionCookie(w, res.Session)
	redirect(w, r, "/account", nil)
}

func (s *Server) verifyResend(w http.ResponseWriter, r *http.Request) {
	p := s.verifyPage(r)
	o, err := s.origin(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.SignIn.Resend(r.Context(), state(r).pending.ID, o); err != nil {
		if errors.Is(err, code.ErrNoMore) {
			p.Error = s.Catalog.T(p.Lang, classify(r.Context(), err).key)
			s.showErrors(w, r, http.StatusTooManyRequests, "signin_verify", p)
			return
		}
		s.codeError(w, r, "signin_verify", p, state(r).pending, err)
		return
	}
	redirect(w, r, "/signin/verify", url.Values{"c": {state(r).pending.ID}, "notice": {"resent"}})
}
