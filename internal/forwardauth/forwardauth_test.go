package forwardauth_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"gatehouse/internal/app"
	"gatehouse/internal/config"
	"gatehouse/internal/forwardauth"
	"gatehouse/internal/httpcore"
	"gatehouse/internal/pgtest"
	"gatehouse/internal/request"
)

// server is a running Gatehouse with forward-auth set up for the
// applications under example.test, Gatehouse itself at auth.example.test
// (the test server's real address is 127.0.0.1; requests name the host).
type server struct {
	t    testing.TB
	app  *app.App
	srv  *httptest.Server
	acct string // the seeded holder's account id
}

func newServer(t testing.TB, extra map[string]string) *server {
	t.Helper()
	return newServerLog(t, extra, slog.New(slog.DiscardHandler))
}

func newServerLog(t testing.TB, extra map[string]string, log *slog.Logger) *server {
	t.Helper()
	flags := map[string]string{
		"data": t.TempDir(), "argon2.memory_kib": "8192", "argon2.iterations": "1",
		"signin.new_device_check": "off", "public_url": "http://auth.example.test:8080",
		"forward_auth.allowed_domains": "example.test", "forward_auth.cookie_domain": "example.test",
	}
	for k, v := range extra {
		flags[k] = v
	}
	cfg, err := config.Load("", func(string) string { return "" }, flags)
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(context.Background(), cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	if err := a.Seed(context.Background(), 0, 1, 0, false, nil); err != nil {
		t.Fatal(err)
	}
	acc, err := a.DB.AccountByEmail(context.Background(), app.SeedEmail(0))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	return &server{t: t, app: a, srv: srv, acct: acc.ID}
}

// get sends GET path for host with the cookies and headers given, without
// following redirects.
func (s *server) get(host, path string, cookies map[string]string, headers map[string]string) *http.Response {
	s.t.Helper()
	req, _ := http.NewRequest("GET", s.srv.URL+path, nil)
	req.Host = host
	for k, v := range cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	r, err := c.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	io.Copy(io.Discard, r.Body)
	r.Body.Close()
	return r
}

// session starts a session for the holder that proved amr, as a sign-in
// does, and returns its token.
func (s *server) session(amr ...string) string {
	s.t.Helper()
	g, err := s.app.Sessions.Grant(context.Background(), s.acct, request.Origin{IP: "203.0.113.5"}, false, "", amr...)
	if err != nil {
		s.t.Fatal(err)
	}
	return g.Token
}

// TestVerify_SessionCookie_V7_2_1: the proxy's check answers 200 with the
// holder's id, address and methods for a live session, 401 without one or
// with a session signed out, and answers for whatever Host the proxy passes
// on.
func TestVerify_SessionCookie_V7_2_1(t *testing.T) {
	t.Parallel()
	s := newServer(t, nil)
	token := s.session("pwd", "otp", "mfa")
	for _, host := range []string{"auth.example.test", "app.example.test", "elsewhere.invalid"} {
		r := s.get(host, "/auth/verify", map[string]string{httpcore.SessionCookie: token}, nil)
		if r.StatusCode != http.StatusOK {
			t.Fatalf("Host %s: %d", host, r.StatusCode)
		}
		if r.Header.Get("X-Gatehouse-User") != s.acct || r.Header.Get("X-Gatehouse-Email") != app.SeedEmail(0) ||
			r.Header.Get("X-Gatehouse-AMR") != "pwd,otp,mfa" {
			t.Fatalf("headers: %v", r.Header)
		}
	}
	if r := s.get("app.example.test", "/auth/verify", nil, nil); r.StatusCode != http.StatusUnauthorized || r.Header.Get("X-Gatehouse-User") != "" {
		t.Fatalf("no cookie: %d %v", r.StatusCode, r.Header)
	}
	if r := s.get("app.example.test", "/auth/verify", map[string]string{httpcore.SessionCookie: "forged"}, nil); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a forged cookie: %d", r.StatusCode)
	}
	if err := s.app.Sessions.EndAll(context.Background(), s.acct); err != nil {
		t.Fatal(err)
	}
	if r := s.get("app.example.test", "/auth/verify", map[string]string{httpcore.SessionCookie: token}, nil); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("after signing out everywhere: %d", r.StatusCode)
	}
}

