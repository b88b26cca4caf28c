package e2e

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
)

// remove takes the virtual authenticator out of its tab: the browser no
// longer holds the passkey (and the sign-in page's autofill offer has
// nothing to offer).
func (a *authenticator) remove() {
	a.b.t.Helper()
	a.b.do("remove the virtual authenticator", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, webauthn.RemoveVirtualAuthenticator, webauthn.RemoveVirtualAuthenticatorParams{AuthenticatorID: a.id})
		return err
	}))
}

// documents records the address of every document a tab requests,
// redirects included (each hop of a 302 chain is a request of its own).
type documents struct {
	mu   sync.Mutex
	urls []string
}

func recordDocuments(b *tab) *documents {
	b.t.Helper()
	d := &documents{}
	err := chromedp.Listen(b.ctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok && e.Type == network.ResourceTypeDocument && e.Request != nil {
			d.mu.Lock()
			d.urls = append(d.urls, e.Request.URL)
			d.mu.Unlock()
		}
	})
	if err != nil {
		b.t.Fatalf("listen for navigations: %v", err)
	}
	return d
}

// take returns the addresses recorded since the last take.
func (d *documents) take() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := d.urls
	d.urls = nil
	return out
}

// visited reports whether one of urls is on path.
func visited(urls []string, path string) bool {
	for _, raw := range urls {
		if u, err := url.Parse(raw); err == nil && u.Path == path {
			return true
		}
	}
	return false
}

// authTime is the ID token's auth_time (OpenID Connect Core §2), in Unix
// seconds, or 0 when it has none.
func authTime(claims map[string]any) int64 {
	v, _ := claims["auth_time"].(float64)
	return int64(v)
}

