package web

import (
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"gatehouse/internal/account"
	"gatehouse/internal/activity"
	"gatehouse/internal/device"
	"gatehouse/internal/httpcore"
	"gatehouse/internal/i18n"
)

func maskPhone(p string) string { return account.PhoneEnding(p) }

// zoneOption is one choice of the time-zone select.
type zoneOption struct{ ID, Name string }

// zoneOptionsHTML draws the time-zone select's options as account.html
// did before they were drawn once per language and choice.
var zoneOptionsHTML = template.Must(template.New("zones").Parse(
	`{{range .Zones}}<option value="{{.ID}}"{{if eq .ID $.Selected}} selected{{end}}>{{.Name}}</option>{{end}}`))

// zoneOptionsFor returns the time-zone select's options in lang with
// selected chosen. They are the same on every view, and drawing 21 options
// action by action on each one cost the account page more than the rest of
// its template; so each language and known choice is drawn once.
func (s *Server) zoneOptionsFor(lang, selected string) template.HTML {
	key := lang + "\x00" + selected
	if v, ok := s.zoneOptions.Load(key); ok {
		return v.(template.HTML)
	}
	zones := make([]zoneOption, 0, len(i18n.Zones))
	for _, z := range i18n.Zones {
		zones = append(zones, zoneOption{z.ID, i18n.ZoneName(lang, z.ID)})
	}
	var b strings.Builder
	if err := zoneOptionsHTML.Execute(&b, struct {
		Zones    []zoneOption
		Selected string
	}{zones, selected}); err != nil {
		panic(err) // a constant template over constant data
	}
	out := template.HTML(b.String())
	if selected == "" || i18n.KnownZone(selected) {
		// Bounded: the languages times the zones offered.
		s.zoneOptions.Store(key, out)
	}
	return out
}

// when writes t for the reader of this page: in the signed-in holder's time
// zone, or the default zone of the page's language.
func (s *Server) when(r *http.Request, t time.Time) string {
	st := state(r)
	// A holder who chose no zone has their messages' language's default,
	// whichever language this page is in: the same times everywhere.
	zoneLang, tz := st.Lang, ""
	if st.Account != nil {
		zoneLang, tz = st.Account.Language, st.Account.TimeZone
	}
	return s.Catalog.Time(st.Lang, t, s.Catalog.Zone(zoneLang, tz))
}

func (s *Server) accountPage(w http.ResponseWriter, r *http.Request) {
	p := s.newPage(r, "account.title")
	s.notice(r, p)
	f := s.accountFacts(r)
	if err := s.fillWaiting(r, p, f); err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	s.fillAccount(r, p, f)
	s.render(w, r, http.StatusOK, "account", p)
}

// accountFacts is what the account page reads about the account and the
// browser looking at it, besides the session and the account's record:
// read once, then kept with the session (session.Manager.Attach) until the
// account changes — on PostgreSQL every write to these rows tells every
// node to forget the account's cached sessions; on SQLite it counts in the
// account's record, read with the session — or time alone changes one of
// them (until). A view whose facts are kept reads only its session, and
// nothing at all when the session is cached too.
type accountFacts struct {
	twoStepOn   bool
	twoStepErr  error
	trusted     []device.Trusted
	trustedErr  error
	deviceHash  string // the device cookie's token hash: the facts are this browser's
	browser, os string
	deviceErr   error // other than not found
	waiting     []activity.Waiting
	waitingErr  error
	until       time.Time // when time alone changes the facts (zero: never)
}

// accountFacts returns the facts kept with this request's session, or
// reads them (and keeps them, when nothing failed).
func (s *Server) accountFacts(r *http.Request) *accountFacts {
	st := state(r)
	var devToken string
	if c, err := r.Cookie(httpcore.DeviceCookie); err == nil {
		devToken = c.Value
	}
	devHash := ""
	if devToken != "" {
		devHash = string(device.HashToken(devToken))
	}
	now := s.now()
	if f, ok := s.Sessions.Attached(st.Session).(*accountFacts); ok &&
		f.deviceHash == devHash && (f.until.IsZero() || now.Before(f.until)) {
		return f
	}
	mark := s.Sessions.Mark(st.Session) // before reading: see Manager.Attach
	ctx, a := r.Context(), st.Account
	f := &accountFacts{deviceHash: devHash}
	f.waiting, f.waitingErr = s.Activity.Waiting(ctx, a.ID, st.Session.DeviceID)
	f.twoStepOn, f.twoStepErr = s.TwoStep.On(ctx, a)
	f.trusted, f.trustedErr = s.Devices.Trusted(ctx, a.ID)
	if dev, err := s.Devices.Lookup(ctx, devToken); err != nil {
		f.deviceErr = err
	} else if dev != nil {
		f.browser, f.os = dev.Browser, dev.OS
	}
	for _, w := range f.waiting {
		f.until = earlier(f.until, w.Until)
	}
	for _, d := range f.trusted {
		f.until = earlier(f.until, d.Until)
	}
	if f.waitingErr == nil && f.twoStepErr == nil && f.trustedErr == nil && f.deviceErr == nil {
		s.Sessions.Attach(st.Session, mark, f)
	}
	return f
}

