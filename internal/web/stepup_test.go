package web_test

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/request"
	"gatehouse/internal/signin"
	"gatehouse/internal/totp"
)

var appID = regexp.MustCompile(`name="app" value="([^"]+)"`)

// TestStepUp_SensitiveChangesAskAgainAfterTenMinutes_V7_5_3: changing the
// password needs a proof of identity within the last 10 minutes; after
// that, a re-verification (password, recorded like a sign-in attempt)
// brings the holder back to the page, never to another site.
func TestStepUp_SensitiveChangesAskAgainAfterTenMinutes_V7_5_3(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	const email = "stepup@example.com"
	b := h.browser("en")
	b.signUp(email, goodPassword)
	if r := b.get("/account/password"); r.status != 200 {
		t.Fatalf("right after signing in: %d", r.status)
	}
	later := time.Now().Add(11 * time.Minute)
	h.app.SetClock(func() time.Time { return later })
	r := b.get("/account/password")
	if r.status != 303 || r.location != "/account/reverify?next=%2Faccount%2Fpassword" {
		t.Fatalf("after 11 minutes: %d %q", r.status, r.location)
	}
	if r := b.post("/account/password", url.Values{"current_password": {goodPassword}, "new_password": {"another long enough phrase"}}); r.status != 303 || !strings.HasPrefix(r.location, "/account/reverify") {
		t.Fatalf("a change posted without re-verifying: %d %q", r.status, r.location)
	}
	if r := b.post("/account/reverify", url.Values{"next": {"/account/password"}, "password": {"not the password at all"}}); r.status != 422 {
		t.Fatalf("wrong password: %d", r.status)
	}
	if r := b.post("/account/reverify", url.Values{"next": {"//evil.example/x"}, "password": {goodPassword}}); r.status != 303 || r.location != "/account" {
		t.Fatalf("re-verified with a foreign next: %d %q", r.status, r.location)
	}
	if r := b.get("/account/password"); r.status != 200 {
		t.Fatalf("after re-verifying: %d", r.status)
	}
	a, _ := h.app.DB.AccountByEmail(context.Background(), email)
	atts, _ := h.app.DB.AttemptsByAccount(context.Background(), a.ID, 10)
	seen := map[signin.Outcome]int{}
	for _, at := range atts {
		if at.Kind == signin.StepUpKind {
			seen[at.Outcome]++
		}
	}
	if seen[signin.Succeeded] != 1 || seen[signin.WrongPassword] != 1 {
		t.Fatalf("step-up checks recorded: %v, want one right and one wrong", seen)
	}
}

// TestStepUp_TurningTwoStepOffNeedsTheAppAndTellsTheHolder_V6_4_2: with
// two-step verification on, re-verifying needs the app's code too; then
// new backup codes replace the old, removing the last app turns it off,
// and every change is mailed to the holder.
func TestStepUp_TurningTwoStepOffNeedsTheAppAndTellsTheHolder_V6_4_2(t *testing.T) {
	t.Parallel()
	onBothDatabases(t, func(t *testing.T, db map[string]string) {
		h := newHarness(t, db)
		const email = "off@example.com"
		b := h.browser("en")
		b.signUp(email, goodPassword)
		secret, old := b.turnOnApp(t)

		// Recent enough: new backup codes at once; the old set dies.
		r := b.post("/account/two-step/backup", url.Values{})
		fresh := backupIn.FindAllStringSubmatch(r.body, -1)
		if r.status != 200 || len(fresh) != 10 || fresh[0][1] == old[0] {
			t.Fatalf("new backup codes: %d, %d codes", r.status, len(fresh))
		}
		if ms := h.messagesTo(email); ms[0].Purpose != request.BackupRenewed {
			t.Fatalf("renewal notice: %s", ms[0].Purpose)
		}

		later := time.Now().Add(11 * time.Minute)
		h.app.SetClock(func() time.Time { return later })
		page := b.get("/account/two-step")
		id := appID.FindStringSubmatch(page.body)
		if id == nil {
			t.Fatalf("no remove button:\n%s", page.body)
		}
		r = b.post("/account/two-step/app/remove", url.Values{"app": {id[1]}})
		// Back on the page, the holder is asked to press the button again.
		if r.status != 303 || r.location != "/account/reverify?next=%2Faccount%2Ftwo-step%3Fnotice%3Dreverified_again" {
			t.Fatalf("removing without re-verifying: %d %q", r.status, r.location)
		}
		if r := b.post("/account/reverify", url.Values{"next": {"/account/two-step"}, "password": {goodPassword}}); r.status != 422 {
			t.Fatalf("password alone with two-step on: %d", r.status)
		}
		code, _ := totp.Code(secret, totp.Step(later))
		if r := b.post("/account/reverify", url.Values{"next": {"/account/two-step"}, "password": {goodPassword}, "method": {"app"}, "code": {code}}); r.status != 303 || r.location != "/account/two-step" {
			t.Fatalf("re-verified with the app: %d %q\n%s", r.status, r.location, r.body)
		}
		if r := b.post("/account/two-step/app/remove", url.Values{"app": {id[1]}}); r.status != 303 || !strings.Contains(r.location, "two_step_off") {
			t.Fatalf("removing the last app: %d %q", r.status, r.location)
		}
		if s := b.get("/account/two-step"); !strings.Contains(s.body, "Two-step verification is off") {
			t.Fatalf("still on after removing the last app:\n%s", s.body)
		}
		if ms := h.messagesTo(email); ms[0].Purpose != request.TwoStepOff {
			t.Fatalf("turn-off notice: %s", ms[0].Purpose)
		}
		// The password alone signs in again; the old backup codes are gone.
		b.post("/signout", url.Values{})
		if r := b.post("/signin", url.Values{"email": {email}, "password": {goodPassword}}); r.status != 303 || r.location != "/account" {
			t.Fatalf("sign-in after turning off: %d %q", r.status, r.location)
		}
		a, _ := h.app.DB.AccountByEmail(context.Background(), email)
		if n, _ := h.app.DB.BackupCodesLeft(context.Background(), a.ID); n != 0 {
			t.Fatalf("%d backup codes left after turning off", n)
		}
	})
}
