package oidcdoor_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"gatehouse/internal/app"
	"gatehouse/internal/config"
	"gatehouse/internal/oidc"
	"gatehouse/internal/oidcdoor"
	"gatehouse/internal/pgtest"
	"gatehouse/internal/web"
)

const (
	issuer   = "http://id.example.test:8080"
	callback = "https://shop.example.test/callback"
)

// provider is a running Gatehouse at id.example.test (the test server's
// address is 127.0.0.1; every request names the host) with one seeded
// holder and one registered application.
type provider struct {
	t      testing.TB
	app    *app.App
	srv    *httptest.Server
	http   *http.Client // reaches the server whatever host a URL names
	acct   string
	client *oidc.Client
	secret string
}

// rewrite sends every request to the test server, keeping its Host.
type rewrite struct{ addr string }

func (rw rewrite) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Host = r.URL.Host
	r.URL.Scheme, r.URL.Host = "http", rw.addr
	return http.DefaultTransport.RoundTrip(r)
}

func newProvider(t testing.TB, extra map[string]string, c oidc.NewClient) *provider {
	t.Helper()
	flags := map[string]string{
		"data": t.TempDir(), "argon2.memory_kib": "8192", "argon2.iterations": "1",
		"signin.new_device_check": "off", "public_url": issuer,
	}
	for k, v := range extra {
		flags[k] = v
	}
	cfg, err := config.Load("", func(string) string { return "" }, flags)
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	ctx := context.Background()
	if err := a.Seed(ctx, 0, 1, 0, false, nil); err != nil {
		t.Fatal(err)
	}
	acc, err := a.DB.AccountByEmail(ctx, app.SeedEmail(0))
	if err != nil {
		t.Fatal(err)
	}
	if c.Name == "" {
		c = oidc.NewClient{Name: "Example Shop", RedirectURIs: []string{callback}, FirstParty: true}
	}
	client, secret, err := a.Clients.Add(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	addr := strings.TrimPrefix(srv.URL, "http://")
	return &provider{t: t, app: a, srv: srv, http: &http.Client{Transport: rewrite{addr}}, acct: acc.ID, client: client, secret: secret}
}

// rp is the application: go-oidc and x/oauth2, as an integrator writes it.
type rp struct {
	p        *provider
	ctx      context.Context
	oauth    *oauth2.Config
	verifier *gooidc.IDTokenVerifier
}

func (p *provider) rp(scopes ...string) *rp {
	p.t.Helper()
	ctx := gooidc.ClientContext(context.Background(), p.http)
	prov, err := gooidc.NewProvider(ctx, issuer)
	if err != nil {
		p.t.Fatalf("go-oidc discovery: %v", err)
	}
	return &rp{p: p, ctx: ctx,
		oauth: &oauth2.Config{ClientID: p.client.ID, ClientSecret: p.secret, Endpoint: prov.Endpoint(), RedirectURL: callback,
			Scopes: append([]string{gooidc.ScopeOpenID}, scopes...)},
		verifier: prov.Verifier(&gooidc.Config{ClientID: p.client.ID})}
}

// browser keeps cookies by name, whatever the host (Gatehouse is one
// host here), and never follows a redirect by itself.
type browser struct {
	p       *provider
	mu      sync.Mutex
	cookies map[string]string
}

func (p *provider) browser() *browser { return &browser{p: p, cookies: map[string]string{}} }

func (b *browser) do(method, target string, form url.Values) *http.Response {
	b.p.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, target, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", issuer)
	}
	b.mu.Lock()
	for k, v := range b.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	b.mu.Unlock()
	c := &http.Client{Transport: b.p.http.Transport, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	r, err := c.Do(req)
	if err != nil {
		b.p.t.Fatal(err)
	}
	defer r.Body.Close()
	raw, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(strings.NewReader(string(raw)))
	b.mu.Lock()
	for _, c := range r.Cookies() {
		if c.MaxAge < 0 {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c.Value
		}
	}
	b.mu.Unlock()
	return r
}

// follow follows redirects within Gatehouse until one leaves for the
// application (returned) or a page answers.
func (b *browser) follow(target string) (*http.Response, string) {
	b.p.t.Helper()
	for range 10 {
		if strings.HasPrefix(target, "/") {
			target = issuer + target
		}
		if !strings.HasPrefix(target, issuer) {
			return nil, target
		}
		r := b.do("GET", target, nil)
		if r.StatusCode/100 != 3 {
			return r, target
		}
		target = r.Header.Get("Location")
	}
	b.p.t.Fatal("too many redirects")
	return nil, ""
}

// signIn answers the sign-in page the flow sent the browser to, and
// follows on.
func (b *browser) signIn(signinURL string) (*http.Response, string) {
	b.p.t.Helper()
	u, _ := url.Parse(signinURL)
	r := b.do("POST", issuer+"/signin", url.Values{"email": {app.SeedEmail(0)}, "password": {app.SeedPassword}, "next": {u.Query().Get("next")}})
	if r.StatusCode != http.StatusSeeOther {
		body, _ := io.ReadAll(r.Body)
		b.p.t.Fatalf("sign-in: %d %s", r.StatusCode, body)
	}
	return b.follow(r.Header.Get("Location"))
}

// start sends the browser to the application's authorization URL.
func (c *rp) start(b *browser, opts ...oauth2.AuthCodeOption) (state, nonce, verifier string, resp *http.Response, at string) {
	state, nonce, verifier = "st-"+time.Now().Format("150405.000000"), "n-"+time.Now().Format("150405.000000"), oauth2.GenerateVerifier()
	opts = append(opts, gooidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier))
	resp, at = b.follow(c.oauth.AuthCodeURL(state, opts...))
	return
}

