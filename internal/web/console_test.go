package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"gatehouse/internal/account"
	"gatehouse/internal/operator"
	"gatehouse/internal/request"
)

// consoleSetup is an installation with a holder and an operator (role)
// whose authenticator app is on; the operator's browser has proved its
// second step (a re-verification with the app's code) unless stale.
type consoleSetup struct {
	h                *harness
	holder, op       *browser
	holderID, secret string
	now              time.Time
}

const (
	holderEmail   = "holder@example.com"
	operatorEmail = "operator@example.com"
)

func newConsole(t *testing.T, db map[string]string, role operator.Role) *consoleSetup {
	t.Helper()
	h := newHarness(t, db)
	c := &consoleSetup{h: h, holder: h.browser("en"), op: h.browser("en")}
	c.holder.signUp(holderEmail, goodPassword)
	c.op.signUp(operatorEmail, goodPassword)
	c.secret, _ = c.op.turnOnApp(t)
	// After the app's first code (real time): reverify's next step is then
	// always a later one, even when a 30 s step ended during the sign-up.
	c.now = time.Now()
	if _, err := h.app.Operators.Add(context.Background(), operatorEmail, role); err != nil {
		t.Fatal(err)
	}
	a, err := h.app.Accounts.Store.AccountByEmail(context.Background(), holderEmail)
	if err != nil {
		t.Fatal(err)
	}
	c.holderID = a.ID
	// The Contract: the operator's session (it began with the sign-up and
	// passed no weaker second step) gets the search page. A change will
	// need the app's code (or a passkey) first; the tests take it now.
	if r := c.op.get("/console/"); r.status != 200 || !strings.Contains(r.body, `name="q"`) {
		t.Fatalf("the console for the operator: %d → %q", r.status, r.location)
	}
	if r := c.reverify(t, "/console/"); r.status != http.StatusSeeOther || r.location != "/console/" {
		t.Fatalf("re-verification with the app: %d → %q\n%s", r.status, r.location, r.body)
	}
	return c
}

// later moves the server's clock (and the operator's) on by d.
func (c *consoleSetup) later(d time.Duration) {
	c.now = c.now.Add(d)
	now := c.now
	c.h.app.SetClock(func() time.Time { return now })
}

// reverify proves the operator's second step again, with the app's next
// code (the current step was used turning the app on).
func (c *consoleSetup) reverify(t *testing.T, next string) *resp {
	t.Helper()
	c.now = c.now.Add(30 * time.Second)
	now := c.now
	c.h.app.SetClock(func() time.Time { return now })
	return c.op.post("/account/reverify", url.Values{"password": {goodPassword}, "method": {"app"},
		"code": {nowCode(t, c.secret, now)}, "next": {next}})
}

// TestConsole_OnlyOperatorsSeeIt_V8_2_1: a signed-in holder who is not an
// operator gets exactly the answer of an address no route has (the
// console does not announce itself); an operator gets the search page.
func TestConsole_OnlyOperatorsSeeIt_V8_2_1(t *testing.T) {
	t.Parallel()
	c := newConsole(t, nil, operator.Support)
	unknown := c.holder.get("/no-such-page")
	for _, path := range []string{"/console", "/console/", "/console/accounts/" + c.holderID, "/console/reports", "/console/audit"} {
		r := c.holder.get(path)
		if r.status != http.StatusNotFound || r.body != unknown.body {
			t.Errorf("%s for a holder: %d, want the unknown page's 404\n%s\n---\n%s", path, r.status, r.body, unknown.body)
		}
	}
	if r := c.h.browser("en").get("/console/"); r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/signin") {
		t.Errorf("signed out: %d → %q, want the sign-in", r.status, r.location)
	}
	if r := c.op.get("/console/"); r.status != 200 || !strings.Contains(r.body, `name="q"`) || !strings.Contains(r.body, "Operator console") {
		t.Fatalf("the operator's console: %d\n%s", r.status, r.body)
	}
	if r := c.op.get("/console/?q=12"); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "at least the last 4 digits") {
		t.Errorf("a query that is nothing: %d\n%s", r.status, r.body)
	}
	// The operator removes their app: the role stays, the console waits.
	if r := c.reverify(t, "/account/two-step"); r.status != http.StatusSeeOther {
		t.Fatalf("re-verify: %d", r.status)
	}
	if r := c.op.post("/account/two-step/off", nil); r.status != http.StatusSeeOther {
		t.Fatalf("two-step off: %d\n%s", r.status, r.body)
	}
	if r := c.op.get("/console/"); r.status != http.StatusForbidden || !strings.Contains(r.body, "needs your account to have a passkey") {
		t.Errorf("an operator without a strong second step: %d\n%s", r.status, r.body)
	}
}

