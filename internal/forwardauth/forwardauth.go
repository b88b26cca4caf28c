// Package forwardauth is the front door for reverse proxies that ask,
// before every request to an application they protect, whether the browser
// behind it is signed in: nginx's auth_request, Traefik's forwardAuth and
// Caddy's forward_auth. It is the hot path of every protected request, so a
// check is one session check (from the session cache) and three
// headers, nothing else.
//
// A browser proves its session with Gatehouse's own session cookie when
// the application shares Gatehouse's host, and otherwise with the
// forward-auth cookie: set for the parent domain of the applications
// (forward_auth.cookie_domain) when a sign-in returns to one of them, so
// that the browser sends it to every sibling subdomain. It carries the
// session token sealed (AES-GCM under the installation's encryption key,
// bound to its purpose), and only /auth/verify opens it: a sibling
// application that reads it cannot use it as a Gatehouse session, and
// signing out or revoking the session ends it everywhere at once.
package forwardauth

import (
	"encoding/base64"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"gatehouse/internal/crypt"
	"gatehouse/internal/httpcore"
	"gatehouse/internal/session"
)

// Cookie is the forward-auth cookie's name. __Secure-: it may carry a
// Domain (a __Host- cookie may not) and is only ever sent over HTTPS
// (browsers treat loopback HTTP as secure for development).
const Cookie = "__Secure-gh_fa"

// Requirement is what a protected domain asks of a session beyond being
// signed in (forward_auth.policy).
type Requirement string

// Requirements, by the acr names the OpenID provider uses for them.
const (
	// MFA: a second step passed in this session (amr "mfa").
	MFA Requirement = "mfa"
	// PHR: a phishing-resistant method, a passkey, proved in this session
	// (amr "swk" or "hwk").
	PHR Requirement = "phr"
)

// Door answers /auth/verify and sets the forward-auth cookie on the way
// back from a sign-in.
type Door struct {
	Sessions *session.Manager
	// Box seals the forward-auth cookie's token.
	Box *crypt.Box
	// Domains are the domains a sign-in may return to (rd): a host equal
	// to one of them or below it. Empty: none, and /auth/verify only
	// answers 200 or 401.
	Domains []string
	// CookieDomain is the parent domain the forward-auth cookie is set for;
	// empty: no cookie, and only applications on Gatehouse's own host are
	// recognised.
	CookieDomain string
	// Policy maps a protected host (or a domain it is below) to what its
	// sessions must have proved; hosts not listed ask only for a session.
	Policy map[string]Requirement
	// Pages answers a browser's refusals on the return route (a target
	// that is not allowed) in the holder's language.
	Pages *httpcore.Chain
}

// Routes is forward-auth's part of the one route table.
func (d *Door) Routes() []httpcore.Route {
	return []httpcore.Route{
		// Proxies call it with the browser's headers, for whatever host
		// the application has: any Host is answered (AnyHost).
		// Quiet: a line per protected request belongs in the proxy's log.
		{Method: "GET", Path: "/auth/verify", Access: httpcore.Public, Chain: d.chain(), AnyHost: true, Quiet: true, Handler: d.verify},
		{Method: "GET", Path: "/auth/return", Access: httpcore.SignedIn, Chain: d.Pages, Handler: d.back},
	}
}

// chain is forward-auth's: a proxy is no browser, and every answer is a
// bare status with headers (the proxy shows its own pages, or passes a
// redirect on).
func (d *Door) chain() *httpcore.Chain {
	c := httpcore.NewJSON()
	c.Name = "forward-auth"
	return c
}

