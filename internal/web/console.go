package web

import (
	"errors"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"golang.org/x/net/idna"

	"gatehouse/internal/account"
	"gatehouse/internal/activity"
	"gatehouse/internal/check"
	"gatehouse/internal/console"
	"gatehouse/internal/device"
	"gatehouse/internal/httpcore"
	"gatehouse/internal/limit"
	"gatehouse/internal/operator"
	"gatehouse/internal/phone"
	"gatehouse/internal/random"
	"gatehouse/internal/request"
)

// The operator console's pages (/console/…): the console's work is
// package console's; these pages draw it with the holder's templates, so
// a story reads the same to support as on /why.

// consoleRoutes are the console's part of the route table: pages for any
// operator (ConsoleViewer), changes for an operator with a fresh second
// step (ConsoleActing). Every route records its origin: the audit trail
// says where each view and change came from.
func (s *Server) consoleRoutes() []httpcore.Route {
	c := s.consoleChain
	view, act := ConsoleViewer, ConsoleActing
	return []httpcore.Route{
		// Without its slash: through the gate too, so that the mux's own
		// redirect does not tell a holder the console is there.
		{Method: "GET", Path: "/console", Access: view, Chain: c, Origin: true, Handler: func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/console/", http.StatusSeeOther)
		}},
		{Method: "GET", Path: "/console/{$}", Access: view, Chain: c, Origin: true, Handler: s.consoleSearch},
		{Method: "GET", Path: "/console/accounts/{id}", Access: view, Chain: c, Origin: true, Handler: s.consoleAccount},
		{Method: "POST", Path: "/console/accounts/{id}/signout", Access: act, Chain: c, Origin: true, Handler: s.consoleChange(operator.SignOutAll)},
		{Method: "POST", Path: "/console/accounts/{id}/password-known", Access: act, Chain: c, Origin: true, Handler: s.consoleChange(operator.PasswordKnown)},
		{Method: "POST", Path: "/console/accounts/{id}/disable", Access: act, Chain: c, Origin: true, Handler: s.consoleChange(operator.Disable)},
		{Method: "POST", Path: "/console/accounts/{id}/enable", Access: act, Chain: c, Origin: true, Handler: s.consoleChange(operator.Enable)},
		{Method: "POST", Path: "/console/accounts/{id}/reset-two-step", Access: act, Chain: c, Origin: true, Handler: s.consoleChange(operator.ResetTwoStep)},
		{Method: "POST", Path: "/console/accounts/{id}/lift", Access: act, Chain: c, Origin: true, Handler: s.consoleChange(operator.LiftLimit)},
		{Method: "GET", Path: "/console/story/{reference}", Access: view, Chain: c, Origin: true, Handler: s.consoleStory},
		{Method: "GET", Path: "/console/reports", Access: view, Chain: c, Origin: true, Handler: s.consoleReports},
		{Method: "GET", Path: "/console/reports/{id}", Access: view, Chain: c, Origin: true, Handler: s.consoleReport},
		{Method: "POST", Path: "/console/reports/{id}/open", Access: view, Chain: c, Origin: true, Handler: s.consoleReportOpen},
		{Method: "POST", Path: "/console/reports/{id}/review", Access: act, Chain: c, Origin: true, Handler: s.consoleReview},
		{Method: "GET", Path: "/console/limits", Access: view, Chain: c, Origin: true, Handler: s.consoleLimits},
		{Method: "GET", Path: "/console/audit", Access: view, Chain: c, Origin: true, Handler: s.consoleAudit},
	}
}

// consoleReverify sends an operator whose second step is not fresh to
// prove it again, then back to the page whose button was pressed (a
// change's path less its last segment: /console/accounts/X/signout →
// /console/accounts/X), where it is pressed again.
func (s *Server) consoleReverify(w http.ResponseWriter, r *http.Request) {
	back := r.URL.Path
	if r.Method == http.MethodPost {
		back = path.Dir(back) + "?notice=reverified_again"
	}
	httpcore.Redirect(w, r, "/account/reverify", url.Values{"next": {back}, "notice": {"console_fresh"}})
}

