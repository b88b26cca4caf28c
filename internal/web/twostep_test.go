package web_test

import (
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/request"
	"gatehouse/internal/totp"
)

var (
	uriInPage = regexp.MustCompile(`id="otpauth-uri" class="uri">([^<]+)<`)
	enrolment = regexp.MustCompile(`name="e" value="([^"]+)"`)
	backupIn  = regexp.MustCompile(`class="backup-code">([0-9A-Z-]+)<`)
)

// enrolApp opens the app enrolment page and returns the enrolment id and
// the secret of its otpauth:// URI (what an app would scan).
func (b *browser) enrolApp() (e, secret string) {
	b.h.t.Helper()
	r := b.get("/account/two-step/app")
	m, em := uriInPage.FindStringSubmatch(r.body), enrolment.FindStringSubmatch(r.body)
	if r.status != 200 || m == nil || em == nil || !strings.Contains(r.body, "<svg class=\"qr\"") {
		b.h.t.Fatalf("app page: %d\n%s", r.status, r.body)
	}
	u, err := url.Parse(html.UnescapeString(m[1]))
	if err != nil || u.Scheme != "otpauth" || u.Host != "totp" {
		b.h.t.Fatalf("otpauth URI %q: %v", m[1], err)
	}
	return em[1], u.Query().Get("secret")
}

