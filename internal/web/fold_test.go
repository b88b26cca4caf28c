package web

import (
	"bytes"
	"html/template"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"gatehouse/internal/i18n"
)

// TestFoldedPagesSameBytes: every page, in both languages, with the
// catalog folded in (foldPage) writes byte for byte what the same page
// parsed without folding writes, on the same data — pages bare and full,
// every Data key the templates read set to text (with characters each
// context escapes), to true, or to a number — and stops at the same point
// when the data does not fit. The pages' real data is compared in
// TestFoldedPagesSameBytesServed.
func TestFoldedPagesSameBytes(t *testing.T) {
	t.Parallel()
	s := &Server{Catalog: i18n.New()}
	folded, plain := allPages(t, s, true), allPages(t, s, false)
	if len(folded) < 30 {
		t.Fatalf("%d pages", len(folded))
	}
	keys := dataKeys(t)
	text := `x & <y> "z" 'w' +1 GH-ABCD-EFGH-JKLM`
	datas := []func() map[string]any{
		func() map[string]any { return map[string]any{} },
		func() map[string]any { return fill(keys, text) },
		func() map[string]any { return fill(keys, true) },
		func() map[string]any { return fill(keys, 3) },
		func() map[string]any {
			d := fill(keys, text)
			d["Flow"], d["StartLabel"], d["Method"] = "confirm", "error.start_signin", "app"
			return d
		},
	}
	ran, whole := 0, 0
	for name, langs := range plain {
		for _, lang := range i18n.Languages {
			for i, data := range datas {
				for _, full := range []bool{false, true} {
					var want, got bytes.Buffer
					errWant := langs[lang].ExecuteTemplate(&want, "layout", samplePage(lang, data(), full))
					errGot := folded[name][lang].ExecuteTemplate(&got, "layout", samplePage(lang, data(), full))
					if (errWant == nil) != (errGot == nil) {
						t.Errorf("%s %s data %d full %v: error %v, unfolded %v", name, lang, i, full, errGot, errWant)
					}
					if !bytes.Equal(got.Bytes(), want.Bytes()) {
						t.Errorf("%s %s data %d full %v: folded page differs\n got: %s\nwant: %s", name, lang, i, full, got.Bytes(), want.Bytes())
					}
					ran++
					if errWant == nil {
						whole++
					}
				}
			}
		}
	}
	t.Logf("%d renderings compared, %d of them whole pages", ran, whole)
}

// TestFoldedPages_NoCatalogCallLeft: once folded, the account page and
// the layout call the catalog with a constant key nowhere, range over the
// languages nowhere, and leave no constant to escape at each view (one
// left is correct, but slow: this says when a template's form stops
// matching what the folder recognises).
func TestFoldedPages_NoCatalogCallLeft(t *testing.T) {
	t.Parallel()
	s := &Server{Catalog: i18n.New()}
	constant := regexp.MustCompile(`\{\{t \$?\.Lang "[^"]*"\}\}|\{\{"|range languages|langName \.\}\}`)
	for _, lang := range i18n.Languages {
		for _, name := range []string{"layout", "content"} {
			tree := allPages(t, s, true)["account"][lang].Lookup(name).Tree.Root.String()
			if m := constant.FindAllString(tree, -1); len(m) > 0 {
				t.Errorf("%s %s: left %q", lang, name, m)
			}
		}
	}
}

// allPages parses every page in every language, folded or not.
func allPages(t testing.TB, s *Server, fold bool) map[string]map[string]*template.Template {
	t.Helper()
	all := map[string]map[string]*template.Template{}
	for name, byLang := range s.pageTemplates(fold) {
		all[name] = map[string]*template.Template{}
		for lang, pt := range byLang {
			x, err := pt.get()
			if err != nil {
				t.Fatalf("%s in %s: %v", name, lang, err)
			}
			all[name][lang] = x
		}
	}
	return all
}

var dataKey = regexp.MustCompile(`\.Data\.([A-Za-z]+)`)

// dataKeys are the Data keys the templates read.
func dataKeys(t *testing.T) []string {
	t.Helper()
	seen := map[string]bool{}
	entries, err := templateFS.ReadDir("templates")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		src, err := templateFS.ReadFile("templates/" + e.Name())
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range dataKey.FindAllStringSubmatch(string(src), -1) {
			seen[m[1]] = true
		}
	}
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	return keys
}

func fill(keys []string, v any) map[string]any {
	d := make(map[string]any, len(keys))
	for _, k := range keys {
		d[k] = v
	}
	return d
}