// TestBrowser_OIDC_StepUpToPasskey_PHR_V6_8_4: in headless Chromium with
// the DevTools virtual authenticator, a holder registers a passkey on
// Gatehouse's own pages, then — the passkey out of the browser — signs in
// to an application with the password and a backup code: the ID token
// says amr [pwd otp mfa] and acr REFEDS MFA, and nothing phishing-resistant
// (RFC 8176). The application then asks for acr_values=phr. Asked silently
// (prompt=none), Gatehouse answers interaction_required at the
// application's redirect URI (OpenID Connect Core §3.1.2.6): the session
// does not hold a passkey proof and a re-verification needs the holder.
// Asked normally, the hand-off sends the browser to /account/reverify
// with method=passkey and the application named; with the passkey back in
// the browser, the holder types the password and uses the passkey, and the
// browser returns to the application with a code whose ID token says acr
// phr, amr with swk (a passkey's value here), and an auth_time no older
// than the re-verification (ASVS 6.8.4: acr, amr and auth_time are what the
// application checks). The next silent request for phr is answered with a
// code at once: the session keeps the proof.
func TestBrowser_OIDC_StepUpToPasskey_PHR_V6_8_4(t *testing.T) {
	port := fmt.Sprint(freePort(t))
	// Browsers offer passkeys to a domain name, never an IP address: the
	// issuer is localhost. The application stays on another site,
	// 127.0.0.1 (its listener's address), as one on its own domain is.
	issuer := "http://localhost:" + port
	env := map[string]string{"GATEHOUSE_PUBLIC_URL": issuer}
	for k, v := range cheapArgon {
		env[k] = v
	}
	data := t.TempDir()
	p := serveOn(t, data, "127.0.0.1:"+port, env)
	rp, _ := newRelyingParty(t)
	rp.URL = strings.Replace(rp.URL, "://localhost:", "://127.0.0.1:", 1)
	id, secret := addClient(t, data, "--name", "Example Shop", "--redirect-uri", rp.URL+"/callback", "--first-party")
	rp.start(issuer, id, secret)

	// The holder signs up and creates a passkey: two-step verification
	// turns on, with backup codes.
	const email, pw = "phr-holder@example.com", "violet canoe at dawn"
	b := openTab(t)
	auth := addAuthenticator(b, true)
	signUpEn(t, p, b, email, pw)
	b.run("confirm", typeInto("#f-code", latestCode(t, p.URL, email)), submit("/signup/confirm", "#account-email"))
	b.run("passkey page", chromedp.Navigate(p.URL+"/account/two-step/passkey"), visible(".passkey-start"))
	b.run("create the passkey", clickAndLoad(".passkey-start", ".backup-code"))
	backup := strings.Fields(b.eval(`Array.from(document.querySelectorAll(".backup-code")).map(e => e.textContent).join(" ")`))
	creds := auth.credentials()
	if len(creds) != 1 || len(backup) == 0 {
		t.Fatalf("after creating the passkey: %d credentials, %d backup codes", len(creds), len(backup))
	}
	// The passkey leaves the browser before the sign-in page is shown: its
	// autofill offer would otherwise sign in with the passkey by itself.
	auth.remove()
	b.run("sign out", chromedp.Navigate(p.URL+"/account"), visible("#account-email"), clickAndLoad(`form[action="/signout"] button`, "#f-email"))

	// The application signs the holder in: password and a backup code.
	b.run("open the application", chromedp.Navigate(rp.URL+"/login"), visible("#f-email"))
	if !strings.HasPrefix(b.eval(`location.href`), issuer+"/signin?") {
		t.Fatalf("the application sent the browser to %s", b.eval(`location.href`))
	}
	b.run("password", typeInto("#f-email", email), typeInto("#f-password", pw), submit("/signin", "#f-email, .passkey-start, #f-code"))
	b.expectPath("after the password", "/signin/verify")
	b.run("use a backup code", clickAndLoad(`a[href*="method=backup"]`, "#f-code"))
	b.run("backup code", typeInto("#f-code", backup[0]), submit("/signin/verify", "#rp-done, #rp-error"))
	got := rp.result()
	if got.err != "" {
		t.Fatalf("the application's sign-in: %s", got.err)
	}
	amr := claimList(got.claims, "amr")
	if slices.Contains(amr, "swk") || slices.Contains(amr, "hwk") || !slices.Contains(amr, "mfa") {
		t.Fatalf("password and backup code: amr %v, want mfa and no passkey", amr)
	}
	if got.claims["acr"] != "https://refeds.org/profile/mfa" {
		t.Fatalf("password and backup code: acr %v, want the REFEDS MFA profile (the strongest proved)", got.claims["acr"])
	}

	// Asked silently for a phishing-resistant proof: the session has none,
	// and getting one needs the holder.
	nav := recordDocuments(b)
	b.run("the application asks silently for phr", chromedp.Navigate(rp.URL+"/login?prompt=none&acr=phr"), visible("#rp-done, #rp-error"))
	if got := rp.result(); got.err != "interaction_required" {
		t.Fatalf("prompt=none with acr_values=phr before a passkey proof: %q, want interaction_required", got.err)
	}
	if urls := nav.take(); visited(urls, "/account/reverify") || visited(urls, "/signin") {
		t.Fatalf("prompt=none showed a page of Gatehouse's: %v", urls)
	}

	// The passkey is back in the browser (the same one, synced); the
	// application asks for phr.
	addAuthenticator(b, true).add(creds[0])
	b.run("the application asks for phr", chromedp.Navigate(rp.URL+"/login?acr=phr"), visible("#f-password"))
	b.expectPath("acr_values=phr", "/account/reverify")
	here, err := url.Parse(b.eval(`location.href`))
	if err != nil {
		t.Fatal(err)
	}
	q := here.Query()
	// The page names the application from the request it continues
	// (next), not from the address.
	if q.Get("method") != "passkey" || q.Has("app") || !strings.HasPrefix(q.Get("next"), "/oidc/authorize/continue?id=") {
		t.Fatalf("the step-up for phr went to %s, want method=passkey, next the hand-off, no app", here)
	}
	if m := b.value(`form[action="/account/reverify"] input[name=method]`); m != "passkey" {
		t.Fatalf("the re-verification form's method is %q, want passkey", m)
	}
	if main := b.text("main"); !strings.Contains(main, "Example Shop") {
		t.Fatalf("the re-verification does not name the application:\n%s", main)
	}
	stepUp := time.Now().Truncate(time.Second)
	b.run("password: the passkey next", typeInto("#f-password", pw), submit("/account/reverify", ".passkey-start"))
	b.expectPath("after the re-verification's password", "/signin/verify")
	b.run("the passkey", clickAndLoad(".passkey-start", "#rp-done, #rp-error"))
	got = rp.result()
	if got.err != "" {
		t.Fatalf("the step-up to phr: %s", got.err)
	}
	amr = claimList(got.claims, "amr")
	t.Logf("after the passkey step-up: acr %v amr %v auth_time %d", got.claims["acr"], amr, authTime(got.claims))
	if got.claims["acr"] != "phr" || !slices.Contains(amr, "swk") && !slices.Contains(amr, "hwk") {
		t.Fatalf("after the passkey step-up: acr %v amr %v, want phr and swk or hwk", got.claims["acr"], amr)
	}
	if at := authTime(got.claims); at < stepUp.Unix() {
		t.Fatalf("after the passkey step-up: auth_time %d, before the re-verification began (%d)", at, stepUp.Unix())
	}

	// The session now holds the passkey proof: asked silently again, the
	// application gets its code at once.
	nav.take()
	b.run("the application asks silently for phr again", chromedp.Navigate(rp.URL+"/login?prompt=none&acr=phr"), visible("#rp-done, #rp-error"))
	got = rp.result()
	if got.err != "" || got.claims["acr"] != "phr" {
		t.Fatalf("prompt=none with acr_values=phr after the step-up: error %q acr %v", got.err, got.claims["acr"])
	}
	if urls := nav.take(); visited(urls, "/account/reverify") {
		t.Fatalf("a second re-verification after the step-up: %v", urls)
	}
}

