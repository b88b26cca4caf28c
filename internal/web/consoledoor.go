package web

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"time"

	"gatehouse/internal/console"
	"gatehouse/internal/httpcore"
	"gatehouse/internal/operator"
	"gatehouse/internal/session"
)

// The console's access levels, each with its gate (ConsoleDoor.Gate) in
// the core's Gates. They live with the console's pages: package console
// is the console's work, free of HTTP.
const (
	// ConsoleViewer: a signed-in operator, any role. Anyone else signed in gets
	// the same 404 as an address no route has: the console does not
	// announce itself to holders.
	ConsoleViewer = httpcore.Door + 2
	// ConsoleActing: a ConsoleViewer whose last second step (an app's code, a passkey)
	// is at most FreshWithin old. Every change the console makes needs it;
	// an older proof gets the chain's Stale answer (re-verify, then back).
	ConsoleActing = httpcore.Door + 3
)

// ConsoleDoor holds the console's gate.
type ConsoleDoor struct {
	Service *console.Service
	// FreshWithin is how old the operator's last second step may be for
	// a change (console.fresh_within).
	FreshWithin time.Duration
}

type operatorKey struct{}

// Gate is the gate of ConsoleViewer and ConsoleActing: a live session (else the chain's
// NoSession answer), an operator's account (else 404), and for Acting a
// fresh second step (else the chain's Stale answer). The handler finds the
// operator with actorOf.
func (d *ConsoleDoor) Gate(rt *httpcore.Route, next http.HandlerFunc) http.HandlerFunc {
	acting := rt.Access == ConsoleActing
	return func(w http.ResponseWriter, r *http.Request) {
		httpcore.RequireSession(w, r, func(w http.ResponseWriter, r *http.Request) {
			st := httpcore.StateOf(r)
			op, err := d.Service.OperatorOf(r.Context(), st.Account)
			if errors.Is(err, operator.ErrNotOperator) {
				// The very page of an address no route has, which reads
				// no session (no sign-out button either).
				st.Session, st.Account = nil, nil
				httpcore.Answer(w, r, http.StatusNotFound, "error.not_found")
				return
			}
			if err != nil {
				httpcore.Fail(w, r, err)
				return
			}
			if acting && !FreshSecondStep(st.Session, httpcore.Now(r), d.FreshWithin) {
				st.Route.Chain.Stale(w, r)
				return
			}
			next(w, r.WithContext(context.WithValue(r.Context(), operatorKey{}, op)))
		})
	}
}

// FreshSecondStep reports whether the session's holder proved a second step within
// d of now: the session's last proof is that recent, and the session has
// passed a second factor ("mfa"). An operator's re-verification always
// asks for one (an operator has two-step verification on).
func FreshSecondStep(s *session.Session, now time.Time, d time.Duration) bool {
	return now.Sub(s.AuthenticatedAt) <= d && slices.Contains(s.AMR, "mfa")
}

// actorOf is the operator acting in a request past the gate, and where
// from: the request's origin (every console route is marked Origin, for
// the audit trail).
func actorOf(r *http.Request) console.Actor {
	op, _ := r.Context().Value(operatorKey{}).(*operator.Operator)
	return console.Actor{Operator: op, Origin: httpcore.OriginOf(r)}
}
