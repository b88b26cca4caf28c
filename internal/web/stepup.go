package web

import (
	"errors"
	"net/http"
	"net/url"

	"gatehouse/internal/form"
	"gatehouse/internal/phone"
	"gatehouse/internal/signin"
)

// requireRecent is the gate of the recently-verified access level: a live
// session whose holder proved who they are within session.step_up_within;
// otherwise a short re-verification, then back to where they were.
func (s *Server) requireRecent(next http.HandlerFunc) http.HandlerFunc {
	return s.requireSession(pages, func(w http.ResponseWriter, r *http.Request) {
		if s.now().Sub(state(r).session.AuthenticatedAt) <= s.StepUpWithin {
			next(w, r)
			return
		}
		// Back to the page the form belongs to: a form post cannot be
		// replayed after the detour.
		back := r.URL.Path
		if p, ok := getPath[back]; ok {
			back = p
		}
		if r.Method == http.MethodPost {
			// The holder pressed a button: say, back on its page, that the
			// proof is done and the button is to be pressed again.
			back += "?notice=reverified_again"
		}
		redirect(w, r, "/account/reverify", url.Values{"next": {back}})
	})
}

func (s *Server) reverifyPage(r *http.Request) (*page, error) {
	st := state(r)
	p := s.newPage(r, "reverify.title")
	next := r.URL.Query().Get("next")
	if r.Method == http.MethodPost {
		next, _ = field(r, "next")
	}
	p.Values["next"] = LocalTarget(next, "/account")
	p.Data["Email"] = st.account.Email
	ways, err := s.TwoStep.Ways(r.Context(), st.account)
	if err != nil {
		return nil, err
	}
	p.Data["TwoStep"] = len(ways) > 0
	m := r.URL.Query().Get("method")
	if r.Method == http.MethodPost {
		m, _ = field(r, "method")
	}
	if len(ways) > 0 {
		accepts := s.SignIn.Accepts(&signin.Attempt{Kind: signin.StepUpKind, MethodOffered: ways[0]}, ways)
		if !signin.Accepted(accepts, signin.Method(m)) {
			m = string(ways[0])
		}
		var others []string
		for _, x := range accepts {
			if string(x) != m {
				others = append(others, string(x))
			}
		}
		p.Data["Others"] = others
	}
	p.Values["method"] = m
	// An app's code or a backup code is typed here with the password; a
	// code by SMS or email is sent once the password is right, and typed on
	// the second-step page.
	meth, known := s.SignIn.Method(signin.Method(m))
	p.Data["CodeHere"] = known && !signin.OwnPage(meth.About())
	if known && signin.OwnPage(meth.About()) {
		// What happens once the password is right: a code sent (to
		// where), or the passkey asked for.
		key := "reverify.then_" + m
		if ch := meth.About().Channel; ch != "" {
			p.Data["Then"] = s.Catalog.T(p.Lang, key, masked(ch, meth.Destination(st.account)))
		} else {
			p.Data["Then"] = s.Catalog.T(p.Lang, key)
		}
	}
	if r.Method == http.MethodPost {
		if v, ok := field(r, "code"); ok && len(v) <= 64 {
			p.Values["code"] = v
		}
	}
	return p, nil
}

func (s *Server) reverifyForm(w http.ResponseWriter, r *http.Request) {
	p, err := s.reverifyPage(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "reverify", p)
}

func (s *Server) reverifySubmit(w http.ResponseWriter, r *http.Request) {
	st := state(r)
	p, err := s.reverifyPage(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	pw := secret(r, "password")
	code, _ := field(r, "code")
	bad := form.Errors{}
	if pw == "" {
		bad["password"] = "error.required"
	}
	if p.Data["CodeHere"] == true && code == "" {
		bad["code"] = "error.required"
	}
	if len(bad) > 0 {
		s.formError(w, r, "reverify", p, bad)
		return
	}
	o, err := s.origin(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if c, ok := typedCode(r); ok {
		code = c // a six-digit app code typed with spaces or full-width digits
	}
	ch, err := s.SignIn.StepUp(r.Context(), signin.StepUpRequest{
		AccountID: st.account.ID, SessionID: st.session.ID, Password: pw, Method: signin.Method(p.Values["method"]),
		Code: code, Origin: o,
	}, s.Sessions)
	switch {
	case errors.Is(err, signin.ErrStepPending):
		// The password was right; the second step's own page takes the
		// code, then returns here.
		redirect(w, r, "/signin/verify", url.Values{"c": {ch.ID}, "method": {p.Values["method"]}, "next": {p.Values["next"]}})
		return
	case errors.Is(err, signin.ErrInvalid):
		s.formError(w, r, "reverify", p, form.Errors{"password": "error.current_password_wrong"})
		return
	case errors.Is(err, signin.ErrSecondStep):
		s.formError(w, r, "reverify", p, form.Errors{"code": "error.totp_wrong"})
		return
	case err != nil:
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, p.Values["next"], http.StatusSeeOther)
}

// appRemove removes an authenticator app (step-up first); removing the
// last one turns two-step verification off.
func (s *Server) appRemove(w http.ResponseWriter, r *http.Request) {
	st := state(r)
	id, _ := field(r, "app")
	o, err := s.origin(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	off, err := s.TwoStep.RemoveApp(r.Context(), st.account, id, o)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	notice := "app_removed"
	if off {
		notice = "two_step_off"
	}
	redirect(w, r, "/account/two-step", url.Values{"notice": {notice}})
}

// twoStepOffForm says what turning two-step verification off removes,
// method by method, before the holder confirms it (step-up first).
func (s *Server) twoStepOffForm(w http.ResponseWriter, r *http.Request) {
	st := state(r)
	m, err := s.TwoStep.Methods(r.Context(), st.account)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !m.On() {
		redirect(w, r, "/account/two-step", nil)
		return
	}
	p := s.newPage(r, "twostep.off_title")
	var keys, apps []string
	for _, k := range m.Passkeys {
		keys = append(keys, k.Name)
	}
	for _, a := range m.Apps {
		apps = append(apps, a.Name)
	}
	p.Data["Passkeys"], p.Data["Apps"], p.Data["BackupLeft"] = keys, apps, m.BackupLeft
	if m.Phone != "" {
		p.Data["Phone"] = phone.Mask(m.Phone)
	}
	s.notice(r, p)
	s.render(w, r, http.StatusOK, "two_step_off", p)
}

// twoStepOff turns two-step verification off (step-up first).
func (s *Server) twoStepOff(w http.ResponseWriter, r *http.Request) {
	o, err := s.origin(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.TwoStep.Off(r.Context(), state(r).account, o); err != nil {
		s.fail(w, r, err)
		return
	}
	redirect(w, r, "/account/two-step", url.Values{"notice": {"two_step_off"}})
}

// backupRenew makes a new set of backup codes (step-up first) and shows it
// once.
func (s *Server) backupRenew(w http.ResponseWriter, r *http.Request) {
	st := state(r)
	on, err := s.TwoStep.On(r.Context(), st.account)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !on {
		redirect(w, r, "/account/two-step", nil)
		return
	}
	o, err := s.origin(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	codes, err := s.TwoStep.NewBackupCodes(r.Context(), st.account, o)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "two_step_backup", s.backupPage(r, codes, true))
}
