package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// relyingParty is an application that signs its users in through
// Gatehouse, written the way an integrator writes one: go-oidc for
// discovery and ID-token verification, x/oauth2 for the code flow with
// PKCE. It runs on localhost (a different site from Gatehouse on
// 127.0.0.1, as an application on its own domain is).
type relyingParty struct {
	t        *testing.T
	URL      string
	oauth    *oauth2.Config
	verifier *gooidc.IDTokenVerifier
	ctx      context.Context

	mu      sync.Mutex
	pending map[string][2]string // state → nonce, PKCE verifier
	last    signedIn
}

// signedIn is what the application learnt from its last sign-in.
type signedIn struct {
	token  *oauth2.Token
	claims map[string]any
	err    string
}

// addClient registers an application with the command an operator runs.
func addClient(t *testing.T, data string, args ...string) (id, secret string) {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"client", "add", "--data", data, "--json"}, args...)...)
	cmd.Env = os.Environ()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("client add: %v\n%s", err, out)
	}
	var c struct {
		ID     string `json:"client_id"`
		Secret string `json:"client_secret"`
	}
	if err := json.Unmarshal(out, &c); err != nil || c.ID == "" {
		t.Fatalf("client add --json: %q", out)
	}
	return c.ID, c.Secret
}

// newRelyingParty starts the application's server; register it with the
// returned callback URL before it signs anyone in (start).
func newRelyingParty(t *testing.T) (*relyingParty, string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rp := &relyingParty{t: t, URL: fmt.Sprintf("http://localhost:%d", l.Addr().(*net.TCPAddr).Port), pending: map[string][2]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", rp.login)
	mux.HandleFunc("GET /callback", rp.callback)
	srv := &http.Server{Handler: mux}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return rp, rp.URL + "/callback"
}

// start reads Gatehouse's discovery document as go-oidc does.
func (rp *relyingParty) start(issuer, clientID, secret string) {
	rp.t.Helper()
	rp.ctx = context.Background()
	prov, err := gooidc.NewProvider(rp.ctx, issuer)
	if err != nil {
		rp.t.Fatalf("discovery: %v", err)
	}
	rp.oauth = &oauth2.Config{ClientID: clientID, ClientSecret: secret, Endpoint: prov.Endpoint(), RedirectURL: rp.URL + "/callback",
		Scopes: []string{gooidc.ScopeOpenID, gooidc.ScopeEmail, gooidc.ScopeOfflineAccess}}
	rp.verifier = prov.Verifier(&gooidc.Config{ClientID: clientID})
}

// login sends the browser to Gatehouse; ?acr= asks for a step-up, ?prompt=
// for a fresh sign-in, ?max_age= for a proof no older than that.
func (rp *relyingParty) login(w http.ResponseWriter, r *http.Request) {
	state, nonce, verifier := oauth2.GenerateVerifier(), oauth2.GenerateVerifier(), oauth2.GenerateVerifier()
	rp.mu.Lock()
	rp.pending[state] = [2]string{nonce, verifier}
	rp.mu.Unlock()
	opts := []oauth2.AuthCodeOption{gooidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)}
	if acr := r.URL.Query().Get("acr"); acr != "" {
		opts = append(opts, oauth2.SetAuthURLParam("acr_values", acr))
	}
	if p := r.URL.Query().Get("prompt"); p != "" {
		opts = append(opts, oauth2.SetAuthURLParam("prompt", p))
	}
	if m := r.URL.Query().Get("max_age"); m != "" {
		opts = append(opts, oauth2.SetAuthURLParam("max_age", m))
	}
	http.Redirect(w, r, rp.oauth.AuthCodeURL(state, opts...), http.StatusFound)
}

// callback exchanges the code and verifies the ID token, then shows the
// result on a page the browser test waits for.
func (rp *relyingParty) callback(w http.ResponseWriter, r *http.Request) {
	var got signedIn
	defer func() {
		rp.mu.Lock()
		rp.last = got
		rp.mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if got.err != "" {
			fmt.Fprintf(w, `<!doctype html><html lang="en"><title>Shop</title><main><h1 id="rp-error">Sign-in failed</h1><p>%s</p></main>`, got.err)
			return
		}
		fmt.Fprint(w, `<!doctype html><html lang="en"><title>Shop</title><main><h1 id="rp-done">Signed in</h1></main>`)
	}()
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		got.err = e
		return
	}
	rp.mu.Lock()
	p, ok := rp.pending[q.Get("state")]
	delete(rp.pending, q.Get("state"))
	rp.mu.Unlock()
	if !ok {
		got.err = "unknown state"
		return
	}
	tok, err := rp.oauth.Exchange(rp.ctx, q.Get("code"), oauth2.VerifierOption(p[1]))
	if err != nil {
		got.err = "exchange: " + err.Error()
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	id, err := rp.verifier.Verify(rp.ctx, raw)
	if err != nil {
		got.err = "id token: " + err.Error()
		return
	}
	if id.Nonce != p[0] {
		got.err = "nonce"
		return
	}
	got.token = tok
	id.Claims(&got.claims)
}

func (rp *relyingParty) result() signedIn {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	return rp.last
}

// refresh uses a refresh token as the application does when its access
// token expired.
func (rp *relyingParty) refresh(token string) (*oauth2.Token, error) {
	return rp.oauth.TokenSource(rp.ctx, &oauth2.Token{RefreshToken: token, Expiry: time.Now().Add(-time.Hour)}).Token()
}

func claimList(claims map[string]any, name string) []string {
	var out []string
	list, _ := claims[name].([]any)
	for _, v := range list {
		s, _ := v.(string)
		out = append(out, s)
	}
	return out
}

