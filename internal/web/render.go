package web

import (
	"bytes"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"gatehouse/internal/account"
	"gatehouse/internal/form"
	"gatehouse/internal/httpcore"
	"gatehouse/internal/i18n"
)

// page is what every template receives.
type page struct {
	Lang  string
	Title string
	// DocTitle is the document's <title> when it must say more than the
	// visible h1 (Title): the checker's verdict, which a screen reader
	// announces first, while the page shows it once, in its result box.
	DocTitle string
	SignedIn bool
	Notice   string            // localised message shown at the top
	Error    string            // localised error shown at the top (error pages)
	Values   map[string]string // form values to show again
	Errors   map[string]string // field → localised error
	Invalid  map[string]bool   // fields marked invalid without a message of their own
	// Summary lists every problem of a refused form, in the order of the
	// fields; the page focuses it so a screen reader hears it first.
	Summary []problem
	Data    map[string]any

	// path is the GET address of this page (a POST answers with the page
	// its form came from: its route's Page), for the language switcher.
	path string
	// carryNot names a kept value the language switcher must not carry:
	// a code already proven right, which must not end up in a URL.
	carryNot string
}

// problem is one entry of the error summary: a message, and the field it
// links to ("" for a problem of the whole form).
type problem struct {
	Field, Message string
}

// kept are the form values the language switcher carries over to the page
// in the other language, so that switching never loses the request or what
// was typed. Passwords are never among them.
var kept = []string{"c", "email", "phone", "code", "next"}

// LangNext is where the language switcher returns to: this page's GET
// address with the request id and the typed values.
func (p *page) LangNext() string {
	q := url.Values{}
	for _, k := range kept {
		if v := p.Values[k]; v != "" && k != p.carryNot {
			q.Set(k, v)
		}
	}
	if len(q) == 0 {
		return p.path
	}
	if strings.Contains(p.path, "?") {
		return p.path + "&" + q.Encode()
	}
	return p.path + "?" + q.Encode()
}

// input describes one form field for the "input" template.
type input struct {
	Name, Type, Autocomplete, Label, Value, Error, Hint, Lang string
	Required, Invalid                                         bool
	Inputmode, Pattern                                        string
	// Button, when set, is the label of a submit button drawn right
	// beside the field (a one-field search form).
	Button string
}

// DescribedBy is the field's aria-describedby: its hint and its error, so
// a screen reader hears both.
func (in input) DescribedBy() string {
	var ids []string
	if in.Hint != "" {
		ids = append(ids, "h-"+in.Name)
	}
	if in.Error != "" {
		ids = append(ids, "e-"+in.Name)
	} else if in.Invalid {
		ids = append(ids, "error-summary")
	}
	return strings.Join(ids, " ")
}

