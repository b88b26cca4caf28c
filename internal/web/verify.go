package web

import (
	"errors"
	"net/http"
	"net/url"

	"gatehouse/internal/account"
	"gatehouse/internal/code"
	"gatehouse/internal/form"
	"gatehouse/internal/method"
	"gatehouse/internal/passkey"
	"gatehouse/internal/phone"
	"gatehouse/internal/request"
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
		step, err := s.SignIn.PendingStep(r.Context(), challengeID(r), o)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		st := state(r)
		st.pending, st.attempt, st.step = step.Challenge, step.Attempt, step
		next(w, r)
	}
}

// askedMethod is the second-step method the request asks for (?method= or the
// form's method field), or the one the attempt offered.
func askedMethod(r *http.Request) signin.Method {
	v := r.URL.Query().Get("method")
	if r.Method == http.MethodPost {
		v, _ = field(r, "method")
	}
	m := signin.Method(v)
	if st := state(r).step; m == "" || !signin.Accepted(st.Accepts, m) {
		m = st.Attempt.MethodOffered
	}
	return m
}

// verifyPage is the second-step page of the pending sign-in, for the
// method asked for: the app's code, a code by SMS or email (first a button
// that sends it, when none was sent by that channel yet), or a backup code,
// with "try another way" to the others the attempt accepts.
func (s *Server) verifyPage(r *http.Request) *page {
	st := state(r)
	ch, a := st.step.Challenge, st.step.Account
	m := askedMethod(r)
	p := s.newPage(r, "verify.title_"+string(m))
	p.Values["c"] = ch.ID
	p.Values["method"] = string(m)
	p.Data["Method"] = string(m)
	var others []string
	for _, x := range st.step.Accepts {
		if x != m {
			others = append(others, string(x))
		}
	}
	p.Data["Others"] = others
	// Trusting the browser is offered for two-step sign-ins only: the
	// new-device check is passed once per browser anyway.
	stepUp := st.attempt.Kind == signin.StepUpKind
	p.Data["StepUp"], p.Data["Stage"] = stepUp, ""
	if stepUp {
		// A re-verification says it goes on with the change, not that it
		// signs in.
		p.Title, p.Data["Stage"] = s.Catalog.T(p.Lang, "verify.title_stepup"), "_stepup"
	}
	// Never for a code from the mailbox (the fallback earns no trust).
	about := s.SignIn.About(m)
	p.Data["CanTrust"] = about.Factor && s.TrustFor > 0 && !stepUp
	// Where the step-up returns to, or the sign-in lands: a local path
	// only.
	p.Values["next"] = nextTarget(r)
	if stepUp && p.Values["next"] == "" {
		p.Values["next"] = "/account"
	}
	p.Data["TrustDays"] = int(s.TrustFor.Hours() / 24)
	p.Data["NewDevice"] = s.SignIn.MailboxCheck(st.attempt)
	if meth, ok := s.SignIn.Method(m); ok && about.Channel != "" {
		p.Data["Destination"] = masked(about.Channel, meth.Destination(a))
	}
	// A code by SMS or email is typed only once one was sent by that
	// channel; until then the page offers to send it.
	p.Data["Sent"] = about.Channel != "" && ch.Sends > 0 && ch.Channel == about.Channel
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
	p := s.verifyPage(r)
	s.passkeyStep(r, p)
	s.render(w, r, http.StatusOK, "signin_verify", p)
}

