// Package web serves Gatehouse's pages: server-rendered HTML that works
// without JavaScript, in English and Japanese.
//
// Every URL is listed once, in routes.go. A request passes through the
// middleware in middleware.go (request id and log line, security headers,
// language, cross-origin protection, form limits) and then the page's
// handler, one file per page. Handlers translate the capability packages'
// errors into a page with the error next to the field (422), a redirect
// after success (303), or a 503 when the hashing pool is full.
package web

import (
	"context"
	"embed"
	"fmt"
	"gatehouse/internal/check"
	"gatehouse/internal/checkup"
	"gatehouse/internal/ratelimit"
	"html/template"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"gatehouse/internal/account"
	"gatehouse/internal/activity"
	"gatehouse/internal/address"
	"gatehouse/internal/clock"
	"gatehouse/internal/code"
	"gatehouse/internal/device"
	"gatehouse/internal/geo"
	"gatehouse/internal/i18n"
	"gatehouse/internal/limit"
	"gatehouse/internal/outbox"
	"gatehouse/internal/passkey"
	"gatehouse/internal/session"
	"gatehouse/internal/signin"
	"gatehouse/internal/twostep"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Server holds what the pages need. internal/app builds it.
type Server struct {
	Accounts *account.Service
	SignIn   *signin.Service
	Sessions *session.Manager
	Devices  *device.Devices
	Codes    *code.Service
	Outbox   *outbox.Outbox
	TwoStep  *twostep.Service
	// Addresses changes the account's email address.
	Addresses *address.Service
	// Passkeys begins passkey ceremonies for the pages; nil when the
	// public URL cannot hold passkeys (PasskeyLocalURL then says where
	// they work on this machine, if anywhere).
	Passkeys        *passkey.Service
	PasskeyLocalURL string
	Catalog         *i18n.Catalog
	Log             *slog.Logger
	// Activity tells a message's story and carries out "this wasn't me";
	// it reads sign-in activity too.
	Activity *activity.Service
	// Checkup is the security checkup's list (package checkup).
	Checkup *checkup.Service
	// Checker answers "is this message genuine?" on /check and
	// POST /api/check; Reports keeps what holders chose to report.
	Checker *check.Checker
	Reports check.ReportStore
	// Limits counts guesses and sends (package limit); the pages use it
	// for anonymous writes and the account's state. Required.
	Limits *limit.Limiter
	// Lookups limits, per network, the lookups that must not be tried by
	// brute force: the checker and /why/{reference}. Nil: unlimited.
	Lookups *ratelimit.Limiter
	// DevRaw serves the development driver's raw emails at
	// /dev/messages/{reference}.eml; nil with any other driver.
	DevRaw *outbox.DevDriver
	// Places finds the approximate place of an address; nil when no
	// database is configured (places are then left out).
	Places *geo.DB

	ServiceName string
	// Support is where holders reach the operator's support (support.url
	// and/or support.email), or "": then no page tells anyone to contact
	// us.
	Support           string
	MinPasswordLength int
	RememberFor       time.Duration
	// DevMessages enables /dev/messages (only with the dev mail driver,
	// and only answered for loopback clients).
	DevMessages bool
	// HSTS adds Strict-Transport-Security (when served over TLS).
	HSTS bool
	// TrustedProxies are the peers whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// Ready reports whether the server can serve (database reachable).
	Ready func(context.Context) error
	// StepUpWithin is how recent a proof of identity sensitive changes
	// need (session.step_up_within).
	StepUpWithin time.Duration
	// TrustFor is how long "don't ask again on this browser" lasts
	// (signin.trust_days).
	TrustFor time.Duration
	// Clock is the server's one clock (nil: the real one).
	Clock clock.Clock
	// PhoneRegion is the region of numbers typed without a country code
	// (phone.default_region); PhoneExample is a number of it as people
	// write it, shown in hints and errors.
	PhoneRegion, PhoneExample string
	// Admit reserves a place in the hashing pool for a request to a route
	// that hashes, before its body is read (password.Pool.Admit with the
	// configured wait); when it fails the route answers the fixed 503.
	// Nil admits everything.
	Admit func(ctx context.Context, network string) (context.Context, func(), time.Duration, bool)
	// Hosts are the host names this server answers to (the host of
	// public_url, and loopback names when listening on loopback). Any
	// other Host header gets 421: a DNS-rebinding page must not reach the
	// pages or the dev mailbox. Empty means any host (tests only).
	Hosts []string

	pages     map[string]*template.Template
	known     map[string][]string // path → methods, for 405 and the language switch
	static    map[string]staticFile
	busyPages map[string][]byte // the 503 answer per language, rendered once
	refusals  refusalLog
	cop       *http.CrossOriginProtection
}

func (s *Server) now() time.Time { return s.Clock.Now() }

// Handler returns the server's http.Handler with every route and middleware.
func (s *Server) Handler() http.Handler { return s.handler(s.routes()) }

// handler builds the server for a route table (the tests add routes to
// exercise chains no page uses yet). It panics on a route that does not
// declare its access level and chain, or uses a level with no gate: a
// mistake in the table must stop the server, not open a URL.
func (s *Server) handler(table []route) http.Handler {
	s.parseTemplates()
	s.loadStatic()
	s.cop = http.NewCrossOriginProtection()
	mux := http.NewServeMux()
	s.known = map[string][]string{}
	for _, rt := range table {
		if err := rt.check(); err != nil {
			panic(err)
		}
		s.known[rt.path] = append(s.known[rt.path], rt.method)
	}
	for _, rt := range table {
		mux.Handle(rt.method+" "+rt.path, s.chain(rt))
	}
	s.renderBusyPages()
	mux.HandleFunc("GET /static/", s.serveStatic)
	// Everything else: a page in the holder's language instead of the
	// mux's plain-text 404 and 405 — after the pages chain's cross-origin
	// rule, so a forged post to a wrong address is refused as forged.
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if !s.crossOriginOK(w, r, pages) {
			return
		}
		// A program calling the API reads JSON, its errors included.
		answer := s.errorPage
		if strings.HasPrefix(r.URL.Path, "/api/") {
			answer = s.jsonError
		}
		if methods, ok := s.known[r.URL.Path]; ok {
			w.Header().Set("Allow", joinMethods(methods))
			answer(w, r, http.StatusMethodNotAllowed, "error.method")
			return
		}
		answer(w, r, http.StatusNotFound, "error.not_found")
	})
	return s.middleware(mux)
}

