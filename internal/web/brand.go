package web

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"maps"
	"regexp"
	"slices"
	"strings"

	"gatehouse/internal/brand"
	"gatehouse/internal/i18n"
)

// The service's own look on the pages (package brand): its name and logo
// at the top, its colours, its links at the foot, and the operator's page
// templates in place of the built-in ones.
//
// The colours are custom properties in a stylesheet of their own,
// /static/brand.css, and the logo a file under /static/: never an inline
// style or a URL elsewhere, which the Content-Security-Policy (style-src
// and img-src 'self') would block — the policy stays as strict with a
// look as without.

// PageFiles lists the file names of the built-in page templates,
// layout.html among them: the names a page template in brand.templates
// may take.
func PageFiles() []string {
	entries, _ := templateFS.ReadDir("templates")
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// Names of the generated files under /static/. They differ from every
// embedded asset's (TestLook_StaticNamesAreFree).
const brandStylesheet = "brand.css"

// lookFiles are the look's files served under /static/, and their URLs
// for the layout ("" when there is none). Each URL carries the file's
// validator, so a browser fetches a changed logo or colour at once instead
// of keeping the old one for the static files' hour.
type lookFiles struct {
	static      map[string]staticFile
	style, logo string
	links       map[string][]footerLink // language → the footer's links
}

// footerLink is one link of the page footer, in one language.
type footerLink struct {
	Label, URL string
}

// look returns the look's files, made once.
func (s *Server) look() *lookFiles {
	s.lookOnce.Do(func() { s.lookMade = s.makeLook() })
	return s.lookMade
}

func (s *Server) makeLook() *lookFiles {
	lf := &lookFiles{static: map[string]staticFile{}, links: map[string][]footerLink{}}
	l := s.Look
	if l == nil {
		return lf
	}
	if l.Logo != nil {
		f := newStaticFile(l.Logo.Body, l.Logo.ContentType)
		lf.static[l.Logo.Name] = f
		lf.logo = "/static/" + l.Logo.Name + "?v=" + strings.Trim(f.etag, `"`)
	}
	if css := brandCSS(l); css != "" {
		f := newStaticFile([]byte(css), staticTypes[".css"])
		lf.static[brandStylesheet] = f
		lf.style = "/static/" + brandStylesheet + "?v=" + strings.Trim(f.etag, `"`)
	}
	for _, lang := range i18n.Languages {
		for _, link := range l.Links {
			lf.links[lang] = append(lf.links[lang], footerLink{Label: link.Label(lang), URL: link.URL})
		}
	}
	return lf
}

func newStaticFile(body []byte, contentType string) staticFile {
	sum := sha256.Sum256(body)
	return staticFile{body: body, contentType: contentType, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
}

// accentProperties are the palette's custom properties a brand colour
// takes the place of: every one drawn in the accent.
var accentProperties = []string{"--link", "--accent", "--focus"}

// brandCSS is the stylesheet of the look's colours, drawn after app.css:
// on screens, in each scheme, the accent properties set to the brand's
// colour, or to the built-in palette's where the scheme has none (the
// light scheme's rule would otherwise apply in both), and the line under
// the header in the accent. "" when the look has no colour.
func brandCSS(l *brand.Look) string {
	if l.Color == "" && l.ColorDark == "" {
		return ""
	}
	light, dark := palettes()
	var b strings.Builder
	b.WriteString("/* The service's colours (brand.color, brand.color_dark), generated at start. */\n")
	block := func(pal map[string]string, colour string) {
		for _, p := range accentProperties {
			v := pal[p]
			if colour != "" {
				v = colour
			}
			fmt.Fprintf(&b, "  %s: %s;\n", p, v)
		}
	}
	// Screens only: a printed page keeps app.css's black-on-white.
	b.WriteString("@media screen {\n:root {\n")
	block(light, l.Color)
	b.WriteString("}\nheader { border-bottom: 3px solid var(--accent); }\n}\n")
	b.WriteString("@media screen and (prefers-color-scheme: dark) {\n:root {\n")
	block(dark, l.ColorDark)
	b.WriteString("}\n}\n")
	return b.String()
}

var (
	lightBlock   = regexp.MustCompile(`(?s)^.*?:root\s*\{(.*?)\}`)
	darkBlock    = regexp.MustCompile(`(?s)@media\s*\(prefers-color-scheme:\s*dark\)\s*\{\s*:root\s*\{(.*?)\}`)
	paletteEntry = regexp.MustCompile(`(--[a-z-]+):\s*(#[0-9a-fA-F]{6})\s*;`)
)

// palettes reads app.css's palette, light and dark (the dark one with the
// light one's values for what it does not set): the stylesheet is the one
// place the pages' colours are written.
func palettes() (light, dark map[string]string) {
	css, _ := staticFS.ReadFile("static/app.css")
	read := func(re *regexp.Regexp, into map[string]string) {
		if m := re.FindSubmatch(css); m != nil {
			for _, e := range paletteEntry.FindAllSubmatch(m[1], -1) {
				into[string(e[1])] = strings.ToLower(string(e[2]))
			}
		}
	}
	light, dark = map[string]string{}, map[string]string{}
	read(lightBlock, light)
	for k, v := range light {
		dark[k] = v
	}
	read(darkBlock, dark)
	return light, dark
}

// minContrast is WCAG 2 AA's contrast for text (1.4.3).
const minContrast = 4.5

// accentBackgrounds are the backgrounds the accent colour is drawn on (as
// links and focus rings), with what each is for an error.
var accentBackgrounds = []struct{ prop, what string }{
	{"--bg", "the pages' background"},
	{"--notice-bg", "the notices' background"},
	{"--bad-bg", "the error summary's background"},
}

// checkColor refuses a brand colour that would make a page hard to read:
// links on any background, or a button's text on the colour, under 4.5:1.
func checkColor(key, colour string, pal map[string]string, fix string) error {
	if colour == "" {
		return nil
	}
	if _, _, _, ok := brand.ParseColor(colour); !ok {
		return fmt.Errorf("%s: %q is not a colour written #rrggbb", key, colour)
	}
	for _, bg := range accentBackgrounds {
		if c := brand.Contrast(colour, pal[bg.prop]); c < minContrast {
			return fmt.Errorf("%s: %s on %s (%s) reads at %.2f:1; links, buttons and focus rings need at least %.1f:1 (WCAG AA) on every background they are drawn on: choose a %s colour",
				key, colour, bg.what, pal[bg.prop], c, minContrast, fix)
		}
	}
	if fg := pal["--accent-fg"]; brand.Contrast(fg, colour) < minContrast {
		return fmt.Errorf("%s: a button's text (%s) on %s reads at %.2f:1; it needs at least %.1f:1 (WCAG AA): choose a %s colour",
			key, fg, colour, brand.Contrast(fg, colour), minContrast, fix)
	}
	return nil
}

// templateSource returns a template file's source: the operator's, when
// brand.templates has one by that name, or the built-in one.
func (s *Server) templateSource(file string) (string, error) {
	if s.Look != nil {
		if src, ok := s.Look.Templates.Pages[file]; ok {
			return src, nil
		}
	}
	b, err := templateFS.ReadFile("templates/" + file)
	return string(b), err
}

// CheckLook checks the look against the pages before the server serves
// them: the colours' contrast, and each page template from
// brand.templates — it parses, draws in every language with the layout
// (the operator's or the built-in), and writes no header's equivalent into
// the page. A template that only adds what the Content-Security-Policy
// blocks (an inline script or style, a script from elsewhere) is served,
// with a warning in the log: the policy stays, and the browser refuses it.
func (s *Server) CheckLook() error {
	l := s.Look
	if l == nil {
		return nil
	}
	var errs []error
	if l.Color != "" || l.ColorDark != "" {
		light, dark := palettes()
		errs = append(errs, checkColor("brand.color", l.Color, light, "darker"))
		errs = append(errs, checkColor("brand.color_dark", l.ColorDark, dark, "lighter"))
	}
	if len(l.Templates.Pages) == 0 {
		return errors.Join(errs...)
	}
	funcs := s.templateFuncs()
	overridden := slices.Sorted(maps.Keys(l.Templates.Pages))
	for _, file := range overridden {
		path := l.Templates.Path(file)
		src := l.Templates.Pages[file]
		// Parsed alone first, so that a syntax error names the file.
		alone, err := template.New(file).Funcs(funcs).Parse(src)
		if err != nil {
			errs = append(errs, fmt.Errorf("brand.templates: %s: %v", path, err))
			continue
		}
		if err := definesWhatIsDrawn(alone, file); err != nil {
			errs = append(errs, fmt.Errorf("brand.templates: %s: %v", path, err))
			continue
		}
		if err := headerInPage(src); err != nil {
			errs = append(errs, fmt.Errorf("brand.templates: %s: %v", path, err))
			continue
		}
		if blocked := blockedByCSP(src); len(blocked) > 0 && s.Log != nil {
			s.Log.Warn("brand.templates: the Content-Security-Policy blocks part of a template; browsers will not run or apply it",
				"file", path, "blocked", strings.Join(blocked, "; "))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	// Every page drawn with an overridden layout, or an overridden page
	// with the layout.
	pages := overridden
	if _, ok := l.Templates.Pages["layout.html"]; ok {
		pages = PageFiles()
	}
	set := pageSet{}
	for _, file := range pages {
		if file == "layout.html" {
			continue
		}
		name := strings.TrimSuffix(file, ".html")
		set[name] = map[string]*pageTemplate{}
		for _, lang := range i18n.Languages {
			t, err := s.buildPage(funcs, file, lang, true)
			if err != nil {
				return fmt.Errorf("brand.templates: %s: %s in %s: %v", l.Templates.Dir, file, i18n.Name(lang), err)
			}
			set[name][lang] = &pageTemplate{build: func() (*template.Template, error) { return t, nil }}
		}
	}
	if set["error"] != nil {
		// The busy page is drawn from the error page once, at start,
		// where a failure would end the process.
		for _, lang := range i18n.Languages {
			if _, err := s.busyPage(set, lang); err != nil {
				return fmt.Errorf("brand.templates: %s: error.html in %s cannot draw the busy page: %v", l.Templates.Dir, i18n.Name(lang), err)
			}
		}
	}
	return nil
}

// definesWhatIsDrawn checks that a template file defines what render
// draws of it: the layout's "layout", a page's "content".
func definesWhatIsDrawn(t *template.Template, file string) error {
	if file == "layout.html" {
		if t.Lookup("layout") == nil {
			return errors.New(`no {{define "layout"}}: the layout defines "layout", which draws each page's "content" (and "input" and "codelinks", which pages call)`)
		}
		return nil
	}
	if t.Lookup("content") == nil {
		return errors.New(`no {{define "content"}}: a page's template defines "content", which the layout draws`)
	}
	return nil
}

var (
	httpEquiv    = regexp.MustCompile(`(?i)http-equiv`)
	referrerMeta = regexp.MustCompile(`(?i)<meta\b[^>]*\bname\s*=\s*["']?\s*referrer`)
	referrerAttr = regexp.MustCompile(`(?i)referrerpolicy`)
)

// headerInPage reports a template that writes a header's equivalent into
// the page, where it would stand beside (or above) the server's own: a
// meta http-equiv, or a referrer policy (a meta one, or an element's
// referrerpolicy, which would send the page's URL, request ids and all, to
// other sites). The server's headers are the only ones.
func headerInPage(src string) error {
	switch {
	case httpEquiv.MatchString(src):
		return errors.New("has a meta http-equiv; the server sets every header itself, a template may not")
	case referrerMeta.MatchString(src), referrerAttr.MatchString(src):
		return errors.New("sets a referrer policy; the server's (no-referrer) keeps the request ids in a page's URL from other sites, a template may not change it")
	}
	return nil
}

var (
	scriptTag   = regexp.MustCompile(`(?is)<script\b([^>]*)>`)
	srcAttr     = regexp.MustCompile(`(?i)\bsrc\s*=\s*["']?\s*([^"'\s>]*)`)
	handlerAttr = regexp.MustCompile(`(?i)<[a-z][^>]*\s(on[a-z]+)\s*=`)
	styleAttr   = regexp.MustCompile(`(?i)<[a-z][^>]*\sstyle\s*=`)
	styleTag    = regexp.MustCompile(`(?i)<style\b`)
	scriptURL   = regexp.MustCompile(`(?i)javascript:`)
	externalRef = regexp.MustCompile(`(?i)<(?:link|img|iframe|object|embed|audio|video|source)\b[^>]*\s(?:src|href)\s*=\s*["']?\s*(?:https?:)?//`)
)

// blockedByCSP lists what a template writes that the pages'
// Content-Security-Policy makes the browser refuse: it does no harm, but
// the operator should know it does nothing.
func blockedByCSP(src string) []string {
	var out []string
	for _, m := range scriptTag.FindAllStringSubmatch(src, -1) {
		s := srcAttr.FindStringSubmatch(m[1])
		switch {
		case s == nil:
			out = append(out, "an inline <script> (script-src 'self')")
		case !strings.HasPrefix(s[1], "/") || strings.HasPrefix(s[1], "//"):
			out = append(out, "a script from elsewhere, "+s[1]+" (script-src 'self')")
		}
	}
	if m := handlerAttr.FindStringSubmatch(src); m != nil {
		out = append(out, "an event handler attribute, "+m[1]+" (script-src 'self')")
	}
	if scriptURL.MatchString(src) {
		out = append(out, "a javascript: URL (script-src 'self')")
	}
	if styleAttr.MatchString(src) || styleTag.MatchString(src) {
		out = append(out, "an inline style (style-src 'self')")
	}
	if externalRef.MatchString(src) {
		out = append(out, "an image, frame or stylesheet from another site (default-src 'none', img-src and style-src 'self')")
	}
	return out
}

// lookStatic adds the look's files to the static files, refusing to hide
// an embedded one.
func (s *Server) lookStatic(static map[string]staticFile) {
	for name, f := range s.look().static {
		if _, taken := static[name]; taken {
			panic("web: the look's " + name + " has the name of an embedded asset")
		}
		static[name] = f
	}
}

// serviceName is the name the pages show: service_name, or the catalog's
// name for a server built without one (the tests').
func (s *Server) serviceName() string {
	if s.ServiceName != "" {
		return s.ServiceName
	}
	return s.Catalog.T(i18n.Languages[0], "app.name")
}