// TestVerify_RedirectOnlyToAllowedDomains: without a session, ?rd= sends
// the browser to the sign-in, which comes back through /auth/return; an rd
// outside forward_auth.allowed_domains — another site, a look-alike, a
// userinfo trick, another scheme — is refused, never redirected to.
func TestVerify_RedirectOnlyToAllowedDomains(t *testing.T) {
	t.Parallel()
	s := newServer(t, nil)
	rd := "https://app.example.test/orders?id=7"
	r := s.get("app.example.test", "/auth/verify?"+url.Values{"rd": {rd}}.Encode(), nil, nil)
	if r.StatusCode != http.StatusFound {
		t.Fatalf("rd allowed: %d", r.StatusCode)
	}
	loc, _ := url.Parse(r.Header.Get("Location"))
	back := "/auth/return?" + url.Values{"rd": {rd}}.Encode()
	if loc.Path != "/signin" || loc.Query().Get("next") != back {
		t.Fatalf("Location %s", loc)
	}
	for _, bad := range []string{"https://evil.test/", "https://example.test.evil.test/", "https://evilexample.test/",
		"https://app.example.test@evil.test/", "javascript:alert(1)", "//evil.test/", "ftp://app.example.test/", "/relative",
		`https://evil.test\@app.example.test/`, "https://evil.test#@app.example.test", "https://evil.test?.example.test",
		"https://evil.test%2f.example.test/"} {
		r := s.get("app.example.test", "/auth/verify?"+url.Values{"rd": {bad}}.Encode(), nil, nil)
		if r.StatusCode != http.StatusBadRequest || r.Header.Get("Location") != "" {
			t.Errorf("rd %q: %d, Location %q", bad, r.StatusCode, r.Header.Get("Location"))
		}
	}
	// Signed in too: a proxy set up with a wrong rd fails at once.
	token := s.session("pwd")
	if r := s.get("app.example.test", "/auth/verify?rd=https://evil.test/", map[string]string{httpcore.SessionCookie: token}, nil); r.StatusCode != http.StatusBadRequest {
		t.Errorf("signed in, rd to another site: %d", r.StatusCode)
	}
	if r := s.get("app.example.test", "/auth/verify?"+url.Values{"rd": {rd}}.Encode(), map[string]string{httpcore.SessionCookie: token}, nil); r.StatusCode != http.StatusOK {
		t.Errorf("signed in, rd allowed: %d", r.StatusCode)
	}
}

// TestReturn_SetsTheParentDomainCookieThatOnlyVerifyHonours: the sign-in's
// way back sets the forward-auth cookie for the parent domain and sends
// the browser on to rd; that cookie then proves the session to
// /auth/verify on a sibling host, but it is not a session cookie — the
// holder's pages do not accept it — and it ends with the session.
func TestReturn_SetsTheParentDomainCookieThatOnlyVerifyHonours(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) { t.Parallel(); parentDomainCookie(t, nil) })
	// PostgreSQL with its session cache: the sign-out reaches the cached
	// copy the cookie's checks read.
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		parentDomainCookie(t, map[string]string{"database": pgtest.NewDatabase(t), "session.cache_ttl": "1m"})
	})
}