// check reports what is wrong with a route's table entry, if anything.
func (rt route) check() error {
	switch {
	case rt.access.String() == "undeclared":
		return fmt.Errorf("web: route %s %s declares no access level", rt.method, rt.path)
	case !rt.access.gated():
		return fmt.Errorf("web: route %s %s uses access level %s, which has no gate yet", rt.method, rt.path, rt.access)
	case rt.chain.String() == "undeclared":
		return fmt.Errorf("web: route %s %s declares no chain", rt.method, rt.path)
	case rt.handler == nil:
		return fmt.Errorf("web: route %s %s has no handler", rt.method, rt.path)
	}
	return nil
}

// chain wraps a route's handler in what its table entry asks for, in the
// order that costs least for a request that is refused: the cross-origin
// rule, then a place in the hashing pool (before the body is read), then
// the body, then the session.
func (s *Server) chain(rt route) http.Handler {
	h := rt.handler
	switch rt.access {
	case signedIn:
		h = s.requireSession(rt.chain, h)
	case passwordChecked:
		h = s.requirePending(h)
	case recentlyVerified:
		h = s.requireRecent(h)
	}
	if unsafe(rt.method) {
		inner, bodyOK := h, s.formOK
		if rt.chain == api {
			bodyOK = s.jsonOK
		}
		if rule, ok := s.bodyRules()[rt.path]; ok {
			bodyOK = rule
		}
		h = func(w http.ResponseWriter, r *http.Request) {
			if bodyOK(w, r) {
				inner(w, r)
			}
		}
	}
	if rt.cost == hashes {
		inner := h
		h = func(w http.ResponseWriter, r *http.Request) {
			if s.Admit == nil {
				inner(w, r)
				return
			}
			// Queued by network: one network's flood waits behind itself.
			ctx, release, retry, ok := s.Admit(r.Context(), limit.Network(clientIP(r)))
			if !ok {
				s.busy(w, r, retry)
				return
			}
			defer release()
			inner(w, r.WithContext(ctx))
		}
	}
	inner := h
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		state(r).chain = rt.chain
		if s.crossOriginOK(w, r, rt.chain) {
			inner(w, r)
		}
	})
}

func joinMethods(ms []string) string {
	out := ""
	for i, m := range ms {
		if i > 0 {
			out += ", "
		}
		out += m
		if m == http.MethodGet {
			out += ", HEAD"
		}
	}
	return out
}
