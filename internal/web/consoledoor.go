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
	"gatehouse/internal/signin"
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

// ConsoleMethods are the second steps that open the console: an
// authenticator app or a passkey. A code by SMS (a SIM swap away) and a
// backup code (a recovery, written on paper) are not enough for someone
// who can act on every account, even when they passed the session's
// sign-in.
var ConsoleMethods = []signin.Method{signin.App, signin.Passkey}

// Proofs tells which second steps a session passed — its sign-in's and
// each re-verification's, as the sign-in attempts record them (the
// store) — newest first. The session's own AMR cannot say it: it keeps
// every method the session ever passed, not which one was the latest.
type Proofs interface {
	SecondSteps(ctx context.Context, accountID, sessionID string, since time.Time) ([]signin.Proof, error)
}

// ConsoleDoor holds the console's gate.
type ConsoleDoor struct {
	Service *console.Service
	Proofs  Proofs
	// FreshWithin is how old the operator's last second step may be for
	// a change (console.fresh_within).
	FreshWithin time.Duration
}

type operatorKey struct{}

// consoleActor is what the gate found of the operator: who, and whether
// a change would pass now (a page shows its forms only then, so that
// nothing typed is lost to the re-verification).
type consoleActor struct {
	op    *operator.Operator
	fresh bool
}

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
			// A session whose latest second step was weaker than an app
			// or a passkey (an SMS code, a backup code) re-verifies with one
			// before any console page; one that passed none (it began with
			// the sign-up) may look. A change needs an app's or a
			// passkey's proof at most FreshWithin old.
			steps, err := d.Proofs.SecondSteps(r.Context(), st.Account.ID, st.Session.ID, st.Session.CreatedAt)
			if err != nil {
				httpcore.Fail(w, r, err)
				return
			}
			var proved time.Time // the newest app's or passkey's
			for _, p := range steps {
				if slices.Contains(ConsoleMethods, p.Method) {
					proved = p.At
					break
				}
			}
			weak := len(steps) > 0 && !slices.Contains(ConsoleMethods, steps[0].Method)
			fresh := !proved.IsZero() && FreshSecondStep(st.Session, proved, httpcore.Now(r), d.FreshWithin)
			if weak || (acting && !fresh) {
				st.Route.Chain.Stale(w, r)
				return
			}
			next(w, r.WithContext(context.WithValue(r.Context(), operatorKey{}, &consoleActor{op, fresh})))
		})
	}
}

// FreshSecondStep reports whether the session's holder proved a second step within
// d of now: proved (when an app or a passkey last passed, see Proofs) is
// that recent, and so is the session's last proof of any kind, which a
// second factor passed ("mfa").
func FreshSecondStep(s *session.Session, proved, now time.Time, d time.Duration) bool {
	return now.Sub(proved) <= d && now.Sub(s.AuthenticatedAt) <= d && slices.Contains(s.AMR, "mfa")
}

// actorOf is the operator acting in a request past the gate, and where
// from: the request's origin (every console route is marked Origin, for
// the audit trail).
func actorOf(r *http.Request) console.Actor {
	a, _ := r.Context().Value(operatorKey{}).(*consoleActor)
	if a == nil {
		return console.Actor{Origin: httpcore.OriginOf(r)}
	}
	return console.Actor{Operator: a.op, Origin: httpcore.OriginOf(r)}
}

// freshFor reports whether a change by the request's operator would pass
// the gate now (ConsoleActing).
func freshFor(r *http.Request) bool {
	a, _ := r.Context().Value(operatorKey{}).(*consoleActor)
	return a != nil && a.fresh
}
