package web

import (
	"gatehouse/internal/httpcore"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"gatehouse/internal/account"
	"gatehouse/internal/activity"
	"gatehouse/internal/device"
	"gatehouse/internal/phone"
	"gatehouse/internal/request"
	"gatehouse/internal/signin"
)

// attemptsPerPage is how many attempts the activity page shows at once.
const attemptsPerPage = 25

// attemptRow is one row of the activity page.
type attemptRow struct {
	ID, When, What, Device, Network, Place, Outcome, Cause, Method string
	Failed, ThisSession, Answered                                  bool
	// ThisDevice: the browser the holder is reading on; NewDevice: the
	// attempt was the device's first with this account (or it never got
	// further) — the two marks that answer "was this me?" at a glance.
	ThisDevice, NewDevice bool
}

// activityPage is the sign-in activity: every attempt of the last 90
// days, newest first, ?failed=1 for failures only, ?before= for older
// ones, with "this wasn't me" on each.
func (s *Server) activityPage(w http.ResponseWriter, r *http.Request) {
	st := state(r)
	p := s.newPage(r, "activity.title")
	s.notice(r, p)
	q := signin.AttemptQuery{Limit: attemptsPerPage + 1, FailedOnly: r.URL.Query().Get("failed") == "1"}
	if b := r.URL.Query().Get("before"); b != "" {
		at, ok := parseCursor(b)
		if !ok {
			httpcore.Fail(w, r, httpcore.ErrUnknown)
			return
		}
		q.Before, q.BeforeID = at.t, at.id
		p.Data["Paged"] = true
	}
	list, err := s.Activity.Activity(r.Context(), st.Account.ID, q)
	if err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	base := url.Values{}
	if q.FailedOnly {
		base.Set("failed", "1")
		p.Data["FailedOnly"] = true
	}
	if len(list) > attemptsPerPage {
		last := list[attemptsPerPage-1]
		v := url.Values{"before": {cursor(last.Origin.Time, last.ID)}}
		if q.FailedOnly {
			v.Set("failed", "1")
		}
		p.Data["Older"] = "/account/activity?" + v.Encode()
		list = list[:attemptsPerPage]
	}
	if len(base) > 0 {
		p.Data["Newest"] = "/account/activity?" + base.Encode()
	} else {
		p.Data["Newest"] = "/account/activity"
	}
	disowned, err := s.Activity.Disowned(r.Context(), st.Account.ID)
	if err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	devs, err := s.Devices.List(r.Context(), st.Account.ID)
	if err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	known := make(map[string]*device.AccountDevice, len(devs))
	for i := range devs {
		known[devs[i].ID] = &devs[i]
	}
	rows := make([]attemptRow, 0, len(list))
	for _, at := range list {
		row := s.attemptRow(r, p.Lang, at, known)
		row.Answered = disowned[at.ID]
		rows = append(rows, row)
	}
	p.Data["Attempts"] = rows
	s.render(w, r, http.StatusOK, "activity", p)
}

// cursor and parseCursor write and read a page position: a time in
// microseconds and the id of the last row shown.
func cursor(t time.Time, id string) string { return strconv.FormatInt(t.UnixMicro(), 10) + "." + id }

type position struct {
	t  time.Time
	id string
}

func parseCursor(b string) (position, bool) {
	at, id, ok := strings.Cut(b, ".")
	us, err := strconv.ParseInt(at, 10, 64)
	if !ok || err != nil || us <= 0 || len(id) > 64 {
		return position{}, false
	}
	return position{time.UnixMicro(us).UTC(), id}, true
}

func (s *Server) attemptRow(r *http.Request, lang string, at *signin.Attempt, known map[string]*device.AccountDevice) attemptRow {
	t := s.Catalog.T
	browser, os := s.Devices.UserAgents.Parse(at.Origin.UserAgent)
	row := attemptRow{
		ID: at.ID, When: s.when(r, at.Origin.Time), What: t(lang, "activity.kind."+string(at.Kind)),
		Device: t(lang, "devices.unnamed", browser, os), Network: t(lang, "activity.network_detail", at.Origin.IP),
		Place:   s.place(lang, at.Origin.IP), // left out when unknown
		Outcome: t(lang, "activity.outcome."+string(at.Outcome)),
		Failed:  at.Outcome != signin.Succeeded && at.Outcome != signin.Pending,
	}
	st := state(r)
	if st.Session != nil {
		row.ThisSession = at.SessionID == st.Session.ID
		row.ThisDevice = at.Origin.DeviceID != "" && at.Origin.DeviceID == st.Session.DeviceID
	}
	d := known[at.Origin.DeviceID]
	switch {
	case d == nil:
		row.NewDevice = !row.ThisDevice
	case d.Name != "":
		row.Device = d.Name
		fallthrough
	default:
		// Its first sign-in: the device was first used at (or just after)
		// this attempt.
		row.NewDevice = !d.FirstUsed.Before(at.Origin.Time) && d.FirstUsed.Sub(at.Origin.Time) < time.Hour
	}
	if at.MethodUsed != "" {
		row.Method = t(lang, "activity.method."+string(at.MethodUsed))
	}
	// "Why a code was sent" only where one was: an app's or a passkey's
	// sign-in sends none.
	sent := at.MethodUsed
	if sent == "" {
		sent = at.MethodOffered
	}
	if at.Cause != "" && (sent == signin.Email || sent == signin.SMS) {
		cause := "cause." + string(at.Cause)
		if at.Cause == request.OldDevice && row.ThisDevice {
			cause = "cause.old_device_this"
		}
		row.Cause = t(lang, cause)
	}
	return row
}