// finish exchanges the code the browser brought back and verifies the ID
// token as the application does.
func (c *rp) finish(returned, state, nonce, verifier string) (*oauth2.Token, *gooidc.IDToken, map[string]any) {
	t := c.p.t
	t.Helper()
	u, err := url.Parse(returned)
	if err != nil || !strings.HasPrefix(returned, callback) {
		t.Fatalf("the browser did not come back to the application: %q", returned)
	}
	if e := u.Query().Get("error"); e != "" {
		t.Fatalf("the application got an error: %s (%s)", e, u.Query().Get("error_description"))
	}
	if u.Query().Get("state") != state {
		t.Fatalf("state %q, want %q", u.Query().Get("state"), state)
	}
	tok, err := c.oauth.Exchange(c.ctx, u.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("code exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	id, err := c.verifier.Verify(c.ctx, raw)
	if err != nil {
		t.Fatalf("ID token: %v", err)
	}
	if id.Nonce != nonce {
		t.Fatalf("nonce %q, want %q", id.Nonce, nonce)
	}
	var claims map[string]any
	if err := id.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	return tok, id, claims
}

func amrOf(claims map[string]any) []string {
	var out []string
	list, _ := claims["amr"].([]any)
	for _, v := range list {
		s, _ := v.(string)
		out = append(out, s)
	}
	return out
}

// TestFlow_RelyingPartySignsInWithGoOIDC_V6_3: a relying party written
// with go-oidc and x/oauth2 signs the holder in through Gatehouse's own
// sign-in page: discovery, authorization with PKCE, the code exchanged
// once, an ID token that verifies with the JWKS and carries sub, nonce,
// auth_time, amr and sid, and userinfo with the address. The code cannot
// be used twice, and its replay revokes the tokens it bought (RFC 6749
// §4.1.2). Both databases.
func TestFlow_RelyingPartySignsInWithGoOIDC_V6_3(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) { t.Parallel(); relyingPartySignsIn(t, nil) })
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		relyingPartySignsIn(t, map[string]string{"database": pgtest.NewDatabase(t), "session.cache_ttl": "1m"})
	})
}