// templateFuncs are the functions the templates call.
func (s *Server) templateFuncs() template.FuncMap {
	return template.FuncMap{
		"t":         s.Catalog.T,
		"languages": func() []string { return i18n.Languages },
		"langName":  i18n.Name,
		"bothForms": hostBothForms, // a look-alike host as read and as DNS spells it
		// The service's own look (brand.go): its name, the URLs of its
		// logo and stylesheet ("" when it has none), its footer links in
		// a language.
		"brandName":   s.serviceName,
		"brandLogo":   func() string { return s.look().logo },
		"brandStyle":  func() string { return s.look().style },
		"footerLinks": func(lang string) []footerLink { return s.look().links[lang] },
		"input": func(p *page, name, typ, autocomplete, label string, required bool) input {
			in := input{Name: name, Type: typ, Autocomplete: autocomplete, Label: s.Catalog.T(p.Lang, label),
				Value: p.Values[name], Error: p.Errors[name], Invalid: p.Invalid[name], Required: required, Lang: p.Lang}
			if typ == "password" {
				in.Value = "" // never echo a password back into the page
			}
			if name == "code" && autocomplete == "one-time-code" {
				// A six-digit code (a backup code is letters too).
				in.Inputmode = "numeric"
			}
			return in
		},
		// The console's shared pieces (layout.html's console_…).
		"consoleAction": func(p *page, action, path, label string, danger bool) map[string]any {
			return map[string]any{"P": p, "Action": action, "Path": path, "Label": label, "Danger": danger,
				"Invalid": p.Data["Failed"] == action}
		},
		"consoleAudit": func(p *page, rows []consoleAudit, heading string) map[string]any {
			return map[string]any{"P": p, "Rows": rows, "Heading": heading}
		},
		"consoleReports": func(p *page, rows []consoleReportRow, heading, id string) map[string]any {
			return map[string]any{"P": p, "Rows": rows, "Heading": heading, "ID": id}
		},
		"withHint":   func(in input, hint string) input { in.Hint = hint; return in },
		"withButton": func(in input, label string) input { in.Button = label; return in },
		// keepRefs writes text with each message reference in it kept on
		// one line: a reference broken at a hyphen reads as two.
		"keepRefs": keepRefs,
		// tAddr is t with an address as its first argument, shown bold and
		// never broken across lines (an address split at its hyphen reads
		// as two).
		"tAddr": func(lang, key, addr string, args ...any) template.HTML {
			const mark = "\u27e6addr\u27e7"
			out := template.HTMLEscapeString(s.Catalog.T(lang, key, append([]any{mark}, args...)...))
			return template.HTML(strings.Replace(out, mark, `<strong class="address nowrap">`+template.HTMLEscapeString(addr)+`</strong>`, 1))
		},
	}
}

// pageTemplate is one page's template in one language, parsed (and
// folded) the first time it is drawn: parsing, escaping and folding the
// thirty-odd pages in two languages took some 20 ms, which every start
// would wait for (html/template escapes a template at its first use
// anyway).
type pageTemplate struct {
	once  sync.Once
	build func() (*template.Template, error)
	t     *template.Template
	err   error
}

func (pt *pageTemplate) get() (*template.Template, error) {
	pt.once.Do(func() { pt.t, pt.err = pt.build(); pt.build = nil })
	return pt.t, pt.err
}

// pageTemplates returns every page's template in every language (name →
// language), each parsed with the layout when first drawn, and with fold
// set, folded for its language (foldPage).
func (s *Server) pageTemplates(fold bool) pageSet {
	funcs := s.templateFuncs()
	names, _ := templateFS.ReadDir("templates")
	pages := pageSet{}
	for _, n := range names {
		file := n.Name()
		if file == "layout.html" {
			continue
		}
		byLang := map[string]*pageTemplate{}
		for _, lang := range i18n.Languages {
			byLang[lang] = &pageTemplate{build: func() (*template.Template, error) {
				return s.buildPage(funcs, file, lang, fold)
			}}
		}
		pages[strings.TrimSuffix(file, ".html")] = byLang
	}
	return pages
}

// buildPage parses a page's template with the layout, each the
// operator's (brand.templates) or the built-in one, and with fold set,
// folds it for lang. Each file is parsed as a template named by its file
// name, as ParseFS names them.
func (s *Server) buildPage(funcs template.FuncMap, file, lang string, fold bool) (*template.Template, error) {
	t := template.New("base").Funcs(funcs)
	for _, f := range []string{"layout.html", file} {
		src, err := s.templateSource(f)
		if err != nil {
			return nil, err
		}
		if _, err := t.New(f).Parse(src); err != nil {
			return nil, err
		}
	}
	if !fold {
		return t, nil
	}
	return t, foldPage(t, s.Catalog, lang, s.foldCall)
}

// pageSet is every page's template in every language: page → language.
type pageSet map[string]map[string]*pageTemplate

// get returns the named page's template for lang, one of i18n.Languages
// (Catalog.Match): each language's has what depends on the language alone
// written in (foldPage).
func (ps pageSet) get(name, lang string) (*template.Template, error) {
	pt := ps[name][lang]
	if pt == nil {
		return nil, errors.New("web: no page " + name + " in " + lang)
	}
	return pt.get()
}

