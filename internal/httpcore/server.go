// Package httpcore is the HTTP core every front door of Gatehouse plugs
// into: the holder's pages (package web) now, the admin API, the OpenID
// Connect provider and the operator console next.
//
// A front door is a list of Routes. Each names its access level, its Chain
// (how requests are read and errors answered) and every other fact the core
// acts on before the handler runs: the body it takes, whether it hashes,
// whether it counts as a lookup, whether it records where it came from. The
// core checks the whole table at start (a mistake stops the server, it
// never opens a URL), then serves every request through the same steps:
//
//   - for every request: the host check, request id and log line, security
//     headers, language, panic recovery (Server.middleware);
//   - per route, cheapest refusal first: the cross-origin rule, a place in
//     the hashing pool, the body, the access level's gate, the lookup
//     allowance, the request's origin (Server.chain).
//
// Errors from the capability packages become one status and one sentence
// in one place (Classify and Fail), for pages and programs alike.
package httpcore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"gatehouse/internal/clock"
	"gatehouse/internal/device"
	"gatehouse/internal/geo"
	"gatehouse/internal/i18n"
	"gatehouse/internal/limit"
	"gatehouse/internal/ratelimit"
	"gatehouse/internal/request"
	"gatehouse/internal/session"
)

// Server is the core: what every front door's requests pass through.
// internal/app builds it; the doors give it their routes.
type Server struct {
	Catalog *i18n.Catalog
	Log     *slog.Logger
	// Clock is the server's one clock.
	Clock clock.Clock
	// Sessions checks the session cookie for the signed-in levels.
	Sessions *session.Manager
	// Devices recognises the browser's device for a request's origin.
	Devices *device.Devices
	// Places finds the approximate place of an address; nil when no
	// database is configured.
	Places *geo.DB
	// TrustCopied is told when a trusted browser's superseded device
	// cookie comes back: the cookie was copied (signin.TrustCopied).
	TrustCopied func(ctx context.Context, deviceID string, o request.Origin)
	// Lookups limits, per network, the lookups that must not be tried by
	// brute force (routes marked Lookups). Nil: unlimited.
	Lookups *ratelimit.Limiter
	// Admit reserves a place in the hashing pool for a request to a route
	// that hashes, before its body is read (password.Pool.Admit with the
	// configured wait); when it fails the route's chain answers Busy.
	// Nil admits everything.
	Admit func(ctx context.Context, network string) (context.Context, func(), time.Duration, bool)
	// Ready reports whether the server can serve (database reachable): an
	// unexpected error while it cannot is 503, not 500.
	Ready func(context.Context) error
	// StepUpWithin is how recent a proof of identity the recently-verified
	// routes need (session.step_up_within).
	StepUpWithin time.Duration
	// HSTS adds Strict-Transport-Security (when served over TLS).
	HSTS bool
	// TrustedProxies are the peers whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// Hosts are the host names this server answers to; any other Host
	// header gets 421 (a DNS-rebinding page must not reach the pages).
	// Empty means any host (tests only).
	Hosts []string
	// Gates are the gates of access levels the core cannot check itself:
	// PasswordChecked (the sign-in pages'), and the doors' own levels
	// (from Door up: an API key, an OIDC client, an operator).
	Gates map[Access]Gate
	// Unrouted says which chain answers a URL no route has, by the
	// longest matching path prefix: a page for people, JSON under /api/.
	// It must hold "/".
	Unrouted map[string]*Chain
	// Timing, when set, is asked once per route as the table is served for
	// the function told how long each of that route's requests took; the
	// route is named by its table entry ("POST /signin"), never by the URL
	// asked for, and every unrouted request by "unrouted" (metrics must
	// not grow with what strangers type). Nil times nothing.
	Timing func(route string) func(time.Duration)
	// LookupRefused, when set, is told of each request refused for want of
	// a lookup (Route.Lookups).
	LookupRefused func()

	known    map[string][]string // path → methods, for 405
	anyHost  map[string]bool     // paths of AnyHost routes (see hostAllowed)
	untimed  func(time.Duration) // Timing's function for unrouted requests
	cop      *http.CrossOriginProtection
	refusals refusalLog
}

func (s *Server) now() time.Time { return s.Clock.Now() }

// Handler returns the http.Handler serving the route table. It panics on a
// route the table gets wrong (see Route.check): a mistake must stop the
// server, not open a URL.
func (s *Server) Handler(table []Route) http.Handler {
	s.cop = http.NewCrossOriginProtection()
	s.known = map[string][]string{}
	if s.Unrouted["/"] == nil {
		panic("httpcore: no chain answers unrouted URLs (Unrouted[\"/\"])")
	}
	mux := http.NewServeMux()
	for i := range table {
		rt := &table[i]
		if err := s.check(rt); err != nil {
			panic(err)
		}
		s.known[rt.Path] = append(s.known[rt.Path], rt.Method)
		if rt.AnyHost {
			if s.anyHost == nil {
				s.anyHost = map[string]bool{}
			}
			s.anyHost[rt.Path] = true
		}
	}
	for i := range table {
		mux.Handle(table[i].Method+" "+table[i].Path, s.chain(&table[i]))
	}
	if s.Timing != nil {
		s.untimed = s.Timing("unrouted")
	}
	// Everything else: the door's own 404 and 405 instead of the mux's
	// plain text — after the cross-origin rule, so a forged post to a
	// wrong address is refused as forged.
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		ch := s.unrouted(r.URL.Path)
		st := StateOf(r)
		st.chain = ch
		if !s.crossOriginOK(w, r, ch) {
			return
		}
		if methods, ok := s.known[r.URL.Path]; ok {
			w.Header().Set("Allow", joinMethods(methods))
			Answer(w, r, http.StatusMethodNotAllowed, "error.method")
			return
		}
		Answer(w, r, http.StatusNotFound, "error.not_found")
	})
	return s.middleware(mux)
}

