// Package web serves Gatehouse's pages: server-rendered HTML that works
// without JavaScript, in English and Japanese.
//
// Every URL is listed once, in routes.go. A request passes through the
// middleware in middleware.go (request id and log line, security headers,
// language, cross-origin protection, form limits) and then the page's
// handler, one file per page. Handlers translate the capability packages'
// errors into a page with the error next to the field (422), a redirect
// after success (303), or a 503 when the hashing pool is full.
package web

import (
	"context"
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"gatehouse/internal/account"
	"gatehouse/internal/code"
	"gatehouse/internal/i18n"
	"gatehouse/internal/outbox"
	"gatehouse/internal/session"
	"gatehouse/internal/signin"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Server holds what the pages need. cmd/gatehouse builds it.
type Server struct {
	Accounts *account.Service
	SignIn   *signin.Service
	Sessions *session.Manager
	Devices  *session.Devices
	Codes    *code.Service
	Outbox   *outbox.Outbox
	Catalog  *i18n.Catalog
	Log      *slog.Logger

	ServiceName       string
	MinPasswordLength int
	RememberFor       time.Duration
	// DevMessages enables /dev/messages (only with the dev mail driver,
	// and only answered for loopback clients).
	DevMessages bool
	// HSTS adds Strict-Transport-Security (when served over TLS).
	HSTS bool
	// TrustedProxies are the peers whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// Ready reports whether the server can serve (database reachable).
	Ready func(context.Context) error
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	pages map[string]*template.Template
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// Handler returns the server's http.Handler with every route and middleware.
func (s *Server) Handler() http.Handler {
	s.parseTemplates()
	mux := http.NewServeMux()
	known := map[string][]string{}
	for _, rt := range s.routes() {
		h := rt.handler
		if rt.auth {
			h = s.requireSession(h)
		}
		mux.Handle(rt.method+" "+rt.path, h)
		known[rt.path] = append(known[rt.path], rt.method)
	}
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", staticFiles(http.FileServerFS(static))))
	// Everything else: a page in the holder's language instead of the
	// mux's plain-text 404 and 405.
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if methods, ok := known[r.URL.Path]; ok {
			w.Header().Set("Allow", joinMethods(methods))
			s.errorPage(w, r, http.StatusMethodNotAllowed, "error.method")
			return
		}
		s.errorPage(w, r, http.StatusNotFound, "error.not_found")
	})
	return s.middleware(mux)
}

func joinMethods(ms []string) string {
	out := ""
	for i, m := range ms {
		if i > 0 {
			out += ", "
		}
		out += m
		if m == http.MethodGet {
			out += ", HEAD"
		}
	}
	return out
}

func staticFiles(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(w, r)
	})
}