// page returns the named page's template for lang (see pageSet.get),
// once the assets are built.
func (s *Server) page(name, lang string) (*template.Template, error) {
	return s.assets().pages.get(name, lang)
}

func (s *Server) newPage(r *http.Request, titleKey string) *page {
	st := state(r)
	p := &page{
		Lang: st.Lang, Title: s.Catalog.T(st.Lang, titleKey), path: r.URL.Path,
		SignedIn: st.Session != nil, Values: map[string]string{}, Errors: map[string]string{}, Invalid: map[string]bool{},
		Data: map[string]any{"MinLength": s.MinPasswordLength},
	}
	if credit := s.Places.Attribution(); credit != "" {
		// DB-IP Lite's licence (CC BY 4.0) asks for the credit on the
		// pages that show its places.
		p.Data["GeoCredit"] = credit
	}
	if rt := st.Route; rt != nil && rt.Page != "" {
		// A form's POST answers with the page the form belongs to.
		p.path = rt.Page
	}
	if !s.known[p.path] {
		p.path = "/"
	}
	if r.Method == http.MethodGet {
		// Values carried over by the language switcher (see kept).
		q := r.URL.Query()
		for _, k := range kept {
			if v := q.Get(k); v != "" && len(v) <= account.MaxEmailBytes && plainText(v) {
				p.Values[k] = v
			}
		}
	}
	return p
}

// render writes the named page with status. The template runs into a buffer
// first so that a template error becomes a clean 500, not half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, p *page) {
	buf, _ := s.renderBufs.Get().(*bytes.Buffer)
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	defer s.putRenderBuf(buf)
	t, err := s.page(name, p.Lang)
	if err == nil {
		err = t.ExecuteTemplate(buf, "layout", p)
	}
	if err != nil {
		s.Log.ErrorContext(r.Context(), "render", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Language", p.Lang)
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// maxRenderBuf is the largest buffer render keeps for the next page: a
// page is a few to some tens of kilobytes; a rare larger one (a long
// message list) is not worth holding on to.
const maxRenderBuf = 256 << 10

// putRenderBuf keeps buf for the next page render draws. A fresh buffer
// grows by doubling to the page's size, and those copies were most of the
// bytes drawing the account page allocated.
func (s *Server) putRenderBuf(buf *bytes.Buffer) {
	if buf.Cap() > maxRenderBuf {
		return
	}
	buf.Reset()
	s.renderBufs.Put(buf)
}

// errorTitles gives each error page a title that says what happened.
var errorTitles = map[int]string{
	http.StatusNotFound:              "error.title.not_found",
	http.StatusMethodNotAllowed:      "error.title.method",
	http.StatusForbidden:             "error.title.refused",
	http.StatusBadRequest:            "error.title.refused",
	http.StatusUnsupportedMediaType:  "error.title.refused",
	http.StatusRequestEntityTooLarge: "error.title.refused",
	http.StatusServiceUnavailable:    "error.title.busy",
	http.StatusTooManyRequests:       "error.title.limited",
	http.StatusInternalServerError:   "error.title.internal",
}

// errorPage answers with a page that explains the error in the holder's
// language, with a way back to the start of what they were doing.
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, status int, key string) {
	s.errorPageText(w, r, status, key, "")
}

// errorPageText is errorPage with the sentence already written (one that
// needs numbers); empty means the key's.
func (s *Server) errorPageText(w http.ResponseWriter, r *http.Request, status int, key, text string) {
	title := errorTitles[status]
	if key == "error.request_unknown" || key == "error.code_no_more" {
		// Ended, not "wait": waiting will not bring another code.
		title = "error.title.request"
	}
	if title == "" {
		title = "error.title"
	}
	p := s.newPage(r, title)
	p.Error = text
	if text == "" {
		p.Error = s.Catalog.T(p.Lang, key)
	}
	p.Data["Start"], p.Data["StartLabel"] = "/signin", "error.start_signin"
	switch {
	case strings.HasPrefix(r.URL.Path, "/signup"):
		p.Data["Start"], p.Data["StartLabel"] = "/signup", "error.start_signup"
	case strings.HasPrefix(r.URL.Path, "/password/"):
		p.Data["Start"], p.Data["StartLabel"] = "/password/forgot", "error.start_reset"
	case strings.HasPrefix(r.URL.Path, "/check"), strings.HasPrefix(r.URL.Path, "/why/"):
		// A visitor checking a message wants to check one again.
		p.Data["Start"], p.Data["StartLabel"] = "/check", "error.start_check"
	}
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "2")
	}
	s.render(w, r, status, "error", p)
}