// Known reports whether the route table has a route for path (a pattern
// path such as "/why/{reference}"); the pages use it to find a page's GET
// address.
func (s *Server) Known(path string) bool {
	_, ok := s.known[path]
	return ok
}

// unrouted is the chain that answers an unknown URL.
func (s *Server) unrouted(path string) *Chain {
	best := ""
	for p := range s.Unrouted {
		if strings.HasPrefix(path, p) && len(p) > len(best) {
			best = p
		}
	}
	return s.Unrouted[best]
}

// chain wraps a route's handler in what its table entry asks for, in the
// order that costs least for a request that is refused: the cross-origin
// rule, a place in the hashing pool (before the body is read), the body,
// the access level's gate, the lookup allowance, the origin.
func (s *Server) chain(rt *Route) http.Handler {
	h := rt.Handler
	if rt.Origin {
		h = s.withOrigin(h)
	}
	if rt.Lookups {
		h = s.lookup(h)
	}
	switch rt.Access {
	case SignedIn:
		h = s.requireSession(h)
	case RecentlyVerified:
		h = s.requireSession(s.requireRecent(h))
	case Public:
		if rt.Session {
			h = s.optionalSession(h)
		}
	default:
		// PasswordChecked, or a door's own level: its gate.
		h = s.Gates[rt.Access](rt, h)
	}
	if unsafe(rt.Method) {
		inner, bodyOK := h, rt.Chain.Body
		if rt.Body != nil {
			bodyOK = rt.Body
		}
		h = func(w http.ResponseWriter, r *http.Request) {
			if bodyOK(w, r) {
				inner(w, r)
			}
		}
	}
	if rt.Cost == Hashes {
		inner := h
		h = func(w http.ResponseWriter, r *http.Request) {
			if s.Admit == nil {
				inner(w, r)
				return
			}
			// Queued by network: one network's flood waits behind itself.
			ctx, release, retry, ok := s.Admit(r.Context(), limit.Network(StateOf(r).IP))
			if !ok {
				s.busy(w, r, retry)
				return
			}
			defer release()
			inner(w, r.WithContext(ctx))
		}
	}
	inner := h
	// Resolved once here, so a request's timing is one call, with no
	// lookup by name.
	var timed func(time.Duration)
	if s.Timing != nil {
		timed = s.Timing(rt.Method + " " + rt.Path)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := StateOf(r)
		st.Route, st.chain, st.timed = rt, rt.Chain, timed
		if s.crossOriginOK(w, r, rt.Chain) {
			inner(w, r)
		}
	})
}

// middleware is what every request passes, whatever its route: the host
// check, request id and log line, security headers, language and panic
// recovery. What depends on the route is its chain.
func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.hostAllowed(r) {
			s.securityHeaders(w.Header())
			misdirected(w)
			return
		}
		start := time.Now()
		idb := make([]byte, 8)
		rand.Read(idb)
		st := &State{ID: hex.EncodeToString(idb), IP: s.clientAddr(r), srv: s, chain: s.Unrouted["/"], timed: s.untimed}
		r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, st))
		sw := &statusWriter{ResponseWriter: w}
		s.securityHeaders(sw.Header())
		sw.Header().Set("X-Request-Id", st.ID)
		var choice string
		if c, err := r.Cookie(LangCookie); err == nil {
			choice = c.Value
		}
		st.Lang = s.Catalog.Match(choice, r.Header.Get("Accept-Language"))
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.Log.ErrorContext(r.Context(), "panic", "panic", v)
				if sw.status == 0 {
					Answer(sw, r, http.StatusInternalServerError, "error.internal")
				}
			}
			if st.timed != nil {
				st.timed(time.Since(start))
			}
			status := sw.status
			if st.disconnected {
				status = StatusClientClosed
			}
			if st.refused {
				log, skipped := s.refusals.sample(start)
				if !log {
					return
				}
				s.Log.InfoContext(r.Context(), "request", "method", r.Method, "path", r.URL.Path, "status", status,
					"duration", time.Since(start).Round(time.Microsecond), "remote", st.IP, "busy_refusals_not_logged", skipped)
				return
			}
			level := slog.LevelInfo
			if st.Route != nil && st.Route.Quiet && status < 400 {
				level = slog.LevelDebug
			}
			if !s.Log.Enabled(r.Context(), level) {
				return
			}
			s.Log.Log(r.Context(), level, "request", "method", r.Method, "path", r.URL.Path, "status", status,
				"duration", time.Since(start).Round(time.Microsecond), "remote", st.IP)
		}()
		next.ServeHTTP(sw, r)
	})
}

