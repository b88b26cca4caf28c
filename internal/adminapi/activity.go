package adminapi

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"gatehouse/internal/account"
	"gatehouse/internal/httpcore"
	"gatehouse/internal/outbox"
	"gatehouse/internal/phone"
	"gatehouse/internal/random"
	"gatehouse/internal/request"
	"gatehouse/internal/signin"
)

// attemptView is what the admin API shows of a sign-in attempt: never
// what was typed (a password typed into the address field would be
// there), never a code.
type attemptView struct {
	ID            string     `json:"id"`
	AccountID     string     `json:"account_id"`
	Kind          string     `json:"kind"`
	Outcome       string     `json:"outcome"`
	Cause         string     `json:"cause"`
	MethodOffered string     `json:"method_offered"`
	MethodUsed    string     `json:"method_used"`
	Remember      bool       `json:"remember"`
	SessionID     string     `json:"session_id"`
	DeviceID      string     `json:"device_id"`
	IP            string     `json:"ip"`
	UserAgent     string     `json:"user_agent"`
	CreatedAt     time.Time  `json:"created_at"`
	EndedAt       *time.Time `json:"ended_at"`
}

func viewAttempt(a *signin.Attempt) attemptView {
	return attemptView{
		ID: a.ID, AccountID: a.AccountID, Kind: string(a.Kind), Outcome: string(a.Outcome), Cause: string(a.Cause),
		MethodOffered: string(a.MethodOffered), MethodUsed: string(a.MethodUsed), Remember: a.Remember, SessionID: a.SessionID,
		DeviceID: a.Origin.DeviceID, IP: a.Origin.IP, UserAgent: a.Origin.UserAgent, CreatedAt: a.Origin.Time, EndedAt: when(a.EndedAt),
	}
}

// messageView is what the admin API shows of a stored message: where it
// went masked as the message center masks it, never its text (which
// holds the code's place) nor its sealed code.
type messageView struct {
	ID        string `json:"id"`
	Reference string `json:"reference"`
	AccountID string `json:"account_id"`
	Purpose   string `json:"purpose"`
	Cause     string `json:"cause"`
	Channel   string `json:"channel"`
	// To is the address masked (t***@example.com) or the number's last two
	// digits.
	To        string     `json:"to"`
	Language  string     `json:"language"`
	Subject   string     `json:"subject"`
	Status    string     `json:"status"`
	Attempts  int        `json:"attempts"`
	CreatedAt time.Time  `json:"created_at"`
	SentAt    *time.Time `json:"sent_at"`
}

func viewMessage(m *outbox.Message) messageView {
	v := messageView{
		ID: m.ID, Reference: m.Reference, AccountID: m.AccountID, Purpose: string(m.Purpose), Cause: string(m.Cause),
		Channel: string(m.Channel), Language: m.Language, Status: string(m.Status), Attempts: m.Attempts,
		CreatedAt: m.CreatedAt, SentAt: when(m.SentAt),
	}
	if m.Channel == request.SMS {
		v.To = phone.Mask(m.To)
	} else {
		v.To, v.Subject = account.MaskEmail(m.To), m.Subject
	}
	return v
}

// timeQuery is what the lists of attempts and messages share: a page
// size, a position after which the page starts (time and id, newest
// first), and a time range.
type timeQuery struct {
	limit        int
	before       time.Time
	beforeID     string
	since, until time.Time
}

// readTimeQuery reads limit, cursor, since and until (RFC 3339); false
// when one is not valid.
func readTimeQuery(q url.Values) (timeQuery, bool) {
	var tq timeQuery
	var ok bool
	if tq.limit, ok = pageLimit(q); !ok {
		return tq, false
	}
	if c := q.Get("cursor"); c != "" {
		b, err := base64.RawURLEncoding.DecodeString(c)
		if err != nil {
			return tq, false
		}
		rest, found := strings.CutPrefix(string(b), "t1:")
		at, id, cut := strings.Cut(rest, " ")
		t, err := time.Parse(time.RFC3339Nano, at)
		if !found || !cut || err != nil || id == "" {
			return tq, false
		}
		tq.before, tq.beforeID = t, id
	}
	for name, dst := range map[string]*time.Time{"since": &tq.since, "until": &tq.until} {
		if v := q.Get(name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return tq, false
			}
			*dst = t
		}
	}
	return tq, true
}