// TestConsole_SupportFindsTheHolderByReferenceAndSignsThemOut_V7_4_2: the
// reference of a message the holder received leads to the account and
// the message's story in the holder's words; the account view shows no
// code; signing out everywhere asks for a fresh second step and a reason;
// it ends the holder's sessions, is in the audit trail with the reason,
// and the holder's activity page says what our support team did.
func TestConsole_SupportFindsTheHolderByReferenceAndSignsThemOut_V7_4_2(t *testing.T) {
	t.Parallel()
	onBothDatabases(t, func(t *testing.T, db map[string]string) {
		c := newConsole(t, db, operator.Support)
		msgs := c.h.messagesTo(holderEmail)
		if len(msgs) == 0 {
			t.Fatal("the holder got no message")
		}
		confirm := msgs[len(msgs)-1] // the sign-up's code
		r := c.op.get("/console/?q=" + url.QueryEscape(confirm.Reference))
		if r.status != 200 || !strings.Contains(r.body, holderEmail) || !strings.Contains(r.body, "/console/story/"+confirm.Reference) {
			t.Fatalf("search by reference: %d\n%s", r.status, r.body)
		}
		story := c.op.get("/console/story/" + confirm.Reference)
		if story.status != 200 || !strings.Contains(story.body, `id="story"`) || strings.Contains(story.body, `id="answer-form"`) {
			t.Fatalf("the story: %d\n%s", story.status, story.body)
		}
		// The same words as the holder's own /why page, read on another
		// of their browsers (on the one that asked, it says "this device").
		other := c.h.browser("en")
		if r := other.post("/signin", url.Values{"email": {holderEmail}, "password": {goodPassword}}); r.status != http.StatusSeeOther {
			t.Fatalf("the holder's other browser: %d", r.status)
		}
		mine := other.get("/why/" + confirm.Reference)
		if details := between(mine.body, `id="story-details">`, "</dl>"); details == "" || !strings.Contains(story.body, details) {
			t.Errorf("the console's story does not read as the holder's:\n%s\n---\n%s", details, story.body)
		}

		view := c.op.get("/console/accounts/" + c.holderID)
		if view.status != 200 || !strings.Contains(view.body, confirm.Reference) {
			t.Fatalf("the account view: %d\n%s", view.status, view.body)
		}
		if !strings.Contains(view.body, "the holder&#39;s own request") || strings.Contains(view.body, "someone mistyped") {
			t.Errorf("the sign-up's code on the account view is not the holder's own request:\n%s", between(view.body, `id="messages"`, "</table>"))
		}
		if code := c.h.codeFor(holderEmail); strings.Contains(view.body, code) || strings.Contains(story.body, code) {
			t.Errorf("the console shows the holder's code %s", code)
		}

		if !strings.Contains(view.body, `id="do-sign_out_all"`) || strings.Contains(view.body, `id="fresh-first"`) {
			t.Fatalf("the account view right after a proof: no forms\n%s", view.body)
		}
		// The operator's proof is older than console.fresh_within: the
		// page offers to prove it first, instead of forms whose typing a
		// re-verification would lose.
		c.later(6 * time.Minute)
		stale := c.op.get("/console/accounts/" + c.holderID)
		if stale.status != 200 || strings.Contains(stale.body, `id="do-sign_out_all"`) || !strings.Contains(stale.body, `id="fresh-first"`) ||
			!strings.Contains(stale.body, `href="/account/reverify?next=%2Fconsole%2Faccounts%2F`+c.holderID+`&amp;notice=console_fresh"`) {
			t.Fatalf("the account view with a stale proof: %d\n%s", stale.status, stale.body)
		}
		action := "/console/accounts/" + c.holderID + "/signout"
		r = c.op.post(action, url.Values{"reason": {"holder called: lost phone"}})
		if r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/account/reverify?") ||
			!strings.Contains(r.location, url.QueryEscape("/console/accounts/"+c.holderID)) {
			t.Fatalf("a change without a fresh second step: %d → %q", r.status, r.location)
		}
		if r := c.holder.get("/account"); r.status != 200 {
			t.Fatalf("the holder was signed out by a refused change: %d", r.status)
		}
		back := c.reverify(t, "/console/accounts/"+c.holderID)
		if back.status != http.StatusSeeOther || !strings.HasPrefix(back.location, "/console/accounts/"+c.holderID) {
			t.Fatalf("re-verification: %d → %q\n%s", back.status, back.location, back.body)
		}
		// No reason: refused, nothing done.
		if r := c.op.post(action, url.Values{"reason": {"  "}}); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "Type the reason") {
			t.Fatalf("no reason: %d\n%s", r.status, r.body)
		}
		if r := c.holder.get("/account"); r.status != 200 {
			t.Fatalf("a change without a reason was made: %d", r.status)
		}
		if r := c.op.post(action, url.Values{"reason": {"holder called: lost phone"}}); r.status != http.StatusSeeOther {
			t.Fatalf("sign out everywhere: %d\n%s", r.status, r.body)
		}
		if r := c.holder.get("/account"); r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/signin") {
			t.Fatalf("the holder is still signed in: %d → %q", r.status, r.location)
		}
		entries, err := c.h.app.Operators.Store.Audit(context.Background(), operator.AuditFilter{AccountID: c.holderID})
		if err != nil {
			t.Fatal(err)
		}
		did := map[operator.Action]string{}
		for _, e := range entries {
			did[e.Action] = e.Reason
			if e.OperatorEmail != operatorEmail || e.IP == "" {
				t.Errorf("audit line without who or where: %+v", e)
			}
		}
		if did[operator.SignOutAll] != "holder called: lost phone" {
			t.Errorf("audit: %v, want the sign-out with its reason", did)
		}
		for _, a := range []operator.Action{operator.ViewAccount, operator.ViewStory} {
			if _, ok := did[a]; !ok {
				t.Errorf("audit: no %s line", a)
			}
		}
		// Support keeps looking (a long call): the looks fold into one
		// entry and do not push the change out of the holder's sight.
		c.later(time.Minute)
		for range 25 {
			if r := c.op.get("/console/accounts/" + c.holderID); r.status != 200 {
				t.Fatalf("a look: %d", r.status)
			}
		}
		// The holder, signed in again, sees what support did and why.
		holder := c.h.browser("en")
		if r := holder.post("/signin", url.Values{"email": {holderEmail}, "password": {goodPassword}}); r.status != http.StatusSeeOther {
			t.Fatalf("the holder signs in again: %d", r.status)
		}
		act := holder.get("/account/activity")
		if n := strings.Count(act.body, "Our support team viewed your account"); n > 4 || !regexp.MustCompile(`\((2[5-7]) times\)`).MatchString(act.body) {
			// The 25 looks of a minute later are one entry (with the
			// looks of the minute before that sort after the sign-out's
			// line: the test's clock stood still); the others a few more.
			t.Errorf("looks listed %d times, want the 25 as one:\n%s", n, act.body)
		}
		if !strings.Contains(act.body, "Our support team signed you out everywhere") || !strings.Contains(act.body, "holder called: lost phone") ||
			!strings.Contains(act.body, "Our support team viewed your account") || strings.Contains(act.body, operatorEmail) {
			t.Errorf("the holder's activity page:\n%s", act.body)
		}
	})
}

