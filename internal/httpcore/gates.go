package httpcore

import (
	"errors"
	"net/http"
	"time"

	"gatehouse/internal/session"
)

// session checks the request's session cookie and, when it names a live
// session, fills in the state's Session and Account. It reports whether
// one was found; err is set only when the check itself failed. clear
// expires a cookie that names no live session.
func (s *Server) session(w http.ResponseWriter, r *http.Request, clear bool) (bool, error) {
	st := StateOf(r)
	if st.Session != nil {
		return true, nil
	}
	var token string
	if c, err := r.Cookie(SessionCookie); err == nil {
		token = c.Value
	}
	sess, err := s.Sessions.Check(r.Context(), token)
	if errors.Is(err, session.ErrNoSession) {
		if token != "" && clear {
			// A dead session's cookie goes, so the browser stops sending it.
			SetCookie(w, SessionCookie, "", time.Time{}, -1)
		}
		return false, nil
	}
	if err != nil {
		return false, err
	}
	st.Session, st.Account = sess, sess.Account
	return true, nil
}

// requireSession is the signed-in levels' gate: a live session goes
// through, anyone else gets the chain's NoSession answer. A holder who said
// someone else has their password may use nothing but the routes marked
// WhileCompromised until a new one is set (the chain's Compromised).
func (s *Server) requireSession(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ok, err := s.session(w, r, true)
		if err != nil {
			Fail(w, r, err)
			return
		}
		st := StateOf(r)
		if !ok {
			st.chain.NoSession(w, r)
			return
		}
		if !st.Account.PasswordCompromisedAt.IsZero() && st.chain.Compromised != nil &&
			(st.Route == nil || !st.Route.WhileCompromised) {
			st.chain.Compromised(w, r)
			return
		}
		next(w, r)
	}
}

// RequireSession runs next only for a signed-in request, as a signed-in
// route would: for the one route that is open to everyone and signed-in
// for one of its answers (POST /why/{reference}: a recipient's stop, or the
// holder's answer).
func RequireSession(w http.ResponseWriter, r *http.Request, next http.HandlerFunc) {
	st := StateOf(r)
	st.srv.requireSession(next)(w, r)
}

// optionalSession reads the session of a public route that greets a
// signed-in holder (Route.Session); a request without one goes on as a
// visitor's.
func (s *Server) optionalSession(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		// A visitor's page does not fail because the session could not be
		// checked: it is shown as to anyone.
		s.session(w, r, false)
		next(w, r)
	}
}

// requireRecent is the recently-verified level's gate, after the session's:
// the holder proved who they are within session.step_up_within, or gets the
// chain's Stale answer (re-verify, then back).
func (s *Server) requireRecent(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		st := StateOf(r)
		if s.now().Sub(st.Session.AuthenticatedAt) <= s.StepUpWithin {
			next(w, r)
			return
		}
		st.chain.Stale(w, r)
	}
}
