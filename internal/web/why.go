package web

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"gatehouse/internal/account"
	"gatehouse/internal/activity"
	"gatehouse/internal/form"
	"gatehouse/internal/httpcore"
	"gatehouse/internal/notice"
	"gatehouse/internal/phone"
	"gatehouse/internal/random"
	"gatehouse/internal/request"
	"gatehouse/internal/signin"
)

// whyForm is /why: type a message's reference to learn whether it is one
// of ours. ?ref= goes to that message's page.
func (s *Server) whyForm(w http.ResponseWriter, r *http.Request) {
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
		httpcore.Redirect(w, r, "/why/"+url.PathEscape(ref), nil)
		return
	}
	s.render(w, r, http.StatusOK, "why", p)
}

// storyView is a message's story as /why/{reference} shows it to its
// holder: the answer first (why it was sent, what that means, how
// dangerous it is now), the details after.
type storyView struct {
	Reference, Sent, Channel, To, Title string
	Cause, CauseID                      string
	Heading, Meaning, State, Does       string
	When, Device, Network, Place        string
	Open, Danger, Answerable, Own       bool
	Routine, Mistyped, NewDevice        bool
	AnsweredMe, AnsweredNotMe           string
	Actions                             []string
}

// whyPage is /why/{reference}. A visitor who is not the message's holder
// (signed out, or another account) learns only whether we sent it, with
// advice for that kind of message — never anything about an account — and
// the way to the story through the sign-in; the recipient of a code to an
// address or number no account holds yet may stop it by typing the code.
// The page has the same shape whether or not the reference is ours. The
// signed-in holder sees the whole story and the "was this you?" form.
func (s *Server) whyPage(w http.ResponseWriter, r *http.Request) {
	p := s.newPage(r, "why.title")
	ref, ok := random.ParseReference(r.PathValue("reference"))
	if !ok {
		p.Values["ref"] = r.PathValue("reference")
		p.Errors["ref"] = s.Catalog.T(p.Lang, "error.reference_format")
		s.showErrors(w, r, http.StatusUnprocessableEntity, "why", p)
		return
	}
	st := state(r)
	if st.Account != nil {
		story, err := s.Activity.StoryOf(r.Context(), st.Account.ID, ref)
		if err != nil {
			httpcore.Fail(w, r, err)
			return
		}
		if story != nil {
			s.notice(r, p)
			v := s.storyView(r, p.Lang, story, st.Session.DeviceID)
			p.Title = v.Heading
			p.Data["Story"] = v
			s.render(w, r, http.StatusOK, "why", p)
			return
		}
	}
	if err := s.fillVerdict(r, p, ref); err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "why", p)
}

// fillVerdict puts what a visitor may learn about ref into p: whether we
// sent it, general advice for its kind, the stop form where a recipient
// without an account may use it, and the sign-in that returns to it.
func (s *Server) fillVerdict(r *http.Request, p *page, ref string) error {
	ours, m, err := s.Activity.Genuine(r.Context(), ref)
	if err != nil {
		return err
	}
	p.Values["ref"] = ref
	p.Data["Checked"] = ref
	p.Data["Ours"] = ours
	p.Data["SignInNext"] = "/signin?" + url.Values{"next": {"/why/" + ref}}.Encode()
	if !ours {
		return nil
	}
	kind := "notice"
	if m.Purpose.HasCode() {
		kind = string(m.Purpose)
	}
	if k := "why.general." + kind; s.Catalog.Has(k) {
		p.Data["General"] = s.Catalog.T(p.Lang, k)
	}
	p.Data["Stoppable"] = activity.Unaskable(m.Purpose)
	return nil
}

// whyPost is a form posted on /why/{reference}: a recipient's code that
// stops a request they did not make (no account needed), or else the
// signed-in holder's answer. One address for both, so that the page's
// two forms and a client that posts to the page itself agree.
func (s *Server) whyPost(w http.ResponseWriter, r *http.Request) {
	if r.PostFormValue("answer") == "" && r.PostForm.Has("code") {
		s.whyStop(w, r)
		return
	}
	httpcore.RequireSession(w, r, s.whyAnswer)
}