// TestBrowser_OIDC_MaxAgeReverifiesAnOlderSession_V6_8_4: an application
// sends max_age (OpenID Connect Core §3.1.2.1). A session younger than it
// goes straight back with a code — no page of Gatehouse's on the way — and
// an auth_time of the sign-in. Once the session is older than max_age, a
// silent request (prompt=none) is answered interaction_required; a normal
// one is sent through /account/reverify (naming the application) before
// the code is issued, and the new ID token's auth_time is no older than the
// re-verification (ASVS 6.8.4). Right after it, the same request with a
// longer max_age passes without asking again: the re-verification made the
// proof fresh. max_age is 2 s and the test waits it out on the real clock
// (the e2e server has no fake clock); 2 s leaves the hand-off after the
// re-verification room to run.
func TestBrowser_OIDC_MaxAgeReverifiesAnOlderSession_V6_8_4(t *testing.T) {
	const maxAge = 2 * time.Second
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

	const email, pw = "max-age-holder@example.com", "violet canoe at dawn"
	b := openTab(t)
	signUpEn(t, p, b, email, pw)
	signUp := time.Now().Truncate(time.Second)
	b.run("confirm", typeInto("#f-code", latestCode(t, p.URL, email)), submit("/signup/confirm", "#account-email"))
	signedIn := time.Now()
	nav := recordDocuments(b)

	// A young session: straight back.
	b.run("max_age longer than the session", chromedp.Navigate(rp.URL+"/login?max_age=600"), visible("#rp-done, #rp-error"))
	got := rp.result()
	if got.err != "" {
		t.Fatalf("max_age=600 on a fresh session: %s", got.err)
	}
	if urls := nav.take(); visited(urls, "/account/reverify") || visited(urls, "/signin") {
		t.Fatalf("max_age=600 on a fresh session showed a page of Gatehouse's: %v", urls)
	}
	first := authTime(got.claims)
	if first < signUp.Unix() || first > signedIn.Unix() {
		t.Fatalf("auth_time %d, want the sign-in's (between %d and %d)", first, signUp.Unix(), signedIn.Unix())
	}

	// The session grows older than max_age.
	time.Sleep(time.Until(signedIn.Add(maxAge + time.Second)))
	ma := fmt.Sprint(int(maxAge / time.Second))
	b.run("max_age shorter than the session, silently", chromedp.Navigate(rp.URL+"/login?prompt=none&max_age="+ma), visible("#rp-done, #rp-error"))
	if got := rp.result(); got.err != "interaction_required" {
		t.Fatalf("prompt=none with max_age=%s on an older session: %q, want interaction_required", ma, got.err)
	}
	nav.take()
	b.run("max_age shorter than the session", chromedp.Navigate(rp.URL+"/login?max_age="+ma), visible("#f-password"))
	b.expectPath("max_age="+ma, "/account/reverify")
	if main := b.text("main"); !strings.Contains(main, "Example Shop") {
		t.Fatalf("the re-verification does not name the application:\n%s", main)
	}
	reverified := time.Now().Truncate(time.Second)
	b.run("password again", typeInto("#f-password", pw), submit("/account/reverify", "#rp-done, #rp-error"))
	got = rp.result()
	if got.err != "" {
		t.Fatalf("after the re-verification: %s", got.err)
	}
	fresh := authTime(got.claims)
	t.Logf("auth_time: %d at the sign-in, %d after the re-verification", first, fresh)
	if fresh < reverified.Unix() || fresh <= first {
		t.Fatalf("after the re-verification: auth_time %d, want at least %d (and after the sign-in's %d)", fresh, reverified.Unix(), first)
	}
	if urls := nav.take(); !visited(urls, "/account/reverify") {
		t.Fatalf("no re-verification recorded on the way: %v", urls)
	}

	// The re-verification made the proof fresh.
	b.run("max_age after the re-verification", chromedp.Navigate(rp.URL+"/login?max_age=600"), visible("#rp-done, #rp-error"))
	got = rp.result()
	if got.err != "" || authTime(got.claims) != fresh {
		t.Fatalf("max_age=600 right after the re-verification: error %q auth_time %d, want %d", got.err, authTime(got.claims), fresh)
	}
	if urls := nav.take(); visited(urls, "/account/reverify") {
		t.Fatalf("a second re-verification: %v", urls)
	}
}
