package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"gatehouse/internal/activity"
	"gatehouse/internal/device"
	"gatehouse/internal/httpcore"
	"gatehouse/internal/request"
	"gatehouse/internal/signin"
)

// attemptsPerPage is how many attempts the activity page shows at once.
const attemptsPerPage = 25

// attemptRow is one row of the activity page.
type attemptRow struct {
	ID, When, What, Device, Network, Place, Outcome, Cause, Method string
	Failed, ThisSession, Answered                                  bool
	// ThisDevice: the browser the holder is reading on; NewDevice: the
	// attempt was the device's first with this account (or it never got
	// further) — the two marks that answer "was this me?" at a glance.
	ThisDevice, NewDevice bool
}

// activityPage is the sign-in activity: every attempt of the last 90
// days, newest first, ?failed=1 for failures only, ?before= for older
// ones, with "this wasn't me" on each.
func (s *Server) activityPage(w http.ResponseWriter, r *http.Request) {
	st := state(r)
	p := s.newPage(r, "activity.title")
	s.notice(r, p)
	q := signin.AttemptQuery{Limit: attemptsPerPage + 1, FailedOnly: r.URL.Query().Get("failed") == "1"}
	if b := r.URL.Query().Get("before"); b != "" {
		at, ok := parseCursor(b)
		if !ok {
			httpcore.Fail(w, r, httpcore.ErrUnknown)
			return
		}
		q.Before, q.BeforeID = at.t, at.id
		p.Data["Paged"] = true
	}
	list, err := s.Activity.Activity(r.Context(), st.Account.ID, q)
	if err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	base := url.Values{}
	if q.FailedOnly {
		base.Set("failed", "1")
		p.Data["FailedOnly"] = true
	}
	if len(list) > attemptsPerPage {
		last := list[attemptsPerPage-1]
		v := url.Values{"before": {cursor(last.Origin.Time, last.ID)}}
		if q.FailedOnly {
			v.Set("failed", "1")
		}
		p.Data["Older"] = "/account/activity?" + v.Encode()
		list = list[:attemptsPerPage]
	}
	if len(base) > 0 {
		p.Data["Newest"] = "/account/activity?" + base.Encode()
	} else {
		p.Data["Newest"] = "/account/activity"
	}
	disowned, err := s.Activity.Disowned(r.Context(), st.Account.ID)
	if err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	devs, err := s.Devices.List(r.Context(), st.Account.ID)
	if err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	known := make(map[string]*device.AccountDevice, len(devs))
	for i := range devs {
		known[devs[i].ID] = &devs[i]
	}
	rows := make([]attemptRow, 0, len(list))
	for _, at := range list {
		row := s.attemptRow(r, p.Lang, at, known)
		row.Answered = disowned[at.ID]
		rows = append(rows, row)
	}
	p.Data["Attempts"] = rows
	if p.Data["Paged"] == nil {
		// What our support team saw and did, on the first page.
		support, err := s.supportEntries(r, p.Lang, st.Account.ID)
		if err != nil {
			httpcore.Fail(w, r, err)
			return
		}
		p.Data["Support"] = support
	}
	s.render(w, r, http.StatusOK, "activity", p)
}

// cursor and parseCursor write and read a page position: a time in
// microseconds and the id of the last row shown.
func cursor(t time.Time, id string) string { return strconv.FormatInt(t.UnixMicro(), 10) + "." + id }

type position struct {
	t  time.Time
	id string
}

func parseCursor(b string) (position, bool) {
	at, id, ok := strings.Cut(b, ".")
	us, err := strconv.ParseInt(at, 10, 64)
	if !ok || err != nil || us <= 0 || len(id) > 64 {
		return position{}, false
	}
	return position{time.UnixMicro(us).UTC(), id}, true
}

func (s *Server) attemptRow(r *http.Request, lang string, at *signin.Attempt, known map[string]*device.AccountDevice) attemptRow {
	t := s.Catalog.T
	browser, os := s.Devices.UserAgents.Parse(at.Origin.UserAgent)
	row := attemptRow{
		ID: at.ID, When: s.when(r, at.Origin.Time), What: t(lang, "activity.kind."+string(at.Kind)),
		Device: t(lang, "devices.unnamed", browser, os), Network: t(lang, "activity.network_detail", at.Origin.IP),
		Place:   s.place(lang, at.Origin.IP), // left out when unknown
		Outcome: t(lang, "activity.outcome."+string(at.Outcome)),
		Failed:  at.Outcome != signin.Succeeded && at.Outcome != signin.Pending,
	}
	st := state(r)
	if st.Session != nil {
		row.ThisSession = at.SessionID == st.Session.ID
		row.ThisDevice = at.Origin.DeviceID != "" && at.Origin.DeviceID == st.Session.DeviceID
	}
	d := known[at.Origin.DeviceID]
	switch {
	case d == nil:
		row.NewDevice = !row.ThisDevice
	case d.Name != "":
		row.Device = d.Name
		fallthrough
	default:
		// Its first sign-in: the device was first used at (or just after)
		// this attempt.
		row.NewDevice = !d.FirstUsed.Before(at.Origin.Time) && d.FirstUsed.Sub(at.Origin.Time) < time.Hour
	}
	if at.MethodUsed != "" {
		row.Method = t(lang, "activity.method."+string(at.MethodUsed))
	}
	// "Why a code was sent" only where one was: an app's or a passkey's
	// sign-in sends none.
	sent := at.MethodUsed
	if sent == "" {
		sent = at.MethodOffered
	}
	if at.Cause != "" && (sent == signin.Email || sent == signin.SMS) {
		cause := "cause." + string(at.Cause)
		if at.Cause == request.OldDevice && row.ThisDevice {
			cause = "cause.old_device_this"
		}
		row.Cause = t(lang, cause)
	}
	return row
}

// activityAnswer is "this wasn't me" on an attempt of the activity page.
func (s *Server) activityAnswer(w http.ResponseWriter, r *http.Request) {
	st := state(r)
	o := httpcore.OriginOf(r)
	a, err := s.Activity.AnswerAttempt(r.Context(), st.Account.ID, r.PostFormValue("attempt"), activity.Said(r.PostFormValue("answer")), o)
	s.answered(w, r, a, err, answeredBack(r, "/account/activity"))
}
