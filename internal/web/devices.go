package web

import (
	"net/http"
	"net/url"
	"sort"
	"time"

	"gatehouse/internal/device"
	"gatehouse/internal/httpcore"
)

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
	s.signedOut(w, r, id == st.Session.DeviceID)
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
	s.signedOut(w, r, id == st.Session.ID)
}

// signedOut answers a sign-out from the devices page: back to it, or —
// when this browser's own session was among those ended — to the sign-in
// page, its dead cookie gone.
func (s *Server) signedOut(w http.ResponseWriter, r *http.Request, here bool) {
	if here {
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