// whyStop is "I didn't ask for this" from a recipient without an account:
// the code they received stops its request and blocks its sender for a
// day. The answer is the same page whether or not the address or number
// belongs to any account.
func (s *Server) whyStop(w http.ResponseWriter, r *http.Request) {
	p := s.newPage(r, "why.title")
	ref, ok := random.ParseReference(r.PathValue("reference"))
	if !ok {
		httpcore.Fail(w, r, httpcore.ErrUnknown)
		return
	}
	if err := s.fillVerdict(r, p, ref); err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	if p.Data["Stoppable"] != true {
		httpcore.Fail(w, r, httpcore.ErrUnknown)
		return
	}
	c, ok := typedCode(r)
	if !ok {
		key := "error.code_format"
		if v, _ := httpcore.Field(r, "code"); v == "" {
			key = "error.required"
		}
		s.formError(w, r, "why", p, form.Errors{"code": key})
		return
	}
	o := httpcore.OriginOf(r)
	u, err := s.Activity.StopUnasked(r.Context(), ref, c, o)
	if err != nil {
		s.formError(w, r, "why", p, err)
		return
	}
	p.Title = s.Catalog.T(p.Lang, "why.stop_title")
	switch {
	case u.Used:
		p.Data["Stopped"] = s.Catalog.T(p.Lang, "why.stop_used")
	case u.Already:
		p.Data["Stopped"], p.Data["NothingElse"] = s.Catalog.T(p.Lang, "why.stop_already"), true
	default:
		p.Data["Stopped"], p.Data["NothingElse"] = s.Catalog.T(p.Lang, "why.stopped", s.when(r, u.Until)), true
	}
	delete(p.Data, "Stoppable")
	s.render(w, r, http.StatusOK, "why", p)
}

// storyView describes a story for its holder in lang, read on the device
// viewer (the holder's session's; "" for the console, where no device is
// "this device").
func (s *Server) storyView(r *http.Request, lang string, st *activity.Story, viewer string) storyView {
	m := st.Message
	t := s.Catalog.T
	v := storyView{Reference: m.Reference, Sent: s.when(r, m.CreatedAt), Channel: t(lang, "messages.channel_"+string(m.Channel))}
	if m.Channel == request.SMS {
		v.To = t(lang, "account.phone_masked", phone.Mask(m.To))
		v.Title, _, _ = strings.Cut(m.Text, "\n")
	} else {
		v.To, v.Title = account.MaskEmail(m.To), m.Subject
	}
	v.Answerable, v.Own = st.Answerable(), st.Own()
	v.NewDevice = m.Purpose == request.NewDevice
	thisDevice := false
	if ch := st.Challenge; ch != nil {
		o := ch.Origin
		if st.Attempt != nil && st.Attempt.Origin.UserAgent != "" {
			o = st.Attempt.Origin
		}
		browser, os := s.Devices.UserAgents.Parse(o.UserAgent)
		if viewer != "" && o.DeviceID == viewer {
			thisDevice = true
			v.Device = t(lang, "story.device_this", browser, os)
		} else {
			v.Device = t(lang, "story.device_detail", browser, os)
		}
		v.When = s.when(r, ch.CreatedAt)
		v.Network = t(lang, "story.network_detail", o.IP)
		v.Place = s.place(lang, o.IP)
		v.Open = ch.ConsumedAt.IsZero() && s.now().Before(ch.ExpiresAt) && ch.Failures < s.Codes.MaxFailures &&
			(st.Attempt == nil || st.Attempt.Outcome == signin.Pending)
	}
	cause := string(m.Cause)
	if m.Cause != "" {
		v.CauseID = cause
		v.Cause = t(lang, "cause."+cause)
		v.Does = t(lang, "why.does."+cause)
		v.Routine, v.Mistyped = m.Cause == request.YouJustNow, m.Cause == request.Mistyped
	}
	if m.Cause == request.OldDevice && thisDevice {
		// The holder's own browser signing in again is this device, not
		// "an old device of yours".
		cause = "old_device_this"
		v.Cause = t(lang, "cause.old_device_this")
	}
	switch {
	case v.Own:
		// Their own sign-up, address or number, confirmed with this code:
		// never "someone mistyped".
		v.Mistyped = false
		v.Cause = t(lang, "cause.own")
		v.Heading = t(lang, "story.heading.own")
		if k := "story.heading.own." + string(m.Purpose); s.Catalog.Has(k) {
			v.Heading = t(lang, k)
		}
	case m.Cause == request.ConnectedApp:
		// The application that asked, by the name it had then.
		v.Heading = t(lang, "story.heading.connected_app", m.App)
		v.Meaning = t(lang, "story.meaning.connected_app")
	case cause != "":
		v.Heading = t(lang, "story.heading."+cause)
		v.Meaning = t(lang, "story.meaning."+cause)
	default:
		v.Heading = t(lang, "story.heading.notice")
		if v.Title != "" {
			v.Heading = v.Title
		}
	}
	if v.Answerable {
		dangerous := m.Cause == request.PasswordKnown || m.Cause == request.OldDevice || m.Cause == request.CodeRequested
		switch {
		case v.Open && dangerous && !thisDevice:
			v.State, v.Danger = t(lang, "story.state_danger"), true
		case v.Open:
			v.State = t(lang, "story.state_open")
		default:
			v.State = t(lang, "story.state_closed")
		}
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
		httpcore.Fail(w, r, httpcore.ErrUnknown)
		return
	}
	said := activity.Said(r.PostFormValue("answer"))
	o := httpcore.OriginOf(r)
	a, err := s.Activity.Answer(r.Context(), st.Account.ID, ref, said, o)
	s.answered(w, r, a, err, answeredBack(r, "/why/"+url.PathEscape(ref)))
}