// earlier returns the earlier of two times, zero meaning never.
func earlier(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// waitingView is one request waiting for the holder's answer at the top
// of the account page.
type waitingView struct {
	Reference, AttemptID, Cause      string
	What, From, Place, Meaning, Does string
	Open                             bool
}

// fillWaiting puts the requests waiting for the holder's answer — made
// elsewhere, unfinished, unanswered, of the last week — at the top of the
// account page, each answered there with one press.
func (s *Server) fillWaiting(r *http.Request, p *page, f *accountFacts) error {
	ws, err := f.waiting, f.waitingErr
	if err != nil || len(ws) == 0 {
		return err
	}
	t := s.Catalog.T
	views := make([]waitingView, 0, len(ws))
	for _, w := range ws {
		browser, os := s.Devices.UserAgents.Parse(w.Origin.UserAgent)
		c := string(w.Cause)
		views = append(views, waitingView{
			Reference: w.Reference, AttemptID: w.AttemptID, Cause: c, Open: w.Open,
			What:    t(p.Lang, "waiting.what."+c),
			From:    t(p.Lang, "waiting.from", s.when(r, w.Origin.Time), browser, os, w.Origin.IP),
			Place:   s.place(p.Lang, w.Origin.IP),
			Meaning: t(p.Lang, "story.meaning."+c),
			Does:    t(p.Lang, "why.does."+c),
		})
	}
	p.Data["Waiting"] = views
	return nil
}

// fillAccount puts the account page's facts and choices into p.
func (s *Server) fillAccount(r *http.Request, p *page, f *accountFacts) {
	st := state(r)
	a, sess := st.Account, st.Session
	p.Data["Email"] = a.Email
	if a.Phone != "" {
		p.Data["Phone"] = s.Catalog.T(p.Lang, "account.phone_masked", maskPhone(a.Phone))
	}
	p.Data["Language"] = a.Language
	p.Data["TimeZone"] = a.TimeZone
	p.Data["ZoneName"] = i18n.ZoneName(p.Lang, s.Catalog.Zone(a.Language, a.TimeZone).String())
	p.Data["DefaultZoneLabel"] = s.Catalog.T(p.Lang, "field.time_zone_default", i18n.ZoneName(p.Lang, s.Catalog.Zone(a.Language, "").String()))
	p.Data["ZoneOptions"] = s.zoneOptionsFor(p.Lang, a.TimeZone)
	p.Data["PasswordChanged"] = s.when(r, a.PasswordChangedAt)
	if f.twoStepErr == nil {
		p.Data["TwoStepOn"] = f.twoStepOn
	}
	type trusted struct{ ID, Browser, OS, Until string }
	var ts []trusted
	if f.trustedErr == nil {
		for _, d := range f.trusted {
			ts = append(ts, trusted{d.ID, d.Browser, d.OS, s.when(r, d.Until)})
		}
	}
	p.Data["Trusted"] = ts
	p.Data["Session"] = s.Catalog.T(p.Lang, "account.session_detail",
		s.when(r, sess.CreatedAt), f.browser, f.os, sess.IP, s.when(r, sess.ExpiresAt()))
}

// preferencesSubmit saves the language of messages and the time zone.
func (s *Server) preferencesSubmit(w http.ResponseWriter, r *http.Request) {
	st := state(r)
	lang, _ := httpcore.Field(r, "language")
	tz, _ := httpcore.Field(r, "time_zone")
	if err := s.Accounts.SetPreferences(r.Context(), st.Account.ID, lang, tz); err != nil {
		p := s.newPage(r, "account.title")
		s.fillAccount(r, p, s.accountFacts(r))
		s.formError(w, r, "account", p, err)
		return
	}
	httpcore.Redirect(w, r, "/account", url.Values{"notice": {"preferences_saved"}})
}

func (s *Server) passwordPage(r *http.Request) *page {
	p := s.newPage(r, "password.title")
	// Password managers file the new password under this address.
	p.Data["Email"] = state(r).Account.Email
	if !state(r).Account.PasswordCompromisedAt.IsZero() {
		// Said again after a refused form too: it is why the page is here.
		p.Notice = s.Catalog.T(p.Lang, "notice.password_compromised")
		p.Data["Compromised"] = true
	}
	return p
}

func (s *Server) passwordForm(w http.ResponseWriter, r *http.Request) {
	p := s.passwordPage(r)
	p.Values["signout_others"] = "on"
	if p.Notice == "" {
		s.notice(r, p)
	}
	s.render(w, r, http.StatusOK, "password", p)
}

func (s *Server) passwordSubmit(w http.ResponseWriter, r *http.Request) {
	st := state(r)
	p := s.passwordPage(r)
	others := r.PostFormValue("signout_others") != ""
	if others {
		p.Values["signout_others"] = "on"
	}
	o := httpcore.OriginOf(r)
	g, err := s.Accounts.ChangePassword(r.Context(), account.PasswordChange{
		AccountID: st.Account.ID, Current: httpcore.Secret(r, "current_password"), Next: httpcore.Secret(r, "new_password"),
		SignOutOthers: others, Remember: st.Session.Remember, Origin: o,
	})
	if err != nil {
		s.formError(w, r, "password", p, err)
		return
	}
	if g != nil {
		// Every session ended; this browser has a fresh one, so the
		// holder stays signed in here with a new token (ASVS v5.0.0-7.4.3).
		s.setSessionCookie(w, g)
	}
	httpcore.Redirect(w, r, "/account", url.Values{"notice": {"password_updated"}})
}

// stopTrusting ends the account's trust of one browser: it will be asked
// for the second step again.
func (s *Server) stopTrusting(w http.ResponseWriter, r *http.Request) {
	id, _ := httpcore.Field(r, "device")
	if err := s.Devices.StopTrusting(r.Context(), state(r).Account.ID, id); err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	httpcore.Redirect(w, r, "/account", url.Values{"notice": {"trust_stopped"}})
}
