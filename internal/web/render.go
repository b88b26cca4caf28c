package web

import (
	"bytes"
	"context"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"time"

	"gatehouse/internal/account"
	"gatehouse/internal/i18n"
	"gatehouse/internal/password"
)

// page is what every template receives.
type page struct {
	Lang     string
	Title    string
	Path     string // this page's URL, for the language switcher
	SignedIn bool
	Notice   string            // localised message shown at the top
	Error    string            // localised error shown at the top
	Values   map[string]string // form values to show again
	Errors   map[string]string // field → localised error
	Data     map[string]any
}

// input describes one form field for the "input" template.
type input struct {
	Name, Type, Autocomplete, Label, Value, Error, Hint, Lang string
	Required                                                  bool
	Inputmode, Pattern                                        string
}

func (s *Server) parseTemplates() {
	funcs := template.FuncMap{
		"t":         s.Catalog.T,
		"languages": func() []string { return i18n.Languages },
		"langName":  i18n.Name,
		"input": func(p *page, name, typ, autocomplete, label string, required bool) input {
			in := input{Name: name, Type: typ, Autocomplete: autocomplete, Label: s.Catalog.T(p.Lang, label),
				Value: p.Values[name], Error: p.Errors[name], Required: required, Lang: p.Lang}
			if typ == "password" {
				in.Value = "" // never echo a password back into the page
			}
			if name == "code" {
				in.Inputmode, in.Pattern = "numeric", "[0-9]{6}"
			}
			return in
		},
		"withHint": func(in input, hint string) input { in.Hint = hint; return in },
	}
	base := template.Must(template.New("base").Funcs(funcs).ParseFS(templateFS, "templates/layout.html"))
	names, _ := templateFS.ReadDir("templates")
	s.pages = map[string]*template.Template{}
	for _, n := range names {
		if n.Name() == "layout.html" {
			continue
		}
		t := template.Must(template.Must(base.Clone()).ParseFS(templateFS, "templates/"+n.Name()))
		s.pages[n.Name()[:len(n.Name())-len(".html")]] = t
	}
}

func (s *Server) newPage(r *http.Request, titleKey string) *page {
	st := state(r)
	return &page{
		Lang: st.lang, Title: s.Catalog.T(st.lang, titleKey), Path: r.URL.RequestURI(),
		SignedIn: st.session != nil, Values: map[string]string{}, Errors: map[string]string{},
		Data: map[string]any{"MinLength": s.MinPasswordLength},
	}
}

// render writes the named page with status. The template runs into a buffer
// first so that a template error becomes a clean 500, not half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, p *page) {
	var buf bytes.Buffer
	if err := s.pages[name].ExecuteTemplate(&buf, "layout", p); err != nil {
		s.Log.ErrorContext(r.Context(), "render", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Language", p.Lang)
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// errorPage answers with a page that explains the error in the holder's
// language.
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, status int, key string) {
	p := s.newPage(r, "error.title")
	p.Error = s.Catalog.T(p.Lang, key)
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "2")
	}
	s.render(w, r, status, "error", p)
}

// fail answers an unexpected error: 503 when the hashing pool is full, 500
// (logged, with no detail shown) otherwise.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, password.ErrBusy) {
		s.errorPage(w, r, http.StatusServiceUnavailable, "error.busy")
		return
	}
	// When the database is unreachable every request fails the same way;
	// say so with 503 and Retry-After so that clients and load balancers
	// back off, rather than report a server bug.
	if s.Ready != nil {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), time.Second)
		defer cancel()
		if rerr := s.Ready(ctx); rerr != nil {
			s.Log.WarnContext(r.Context(), "database unavailable", "err", err)
			s.errorPage(w, r, http.StatusServiceUnavailable, "error.unavailable")
			return
		}
	}
	s.Log.ErrorContext(r.Context(), "request failed", "err", err)
	s.errorPage(w, r, http.StatusInternalServerError, "error.internal")
}

// formError shows a form again with its errors: field errors (422) when err
// carries them, otherwise fail.
func (s *Server) formError(w http.ResponseWriter, r *http.Request, name string, p *page, err error) {
	var fe account.FieldErrors
	if errors.As(err, &fe) {
		for k, v := range fe {
			p.Errors[k] = s.Catalog.T(p.Lang, v)
		}
		p.Error = s.Catalog.T(p.Lang, "form.errors_above")
		s.render(w, r, http.StatusUnprocessableEntity, name, p)
		return
	}
	s.fail(w, r, err)
}

// redirect answers a successful form with 303 See Other.
func redirect(w http.ResponseWriter, r *http.Request, path string, query url.Values) {
	if len(query) > 0 {
		path += "?" + query.Encode()
	}
	http.Redirect(w, r, path, http.StatusSeeOther)
}

// notices are the messages a redirect may ask the next page to show.
var notices = map[string]string{
	"resent":                "confirm.resent",
	"confirmed":             "confirm.done_signin",
	"signed_out":            "signin.signed_out",
	"signed_out_everywhere": "signin.signed_out_everywhere",
	"password_updated":      "account.password_updated",
	"reset_done":            "reset.done",
}

func (s *Server) notice(r *http.Request, p *page) {
	if key, ok := notices[r.URL.Query().Get("notice")]; ok {
		p.Notice = s.Catalog.T(p.Lang, key)
	}
}