// TestBrowser_OIDC_SignInStepUpSignOutEverywhere is the relying
// party in a real browser: an application on another site signs a holder
// in through Gatehouse's own sign-in page (a trusted browser: the password
// alone, amr [pwd]); it then asks for the REFEDS MFA profile, and the
// browser goes through a re-verification with a second step before the
// code is issued — the new ID token says acr mfa and amr mfa. The
// application is listed on /account/apps with a form that disconnects it;
// a rotated refresh token used again revokes its family; after "sign out
// everywhere" the application's refresh is refused (invalid_grant). Every
// page passes the accessibility check, and Chromium follows every way back
// to the application (the pages' CSP form-action would block a redirect
// after a form).
func TestBrowser_OIDC_SignInStepUpSignOutEverywhere(t *testing.T) {
	port := fmt.Sprint(freePort(t))
	issuer := "http://127.0.0.1:" + port
	env := map[string]string{"GATEHOUSE_PUBLIC_URL": issuer}
	for k, v := range cheapArgon {
		env[k] = v
	}
	data := t.TempDir()
	p := serveOn(t, data, "127.0.0.1:"+port, env)
	rp, cb := newRelyingParty(t)
	id, secret := addClient(t, data, "--name", "Example Shop", "--redirect-uri", cb, "--first-party")
	rp.start(issuer, id, secret)

	// The holder: an authenticator app, and this browser trusted to skip
	// the second step.
	const email, pw = "oidc-holder@example.com", "violet canoe at dawn"
	b := openTab(t)
	signUpJa(t, p, b, email)
	b.run("confirm", typeInto("#f-code", latestCode(t, p.URL, email)), submit("/signup/confirm", "#account-email"))
	b.run("add an app", chromedp.Navigate(p.URL+"/account/two-step/app"), visible("svg.qr"))
	uri := b.eval(`document.getElementById("otpauth-uri").textContent`)
	b.run("confirm the app", typeInto("#f-code", appCode(t, uri, time.Now())), submit("/account/two-step/app", ".backup-code"))
	backup := strings.Fields(b.eval(`Array.from(document.querySelectorAll(".backup-code")).map(e => e.textContent).join(" ")`))
	b.run("sign out", chromedp.Navigate(p.URL+"/account"), visible("#account-email"), clickAndLoad(`form[action="/signout"] button`, "#f-email"))
	b.run("password", typeInto("#f-email", email), typeInto("#f-password", pw), submit("/signin", "#f-code"))
	b.run("app code, trusting this browser", typeInto("#f-code", appCode(t, uri, time.Now().Add(30*time.Second))),
		chromedp.Click("#f-trust"), submit("/signin/verify", "#account-email"))
	b.run("sign out", clickAndLoad(`form[action="/signout"] button`, "#f-email"))

	// The application signs the holder in.
	b.run("open the application", chromedp.Navigate(rp.URL+"/login"), visible("#f-email"))
	if !strings.HasPrefix(b.eval(`location.href`), issuer+"/signin?") {
		t.Fatalf("the application sent the browser to %s", b.eval(`location.href`))
	}
	b.run("password alone (trusted browser)", typeInto("#f-email", email), typeInto("#f-password", pw), submit("/signin", "#rp-done, #rp-error"))
	got := rp.result()
	if got.err != "" {
		t.Fatalf("the application's sign-in: %s", got.err)
	}
	if amr := claimList(got.claims, "amr"); !slices.Equal(amr, []string{"pwd"}) || got.claims["acr"] != nil {
		t.Fatalf("a trusted browser's sign-in: amr %v acr %v, want [pwd] and no acr", amr, got.claims["acr"])
	}
	first := got.token.RefreshToken

	// Step-up: the application asks for a second step.
	b.run("the application asks for a second step", chromedp.Navigate(rp.URL+"/login?acr="+"https://refeds.org/profile/mfa"), visible("#f-password"))
	if path := b.path(); path != "/account/reverify" {
		t.Fatalf("step-up went to %s", path)
	}
	b.run("use a backup code", clickAndLoad(`a[href*="method=backup"]`, "#f-code"))
	b.run("password and backup code", typeInto("#f-password", pw), typeInto("#f-code", backup[0]), submit("/account/reverify", "#rp-done, #rp-error"))
	got = rp.result()
	if got.err != "" {
		t.Fatalf("the step-up: %s", got.err)
	}
	if amr := claimList(got.claims, "amr"); got.claims["acr"] != "https://refeds.org/profile/mfa" || !slices.Contains(amr, "mfa") {
		t.Fatalf("after the step-up: acr %v amr %v", got.claims["acr"], amr)
	}

	// The connected application, on the holder's page.
	b.run("connected applications", chromedp.Navigate(p.URL+"/account/apps"), visible("#apps"))
	if txt := b.text("#apps"); !strings.Contains(txt, "Example Shop") {
		t.Fatalf("/account/apps: %q", txt)
	}
	if n := b.eval(`String(document.querySelectorAll('form[action="/account/apps/disconnect"] input[name="client"][value="` + id + `"]').length)`); n != "1" {
		t.Fatalf("disconnect forms for the application: %s", n)
	}

	// A rotated refresh token used again revokes its family.
	next, err := rp.refresh(first)
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if _, err := rp.refresh(first); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
		t.Fatalf("reuse of a rotated refresh token: %v", err)
	}
	if _, err := rp.refresh(next.RefreshToken); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
		t.Fatalf("the family after a reuse: %v", err)
	}

	// Sign out everywhere: the step-up's refresh token is refused.
	b.run("devices", chromedp.Navigate(p.URL+"/account/devices"), visible("#signout-all"))
	b.run("sign out everywhere", clickAndLoad("#signout-all", "#f-email"))
	if _, err := rp.refresh(got.token.RefreshToken); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
		t.Fatalf("refresh after sign out everywhere: %v", err)
	}
}
