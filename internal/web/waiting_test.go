package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/outbox"
	"gatehouse/internal/request"
)

// TestWaiting_TheRightPasswordElsewhereIsPutToTheHolderAtSignIn_V6_3_5: the
// issue's contract. Another browser types the right password; the holder's
// next sign-in, in a fresh browser, lands on a page whose form answers that
// message with one press — and not on their own new-device code. (ASVS
// v5.0.0-6.3.5: the holder is told of suspicious authentication attempts;
// NIST SP 800-63B-4 §3.1.3: the holder can stop the request.)
func TestWaiting_TheRightPasswordElsewhereIsPutToTheHolderAtSignIn_V6_3_5(t *testing.T) {
	t.Parallel()
	onBothDatabases(t, func(t *testing.T, db map[string]string) {
		h := newHarness(t, withCheck(db))
		email := "waiting@example.com"
		h.browser("en").signUp(email, goodPassword)
		other := h.browser("en")
		otherStep := other.signInTo2ndStep(email, goodPassword)
		theirs := h.newest(email, request.SecondStep)
		theirCode := h.codeFor(email)

		fresh := h.browser("en")
		c := fresh.signInTo2ndStep(email, goodPassword)
		own := h.newest(email, request.SecondStep)
		if own.Reference == theirs.Reference {
			t.Fatal("the holder's sign-in sent no code of its own")
		}
		r := fresh.post("/signin/verify", url.Values{"c": {c}, "method": {"email"}, "code": {h.codeFor(email)}})
		if r.status != http.StatusSeeOther || r.location != "/account" {
			t.Fatalf("sign-in: %d %s", r.status, r.location)
		}
		page := fresh.get(r.location)
		form := `<form method="post" action="/why/` + theirs.Reference + `" class="answers">`
		for _, want := range []string{`id="waiting"`, form, `name="answer" value="not_me"`, "Your correct password was typed on a device your account had not used"} {
			if !strings.Contains(page.body, want) {
				t.Fatalf("the first page lacks %q:\n%s", want, page.body)
			}
		}
		if strings.Contains(page.body, `action="/why/`+own.Reference+`"`) {
			t.Fatalf("the holder's own code is put to them:\n%s", page.body)
		}
		// The waiting request is at the top: before the account's facts.
		if strings.Index(page.body, `id="waiting"`) > strings.Index(page.body, `id="account-email"`) {
			t.Error("the waiting request is not at the top of the page")
		}
		// One press: "this wasn't me", from the account page.
		r = fresh.post("/why/"+theirs.Reference, url.Values{"answer": {"not_me"}, "back": {"/account"}})
		if r.status != http.StatusOK || !strings.Contains(r.body, `id="answer-actions"`) {
			t.Fatalf("this wasn't me: %d\n%s", r.status, r.body)
		}
		// The other browser's code no longer passes.
		if r := other.post("/signin/verify", url.Values{"c": {otherStep}, "method": {"email"}, "code": {theirCode}}); r.status == http.StatusSeeOther && r.location == "/account" {
			t.Fatal("the other browser signed in with the code after this wasn't me")
		}
	})
}

// TestWaiting_ThisWasMeAndAnAppsSecondStep: a right password whose second
// step sent nothing (an authenticator app) waits too, answered by attempt;
// "this was me" takes it off the page; a request older than a week is no
// longer put to the holder.
func TestWaiting_ThisWasMeAndAnAppsSecondStep(t *testing.T) {
	t.Parallel()
	onBothDatabases(t, func(t *testing.T, db map[string]string) {
		h := newHarness(t, db)
		email := "waiting-app@example.com"
		holder := h.browser("en")
		holder.signUp(email, goodPassword)
		holder.turnOnApp(t)
		other := h.browser("en")
		other.signInTo2ndStep(email, goodPassword)

		page := holder.get("/account")
		if !strings.Contains(page.body, `action="/account/activity/answer"`) || !strings.Contains(page.body, `name="attempt"`) {
			t.Fatalf("the app sign-in is not put to the holder:\n%s", page.body)
		}
		attempt := between(page.body, `name="attempt" value="`, `"`)
		r := holder.post("/account/activity/answer", url.Values{"attempt": {attempt}, "answer": {"me"}, "back": {"/account"}})
		if r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/account?") {
			t.Fatalf("this was me: %d %s", r.status, r.location)
		}
		if page := holder.get("/account"); strings.Contains(page.body, `id="waiting"`) {
			t.Fatalf("still waiting after this was me:\n%s", page.body)
		}

		// A week later, an unanswered one is no longer put to the holder.
		other2 := h.browser("en")
		other2.signInTo2ndStep(email, goodPassword)
		if page := holder.get("/account"); !strings.Contains(page.body, `id="waiting"`) {
			t.Fatal("a second right password is not put to the holder")
		}
		acc, err := h.app.DB.AccountByEmail(context.Background(), email)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			after time.Duration
			want  int
		}{{6 * 24 * time.Hour, 1}, {8 * 24 * time.Hour, 0}} {
			h.app.SetClock(func() time.Time { return time.Now().Add(c.after) })
			ws, err := h.app.Web.Activity.Waiting(context.Background(), acc.ID, "")
			if err != nil || len(ws) != c.want {
				t.Fatalf("after %s: %d waiting (%v), want %d", c.after, len(ws), err, c.want)
			}
		}
	})
}