// verify answers the proxy: 200 with the holder's id, address and methods
// for a live session, 403 when the host's policy asks for more than the
// session proved, 401 without a session — or, given rd, a 302 to the
// sign-in that comes back to rd.
func (d *Door) verify(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	rd := r.URL.Query().Get("rd")
	if rd != "" && !d.Allowed(rd) {
		// Never a redirect to a host that is not ours: an open redirect
		// would lend Gatehouse's name to a phishing page. Refused whether
		// or not the browser is signed in, so that a proxy configured
		// with a wrong rd fails at its first request, not at a signed-out
		// holder's.
		http.Error(w, "rd is not an address of a protected application (forward_auth.allowed_domains)", http.StatusBadRequest)
		return
	}
	s := d.session(r)
	if s == nil {
		if rd == "" {
			h.Set("WWW-Authenticate", `Cookie realm="gatehouse"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		back := "/auth/return?" + url.Values{"rd": {rd}}.Encode()
		http.Redirect(w, r, "/signin?"+url.Values{"next": {back}}.Encode(), http.StatusFound)
		return
	}
	if req := d.requirement(r); req != "" && !Satisfies(s.AMR, req) {
		h.Set("X-Gatehouse-Required", string(req))
		w.WriteHeader(http.StatusForbidden)
		return
	}
	h.Set("X-Gatehouse-User", s.AccountID)
	h.Set("X-Gatehouse-Email", s.Account.Email)
	h.Set("X-Gatehouse-AMR", strings.Join(s.AMR, ","))
	w.WriteHeader(http.StatusOK)
}

// session is the live session the request's cookies prove, or nil.
func (d *Door) session(r *http.Request) *session.Session {
	for _, read := range []func() string{
		func() string { return cookie(r, httpcore.SessionCookie) },
		func() string { return d.open(cookie(r, Cookie)) },
	} {
		token := read()
		if token == "" {
			continue
		}
		s, err := d.Sessions.Check(r.Context(), token)
		if err == nil {
			return s
		}
	}
	return nil
}

func cookie(r *http.Request, name string) string {
	c, err := r.Cookie(name)
	if err != nil {
		return ""
	}
	return c.Value
}

// purpose binds a sealed token to this cookie: nothing else sealed with
// the installation's key opens here.
var purpose = []byte("gatehouse forward-auth cookie v1")

// seal makes the forward-auth cookie's value for a session token.
func (d *Door) seal(token string) string {
	return base64.RawURLEncoding.EncodeToString(d.Box.Seal([]byte(token), purpose))
}

// open returns the session token a forward-auth cookie's value carries,
// or "".
func (d *Door) open(v string) string {
	if v == "" || d.Box == nil {
		return ""
	}
	raw, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		return ""
	}
	token, err := d.Box.Open(raw, purpose)
	if err != nil {
		return ""
	}
	return string(token)
}

// back is where a sign-in started by /auth/verify returns: it sets the
// forward-auth cookie for the applications' parent domain and sends the
// browser on to rd, when rd is an allowed address.
func (d *Door) back(w http.ResponseWriter, r *http.Request) {
	rd := r.URL.Query().Get("rd")
	if !d.Allowed(rd) {
		httpcore.Answer(w, r, http.StatusBadRequest, "error.forward_target")
		return
	}
	st := httpcore.StateOf(r)
	if d.CookieDomain != "" && d.Box != nil {
		token := cookie(r, httpcore.SessionCookie)
		expires := st.Session.AbsoluteExpiresAt
		http.SetCookie(w, &http.Cookie{
			Name: Cookie, Value: d.seal(token), Domain: d.CookieDomain, Path: "/",
			Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode,
			Expires: expires, MaxAge: max(int(time.Until(expires).Seconds()), 1),
		})
	}
	http.Redirect(w, r, rd, http.StatusSeeOther)
}

// Allowed reports whether target is an absolute http(s) URL whose host is
// one of Domains or below one of them.
func (d *Door) Allowed(target string) bool {
	if target == "" || len(target) > 4096 {
		return false
	}
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.User != nil || u.Opaque != "" {
		return false
	}
	return Below(hostOnly(u.Host), d.Domains)
}

// Below reports whether host is one of domains or a subdomain of one.
func Below(host string, domains []string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if host == "" {
		return false
	}
	for _, d := range domains {
		d = strings.ToLower(strings.TrimPrefix(strings.TrimSuffix(d, "."), "."))
		if d != "" && (host == d || strings.HasSuffix(host, "."+d)) {
			return true
		}
	}
	return false
}

func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return strings.Trim(h, "[]")
	}
	return strings.Trim(hostport, "[]")
}

// requirement is what the policy asks of the host the proxy protects:
// named by X-Forwarded-Host (Traefik, Caddy, and the README's nginx
// snippet), else by the host of X-Original-URL. A header listing several
// hosts (proxies in a chain append theirs) gets the strictest of theirs,
// and a host is compared as DNS does — without case, port or trailing
// dot — so that "admin.example.com." is not a way around admin's rule.
func (d *Door) requirement(r *http.Request) Requirement {
	if len(d.Policy) == 0 {
		return ""
	}
	header := r.Header.Get("X-Forwarded-Host")
	if header == "" {
		if u, err := url.Parse(r.Header.Get("X-Original-URL")); err == nil {
			header = u.Host
		}
	}
	var strictest Requirement
	for _, h := range strings.Split(header, ",") {
		req := d.requirementOf(strings.TrimRight(strings.ToLower(hostOnly(strings.TrimSpace(h))), "."))
		if rank(req) > rank(strictest) {
			strictest = req
		}
	}
	return strictest
}

// requirementOf is the policy's entry for host, or for its nearest parent
// that has one: the most specific entry wins.
func (d *Door) requirementOf(host string) Requirement {
	for h := host; h != ""; {
		if req, ok := d.Policy[h]; ok {
			return req
		}
		_, parent, found := strings.Cut(h, ".")
		if !found {
			break
		}
		h = parent
	}
	return ""
}

// rank orders requirements from none to the strictest.
func rank(r Requirement) int {
	switch r {
	case MFA:
		return 1
	case PHR:
		return 2
	}
	return 0
}

// Satisfies reports whether a session that proved amr meets req.
func Satisfies(amr []string, req Requirement) bool {
	has := func(v string) bool {
		for _, a := range amr {
			if a == v {
				return true
			}
		}
		return false
	}
	switch req {
	case MFA:
		return has("mfa")
	case PHR:
		return has("swk") || has("hwk")
	}
	return false
}

// ParsePolicy reads forward_auth.policy: space- or comma-separated
// HOST=REQUIREMENT pairs, REQUIREMENT being mfa or phr.
func ParsePolicy(s string) (map[string]Requirement, error) {
	out := map[string]Requirement{}
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		host, req, ok := strings.Cut(f, "=")
		host = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(host), "."))
		if !ok || host == "" || (Requirement(req) != MFA && Requirement(req) != PHR) {
			return nil, &PolicyError{Entry: f}
		}
		out[host] = Requirement(req)
	}
	return out, nil
}

// PolicyError is a forward_auth.policy entry that is not HOST=mfa or
// HOST=phr.
type PolicyError struct{ Entry string }

func (e *PolicyError) Error() string {
	return "forward_auth.policy: " + e.Entry + " is not HOST=mfa or HOST=phr"
}
