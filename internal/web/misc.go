package web

import (
	"context"
	"encoding/json"
	"gatehouse/internal/httpcore"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"

	"gatehouse/internal/device"
	"gatehouse/internal/i18n"
	"gatehouse/internal/outbox"
)

// deviceOf returns the device record of the browser's device cookie.
func (s *Server) deviceOf(r *http.Request) (*device.Device, error) {
	var token string
	if c, err := r.Cookie(httpcore.DeviceCookie); err == nil {
		token = c.Value
	}
	return s.Devices.ByToken(r.Context(), token)
}

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

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if s.Ready != nil {
		if err := s.Ready(ctx); err != nil {
			s.Log.WarnContext(r.Context(), "not ready", "err", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte("not ready\n"))
			return
		}
	}
	w.Write([]byte("ready\n"))
}

// devAllowed reports whether the development message list may be shown:
// only with the dev driver, and only to a client on this machine that did
// not come through a proxy.
func (s *Server) devAllowed(w http.ResponseWriter, r *http.Request) bool {
	if !s.DevMessages || !httpcore.OnThisMachine(r) {
		s.errorPage(w, r, http.StatusNotFound, "error.not_found")
		return false
	}
	return true
}

// devList returns the recent messages, or nil after answering the request
// when they may not be shown or cannot be read.
func (s *Server) devList(w http.ResponseWriter, r *http.Request) []*outbox.Message {
	if !s.devAllowed(w, r) {
		return nil
	}
	ms, err := s.Outbox.Recent(r.Context(), 200)
	if err != nil {
		httpcore.Fail(w, r, err)
		return nil
	}
	// Codes are stored sealed; this list is how a developer reads them.
	// ?to= narrows it to one recipient (case-insensitive).
	to := r.URL.Query().Get("to")
	out := make([]*outbox.Message, 0, len(ms))
	for _, m := range ms {
		if to != "" && !strings.EqualFold(m.To, to) {
			continue
		}
		if shown, err := s.Outbox.Reveal(m); err == nil {
			m = shown
		}
		out = append(out, m)
	}
	return out
}

func (s *Server) devMessages(w http.ResponseWriter, r *http.Request) {
	ms := s.devList(w, r)
	if ms == nil {
		return
	}
	p := s.newPage(r, "dev.title")
	views := make([]devView, 0, len(ms))
	for _, m := range ms {
		views = append(views, devView{Message: m, When: s.when(r, m.CreatedAt), Status: s.Catalog.T(p.Lang, "dev.status."+string(m.Status))})
	}
	p.Data["Messages"] = views
	p.Data["To"] = r.URL.Query().Get("to")
	s.render(w, r, http.StatusOK, "dev_messages", p)
}

// devView is a message as the dev mailbox page shows it.
type devView struct {
	*outbox.Message
	When, Status string
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

// devMessage is the JSON form of a message for /dev/messages.json.
type devMessage struct {
	To        string    `json:"to"`
	Subject   string    `json:"subject"`
	Text      string    `json:"text"`
	HTML      string    `json:"html"`
	Reference string    `json:"reference"`
	Purpose   string    `json:"purpose"`
	Cause     string    `json:"cause,omitempty"`
	Channel   string    `json:"channel"`
	Language  string    `json:"language"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
}

func (s *Server) devMessagesJSON(w http.ResponseWriter, r *http.Request) {
	ms := s.devList(w, r)
	if ms == nil {
		return
	}
	out := make([]devMessage, 0, len(ms))
	for _, m := range ms {
		out = append(out, devMessage{To: m.To, Subject: m.Subject, Text: m.Text, HTML: m.HTML, Reference: m.Reference,
			Purpose: string(m.Purpose), Cause: string(m.Cause), Channel: string(m.Channel), Language: m.Language, Status: string(m.Status), CreatedAt: m.CreatedAt})
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}

// noFavicon answers browsers' automatic favicon request without an error
// page (and without a log line's worth of 404s).
func noFavicon(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "public, max-age=86400")
	w.WriteHeader(http.StatusNoContent)
}
