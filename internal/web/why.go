package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"gatehouse/internal/account"
	"gatehouse/internal/activity"
	"gatehouse/internal/notice"
	"gatehouse/internal/phone"
	"gatehouse/internal/random"
	"gatehouse/internal/request"
	"gatehouse/internal/session"
	"gatehouse/internal/signin"
)

// optionalSession fills in the request's session when the browser holds a
// live one, for public pages that say more to their holder (/why); it
// never redirects.
func (s *Server) optionalSession(r *http.Request) {
	st := state(r)
	if st.session != nil {
		return
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return
	}
	if sess, err := s.Sessions.Check(r.Context(), c.Value); err == nil {
		st.session, st.account = sess, sess.Account
	}
}

// whyForm is /why: type a message's reference to learn whether it is one
// of ours. ?ref= goes to that message's page.
func (s *Server) whyForm(w http.ResponseWriter, r *http.Request) {
	s.optionalSession(r)
	p := s.newPage(r, "why.title")
	if r.URL.Query().Has("ref") && strings.TrimSpace(r.URL.Query().Get("ref")) == "" {
		p.Errors["ref"] = s.message(p.Lang, "ref", "error.required")
		s.showErrors(w, r, http.StatusUnprocessableEntity, "why", p)
		return
	}
	if typed := r.URL.Query().Get("ref"); typed != "" {
		p.Values["ref"] = typed
		ref, ok := random.ParseReference(typed)
		if !ok {
			p.Errors["ref"] = s.Catalog.T(p.Lang, "error.reference_format")
			s.showErrors(w, r, http.StatusUnprocessableEntity, "why", p)
			return
		}
		redirect(w, r, "/why/"+url.PathEscape(ref), nil)
		return
	}
	s.render(w, r, http.StatusOK, "why", p)
}

// storyView is a message's story as /why/{reference} shows it to its holder.
type storyView struct {
	Reference, Sent, Channel, To, Purpose, Title string
	Cause, CauseID, CauseText, Does              string
	Request, Place                               string
	Open, Answerable, Routine, Mistyped, Own     bool
	NewDevice                                    bool
	AnsweredMe, AnsweredNotMe                    string
	Actions                                      []string
}

// whyPage is /why/{reference}. A visitor who is not the message's holder
// (signed out, or another account) learns only whether we sent it, and
// general advice — the page has the same shape whether or not the
// reference is ours, and names no account. The signed-in holder sees the
// whole story and the "was this you?" form.
func (s *Server) whyPage(w http.ResponseWriter, r *http.Request) {
	s.optionalSession(r)
	if !s.lookupAllowed(w, r) {
		return
	}
	p := s.newPage(r, "why.title")
	ref, ok := random.ParseReference(r.PathValue("reference"))
	if !ok {
		p.Values["ref"] = r.PathValue("reference")
		p.Errors["ref"] = s.Catalog.T(p.Lang, "error.reference_format")
		s.showErrors(w, r, http.StatusUnprocessableEntity, "why", p)
		return
	}
	st := state(r)
	if st.account != nil {
		story, err := s.Activity.Story(r.Context(), st.account.ID, ref)
		switch {
		case err == nil:
			s.notice(r, p)
			p.Title = s.Catalog.T(p.Lang, "why.story_title", ref)
			p.Data["Story"] = s.storyView(r, p.Lang, story)
			s.render(w, r, http.StatusOK, "why", p)
			return
		case !errors.Is(err, activity.ErrNotFound):
			s.fail(w, r, err)
			return
		}
	}
	ours, _, err := s.Activity.Genuine(r.Context(), ref)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p.Values["ref"] = ref
	p.Data["Checked"] = ref
	p.Data["Ours"] = ours
	s.render(w, r, http.StatusOK, "why", p)
}

