package web

import (
	"net/http"
	"net/url"

	"gatehouse/internal/account"
	"gatehouse/internal/form"
	"gatehouse/internal/httpcore"
	"gatehouse/internal/method"
	"gatehouse/internal/phone"
	"gatehouse/internal/request"
	"gatehouse/internal/signin"
)

// askedMethod is the second-step method the request asks for (?method= or the
// form's method field), or the one the attempt offered.
func askedMethod(r *http.Request) signin.Method {
	v := r.URL.Query().Get("method")
	if r.Method == http.MethodPost {
		v, _ = httpcore.Field(r, "method")
	}
	m := signin.Method(v)
	if st := stepOf(r); m == "" || !signin.Accepted(st.Accepts, m) {
		m = st.Attempt.MethodOffered
	}
	return m
}

// verifyPage is the second-step page of the pending sign-in, for the
// method asked for: the app's code, a code by SMS or email (first a button
// that sends it, when none was sent by that channel yet), or a backup code,
// with "try another way" to the others the attempt accepts.
func (s *Server) verifyPage(r *http.Request) *page {
	ch, a := stepOf(r).Challenge, stepOf(r).Account
	m := askedMethod(r)
	p := s.newPage(r, "verify.title_"+string(m))
	p.Values["c"] = ch.ID
	p.Values["method"] = string(m)
	p.Data["Method"] = string(m)
	var others []string
	for _, x := range stepOf(r).Accepts {
		if x != m {
			others = append(others, string(x))
		}
	}
	p.Data["Others"] = others
	// Trusting the browser is offered for two-step sign-ins only: the
	// new-device check is passed once per browser anyway.
	stepUp := stepOf(r).Attempt.Kind == signin.StepUpKind
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
	p.Data["NewDevice"] = s.SignIn.MailboxCheck(stepOf(r).Attempt)
	if meth, ok := s.SignIn.Method(m); ok && about.Channel != "" {
		p.Data["Destination"] = masked(about.Channel, meth.Destination(a))
	}
	// A code by SMS or email is typed only once one was sent by that
	// channel; until then the page offers to send it.
	p.Data["Sent"] = about.Channel != "" && ch.Sends > 0 && ch.Channel == about.Channel
	p.Data["Minutes"] = int(s.Codes.Validity().Minutes())
	if r.Method == http.MethodPost {
		if v, ok := httpcore.Field(r, "code"); ok && len(v) <= 32 {
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
		c, ok = httpcore.Field(r, "code")
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
	o := httpcore.OriginOf(r)
	res, err := s.SignIn.Verify(r.Context(), signin.VerifyRequest{
		ChallengeID: stepOf(r).Challenge.ID, Method: m, Code: c, Origin: o, Previous: sessionToken(r),
		Trust: r.PostFormValue("trust") != "", Challenge: stepOf(r).Challenge, Attempt: stepOf(r).Attempt,
		Account: stepOf(r).Account, Accepts: stepOf(r).Accepts,
	})
	if err != nil {
		s.verifyError(w, r, p, err)
		return
	}
	s.verified(w, r, p, res)
}

// verifyError shows the second-step page again with what was wrong — or,
// when the attempt can no longer succeed (its code expired, or too many
// wrong answers locked it), sends the holder to sign in again: a new
// password check, a new code.
func (s *Server) verifyError(w http.ResponseWriter, r *http.Request, p *page, err error) {
	if f := httpcore.Classify(r.Context(), err); f.Ended {
		httpcore.Redirect(w, r, "/signin", url.Values{"notice": {"signin_again"}})
		return
	}
	s.formError(w, r, "signin_verify", p, err)
}

// verified answers a passed second step: back to where a step-up began,
// or into the account with the new session.
func (s *Server) verified(w http.ResponseWriter, r *http.Request, p *page, res *signin.Result) {
	if res.SteppedUp {
		http.Redirect(w, r, p.Values["next"], http.StatusSeeOther)
		return
	}
	s.setSessionCookie(w, res.Session)
	httpcore.Redirect(w, r, landing(p.Values["next"]), nil)
}

// passkeyStep begins the assertion the passkey step's page asks the
// browser for: one ceremony per page shown (each answer uses its own up),
// and only for a page that is shown — a post's answer is checked against
// the ceremony it names, not a new one.
func (s *Server) passkeyStep(r *http.Request, p *page) {
	if s.Passkeys == nil || s.SignIn.About(signin.Method(p.Values["method"])).Input != method.Assertion {
		return
	}
	a := stepOf(r).Account
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
	o := httpcore.OriginOf(r)
	pk, _ := httpcore.Field(r, "pk")
	cred, _ := httpcore.Field(r, "credential")
	res, err := s.SignIn.Verify(r.Context(), signin.VerifyRequest{
		ChallengeID: stepOf(r).Challenge.ID, Method: signin.Method(p.Values["method"]), Origin: o, Previous: sessionToken(r),
		Trust: r.PostFormValue("trust") != "", Challenge: stepOf(r).Challenge, Attempt: stepOf(r).Attempt,
		Account: stepOf(r).Account, Accepts: stepOf(r).Accepts, Ceremony: pk, Assertion: []byte(cred),
	})
	if err != nil {
		s.passkeyStep(r, p) // the page shown again: a new ceremony to try with
		s.verifyError(w, r, p, err)
		return
	}
	s.verified(w, r, p, res)
}

// verifyResend sends a code by the page's method (SMS or email): the first
// one when the holder picked that way, or a new one after the cool-down.
func (s *Server) verifyResend(w http.ResponseWriter, r *http.Request) {
	p := s.verifyPage(r)
	m := signin.Method(p.Values["method"])
	o := httpcore.OriginOf(r)
	first := p.Data["Sent"] != true
	if err := s.SignIn.Send(r.Context(), stepOf(r).Challenge.ID, m, o); err != nil {
		s.formError(w, r, "signin_verify", p, err)
		return
	}
	n := "resent"
	if first {
		n = "sent"
	}
	q := url.Values{"c": {stepOf(r).Challenge.ID}, "method": {string(m)}, "notice": {n}}
	if v := p.Values["next"]; v != "" {
		q.Set("next", v)
	}
	httpcore.Redirect(w, r, "/signin/verify", q)
}

// masked is a code's destination as the page shows it: enough for the
// holder to recognise, too little for anyone else to use.
func masked(ch request.Channel, to string) string {
	if ch == request.SMS {
		return phone.Mask(to)
	}
	return account.MaskEmail(to)
}