// TestWhy_SignInFromTheSignedOutPageReturnsToTheStory: the contract's
// /signin?next=/why/{reference}, through the second step, lands on the
// story; a next that leaves the site is refused.
func TestWhy_SignInFromTheSignedOutPageReturnsToTheStory(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withCheck(nil))
	email := "next@example.com"
	h.browser("ja").signUp(email, goodPassword)
	other := h.browser("ja")
	other.signInTo2ndStep(email, goodPassword)
	ref := h.newest(email, request.SecondStep).Reference

	b := h.browser("ja")
	out := b.get("/why/" + ref)
	link := "/signin?next=%2Fwhy%2F" + ref
	if !strings.Contains(out.body, `href="`+link+`"`) || !strings.Contains(out.body, "本物です") || !strings.Contains(out.body, `id="why-general"`) {
		t.Fatalf("the signed-out page:\n%s", out.body)
	}
	form := b.get(link)
	if !strings.Contains(form.body, `name="next" value="/why/`+ref+`"`) {
		t.Fatalf("the sign-in form drops next:\n%s", form.body)
	}
	r := b.post("/signin", url.Values{"email": {email}, "password": {goodPassword}, "next": {"/why/" + ref}})
	if r.status != http.StatusSeeOther || !strings.Contains(r.location, "next=%2Fwhy%2F"+ref) {
		t.Fatalf("password: %d %s", r.status, r.location)
	}
	step := b.get(r.location)
	if !strings.Contains(step.body, `name="next" value="/why/`+ref+`"`) {
		t.Fatalf("the second step drops next:\n%s", step.body)
	}
	r = b.post("/signin/verify", url.Values{"c": {challenge(t, r.location)}, "method": {"email"}, "code": {h.codeFor(email)}, "next": {"/why/" + ref}})
	if r.status != http.StatusSeeOther || r.location != "/why/"+ref {
		t.Fatalf("second step: %d %s", r.status, r.location)
	}
	story := b.get(r.location)
	if !strings.Contains(story.body, `id="answer-form"`) || !strings.Contains(story.body, "<h1>このコードは、あなたのパスワードが新しい端末で入力されたため送られました</h1>") {
		t.Fatalf("the story:\n%s", story.body)
	}
	// Only a path on this site.
	for _, bad := range []string{"//evil.example/", "https://evil.example/", "/\\evil.example"} {
		page := h.browser("en").get("/signin?next=" + url.QueryEscape(bad))
		if strings.Contains(page.body, `name="next"`) {
			t.Errorf("next %q kept on the sign-in form", bad)
		}
	}
}