func relyingPartySignsIn(t *testing.T, db map[string]string) {
	p := newProvider(t, db, oidc.NewClient{})
	c := p.rp(gooidc.ScopeEmail)
	b := p.browser()
	state, nonce, verifier, _, at := c.start(b)
	if !strings.HasPrefix(at, issuer+"/signin?") {
		t.Fatalf("a browser without a session goes to the sign-in page; it is at %s", at)
	}
	// The sign-in page says which application it continues to; the same
	// page reached with another next names none.
	page := b.do("GET", at, nil)
	body, _ := io.ReadAll(page.Body)
	if !strings.Contains(string(body), "Sign in to continue to Example Shop.") {
		t.Fatalf("the sign-in page does not name the application:\n%s", body)
	}
	page = b.do("GET", issuer+"/signin?"+url.Values{"next": {"/account"}, "app": {p.client.ID}}.Encode(), nil)
	if body, _ := io.ReadAll(page.Body); strings.Contains(string(body), "Example Shop") {
		t.Fatal("a sign-in for the account page names an application")
	}
	_, back := b.signIn(at)
	tok, id, claims := c.finish(back, state, nonce, verifier)
	if id.Subject != p.acct || id.Issuer != issuer || !slices.Equal(id.Audience, []string{p.client.ID}) {
		t.Fatalf("ID token: sub %q iss %q aud %v", id.Subject, id.Issuer, id.Audience)
	}
	if amr := amrOf(claims); !slices.Equal(amr, []string{"pwd"}) {
		t.Fatalf("amr %v, want [pwd] for a password sign-in", amr)
	}
	if at, ok := claims["auth_time"].(float64); !ok || time.Since(time.Unix(int64(at), 0)) > time.Minute {
		t.Fatalf("auth_time %v", claims["auth_time"])
	}
	if sid, _ := claims["sid"].(string); sid == "" {
		t.Fatalf("no sid: %v", claims)
	}
	// The email scope: the address in the ID token, as in userinfo.
	if claims["email"] != app.SeedEmail(0) || claims["email_verified"] != true {
		t.Fatalf("ID token with the email scope: %v", claims)
	}
	if tok.RefreshToken != "" {
		t.Fatal("a refresh token without offline_access")
	}
	prov, err := gooidc.NewProvider(c.ctx, issuer)
	if err != nil {
		t.Fatal(err)
	}
	ui, err := prov.UserInfo(c.ctx, oauth2.StaticTokenSource(tok))
	if err != nil || ui.Subject != p.acct || ui.Email != app.SeedEmail(0) {
		t.Fatalf("userinfo: %+v %v", ui, err)
	}

	// The same code again: refused, and the access token it bought is
	// revoked.
	u, _ := url.Parse(back)
	if _, err := c.oauth.Exchange(c.ctx, u.Query().Get("code"), oauth2.VerifierOption(verifier)); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
		t.Fatalf("second exchange of one code: %v", err)
	}
	if _, err := prov.UserInfo(c.ctx, oauth2.StaticTokenSource(tok)); err == nil {
		t.Fatal("the access token still works after its code was replayed")
	}

	// Signed in already: the next authorization needs no page at all.
	state, nonce, verifier, _, back = c.start(b)
	c.finish(back, state, nonce, verifier)
}

// TestFlow_RefreshRotationAndReuse_V7_4: with offline_access the
// application gets a refresh token; each refresh rotates it; using a
// rotated one again revokes the whole family, so the newest is refused
// too; and after the holder signs out everywhere a new family's refresh
// is refused (invalid_grant).
func TestFlow_RefreshRotationAndReuse_V7_4(t *testing.T) {
	t.Parallel()
	p := newProvider(t, nil, oidc.NewClient{})
	c := p.rp(gooidc.ScopeOfflineAccess)
	b := p.browser()
	state, nonce, verifier, _, at := c.start(b)
	_, back := b.signIn(at)
	tok, _, _ := c.finish(back, state, nonce, verifier)
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token with offline_access")
	}
	refresh := func(rt string) (*oauth2.Token, error) {
		return c.oauth.TokenSource(c.ctx, &oauth2.Token{RefreshToken: rt, Expiry: time.Now().Add(-time.Hour)}).Token()
	}
	first := tok.RefreshToken
	second, err := refresh(first)
	if err != nil || second.RefreshToken == "" || second.RefreshToken == first {
		t.Fatalf("refresh: %v %+v", err, second)
	}
	if raw, _ := second.Extra("id_token").(string); raw != "" {
		id, err := c.verifier.Verify(c.ctx, raw)
		if err != nil || id.Subject != p.acct {
			t.Fatalf("refreshed ID token: %v", err)
		}
	}
	if _, err := refresh(first); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
		t.Fatalf("a rotated refresh token used again: %v", err)
	}
	if _, err := refresh(second.RefreshToken); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
		t.Fatalf("the newest token of a family revoked for reuse: %v", err)
	}

	// A new family, then sign out everywhere.
	state, nonce, verifier, _, back = c.start(b)
	tok, _, _ = c.finish(back, state, nonce, verifier)
	fresh, err := refresh(tok.RefreshToken)
	if err != nil {
		t.Fatalf("refresh of a new family: %v", err)
	}
	newest := fresh.RefreshToken
	r := b.do("POST", issuer+"/account/signout-everywhere", url.Values{})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign out everywhere: %d", r.StatusCode)
	}
	// (The refresh above rotated tok's token, so this use would also be a
	// reuse; take the newest instead.)
	_, err = refresh(newest)
	if err == nil || !strings.Contains(err.Error(), "invalid_grant") {
		t.Fatalf("refresh after sign out everywhere: %v", err)
	}
}

