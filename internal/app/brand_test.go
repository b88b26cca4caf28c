package app_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gatehouse/internal/config"
)

// lookDir writes a brand.templates directory: file name (slash-separated)
// → content.
func lookDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, src := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// builtinMail is the built-in email template, the operator's starting
// point.
func builtinMail(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../outbox/message.html")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestNew_RefusesALookThatWouldWeakenAMessageOrAPage: the server does not
// start with an email template that drops a message's reference line, a
// template file Gatehouse has no page for, a page template that does not
// parse (named with its line) or that sets a referrer policy or a header
// in the page, a colour too light to read, or a logo that could run a
// script; each error names the key, the file and what is wrong, and the
// data directory is not even created.
func TestNew_RefusesALookThatWouldWeakenAMessageOrAPage(t *testing.T) {
	t.Parallel()
	noReference := strings.Replace(builtinMail(t), `{{range .Footer}}<p style="color:#4d4d4d;font-size:.9em">{{.}}</p>
{{end}}`, `{{range $i, $l := .Footer}}{{if or (ne (printf "%.7s" $l) "Message") (eq $.Lang "ja")}}<p>{{$l}}</p>{{end}}{{end}}`, 1)
	if noReference == builtinMail(t) {
		t.Fatal("the built-in email template changed; update this test's edit")
	}
	scriptSVG := filepath.Join(t.TempDir(), "logo.svg")
	os.WriteFile(scriptSVG, []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>fetch("/account")</script></svg>`), 0o644)
	for _, tc := range []struct {
		what  string
		flags func(t *testing.T) map[string]string
		want  []string
	}{
		{"an email template without the reference line", func(t *testing.T) map[string]string {
			return map[string]string{"brand.templates": lookDir(t, map[string]string{"mail/message.html": noReference})}
		}, []string{"brand.templates: ", filepath.Join("mail", "message.html") + ": ", `the message's reference line ("Message reference: GH-7K3P-Q9XW-2MRC.") is missing or hidden (in English`, "every message must carry"}},
		{"an unknown template file", func(t *testing.T) map[string]string {
			return map[string]string{"brand.templates": lookDir(t, map[string]string{"sign-in.html": "x"})}
		}, []string{"brand.templates: ", "sign-in.html is not a template Gatehouse has"}},
		{"a page template that does not parse", func(t *testing.T) map[string]string {
			return map[string]string{"brand.templates": lookDir(t, map[string]string{"signin.html": "{{define \"content\"}}\n<p>{{.Title}</p>{{end}}"})}
		}, []string{"brand.templates: ", "signin.html: template: signin.html:2: "}},
		{"a page template calling what is not there", func(t *testing.T) map[string]string {
			return map[string]string{"brand.templates": lookDir(t, map[string]string{"signin.html": `{{define "content"}}{{template "sidebar" .}}{{end}}`})}
		}, []string{"brand.templates: ", "signin.html in English", `no such template "sidebar"`}},
		{"a layout without the layout", func(t *testing.T) map[string]string {
			return map[string]string{"brand.templates": lookDir(t, map[string]string{"layout.html": `{{define "page"}}x{{end}}`})}
		}, []string{"brand.templates: ", `layout.html: no {{define "layout"}}`}},
		{"an error page that cannot draw the busy page", func(t *testing.T) map[string]string {
			return map[string]string{"brand.templates": lookDir(t, map[string]string{"error.html": `{{define "content"}}<a href="{{.Data.Start.Path}}">x</a>{{end}}`})}
		}, []string{"brand.templates: ", "error.html in English cannot draw the busy page", "can't evaluate field Path"}},
		{"a page with a referrer policy", func(t *testing.T) map[string]string {
			return map[string]string{"brand.templates": lookDir(t, map[string]string{"signin.html": `{{define "content"}}<a href="https://shop.example/" referrerpolicy="unsafe-url">Shop</a>{{end}}`})}
		}, []string{"brand.templates: ", "signin.html: sets a referrer policy"}},
		{"a layout with a meta http-equiv", func(t *testing.T) map[string]string {
			return map[string]string{"brand.templates": lookDir(t, map[string]string{"layout.html": `{{define "layout"}}<meta http-equiv="Content-Security-Policy" content="script-src *">{{template "content" .}}{{end}}`})}
		}, []string{"brand.templates: ", "layout.html: has a meta http-equiv"}},
		{"a colour too light for links", func(t *testing.T) map[string]string {
			return map[string]string{"brand.color": "#7fb2ff"}
		}, []string{"brand.color: #7fb2ff on the pages' background (#ffffff) reads at 2.", "need at least 4.5:1 (WCAG AA)", "choose a darker colour"}},
		{"a dark-scheme colour too dark", func(t *testing.T) map[string]string {
			return map[string]string{"brand.color_dark": "#1f5fbf"}
		}, []string{"brand.color_dark: #1f5fbf on the pages' background (#121212)", "choose a lighter colour"}},
		{"a colour not written #rrggbb", func(t *testing.T) map[string]string {
			return map[string]string{"brand.color": "navy"}
		}, []string{`brand.color: "navy" is not a colour written #rrggbb`}},
		{"a logo with a script", func(t *testing.T) map[string]string {
			return map[string]string{"brand.logo": scriptSVG}
		}, []string{"brand.logo: " + scriptSVG + ": has a <script> element"}},
	} {
		t.Run(tc.what, func(t *testing.T) {
			t.Parallel()
			flags := tc.flags(t)
			data := filepath.Join(t.TempDir(), "data")
			flags["data"] = data
			cfg, err := loadErr(flags)
			if err == nil {
				_, err = start(t, cfg)
			}
			if err == nil {
				t.Fatal("started")
			}
			t.Logf("refused: %v", err)
			// Refused before anything is opened or created.
			if _, err := os.Stat(data); !os.IsNotExist(err) {
				t.Errorf("a refused start created %s (%v)", data, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nwant it to say %q", err, w)
				}
			}
		})
	}
}

// TestNew_StartsWithAWholeLook: a logo, both colours, footer links and
// templates for a page, the layout and the email, all fit to use, start.
func TestNew_StartsWithAWholeLook(t *testing.T) {
	t.Parallel()
	logo := filepath.Join(t.TempDir(), "logo.svg")
	os.WriteFile(logo, []byte(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10" fill="#7a1f5c"/></svg>`), 0o644)
	layout, err := os.ReadFile("../web/templates/layout.html")
	if err != nil {
		t.Fatal(err)
	}
	dir := lookDir(t, map[string]string{
		"layout.html":       strings.Replace(string(layout), "<main", `<p class="banner">Shop</p><main`, 1),
		"error.html":        `{{define "content"}}<p>{{.Error}}</p><script>alert(1)</script>{{end}}`,
		"mail/message.html": builtinMail(t),
	})
	cfg := load(t, map[string]string{"data": t.TempDir(), "brand.logo": logo, "brand.color": "#7a1f5c", "brand.color_dark": "#f0a8d0",
		"brand.footer_links": "Privacy|プライバシー|https://shop.example/privacy; Help|/check", "brand.templates": dir})
	if _, err := start(t, cfg); err != nil {
		t.Fatal(err)
	}
}

// loadErr is load, returning the configuration's error instead of failing.
func loadErr(flags map[string]string) (*config.Config, error) {
	all := map[string]string{"argon2.memory_kib": "8192", "argon2.iterations": "1"}
	for k, v := range flags {
		all[k] = v
	}
	return config.Load("", func(string) string { return "" }, all)
}