// consolePage is a console page: its language switch returns to the page
// itself (the console's addresses hold ids the route table cannot list).
func (s *Server) consolePage(r *http.Request, title string) *page {
	p := s.newPage(r, title)
	p.path = r.URL.Path
	if r.Method == http.MethodPost {
		// A POST's page (a report opened at …/open) is its GET's: the
		// language switch and the detour to re-verify return there.
		p.path = path.Dir(r.URL.Path)
	}
	// The search and the audit trail's filter survive a change of
	// language (other query values are not carried).
	keep := url.Values{}
	for _, k := range []string{"q", "account"} {
		if v := r.URL.Query().Get(k); v != "" && len(v) <= 320 && plainText(v) {
			keep.Set(k, v)
		}
	}
	if len(keep) > 0 {
		p.path += "?" + keep.Encode()
	}
	a := actorOf(r)
	p.Data["Console"] = true
	p.Data["Operator"] = a.Operator.Email
	p.Data["Role"] = s.Catalog.T(p.Lang, "console.role."+string(a.Operator.Role))
	p.Data["Admin"] = a.Operator.Role == operator.Admin
	// The forms of changes show only while one would pass; before, a link
	// to prove the second step and come back, so nothing typed is lost.
	p.Data["Fresh"] = freshFor(r)
	p.Data["FreshFirst"] = "/account/reverify?" + url.Values{"next": {p.path}, "notice": {"console_fresh"}}.Encode()
	s.notice(r, p)
	return p
}

// consoleResult is one account a search found.
type consoleResult struct {
	ID, Email, Status, Phone string
}

func (s *Server) consoleSearch(w http.ResponseWriter, r *http.Request) {
	p := s.consolePage(r, "console.title")
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if len(q) > 320 || !plainText(q) {
		q = ""
	}
	p.Values["q"] = q
	if q == "" {
		s.render(w, r, http.StatusOK, "console", p)
		return
	}
	found, err := s.Console.Find(r.Context(), q)
	if errors.Is(err, console.ErrQuery) {
		p.Errors["q"] = s.Catalog.T(p.Lang, "console.error.query")
		s.showErrors(w, r, http.StatusUnprocessableEntity, "console", p)
		return
	}
	if err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	results := make([]consoleResult, 0, len(found))
	for _, a := range found {
		res := consoleResult{ID: a.ID, Email: a.Email, Status: s.Catalog.T(p.Lang, "console.status."+string(a.Status))}
		if !a.PhoneConfirmedAt.IsZero() {
			res.Phone = phone.Mask(a.Phone)
		}
		results = append(results, res)
	}
	p.Data["Searched"] = true
	p.Data["Results"] = results
	if ref, ok := random.ParseReference(q); ok && len(found) == 1 {
		p.Data["Story"] = ref
	}
	s.render(w, r, http.StatusOK, "console", p)
}

// consoleAttempt, consoleMessage, consoleDevice and consoleGuess are rows
// of the account view.
type consoleAttempt struct {
	When, What, Outcome, Method, Device, Network string
	Failed, Denied                               bool
}

type consoleMessage struct {
	When, Reference, Title, Cause, Channel, To, Status string
	Disowned                                           bool
}

type consoleDevice struct {
	Name, First, Last, Trusted string
}

type consoleGuess struct {
	Secret, Name string
	Failures     int
}

type consoleAudit struct {
	When, Operator, Action, Account, AccountID, Reason, Detail, From string
}

func (s *Server) consoleAccount(w http.ResponseWriter, r *http.Request) {
	p := s.consolePage(r, "console.account.title")
	s.fillConsoleAccount(w, r, p, http.StatusOK)
}