// TestFlow_RPInitiatedLogoutAsksFirst_V7_4_1: the application's logout
// (end_session with id_token_hint and a registered
// post_logout_redirect_uri) never signs the browser out by itself — a
// logout link is a GET any site can make a browser follow — but leads to
// a page that asks; confirming ends the session and returns to the
// application with its state; an unregistered return address is refused.
func TestFlow_RPInitiatedLogoutAsksFirst_V7_4_1(t *testing.T) {
	t.Parallel()
	const after = "https://shop.example.test/bye"
	p := newProvider(t, nil, oidc.NewClient{Name: "Example Shop", RedirectURIs: []string{callback}, PostLogoutRedirectURIs: []string{after}, FirstParty: true})
	c := p.rp()
	b := p.browser()
	state, nonce, verifier, _, at := c.start(b)
	_, back := b.signIn(at)
	tok, _, _ := c.finish(back, state, nonce, verifier)
	hint, _ := tok.Extra("id_token").(string)

	q := url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {"https://evil.example/"}, "state": {"s1"}}
	if r := b.do("GET", issuer+"/oidc/end_session?"+q.Encode(), nil); r.StatusCode/100 == 3 {
		t.Fatalf("an unregistered return address: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	q.Set("post_logout_redirect_uri", after)
	page, _ := b.follow(issuer + "/oidc/end_session?" + q.Encode())
	body, _ := io.ReadAll(page.Body)
	if page.StatusCode != http.StatusOK || !strings.Contains(string(body), `action="/oidc/logout"`) {
		t.Fatalf("the logout question: %d %s", page.StatusCode, body)
	}
	if r := b.do("GET", issuer+"/account", nil); r.StatusCode != http.StatusOK {
		t.Fatalf("the GET signed the browser out: /account %d", r.StatusCode)
	}
	m := regexpTo.FindStringSubmatch(string(body))
	if m == nil {
		t.Fatalf("no sealed target in %s", body)
	}
	r := b.do("POST", issuer+"/oidc/logout", url.Values{"to": {m[1]}})
	if r.StatusCode != http.StatusOK || r.Header.Get("Refresh") != "0; url="+after+"?state=s1" {
		t.Fatalf("confirmed logout: %d Refresh %q", r.StatusCode, r.Header.Get("Refresh"))
	}
	if r := b.do("GET", issuer+"/account", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("still signed in after confirming: /account %d", r.StatusCode)
	}
	// A forged target does not open.
	if r := b.do("POST", issuer+"/oidc/logout", url.Values{"to": {"x" + m[1]}}); r.StatusCode != http.StatusBadRequest {
		t.Fatalf("a forged target: %d", r.StatusCode)
	}
}

var regexpTo = regexp.MustCompile(`name="to" value="([^"]+)"`)

// TestFlow_ConsentForAnotherPartysApplication_V6_3: an application not
// marked first-party needs the holder's yes: the hand-off sends the
// browser to the consent page, which names it and what it would read;
// "don't allow" answers access_denied to the application, "allow" lets it
// sign in, and the next sign-in asks no more. prompt=none without a
// session answers login_required; another browser cannot continue a
// request it did not bring.
func TestFlow_ConsentForAnotherPartysApplication_V6_3(t *testing.T) {
	t.Parallel()
	p := newProvider(t, nil, oidc.NewClient{Name: "Partner Travel", RedirectURIs: []string{callback}})
	c := p.rp(gooidc.ScopeEmail)
	b := p.browser()

	// prompt=none, signed out: the application is told at once.
	_, _, _, _, back := c.start(b, oauth2.SetAuthURLParam("prompt", "none"))
	if u, _ := url.Parse(back); u == nil || u.Query().Get("error") != "login_required" {
		t.Fatalf("prompt=none without a session: %s", back)
	}

	_, _, _, _, at := c.start(b)
	page, at := b.signIn(at)
	if page == nil || !strings.HasPrefix(at, issuer+"/oidc/consent?") {
		t.Fatalf("after the sign-in: %s", at)
	}
	body, _ := io.ReadAll(page.Body)
	if !strings.Contains(string(body), "Partner Travel") || !strings.Contains(string(body), "Your email address") {
		t.Fatalf("the consent page does not say who asks for what: %s", body)
	}
	id := regexpID.FindStringSubmatch(string(body))
	if id == nil {
		t.Fatalf("no request id on the consent page")
	}
	// Another browser, signed in as the same holder, cannot answer or
	// continue it.
	other := p.browser()
	other.signIn(issuer + "/signin?next=/account")
	if r := other.do("GET", issuer+"/oidc/authorize/continue?id="+id[1], nil); r.StatusCode != http.StatusBadRequest {
		t.Fatalf("another browser continued the request: %d", r.StatusCode)
	}
	if r := other.do("POST", issuer+"/oidc/consent", url.Values{"id": {id[1]}, "answer": {"allow"}}); r.StatusCode != http.StatusBadRequest {
		t.Fatalf("another browser consented: %d", r.StatusCode)
	}

	r := b.do("POST", issuer+"/oidc/consent", url.Values{"id": {id[1]}, "answer": {"deny"}})
	if _, back := b.follow(r.Header.Get("Location")); !strings.Contains(back, "error=access_denied") {
		t.Fatalf("after don't allow: %s", back)
	}

	state, nonce, verifier, page, at := c.start(b)
	if page == nil || !strings.HasPrefix(at, issuer+"/oidc/consent?") {
		t.Fatalf("asked again after a refusal: %s", at)
	}
	body, _ = io.ReadAll(page.Body)
	id = regexpID.FindStringSubmatch(string(body))
	r = b.do("POST", issuer+"/oidc/consent", url.Values{"id": {id[1]}, "answer": {"allow"}})
	_, back = b.follow(r.Header.Get("Location"))
	c.finish(back, state, nonce, verifier)

	state, nonce, verifier, _, back = c.start(b)
	c.finish(back, state, nonce, verifier)
	apps, err := p.app.Apps.Connected(context.Background(), p.acct)
	if err != nil || len(apps) != 1 || apps[0].Name != "Partner Travel" {
		t.Fatalf("connected applications: %+v %v", apps, err)
	}
}

var regexpID = regexp.MustCompile(`name="id" value="([^"]+)"`)

// TestFlow_PublicClientMustUsePKCE_V6_3: a public client (no secret)
// without a code challenge, or with the plain method, is refused at the
// authorization endpoint; with S256 it signs in, and a wrong verifier at
// the token endpoint is invalid_grant.
func TestFlow_PublicClientMustUsePKCE_V6_3(t *testing.T) {
	t.Parallel()
	const native = "http://127.0.0.1/callback"
	p := newProvider(t, nil, oidc.NewClient{Name: "Shop app", RedirectURIs: []string{native}, Public: true, FirstParty: true})
	b := p.browser()
	q := url.Values{"client_id": {p.client.ID}, "redirect_uri": {native}, "response_type": {"code"}, "scope": {"openid"}, "state": {"s"}}
	for name, extra := range map[string]url.Values{
		"no challenge": {},
		"plain":        {"code_challenge": {"abcdefghijabcdefghijabcdefghijabcdefghij123"}, "code_challenge_method": {"plain"}},
	} {
		v := url.Values{}
		for k, x := range q {
			v[k] = x
		}
		for k, x := range extra {
			v[k] = x
		}
		r := b.do("GET", issuer+"/oidc/authorize?"+v.Encode(), nil)
		loc := r.Header.Get("Location")
		if !strings.HasPrefix(loc, native) || !strings.Contains(loc, "error=invalid_request") {
			t.Fatalf("%s: %d %s", name, r.StatusCode, loc)
		}
	}
	verifier := oauth2.GenerateVerifier()
	q.Set("code_challenge", oauth2.S256ChallengeFromVerifier(verifier))
	q.Set("code_challenge_method", "S256")
	_, at := b.follow(issuer + "/oidc/authorize?" + q.Encode())
	_, back := b.signIn(at)
	u, _ := url.Parse(back)
	code := u.Query().Get("code")
	if code == "" {
		t.Fatalf("no code: %s", back)
	}
	exchange := func(v string) *http.Response {
		form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {native}, "client_id": {p.client.ID}, "code_verifier": {v}}
		req, _ := http.NewRequest("POST", issuer+"/oidc/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r, err := p.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	r := exchange(oauth2.GenerateVerifier())
	body, _ := io.ReadAll(r.Body)
	if r.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "invalid_grant") {
		t.Fatalf("a wrong verifier: %d %s", r.StatusCode, body)
	}
	r = exchange(verifier)
	body, _ = io.ReadAll(r.Body)
	if r.StatusCode != http.StatusOK || !strings.Contains(string(body), "id_token") {
		t.Fatalf("the right verifier: %d %s", r.StatusCode, body)
	}
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("token response Cache-Control %q", r.Header.Get("Cache-Control"))
	}
}

