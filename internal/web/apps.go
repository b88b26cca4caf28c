package web

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"time"

	"gatehouse/internal/httpcore"
	"gatehouse/internal/oidc"
	"gatehouse/internal/oidcdoor"
)

// appView is one connected application as /account/apps shows it.
type appView struct {
	ID, Name    string
	Reads       []string
	First, Last string
	Device      string
}

// scopeWords says what each scope lets an application read, in the
// holder's words.
func (s *Server) scopeWords(lang string, scopes []string) []string {
	var out []string
	for _, sc := range scopes {
		switch sc {
		case "openid", "email", "profile", "offline_access":
			out = append(out, s.Catalog.T(lang, "scope."+sc))
		}
	}
	return out
}

// appsPage lists the applications connected to the account: what each
// may read, when it was first and last used, and from which device, with
// a button that disconnects it.
func (s *Server) appsPage(w http.ResponseWriter, r *http.Request) {
	st := state(r)
	p := s.newPage(r, "apps.title")
	if name := r.URL.Query().Get("disconnected"); name != "" && len(name) <= 200 && plainText(name) {
		p.Notice = s.Catalog.T(p.Lang, "apps.disconnected", name)
	}
	list, err := s.Apps.Connected(r.Context(), st.Account.ID)
	if err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	devs, err := s.Devices.List(r.Context(), st.Account.ID)
	if err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	names := map[string]string{}
	for _, d := range devs {
		names[d.ID] = d.Name
		if d.Name == "" {
			names[d.ID] = s.Catalog.T(p.Lang, "devices.unnamed", d.Browser, d.OS)
		}
	}
	views := make([]appView, 0, len(list))
	for _, a := range list {
		views = append(views, appView{ID: a.ClientID, Name: a.Name, Reads: s.scopeWords(p.Lang, a.Scopes),
			First: s.when(r, a.FirstUsedAt), Last: s.when(r, a.LastUsedAt), Device: names[a.LastDeviceID]})
	}
	p.Data["Apps"] = views
	s.render(w, r, http.StatusOK, "apps", p)
}

// appsDisconnect disconnects one application: its grant and tokens end at
// once and it is signed out (back-channel logout).
func (s *Server) appsDisconnect(w http.ResponseWriter, r *http.Request) {
	st := state(r)
	id, _ := httpcore.Field(r, "client")
	list, err := s.Apps.Connected(r.Context(), st.Account.ID)
	if err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	name := ""
	for _, a := range list {
		if a.ClientID == id {
			name = a.Name
		}
	}
	if name == "" {
		// Not connected (any more): nothing to do, and nothing to say
		// about another account's applications.
		httpcore.Redirect(w, r, "/account/apps", nil)
		return
	}
	if err := s.Apps.Disconnect(r.Context(), st.Account.ID, id, oidc.ReasonDisconnect); err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	httpcore.Redirect(w, r, "/account/apps", url.Values{"disconnected": {name}})
}

// consent reads the request the consent page answers: one this browser
// brought and that waits for this holder.
func (s *Server) consent(w http.ResponseWriter, r *http.Request, id string) (*oidc.Consent, bool) {
	c, err := s.Apps.ConsentFor(r.Context(), id, httpcore.OriginOf(r).DeviceID)
	if errors.Is(err, oidc.ErrNotYours) {
		httpcore.Answer(w, r, http.StatusBadRequest, "error.oidc_request")
		return nil, false
	}
	if err != nil {
		httpcore.Fail(w, r, err)
		return nil, false
	}
	return c, true
}

// consentForm asks the holder whether an application that is not the
// service's own may use their account, and what it would read.
func (s *Server) consentForm(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("id")
	c, ok := s.consent(w, r, id)
	if !ok {
		return
	}
	st := state(r)
	p := s.newPage(r, "consent.title")
	p.Title = s.Catalog.T(p.Lang, "consent.title", c.Client.Name)
	p.Values["id"] = id
	p.Data["Intro"] = s.Catalog.T(p.Lang, "consent.intro", c.Client.Name, st.Account.Email)
	p.Data["Reads"] = s.scopeWords(p.Lang, c.Request.Params.Scopes)
	s.render(w, r, http.StatusOK, "consent", p)
}

// consentSubmit records the answer and goes back to the hand-off, which
// answers the application.
func (s *Server) consentSubmit(w http.ResponseWriter, r *http.Request) {
	id, _ := httpcore.Field(r, "id")
	c, ok := s.consent(w, r, id)
	if !ok {
		return
	}
	answer, _ := httpcore.Field(r, "answer")
	o := httpcore.OriginOf(r)
	if err := s.Apps.Answer(r.Context(), c, state(r).Account.ID, o.DeviceID, answer == "allow"); err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	http.Redirect(w, r, oidcdoor.ContinueURL(id), http.StatusSeeOther)
}

// Hop takes a browser back to an application after one of Gatehouse's
// forms. Browsers hold the redirects that follow a form post to the CSP
// form-action of the page that posted it ('self'), so a redirect to the
// application would be blocked; this page moves on by itself (the Refresh
// header, which is a navigation of its own) and has a link for a browser
// that does not.
func (s *Server) Hop(w http.ResponseWriter, r *http.Request, target, app string) {
	p := s.newPage(r, "return.title")
	if app != "" {
		p.Title = s.Catalog.T(p.Lang, "return.title_app", app)
	}
	p.Data["Target"] = template.URL(target)
	p.Data["Link"] = s.Catalog.T(p.Lang, "return.link")
	w.Header().Set("Refresh", "0; url="+target)
	w.Header().Set("Referrer-Policy", "no-referrer")
	s.render(w, r, http.StatusOK, "return", p)
}

// logoutPage follows an application's logout: a browser that is not
// signed in goes straight back to the application; a signed-in one is
// asked whether to sign out of this service too. A logout link is a plain
// GET any site can make a browser follow, so it never signs out by itself.
func (s *Server) logoutPage(w http.ResponseWriter, r *http.Request) {
	sealed := r.URL.Query().Get("to")
	target, ok := s.Apps.LogoutTarget(sealed)
	if !ok {
		httpcore.Answer(w, r, http.StatusBadRequest, "error.oidc_request")
		return
	}
	if state(r).Session == nil {
		http.Redirect(w, r, target, http.StatusFound)
		return
	}
	p := s.newPage(r, "logout.title")
	p.Values["to"] = sealed
	p.Data["Target"] = template.URL(target)
	s.render(w, r, http.StatusOK, "logout", p)
}

// logoutSubmit signs this browser out, then returns to the application.
func (s *Server) logoutSubmit(w http.ResponseWriter, r *http.Request) {
	sealed, _ := httpcore.Field(r, "to")
	target, ok := s.Apps.LogoutTarget(sealed)
	if !ok {
		httpcore.Answer(w, r, http.StatusBadRequest, "error.oidc_request")
		return
	}
	if c, err := r.Cookie(httpcore.SessionCookie); err == nil {
		if err := s.Sessions.End(r.Context(), c.Value); err != nil {
			httpcore.Fail(w, r, err)
			return
		}
	}
	httpcore.SetCookie(w, httpcore.SessionCookie, "", time.Time{}, -1)
	w.Header().Set("Clear-Site-Data", `"cache"`)
	s.Hop(w, r, target, "")
}