// TestWhy_TheRecipientWithoutAnAccountStopsTheCode_V6_3_5: a sign-up code
// to someone else's address is stopped by its recipient, signed out, with
// the code they hold: it no longer confirms, and the same sender's next
// sign-up there sends nothing for the block. The page is the same whether
// or not the recipient's number belongs to another account; a wrong code
// stops nothing. Both languages.
func TestWhy_TheRecipientWithoutAnAccountStopsTheCode_V6_3_5(t *testing.T) {
	t.Parallel()
	for _, lang := range []string{"en", "ja"} {
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, nil)
			sender := h.browser(lang)
			victim := "not-mine-" + lang + "@example.com"
			r := sender.post("/signup", url.Values{"email": {victim}, "password": {goodPassword}})
			if r.status != http.StatusSeeOther {
				t.Fatalf("sign-up: %d", r.status)
			}
			c := challenge(t, r.location)
			m := h.newest(victim, request.ConfirmEmail)
			code := h.codeFor(victim)
			if !strings.Contains(m.Text, "/why") {
				t.Errorf("the sign-up email names no /why:\n%s", m.Text)
			}

			recipient := h.browser(lang)
			page := recipient.get("/why/" + m.Reference)
			if !strings.Contains(page.body, `name="code"`) || !strings.Contains(page.body, `action="/why/`+m.Reference+`"`) {
				t.Fatalf("no stop form:\n%s", page.body)
			}
			wrong := "000000"
			if code == wrong {
				wrong = "111111"
			}
			if r := recipient.post("/why/"+m.Reference, url.Values{"code": {wrong}}); r.status != http.StatusUnprocessableEntity {
				t.Fatalf("a wrong code: %d\n%s", r.status, r.body)
			}
			r = recipient.post("/why/"+m.Reference, url.Values{"code": {code}})
			if r.status != http.StatusOK || !strings.Contains(r.body, `id="stopped"`) {
				t.Fatalf("the right code: %d\n%s", r.status, r.body)
			}
			// Stopping twice is the same answer.
			if r := recipient.post("/why/"+m.Reference, url.Values{"code": {code}}); r.status != http.StatusOK {
				t.Fatalf("stopping again: %d", r.status)
			}
			// The code no longer confirms the sign-up.
			if r := sender.post("/signup/confirm", url.Values{"c": {c}, "code": {code}}); r.status == http.StatusSeeOther && r.location == "/account" {
				t.Fatal("the stopped code confirmed the sign-up")
			}
			// The same sender's next sign-up to that address sends nothing.
			before := len(h.messagesTo(victim))
			sender.post("/signup", url.Values{"email": {victim}, "password": {goodPassword}})
			for _, m := range h.messagesTo(victim)[:len(h.messagesTo(victim))-before] {
				if m.Status != outbox.Withheld {
					t.Fatalf("a %s message (%s) reached the recipient during the block", m.Purpose, m.Status)
				}
			}
		})
	}
}

// TestWhy_StopIsTheSamePageWithOrWithoutAnAccountElsewhere: a number typed
// for someone's SMS codes is stopped by its recipient the same way whether
// the number is another account's confirmed phone or nobody's.
func TestWhy_StopIsTheSamePageWithOrWithoutAnAccountElsewhere(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	owner := h.browser("en")
	owner.signUp("owner@example.com", goodPassword)
	if r := owner.enrolPhone("090-4444-5555", "+819044445555"); r.status != http.StatusOK {
		t.Fatalf("phone: %d", r.status)
	}
	typist := h.browser("en")
	typist.signUp("typist@example.com", goodPassword)
	stop := func(number, typed string) (string, string) {
		t.Helper()
		r := typist.post("/account/two-step/phone", url.Values{"phone": {typed}})
		if r.status != http.StatusSeeOther {
			t.Fatalf("enrol %s: %d\n%s", typed, r.status, r.body)
		}
		m := h.newest(number, request.AddPhone)
		recipient := h.browser("en")
		page := recipient.get("/why/" + m.Reference)
		done := recipient.post("/why/"+m.Reference, url.Values{"code": {h.smsCodeFor(number)}})
		if done.status != http.StatusOK || !strings.Contains(done.body, `id="stopped"`) {
			t.Fatalf("stop %s: %d\n%s", number, done.status, done.body)
		}
		clean := func(s string) string {
			s = strings.ReplaceAll(s, m.Reference, "REF")
			return regexpTime.ReplaceAllString(s, "TIME")
		}
		return clean(page.body), clean(done.body)
	}
	ownedPage, ownedDone := stop("+819044445555", "090-4444-5555")
	h.app.SetClock(func() time.Time { return time.Now().Add(2 * time.Minute) })
	freePage, freeDone := stop("+819066667777", "090-6666-7777")
	if ownedPage != freePage || ownedDone != freeDone {
		t.Fatalf("the pages differ:\n%s\n---\n%s\n===\n%s\n---\n%s", ownedPage, freePage, ownedDone, freeDone)
	}
}

func between(s, from, to string) string {
	i := strings.Index(s, from)
	if i < 0 {
		return ""
	}
	s = s[i+len(from):]
	j := strings.Index(s, to)
	if j < 0 {
		return ""
	}
	return s[:j]
}

