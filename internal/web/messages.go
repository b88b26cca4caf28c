package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"gatehouse/internal/account"
	"gatehouse/internal/activity"
	"gatehouse/internal/code"
	"gatehouse/internal/httpcore"
	"gatehouse/internal/outbox"
	"gatehouse/internal/phone"
	"gatehouse/internal/random"
	"gatehouse/internal/request"
)

// messagesPerPage is how many messages the message center shows at once.
const messagesPerPage = 20

// centerMessage is one row of the message center.
type centerMessage struct {
	Reference, When, Channel, To, Title, Cause, Status, Text string
	// Lang is the language the message was written in (its subject and
	// text are shown as sent).
	Lang string
	// Request describes where the code's request came from; Answerable
	// offers "this was me" and "this wasn't me" (a code for a request).
	Request, Place     string
	Failed, Answerable bool
	// Disowned: the holder said this wasn't them.
	Disowned bool
	// Own: the code confirmed the holder's own request (their sign-up,
	// address or number); Cause then says so in place of "why".
	Own bool
}

// messagesPage is the message center: every email and SMS sent to the
// holder, newest first, each with its reference, what it was for, why a
// code was sent, and whether it was delivered — so that a message can be
// checked against what the service really sent. ?ref= finds one by its
// reference as typed; ?before= pages to older ones.
func (s *Server) messagesPage(w http.ResponseWriter, r *http.Request) {
	st := state(r)
	p := s.newPage(r, "messages.title")
	q := outbox.AccountQuery{Limit: messagesPerPage + 1}
	if typed := r.URL.Query().Get("ref"); typed != "" {
		p.Values["ref"] = typed
		ref, ok := random.ParseReference(typed)
		if !ok {
			p.Errors["ref"] = s.Catalog.T(p.Lang, "error.reference_format")
			s.showErrors(w, r, http.StatusUnprocessableEntity, "messages", p)
			return
		}
		q.Reference, p.Data["Searched"] = ref, ref
	}
	if b := r.URL.Query().Get("before"); b != "" {
		at, id, ok := strings.Cut(b, ".")
		us, err := strconv.ParseInt(at, 10, 64)
		if !ok || err != nil || us <= 0 || len(id) > 64 {
			httpcore.Fail(w, r, httpcore.ErrUnknown)
			return
		}
		q.Before, q.BeforeID = time.UnixMicro(us).UTC(), id
		p.Data["Paged"] = true
	}
	ms, err := s.Outbox.ForAccount(r.Context(), st.Account.ID, q)
	if err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	if len(ms) > messagesPerPage {
		last := ms[messagesPerPage-1]
		p.Data["Older"] = "/account/messages?" + url.Values{"before": {strconv.FormatInt(last.CreatedAt.UnixMicro(), 10) + "." + last.ID}}.Encode()
		ms = ms[:messagesPerPage]
	}
	// Every row's request, and whether it was disowned, in one query.
	var ids []string
	for _, m := range ms {
		if m.ChallengeID != "" {
			ids = append(ids, m.ChallengeID)
		}
	}
	reqs, err := s.Activity.Requests(r.Context(), ids)
	if err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	rows := make([]centerMessage, 0, len(ms))
	for _, m := range ms {
		rows = append(rows, s.centerRow(r, p.Lang, m, reqs))
	}
	p.Data["Messages"] = rows
	s.render(w, r, http.StatusOK, "messages", p)
}

// centerRow describes one message for the message center in lang.
func (s *Server) centerRow(r *http.Request, lang string, m *outbox.Message, reqs map[string]activity.Request) centerMessage {
	c := centerMessage{Reference: m.Reference, When: s.when(r, m.CreatedAt), Text: m.Text, Lang: m.Language,
		Status: s.Catalog.T(lang, "messages.status_"+statusKey(m.Status)), Failed: m.Status == outbox.Failed}
	c.Channel = s.Catalog.T(lang, "messages.channel_"+string(m.Channel))
	if m.Channel == request.SMS {
		c.To = s.Catalog.T(lang, "account.phone_masked", phone.Mask(m.To))
		c.Title, _, _ = strings.Cut(m.Text, "\n")
	} else {
		c.To, c.Title = account.MaskEmail(m.To), m.Subject
	}
	switch {
	case m.Cause == request.ConnectedApp:
		// The application that asked, by the name it had then.
		c.Cause = s.Catalog.T(lang, "messages.cause_connected_app", m.App)
	case m.Cause != "":
		c.Cause = s.Catalog.T(lang, "messages.cause_"+string(m.Cause))
	}
	if m.ChallengeID != "" && m.Cause != "" {
		c.Answerable = true
		if req, ok := reqs[m.ChallengeID]; ok {
			ch := req.Challenge
			if !req.Disowned && ch.AccountID == state(r).Account.ID {
				// A request this holder made, stopped by its recipient:
				// shown as it is to them everywhere, still open.
				ch = code.AsAsked(ch)
			}
			st := activity.Story{Message: m, Challenge: ch}
			c.Disowned = req.Disowned
			c.Answerable = !c.Disowned && !st.Own()
			if c.Own = st.Own(); c.Own {
				// The holder's own sign-up, address or number: theirs, never
				// "someone mistyped".
				c.Cause = s.Catalog.T(lang, "messages.own")
				if k := "messages.own." + string(ch.Purpose); s.Catalog.Has(k) {
					c.Cause = s.Catalog.T(lang, k)
				}
			}
			browser, os := s.Devices.UserAgents.Parse(ch.Origin.UserAgent)
			c.Request = s.Catalog.T(lang, "why.request_detail", browser, os, ch.Origin.IP, s.when(r, ch.CreatedAt))
			c.Place = s.place(lang, ch.Origin.IP)
		}
	}
	return c
}

// statusKey is the catalog key's suffix of a message's delivery status:
// a message a worker holds is still on its way.
func statusKey(st outbox.Status) string {
	switch st {
	case outbox.Sent, outbox.Failed:
		return string(st)
	}
	return "queued"
}