// fieldOrder is the order problems are listed in the error summary: the
// order the fields appear in on every form.
var fieldOrder = []string{"email", "current_password", "password", "name", "code", "new_password", "phone", "language", "time_zone", "text", "eml", "ref"}

// message turns a field's error key into its sentence, with the numbers it
// needs ("use at least 12 characters").
func (s *Server) message(lang, field, key string, args ...any) string {
	switch key {
	case "error.required":
		if specific := key + "." + field; s.Catalog.Has(specific) {
			return s.Catalog.T(lang, specific)
		}
	case "password.reason.too_short":
		return s.Catalog.T(lang, key, s.MinPasswordLength)
	case "error.phone_invalid", "error.phone_invalid_plain":
		// Beside the field, with the example to follow.
		return s.Catalog.T(lang, "error.phone_invalid", s.PhoneExample)
	}
	return s.Catalog.T(lang, key, args...)
}

// showErrors renders a refused form (422 unless status says otherwise):
// "Error:" before the title, a summary of every problem linking to its
// field, each message next to its field.
func (s *Server) showErrors(w http.ResponseWriter, r *http.Request, status int, name string, p *page) {
	if s.Support != "" && p.Error == s.Catalog.T(p.Lang, "error.signin_disabled") {
		// The one refusal only the operator can undo: say where to ask.
		p.Data["SupportContact"] = s.Support
	}
	for _, f := range fieldOrder {
		if msg := p.Errors[f]; msg != "" {
			p.Summary = append(p.Summary, problem{Field: f, Message: msg})
		}
	}
	if p.Error != "" {
		p.Summary = append(p.Summary, problem{Message: p.Error})
		p.Error = ""
	}
	p.Title = s.Catalog.T(p.Lang, "form.error_prefix", p.Title)
	s.render(w, r, status, name, p)
}

// formError shows a form again with what was wrong: field errors (422)
// when err carries them; a capability's error about one field (the error
// mapper knows which) beside that field, its value dropped when it can no
// longer succeed (a dead code); a wait that is no mistake (a code sent
// moments ago) as information at the top; a refusal of the whole form
// (409, 422, 429) at its top, with the fields it concerns marked. Anything
// else (a request that is unknown, or a fault) is the error mapper's
// answer (httpcore.Fail).
func (s *Server) formError(w http.ResponseWriter, r *http.Request, name string, p *page, err error) {
	var fe form.Errors
	if errors.As(err, &fe) {
		for k, v := range fe {
			p.Errors[k] = s.message(p.Lang, k, v)
		}
		s.showErrors(w, r, http.StatusUnprocessableEntity, name, p)
		return
	}
	f := httpcore.Classify(r.Context(), err)
	if f.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(f.RetryAfter/time.Second)))
	}
	switch {
	case f.Calm:
		p.Notice = f.Sentence(s.Catalog, p.Lang)
		s.render(w, r, f.Status, name, p)
	case f.Field != "":
		p.Errors[f.Field] = s.message(p.Lang, f.Field, f.Key, f.Args...)
		if f.Ended {
			delete(p.Values, f.Field)
		}
		s.showErrors(w, r, f.Status, name, p)
	case f.Status == http.StatusConflict || f.Status == http.StatusUnprocessableEntity || f.Status == http.StatusTooManyRequests:
		// About the whole form: said at its top, the form kept.
		p.Error = f.Sentence(s.Catalog, p.Lang)
		for _, field := range f.Invalid {
			p.Invalid[field] = true
		}
		s.showErrors(w, r, f.Status, name, p)
	default:
		httpcore.Fail(w, r, err)
	}
}