// fillConsoleAccount draws the account view (recorded as a view).
func (s *Server) fillConsoleAccount(w http.ResponseWriter, r *http.Request, p *page, status int) {
	v, err := s.Console.Account(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	t, lang := s.Catalog.T, p.Lang
	a := v.Account
	p.Title = t(lang, "console.account.heading", a.Email)
	p.Data["ID"] = a.ID
	p.Data["Email"] = a.Email
	p.Data["Status"] = t(lang, "console.status."+string(a.Status))
	p.Data["Disabled"] = a.Status == account.Disabled
	p.Data["Created"] = s.when(r, a.CreatedAt)
	p.Data["Language"] = a.Language
	if v.Operator != nil {
		p.Data["OwnRole"] = t(lang, "console.role."+string(v.Operator.Role))
	}
	if !a.PasswordCompromisedAt.IsZero() {
		p.Data["Compromised"] = s.when(r, a.PasswordCompromisedAt)
	}
	m := v.Methods
	var methods []string
	for _, app := range m.Apps {
		methods = append(methods, t(lang, "console.method.app", app.Name))
	}
	for _, k := range m.Passkeys {
		methods = append(methods, t(lang, "console.method.passkey", k.Name))
	}
	if m.Phone != "" {
		methods = append(methods, t(lang, "console.method.phone", phone.Mask(m.Phone)))
	}
	p.Data["Methods"] = methods
	p.Data["TwoStep"] = m.On()
	p.Data["BackupLeft"] = m.BackupLeft

	devs := make(map[string]*device.AccountDevice, len(v.Devices))
	var devices []consoleDevice
	for i := range v.Devices {
		d := &v.Devices[i]
		devs[d.ID] = d
		browser, os := s.Devices.UserAgents.Parse(d.UserAgent)
		cd := consoleDevice{Name: t(lang, "devices.unnamed", browser, os), First: s.when(r, d.FirstUsed), Last: s.when(r, d.LastUsed)}
		if d.Name != "" {
			cd.Name = d.Name
		}
		if d.TrustedUntil.After(httpcore.Now(r)) {
			cd.Trusted = s.when(r, d.TrustedUntil)
		}
		devices = append(devices, cd)
	}
	p.Data["Devices"] = devices

	var attempts []consoleAttempt
	for _, at := range v.Attempts {
		row := s.attemptRow(r, lang, at, devs)
		attempts = append(attempts, consoleAttempt{When: row.When, What: row.What, Outcome: row.Outcome, Method: row.Method,
			Device: row.Device, Network: row.Network, Failed: row.Failed, Denied: v.Denied[at.ID]})
	}
	p.Data["Attempts"] = attempts

	var messages []consoleMessage
	for _, msg := range v.Messages {
		cm := consoleMessage{When: s.when(r, msg.CreatedAt), Reference: msg.Reference, Channel: t(lang, "messages.channel_"+string(msg.Channel)),
			Status: t(lang, "console.message."+string(msg.Status)), Disowned: v.Disowned[msg.ID]}
		if msg.Channel == request.SMS {
			// The first line of a text, as the message center shows it (a
			// code in it is stored masked).
			cm.To = phone.Mask(msg.To)
			cm.Title, _, _ = strings.Cut(msg.Text, "\n")
		} else {
			cm.To, cm.Title = account.MaskEmail(msg.To), msg.Subject
		}
		switch {
		case v.Own[msg.ID]:
			// The holder's own sign-up, address or number, as the story
			// tells it: never "someone mistyped".
			cm.Cause = t(lang, "console.cause.own")
		case msg.Cause != "":
			cm.Cause = t(lang, "cause."+string(msg.Cause))
		}
		messages = append(messages, cm)
	}
	p.Data["Messages"] = messages

	var guesses []consoleGuess
	for _, sec := range limit.Secrets {
		if n := v.Guesses[sec]; n > 0 {
			guesses = append(guesses, consoleGuess{Secret: string(sec), Name: t(lang, "secret."+string(sec)), Failures: n})
		}
	}
	p.Data["Guesses"] = guesses
	p.Data["Audit"] = s.consoleAuditRows(r, lang, v.Audit)
	s.render(w, r, status, "console_account", p)
}

// consoleAuditRows are audit lines as the console lists them: the account
// by its masked address and the operator's device by its name (or
// browser and system), as the devices page names it, instead of ids.
func (s *Server) consoleAuditRows(r *http.Request, lang string, entries []*operator.Entry) []consoleAudit {
	ctx := r.Context()
	devices := map[string]string{}  // device id → name, of the operators listed
	listed := map[string]bool{}     // operators whose devices were read
	accounts := map[string]string{} // account id → masked address
	out := make([]consoleAudit, 0, len(entries))
	for _, e := range entries {
		if e.OperatorID != "" && !listed[e.OperatorID] {
			listed[e.OperatorID] = true
			if devs, err := s.Devices.List(ctx, e.OperatorID); err == nil {
				for _, d := range devs {
					devices[d.ID] = d.Name
					if d.Name == "" {
						devices[d.ID] = s.Catalog.T(lang, "devices.unnamed", d.Browser, d.OS)
					}
				}
			}
		}
		if _, ok := accounts[e.AccountID]; e.AccountID != "" && !ok {
			if a, err := s.Console.Accounts.AccountByID(ctx, e.AccountID); err == nil {
				accounts[e.AccountID] = account.MaskEmail(a.Email)
			} else {
				accounts[e.AccountID] = ""
			}
		}
		from := e.IP
		if e.Device != "" {
			name := devices[e.Device]
			if name == "" {
				name = e.Device
			}
			from += " · " + name
		}
		out = append(out, consoleAudit{When: s.when(r, e.At), Operator: e.OperatorEmail, Action: s.Catalog.T(lang, "console.action."+string(e.Action)),
			Account: accounts[e.AccountID], AccountID: e.AccountID, Reason: e.Reason, Detail: e.Detail, From: from})
	}
	return out
}

// consoleChange is the handler of one change to an account: the reason
// typed with it, then the console's action; back on the account page with
// what was done said at the top.
func (s *Server) consoleChange(action operator.Action) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		by, id := actorOf(r), r.PathValue("id")
		reason, _ := httpcore.Field(r, "reason")
		var err error
		switch action {
		case operator.SignOutAll:
			err = s.Console.SignOutEverywhere(r.Context(), by, id, reason)
		case operator.PasswordKnown:
			err = s.Console.PasswordKnown(r.Context(), by, id, reason)
		case operator.Disable:
			err = s.Console.Disable(r.Context(), by, id, reason)
		case operator.Enable:
			err = s.Console.Enable(r.Context(), by, id, reason)
		case operator.ResetTwoStep:
			err = s.Console.ResetTwoStep(r.Context(), by, id, reason)
		case operator.LiftLimit:
			secret, _ := httpcore.Field(r, "secret")
			err = s.Console.LiftLimit(r.Context(), by, id, limit.Secret(secret), reason)
		}
		if errors.Is(err, operator.ErrNoReason) {
			p := s.consolePage(r, "console.account.title")
			p.Data["Failed"] = string(action)
			p.Errors["reason"] = s.Catalog.T(p.Lang, "console.error.reason")
			p.Summary = []problem{{Field: "reason-" + string(action), Message: p.Errors["reason"]}}
			s.fillConsoleAccount(w, r, p, http.StatusUnprocessableEntity)
			return
		}
		if err != nil {
			httpcore.Fail(w, r, err)
			return
		}
		httpcore.Redirect(w, r, "/console/accounts/"+url.PathEscape(id), url.Values{"notice": {"console_" + string(action)}})
	}
}