// storyView describes a story for its holder in lang.
func (s *Server) storyView(r *http.Request, lang string, st *activity.Story) storyView {
	m := st.Message
	t := s.Catalog.T
	v := storyView{Reference: m.Reference, Sent: s.when(r, m.CreatedAt), Channel: t(lang, "messages.channel_"+string(m.Channel))}
	if m.Channel == request.SMS {
		v.To = t(lang, "account.phone_masked", phone.Mask(m.To))
		v.Title, _, _ = strings.Cut(m.Text, "\n")
	} else {
		v.To, v.Title = account.MaskEmail(m.To), m.Subject
	}
	if m.Purpose.HasCode() {
		v.Purpose = t(lang, "purpose."+string(m.Purpose))
	}
	if m.Cause != "" {
		v.Cause, v.CauseID = t(lang, "cause."+string(m.Cause)), string(m.Cause)
		v.CauseText = t(lang, "messages.cause_"+string(m.Cause))
		v.Does = t(lang, "why.does."+string(m.Cause))
		v.Routine, v.Mistyped = m.Cause == request.YouJustNow, m.Cause == request.Mistyped
	}
	if ch := st.Challenge; ch != nil {
		o := ch.Origin
		browser, os := s.Devices.UserAgents.Parse(o.UserAgent)
		if st.Attempt != nil && st.Attempt.Origin.UserAgent != "" {
			browser, os = s.Devices.UserAgents.Parse(st.Attempt.Origin.UserAgent)
		}
		v.Request = t(lang, "why.request_detail", browser, os, o.IP, s.when(r, ch.CreatedAt))
		v.Place = s.place(lang, o.IP)
		v.Open = ch.ConsumedAt.IsZero() && s.now().Before(ch.ExpiresAt) && ch.Failures < s.Codes.MaxFailures &&
			(st.Attempt == nil || st.Attempt.Outcome == signin.Pending)
	}
	v.Answerable, v.Own = st.Answerable(), st.Own()
	v.NewDevice = m.Purpose == request.NewDevice
	if v.Own {
		v.Mistyped = false // the holder's own request, not someone's typo
	}
	for _, a := range st.Answers {
		switch {
		case a.Said == activity.NotMe && v.AnsweredNotMe == "":
			v.AnsweredNotMe = s.when(r, a.Origin.Time)
			for _, x := range a.Actions {
				v.Actions = append(v.Actions, t(lang, "answer.action."+string(x)))
			}
		case a.Said == activity.Me && v.AnsweredMe == "":
			v.AnsweredMe = s.when(r, a.Origin.Time)
		}
	}
	return v
}

// place is the approximate place of ip in lang, or "" when unknown.
func (s *Server) place(lang, ip string) string {
	pl := s.Places.Lookup(ip)
	return notice.Place(lang, request.Origin{Country: pl.Country, City: pl.City, CityJA: pl.CityJA})
}

// whyAnswer takes the holder's answer about their message: answer=me or
// answer=not_me. "This wasn't me" may sign out every session, this one
// included, so its result is shown on this response rather than after a
// redirect to a page that needs the session.
func (s *Server) whyAnswer(w http.ResponseWriter, r *http.Request) {
	st := state(r)
	ref, ok := random.ParseReference(r.PathValue("reference"))
	if !ok {
		s.errorPage(w, r, http.StatusNotFound, "error.request_unknown")
		return
	}
	said := activity.Said(r.PostFormValue("answer"))
	o, err := s.origin(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	a, err := s.Activity.Answer(r.Context(), st.account.ID, ref, said, o)
	s.answered(w, r, a, err, "/why/"+url.PathEscape(ref))
}

// answered shows what an answer did (or the error that stopped it). When it signed this session out, the
// session cookie goes and the page offers to sign in again.
func (s *Server) answered(w http.ResponseWriter, r *http.Request, a *activity.Answer, err error, back string) {
	switch {
	case errors.Is(err, activity.ErrAnswered):
		// Said before: nothing changes, and the page says when.
		redirect(w, r, back, url.Values{"notice": {"already_answered"}})
		return
	case errors.Is(err, activity.ErrNotFound):
		s.errorPage(w, r, http.StatusNotFound, "error.request_unknown")
		return
	case errors.Is(err, activity.ErrAnswer):
		s.errorPage(w, r, http.StatusUnprocessableEntity, "error.answer_unknown")
		return
	case err != nil:
		s.fail(w, r, err)
		return
	}
	p := s.newPage(r, "why.done_title")
	if a.Said == activity.Me {
		redirect(w, r, back, url.Values{"notice": {"answered_me"}})
		return
	}
	var lines []string
	for _, x := range a.Actions {
		lines = append(lines, s.Catalog.T(p.Lang, "answer.action."+string(x)))
	}
	// Whether this browser's own session survived the answer (every
	// session, or the device that asked, may have been signed out).
	signedOut := false
	if _, err := s.Sessions.Check(r.Context(), cookieValue(r, sessionCookie)); errors.Is(err, session.ErrNoSession) {
		setCookie(w, sessionCookie, "", time.Time{}, -1)
		w.Header().Set("Clear-Site-Data", `"cache"`)
		p.SignedIn, signedOut = false, true
	}
	next := string(a.Cause)
	if next == "" {
		next = "wrong_password"
	}
	p.Data["Actions"] = lines
	p.Data["Next"] = s.Catalog.T(p.Lang, "answer.next."+next)
	p.Data["SignedOut"] = signedOut
	p.Data["Back"] = back
	s.render(w, r, http.StatusOK, "answered", p)
}

func cookieValue(r *http.Request, name string) string {
	if c, err := r.Cookie(name); err == nil {
		return c.Value
	}
	return ""
}