// TestConsole_ResetTwoStepIsForAdmins_V6_4_2: a support operator is
// refused; an admin's reset removes every method, tells the holder by
// email and at the old number, and starts the waiting period in which a
// new method is refused from a browser the account had not used — the
// holder's own earlier browser may add one at once.
func TestConsole_ResetTwoStepIsForAdmins_V6_4_2(t *testing.T) {
	t.Parallel()
	for _, role := range []operator.Role{operator.Support, operator.Admin} {
		t.Run(string(role), func(t *testing.T) {
			t.Parallel()
			c := newConsole(t, nil, role)
			c.holder.turnOnApp(t)
			if r := c.reverify(t, "/console/"); r.status != http.StatusSeeOther || r.location != "/console/" {
				t.Fatalf("re-verification: %d → %q\n%s", r.status, r.location, r.body)
			}
			r := c.op.post("/console/accounts/"+c.holderID+"/reset-two-step", url.Values{"reason": {"proved identity by video call"}})
			if role == operator.Support {
				if r.status != http.StatusForbidden {
					t.Fatalf("support resets two-step verification: %d", r.status)
				}
				if on := c.holder.get("/account/two-step"); !strings.Contains(on.body, "Two-step verification is on") {
					t.Fatal("two-step verification changed after a refusal")
				}
				return
			}
			if r.status != http.StatusSeeOther {
				t.Fatalf("reset: %d\n%s", r.status, r.body)
			}
			if off := c.holder.get("/account/two-step"); !strings.Contains(off.body, "Two-step verification is off") {
				t.Fatalf("after the reset:\n%s", off.body)
			}
			told := false
			for _, m := range c.h.messagesTo(holderEmail) {
				told = told || m.Purpose == request.TwoStepReset
			}
			if !told {
				t.Error("the holder was not told of the reset")
			}
			// Pressed again: nothing to reset, nothing told again.
			if r := c.op.post("/console/accounts/"+c.holderID+"/reset-two-step", url.Values{"reason": {"pressed twice"}}); r.status != http.StatusConflict {
				t.Errorf("a second reset: %d\n%s", r.status, r.body)
			}
			resets := 0
			for _, m := range c.h.messagesTo(holderEmail) {
				if m.Purpose == request.TwoStepReset {
					resets++
				}
			}
			if resets != 1 {
				t.Errorf("%d reset notices, want 1", resets)
			}
			// Someone who talked support into it, on a browser of their own.
			stranger := c.h.browser("en")
			if r := stranger.post("/signin", url.Values{"email": {holderEmail}, "password": {goodPassword}}); r.status != http.StatusSeeOther {
				t.Fatalf("sign-in after the reset: %d", r.status)
			}
			// Told before starting, with the end; refused before a key is
			// shown or a code texted.
			if r := stranger.get("/account/two-step"); r.status != 200 || !strings.Contains(r.body, `id="reset-wait"`) ||
				!strings.Contains(r.body, "Until "+c.now.Add(72*time.Hour).UTC().Format("2 Jan 2006")) {
				t.Fatalf("the two-step page during the wait: %d\n%s", r.status, r.body)
			}
			for _, path := range []string{"/account/two-step/app", "/account/two-step/phone", "/account/two-step/passkey"} {
				if r := stranger.get(path); r.status != http.StatusForbidden || !strings.Contains(r.body, "only from a device you used before the reset") ||
					strings.Contains(r.body, "otpauth://") {
					t.Fatalf("%s from a new browser during the wait: %d\n%s", path, r.status, r.body)
				}
			}
			texts := len(c.h.messagesTo("+819011112222"))
			if r := stranger.post("/account/two-step/phone", url.Values{"phone": {"090-1111-2222"}}); r.status != http.StatusForbidden {
				t.Fatalf("a number from a new browser during the wait: %d\n%s", r.status, r.body)
			}
			if len(c.h.messagesTo("+819011112222")) != texts {
				t.Fatal("a code was texted to a new number during the wait")
			}
			r = stranger.post("/account/two-step/app", url.Values{"e": {"made-up"}, "name": {"Mine"}, "code": {"123456"}})
			if r.status != http.StatusForbidden || !strings.Contains(r.body, "only from a device you used before the reset") {
				t.Fatalf("a new browser adds a method during the wait: %d\n%s", r.status, r.body)
			}
			if r := c.holder.get("/account/two-step"); strings.Contains(r.body, `id="reset-wait"`) {
				t.Error("the holder's own earlier browser is told of a wait that does not apply to it")
			}
			// The holder's own browser, used before the reset, may.
			e, secret := c.holder.enrolApp()
			if r := c.holder.post("/account/two-step/app", url.Values{"e": {e}, "name": {"New phone"}, "code": {nowCode(t, secret, c.now)}}); r.status != 200 {
				t.Fatalf("the holder's own browser: %d\n%s", r.status, r.body)
			}
		})
	}
}