// notices are the messages a redirect may ask the next page to show.
var notices = map[string]string{
	"reported":              "check.reported",
	"resent":                "confirm.resent",
	"sent":                  "verify.sent",
	"phone_added":           "twostep.phone_added",
	"phone_removed":         "twostep.phone_removed",
	"passkey_added":         "twostep.passkey_added",
	"email_changed":         "email.changed",
	"reverified_again":      "reverify.again",
	"phone_changed":         "twostep.phone_changed",
	"passkey_removed":       "twostep.passkey_removed",
	"confirmed":             "confirm.done_signin",
	"account_created":       "account.created",
	"signed_out":            "signin.signed_out",
	"signed_out_everywhere": "signin.signed_out_everywhere",
	"password_updated":      "account.password_updated",
	"preferences_saved":     "account.preferences_saved",
	"reset_done":            "reset.done",
	"signin_needed":         "signin.needed",
	"signin_again":          "signin.again",
	"app_added":             "twostep.app_added",
	"app_removed":           "twostep.app_removed",
	"trust_stopped":         "account.trust_stopped",
	"two_step_off":          "twostep.turned_off",
	"answered_me":           "why.thanks_me",
	"already_answered":      "why.already_answered",
	"renamed":               "devices.renamed",
	"name_removed":          "devices.name_removed",
	"device_signed_out":     "devices.signed_out",
	"signed_out_others":     "devices.signed_out_others",
	"alerts_saved":          "security.alerts_saved",
	"password_compromised":  "notice.password_compromised",
	// The operator console's.
	"console_fresh":          "console.fresh",
	"console_sign_out_all":   "console.done.sign_out_all",
	"console_password_known": "console.done.password_known",
	"console_disable":        "console.done.disable",
	"console_enable":         "console.done.enable",
	"console_reset_two_step": "console.done.reset_two_step",
	"console_lift_limit":     "console.done.lift_limit",
	"console_reviewed":       "console.done.reviewed",
}

func (s *Server) notice(r *http.Request, p *page) {
	if key, ok := notices[r.URL.Query().Get("notice")]; ok {
		p.Notice = s.Catalog.T(p.Lang, key)
	}
}

// keepRefs escapes text for HTML and wraps each message reference in it
// (GH-XXXX-XXXX-XXXX) in a span that does not break across lines.
func keepRefs(text string) template.HTML {
	var b strings.Builder
	last := 0
	for _, m := range referenceRun.FindAllStringIndex(text, -1) {
		b.WriteString(template.HTMLEscapeString(text[last:m[0]]))
		b.WriteString(`<span class="nowrap">` + template.HTMLEscapeString(text[m[0]:m[1]]) + `</span>`)
		last = m[1]
	}
	b.WriteString(template.HTMLEscapeString(text[last:]))
	return template.HTML(b.String())
}

// foldCall is the value of a call of one of the look's template functions
// (templateFuncs), fixed for the server's lifetime, for foldPage to write
// into each page at parse time: the service's name, the logo's and the
// stylesheet's URLs (empty without them), and a language's footer links
// when it has none. A page drawn for every request then calls none of
// them (each was a reflected call and an escaper's).
func (s *Server) foldCall(name string, args []string) (string, bool) {
	switch {
	case name == "brandName" && len(args) == 0:
		return s.serviceName(), true
	case name == "brandLogo" && len(args) == 0:
		return s.look().logo, true
	case name == "brandStyle" && len(args) == 0:
		return s.look().style, true
	case name == "footerLinks" && len(args) == 1 && len(s.look().links[args[0]]) == 0:
		return "", true
	}
	return "", false
}