// regexpTime matches a time as the English pages write it.
var regexpTime = regexp.MustCompile(`\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2} \([A-Z]+\)`)

// TestMessages_CodesSayWhereToCheckThem: a code SMS names the site's
// address (with its port) and /why, to be typed; so does a code email. The
// autofill line does not count.
func TestMessages_CodesSayWhereToCheckThem(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ publicURL, want string }{{"", "127.0.0.1:8080/why"}, {"https://example.jp", "example.jp/why"}} {
		over := map[string]string{}
		if c.publicURL != "" {
			over["public_url"] = c.publicURL
			over["dev.public_url"] = "true"
		}
		h := newHarness(t, over)
		b := h.browser("ja")
		b.signUp("where@example.com", goodPassword)
		b.enrolPhone("090-1212-3434", "+819012123434")
		sms := h.newest("+819012123434", request.AddPhone)
		shown, err := h.app.Outbox.Reveal(sms)
		if err != nil {
			t.Fatal(err)
		}
		body, _, _ := strings.Cut(shown.Text, "\n\n@") // without the autofill line
		if !strings.Contains(body, c.want) || !strings.Contains(body, "直接入力") {
			t.Errorf("the SMS does not say where to check it (%s):\n%s", c.want, shown.Text)
		}
		mail := h.newest("where@example.com", request.ConfirmEmail)
		if !strings.Contains(mail.Text, c.want) || !strings.Contains(mail.Text, mail.Reference) {
			t.Errorf("the email does not say where to check it (%s):\n%s", c.want, mail.Text)
		}
	}
}

// TestNotMe_AdviceFitsTheAccountAndSupportIsShownOnlyWhenSet: after "this
// wasn't me" the next step names what this account has (SMS beside an
// app: drop SMS); "contact us" appears only with a configured support
// contact.
func TestNotMe_AdviceFitsTheAccountAndSupportIsShownOnlyWhenSet(t *testing.T) {
	t.Parallel()
	for _, support := range []string{"", "https://help.example.jp/"} {
		h := newHarness(t, map[string]string{"support.url": support})
		email := "advice@example.com"
		holder := h.browser("en")
		holder.signUp(email, goodPassword)
		holder.turnOnApp(t)
		holder.enrolPhone("090-5656-7878", "+819056567878")
		other := h.browser("en")
		other.post("/password/forgot", url.Values{"email": {email}})
		reset := h.newest(email, request.ResetPassword)
		r := holder.answer(reset.Reference, "not_me")
		if r.status != http.StatusOK {
			t.Fatalf("reset not me: %d\n%s", r.status, r.body)
		}
		if got := strings.Contains(r.body, `id="support"`); got != (support != "") || (support != "" && !strings.Contains(r.body, support)) {
			t.Errorf("support %q: shown %v\n%s", support, got, r.body)
		}
		if strings.Contains(strings.ToLower(r.body), "contact") && support == "" {
			t.Errorf("a page says to contact us without a contact:\n%s", r.body)
		}
		other.signInTo2ndStep(email, goodPassword)
		ws, _ := h.app.Web.Activity.Waiting(context.Background(), accountID(t, h, email), "")
		if len(ws) == 0 {
			t.Fatal("nothing waiting")
		}
		// The confirmation of that answer names the reset's reference
		// before its own, and links to the support page: still ours.
		done := h.newest(email, request.NotMeDone)
		body, _ := json.Marshal(map[string]string{"text": done.Text})
		if status, res := h.api("application/json", body, "en"); status != 200 || res.Verdict != "genuine" {
			t.Errorf("the checker on the not-me confirmation (support %q): %d %+v\n%s", support, status, res, done.Text)
		}
		r = holder.post("/account/activity/answer", url.Values{"attempt": {ws[0].AttemptID}, "answer": {"not_me"}})
		if r.status != http.StatusOK || !strings.Contains(r.body, `id="answer-advice"`) || !strings.Contains(r.body, "removing SMS makes it safer") {
			t.Fatalf("password known, not me: %d\n%s", r.status, r.body)
		}
	}
}

func accountID(t *testing.T, h *harness, email string) string {
	t.Helper()
	a, err := h.app.DB.AccountByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	return a.ID
}