// TestConsole_ReportedMessagesQueue: a holder reports a phishing text from
// /check; the queue lists it with the look-alike host without opening it;
// opening the sealed content is a POST recorded in the audit trail; a
// verdict without a reason is refused; with one, the report is handled,
// the domain list says it was judged phishing, and the line is audited.
func TestConsole_ReportedMessagesQueue(t *testing.T) {
	t.Parallel()
	onBothDatabases(t, func(t *testing.T, db map[string]string) {
		c := newConsole(t, db, operator.Support)
		phish := "Gatehouse: your account is suspended. Confirm your password within 24 hours at https://gatehouse-login.example.net/verify"
		if r := c.holder.postFile("/check/report", map[string]string{"text": phish}, nil); r.status != http.StatusSeeOther {
			t.Fatalf("report: %d\n%s", r.status, r.body)
		}
		q := c.op.get("/console/reports")
		if q.status != 200 || !strings.Contains(q.body, `id="open-reports"`) || !strings.Contains(q.body, "gatehouse-login.example.net") ||
			strings.Contains(q.body, "suspended") {
			t.Fatalf("the queue: %d\n%s", q.status, q.body)
		}
		id := between(q.body, `href="/console/reports/`, `"`)
		page := c.op.get("/console/reports/" + id)
		if page.status != 200 || strings.Contains(page.body, "suspended") || !strings.Contains(page.body, `id="open-report"`) {
			t.Fatalf("the report, closed: %d\n%s", page.status, page.body)
		}
		opened := c.op.post("/console/reports/"+id+"/open", nil)
		if opened.status != 200 || !strings.Contains(opened.body, "your account is suspended") {
			t.Fatalf("opened: %d\n%s", opened.status, opened.body)
		}
		// Opened with a stale proof: the way to prove it returns to the
		// report's page, not to the POST's address (which has no page).
		c.later(6 * time.Minute)
		stale := c.op.post("/console/reports/"+id+"/open", nil)
		if !strings.Contains(stale.body, `href="/account/reverify?next=%2Fconsole%2Freports%2F`+id+`&amp;notice=console_fresh"`) {
			t.Fatalf("the opened report with a stale proof:\n%s", stale.body)
		}
		c.reverify(t, "/console/reports/"+id)
		if r := c.op.post("/console/reports/"+id+"/review", url.Values{"review": {"phishing"}}); r.status != http.StatusUnprocessableEntity {
			t.Fatalf("a verdict without a reason: %d", r.status)
		}
		if r := c.op.post("/console/reports/"+id+"/review", url.Values{"review": {"phishing"}, "reason": {"sent to the registrar"}}); r.status != http.StatusSeeOther {
			t.Fatalf("verdict: %d\n%s", r.status, r.body)
		} // A second verdict (another operator, or the page pressed twice):
		// the first stands.
		if r := c.op.post("/console/reports/"+id+"/review", url.Values{"review": {"genuine"}, "reason": {"changed my mind"}}); r.status != http.StatusConflict ||
			!strings.Contains(r.body, "handled already") {
			t.Fatalf("a second verdict: %d\n%s", r.status, r.body)
		}

		q = c.op.get("/console/reports")
		if !strings.Contains(q.body, `id="handled-reports"`) || strings.Contains(q.body, `id="open-reports"`) ||
			!strings.Contains(between(q.body, `id="domains"`, "</table>"), "yes") {
			t.Errorf("after the verdict:\n%s", q.body)
		}
		entries, err := c.h.app.Operators.Store.Audit(context.Background(), operator.AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[operator.Action]string{}
		for _, e := range entries {
			seen[e.Action] = e.Detail
		}
		if seen[operator.ViewReport] != id || !strings.HasPrefix(seen[operator.ReportHandled], id) {
			t.Errorf("audit: %v", seen)
		}
	})
}

// TestConsole_PhoneDigitsLimitsAndLift_V6_3_1: support finds the holder by
// the last digits of their number (shown masked, never whole); wrong
// passwords put a run of failures on the account, which the account view
// and the limits page show; support may not lift it, an admin may, with a
// reason.
func TestConsole_PhoneDigitsLimitsAndLift_V6_3_1(t *testing.T) {
	t.Parallel()
	for _, role := range []operator.Role{operator.Support, operator.Admin} {
		t.Run(string(role), func(t *testing.T) {
			t.Parallel()
			c := newConsole(t, nil, role)
			if r := c.holder.enrolPhone("090-1234-5678", "+819012345678"); r.status != 200 {
				t.Fatalf("phone: %d\n%s", r.status, r.body)
			}
			found := c.op.get("/console/?q=" + url.QueryEscape("5678"))
			if found.status != 200 || !strings.Contains(found.body, holderEmail) || strings.Contains(found.body, "9012345678") {
				t.Fatalf("search by digits: %d\n%s", found.status, found.body)
			}
			if !strings.Contains(found.body, `next=%2fconsole%2f%3fq%3d5678"`) {
				t.Errorf("the language switch loses the search:\n%s", found.body)
			}
			// The whole number as the holder reads it out on the phone.
			for _, q := range []string{"090-1234-5678", "09012345678", "０９０－１２３４－５６７８", "(090) 1234 5678", "+81 90-1234-5678"} {
				if r := c.op.get("/console/?q=" + url.QueryEscape(q)); r.status != 200 || !strings.Contains(r.body, holderEmail) {
					t.Errorf("search by %q: %d\n%s", q, r.status, r.body)
				}
			}
			if r := c.op.get("/console/?q=" + url.QueryEscape("+1 090-1234-5678")); strings.Contains(r.body, holderEmail) {
				t.Error("a number of another country found the holder")
			}
			if r := c.op.get("/console/?q=1111"); !strings.Contains(r.body, `id="no-results"`) {
				t.Errorf("other digits found someone:\n%s", r.body)
			}
			for range 6 {
				c.h.browser("en").post("/signin", url.Values{"email": {holderEmail}, "password": {"not the password at all"}})
			}
			view := c.op.get("/console/accounts/" + c.holderID)
			if !strings.Contains(view.body, `id="guesses"`) || strings.Contains(view.body, "9012345678") {
				t.Fatalf("the account's limits:\n%s", view.body)
			}
			// The code that confirmed the number was a text to +81 today.
			lim := c.op.get("/console/limits")
			if lim.status != 200 || !strings.Contains(between(lim.body, `id="sms"`, "</table>"), "<td>&#43;81</td><td>1</td>") {
				t.Fatalf("limits page: %d\n%s", lim.status, lim.body)
			}
			// The run of wrong passwords holds the account: named by its
			// masked address, a link to its page, never its id alone.
			held := `<a href="/console/accounts/` + c.holderID + `">`
			if !strings.Contains(lim.body, held) || strings.Contains(lim.body, ">"+c.holderID+"<") {
				t.Fatalf("the held account on the limits page:\n%s", lim.body)
			}
			c.reverify(t, "/console/accounts/"+c.holderID)
			r := c.op.post("/console/accounts/"+c.holderID+"/lift", url.Values{"secret": {"password"}, "reason": {"holder locked out by someone else"}})
			if role == operator.Support {
				if r.status != http.StatusForbidden {
					t.Fatalf("support lifts a limit: %d", r.status)
				}
				return
			}
			if r.status != http.StatusSeeOther {
				t.Fatalf("lift: %d\n%s", r.status, r.body)
			}
			if view := c.op.get("/console/accounts/" + c.holderID); strings.Contains(view.body, `id="guesses"`) {
				t.Errorf("the limit is still there:\n%s", view.body)
			}
			if lim := c.op.get("/console/limits"); strings.Contains(lim.body, held) {
				t.Errorf("the limits page still holds the account after the lift:\n%s", lim.body)
			}
			if r := c.op.post("/console/accounts/"+c.holderID+"/lift", url.Values{"secret": {"everything"}, "reason": {"x"}}); r.status != http.StatusUnprocessableEntity {
				t.Errorf("an unknown limit: %d", r.status)
			}
			// Disable: the holder is out at once and cannot sign in; enable
			// lets them in again.
			base := "/console/accounts/" + c.holderID
			if r := c.op.post(base+"/disable", url.Values{"reason": {"account takeover in progress"}}); r.status != http.StatusSeeOther {
				t.Fatalf("disable: %d\n%s", r.status, r.body)
			}
			if r := c.holder.get("/account"); r.status != http.StatusSeeOther {
				t.Errorf("a disabled account's session still works: %d", r.status)
			}
			if r := c.h.browser("en").post("/signin", url.Values{"email": {holderEmail}, "password": {goodPassword}}); r.status == http.StatusSeeOther {
				t.Errorf("a disabled account signs in: %d → %q", r.status, r.location)
			}
			if r := c.op.post(base+"/enable", url.Values{"reason": {"holder back in control"}}); r.status != http.StatusSeeOther {
				t.Fatalf("enable: %d\n%s", r.status, r.body)
			}
			if r := c.h.browser("en").post("/signin", url.Values{"email": {holderEmail}, "password": {goodPassword}}); r.status != http.StatusSeeOther {
				t.Errorf("the enabled account cannot sign in: %d\n%s", r.status, r.body)
			}
		})
	}
}

// TestConsole_ATextMessageDoesNotOpenIt_V6_4_2: an operator signed in
// with a code by SMS (a SIM swap away) is sent to re-verify with the app or
// a passkey before any console page — the page offers no SMS — and a later
// re-verification by SMS for the holder's own pages does not renew the
// console's fresh second step.
func TestConsole_ATextMessageDoesNotOpenIt_V6_4_2(t *testing.T) {
	t.Parallel()
	onBothDatabases(t, func(t *testing.T, db map[string]string) {
		c := newConsole(t, db, operator.Admin)
		const number = "+819012340078"
		if r := c.op.enrolPhone("090-1234-0078", number); r.status != http.StatusSeeOther && r.status != 200 {
			t.Fatalf("the operator's phone: %d\n%s", r.status, r.body)
		}
		// Another browser, signed in with the password and a texted code
		// (a minute on: its text is the number's newest, not the
		// enrolment's sent at the same frozen instant).
		c.later(time.Minute)
		n := c.h.browser("en")
		ch := n.signInTo2ndStep(operatorEmail, goodPassword)
		if p := n.post("/signin/verify/resend", url.Values{"c": {ch}, "method": {"sms"}}); p.status != http.StatusSeeOther {
			t.Fatalf("choosing SMS: %d\n%s", p.status, p.body)
		}
		if r := n.post("/signin/verify", url.Values{"c": {ch}, "method": {"sms"}, "code": {c.h.smsCodeFor(number)}}); r.status != http.StatusSeeOther {
			t.Fatalf("SMS code: %d\n%s", r.status, r.body)
		}
		for _, path := range []string{"/console/", "/console/accounts/" + c.holderID, "/console/audit"} {
			if r := n.get(path); r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/account/reverify?next=") ||
				!strings.Contains(r.location, "console_fresh") {
				t.Fatalf("%s after an SMS sign-in: %d → %q", path, r.status, r.location)
			}
		}
		if r := n.post("/console/accounts/"+c.holderID+"/disable", url.Values{"reason": {"testing"}}); r.status != http.StatusSeeOther ||
			!strings.HasPrefix(r.location, "/account/reverify?") {
			t.Fatalf("a change after an SMS sign-in: %d → %q", r.status, r.location)
		}
		page := n.get("/account/reverify?next=%2Fconsole%2F&notice=console_fresh")
		if page.status != 200 || !strings.Contains(page.body, "a code by SMS or a backup code does not open it") || strings.Contains(page.body, "method=sms") ||
			strings.Contains(page.body, "method=backup") || !strings.Contains(page.body, `name="method" value="app"`) {
			t.Fatalf("the console's re-verification: %d\n%s", page.status, page.body)
		}
		// Asking for SMS anyway gets the app's field, not a text.
		sent := len(c.h.messagesTo(number))
		if r := n.post("/account/reverify", url.Values{"next": {"/console/"}, "method": {"sms"}, "password": {goodPassword}}); r.status != http.StatusUnprocessableEntity {
			t.Fatalf("re-verifying by SMS for the console: %d → %q", r.status, r.location)
		}
		if len(c.h.messagesTo(number)) != sent {
			t.Fatal("a text was sent for the console's re-verification")
		}
		c.later(30 * time.Second)
		if r := n.post("/account/reverify", url.Values{"next": {"/console/"}, "method": {"app"}, "password": {goodPassword},
			"code": {nowCode(t, c.secret, c.now)}}); r.status != http.StatusSeeOther || r.location != "/console/" {
			t.Fatalf("re-verifying with the app: %d → %q\n%s", r.status, r.location, r.body)
		}
		if r := n.get("/console/"); r.status != 200 {
			t.Fatalf("the console after the app: %d", r.status)
		}
		// Later, a re-verification by SMS on the holder's own pages: the
		// console's changes still ask for the app.
		c.later(6 * time.Minute)
		r := n.post("/account/reverify", url.Values{"next": {"/account"}, "method": {"sms"}, "password": {goodPassword}})
		if r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/signin/verify?") {
			t.Fatalf("re-verifying by SMS for the account: %d → %q\n%s", r.status, r.location, r.body)
		}
		if v := n.post("/signin/verify", url.Values{"c": {challenge(t, r.location)}, "method": {"sms"}, "next": {"/account"},
			"code": {c.h.smsCodeFor(number)}}); v.status != http.StatusSeeOther || v.location != "/account" {
			t.Fatalf("the SMS re-verification: %d → %q\n%s", v.status, v.location, v.body)
		}
		if r := n.post("/console/accounts/"+c.holderID+"/disable", url.Values{"reason": {"testing"}}); r.status != http.StatusSeeOther ||
			!strings.HasPrefix(r.location, "/account/reverify?") {
			t.Fatalf("a change after a fresh SMS re-verification: %d → %q", r.status, r.location)
		}
		if a, err := c.h.app.Accounts.Store.AccountByID(context.Background(), c.holderID); err != nil || a.Status == account.Disabled {
			t.Fatalf("the holder's account: %+v %v", a, err)
		}
	})
}

