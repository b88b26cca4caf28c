package httpcore

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"gatehouse/internal/account"
	"gatehouse/internal/request"
	"gatehouse/internal/session"
)

// State is what the core knows about a request, filled in once as it
// passes the chain and read by the handlers of every front door.
type State struct {
	// ID is the request id (X-Request-Id, and every log line of the
	// request).
	ID string
	// IP is the client's address (see Server.clientAddr).
	IP string
	// Lang is the language the answer is written in.
	Lang string
	// Session and Account are the signed-in holder's, on a signed-in route
	// or a public route that reads the session (Route.Session); nil
	// otherwise.
	Session *session.Session
	Account *account.Account
	// Route is the route serving the request; nil for an unrouted URL.
	Route *Route
	// Client is the program a request that is not a browser's comes from
	// (an API key's or OIDC client's name), set by its door's gate; the
	// request's origin then names it instead of a device.
	Client string

	srv   *Server
	chain *Chain
	// disconnected is set when the client hung up before the answer: not
	// a server error, logged as status 499.
	disconnected bool
	// refused is set for a busy refusal, whose log lines are sampled.
	refused bool
	// timed is told how long the request took (Server.Timing): the
	// unrouted function until a route takes the request.
	timed     func(time.Duration)
	origin    request.Origin
	originErr error
	originSet bool
}

type ctxKey struct{}

// StateOf returns the request's state. Outside the core (a handler called
// directly by a test) it is an empty state in English.
func StateOf(r *http.Request) *State {
	if st, ok := r.Context().Value(ctxKey{}).(*State); ok {
		return st
	}
	return &State{Lang: "en"}
}

// Now is the server's time for the request.
func Now(r *http.Request) time.Time {
	if st := StateOf(r); st.srv != nil {
		return st.srv.now()
	}
	return time.Now()
}

// LogHandler wraps a slog.Handler so that every record logged with a
// request's context carries that request's id.
func LogHandler(h slog.Handler) slog.Handler { return logHandler{h} }

type logHandler struct{ slog.Handler }

func (l logHandler) Handle(ctx context.Context, r slog.Record) error {
	if st, ok := ctx.Value(ctxKey{}).(*State); ok {
		r.AddAttrs(slog.String("request_id", st.ID))
	}
	return l.Handler.Handle(ctx, r)
}
func (l logHandler) WithAttrs(a []slog.Attr) slog.Handler { return logHandler{l.Handler.WithAttrs(a)} }
func (l logHandler) WithGroup(n string) slog.Handler      { return logHandler{l.Handler.WithGroup(n)} }

// Field returns a trimmed form value; ok is false when it is not valid
// text (invalid UTF-8 or control characters).
func Field(r *http.Request, name string) (v string, ok bool) {
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

// Secret returns a password field exactly as typed (no trimming: NIST
// 800-63B-4 and ASVS v5.0.0-6.2.8 — verify what was typed).
func Secret(r *http.Request, name string) string { return r.PostFormValue(name) }

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

// OnThisMachine reports whether the request comes from this machine and
// not through a proxy (a proxy on this machine would make every client
// look local).
func OnThisMachine(r *http.Request) bool {
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
	SessionCookie = "__Host-gh_session"
	DeviceCookie  = "__Host-gh_device"
	LangCookie    = "__Host-gh_lang"
)

// SetCookie sets one of the cookies above: Secure, HttpOnly, SameSite=Lax,
// Path=/.
func SetCookie(w http.ResponseWriter, name, value string, expires time.Time, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Expires: expires, MaxAge: maxAge,
	})
}

// Redirect answers a successful form with 303 See Other.
func Redirect(w http.ResponseWriter, r *http.Request, path string, query url.Values) {
	if len(query) > 0 {
		path += "?" + query.Encode()
	}
	http.Redirect(w, r, path, http.StatusSeeOther)
}

func itoa(n int) string { return strconv.Itoa(n) }