// TestActivity_AnswersWasThisMe: rows from this browser and from a device
// never seen before are marked; the device's name is used; no place is
// claimed without a location database; a sign-in by app claims no code;
// "this wasn't me" is a button, and not offered on the current session.
func TestActivity_AnswersWasThisMe(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	email := "marks@example.com"
	holder := h.browser("en")
	holder.signUp(email, goodPassword)
	secret, _ := holder.turnOnApp(t)
	laptop := h.browser("en")
	c := laptop.signInTo2ndStep(email, goodPassword)
	if r := laptop.post("/signin/verify", url.Values{"c": {c}, "method": {"app"}, "code": {nowCode(t, secret, time.Now().Add(30*time.Second))}}); r.status != http.StatusSeeOther {
		t.Fatalf("app sign-in: %d\n%s", r.status, r.body)
	}
	// The holder names the laptop's device from the laptop.
	devs := laptop.get("/account/devices")
	id := between(devs.body, `name="device" value="`, `"`)
	if r := laptop.post("/account/devices/rename", url.Values{"device": {id}, "name": {"Work laptop"}}); r.status != http.StatusSeeOther {
		t.Fatalf("rename: %d", r.status)
	}
	stranger := h.browser("en")
	stranger.post("/signin", url.Values{"email": {email}, "password": {"wrong password entirely"}})

	page := laptop.get("/account/activity")
	rows := strings.Split(page.body, `<li class="message attempt"`)[1:]
	if len(rows) < 2 {
		t.Fatalf("%d rows:\n%s", len(rows), page.body)
	}
	// Newest first: the stranger's wrong password, the laptop's sign-in.
	wrong, mine := rows[0], rows[1]
	if !strings.Contains(wrong, `data-mark="new-device"`) || strings.Contains(wrong, `data-mark="this-device"`) {
		t.Errorf("the stranger's row is not marked as a first-time device:\n%s", wrong)
	}
	if !strings.Contains(mine, `data-mark="this-device"`) || !strings.Contains(mine, "Work laptop") {
		t.Errorf("the laptop's own row is not this device by its name:\n%s", mine)
	}
	if strings.Contains(mine, `value="not_me"`) {
		t.Errorf("this wasn't me offered on the current session:\n%s", mine)
	}
	if strings.Contains(mine, "Code sent because") || strings.Contains(mine, "Why a code was sent") || !strings.Contains(mine, "authenticator app") {
		t.Errorf("an app sign-in claims a code or hides its method:\n%s", mine)
	}
	if strings.Contains(page.body, "Place") || strings.Contains(page.body, "unknown") {
		t.Errorf("a place is claimed without a location database:\n%s", page.body)
	}
	if !strings.Contains(wrong, `<button type="submit" name="answer" value="not_me" class="secondary-button">`) {
		t.Errorf("this wasn't me is not a button:\n%s", wrong)
	}
}

// TestWaiting_TheHoldersOwnComebackIsNotPutToThem: a browser that typed
// the right password, gave up, and later finished a sign-in is the
// holder's: neither the account page nor the checkup asks about it. And
// "this was me" clears the checkup's question as it clears the account
// page's. (The third probe's D2 and D3.)
func TestWaiting_TheHoldersOwnComebackIsNotPutToThem(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withCheck(nil))
	email := "comeback@example.com"
	holder := h.browser("en")
	holder.signUp(email, goodPassword)

	laptop := h.browser("en")
	laptop.signInTo2ndStep(email, goodPassword) // gives up
	if page := holder.get("/account/security"); !strings.Contains(page.body, `data-todo="password_entered"`) {
		t.Fatalf("an unfinished right password is not on the checkup:\n%s", page.body)
	}
	c := laptop.signInTo2ndStep(email, goodPassword) // comes back, finishes
	if r := laptop.post("/signin/verify", url.Values{"c": {c}, "method": {"email"}, "code": {h.codeFor(email)}}); r.status != http.StatusSeeOther {
		t.Fatalf("second sign-in: %d", r.status)
	}
	for who, b := range map[string]*browser{"holder": holder, "laptop": laptop} {
		if page := b.get("/account"); strings.Contains(page.body, `id="waiting"`) {
			t.Errorf("%s: the laptop's own earlier attempt is put to the holder:\n%s", who, page.body)
		}
		if page := b.get("/account/security"); strings.Contains(page.body, `data-todo="password_entered"`) {
			t.Errorf("%s: the checkup asks about the laptop's own earlier attempt", who)
		}
	}

	stranger := h.browser("en")
	stranger.signInTo2ndStep(email, goodPassword)
	page := holder.get("/account/security")
	attempt := between(page.body, `name="attempt" value="`, `"`)
	if attempt == "" {
		t.Fatalf("no answer form for the stranger's attempt:\n%s", page.body)
	}
	holder.post("/account/activity/answer", url.Values{"attempt": {attempt}, "answer": {"me"}, "back": {"/account/security"}})
	if page := holder.get("/account/security"); strings.Contains(page.body, `data-todo="password_entered"`) {
		t.Error("the checkup still asks after \"this was me\"")
	}
}

