package web

import (
	"bytes"
	"net/http"

	"gatehouse/internal/i18n"
)

// renderBusyPages renders the "busy, try again" page once per language.
// Under a flood of sign-ins the refusals must cost almost nothing, or they
// take the CPU the hashes need: no template, no form parsing, no session
// lookup, no database — a fixed answer from memory.
func (s *Server) renderBusyPages(pages pageSet) map[string][]byte {
	busy := map[string][]byte{}
	for _, lang := range i18n.Languages {
		b, err := s.busyPage(pages, lang)
		if err != nil {
			panic("web: busy page: " + err.Error())
		}
		busy[lang] = b
	}
	return busy
}

// busyPage renders the busy page in lang.
func (s *Server) busyPage(pages pageSet, lang string) ([]byte, error) {
	p := &page{Lang: lang, Title: s.Catalog.T(lang, "error.title.busy"), path: "/", Error: s.Catalog.T(lang, "error.busy"),
		Values: map[string]string{}, Errors: map[string]string{}, Invalid: map[string]bool{},
		Data: map[string]any{"Start": "/signin", "StartLabel": "error.start_signin"}}
	var buf bytes.Buffer
	t, err := pages.get("error", lang)
	if err == nil {
		err = t.ExecuteTemplate(&buf, "layout", p)
	}
	return buf.Bytes(), err
}

// busy is the pages' answer while the hashing pool is full: the page
// rendered once per language (the core has set the status's Retry-After).
func (s *Server) busy(w http.ResponseWriter, r *http.Request) {
	lang := state(r).Lang
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Language", lang)
	w.WriteHeader(http.StatusServiceUnavailable)
	w.Write(s.assets().busyPages[lang])
}