// TestConsole_SignOutEverywhereEndsASignInOneCodeAway_V7_4_2: the phone
// call the console is for — "I got a code I didn't ask for" — while
// someone who typed the holder's password waits for the code: support's
// "sign out everywhere" ends that sign-in too, its code passes nothing
// afterwards, and the story stops saying "one code away".
func TestConsole_SignOutEverywhereEndsASignInOneCodeAway_V7_4_2(t *testing.T) {
	t.Parallel()
	c := newConsole(t, map[string]string{"signin.new_device_check": "email"}, operator.Support)
	atk := c.h.browser("en")
	ch := atk.signInTo2ndStep(holderEmail, goodPassword)
	sent := c.h.messagesTo(holderEmail)[0]
	if sent.Purpose != request.SecondStep && sent.Purpose != request.NewDevice {
		t.Fatalf("the newest message to the holder: %s", sent.Purpose)
	}
	code := c.h.codeFor(holderEmail)
	story := "/console/story/" + sent.Reference
	if r := c.op.get(story); r.status != 200 || !strings.Contains(r.body, "one code away") {
		t.Fatalf("the story before: %d\n%s", r.status, r.body)
	}
	if r := c.op.post("/console/accounts/"+c.holderID+"/signout", url.Values{"reason": {"holder called: a code they did not ask for"}}); r.status != http.StatusSeeOther {
		t.Fatalf("sign out everywhere: %d\n%s", r.status, r.body)
	}
	if r := c.op.get(story); r.status != 200 || strings.Contains(r.body, "one code away") {
		t.Fatalf("the story after: %d\n%s", r.status, r.body)
	}
	if r := atk.post("/signin/verify", url.Values{"c": {ch}, "code": {code}}); r.status == http.StatusSeeOther && r.location == "/account" {
		t.Fatal("the code passed the sign-in support ended")
	}
	if r := atk.get("/account"); r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/signin") {
		t.Fatalf("the other browser is signed in: %d → %q", r.status, r.location)
	}
}