// benchDatabases are SQLite, and PostgreSQL when the tests have one (a
// fresh database each).
func benchDatabases(tb testing.TB) map[string]func() map[string]string {
	out := map[string]func() map[string]string{"sqlite": func() map[string]string { return nil }}
	if os.Getenv("GATEHOUSE_TEST_POSTGRES") != "" {
		out["postgres"] = func() map[string]string {
			return map[string]string{"database": pgtest.NewDatabase(tb), "session.cache_ttl": "1m"}
		}
	}
	return out
}

// TestFlow_BackchannelLogout_V7_4_1: an application registered with a
// back-channel logout URI hears, by a logout token signed with the
// provider's keys (typ logout+jwt; iss, aud, sub, sid, the logout event,
// no nonce), when the session that signed in to it ends — here, the
// holder signing out on Gatehouse — and again when the holder disconnects
// it after signing in once more. Each sign-in is told once.
func TestFlow_BackchannelLogout_V7_4_1(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var tokens []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.Method != "POST" {
			http.Error(w, "bad", http.StatusBadRequest)
			return
		}
		mu.Lock()
		tokens = append(tokens, r.PostForm.Get("logout_token"))
		mu.Unlock()
	}))
	t.Cleanup(hook.Close)
	p := newProvider(t, nil, oidc.NewClient{Name: "Example Shop", RedirectURIs: []string{callback}, FirstParty: true, BackchannelLogoutURI: hook.URL + "/logout"})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go p.app.Deliveries.Run(ctx)

	c := p.rp()
	b := p.browser()
	state, nonce, verifier, _, at := c.start(b)
	_, back := b.signIn(at)
	_, _, claims := c.finish(back, state, nonce, verifier)
	sid, _ := claims["sid"].(string)

	received := func(n int) []string {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			mu.Lock()
			got := append([]string(nil), tokens...)
			mu.Unlock()
			if len(got) >= n {
				return got
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("%d logout tokens arrived, want %d", len(tokens), n)
		return nil
	}
	check := func(raw, wantSID string) {
		t.Helper()
		jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.RS256})
		if err != nil {
			t.Fatalf("logout token: %v", err)
		}
		if typ, _ := jws.Signatures[0].Protected.ExtraHeaders["typ"].(string); typ != "logout+jwt" {
			t.Fatalf("typ %q", typ)
		}
		set, err := p.app.SigningKeys.Published(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		keys := set.Key(jws.Signatures[0].Header.KeyID)
		if len(keys) != 1 {
			t.Fatalf("the token's key %q is not in the JWKS", jws.Signatures[0].Header.KeyID)
		}
		payload, err := jws.Verify(keys[0].Key)
		if err != nil {
			t.Fatalf("signature: %v", err)
		}
		var lt map[string]any
		json.Unmarshal(payload, &lt)
		events, _ := lt["events"].(map[string]any)
		if lt["iss"] != issuer || lt["aud"] != p.client.ID || lt["sub"] != p.acct || lt["sid"] != wantSID || lt["nonce"] != nil ||
			events["http://schemas.openid.net/event/backchannel-logout"] == nil || lt["jti"] == nil || lt["iat"] == nil || lt["exp"] == nil {
			t.Fatalf("logout token claims: %v", lt)
		}
	}

	if r := b.do("POST", issuer+"/signout", url.Values{}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign out: %d", r.StatusCode)
	}
	check(received(1)[0], sid)

	// Signed in again, then the holder disconnects the application.
	state, nonce, verifier, _, at = c.start(b)
	_, back = b.signIn(at)
	_, _, claims = c.finish(back, state, nonce, verifier)
	sid2, _ := claims["sid"].(string)
	if sid2 == sid || sid2 == "" {
		t.Fatalf("a new sign-in has a new sid: %q then %q", sid, sid2)
	}
	if r := b.do("POST", issuer+"/account/apps/disconnect", url.Values{"client": {p.client.ID}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("disconnect: %d", r.StatusCode)
	}
	check(received(2)[1], sid2)
	time.Sleep(200 * time.Millisecond)
	if n := len(received(2)); n != 2 {
		t.Fatalf("%d logout tokens, want each sign-in told once", n)
	}
}

