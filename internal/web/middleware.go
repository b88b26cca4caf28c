package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"gatehouse/internal/account"
	"gatehouse/internal/code"
	"gatehouse/internal/request"
	"gatehouse/internal/session"
	"gatehouse/internal/signin"
)

// origin returns where the request came from: the browser's device
// (recognised by its device cookie, which is set here when the browser is
// new), network, browser, OS and time. It is worked out once per request
// and kept in the request's state, so every record and message of the
// request quotes the same origin.
func (s *Server) origin(w http.ResponseWriter, r *http.Request) (request.Origin, error) {
	st := state(r)
	if st.originSet {
		return st.origin, st.originErr
	}
	st.originSet = true
	var token string
	if c, err := r.Cookie(deviceCookie); err == nil {
		token = c.Value
	}
	dev, fresh, err := s.Devices.Recognise(r.Context(), token, clientIP(r), r.UserAgent())
	if err != nil {
		st.originErr = err
		return request.Origin{}, err
	}
	if fresh != "" {
		setCookie(w, deviceCookie, fresh, s.now().Add(400*24*time.Hour), 400*24*3600)
	}
	st.origin = request.Origin{DeviceID: dev.ID, UserAgent: dev.UserAgent, IP: dev.IP, Browser: dev.Browser, OS: dev.OS, Time: s.now()}
	pl := s.Places.Lookup(dev.IP)
	st.origin.Country, st.origin.City, st.origin.CityJA = pl.Country, pl.City, pl.CityJA
	if dev.CopyOf != "" {
		// A trusted browser's superseded cookie: it was copied.
		s.SignIn.TrustCopied(r.Context(), dev.CopyOf, st.origin)
	}
	return st.origin, nil
}

// reqState is the per-request state the middleware fills in.
type reqState struct {
	id      string
	ip      string // the client's address (see clientAddr)
	lang    string
	account *account.Account
	session *session.Session
	// disconnected is set when the client hung up before the answer: not
	// a server error, logged as status 499.
	disconnected bool
	// refused is set for a busy refusal, whose log lines are sampled.
	refused bool
	// chain is the route's chain, which decides how errors are answered
	// (pages unless a route says api).
	chain chain
	// pending and attempt are the second step a password-checked route
	// works on (see requirePending).
	pending *code.Challenge
	attempt *signin.Attempt
	step    *signin.Step
	// origin is where the request came from, recognised at most once per
	// request (see Server.origin) and only by the handlers that record
	// something: a page view does not cost a device lookup.
	origin    request.Origin
	originErr error
	originSet bool
}

type ctxKey struct{}

func state(r *http.Request) *reqState {
	if st, ok := r.Context().Value(ctxKey{}).(*reqState); ok {
		return st
	}
	return &reqState{lang: "en"}
}

// LogHandler wraps a slog.Handler so that every record logged with a
// request's context carries that request's id.
func LogHandler(h slog.Handler) slog.Handler { return logHandler{h} }

type logHandler struct{ slog.Handler }

func (l logHandler) Handle(ctx context.Context, r slog.Record) error {
	if st, ok := ctx.Value(ctxKey{}).(*reqState); ok {
		r.AddAttrs(slog.String("request_id", st.id))
	}
	return l.Handler.Handle(ctx, r)
}
func (l logHandler) WithAttrs(a []slog.Attr) slog.Handler { return logHandler{l.Handler.WithAttrs(a)} }
func (l logHandler) WithGroup(n string) slog.Handler      { return logHandler{l.Handler.WithGroup(n)} }

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

// maxForm bounds a form body. Passwords are at most 1,000 bytes; the rest
// of any form is small. A larger body is refused before it is read whole.
const maxForm = 64 << 10