// TestWhy_TheSenderDoesNotLearnOfTheStop: whoever typed a number sees their
// own request as before after its recipient stopped it — open, not
// "yours, used" — on the story and in the message center; a repeated stop
// renews nothing; a locked code says so. (The third probe's D1, D5, D6.)
func TestWhy_TheSenderDoesNotLearnOfTheStop(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	typist := h.browser("en")
	typist.signUp("typist2@example.com", goodPassword)
	const number = "+819088887777"
	if r := typist.post("/account/two-step/phone", url.Values{"phone": {"090-8888-7777"}}); r.status != http.StatusSeeOther {
		t.Fatalf("enrol: %d", r.status)
	}
	m := h.newest(number, request.AddPhone)
	before := typist.get("/why/" + m.Reference)
	recipient := h.browser("en")
	if r := recipient.post("/why/"+m.Reference, url.Values{"code": {h.smsCodeFor(number)}}); r.status != http.StatusOK {
		t.Fatalf("stop: %d", r.status)
	}
	after := typist.get("/why/" + m.Reference)
	clean := func(s string) string { return regexpTime.ReplaceAllString(s, "TIME") }
	if clean(after.body) != clean(before.body) || !strings.Contains(after.body, `id="answer-form"`) {
		t.Errorf("the typist's story changed after the stop:\n%s\n---\n%s", before.body, after.body)
	}
	center := typist.get("/account/messages").body
	at := strings.Index(center, m.Reference)
	row := center[strings.LastIndex(center[:at], "<li"):]
	if end := strings.Index(row, "</li>"); end > 0 {
		row = row[:end]
	}
	if strings.Contains(row, `class="cause own"`) || !strings.Contains(row, `value="not_me"`) {
		t.Errorf("the typist's message center row changed after the stop:\n%s", row)
	}
	// A second post, with any code, is told it was stopped already (and
	// renews nothing: StopUnasked returns before the block).
	if r := h.browser("en").post("/why/"+m.Reference, url.Values{"code": {"000001"}}); r.status != http.StatusOK || !strings.Contains(r.body, "already stopped") {
		t.Fatalf("stopping again: %d\n%s", r.status, r.body)
	}

	// A code locked by wrong entries says so, not "not this code".
	typist.post("/account/two-step/phone", url.Values{"phone": {"090-8888-6666"}})
	m2 := h.newest("+819088886666", request.AddPhone)
	right := h.smsCodeFor("+819088886666")
	for i := range 5 {
		wrong := fmt.Sprintf("%06d", i)
		if wrong == right {
			continue
		}
		recipient.post("/why/"+m2.Reference, url.Values{"code": {wrong}})
	}
	h.app.SetClock(func() time.Time { return time.Now().Add(2 * time.Hour) })
	if r := recipient.post("/why/"+m2.Reference, url.Values{"code": {right}}); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "wrongly too many times") {
		t.Fatalf("a locked code: %d\n%s", r.status, r.body)
	}
}

// TestFormErrors_ACapabilitysFieldErrorIsShownBesideItsField: the error
// mapper knows which field a capability's error is about (the same number,
// the same address), and the form shows it there with 422 — no handler
// switch per error.
func TestFormErrors_ACapabilitysFieldErrorIsShownBesideItsField(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	b := h.browser("en")
	b.signUp("same@example.com", goodPassword)
	b.enrolPhone("090-3434-5656", "+819034345656")
	for _, c := range []struct{ path, field, value, says string }{
		{"/account/two-step/phone", "phone", "090-3434-5656", "This is already your number for codes."},
		{"/account/email", "email", "same@example.com", "This is your address already."},
	} {
		r := b.post(c.path, url.Values{c.field: {c.value}})
		if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, `<p class="field-error" id="e-`+c.field+`">`+c.says) {
			t.Errorf("%s %s=%s: %d\n%s", c.path, c.field, c.value, r.status, r.body)
		}
	}
}
