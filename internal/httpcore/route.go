package httpcore

import (
	"fmt"
	"net/http"
)

// Access says who may use a route. Every front door's routes use these
// levels; a door may add the gate of a level only it can check (the holder's
// pages add PasswordChecked) through Server.Gates, or a level of its own
// (an API key, an OIDC client, an operator: any value from Door up) with
// its gate.
type Access int

// Access levels. The zero value is no level: every route must choose one,
// and Route.check refuses a route that does not.
const (
	_ Access = iota
	// Public: anyone.
	Public
	// PasswordChecked: the right password was typed and a second step is
	// pending; no session exists yet. Its gate belongs to the sign-in
	// pages, which know the pending sign-in the request names.
	PasswordChecked
	// SignedIn: a live session; anyone else gets the chain's NoSession
	// answer (the sign-in page, or 401 for programs).
	SignedIn
	// RecentlyVerified: a live session whose holder proved who they are
	// within the step-up window (session.step_up_within), for sensitive
	// changes; anyone else gets the chain's Stale answer (re-verify first).
	RecentlyVerified

	// Door is the first level a front door may define for itself (with its
	// gate in Server.Gates).
	Door Access = 100
)

func (a Access) String() string {
	switch a {
	case Public:
		return "public"
	case PasswordChecked:
		return "password-checked"
	case SignedIn:
		return "signed-in"
	case RecentlyVerified:
		return "recently-verified"
	}
	if a >= Door {
		return fmt.Sprintf("door-%d", int(a-Door))
	}
	return "undeclared"
}

// Cost marks the routes whose POST runs an argon2 hash. When the hashing
// pool is full they are refused before their body is read (see Chain.Busy).
type Cost bool

// Costs.
const (
	Cheap  Cost = false
	Hashes Cost = true
)

// Route is one URL of the server and every fact about it: who may use it,
// how its requests are read and answered, and what the chain does before
// its handler runs. Nothing about a route is decided inside its handler
// that a reader of the table could not see.
type Route struct {
	Method string
	// Path is a net/http pattern path ("/why/{reference}").
	Path    string
	Access  Access
	Chain   *Chain
	Cost    Cost
	Handler http.HandlerFunc

	// Body checks a state-changing request's body instead of the chain's
	// usual rule (the checker takes whole emails). Nil: the chain's.
	Body BodyRule
	// WhileCompromised lets a holder whose password is marked as known to
	// someone else use this signed-in route before setting a new one; every
	// other signed-in route sends them to set it (Chain.Compromised).
	WhileCompromised bool
	// Page is the GET address of the page a POST's form belongs to, when
	// it is not the POST's own path: where the language switcher and a
	// step-up detour return.
	Page string
	// Session reads the session on a public route when the request has
	// one, so the page can greet a signed-in holder; the route stays open
	// to everyone.
	Session bool
	// Lookups takes one of the network's lookups (check.lookups_per_minute)
	// before the handler: the routes that look something up by a value a
	// visitor could guess by brute force. None left: 429.
	Lookups bool
	// Origin works out where the request came from (Origin) before the
	// handler: the routes that record something. Page views do not pay
	// for a device lookup.
	Origin bool
	// AnyHost answers whatever Host the request names, like the health
	// checks: the routes that reverse proxies call on behalf of the
	// applications they protect (forward-auth), which pass the
	// application's host on. Only for a GET that answers with a status
	// and headers; it reveals nothing of the site's pages.
	AnyHost bool
	// Quiet logs the route's answers below 400 at debug level instead of
	// info: a route that proxies call for every request of the
	// applications they protect (forward-auth), whose own access logs have
	// them. A line per protected request cost a fifth of the check.
	Quiet bool
}

// RouteInfo describes one URL of the route table, for tests and tools that
// list what the server answers.
type RouteInfo struct {
	Method, Path, Access, Chain string
	Hashes                      bool // the route runs an argon2 hash
	Lookups, Origin, Session    bool
}

// Info lists a route table.
func Info(table []Route) []RouteInfo {
	out := make([]RouteInfo, 0, len(table))
	for _, rt := range table {
		name := "undeclared"
		if rt.Chain != nil {
			name = rt.Chain.Name
		}
		out = append(out, RouteInfo{rt.Method, rt.Path, rt.Access.String(), name, bool(rt.Cost), rt.Lookups, rt.Origin, rt.Session})
	}
	return out
}