// TestConsole_TwentyResetsAtOnceTellTheHolderOnce_V6_4_2: an admin's
// reset pressed twenty times at once (a double click, a retrying proxy)
// resets once: one press goes through, the others find nothing left; the
// holder gets one email and one text, and their activity page one line.
func TestConsole_TwentyResetsAtOnceTellTheHolderOnce_V6_4_2(t *testing.T) {
	t.Parallel()
	onBothDatabases(t, func(t *testing.T, db map[string]string) {
		c := newConsole(t, db, operator.Admin)
		c.holder.turnOnApp(t)
		const number = "+819012345611"
		if r := c.holder.enrolPhone("090-1234-5611", number); r.status != http.StatusSeeOther && r.status != 200 {
			t.Fatalf("the holder's phone: %d\n%s", r.status, r.body)
		}
		var mu sync.Mutex
		codes := map[int]int{}
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				r := c.op.post("/console/accounts/"+c.holderID+"/reset-two-step", url.Values{"reason": {"proved identity by video call"}})
				mu.Lock()
				codes[r.status]++
				mu.Unlock()
			})
		}
		wg.Wait()
		if codes[http.StatusSeeOther] != 1 || codes[http.StatusConflict] != 19 {
			t.Fatalf("twenty resets at once: %v, want one 303 and nineteen 409", codes)
		}
		told := map[request.Channel]int{}
		for _, to := range []string{holderEmail, number} {
			for _, m := range c.h.messagesTo(to) {
				if m.Purpose == request.TwoStepReset {
					told[m.Channel]++
				}
			}
		}
		if told[request.Email] != 1 || told[request.SMS] != 1 {
			t.Fatalf("the holder was told %v, want once by email and once by SMS", told)
		}
		entries, err := c.h.app.Operators.Store.Audit(context.Background(), operator.AuditFilter{AccountID: c.holderID})
		if err != nil {
			t.Fatal(err)
		}
		resets := 0
		for _, e := range entries {
			if e.Action == operator.ResetTwoStep {
				resets++
			}
		}
		if resets != 1 {
			t.Fatalf("%d reset lines in the audit trail, want the one reset made", resets)
		}
	})
}