func parentDomainCookie(t *testing.T, db map[string]string) {
	s := newServer(t, db)
	token := s.session("pwd")
	rd := "https://wiki.example.test/page"
	r := s.get("auth.example.test", "/auth/return?"+url.Values{"rd": {rd}}.Encode(), map[string]string{httpcore.SessionCookie: token}, nil)
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != rd {
		t.Fatalf("return: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	var fa *http.Cookie
	for _, c := range r.Cookies() {
		if c.Name == forwardauth.Cookie {
			fa = c
		}
	}
	if fa == nil || fa.Domain != "example.test" || !fa.Secure || !fa.HttpOnly || fa.Value == "" || strings.Contains(fa.Value, token) {
		t.Fatalf("forward-auth cookie: %+v", fa)
	}
	r = s.get("wiki.example.test", "/auth/verify", map[string]string{forwardauth.Cookie: fa.Value}, nil)
	if r.StatusCode != http.StatusOK || r.Header.Get("X-Gatehouse-User") != s.acct || r.Header.Get("X-Gatehouse-AMR") != "pwd" {
		t.Fatalf("verify with the forward-auth cookie: %d %v", r.StatusCode, r.Header)
	}
	// Not a session for the holder's pages.
	if r := s.get("auth.example.test", "/account", map[string]string{forwardauth.Cookie: fa.Value}, nil); r.StatusCode != http.StatusSeeOther ||
		!strings.HasPrefix(r.Header.Get("Location"), "/signin") {
		t.Fatalf("/account with only the forward-auth cookie: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	// A tampered cookie proves nothing.
	// The first character is changed to another one (a fixed "x" was the
	// same character one time in 64, and the "tampered" cookie was genuine).
	first := "x"
	if fa.Value[0] == 'x' {
		first = "y"
	}
	if r := s.get("wiki.example.test", "/auth/verify", map[string]string{forwardauth.Cookie: first + fa.Value[1:]}, nil); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("tampered: %d", r.StatusCode)
	}
	// Signed out: the cookie ends with the session.
	if err := s.app.Sessions.EndAll(context.Background(), s.acct); err != nil {
		t.Fatal(err)
	}
	if r := s.get("wiki.example.test", "/auth/verify", map[string]string{forwardauth.Cookie: fa.Value}, nil); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("after sign-out: %d", r.StatusCode)
	}
	// A return to an address that is not ours is refused, with no cookie.
	token = s.session("pwd")
	r = s.get("auth.example.test", "/auth/return?"+url.Values{"rd": {"https://evil.test/"}}.Encode(), map[string]string{httpcore.SessionCookie: token}, nil)
	if r.StatusCode != http.StatusBadRequest || len(r.Cookies()) != 0 || r.Header.Get("Location") != "" {
		t.Fatalf("return to another site: %d %v", r.StatusCode, r.Header)
	}
}

// TestVerify_PolicyAsksForASecondStepOrAPasskey: a host whose policy asks
// for a second step (mfa) or a passkey (phr) is answered 403 for a session
// that did not prove it, 200 for one that did; the most specific entry
// wins, and hosts not listed ask for a session only.
func TestVerify_PolicyAsksForASecondStepOrAPasskey(t *testing.T) {
	t.Parallel()
	s := newServer(t, map[string]string{"forward_auth.policy": "example.test=mfa pay.example.test=phr open.example.test=mfa"})
	pwd, mfa, passkey := s.session("pwd"), s.session("pwd", "otp", "mfa"), s.session("swk", "mfa")
	for _, c := range []struct {
		host, token string
		want        int
	}{
		{"app.example.test", pwd, http.StatusForbidden},
		{"app.example.test", mfa, http.StatusOK},
		{"pay.example.test", mfa, http.StatusForbidden},
		{"pay.example.test", passkey, http.StatusOK},
		{"other.invalid", pwd, http.StatusOK},
		// The same host as DNS reads it, and lists of hosts: the
		// strictest rule of any host named.
		{"pay.example.test.", mfa, http.StatusForbidden},
		{"PAY.Example.Test.:443", mfa, http.StatusForbidden},
		{"app.example.test.", pwd, http.StatusForbidden},
		{"pay.example.test, other.invalid", mfa, http.StatusForbidden},
		{"other.invalid, pay.example.test", mfa, http.StatusForbidden},
		{"other.invalid,app.example.test", pwd, http.StatusForbidden},
		{"pay.example.test, app.example.test", passkey, http.StatusOK},
	} {
		r := s.get("auth.example.test", "/auth/verify", map[string]string{httpcore.SessionCookie: c.token}, map[string]string{"X-Forwarded-Host": c.host})
		if r.StatusCode != c.want {
			t.Errorf("%s: %d, want %d", c.host, r.StatusCode, c.want)
		}
		if c.want == http.StatusForbidden && r.Header.Get("X-Gatehouse-User") != "" {
			t.Errorf("%s: a refusal names the holder", c.host)
		}
	}
	// nginx's snippet passes X-Original-URL instead.
	r := s.get("auth.example.test", "/auth/verify", map[string]string{httpcore.SessionCookie: pwd}, map[string]string{"X-Original-URL": "https://pay.example.test/card"})
	if r.StatusCode != http.StatusForbidden || r.Header.Get("X-Gatehouse-Required") != "phr" {
		t.Fatalf("X-Original-URL: %d %v", r.StatusCode, r.Header)
	}
}

// TestSignIn_RecordsWhatItProved: a real password sign-in through the
// holder's form leads, by the sign-in's own redirect, to /auth/return and
// on to the application, and the session it started reports "pwd".
func TestSignIn_RecordsWhatItProved(t *testing.T) {
	t.Parallel()
	s := newServer(t, nil)
	rd := "https://app.example.test/"
	next := "/auth/return?" + url.Values{"rd": {rd}}.Encode()
	form := url.Values{"email": {app.SeedEmail(0)}, "password": {app.SeedPassword}, "next": {next}}
	req, _ := http.NewRequest("POST", s.srv.URL+"/signin", strings.NewReader(form.Encode()))
	req.Host = "auth.example.test"
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "http://auth.example.test")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	r, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != next {
		t.Fatalf("sign-in: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	var token string
	for _, ck := range r.Cookies() {
		if ck.Name == httpcore.SessionCookie {
			token = ck.Value
		}
	}
	r = s.get("auth.example.test", next, map[string]string{httpcore.SessionCookie: token}, nil)
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != rd {
		t.Fatalf("return: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	r = s.get("app.example.test", "/auth/verify", map[string]string{httpcore.SessionCookie: token}, nil)
	if r.StatusCode != http.StatusOK || r.Header.Get("X-Gatehouse-AMR") != "pwd" {
		t.Fatalf("verify: %d %v", r.StatusCode, r.Header)
	}
}

func TestBelow(t *testing.T) {
	t.Parallel()
	for host, want := range map[string]bool{
		"example.test": true, "a.example.test": true, "a.b.example.test": true, "EXAMPLE.test.": true,
		"evilexample.test": false, "example.test.evil": false, "": false, "test": false,
	} {
		if got := forwardauth.Below(host, []string{"example.test"}); got != want {
			t.Errorf("Below(%q) = %v", host, got)
		}
	}
}

// TestVerify_QuietOnTheHotPath: a check the proxy makes for every
// protected request is not an info line of Gatehouse's log when it passes
// (the proxy's access log has it); a refusal still is.
func TestVerify_QuietOnTheHotPath(t *testing.T) {
	t.Parallel()
	var buf syncBuffer
	s := newServerLog(t, nil, slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})))
	token := s.session("pwd")
	if r := s.get("app.example.test", "/auth/verify", map[string]string{httpcore.SessionCookie: token}, nil); r.StatusCode != http.StatusOK {
		t.Fatalf("verify: %d", r.StatusCode)
	}
	if strings.Contains(buf.String(), "path=/auth/verify") {
		t.Fatalf("a passed check was logged at info:\n%s", buf.String())
	}
	if r := s.get("app.example.test", "/auth/verify", nil, nil); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("verify without a session: %d", r.StatusCode)
	}
	if !strings.Contains(buf.String(), "path=/auth/verify status=401") {
		t.Fatalf("a refused check was not logged:\n%s", buf.String())
	}
}

// syncBuffer is a bytes.Buffer the server's goroutines may write at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// BenchmarkVerify is one /auth/verify through the whole handler (host
// check, middleware, route, session check on SQLite, headers), in process:
// its allocations are what the hot path costs the collector. The figure
// over HTTP with 1,000,000 sessions is scripts/bench-forward-auth's.
func BenchmarkVerify(b *testing.B) {
	s := newServer(b, nil)
	token := s.session("pwd", "otp", "mfa")
	h := s.app.Handler()
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("GET", "/auth/verify", nil)
		req.Host = "app.example.test"
		req.RemoteAddr = "127.0.0.1:40000"
		req.Header.Set("Cookie", httpcore.SessionCookie+"="+token)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("%d", w.Code)
		}
	}
}
