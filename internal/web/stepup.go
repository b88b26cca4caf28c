package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"gatehouse/internal/form"
	"gatehouse/internal/httpcore"
	"gatehouse/internal/phone"
	"gatehouse/internal/request"
	"gatehouse/internal/signin"
)

// continuingApp is the connected application whose request the holder is
// in the middle of: next is the OpenID provider's hand-off
// (OIDCContinuePath?id=…) for a request that is neither expired nor
// answered, and — given deviceID, the browser's — one this browser
// brought. The application is never read from the address by itself: a
// link naming any registered client would otherwise make it the cause of
// the code a re-verification sends, and "this wasn't me" disconnect it.
// Without such a request the step-up is the holder's own.
func (s *Server) continuingApp(ctx context.Context, next, deviceID string, now time.Time) request.App {
	rest, ok := strings.CutPrefix(next, OIDCContinuePath+"?")
	if !ok || s.Apps == nil || s.Apps.Store == nil || s.Apps.Clients == nil {
		return request.App{}
	}
	q, err := url.ParseQuery(rest)
	id := q.Get("id")
	if err != nil || id == "" || len(id) > 256 {
		return request.App{}
	}
	req, err := s.Apps.Store.AuthRequest(ctx, id, now)
	if err != nil || !req.DoneAt.IsZero() || (deviceID != "" && req.DeviceID != deviceID) {
		return request.App{}
	}
	c, err := s.Apps.Clients.ClientByID(ctx, req.ClientID)
	if err != nil || c == nil || c.Name == "" {
		return request.App{}
	}
	return request.App{ID: c.ID, Name: c.Name}
}

func (s *Server) reverifyPage(r *http.Request) (*page, error) {
	st := state(r)
	p := s.newPage(r, "reverify.title")
	s.notice(r, p) // why the holder is asked (the console's detour says so)
	next := r.URL.Query().Get("next")
	if r.Method == http.MethodPost {
		next, _ = httpcore.Field(r, "next")
	}
	p.Values["next"] = httpcore.LocalTarget(next, "/account")
	if app := s.continuingApp(r.Context(), p.Values["next"], st.Session.DeviceID, httpcore.Now(r)); app.ID != "" {
		p.Data["App"] = s.Catalog.T(p.Lang, "reverify.app", app.Name)
	}
	p.Data["Email"] = st.Account.Email
	ways, err := s.TwoStep.Ways(r.Context(), st.Account)
	if err != nil {
		return nil, err
	}
	// Back to the operator console: only the methods that open it
	// (ConsoleMethods), and the operator's words, not the holder's.
	// Only for an operator: to anyone else a next of /console/… is any
	// page (which will be the unknown page's 404), and this page says
	// nothing of a console.
	console := (p.Values["next"] == "/console" || strings.HasPrefix(p.Values["next"], "/console/")) && s.isOperator(r.Context(), st.Account.ID)
	notForConsole := func(m signin.Method) bool { return console && !slices.Contains(ConsoleMethods, m) }
	ways = slices.DeleteFunc(ways, notForConsole)
	p.Data["ForConsole"] = console
	if !console && r.URL.Query().Get("notice") == "console_fresh" {
		p.Notice = "" // nor does its notice
	}
	p.Data["TwoStep"] = len(ways) > 0
	m := r.URL.Query().Get("method")
	if r.Method == http.MethodPost {
		m, _ = httpcore.Field(r, "method")
	}
	if len(ways) > 0 {
		accepts := slices.DeleteFunc(s.SignIn.Accepts(&signin.Attempt{Kind: signin.StepUpKind, MethodOffered: ways[0]}, ways), notForConsole)
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
			p.Data["Then"] = s.Catalog.T(p.Lang, key, masked(ch, meth.Destination(st.Account)))
		} else {
			p.Data["Then"] = s.Catalog.T(p.Lang, key)
		}
	}
	if r.Method == http.MethodPost {
		if v, ok := httpcore.Field(r, "code"); ok && len(v) <= 64 {
			p.Values["code"] = v
		}
	}
	return p, nil
}

func (s *Server) reverifyForm(w http.ResponseWriter, r *http.Request) {
	p, err := s.reverifyPage(r)
	if err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "reverify", p)
}

func (s *Server) reverifySubmit(w http.ResponseWriter, r *http.Request) {
	st := state(r)
	p, err := s.reverifyPage(r)
	if err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	pw := httpcore.Secret(r, "password")
	code, _ := httpcore.Field(r, "code")
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
	o := httpcore.OriginOf(r)
	if c, ok := typedCode(r); ok {
		code = c // a six-digit app code typed with spaces or full-width digits
	}
	ch, err := s.SignIn.StepUp(r.Context(), signin.StepUpRequest{
		AccountID: st.Account.ID, SessionID: st.Session.ID, Password: pw, Method: signin.Method(p.Values["method"]),
		Code: code, Origin: o, App: s.continuingApp(r.Context(), p.Values["next"], st.Session.DeviceID, httpcore.Now(r)),
	}, s.Sessions)
	if err != nil {
		s.formError(w, r, "reverify", p, err)
		return
	}
	if ch != nil {
		// The password was right; the second step's own page takes the
		// code, then returns here.
		httpcore.Redirect(w, r, "/signin/verify", url.Values{"c": {ch.ID}, "method": {p.Values["method"]}, "next": {p.Values["next"]}})
		return
	}
	http.Redirect(w, r, p.Values["next"], http.StatusSeeOther)
}

// appRemove removes an authenticator app (step-up first); removing the
// last one turns two-step verification off.
func (s *Server) appRemove(w http.ResponseWriter, r *http.Request) {
	st := state(r)
	id, _ := httpcore.Field(r, "app")
	o := httpcore.OriginOf(r)
	off, err := s.TwoStep.RemoveApp(r.Context(), st.Account, id, o)
	if err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	notice := "app_removed"
	if off {
		notice = "two_step_off"
	}
	httpcore.Redirect(w, r, "/account/two-step", url.Values{"notice": {notice}})
}

// twoStepOffForm says what turning two-step verification off removes,
// method by method, before the holder confirms it (step-up first).
func (s *Server) twoStepOffForm(w http.ResponseWriter, r *http.Request) {
	st := state(r)
	m, err := s.TwoStep.Methods(r.Context(), st.Account)
	if err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	if !m.On() {
		httpcore.Redirect(w, r, "/account/two-step", nil)
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
	o := httpcore.OriginOf(r)
	if err := s.TwoStep.Off(r.Context(), state(r).Account, o); err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	httpcore.Redirect(w, r, "/account/two-step", url.Values{"notice": {"two_step_off"}})
}

// backupRenew makes a new set of backup codes (step-up first) and shows it
// once.
func (s *Server) backupRenew(w http.ResponseWriter, r *http.Request) {
	st := state(r)
	on, err := s.TwoStep.On(r.Context(), st.Account)
	if err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	if !on {
		httpcore.Redirect(w, r, "/account/two-step", nil)
		return
	}
	o := httpcore.OriginOf(r)
	codes, err := s.TwoStep.NewBackupCodes(r.Context(), st.Account, o)
	if err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "two_step_backup", s.backupPage(r, codes, true))
}

// isOperator reports whether the account has an operator's role (weak
// second step or not): the console's re-verification speaks to it.
func (s *Server) isOperator(ctx context.Context, accountID string) bool {
	if s.Console == nil || s.Console.Operators == nil {
		return false
	}
	_, err := s.Console.Operators.Store.OperatorByAccount(ctx, accountID)
	return err == nil
}