// check reports what is wrong with a route's table entry, if anything: a
// mistake in the table must stop the server, not open a URL.
func (s *Server) check(rt *Route) error {
	where := rt.Method + " " + rt.Path
	_, gated := s.Gates[rt.Access]
	switch {
	case rt.Access == 0:
		return fmt.Errorf("httpcore: route %s declares no access level", where)
	case rt.Access.String() == "undeclared" && !gated:
		return fmt.Errorf("httpcore: route %s uses access level %d, which has no gate", where, int(rt.Access))
	case rt.Chain == nil || rt.Chain.Name == "":
		return fmt.Errorf("httpcore: route %s declares no chain", where)
	case rt.Handler == nil:
		return fmt.Errorf("httpcore: route %s has no handler", where)
	case rt.Chain.Error == nil:
		return fmt.Errorf("httpcore: route %s: chain %s cannot answer errors", where, rt.Chain.Name)
	case rt.Access == PasswordChecked && !gated:
		return fmt.Errorf("httpcore: route %s uses access level %s, which has no gate", where, rt.Access)
	case (rt.Access == SignedIn || rt.Access == RecentlyVerified || rt.Session) && s.Sessions == nil:
		return fmt.Errorf("httpcore: route %s needs sessions, and the server has none", where)
	case (rt.Access == SignedIn || rt.Access == RecentlyVerified) && rt.Chain.NoSession == nil:
		return fmt.Errorf("httpcore: route %s: chain %s says nothing to a request without a session", where, rt.Chain.Name)
	case rt.Access == RecentlyVerified && rt.Chain.Stale == nil:
		return fmt.Errorf("httpcore: route %s: chain %s cannot ask for a fresh proof", where, rt.Chain.Name)
	case rt.Origin && s.Devices == nil:
		return fmt.Errorf("httpcore: route %s records its origin, and the server recognises no devices", where)
	case rt.AnyHost && rt.Method != "GET":
		return fmt.Errorf("httpcore: route %s answers any host, and only a GET may", where)
	case unsafe(rt.Method) && rt.Body == nil && rt.Chain.Body == nil:
		return fmt.Errorf("httpcore: route %s takes a body, and neither it nor chain %s checks one", where, rt.Chain.Name)
	}
	return nil
}

// Gate lets a request through to next or answers it. A front door adds the
// gate of an access level only it can check (Server.Gates).
type Gate func(rt *Route, next http.HandlerFunc) http.HandlerFunc

// BodyRule checks a state-changing request's content type and size, and
// parses or bounds its body; on failure it has answered.
type BodyRule func(w http.ResponseWriter, r *http.Request) bool

// Chain is a front door's way of reading requests and answering them: what
// a state-changing request must look like, what body it takes, how an error
// is written and what a request without the session a route needs is told.
// The holder's pages have one (HTML forms), programs another (JSON); the
// OIDC provider and the operator console bring theirs.
type Chain struct {
	Name string
	// Browser: the chain serves browsers' form posts, so a state-changing
	// request with neither Origin nor Sec-Fetch-Site is a forgery or a
	// replay from outside a browser, and is refused (CSRF).
	Browser bool
	// Body checks a state-changing request's body (a route may have its
	// own rule).
	Body BodyRule
	// Error writes an error: its status, the catalog key of its sentence
	// (stable for programs) and the sentence itself in the request's
	// language.
	Error func(w http.ResponseWriter, r *http.Request, status int, key, text string)
	// Busy answers a hashing route while the hashing pool is full, before
	// its body is read; it must cost almost nothing (no template, no
	// database). Nil: Error.
	Busy func(w http.ResponseWriter, r *http.Request)
	// NoSession answers a request to a signed-in route that has no live
	// session: the sign-in page for people, 401 for programs.
	NoSession func(w http.ResponseWriter, r *http.Request)
	// Compromised answers a holder whose password is marked as known to
	// someone else, on a route not marked WhileCompromised. Nil lets them
	// through (a program cannot set a password).
	Compromised func(w http.ResponseWriter, r *http.Request)
	// Stale answers a recently-verified route whose holder proved who they
	// are too long ago: re-verify, then back.
	Stale func(w http.ResponseWriter, r *http.Request)
	// CrossSite lets other sites post to the chain's routes: OAuth's
	// token, revocation and userinfo endpoints, which a browser app on
	// another origin calls, and the authorization and end-session
	// endpoints, which OpenID Connect lets a relying party's page post to.
	// No such route reads a cookie to decide anything it changes (a
	// client's credentials or a bearer token authenticate it, or it only
	// leads to a page that asks), so there is no request to forge.
	CrossSite bool
}

// unsafe reports whether a method may change state (and so needs the
// cross-origin and body checks).
func unsafe(method string) bool {
	return method != http.MethodGet && method != http.MethodHead && method != http.MethodOptions
}