// TestConsole_ReverifyPageSaysNothingToAHolder_V8_2_1: a holder who is not
// an operator, sent to the re-verification with a next of /console/,
// reads the ordinary page: no console wording, no console links.
func TestConsole_ReverifyPageSaysNothingToAHolder_V8_2_1(t *testing.T) {
	t.Parallel()
	c := newConsole(t, nil, operator.Support)
	plain := c.holder.get("/account/reverify?next=%2Faccount")
	r := c.holder.get("/account/reverify?next=%2Fconsole%2F&notice=console_fresh")
	// Only the address it was given names it (the hidden next, the
	// language switch's way back), as any address would be named.
	if r.status != 200 || strings.Contains(r.body, "console-nav") || strings.Contains(r.body, "Console") || strings.Contains(r.body, "operator") ||
		strings.Contains(r.body, "%!") || !strings.Contains(r.body, "This change protects your account") || plain.status != 200 {
		t.Fatalf("a holder's re-verification toward /console/: %d\n%s", r.status, r.body)
	}
	// The operator's: the console's words, the operator's header.
	op := c.op.get("/account/reverify?next=%2Fconsole%2F&notice=console_fresh")
	if !strings.Contains(op.body, "operator console acts on other people") || strings.Contains(op.body, "%!") {
		t.Errorf("the operator's re-verification:\n%s", op.body)
	}
}