// crossOriginOK refuses a state-changing request that a browser made from
// another site (http.CrossOriginProtection: Sec-Fetch-Site, else Origin vs
// Host). CrossOriginProtection lets a request with neither header through,
// assuming a non-browser client: right for the JSON chain, whose routes then
// authenticate such clients by their access level. Every browser sends one
// of them on a form post, so for a browser chain a request with neither is
// a forgery or a replay from outside a browser, and is refused too.
func (s *Server) crossOriginOK(w http.ResponseWriter, r *http.Request, ch *Chain) bool {
	if !unsafe(r.Method) || ch.CrossSite {
		return true
	}
	if ch.Browser && r.Header.Get("Origin") == "" && r.Header.Get("Sec-Fetch-Site") == "" {
		Answer(w, r, http.StatusForbidden, "error.cross_origin")
		return false
	}
	if err := s.cop.Check(r); err != nil {
		Answer(w, r, http.StatusForbidden, "error.cross_origin")
		return false
	}
	return true
}

func (s *Server) securityHeaders(h http.Header) {
	for _, v := range securityHeaderValues {
		h[v.key] = v.value
	}
	if s.HSTS {
		h["Strict-Transport-Security"] = hstsValue
	}
}

// securityHeaderValues are set on every response. Their slices are shared
// by all responses instead of made by Header.Set for each: net/http only
// reads them, a handler that changes one Sets a new slice, and an Add
// appends into a new array (each has capacity 1). That is nine
// allocations less per request on the forward-auth hot path. The keys are
// in canonical form (TestSecurityHeaders_CanonicalKeys).
var securityHeaderValues = [...]struct {
	key   string
	value []string
}{
	{"Content-Security-Policy", []string{"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"}},
	{"X-Content-Type-Options", []string{"nosniff"}},
	{"X-Frame-Options", []string{"DENY"}},
	// Reset and confirmation URLs carry request ids; never leak them.
	{"Referrer-Policy", []string{"no-referrer"}},
	{"Cross-Origin-Opener-Policy", []string{"same-origin"}},
	{"Cross-Origin-Resource-Policy", []string{"same-origin"}},
	{"Permissions-Policy", []string{"camera=(), microphone=(), geolocation=(), payment=()"}},
	{"Cache-Control", []string{"no-store"}},
}

var hstsValue = []string{"max-age=31536000; includeSubDomains"}

// hostAllowed reports whether the request names a host this server answers
// to. Health checks answer any host: load balancers probe by address, and
// they reveal nothing.
func (s *Server) hostAllowed(r *http.Request) bool {
	if len(s.Hosts) == 0 || r.URL.Path == "/healthz" || r.URL.Path == "/readyz" || s.anyHost[r.URL.Path] {
		return true
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	for _, h := range s.Hosts {
		if strings.EqualFold(h, host) {
			return true
		}
	}
	return false
}

// misdirected answers a request for a host this server is not (RFC 9110
// §15.5.20): a fixed answer, with none of the site's pages.
func misdirected(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusMisdirectedRequest)
	w.Write([]byte("421 Misdirected Request: this server does not answer for that host name.\n"))
}

// busy answers a hashing route while the pool is full: 503 with
// Retry-After, decided before the request body is read. The connection
// stays open: a sign-in form is tiny, and a retry on the same connection is
// cheaper than a new one.
func (s *Server) busy(w http.ResponseWriter, r *http.Request, retry time.Duration) {
	st := StateOf(r)
	st.refused = true
	w.Header().Set("Retry-After", itoa(max(1, int(retry/time.Second))))
	if st.chain.Busy != nil {
		st.chain.Busy(w, r)
		return
	}
	Answer(w, r, http.StatusServiceUnavailable, "error.busy")
}

// lookup takes one of the network's lookups before the handler; when none
// is left it answers 429, saying how long until the next one.
func (s *Server) lookup(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.Lookups != nil {
			key := StateOf(r).IP
			if a, err := netip.ParseAddr(key); err == nil {
				key = ratelimit.Network(a)
			}
			if ok, wait := s.Lookups.Take(key); !ok {
				if s.LookupRefused != nil {
					s.LookupRefused()
				}
				TooSoon(w, r, "error.too_many_lookups", wait)
				return
			}
		}
		next(w, r)
	}
}

// refusalLog samples the log lines of busy refusals: at most one line a
// second, saying how many were refused since the last one. Thousands of
// identical lines a second would cost more than the refusals themselves.
type refusalLog struct {
	mu      sync.Mutex
	last    time.Time
	skipped int
}

// sample reports whether this refusal gets a log line, and how many went
// unlogged before it.
func (l *refusalLog) sample(now time.Time) (bool, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.last) < time.Second {
		l.skipped++
		return false, 0
	}
	n := l.skipped
	l.last, l.skipped = now, 0
	return true, n
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
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