// TestFlow_RevocationEndpoint_RFC7009: the application revokes its refresh
// token at /oidc/revoke and the family is refused after; it revokes an
// access token and userinfo refuses it; another client cannot revoke
// them, and an unknown token is answered 200 (RFC 7009 §2.2).
func TestFlow_RevocationEndpoint_RFC7009(t *testing.T) {
	t.Parallel()
	p := newProvider(t, nil, oidc.NewClient{})
	other, otherSecret, err := p.app.Clients.Add(context.Background(), oidc.NewClient{Name: "Other", RedirectURIs: []string{callback}, FirstParty: true})
	if err != nil {
		t.Fatal(err)
	}
	c := p.rp(gooidc.ScopeOfflineAccess, gooidc.ScopeEmail)
	b := p.browser()
	state, nonce, verifier, _, at := c.start(b)
	_, back := b.signIn(at)
	tok, _, _ := c.finish(back, state, nonce, verifier)
	revoke := func(id, secret, token, hint string) int {
		form := url.Values{"token": {token}}
		if hint != "" {
			form.Set("token_type_hint", hint)
		}
		req, _ := http.NewRequest("POST", issuer+"/oidc/revoke", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
		r, err := p.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		return r.StatusCode
	}
	prov, err := gooidc.NewProvider(c.ctx, issuer)
	if err != nil {
		t.Fatal(err)
	}
	refresh := func(rt string) error {
		_, err := c.oauth.TokenSource(c.ctx, &oauth2.Token{RefreshToken: rt, Expiry: time.Now().Add(-time.Hour)}).Token()
		return err
	}

	if code := revoke(other.ID, otherSecret, tok.RefreshToken, ""); code == http.StatusOK {
		if err := refresh(tok.RefreshToken); err != nil {
			t.Fatalf("another client revoked the refresh token: %v", err)
		}
		t.Fatalf("another client's revocation answered 200")
	}
	if code := revoke(other.ID, otherSecret, tok.AccessToken, "access_token"); code == http.StatusOK {
		t.Fatalf("another client's revocation of the access token answered 200")
	}
	if _, err := prov.UserInfo(c.ctx, oauth2.StaticTokenSource(tok)); err != nil {
		t.Fatalf("userinfo before the revocation: %v", err)
	}
	if code := revoke(p.client.ID, p.secret, tok.AccessToken, "access_token"); code != http.StatusOK {
		t.Fatalf("revoke the access token: %d", code)
	}
	if _, err := prov.UserInfo(c.ctx, oauth2.StaticTokenSource(tok)); err == nil {
		t.Fatal("userinfo accepts a revoked access token")
	}
	if code := revoke(p.client.ID, p.secret, tok.RefreshToken, ""); code != http.StatusOK {
		t.Fatalf("revoke the refresh token: %d", code)
	}
	if err := refresh(tok.RefreshToken); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
		t.Fatalf("refresh after revocation: %v", err)
	}
	if code := revoke(p.client.ID, p.secret, "not-a-token", ""); code != http.StatusOK {
		t.Fatalf("an unknown token: %d", code)
	}
}