// samplePage is a page in lang with data; full fills everything the
// layout shows besides the content: a notice, an error, a refused form.
func samplePage(lang string, data map[string]any, full bool) *page {
	p := &page{Lang: lang, Title: "Title", path: "/account", Values: map[string]string{}, Errors: map[string]string{},
		Invalid: map[string]bool{}, Data: data}
	if full {
		p.Title, p.DocTitle, p.SignedIn = `Error: <b>"T"</b> & 'u' GH-ABCD-EFGH-JKLM`, "Doc & title", true
		p.Notice, p.Error = "Notice GH-ABCD-EFGH-JKLM <i>", "Error & <x>"
		for _, f := range fieldOrder {
			p.Values[f], p.Errors[f], p.Invalid[f] = f+` "&<v>`, f+" <error>", true
			p.Summary = append(p.Summary, problem{Field: f, Message: p.Errors[f]})
		}
		p.Values["c"], p.Values["next"] = "abc", "/account?x=1&y=<2>"
		p.Summary = append(p.Summary, problem{Message: "whole form"})
	}
	return p
}

// TestFolder_ConstantsEscapedAsInTheirContext: a constant folded into text
// is what html/template writes for it, in every context: folded in those
// of the folder's probes, left alone in the others.
func TestFolder_ConstantsEscapedAsInTheirContext(t *testing.T) {
	t.Parallel()
	f, err := newFolder(i18n.New(), "en")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		src  string
		fold bool
	}{
		{`<p>{{.}}</p>`, true},
		{`<a title="{{.}}" data-x='{{.}}'>`, true},
		{`<title>{{.}}</title><textarea>{{.}}</textarea>`, true},
		{`<a href="/x?a={{.}}&amp;b=1">`, true},
		{`<a href="{{.}}">`, false},
		{`<a title={{.}}>`, false},
		{`<script>var x = {{.}};</script>`, false},
		{`<p style="color: {{.}}">`, false},
	} {
		for _, s := range []string{"", `a & b <c> "d" 'e' +f =g ?h #i %j` + "\x00", "日本語：「x」", "GH-ABCD", "javascript:alert(1)"} {
			src := strings.ReplaceAll(tc.src, "{{.}}", "{{"+strconv.Quote(s)+"}}")
			plain := template.Must(template.New("").Parse(src))
			folded := template.Must(template.New("").Parse(src))
			var want, got strings.Builder
			if err := plain.Execute(&want, nil); err != nil {
				t.Fatal(err)
			}
			if err := folded.Execute(io.Discard, nil); err != nil {
				t.Fatal(err)
			}
			f.escaped(folded.Tree.Root)
			if err := folded.Execute(&got, nil); err != nil {
				t.Fatal(err)
			}
			if got.String() != want.String() {
				t.Errorf("%s: folded %q, want %q", src, got.String(), want.String())
			}
			if left := strings.Contains(folded.Tree.Root.String(), "{{"); left == tc.fold {
				t.Errorf("%s: folded %v, want %v: %s", src, !left, tc.fold, folded.Tree.Root)
			}
		}
	}
}

// BenchmarkRenderAccount measures drawing the account page of a holder
// with nothing waiting (the page most see) from its template alone,
// folded and not.
//
//	go test ./internal/web -run '^$' -bench RenderAccount
func BenchmarkRenderAccount(b *testing.B) {
	s := &Server{Catalog: i18n.New()}
	folded, unfolded := allPages(b, s, true), allPages(b, s, false)
	for _, lang := range i18n.Languages {
		p := samplePage(lang, map[string]any{"MinLength": 12, "Email": "holder@example.com", "Language": lang, "TimeZone": "",
			"ZoneName": "Japan time", "DefaultZoneLabel": "Default (Japan time)", "ZoneOptions": s.zoneOptionsFor(lang, ""),
			"PasswordChanged": "6 Dec 2026, 15:04", "TwoStepOn": false, "Trusted": []struct{ ID, Browser, OS, Until string }(nil),
			"Session": "Since 6 Dec 2026, 15:04, Chrome on Linux, 127.0.0.1"}, false)
		p.SignedIn = true
		for _, side := range []struct {
			name string
			t    *template.Template
		}{{"folded", folded["account"][lang]}, {"unfolded", unfolded["account"][lang]}} {
			b.Run(lang+"/"+side.name, func(b *testing.B) {
				var buf bytes.Buffer
				for b.Loop() {
					buf.Reset()
					if err := side.t.ExecuteTemplate(&buf, "layout", p); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
