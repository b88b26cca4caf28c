package httpcore

import (
	"net/http"
	"time"

	"gatehouse/internal/request"
)

// withOrigin works out where the request came from before the handler
// (Route.Origin), so a handler reads it with Origin and never fails on it.
func (s *Server) withOrigin(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if _, err := s.origin(w, r); err != nil {
			Fail(w, r, err)
			return
		}
		next(w, r)
	}
}

// OriginOf returns where the request came from, worked out once by the
// chain before the handler of a route marked Origin. A handler of any other
// route that asks is a mistake in the route table, and panics (the server
// answers 500 and logs it): recording a request without its origin would
// lose what "this wasn't me" needs.
func OriginOf(r *http.Request) request.Origin {
	st := StateOf(r)
	if !st.originSet || st.originErr != nil {
		route := "no route"
		if st.Route != nil {
			route = st.Route.Method + " " + st.Route.Path
		}
		panic("httpcore: " + route + " reads the request's origin and is not marked Origin in the route table")
	}
	return st.origin
}

// Recognise works out the request's origin for a gate that needs it
// before the chain's own step (the sign-in pages' pending-step gate): the
// chain then does not do it again.
func Recognise(w http.ResponseWriter, r *http.Request) (request.Origin, error) {
	st := StateOf(r)
	return st.srv.origin(w, r)
}

// origin works out where the request came from, at most once per request,
// so every record and message of the request quotes the same origin. A
// browser is its device (recognised by its device cookie, which is set here
// when the browser is new), network, browser, OS and time; a program that
// is not a browser (State.Client, set by its door's gate) is named instead,
// with its network, and no device.
func (s *Server) origin(w http.ResponseWriter, r *http.Request) (request.Origin, error) {
	st := StateOf(r)
	if st.originSet {
		return st.origin, st.originErr
	}
	st.originSet = true
	now := s.now()
	if st.Client != "" {
		st.origin = request.Origin{Client: st.Client, IP: st.IP, UserAgent: r.UserAgent(), Time: now}
		s.place(st)
		return st.origin, nil
	}
	var token string
	if c, err := r.Cookie(DeviceCookie); err == nil {
		token = c.Value
	}
	dev, fresh, err := s.Devices.Recognise(r.Context(), token, st.IP, r.UserAgent())
	if err != nil {
		st.originErr = err
		return request.Origin{}, err
	}
	if fresh != "" {
		SetCookie(w, DeviceCookie, fresh, now.Add(400*24*time.Hour), 400*24*3600)
	}
	st.origin = request.Origin{DeviceID: dev.ID, UserAgent: dev.UserAgent, IP: dev.IP, Browser: dev.Browser, OS: dev.OS, Time: now}
	s.place(st)
	if dev.CopyOf != "" && s.TrustCopied != nil {
		// A trusted browser's superseded cookie: it was copied.
		s.TrustCopied(r.Context(), dev.CopyOf, st.origin)
	}
	return st.origin, nil
}

func (s *Server) place(st *State) {
	pl := s.Places.Lookup(st.origin.IP)
	st.origin.Country, st.origin.City, st.origin.CityJA = pl.Country, pl.City, pl.CityJA
}