// TestFlow_BrowserAppCallsFromItsOrigin_CORS: a public client's pages (a
// single-page application at the origin of its redirect URI) may read the
// token, userinfo and revocation endpoints' answers: they name its
// origin, never allow credentials, and a preflight for userinfo's
// Authorization header is answered. Any other origin — a confidential
// client's, or an unknown site's — gets no CORS header, so its browser
// withholds the answer.
func TestFlow_BrowserAppCallsFromItsOrigin_CORS(t *testing.T) {
	t.Parallel()
	const spa, spaCallback = "https://spa.example.test", "https://spa.example.test/cb"
	p := newProvider(t, nil, oidc.NewClient{Name: "Shop SPA", RedirectURIs: []string{spaCallback}, Public: true, FirstParty: true})
	if _, _, err := p.app.Clients.Add(context.Background(), oidc.NewClient{Name: "Shop server", RedirectURIs: []string{callback}, FirstParty: true}); err != nil {
		t.Fatal(err)
	}
	call := func(method, path, origin string, header map[string]string, form url.Values) *http.Response {
		t.Helper()
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, _ := http.NewRequest(method, issuer+path, body)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		for k, v := range header {
			req.Header.Set(k, v)
		}
		r, err := p.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Body.Close() })
		return r
	}
	allowed := func(what string, r *http.Response, origin string) {
		t.Helper()
		if got := r.Header.Get("Access-Control-Allow-Origin"); got != origin {
			t.Errorf("%s: Access-Control-Allow-Origin %q, want %q", what, got, origin)
		}
		if r.Header.Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("%s: credentials allowed", what)
		}
		if !slices.Contains(r.Header.Values("Vary"), "Origin") {
			t.Errorf("%s: Vary %q lacks Origin (the answer depends on it)", what, r.Header.Values("Vary"))
		}
	}

	// The preflight of userinfo with a bearer token.
	pre := map[string]string{"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"}
	r := call("OPTIONS", "/oidc/userinfo", spa, pre, nil)
	if r.StatusCode != http.StatusNoContent {
		t.Fatalf("preflight from the app's origin: %d", r.StatusCode)
	}
	allowed("preflight", r, spa)
	if h := strings.ToLower(r.Header.Get("Access-Control-Allow-Headers")); !strings.Contains(h, "authorization") {
		t.Errorf("preflight allows headers %q", h)
	}
	for _, origin := range []string{"https://evil.example.test", "https://shop.example.test", "null", ""} {
		r := call("OPTIONS", "/oidc/userinfo", origin, pre, nil)
		if r.StatusCode != http.StatusForbidden || r.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("preflight from %q: %d, Access-Control-Allow-Origin %q", origin, r.StatusCode, r.Header.Get("Access-Control-Allow-Origin"))
		}
	}

	// The code exchange, from the app's pages.
	b := p.browser()
	verifier := oauth2.GenerateVerifier()
	q := url.Values{"client_id": {p.client.ID}, "redirect_uri": {spaCallback}, "response_type": {"code"}, "scope": {"openid email"},
		"state": {"s"}, "code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"}}
	_, at := b.follow(issuer + "/oidc/authorize?" + q.Encode())
	_, back := b.signIn(at)
	u, _ := url.Parse(back)
	exchange := url.Values{"grant_type": {"authorization_code"}, "code": {u.Query().Get("code")}, "redirect_uri": {spaCallback},
		"client_id": {p.client.ID}, "code_verifier": {verifier}}
	r = call("POST", "/oidc/token", spa, nil, exchange)
	if r.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(r.Body)
		t.Fatalf("exchange from the app's origin: %d %s", r.StatusCode, body)
	}
	allowed("token", r, spa)
	var tok struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	if err := json.NewDecoder(r.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("token answer: %v %+v", err, tok)
	}

	bearer := map[string]string{"Authorization": "Bearer " + tok.AccessToken}
	r = call("GET", "/oidc/userinfo", spa, bearer, nil)
	if r.StatusCode != http.StatusOK {
		t.Fatalf("userinfo from the app's origin: %d", r.StatusCode)
	}
	allowed("userinfo", r, spa)
	r = call("GET", "/oidc/userinfo", "https://evil.example.test", bearer, nil)
	if r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Error("userinfo named another site's origin")
	}
	r = call("GET", "/oidc/userinfo", spa, map[string]string{"Authorization": "Bearer not-a-token"}, nil)
	if r.StatusCode != http.StatusUnauthorized || !strings.Contains(r.Header.Get("Access-Control-Expose-Headers"), "WWW-Authenticate") {
		t.Errorf("a refused userinfo: %d, exposes %q", r.StatusCode, r.Header.Get("Access-Control-Expose-Headers"))
	}
	r = call("POST", "/oidc/revoke", spa, nil, url.Values{"token": {tok.AccessToken}, "client_id": {p.client.ID}})
	if r.StatusCode != http.StatusOK {
		t.Fatalf("revocation from the app's origin: %d", r.StatusCode)
	}
	allowed("revoke", r, spa)
}

// TestContinuePath_TheSignInPageKnowsIt: the sign-in page names the
// application only when its next is the hand-off, which it knows by path.
func TestContinuePath_TheSignInPageKnowsIt(t *testing.T) {
	if web.OIDCContinuePath != oidcdoor.ContinuePath {
		t.Fatalf("web.OIDCContinuePath %q, oidcdoor.ContinuePath %q", web.OIDCContinuePath, oidcdoor.ContinuePath)
	}
}
