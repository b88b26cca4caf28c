package web

import (
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strings"

	"gatehouse/internal/account"
	"gatehouse/internal/httpcore"
	"gatehouse/internal/signin"
)

// Passkeys need a script (the browser's WebAuthn API has no form); every
// other page works without one. A passkey form carries the options of the
// ceremony the server began, verbatim, in a <script type=
// "application/json">, and the browser's answer comes back in its hidden
// "credential" field as an ordinary form post — so the CSRF protection of
// the pages chain covers it like any other form.

// passkeyOptions marks JSON the passkey service produced as safe to put
// inside a <script type="application/json">: encoding/json escapes <, >
// and &, so it cannot close the element.
func passkeyOptions(b []byte) json.RawMessage { return json.RawMessage(b) }

// passkeyForm begins a registration and shows the page that asks the
// browser for a new passkey.
func (s *Server) passkeyForm(w http.ResponseWriter, r *http.Request) {
	if s.resetWaitFirst(w, r) {
		return
	}
	p, err := s.passkeyPage(r)
	if err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "two_step_passkey", p)
}

func (s *Server) passkeyPage(r *http.Request) (*page, error) {
	st := state(r)
	p := s.newPage(r, "twostep.passkey_title")
	if p.Values["name"] == "" {
		p.Values["name"] = s.Catalog.T(p.Lang, "twostep.passkey_default_name")
	}
	if s.Passkeys == nil {
		p.Data["Unavailable"] = s.passkeyUnavailable(p.Lang)
		return p, nil
	}
	if u := s.passkeyElsewhere(r); u != "" {
		p.Data["Unavailable"] = s.Catalog.T(p.Lang, "twostep.passkey_here", u)
		return p, nil
	}
	id, opts, err := s.Passkeys.BeginRegistration(r.Context(), st.Account.ID, st.Account.Email, account.DisplayEmail(st.Account.Email))
	if err != nil {
		return nil, err
	}
	p.Values["e"] = id
	p.Data["Options"], p.Data["PasskeyJS"] = passkeyOptions(opts), true
	return p, nil
}

// passkeyElsewhere is the address passkeys work at on this machine when
// the browser is not there (it asked for 127.0.0.1, the RP is localhost),
// or "".
func (s *Server) passkeyElsewhere(r *http.Request) string {
	if s.PasskeyLocalURL == "" {
		return ""
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if strings.EqualFold(host, "localhost") {
		return ""
	}
	return s.PasskeyLocalURL
}

// passkeyUnavailable says why this installation cannot hold passkeys:
// browsers offer them only to a domain name over https, or localhost.
func (s *Server) passkeyUnavailable(lang string) string {
	if s.PasskeyLocalURL != "" {
		return s.Catalog.T(lang, "twostep.passkey_use_localhost", s.PasskeyLocalURL)
	}
	return s.Catalog.T(lang, "twostep.passkey_unavailable")
}

// passkeySubmit stores the passkey the browser made. The first method
// turns two-step verification on and shows the backup codes once.
func (s *Server) passkeySubmit(w http.ResponseWriter, r *http.Request) {
	st := state(r)
	if s.resetWaitFirst(w, r) {
		return
	}
	e, _ := httpcore.Field(r, "e")
	name, _ := httpcore.Field(r, "name")
	cred, _ := httpcore.Field(r, "credential")
	if name == "" {
		name = s.Catalog.T(st.Lang, "twostep.passkey_default_name")
	}
	o := httpcore.OriginOf(r)
	_, res, err := s.TwoStep.ConfirmPasskey(r.Context(), st.Account, e, name, []byte(cred), o)
	if err != nil {
		// A bad name beside its field; a refused or duplicate passkey on
		// the page again, with a new ceremony (the one just answered is
		// used up); anything else as the error mapper says.
		f := httpcore.Classify(r.Context(), err)
		if f.Status != http.StatusUnprocessableEntity && f.Status != http.StatusConflict {
			httpcore.Fail(w, r, err)
			return
		}
		if f.Key == "error.passkey_refused" {
			s.logRefused(r, err)
		}
		p, perr := s.passkeyPage(r)
		if perr != nil {
			httpcore.Fail(w, r, perr)
			return
		}
		p.Values["name"] = name
		if f.Field != "" {
			s.formError(w, r, "two_step_passkey", p, err)
			return
		}
		p.Error = s.Catalog.T(p.Lang, f.Key)
		s.showErrors(w, r, f.Status, "two_step_passkey", p)
		return
	}
	if !res.TurnedOn {
		httpcore.Redirect(w, r, "/account/two-step", url.Values{"notice": {"passkey_added"}})
		return
	}
	s.render(w, r, http.StatusOK, "two_step_backup", s.backupPage(r, res.BackupCodes, false))
}

// logRefused logs why a passkey answer was refused: the holder sees one
// plain message, the operator the library's reason.
func (s *Server) logRefused(r *http.Request, err error) {
	if s.Log != nil {
		s.Log.WarnContext(r.Context(), "passkey refused", "err", err)
	}
}

// passkeyRemove removes a passkey (step-up first); removing the last
// method turns two-step verification off.
func (s *Server) passkeyRemove(w http.ResponseWriter, r *http.Request) {
	id, _ := httpcore.Field(r, "passkey")
	o := httpcore.OriginOf(r)
	off, err := s.TwoStep.RemovePasskey(r.Context(), state(r).Account, id, o)
	if err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	n := "passkey_removed"
	if off {
		n = "two_step_off"
	}
	httpcore.Redirect(w, r, "/account/two-step", url.Values{"notice": {n}})
}

// passkeySignInOptions begins a sign-in by a passkey alone, for the
// sign-in page's script: the ceremony's id and its options. It is asked
// for by the script (not written into the page) so that a view of the
// sign-in page writes nothing.
func (s *Server) passkeySignInOptions(w http.ResponseWriter, r *http.Request) {
	if s.Passkeys == nil {
		httpcore.Answer(w, r, http.StatusNotFound, "error.passkey_unavailable")
		return
	}
	// Anyone may ask, and each ceremony is a row: limited per network
	// (the probe's W10).
	o := httpcore.OriginOf(r)
	if err := s.Limits.Anonymous(r.Context(), o); err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	id, opts, err := s.Passkeys.BeginDiscoverable(r.Context())
	if err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(struct {
		Ceremony string          `json:"ceremony"`
		Options  json.RawMessage `json:"options"`
	}{id, opts})
}

// passkeySignIn signs in with a passkey alone (the sign-in page's passkey
// form): no password and no second step, since the passkey is both and
// cannot be relayed by a phishing site.
func (s *Server) passkeySignIn(w http.ResponseWriter, r *http.Request) {
	pk, _ := httpcore.Field(r, "pk")
	cred, _ := httpcore.Field(r, "credential")
	o := httpcore.OriginOf(r)
	res, err := s.SignIn.SignInPasskey(r.Context(), signin.PasskeyRequest{
		Ceremony: pk, Response: []byte(cred), Remember: r.PostFormValue("remember") != "", Previous: sessionToken(r), Origin: o,
	})
	if err != nil {
		p := s.signinPage(r)
		// After a refusal the page does not start the browser's autofill
		// offer again by itself (a browser that answers it at once would
		// go round in circles): the button asks anew.
		p.Data["PasskeyRetry"] = true
		s.formError(w, r, "signin", p, err)
		return
	}
	s.setSessionCookie(w, res.Session)
	httpcore.Redirect(w, r, landing(nextTarget(r)), nil)
}
