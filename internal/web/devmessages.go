// The development mailbox: with the dev mail driver, the messages the
// server "sent", for the person trying it out on this machine.

package web

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"gatehouse/internal/httpcore"
	"gatehouse/internal/outbox"
	"gatehouse/internal/random"
)

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

// devMessage is the JSON form of a message for /dev/messages.json.
type devMessage struct {
	To        string    `json:"to"`
	Subject   string    `json:"subject"`
	Text      string    `json:"text"`
	HTML      string    `json:"html"`
	Reference string    `json:"reference"`
	Purpose   string    `json:"purpose"`
	Cause     string    `json:"cause,omitempty"`
	App       string    `json:"app,omitempty"` // the application that caused the code (cause connected_app)
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
			Purpose: string(m.Purpose), Cause: string(m.Cause), App: m.App, Channel: string(m.Channel), Language: m.Language, Status: string(m.Status), CreatedAt: m.CreatedAt})
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}

// devMessageFile is GET /dev/messages/{file}: {reference}.eml is an
// email's raw bytes exactly as the SMTP driver would have sent them, DKIM
// signatures included (dev driver, loopback only, like /dev/messages).
func (s *Server) devMessageFile(w http.ResponseWriter, r *http.Request) {
	if !s.devAllowed(w, r) {
		return
	}
	name, ok := strings.CutSuffix(r.PathValue("file"), ".eml")
	ref, valid := random.ParseReference(name)
	if !ok || !valid || s.DevRaw == nil {
		httpcore.Answer(w, r, http.StatusNotFound, "error.no_raw_message")
		return
	}
	m, err := s.Outbox.ByReference(r.Context(), ref)
	var raw []byte
	if err == nil {
		raw, err = s.DevRaw.OpenRaw(r.Context(), m.ID)
	}
	if err != nil {
		if httpcore.Classify(r.Context(), err).Status == http.StatusNotFound {
			// No such message, or an SMS, a withheld message, or one not
			// delivered yet: no raw email to give.
			httpcore.Answer(w, r, http.StatusNotFound, "error.no_raw_message")
			return
		}
		httpcore.Fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "message/rfc822")
	w.Header().Set("Content-Disposition", `attachment; filename="`+ref+`.eml"`)
	w.Write(raw)
}
