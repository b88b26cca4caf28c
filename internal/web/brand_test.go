package web_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"gatehouse/internal/httpcore/httpcoretest"
)

// logoSVG is a logo fit to use: an SVG that draws with presentation
// attributes and refers only to its own parts.
const logoSVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 20 10"><defs><linearGradient id="g"><stop offset="0" stop-color="#7a1f5c"/></linearGradient></defs><rect width="20" height="10" fill="url(#g)"/></svg>`

// brandedHarness is a server with a whole look: a logo, both colours,
// footer links, and templates for the sign-in page (with an inline script
// and an event handler, which the policy blocks) and the email.
func brandedHarness(t *testing.T, log *slog.Logger) *harness {
	t.Helper()
	dir := t.TempDir()
	write := func(name, src string) {
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	signin, err := os.ReadFile("templates/signin.html")
	if err != nil {
		t.Fatal(err)
	}
	write("signin.html", strings.Replace(string(signin), `{{define "content"}}`,
		`{{define "content"}}<p class="welcome">Welcome back to the Shop.</p><script>document.title = "pwned"</script><p><button type="button" onclick="document.title = 'pwned'">Shop</button></p>`, 1))
	mail, err := os.ReadFile("../outbox/message.html")
	if err != nil {
		t.Fatal(err)
	}
	write("mail/message.html", strings.Replace(string(mail), "<hr>", `<p>The Shop team</p><hr>`, 1))
	logo := filepath.Join(t.TempDir(), "shop.svg")
	os.WriteFile(logo, []byte(logoSVG), 0o644)
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return newHarnessLog(t, map[string]string{
		"service_name": "Shop", "brand.logo": logo, "brand.color": "#7a1f5c", "brand.color_dark": "#f0a8d0",
		"brand.footer_links": "Privacy|プライバシー|https://shop.example/privacy; Terms|利用規約|https://shop.example/terms; Is this message ours?|このメッセージは本物？|/check",
		"brand.templates":    dir,
	}, log)
}

// TestLook_TemplateOverridesKeepTheServersHeadersAndCrossOriginRule: a page
// drawn from the operator's template shows it, inline script included,
// with exactly the headers of the same page on a server without a look —
// the same Content-Security-Policy (no inline script), framing, sniffing,
// referrer and cross-origin policies — and a cross-site form post is
// refused on both.
func TestLook_TemplateOverridesKeepTheServersHeadersAndCrossOriginRule(t *testing.T) {
	t.Parallel()
	log := &syncWriter{w: &bytes.Buffer{}}
	plain, branded := newHarness(t, nil), brandedHarness(t, slog.New(slog.NewTextHandler(log, nil)))
	for _, lang := range []string{"en", "ja"} {
		want, got := plain.browser(lang).get("/signin"), branded.browser(lang).get("/signin")
		if got.status != http.StatusOK || !strings.Contains(got.body, `<p class="welcome">Welcome back to the Shop.</p>`) ||
			!strings.Contains(got.body, `<script>document.title = "pwned"</script>`) {
			t.Fatalf("%s: the override is not drawn: %d\n%s", lang, got.status, got.body)
		}
		if w, g := httpcoretest.StableHeaders(want.header), httpcoretest.StableHeaders(got.header); !slices.Equal(w, g) {
			t.Errorf("%s: the headers differ\nwithout a look: %q\n   with a look: %q", lang, w, g)
		}
		csp := got.header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self';") || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("%s: CSP %q", lang, csp)
		}
	}
	for _, h := range []*harness{plain, branded} {
		b := h.browser("en")
		req, _ := http.NewRequest("POST", h.base+"/signin", strings.NewReader(url.Values{"email": {"a@example.com"}, "password": {goodPassword}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "https://shop-evil.example")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		if r := b.do(req); r.status != http.StatusForbidden {
			t.Errorf("a cross-site post answered %d", r.status)
		}
	}
	// The operator is told at start what of the template the policy
	// blocks.
	for _, want := range []string{"the Content-Security-Policy blocks part of a template", "signin.html", "an inline <script> (script-src 'self')", "an event handler attribute, onclick"} {
		if logged := log.String(); !strings.Contains(logged, want) {
			t.Errorf("the start's log does not say %q:\n%s", want, logged)
		}
	}
}

// TestLook_NameLogoColoursAndFooterInBothLanguages: every page shows the
// service's name and logo at the top and its footer links in the page's
// language; the logo and the colours' stylesheet are served from /static/
// with their own types and the site's policy; the colours are in the
// stylesheet, never inline.
func TestLook_NameLogoColoursAndFooterInBothLanguages(t *testing.T) {
	t.Parallel()
	h := brandedHarness(t, nil)
	for lang, labels := range map[string][]string{"en": {"Privacy", "Terms", "Is this message ours?"}, "ja": {"プライバシー", "利用規約", "このメッセージは本物？"}} {
		for _, path := range []string{"/signin", "/signup", "/check", "/no-such-page"} {
			r := h.browser(lang).get(path)
			if !regexp.MustCompile(`<title>[^<]* — Shop</title>`).MatchString(r.body) ||
				!regexp.MustCompile(`<a class="brand" href="/"><img class="logo" src="/static/logo.svg\?v=[0-9a-f]{16}" alt="">Shop</a>`).MatchString(r.body) {
				t.Errorf("%s %s: no name or logo at the top:\n%s", lang, path, r.body)
			}
			if !regexp.MustCompile(`<link rel="stylesheet" href="/static/brand.css\?v=[0-9a-f]{16}">`).MatchString(r.body) {
				t.Errorf("%s %s: no brand stylesheet", lang, path)
			}
			footer := r.body[strings.Index(r.body, "<footer>"):]
			want := `<li><a href="https://shop.example/privacy">` + labels[0] + `</a></li><li><a href="https://shop.example/terms">` + labels[1] + `</a></li><li><a href="/check">` + labels[2] + `</a></li>`
			if !strings.Contains(footer, want) || !strings.Contains(footer, `<nav aria-label="`+map[string]string{"en": "About this service", "ja": "当サービスについて"}[lang]+`">`) {
				t.Errorf("%s %s: footer\n%s\nwant %s", lang, path, footer, want)
			}
			if strings.Contains(r.body, "style=") {
				t.Errorf("%s %s: an inline style", lang, path)
			}
		}
	}
	b := h.browser("en")
	page := b.get("/signin").body
	logoURL := regexp.MustCompile(`/static/logo.svg\?v=[0-9a-f]+`).FindString(page)
	logo := b.get(logoURL)
	if logo.status != 200 || logo.body != logoSVG || logo.header.Get("Content-Type") != "image/svg+xml" ||
		logo.header.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(logo.header.Get("Content-Security-Policy"), "script-src 'self'") ||
		logo.header.Get("Cache-Control") != "public, max-age=3600" || logo.header.Get("ETag") == "" {
		t.Errorf("logo: %d %v\n%s", logo.status, logo.header, logo.body)
	}
	css := b.get(regexp.MustCompile(`/static/brand.css\?v=[0-9a-f]+`).FindString(page))
	if css.status != 200 || css.header.Get("Content-Type") != "text/css; charset=utf-8" {
		t.Fatalf("brand.css: %d %v", css.status, css.header)
	}
	for _, want := range []string{"--link: #7a1f5c;", "--accent: #7a1f5c;", "--focus: #7a1f5c;", "@media screen and (prefers-color-scheme: dark)", "--link: #f0a8d0;", "border-bottom: 3px solid var(--accent)"} {
		if !strings.Contains(css.body, want) {
			t.Errorf("brand.css lacks %q:\n%s", want, css.body)
		}
	}
	if r := b.get("/static/logo.png"); r.status != http.StatusNotFound {
		t.Errorf("/static/logo.png: %d", r.status)
	}

	// Without a look: the built-in name, no logo, stylesheet or footer.
	plain := newHarness(t, nil).browser("en").get("/signin").body
	for _, absent := range []string{"brand.css", "logo", "<footer>"} {
		if strings.Contains(plain, absent) {
			t.Errorf("a server without a look shows %q", absent)
		}
	}
	if !strings.Contains(plain, `<a class="brand" href="/">Gatehouse</a>`) {
		t.Error("a server without a look does not show its name")
	}
}

// TestLook_EmailsDrawnFromTheOperatorsTemplate: an email sent by a server
// with a template for it is drawn from it, with its reference line and
// footer, and its text part is the built-in one.
func TestLook_EmailsDrawnFromTheOperatorsTemplate(t *testing.T) {
	t.Parallel()
	h := brandedHarness(t, nil)
	h.browser("ja").signUp("look@example.com", goodPassword)
	ms := h.messagesTo("look@example.com")
	if len(ms) == 0 {
		t.Fatal("no message")
	}
	m := ms[len(ms)-1]
	if !strings.Contains(m.HTML, "<p>The Shop team</p>") || !strings.Contains(m.HTML, "メッセージ参照番号："+m.Reference) ||
		!strings.Contains(m.HTML, "border-bottom:3px solid #7a1f5c") || !strings.Contains(m.Text, m.Reference) || strings.Contains(m.Text, "Shop team") {
		t.Fatalf("HTML:\n%s\ntext:\n%s", m.HTML, m.Text)
	}
}

// syncWriter lets the server's goroutines log into one buffer.
type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func (s *syncWriter) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.String()
}
