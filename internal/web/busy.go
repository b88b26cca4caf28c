package web

import (
	"bytes"
	"net/http"
	"strconv"
	"sync"
	"time"

	"gatehouse/internal/i18n"
)

// renderBusyPages renders the "busy, try again" page once per language.
// Under a flood of sign-ins the refusals must cost almost nothing, or they
// take the CPU the hashes need: no template, no form parsing, no session
// lookup, no database — a fixed answer from memory.
func (s *Server) renderBusyPages() {
	s.busyPages = map[string][]byte{}
	for _, lang := range i18n.Languages {
		p := &page{Lang: lang, Title: s.Catalog.T(lang, "error.title.busy"), path: "/", Error: s.Catalog.T(lang, "error.busy"),
			Values: map[string]string{}, Errors: map[string]string{}, Invalid: map[string]bool{},
			Data: map[string]any{"Start": "/signin", "StartLabel": "error.start_signin"}}
		var buf bytes.Buffer
		if err := s.pages["error"].ExecuteTemplate(&buf, "layout", p); err != nil {
			panic("web: busy page: " + err.Error())
		}
		s.busyPages[lang] = buf.Bytes()
	}
}

// busy answers a hashing route while the pool is full: 503 with
// Retry-After, decided before the request body is read. The connection
// stays open: a sign-in form is tiny, and a retry on the same connection is
// cheaper than a new one.
func (s *Server) busy(w http.ResponseWriter, r *http.Request, retry time.Duration) {
	st := state(r)
	st.refused = true
	after := strconv.Itoa(max(1, int(retry/time.Second)))
	if st.chain == api {
		w.Header().Set("Retry-After", after)
		s.jsonError(w, r, http.StatusServiceUnavailable, "error.busy")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Language", st.lang)
	h.Set("Retry-After", after)
	w.WriteHeader(http.StatusServiceUnavailable)
	w.Write(s.busyPages[st.lang])
}

// refusalLog samples the log lines of busy refusals: at most one line a
// second, saying how many were refused since the last one. Thousands of
// identical lines a second would cost more than the refusals themselves.
type refusalLog struct {
	mu      sync.Mutex
	last    time.Time
	skipped int
}

// sample reports whether this refusal gets a log line, and how many went
// unlogged before it.
func (l *refusalLog) sample(now time.Time) (bool, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.last) < time.Second {
		l.skipped++
		return false, 0
	}
	n := l.skipped
	l.last, l.skipped = now, 0
	return true, n
}
