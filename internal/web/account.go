package web

import (
	"net/http"
	"net/url"
)

func maskPhone(p string) string {
	if len(p) <= 2 {
		return p
	}
	return p[len(p)-2:]
}

func (s *Server) accountPage(w http.ResponseWriter, r *http.Request) {
	st := state(r)
	p := s.newPage(r, "account.title")
	s.notice(r, p)
	a, sess := st.account, st.session
	p.Data["Email"] = a.Email
	if a.Phone != "" {
		p.Data["Phone"] = s.Catalog.T(p.Lang, "account.phone_masked", maskPhone(a.Phone))
	}
	p.Data["Language"] = a.Language
	p.Data["PasswordChanged"] = a.PasswordChangedAt.Format("2006-01-02 15:04 UTC")
	browser, os := "", ""
	if dev, err := s.deviceOf(r); err == nil {
		browser, os = dev.Browser, dev.OS
	}
	p.Data["Session"] = s.Catalog.T(p.Lang, "account.session_detail",
		sess.CreatedAt.Format("2006-01-02 15:04 UTC"), browser, os, sess.ExpiresAt().Format("2006-01-02 15:04 UTC"))
	s.render(w, r, http.StatusOK, "account", p)
}

func (s *Server) passwordForm(w http.ResponseWriter, r *http.Request) {
	p := s.newPage(r, "password.title")
	p.Values["signout_others"] = "on"
	s.render(w, r, http.StatusOK, "password", p)
}

func (s *Server) passwordSubmit(w http.ResponseWriter, r *http.Request) {
	st := state(r)
	p := s.newPage(r, "password.title")
	others := r.PostFormValue("signout_others") != ""
	if others {
		p.Values["signout_others"] = "on"
	}
	o, err := s.origin(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	err = s.Accounts.ChangePassword(r.Context(), st.account.ID, secret(r, "current_password"), secret(r, "new_password"), o)
	if err != nil {
		s.formError(w, r, "password", p, err)
		return
	}
	if others {
		// End every session, then give this browser a fresh one: the
		// holder stays signed in here with a new token (ASVS v5.0.0-7.4.3).
		if err := s.Sessions.EndAll(r.Context(), st.account.ID); err != nil {
			s.fail(w, r, err)
			return
		}
		if err := s.startSession(w, r, st.account, o.DeviceID, st.session.Remember); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	redirect(w, r, "/account", url.Values{"notice": {"password_updated"}})
}
