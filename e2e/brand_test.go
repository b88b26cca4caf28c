package e2e

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"gatehouse/internal/httpcore/httpcoretest"
)

// brandLogo draws with a style element, which Chromium must apply to an
// SVG shown as an image under the site's Content-Security-Policy.
const brandLogo = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 20" width="40" height="20"><style>rect { fill: #7a1f5c }</style><rect width="40" height="20"/></svg>`

// TestBrowser_LookOverrideCannotRunScriptAndKeepsTheHeaders runs the real
// binary with a whole look — a logo, colours, footer links, and a sign-in
// page template that adds an inline script and an inline event handler —
// in headless Chromium. The page shows the operator's template, logo,
// colours and links in English and Japanese (and passes axe, light and
// dark); neither script runs, the browser reporting both to the page as
// Content-Security-Policy violations; the response's security headers are
// those of the same page without a look.
func TestBrowser_LookOverrideCannotRunScriptAndKeepsTheHeaders(t *testing.T) {
	look := t.TempDir()
	signin, err := os.ReadFile(filepath.Join("..", "internal", "web", "templates", "signin.html"))
	if err != nil {
		t.Fatal(err)
	}
	override := strings.Replace(string(signin), `{{define "content"}}`, `{{define "content"}}<p id="welcome">Welcome back to the Shop.</p>
<script>window.pwned = true; document.title = "pwned"</script>
<p><button type="button" id="inline-handler" onclick="window.pwned = true; document.title = 'pwned'">Shop offers</button></p>`, 1)
	if err := os.WriteFile(filepath.Join(look, "signin.html"), []byte(override), 0o644); err != nil {
		t.Fatal(err)
	}
	logo := filepath.Join(t.TempDir(), "logo.svg")
	os.WriteFile(logo, []byte(brandLogo), 0o644)
	env := map[string]string{
		"GATEHOUSE_SERVICE_NAME": "Shop", "GATEHOUSE_BRAND_LOGO": logo,
		"GATEHOUSE_BRAND_COLOR": "#7a1f5c", "GATEHOUSE_BRAND_COLOR_DARK": "#f0a8d0",
		"GATEHOUSE_BRAND_FOOTER_LINKS": "Privacy|プライバシー|https://shop.example/privacy; Is this message ours?|このメッセージは本物？|/check",
		"GATEHOUSE_BRAND_TEMPLATES":    look,
	}
	for k, v := range cheapArgon {
		env[k] = v
	}
	p := serve(t, t.TempDir(), env)
	plain := serve(t, t.TempDir(), cheapArgon)

	// The headers, as any client gets them.
	got, want := fetchHeaders(t, p.URL+"/signin"), fetchHeaders(t, plain.URL+"/signin")
	if !slices.Equal(got, want) {
		t.Errorf("the security headers differ\nwithout a look: %q\n   with a look: %q", want, got)
	}

	b := openTab(t)
	// Every Content-Security-Policy violation the page sees, recorded
	// from before its first script (DevTools' script is not the page's:
	// the policy does not apply to it).
	b.do("record CSP violations", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
			Source: `window.cspViolations = []; document.addEventListener("securitypolicyviolation", e => window.cspViolations.push(e.effectiveDirective + " " + e.blockedURI));`,
		})
		return err
	}))
	b.run("open the overridden sign-in page", chromedp.Navigate(p.URL+"/signin"), visible("#welcome"))
	if got := b.text("#welcome"); got != "Welcome back to the Shop." {
		t.Fatalf("override not drawn: %q", got)
	}
	if n := b.eval(`String(document.querySelectorAll("script:not([src])").length)`); n != "1" {
		t.Fatalf("the inline script is not in the page (%s): the test proves nothing", n)
	}
	b.do("press the button with the inline handler", chromedp.Click(chromedp.CSS("#inline-handler")))
	if title := b.title(); title != "Sign in — Shop" {
		t.Errorf("title %q: a script of the template ran", title)
	}
	if v := b.eval(`String(window.pwned)`); v != "undefined" {
		t.Errorf("window.pwned = %s: a script of the template ran", v)
	}
	violations := b.pollString(`window.cspViolations.slice().sort().join(" | ")`, "script-src-attr inline | script-src-elem inline")
	if violations != "script-src-attr inline | script-src-elem inline" {
		t.Errorf("CSP violations reported: %q, want the inline script and the inline handler", violations)
	}

	// The look: name and logo at the top, the colours, the footer.
	if got := b.text("header a.brand"); got != "Shop" {
		t.Errorf("header shows %q", got)
	}
	// The logo is drawn as its file says, its own style element applied.
	if px := b.eval(`(() => { const i = document.querySelector("header img.logo"); if (!i.complete || !i.naturalWidth) return "not drawn";
		const c = document.createElement("canvas"); c.width = 40; c.height = 20; const x = c.getContext("2d"); x.drawImage(i, 0, 0, 40, 20);
		return Array.from(x.getImageData(20, 10, 1, 1).data).join(",") })()`); px != "122,31,92,255" {
		t.Errorf("logo's middle pixel: %s, want the logo's #7a1f5c", px)
	}
	for scheme, want := range map[string]string{"light": "rgb(122, 31, 92)", "dark": "rgb(240, 168, 208)"} {
		b.do("emulate "+scheme, colorScheme(scheme))
		if got := b.eval(`getComputedStyle(document.querySelector("main a")).color`); got != want {
			t.Errorf("%s scheme: links are %s, want the brand's %s", scheme, got, want)
		}
	}
	b.do("back to light", colorScheme("light"))
	shot(b, "look-signin")
	// On a 320 px phone the logo and name fit beside the language links,
	// the name whole.
	b.do("a 320 px screen", viewport(320, 640, true))
	shot(b, "look-signin-320")
	if got := b.eval(`(() => { const b = document.querySelector("header .brand"), l = document.querySelector("header .langs").getBoundingClientRect(), r = b.getBoundingClientRect();
		const out = [];
		if (b.scrollWidth > b.clientWidth) out.push("brand cut short");
		if (!(l.top < r.bottom && l.bottom > r.top)) out.push("language links below the brand");
		if (document.documentElement.scrollWidth > innerWidth) out.push("page wider than the screen");
		return out.join("; ") })()`); got != "" {
		t.Errorf("header at 320 px: %s", got)
	}
	b.do("back to the desktop", viewport(1000, 900, false))
	if got := b.text("footer"); !strings.Contains(got, "Privacy") || !strings.Contains(got, "Is this message ours?") {
		t.Errorf("footer in English: %q", got)
	}
	b.useLanguage("ja", "footer")
	if got := b.text("footer"); !strings.Contains(got, "プライバシー") || !strings.Contains(got, "このメッセージは本物？") {
		t.Errorf("footer in Japanese: %q", got)
	}
	if title := b.title(); title != "ログイン — Shop" {
		t.Errorf("Japanese title %q", title)
	}
}