// TestConsole_PasswordKnownEndsEverySignIn_V6_3_1: the holder on the phone
// says someone has their password; support marks it known, as the
// holder's own "this wasn't me" would: the holder's sessions end, and the
// password alone signs no one in any more — whoever types it must also
// read the holder's mailbox — until the holder sets a new one.
func TestConsole_PasswordKnownEndsEverySignIn_V6_3_1(t *testing.T) {
	t.Parallel()
	onBothDatabases(t, func(t *testing.T, db map[string]string) {
		c := newConsole(t, db, operator.Support) // the new-device check is off
		if r := c.h.browser("en").post("/signin", url.Values{"email": {holderEmail}, "password": {goodPassword}}); r.status != http.StatusSeeOther || r.location != "/account" {
			t.Fatalf("the password alone, before: %d → %q", r.status, r.location)
		}
		// Pressed twenty times at once: one marks it, the others change
		// nothing (409), and the audit trail has the one line.
		var mu sync.Mutex
		codes := map[int]int{}
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				r := c.op.post("/console/accounts/"+c.holderID+"/password-known", url.Values{"reason": {"holder got a code they did not ask for"}})
				mu.Lock()
				codes[r.status]++
				mu.Unlock()
			})
		}
		wg.Wait()
		if codes[http.StatusSeeOther] != 1 || codes[http.StatusConflict] != 19 {
			t.Fatalf("twenty presses at once: %v, want one 303 and nineteen 409", codes)
		}
		if r := c.holder.get("/account"); r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/signin") {
			t.Fatalf("the holder's session after: %d → %q", r.status, r.location)
		}
		if r := c.h.browser("en").post("/signin", url.Values{"email": {holderEmail}, "password": {goodPassword}}); r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/signin/verify?") {
			t.Fatalf("the password alone, after: %d → %q, want the emailed code asked for", r.status, r.location)
		}
		entries, err := c.h.app.Operators.Store.Audit(context.Background(), operator.AuditFilter{AccountID: c.holderID})
		if err != nil {
			t.Fatal(err)
		}
		lines := 0
		for _, e := range entries {
			if e.Action == operator.PasswordKnown && e.Reason == "holder got a code they did not ask for" {
				lines++
			}
		}
		if lines != 1 {
			t.Errorf("%d audit lines for the password marked known, want 1", lines)
		}
	})
}