func (s *Server) consoleStory(w http.ResponseWriter, r *http.Request) {
	p := s.consolePage(r, "console.story.title")
	ref, ok := random.ParseReference(r.PathValue("reference"))
	if !ok {
		httpcore.Fail(w, r, httpcore.ErrUnknown)
		return
	}
	story, holder, err := s.Console.Story(r.Context(), actorOf(r), ref)
	if err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	// No device is "this device" to support: the story reads as the
	// holder reads it on another device.
	v := s.storyView(r, p.Lang, story, "")
	// The operator's frame: whose message, and when by the holder's clock
	// (the holder on the phone says "the code at 7:30"); the holder's
	// words below it, quoted.
	p.Title = s.Catalog.T(p.Lang, "console.story.title_of", ref)
	p.Data["Story"] = v
	p.Data["HolderID"] = holder.ID
	p.Data["Holder"] = holder.Email
	p.Data["HolderTime"] = s.Catalog.Time(p.Lang, story.Message.CreatedAt, s.Catalog.Zone(holder.Language, holder.TimeZone))
	p.Data["Danger"] = v.Danger
	s.render(w, r, http.StatusOK, "console_story", p)
}

// consoleReportRow is one reported message in the queue.
type consoleReportRow struct {
	ID, When, Kind, Verdict, Review, HandledBy, Handled, Reference string
	Lookalikes                                                     []string
}

func (s *Server) reportRow(r *http.Request, lang string, rep *check.Report) consoleReportRow {
	t := s.Catalog.T
	row := consoleReportRow{ID: rep.ID, When: s.when(r, rep.CreatedAt), Kind: t(lang, "console.report_kind."+rep.Kind),
		Verdict: t(lang, "console.verdict."+string(rep.Verdict)), Reference: rep.Reference, Lookalikes: bothForms(rep.Lookalikes), HandledBy: rep.HandledBy}
	if rep.Review != "" {
		row.Review = t(lang, "console.review."+string(rep.Review))
	}
	if !rep.HandledAt.IsZero() {
		row.Handled = s.when(r, rep.HandledAt)
	}
	return row
}