// answered shows what an answer did (or the error that stopped it). When it signed this session out, the
// session cookie goes and the page offers to sign in again.
func (s *Server) answered(w http.ResponseWriter, r *http.Request, a *activity.Answer, err error, back string) {
	if err != nil {
		if f := httpcore.Classify(r.Context(), err); f.Notice != "" {
			// Said before: nothing changes, and the page says when.
			httpcore.Redirect(w, r, back, url.Values{"notice": {f.Notice}})
			return
		}
		httpcore.Fail(w, r, err) // unknown message or answer: as the error mapper says
		return
	}
	p := s.newPage(r, "why.done_title")
	if a.Said == activity.Me {
		httpcore.Redirect(w, r, back, url.Values{"notice": {"answered_me"}})
		return
	}
	var lines []string
	for _, x := range a.Actions {
		lines = append(lines, s.Catalog.T(p.Lang, "answer.action."+string(x)))
	}
	// Whether this browser's own session survived the answer (every
	// session, or the device that asked, may have been signed out).
	signedOut := false
	if st := state(r); st.Session != nil && a.EndedSession(st.Session.ID, st.Session.DeviceID) {
		httpcore.SetCookie(w, httpcore.SessionCookie, "", time.Time{}, -1)
		w.Header().Set("Clear-Site-Data", `"cache"`)
		p.SignedIn, signedOut = false, true
	}
	next := string(a.Cause)
	if next == "" {
		next = "wrong_password"
	}
	p.Data["Actions"] = lines
	p.Data["Next"] = s.Catalog.T(p.Lang, "answer.next."+next)
	if a.Cause == request.ResetRequested && s.Support != "" {
		p.Data["Support"] = s.Catalog.T(p.Lang, "answer.next.reset_requested_support", s.Support)
	}
	switch a.Cause {
	case request.PasswordKnown, request.OldDevice, request.CodeRequested, request.YouJustNow, request.ConnectedApp:
		// What this account has and lacks, not a generic "set up an app".
		if advice, err := s.methodAdvice(r, p.Lang); err != nil {
			s.logRefused(r, err)
		} else {
			p.Data["Advice"] = advice
		}
	}
	p.Data["SignedOut"] = signedOut
	p.Data["Back"] = back
	s.render(w, r, http.StatusOK, "answered", p)
}

// answeredBack is where an answer returns to: the account page or the
// checkup when it was given there, else back.
func answeredBack(r *http.Request, back string) string {
	switch b := r.PostFormValue("back"); b {
	case "/account", "/account/security":
		return b
	}
	return back
}

// methodAdvice is the next step after "this wasn't me" for this account's
// second-step methods: add a strong one (an app or a passkey) when it has
// none, drop SMS when it has a stronger one beside it, add a passkey to an
// app, keep a passkey.
func (s *Server) methodAdvice(r *http.Request, lang string) (string, error) {
	ways, err := s.TwoStep.Ways(r.Context(), state(r).Account)
	if err != nil {
		return "", err
	}
	has := map[signin.Method]bool{}
	for _, w := range ways {
		has[w] = true
	}
	key := "answer.advice.add_strong"
	switch {
	case has[signin.SMS] && (has[signin.App] || has[signin.Passkey]):
		key = "answer.advice.drop_sms"
	case has[signin.Passkey]:
		key = "answer.advice.keep"
	case has[signin.App]:
		key = "answer.advice.add_passkey"
	}
	return s.Catalog.T(lang, key), nil
}