// middleware is what every request passes, whatever its route: the host
// check, request id and log line, security headers, language and panic
// recovery. What depends on the route (cross-origin rules, body, session)
// is its chain (see Server.chain).
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
		st := &reqState{id: hex.EncodeToString(idb), ip: s.clientAddr(r), chain: pages}
		r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, st))
		sw := &statusWriter{ResponseWriter: w}
		s.securityHeaders(sw.Header())
		sw.Header().Set("X-Request-Id", st.id)
		var choice string
		if c, err := r.Cookie(langCookie); err == nil {
			choice = c.Value
		}
		st.lang = s.Catalog.Match(choice, r.Header.Get("Accept-Language"))
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.Log.ErrorContext(r.Context(), "panic", "panic", v)
				if sw.status == 0 {
					s.answer(sw, r, http.StatusInternalServerError, "error.internal")
				}
			}
			status := sw.status
			if st.disconnected {
				status = 499 // the client closed the connection (nginx's code)
			}
			if st.refused {
				log, skipped := s.refusals.sample(start)
				if !log {
					return
				}
				s.Log.InfoContext(r.Context(), "request", "method", r.Method, "path", r.URL.Path, "status", status,
					"duration", time.Since(start).Round(time.Microsecond), "remote", st.ip, "busy_refusals_not_logged", skipped)
				return
			}
			s.Log.InfoContext(r.Context(), "request", "method", r.Method, "path", r.URL.Path, "status", status,
				"duration", time.Since(start).Round(time.Microsecond), "remote", st.ip)
		}()
		next.ServeHTTP(sw, r)
	})
}

// unsafe reports whether a method may change state (and so needs the
// cross-origin and body checks).
func unsafe(method string) bool {
	return method != http.MethodGet && method != http.MethodHead && method != http.MethodOptions
}

// crossOriginOK refuses a state-changing request that a browser made from
// another site (http.CrossOriginProtection: Sec-Fetch-Site, else Origin vs
// Host). CrossOriginProtection lets a request with neither header through,
// assuming a non-browser client: right for the api chain, whose routes then
// authenticate such clients by their access level. Every browser sends one
// of them on a form post, so for the pages chain a request with neither is
// a forgery or a replay from outside a browser, and is refused too.
func (s *Server) crossOriginOK(w http.ResponseWriter, r *http.Request, ch chain) bool {
	if !unsafe(r.Method) {
		return true
	}
	if ch == pages && r.Header.Get("Origin") == "" && r.Header.Get("Sec-Fetch-Site") == "" {
		s.answer(w, r, http.StatusForbidden, "error.cross_origin")
		return false
	}
	if err := s.cop.Check(r); err != nil {
		s.answer(w, r, http.StatusForbidden, "error.cross_origin")
		return false
	}
	return true
}

func (s *Server) securityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	// Reset and confirmation URLs carry request ids; never leak them.
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
	h.Set("Cache-Control", "no-store")
	if s.HSTS {
		h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
	}
}

// maxJSON bounds a JSON body (a WebAuthn response is a few KB).
const maxJSON = 64 << 10

// jsonOK checks a POST's content type and size for the api chain and leaves
// the body, bounded, for the handler to decode.
func (s *Server) jsonOK(w http.ResponseWriter, r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		s.answer(w, r, http.StatusUnsupportedMediaType, "error.content_type")
		return false
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxJSON)
	return true
}

// formOK checks a POST's content type and size and parses it. On failure it
// has written the error page.
func (s *Server) formOK(w http.ResponseWriter, r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		s.errorPage(w, r, http.StatusUnsupportedMediaType, "error.content_type")
		return false
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.errorPage(w, r, http.StatusRequestEntityTooLarge, "error.too_large")
		} else {
			s.errorPage(w, r, http.StatusBadRequest, "error.invalid_text")
		}
		return false
	}
	return true
}

// field returns a trimmed form value; ok is false when it is not valid
// text (invalid UTF-8 or control characters).
func field(r *http.Request, name string) (v string, ok bool) {
	v = r.PostFormValue(name)
	if !utf8.ValidString(v) {
		return "", false
	}
	for _, c := range v {
		if unicode.IsControl(c) {
			return strings.ToValidUTF8(v, ""), false
		}
	}
	return strings.TrimSpace(v), true
}

// secret returns a password field exactly as typed (no trimming: NIST
// 800-63B-4 and ASVS v5.0.0-6.2.8 — verify what was typed).
func secret(r *http.Request, name string) string { return r.PostFormValue(name) }

// peer returns the address of the TCP peer.
func peer(r *http.Request) (netip.Addr, bool) {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}, false
	}
	return ap.Addr().Unmap(), true
}