// fetchHeaders lists a page's response headers (name: value), less those
// that differ between two responses.
func fetchHeaders(t *testing.T, url string) []string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return httpcoretest.StableHeaders(resp.Header)
}

// TestE2E_LookRefusedAtStart: `gatehouse serve` with an email template
// that drops a message's reference line does not start: it exits 1
// naming the file and what is missing, before it serves anything.
func TestE2E_LookRefusedAtStart(t *testing.T) {
	t.Parallel()
	builtin, err := os.ReadFile(filepath.Join("..", "internal", "outbox", "message.html"))
	if err != nil {
		t.Fatal(err)
	}
	// Every footer line but the reference line.
	dropped := strings.Replace(string(builtin), `{{range .Footer}}`, `{{range .Footer}}{{if or (ne (printf "%.7s" .) "Message") (eq $.Lang "ja")}}`, 1)
	dropped = strings.Replace(dropped, `</p>
{{end}}</body>`, `</p>{{end}}
{{end}}</body>`, 1)
	if dropped == string(builtin) {
		t.Fatal("the built-in email template changed; update this test's edit")
	}
	look := t.TempDir()
	os.MkdirAll(filepath.Join(look, "mail"), 0o755)
	path := filepath.Join(look, "mail", "message.html")
	if err := os.WriteFile(path, []byte(dropped), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errs, code := cli(t, map[string]string{"GATEHOUSE_BRAND_TEMPLATES": look}, nil, "serve", "--listen", "127.0.0.1:0", "--data", t.TempDir())
	want := "gatehouse: brand.templates: " + path + `: the message's reference line ("Message reference: GH-7K3P-Q9XW-2MRC.") is missing or hidden (in English`
	if code != 1 || !strings.Contains(errs, want) || strings.Contains(out, "Open http") {
		t.Errorf("exit %d\nstdout: %s\nstderr: %s\nwant: %s", code, out, errs, want)
	}
}