// activityAnswer is "this wasn't me" on an attempt of the activity page.
func (s *Server) activityAnswer(w http.ResponseWriter, r *http.Request) {
	st := state(r)
	o := httpcore.OriginOf(r)
	a, err := s.Activity.AnswerAttempt(r.Context(), st.Account.ID, r.PostFormValue("attempt"), activity.Said(r.PostFormValue("answer")), o)
	s.answered(w, r, a, err, answeredBack(r, "/account/activity"))
}

// deviceView is one device of the devices page.
type deviceView struct {
	ID, Name, Label, Browser, First, Last, Place, Trust string
	This, Trusted                                       bool
	Sessions                                            []sessionView
}

type sessionView struct {
	ID, Detail string
	Current    bool
}

// devicesPage lists the account's devices with their sessions.
func (s *Server) devicesPage(w http.ResponseWriter, r *http.Request) {
	p := s.newPage(r, "devices.title")
	s.notice(r, p)
	if err := s.fillDevices(r, p); err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "devices", p)
}

func (s *Server) fillDevices(r *http.Request, p *page) error {
	st := state(r)
	ctx := r.Context()
	devs, err := s.Devices.List(ctx, st.Account.ID)
	if err != nil {
		return err
	}
	sessions, err := s.Sessions.List(ctx, st.Account.ID)
	if err != nil {
		return err
	}
	t := s.Catalog.T
	now := s.now()
	views := make([]deviceView, 0, len(devs))
	for _, d := range devs {
		v := deviceView{ID: d.ID, Name: d.Name, Browser: t(p.Lang, "devices.unnamed", d.Browser, d.OS),
			First: s.when(r, d.FirstUsed), Last: s.when(r, d.LastUsed), Place: s.place(p.Lang, d.IP),
			This: d.ID == st.Session.DeviceID}
		v.Label = v.Name
		if v.Label == "" {
			v.Label = v.Browser
		}
		if now.Before(d.TrustedUntil) {
			v.Trusted, v.Trust = true, t(p.Lang, "devices.trusted", s.when(r, d.TrustedUntil))
		} else {
			v.Trust = t(p.Lang, "devices.not_trusted")
		}
		for _, se := range sessions {
			if se.DeviceID != d.ID {
				continue
			}
			v.Sessions = append(v.Sessions, sessionView{ID: se.ID, Current: se.ID == st.Session.ID,
				Detail: t(p.Lang, "devices.session", s.when(r, se.CreatedAt), s.when(r, se.LastSeenAt), se.IP)})
		}
		views = append(views, v)
	}
	others := 0
	for _, se := range sessions {
		if se.ID != st.Session.ID {
			others++
		}
	}
	p.Data["OtherSessions"] = others
	// This device first: it is the one the holder knows.
	sort.SliceStable(views, func(i, j int) bool { return views[i].This && !views[j].This })
	p.Data["Devices"] = views
	return nil
}

// deviceRename names one of the account's devices.
func (s *Server) deviceRename(w http.ResponseWriter, r *http.Request) {
	st := state(r)
	name, ok := httpcore.Field(r, "name")
	id := r.PostFormValue("device")
	err := device.ErrName
	if ok {
		err = s.Devices.Rename(r.Context(), st.Account.ID, id, name)
	}
	if err != nil {
		p := s.newPage(r, "devices.title")
		if ferr := s.fillDevices(r, p); ferr != nil {
			httpcore.Fail(w, r, ferr)
			return
		}
		p.Values["name"] = name
		p.Data["RenameError"] = id
		s.formError(w, r, "devices", p, err)
		return
	}
	done := "renamed"
	if name == "" {
		done = "name_removed"
	}
	httpcore.Redirect(w, r, "/account/devices", url.Values{"notice": {done}})
}

// deviceSignout signs out every session of one device.
func (s *Server) deviceSignout(w http.ResponseWriter, r *http.Request) {
	st := state(r)
	id := r.PostFormValue("device")
	if id == "" {
		httpcore.Fail(w, r, httpcore.ErrUnknown)
		return
	}
	if err := s.Sessions.EndDevice(r.Context(), st.Account.ID, id); err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	if id == st.Session.DeviceID {
		httpcore.SetCookie(w, httpcore.SessionCookie, "", time.Time{}, -1)
		httpcore.Redirect(w, r, "/signin", url.Values{"notice": {"signed_out"}})
		return
	}
	httpcore.Redirect(w, r, "/account/devices", url.Values{"notice": {"device_signed_out"}})
}

// sessionSignout signs out one session.
func (s *Server) sessionSignout(w http.ResponseWriter, r *http.Request) {
	st := state(r)
	id := r.PostFormValue("session")
	ok, err := s.Sessions.EndOne(r.Context(), st.Account.ID, id)
	if err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	if !ok {
		httpcore.Fail(w, r, httpcore.ErrUnknown)
		return
	}
	if id == st.Session.ID {
		httpcore.SetCookie(w, httpcore.SessionCookie, "", time.Time{}, -1)
		httpcore.Redirect(w, r, "/signin", url.Values{"notice": {"signed_out"}})
		return
	}
	httpcore.Redirect(w, r, "/account/devices", url.Values{"notice": {"device_signed_out"}})
}

// signoutOthers is "sign out everywhere except here".
func (s *Server) signoutOthers(w http.ResponseWriter, r *http.Request) {
	st := state(r)
	if err := s.Sessions.EndOthers(r.Context(), st.Account.ID, st.Session.ID); err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	httpcore.Redirect(w, r, "/account/devices", url.Values{"notice": {"signed_out_others"}})
}

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