func (s *Server) verifySubmit(w http.ResponseWriter, r *http.Request) {
	p := s.verifyPage(r)
	m := signin.Method(p.Values["method"])
	about := s.SignIn.About(m)
	if about.Input == method.Assertion {
		s.verifyPasskey(w, r, p)
		return
	}
	c, ok := typedCode(r)
	if about.Input == method.Phrase {
		// A backup code is 16 characters; the backup package reads it
		// as typed (case, spaces, dashes, full-width).
		c, ok = field(r, "code")
		ok = ok && c != "" && len(c) <= 64
	}
	if !ok {
		key := "error.code_format"
		switch {
		case about.Input == method.Phrase:
			key = "error.backup_format"
		case about.Channel == "":
			key = "error.app_code_format" // six digits the holder's app shows
		}
		if p.Values["code"] == "" {
			key = "error.required"
		}
		s.formError(w, r, "signin_verify", p, form.Errors{"code": key})
		return
	}
	o, err := s.origin(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	st := state(r)
	res, err := s.SignIn.Verify(r.Context(), signin.VerifyRequest{
		ChallengeID: st.pending.ID, Method: m, Code: c, Origin: o, Previous: sessionToken(r),
		Trust: r.PostFormValue("trust") != "", Challenge: st.pending, Attempt: st.attempt,
		Account: st.step.Account, Accepts: st.step.Accepts,
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
		s.codeError(w, r, "signin_verify", p, st.pending, err)
		return
	}
	s.verified(w, r, p, res)
}

// verified answers a passed second step: back to where a step-up began,
// or into the account with the new session.
func (s *Server) verified(w http.ResponseWriter, r *http.Request, p *page, res *signin.Result) {
	if res.SteppedUp {
		http.Redirect(w, r, p.Values["next"], http.StatusSeeOther)
		return
	}
	s.setSessionCookie(w, res.Session)
	redirect(w, r, landing(p.Values["next"]), nil)
}

// passkeyStep begins the assertion the passkey step's page asks the
// browser for: one ceremony per page shown (each answer uses its own up),
// and only for a page that is shown — a post's answer is checked against
// the ceremony it names, not a new one.
func (s *Server) passkeyStep(r *http.Request, p *page) {
	if s.Passkeys == nil || s.SignIn.About(signin.Method(p.Values["method"])).Input != method.Assertion {
		return
	}
	a := state(r).step.Account
	if u := s.passkeyElsewhere(r); u != "" {
		p.Data["PasskeyElsewhere"] = u
		return
	}
	id, opts, err := s.Passkeys.BeginLogin(r.Context(), a.ID)
	if err != nil {
		// No usable passkey (removed or flagged meanwhile): the page
		// offers the other ways.
		s.logRefused(r, err)
		return
	}
	p.Values["pk"], p.Data["Options"], p.Data["PasskeyJS"] = id, passkeyOptions(opts), true
}

// verifyPasskey passes the second step with the passkey's answer.
func (s *Server) verifyPasskey(w http.ResponseWriter, r *http.Request, p *page) {
	o, err := s.origin(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	pk, _ := field(r, "pk")
	cred, _ := field(r, "credential")
	st := state(r)
	res, err := s.SignIn.Verify(r.Context(), signin.VerifyRequest{
		ChallengeID: st.pending.ID, Method: signin.Method(p.Values["method"]), Origin: o, Previous: sessionToken(r),
		Trust: r.PostFormValue("trust") != "", Challenge: st.pending, Attempt: st.attempt,
		Account: st.step.Account, Accepts: st.step.Accepts, Ceremony: pk, Assertion: []byte(cred),
	})
	switch {
	case errors.Is(err, code.ErrLocked), errors.Is(err, code.ErrExpired):
		redirect(w, r, "/signin", url.Values{"notice": {"signin_again"}})
		return
	case errors.Is(err, passkey.ErrCloned):
		p.Error = s.Catalog.T(p.Lang, "error.passkey_cloned")
	case errors.Is(err, signin.ErrPasskey):
		p.Error = s.Catalog.T(p.Lang, "error.passkey_refused")
	case errors.Is(err, signin.ErrDisabled):
		p.Error = s.Catalog.T(p.Lang, classify(r.Context(), err).key)
	case err != nil:
		s.passkeyStep(r, p)
		s.codeError(w, r, "signin_verify", p, st.pending, err)
		return
	default:
		s.verified(w, r, p, res)
		return
	}
	s.passkeyStep(r, p) // the page shown again: a new ceremony to try with
	s.showErrors(w, r, http.StatusUnprocessableEntity, "signin_verify", p)
}

// verifyResend sends a code by the page's method (SMS or email): the first
// one when the holder picked that way, or a new one after the cool-down.
func (s *Server) verifyResend(w http.ResponseWriter, r *http.Request) {
	p := s.verifyPage(r)
	m := signin.Method(p.Values["method"])
	o, err := s.origin(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	first := p.Data["Sent"] != true
	if err := s.SignIn.Send(r.Context(), state(r).pending.ID, m, o); err != nil {
		switch {
		case errors.Is(err, code.ErrNoMore):
			p.Error = s.Catalog.T(p.Lang, classify(r.Context(), err).key)
			s.showErrors(w, r, http.StatusTooManyRequests, "signin_verify", p)
		case errors.Is(err, signin.ErrMethod):
			s.fail(w, r, errUnknown)
		default:
			s.codeError(w, r, "signin_verify", p, state(r).pending, err)
		}
		return
	}
	n := "resent"
	if first {
		n = "sent"
	}
	q := url.Values{"c": {state(r).pending.ID}, "method": {string(m)}, "notice": {n}}
	if v := p.Values["next"]; v != "" {
		q.Set("next", v)
	}
	redirect(w, r, "/signin/verify", q)
}

// masked is a code's destination as the page shows it: enough for the
// holder to recognise, too little for anyone else to use.
func masked(ch request.Channel, to string) string {
	if ch == request.SMS {
		return phone.Mask(to)
	}
	return account.MaskEmail(to)
}