func (s *Server) consoleReports(w http.ResponseWriter, r *http.Request) {
	p := s.consolePage(r, "console.reports.title")
	q, err := s.Console.Reports(r.Context(), 500)
	if err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	var rows, done []consoleReportRow
	for _, rep := range q.Open {
		rows = append(rows, s.reportRow(r, p.Lang, rep))
	}
	for _, rep := range q.Handled {
		done = append(done, s.reportRow(r, p.Lang, rep))
	}
	p.Data["Open"], p.Data["Handled"], p.Data["Domains"] = rows, done, q.Domains
	s.render(w, r, http.StatusOK, "console_reports", p)
}

func (s *Server) consoleReport(w http.ResponseWriter, r *http.Request) {
	p := s.consolePage(r, "console.report.title")
	rep, err := s.Console.Report(r.Context(), r.PathValue("id"))
	if err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	s.drawReport(w, r, p, rep, nil, http.StatusOK)
}

func (s *Server) drawReport(w http.ResponseWriter, r *http.Request, p *page, rep *check.Report, content []byte, status int) {
	p.Data["Report"] = s.reportRow(r, p.Lang, rep)
	var reviews []map[string]string
	for _, rv := range check.Reviews {
		reviews = append(reviews, map[string]string{"Value": string(rv), "Label": s.Catalog.T(p.Lang, "console.review."+string(rv))})
	}
	p.Data["Reviews"] = reviews
	if content != nil {
		p.Data["Content"] = strings.ToValidUTF8(string(content), "\uFFFD")
	}
	s.render(w, r, status, "console_report", p)
}