// clientAddr returns the client's address: the TCP peer, or — when the
// peer is a trusted proxy — the nearest address in X-Forwarded-For that is
// not itself a trusted proxy. Entries further left were written by the
// client and prove nothing.
func (s *Server) clientAddr(r *http.Request) string {
	addr, ok := peer(r)
	if !ok {
		return r.RemoteAddr
	}
	if !s.trusted(addr) {
		return addr.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		a = a.Unmap()
		if !s.trusted(a) {
			return a.String()
		}
		addr = a
	}
	return addr.String()
}

func (s *Server) trusted(a netip.Addr) bool {
	for _, p := range s.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func clientIP(r *http.Request) string { return state(r).ip }

// onThisMachine reports whether the request comes from this machine and
// not through a proxy (a proxy on this machine would make every client
// look local).
func onThisMachine(r *http.Request) bool {
	a, ok := peer(r)
	if !ok || !a.IsLoopback() {
		return false
	}
	// A proxy on this machine that forwards without X-Forwarded-For still
	// names the public host: such a request came from elsewhere.
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if ip, err := netip.ParseAddr(host); !(host == "localhost" || (err == nil && ip.IsLoopback())) {
		return false
	}
	for _, h := range []string{"X-Forwarded-For", "Forwarded", "X-Real-Ip"} {
		if r.Header.Get(h) != "" {
			return false
		}
	}
	return true
}

// Cookie names. __Host- makes the browser insist on Secure, Path=/ and no
// Domain, so no sibling subdomain can set or read them.
const (
	sessionCookie = "__Host-gh_session"
	deviceCookie  = "__Host-gh_device"
	langCookie    = "__Host-gh_lang"
)

func setCookie(w http.ResponseWriter, name, value string, expires time.Time, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Expires: expires, MaxAge: maxAge,
	})
}

// hostAllowed reports whether the request names a host this server answers
// to. Health checks answer any host: load balancers probe by address, and
// they reveal nothing.
func (s *Server) hostAllowed(r *http.Request) bool {
	if len(s.Hosts) == 0 || r.URL.Path == "/healthz" || r.URL.Path == "/readyz" {
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

// whileCompromised are the signed-in pages a holder whose password is
// marked as known to someone else may use before setting a new one.
var whileCompromised = map[string]bool{
	"/account/password": true, "/account/reverify": true,
}

// requireSession lets signed-in holders through and sends everyone else to
// the sign-in page.
func (s *Server) requireSession(ch chain, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var token string
		if c, err := r.Cookie(sessionCookie); err == nil {
			token = c.Value
		}
		sess, err := s.Sessions.Check(r.Context(), token)
		if err == nil {
			st := state(r)
			st.session, st.account = sess, sess.Account
			if !sess.Account.PasswordCompromisedAt.IsZero() && ch == pages && !whileCompromised[r.URL.Path] {
				// The holder said someone else has the password: nothing
				// else until a new one is set.
				redirect(w, r, "/account/password", url.Values{"notice": {"password_compromised"}})
				return
			}
			next(w, r)
			return
		}
		if errors.Is(err, session.ErrNoSession) {
			if token != "" {
				setCookie(w, sessionCookie, "", time.Time{}, -1)
			}
			if ch == api {
				// A program (or a page's script) gets the status, not a
				// sign-in page to follow.
				s.fail(w, r, err)
				return
			}
			q := url.Values{"notice": {"signin_needed"}}
			if back := returnTo(r); back != "" && back != "/account" {
				q.Set("next", back)
			}
			redirect(w, r, "/signin", q)
			return
		}
		s.fail(w, r, err)
	}
}

// returnTo is where a sign-in asked for by a signed-in page returns: the
// page itself for a GET, the story for a form posted on /why/{reference}
// (its answer is given there again, by the holder, once signed in); "" for
// anything else, whose form would have to be filled in again anyway.
func returnTo(r *http.Request) string {
	switch {
	case r.Method == http.MethodGet:
		return LocalTarget(r.URL.RequestURI(), "")
	case strings.HasPrefix(r.URL.Path, "/why/"):
		return LocalTarget(r.URL.Path, "")
	}
	return ""
}
