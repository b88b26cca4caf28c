package web

import (
	"net/http"
	"net/url"

	"gatehouse/internal/account"
	"gatehouse/internal/httpcore"
	"gatehouse/internal/phone"
)

// todo is one item of the security checkup: what is wrong, and the button
// (a link, or a form posting to Action with Field=Value) that fixes it.
type todo struct {
	ID, Text, Do, Link, Action, Field, Value string
	// NotMe, when set, is an attempt the to-do also answers "this wasn't
	// me" about, with one press where it is listed.
	NotMe string
}

// securityPage is the security checkup: to-dos from the account's state,
// most important first, the address and phone to confirm, and the alert
// settings.
func (s *Server) securityPage(w http.ResponseWriter, r *http.Request) {
	p := s.newPage(r, "security.title")
	s.notice(r, p)
	if err := s.fillSecurity(r, p); err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "security", p)
}

func (s *Server) fillSecurity(r *http.Request, p *page) error {
	st := state(r)
	ctx := r.Context()
	a := st.Account
	t := s.Catalog.T
	items, err := s.Checkup.Items(ctx, a, st.Session.DeviceID)
	if err != nil {
		return err
	}
	todos := make([]todo, 0, len(items))
	for _, it := range items {
		var args []any
		switch it.ID {
		case "guessed":
			args = []any{it.Count, t(p.Lang, "secret."+string(it.Secret))}
			p.Data["Guessed"] = true
		case "password_entered", "unknown_devices", "few_backup", "stale_trust":
			args = []any{it.Count}
		}
		do := t(p.Lang, "security.do."+it.ID)
		if it.ID == "password_entered" {
			do = t(p.Lang, "security.do.password_entered_change")
		}
		todos = append(todos, todo{ID: it.ID, Text: t(p.Lang, "security.todo."+it.ID, args...), Do: do, Link: it.Link,
			Action: it.Action, Field: it.Field, Value: it.Value, NotMe: it.NotMe})
	}
	p.Data["Todos"] = todos
	p.Data["Email"] = account.MaskEmail(a.Email)
	switch {
	case a.Phone == "":
		p.Data["Phone"] = t(p.Lang, "security.phone_none")
	case a.PhoneConfirmedAt.IsZero():
		p.Data["Phone"] = t(p.Lang, "security.phone_unconfirmed", phone.Mask(a.Phone))
	default:
		p.Data["Phone"] = t(p.Lang, "account.phone_masked", phone.Mask(a.Phone))
	}
	p.Data["AlertEmail"], p.Data["AlertSMS"] = a.Alerts.Email, a.Alerts.SMS
	p.Data["PhoneConfirmed"] = a.Phone != "" && !a.PhoneConfirmedAt.IsZero()
	p.Data["HasPhone"] = a.Phone != ""
	return nil
}

// alertsSubmit sets the channels of the new-device alert. The checkup's
// button posts email=1 alone, which turns email on and keeps SMS as it is.
func (s *Server) alertsSubmit(w http.ResponseWriter, r *http.Request) {
	st := state(r)
	a := st.Account
	want := account.Alerts{Email: r.PostFormValue("email") == "1", SMS: r.PostFormValue("sms") == "1"}
	if r.PostFormValue("form") != "alerts" {
		want.SMS = a.Alerts.SMS || want.SMS
	}
	if want.SMS && (a.Phone == "" || a.PhoneConfirmedAt.IsZero()) {
		p := s.newPage(r, "security.title")
		if err := s.fillSecurity(r, p); err != nil {
			httpcore.Fail(w, r, err)
			return
		}
		p.Errors["sms"] = s.Catalog.T(p.Lang, "error.alert_sms_phone")
		s.showErrors(w, r, http.StatusUnprocessableEntity, "security", p)
		return
	}
	o := httpcore.OriginOf(r)
	if err := s.Accounts.SetAlerts(r.Context(), a.ID, want, o); err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	httpcore.Redirect(w, r, "/account/security", url.Values{"notice": {"alerts_saved"}})
}