// consoleReportOpen shows a report's sealed content, recorded as a view:
// a POST, so that no prefetch or crawler opens one by following a link.
func (s *Server) consoleReportOpen(w http.ResponseWriter, r *http.Request) {
	p := s.consolePage(r, "console.report.title")
	p.path = path.Dir(r.URL.Path)
	rep, content, err := s.Console.OpenReport(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	s.drawReport(w, r, p, rep, content, http.StatusOK)
}

func (s *Server) consoleReview(w http.ResponseWriter, r *http.Request) {
	review, _ := httpcore.Field(r, "review")
	reason, _ := httpcore.Field(r, "reason")
	id := r.PathValue("id")
	err := s.Console.ReviewReport(r.Context(), actorOf(r), id, check.Review(review), reason)
	if errors.Is(err, operator.ErrNoReason) || errors.Is(err, console.ErrReviewUnknown) {
		p := s.consolePage(r, "console.report.title")
		p.path = path.Dir(r.URL.Path)
		field, key := "reason", "console.error.reason"
		if errors.Is(err, console.ErrReviewUnknown) {
			field, key = "review", "console.error.review"
		}
		p.Errors[field] = s.Catalog.T(p.Lang, key)
		p.Summary = []problem{{Field: field, Message: p.Errors[field]}}
		rep, err := s.Console.Report(r.Context(), id)
		if err != nil {
			httpcore.Fail(w, r, err)
			return
		}
		p.Values["reason"] = reason
		s.drawReport(w, r, p, rep, nil, http.StatusUnprocessableEntity)
		return
	}
	if err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	httpcore.Redirect(w, r, "/console/reports", url.Values{"notice": {"console_reviewed"}})
}

// consoleSlowed is one subject held by a limit.
type consoleSlowed struct {
	Rule, Subject, Until, AccountID string
	Count                           int
}

func (s *Server) consoleLimits(w http.ResponseWriter, r *http.Request) {
	p := s.consolePage(r, "console.limits.title")
	v, err := s.Console.LimitsNow(r.Context())
	if err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	var rows []consoleSlowed
	for _, sl := range v.Slowed {
		row := consoleSlowed{Rule: s.Catalog.T(p.Lang, "console.rule."+string(sl.Rule)), Subject: maskSubject(sl.Subject),
			Until: s.when(r, sl.Until), Count: sl.Count}
		if sl.Account != nil {
			// An account's run of guesses: named by its masked address,
			// a link to its page (where an admin may lift it).
			row.Subject, row.AccountID = account.MaskEmail(sl.Account.Email), sl.Account.ID
		}
		rows = append(rows, row)
	}
	p.Data["Slowed"] = rows
	var countries []map[string]any
	codes := make([]string, 0, len(v.SMS))
	for cc := range v.SMS {
		codes = append(codes, cc)
	}
	slices.Sort(codes)
	for _, cc := range codes {
		countries = append(countries, map[string]any{"Code": "+" + cc, "Sent": v.SMS[cc], "Cap": v.PerCountryCap})
	}
	p.Data["SMS"] = countries
	p.Data["SMSTotal"], p.Data["DayCap"] = v.SMSTotal, v.DayCap
	s.render(w, r, http.StatusOK, "console_limits", p)
}

// maskSubject shows a limit's subject without a whole address or number:
// a network as it is, an address or a number masked, a counter's key by
// its network.
func maskSubject(subject string) string {
	subject = strings.TrimPrefix(subject, "send:")
	switch {
	case strings.HasPrefix(subject, "+"):
		return phone.Mask(subject)
	case strings.Contains(subject, "@"):
		return account.MaskEmail(strings.TrimPrefix(subject, "email:"))
	}
	return subject
}

func (s *Server) consoleAudit(w http.ResponseWriter, r *http.Request) {
	p := s.consolePage(r, "console.audit.title")
	f := operator.AuditFilter{Limit: 200}
	if id := r.URL.Query().Get("account"); id != "" && len(id) <= 64 && plainText(id) {
		f.AccountID = id
		p.Values["account"] = id
	}
	entries, err := s.Console.Audit(r.Context(), f)
	if err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	p.Data["Entries"] = s.consoleAuditRows(r, p.Lang, entries)
	s.render(w, r, http.StatusOK, "console_audit", p)
}

// supportEntries are the audit lines about the holder's account, as the
// holder's activity page lists them: what our support team saw and did,
// never who (an operator's address is theirs, not the holder's).
type supportEntry struct {
	When, What, Reason string
	// Times is how many looks an entry of views folds (1: one).
	Times int
}

// supportViewsFold is how close together an operator's looks at the
// account are told as one entry: a support call's worth.
const supportViewsFold = time.Hour

// supportEntries is what the holder's activity page tells of the support
// team, newest first, for the activity page's 90 days: every change, each
// with its reason, and the looks folded — one entry for the looks of the
// same kind within an hour of each other ("viewed your account, 3 times")
// — so that a busy support call does not push a change out of sight.
func (s *Server) supportEntries(r *http.Request, lang, accountID string) ([]supportEntry, error) {
	if s.Console == nil {
		return nil, nil
	}
	entries, err := s.Console.Audit(r.Context(), operator.AuditFilter{AccountID: accountID, Since: httpcore.Now(r).Add(-activity.Window), Limit: 1000})
	if err != nil {
		return nil, err
	}
	out := make([]supportEntry, 0, len(entries))
	var last operator.Action
	var first time.Time // the oldest look folded into the last entry
	var newest string   // when the newest of those looks was
	for _, e := range entries {
		look := e.Action == operator.ViewAccount || e.Action == operator.ViewStory || e.Action == operator.ViewReport
		if look && len(out) > 0 && last == e.Action && first.Sub(e.At) <= supportViewsFold {
			o := &out[len(out)-1]
			o.Times++
			first = e.At
			o.When = s.when(r, e.At) + " – " + newest
			continue
		}
		if len(out) == maxSupportEntries {
			break
		}
		out = append(out, supportEntry{When: s.when(r, e.At), What: s.Catalog.T(lang, "activity.support."+string(e.Action)), Reason: e.Reason, Times: 1})
		last, first, newest = e.Action, e.At, out[len(out)-1].When
		if !look {
			last = ""
		}
	}
	return out, nil
}

// maxSupportEntries bounds the holder's list (changes and folded looks).
const maxSupportEntries = 50

// bothForms writes each host as it reads and as DNS spells it
// ("gatehоuse.com (xn--gatehuse-rbh.com)"): a look-alike is read by
// people, reported to registrars by its ASCII form.
func bothForms(hosts []string) []string {
	out := make([]string, 0, len(hosts))
	for _, h := range hosts {
		out = append(out, hostBothForms(h))
	}
	return out
}

func hostBothForms(h string) string {
	ascii, err := idna.Lookup.ToASCII(h)
	if err != nil || ascii == h {
		if u, err := idna.Display.ToUnicode(h); err == nil && u != h {
			return u + " (" + h + ")"
		}
		return h
	}
	return h + " (" + ascii + ")"
}
