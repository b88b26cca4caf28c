package web

import (
	"net/http"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"

	"gatehouse/internal/httpcore"
	"gatehouse/internal/i18n"
)

// language switches the page language and remembers the choice.
func (s *Server) language(w http.ResponseWriter, r *http.Request) {
	to := r.URL.Query().Get("to")
	// Only local paths: the switcher must not become an open redirect.
	next := httpcore.LocalTarget(r.URL.Query().Get("next"), "/")
	if i18n.Supported(to) {
		httpcore.SetCookie(w, httpcore.LangCookie, to, s.now().Add(365*24*time.Hour), 365*24*3600)
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// regionName names the phone region in lang ("Japan", "日本").
func (s *Server) regionName(lang string) string {
	region, err := language.ParseRegion(s.PhoneRegion)
	if err != nil {
		return s.PhoneRegion
	}
	tag := language.English
	if lang == "ja" {
		tag = language.Japanese
	}
	return display.Regions(tag).Name(region)
}

// plainText reports whether v is text a page may carry over: valid UTF-8
// without control characters.
func plainText(v string) bool {
	if !utf8.ValidString(v) {
		return false
	}
	for _, c := range v {
		if unicode.IsControl(c) {
			return false
		}
	}
	return true
}

// noFavicon answers browsers' automatic favicon request without an error
// page (and without a log line's worth of 404s).
func noFavicon(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "public, max-age=86400")
	w.WriteHeader(http.StatusNoContent)
}