// timePage is one page of rows listed newest first, read with one row
// more than the page holds: the page's rows, each as the API shows it,
// and the cursor of the page after (nil on the last). at and id name a
// row's position.
func timePage[R, V any](rows []R, limit int, at func(R) time.Time, id func(R) string, view func(R) V) ([]V, *string) {
	var next *string
	if len(rows) > limit {
		rows = rows[:limit]
		last := rows[len(rows)-1]
		c := timeCursor(at(last), id(last))
		next = &c
	}
	views := make([]V, 0, len(rows))
	for _, r := range rows {
		views = append(views, view(r))
	}
	return views, next
}

// timeCursor is the opaque position after a row listed newest first.
func timeCursor(at time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("t1:" + at.UTC().Format(time.RFC3339Nano) + " " + id))
}

// causeQuery reads cause=; false when it names no cause.
func causeQuery(q url.Values) (request.Cause, bool) {
	c := request.Cause(q.Get("cause"))
	return c, c == "" || slices.Contains(request.Causes, c)
}

// listAttempts: GET /api/admin/accounts/{id}/attempts?since=&until=
// &outcome=&cause=&limit=&cursor= — the account's sign-in attempts (and
// re-verifications), newest first, a page at a time.
func (d *Door) listAttempts(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	q := r.URL.Query()
	tq, ok := readTimeQuery(q)
	cause, causeOK := causeQuery(q)
	outcome := signin.Outcome(q.Get("outcome"))
	if !ok || !causeOK || (outcome != "" && !slices.Contains(signin.Outcomes, outcome)) {
		httpcore.Answer(w, r, http.StatusBadRequest, "error.api_query")
		return
	}
	if _, err := d.Accounts.ByID(r.Context(), id); err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	page, err := d.Attempts.AttemptsPage(r.Context(), id, signin.AttemptQuery{
		Since: tq.since, Until: tq.until, Before: tq.before, BeforeID: tq.beforeID, Outcome: outcome, Cause: cause, Limit: tq.limit + 1,
	})
	if err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	views, next := timePage(page, tq.limit, func(a *signin.Attempt) time.Time { return a.Origin.Time }, func(a *signin.Attempt) string { return a.ID },
		func(a *signin.Attempt) attemptView { return viewAttempt(a) })
	writeJSON(w, map[string]any{"attempts": views, "next_cursor": next})
}

// listMessages: GET /api/admin/accounts/{id}/messages?since=&until=
// &cause=&reference=&limit=&cursor= — the messages of the account's
// message center, newest first, a page at a time.
func (d *Door) listMessages(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	q := r.URL.Query()
	tq, ok := readTimeQuery(q)
	cause, causeOK := causeQuery(q)
	ref, refOK := q.Get("reference"), true
	if ref != "" {
		ref, refOK = random.ParseReference(ref)
	}
	if !ok || !causeOK || !refOK {
		httpcore.Answer(w, r, http.StatusBadRequest, "error.api_query")
		return
	}
	if _, err := d.Accounts.ByID(r.Context(), id); err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	page, err := d.Messages.AccountMessages(r.Context(), id, outbox.AccountQuery{
		Since: tq.since, Until: tq.until, Before: tq.before, BeforeID: tq.beforeID, Cause: cause, Reference: ref, Limit: tq.limit + 1,
	})
	if err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	views, next := timePage(page, tq.limit, func(m *outbox.Message) time.Time { return m.CreatedAt }, func(m *outbox.Message) string { return m.ID },
		func(m *outbox.Message) messageView { return viewMessage(m) })
	writeJSON(w, map[string]any{"messages": views, "next_cursor": next})
}

// showMessage: GET /api/admin/messages/{reference} — the message a
// reference names (one a holder read out to support, in any spelling
// random.ParseReference reads), whoever it went to, sent or withheld; 404
// when none has it.
func (d *Door) showMessage(w http.ResponseWriter, r *http.Request) {
	ref, ok := random.ParseReference(r.PathValue("reference"))
	if !ok {
		httpcore.Fail(w, r, httpcore.ErrUnknown)
		return
	}
	m, err := d.Messages.MessageByReference(r.Context(), ref)
	if err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	writeJSON(w, map[string]any{"message": viewMessage(m)})
}