func nowCode(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.Code(secret, totp.Step(at))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestTwoStep_FirstAppTurnsItOnAndShowsBackupCodesOnce_V6_6_1: the
// settings page is off; the app page shows the otpauth:// URI as text and a
// QR code; a wrong first code keeps the enrolment pending; the right one
// turns two-step verification on (no separate switch), shows ten backup
// codes once, and tells the holder by email. The enrolment cannot be
// confirmed twice, nor by another account.
func TestTwoStep_FirstAppTurnsItOnAndShowsBackupCodesOnce_V6_6_1(t *testing.T) {
	t.Parallel()
	onBothDatabases(t, func(t *testing.T, db map[string]string) {
		h := newHarness(t, db)
		const email = "apps@example.com"
		b := h.browser("en")
		b.signUp(email, goodPassword)
		if r := b.get("/account/two-step"); r.status != 200 || !strings.Contains(r.body, "Two-step verification is off") ||
			!strings.Contains(r.body, "weaker than an app or a passkey") {
			t.Fatalf("settings while off: %d\n%s", r.status, r.body)
		}
		e, secret := b.enrolApp()
		if r := b.post("/account/two-step/app", url.Values{"e": {e}, "name": {"Phone"}, "code": {"12345"}}); r.status != 422 {
			t.Fatalf("malformed code: %d", r.status)
		}
		wrong := nowCode(t, secret, time.Now().Add(-10*time.Minute))
		if r := b.post("/account/two-step/app", url.Values{"e": {e}, "name": {"Phone"}, "code": {wrong}}); r.status != 422 || !strings.Contains(r.body, "not the one the app shows now") {
			t.Fatalf("wrong first code: %d\n%s", r.status, r.body)
		}
		if r := b.get("/account/two-step"); !strings.Contains(r.body, "is off") {
			t.Fatal("a wrong first code turned two-step verification on")
		}
		other := h.browser("en")
		other.signUp("other@example.com", goodPassword)
		if r := other.post("/account/two-step/app", url.Values{"e": {e}, "name": {"Mine"}, "code": {nowCode(t, secret, time.Now())}}); r.status != 404 {
			t.Fatalf("another account confirming the enrolment: %d", r.status)
		}
		r := b.post("/account/two-step/app", url.Values{"e": {e}, "name": {"Phone"}, "code": {nowCode(t, secret, time.Now())}})
		codes := backupIn.FindAllStringSubmatch(r.body, -1)
		if r.status != 200 || len(codes) != 10 {
			t.Fatalf("first app: %d, %d backup codes\n%s", r.status, len(codes), r.body)
		}
		if r := b.post("/account/two-step/app", url.Values{"e": {e}, "name": {"Phone"}, "code": {nowCode(t, secret, time.Now())}}); r.status != 404 {
			t.Fatalf("the enrolment confirmed twice: %d", r.status)
		}
		s := b.get("/account/two-step")
		if !strings.Contains(s.body, "Two-step verification is on") || !strings.Contains(s.body, "<strong>Phone</strong>") ||
			!strings.Contains(s.body, "10 backup codes left") || strings.Contains(s.body, codes[0][1]) {
			t.Fatalf("settings while on:\n%s", s.body)
		}
		ms := h.messagesTo(email)
		if ms[0].Purpose != request.TwoStepOn || !strings.Contains(ms[0].Text, "Two-step verification was turned on") {
			t.Fatalf("the holder was not told: %s\n%s", ms[0].Purpose, ms[0].Text)
		}
		// A second app: no new backup codes, the holder told of the addition.
		e2, secret2 := b.enrolApp()
		at := time.Now().Add(totp.Period * time.Second) // the current step was used by the first app
		h.app.SetClock(func() time.Time { return at })
		if r := b.post("/account/two-step/app", url.Values{"e": {e2}, "name": {"Tablet"}, "code": {nowCode(t, secret2, at)}}); r.status != 303 {
			t.Fatalf("second app: %d\n%s", r.status, r.body)
		}
		if ms := h.messagesTo(email); ms[0].Purpose != request.MethodAdded {
			t.Fatalf("second app's notice: %s", ms[0].Purpose)
		}
		if s := b.get("/account/two-step"); !strings.Contains(s.body, "<strong>Tablet</strong>") || !strings.Contains(s.body, "10 backup codes left") {
			t.Fatalf("after the second app:\n%s", s.body)
		}
	})
}

// turnOnApp enrols an app for the signed-in browser and returns its secret
// and the backup codes.
func (b *browser) turnOnApp(t *testing.T) (string, []string) {
	t.Helper()
	e, secret := b.enrolApp()
	r := b.post("/account/two-step/app", url.Values{"e": {e}, "name": {"Phone"}, "code": {nowCode(t, secret, time.Now())}})
	var codes []string
	for _, m := range backupIn.FindAllStringSubmatch(r.body, -1) {
		codes = append(codes, m[1])
	}
	if r.status != 200 || len(codes) != 10 {
		t.Fatalf("turning on: %d\n%s", r.status, r.body)
	}
	return secret, codes
}

// TestTwoStep_SignInAsksForTheAppOrABackupCode_V6_4_3: with two-step
// verification on, the right password — even on a known browser — leads
// to the app's code, and nothing is sent; the app's code signs in once; a
// backup code ("try another way") signs in once and the holder is told;
// wrong answers count towards the limit.
func TestTwoStep_SignInAsksForTheAppOrABackupCode_V6_4_3(t *testing.T) {
	t.Parallel()
	onBothDatabases(t, func(t *testing.T, db map[string]string) {
		h := newHarness(t, withCheck(db))
		const email = "second@example.com"
		b := h.browser("en")
		b.signUp(email, goodPassword)
		secret, backups := b.turnOnApp(t)
		sent := len(h.messagesTo(email))
		b.post("/signout", url.Values{})

		// The known browser: still asked for the app, and nothing is sent.
		c := b.signInTo2ndStep(email, goodPassword)
		if bp := b.get("/signin/verify?c=" + c + "&method=backup"); strings.Contains(bp.body, `maxlength="9"`) || strings.Contains(bp.body, `inputmode="numeric"`) {
			t.Fatalf("the backup code input is cut to a six-digit code's length:\n%s", bp.body)
		}
		page := b.get("/signin/verify?c=" + c)
		if !strings.Contains(page.body, "authenticator app") || !strings.Contains(page.body, "method=backup") ||
			strings.Contains(page.body, "/signin/verify/resend") {
			t.Fatalf("app step page:\n%s", page.body)
		}
		if n := len(h.messagesTo(email)); n != sent {
			t.Fatalf("%d messages sent for an app step", n-sent)
		}
		// The step used when turning on is spent; the next one works once.
		at := time.Now().Add(totp.Period * time.Second)
		h.app.SetClock(func() time.Time { return at })
		used := nowCode(t, secret, time.Now())
		if r := b.post("/signin/verify", url.Values{"c": {c}, "method": {"app"}, "code": {used}}); r.status != 422 {
			t.Fatalf("the enrolment's code again: %d", r.status)
		}
		code := nowCode(t, secret, at)
		if r := b.post("/signin/verify", url.Values{"c": {c}, "method": {"app"}, "code": {code}}); r.status != 303 || r.location != "/account" {
			t.Fatalf("app code: %d %q\n%s", r.status, r.location, r.body)
		}
		b.post("/signout", url.Values{})
		c = b.signInTo2ndStep(email, goodPassword)
		if r := b.post("/signin/verify", url.Values{"c": {c}, "method": {"app"}, "code": {code}}); r.status != 422 {
			t.Fatalf("the same app code for a new sign-in: %d", r.status)
		}

		// Try another way: a backup code, once; the holder is told.
		away := h.browser("ja")
		c2 := away.signInTo2ndStep(email, goodPassword)
		typed := strings.ToLower(strings.ReplaceAll(backups[0], "-", " "))
		if r := away.post("/signin/verify", url.Values{"c": {c2}, "method": {"backup"}, "code": {typed}}); r.status != 303 || r.location != "/account" {
			t.Fatalf("backup code: %d %q\n%s", r.status, r.location, r.body)
		}
		// The notice, and the new-device alert after it (this browser had
		// not signed in before).
		ms := h.messagesTo(email)[:2]
		if ms[0].Purpose != request.BackupUsed {
			ms[0], ms[1] = ms[1], ms[0] // sent together: either may be listed first
		}
		if ms[0].Purpose != request.BackupUsed || ms[1].Purpose != request.NewDevice || !strings.Contains(ms[0].Text, "9") {
			t.Fatalf("backup-use notice: %s, %s\n%s", ms[0].Purpose, ms[1].Purpose, ms[0].Text)
		}
		other := h.browser("en")
		c3 := other.signInTo2ndStep(email, goodPassword)
		if r := other.post("/signin/verify", url.Values{"c": {c3}, "method": {"backup"}, "code": {backups[0]}}); r.status != 422 {
			t.Fatalf("a used backup code: %d", r.status)
		}
		// The emailed-code method cannot pass an app step.
		if r := other.post("/signin/verify", url.Values{"c": {c3}, "method": {"email"}, "code": {"123456"}}); r.status != 422 {
			t.Fatalf("an email code for an app step: %d", r.status)
		}
		if s := away.get("/account/two-step"); s.status != 200 || !strings.Contains(s.body, "バックアップコードは残り9個") {
			t.Fatalf("backup codes left after one use:\n%s", s.body)
		}
	})
}
