package web_test

import (
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/account"
	"gatehouse/internal/geo/geotest"
	"gatehouse/internal/pgtest"
	"gatehouse/internal/request"
)

// withPlaces configures an IP geolocation database (built here, in the
// shape given) and trusts the loopback proxy's X-Forwarded-For, the way an
// operator behind a proxy runs it.
func withPlaces(t *testing.T, shape geotest.Shape, db map[string]string) map[string]string {
	path := filepath.Join(t.TempDir(), "places.mmdb")
	tokyo := geotest.Record{Country: "JP", City: "Tokyo", CityJA: "東京"}
	if shape == geotest.DBIP {
		tokyo = geotest.Record{Country: "JP"} // the country file: {country_code} only
	}
	geotest.Write(t, path, shape, map[string]geotest.Record{
		"203.0.113.0/24":  tokyo,
		"198.51.100.0/24": {Country: "DE"},
	})
	out := map[string]string{"geoip.database": path, "trusted_proxies": "127.0.0.0/8"}
	for k, v := range db {
		out[k] = v
	}
	return out
}

func count(h *harness, to string, p request.Purpose) int {
	n := 0
	for _, m := range h.messagesTo(to) {
		if m.Purpose == p {
			n++
		}
	}
	return n
}

// TestAlerts_NewDeviceOncePerDeviceNeverForAKnownOne: a sign-in from a
// device the account had not used sends the alert (email by default), with
// the device and the approximate place of its network; the same device
// signing in again does not; another device does. (NIST SP 800-63B-4
// §4.1.x notification of events; ASVS v5.0.0-6.3.5 (notify of suspicious
// authentication))
func TestAlerts_NewDeviceOncePerDeviceNeverForAKnownOne_V6_3_5(t *testing.T) {
	t.Parallel()
	for _, shape := range []geotest.Shape{geotest.MaxMind, geotest.DBIP} {
		h := newHarness(t, withPlaces(t, shape, nil))
		email := "alert@example.com"
		holder := h.browser("en")
		holder.forwardedFor = "203.0.113.7"
		holder.signUp(email, goodPassword)
		if n := count(h, email, request.NewDevice); n != 0 {
			t.Fatalf("creating the account sent %d alerts", n)
		}
		laptop := h.browser("en")
		laptop.forwardedFor = "203.0.113.8"
		for i := range 2 {
			if r := laptop.post("/signin", url.Values{"email": {email}, "password": {goodPassword}}); r.status != http.StatusSeeOther || r.location != "/account" {
				t.Fatalf("sign-in %d: %d %s", i, r.status, r.location)
			}
			laptop.post("/signout", nil)
		}
		if n := count(h, email, request.NewDevice); n != 1 {
			t.Fatalf("%d new-device alerts for one new device signing in twice", n)
		}
		m := h.newest(email, request.NewDevice)
		wantPlace := "Tokyo, Japan"
		if shape == geotest.DBIP {
			wantPlace = "Japan" // the DB-IP record written here has no city
		}
		if !strings.Contains(m.Text, "Chrome 156 on Linux") || !strings.Contains(m.Text, "203.0.113.8") || !strings.Contains(m.Text, wantPlace) {
			t.Fatalf("alert (%v):\n%s", shape, m.Text)
		}
		phone := h.browser("ja")
		phone.forwardedFor = "198.51.100.4"
		phone.post("/signin", url.Values{"email": {email}, "password": {goodPassword}})
		if n := count(h, email, request.NewDevice); n != 2 {
			t.Fatalf("a second new device: %d alerts", n)
		}
		// The activity page shows the places, in the page's language.
		act := holder.get("/account/activity")
		if !strings.Contains(act.body, wantPlace) || !strings.Contains(act.body, "Germany") {
			t.Fatalf("activity:\n%s", act.body)
		}
	}
}

// TestSecurityNotices_GoByEmailAndBySMSToAConfirmedPhone: a change to the
// account's security is told on every channel the holder has.
func TestSecurityNotices_GoByEmailAndBySMSToAConfirmedPhone(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	email := "notices@example.com"
	b := h.browser("ja")
	b.signUp(email, goodPassword)
	if r := b.enrolPhone("090-5555-6666", "+819055556666"); r.status != http.StatusOK {
		t.Fatalf("phone: %d", r.status)
	}
	if count(h, email, request.TwoStepOn) != 1 || count(h, "+819055556666", request.TwoStepOn) != 1 {
		t.Fatalf("two-step on: %d by email, %d by SMS", count(h, email, request.TwoStepOn), count(h, "+819055556666", request.TwoStepOn))
	}
	r := b.post("/account/password", url.Values{"current_password": {goodPassword}, "new_password": {"another long passphrase 7"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("password change: %d\n%s", r.status, r.body)
	}
	sms := h.newest("+819055556666", request.PasswordChanged)
	if !strings.Contains(sms.Text, "パスワードが変更されました") || sms.Channel != request.SMS {
		t.Fatalf("SMS notice:\n%s", sms.Text)
	}
	h.newest(email, request.PasswordChanged)
}

// TestCheckup_ToDosAppearAndDisappearWithTheAccountsState: each to-do
// follows the state it is about, and its button fixes it.
func TestCheckup_ToDosAppearAndDisappearWithTheAccountsState(t *testing.T) {
	t.Parallel()
	onBothDatabases(t, func(t *testing.T, db map[string]string) {
		h := newHarness(t, db)
		b := h.browser("en")
		b.signUp("checkup@example.com", goodPassword)
		has := func(id string) bool {
			t.Helper()
			p := b.get("/account/security")
			if p.status != 200 {
				t.Fatalf("checkup: %d", p.status)
			}
			return strings.Contains(p.body, `data-todo="`+id+`"`)
		}
		page := b.get("/account/security")
		if !strings.Contains(page.body, `id="masked-email">`+account.MaskEmail("checkup@example.com")+"<") {
			t.Fatalf("the masked address is missing:\n%s", page.body)
		}
		if strings.Contains(page.body, "checkup@example.com") {
			t.Fatal("the checkup shows the whole address")
		}
		if !has("two_step_off") || has("alerts_off") || has("sms_only") {
			t.Fatalf("a new account's to-dos:\n%s", page.body)
		}
		// Alerts off (the settings form without email), then the to-do's button.
		if r := b.post("/account/alerts", url.Values{"form": {"alerts"}}); r.status != http.StatusSeeOther {
			t.Fatalf("alerts off: %d", r.status)
		}
		if !has("alerts_off") {
			t.Fatal("alerts off is not a to-do")
		}
		if got := h.newest("checkup@example.com", request.AlertsOff); !strings.Contains(got.Text, "no longer tell you") {
			t.Fatalf("turning alerts off is not told:\n%s", got.Text)
		}
		if r := b.post("/account/alerts", url.Values{"email": {"1"}}); r.status != http.StatusSeeOther || has("alerts_off") {
			t.Fatalf("the to-do's button: %d", r.status)
		}
		// SMS alerts need a confirmed phone: a clear error.
		if r := b.post("/account/alerts", url.Values{"form": {"alerts"}, "email": {"1"}, "sms": {"1"}}); r.status != http.StatusUnprocessableEntity ||
			!strings.Contains(r.body, "Confirm a phone number first") {
			t.Fatalf("SMS alerts without a phone: %d\n%s", r.status, r.body)
		}
		// SMS as the only second step.
		if r := b.enrolPhone("090-7777-8888", "+819077778888"); r.status != http.StatusOK {
			t.Fatalf("phone: %d", r.status)
		}
		if has("two_step_off") || !has("sms_only") || has("no_backup") {
			t.Fatal("after adding the phone: wrong to-dos")
		}
		// A second device signed in recently is a to-do until it is named.
		other := h.browser("en")
		c := other.signInTo2ndStep("checkup@example.com", goodPassword)
		other.post("/signin/verify", url.Values{"c": {c}, "method": {"sms"}, "code": {h.smsCodeFor("+819077778888")}})
		if !has("unknown_devices") {
			t.Fatal("a new device is not a to-do")
		}
		devs := b.get("/account/devices")
		if strings.Count(devs.body, `class="device"`) != 2 {
			t.Fatalf("devices:\n%s", devs.body)
		}
		id := otherDevice(t, devs.body)
		if r := b.post("/account/devices/rename", url.Values{"device": {id}, "name": {"仕事用ノート"}}); r.status != http.StatusSeeOther {
			t.Fatalf("rename: %d\n%s", r.status, r.body)
		}
		if has("unknown_devices") || !strings.Contains(b.get("/account/devices").body, "仕事用ノート") {
			t.Fatal("the named device is still a to-do, or its name is not shown")
		}
		if r := b.post("/account/devices/rename", url.Values{"device": {id}, "name": {strings.Repeat("x", 61)}}); r.status != http.StatusUnprocessableEntity {
			t.Fatalf("a too-long name: %d", r.status)
		}
		if r := b.post("/account/devices/rename", url.Values{"device": {"not-a-device-of-mine"}, "name": {"mine now"}}); r.status != http.StatusNotFound {
			t.Fatalf("renaming a device the account never used: %d", r.status)
		}
		// Sign out everywhere except here: the other device is out, this one stays.
		if r := b.post("/account/devices/signout-others", nil); r.status != http.StatusSeeOther {
			t.Fatalf("sign out others: %d", r.status)
		}
		if r := other.get("/account"); r.status != http.StatusSeeOther {
			t.Fatalf("the other device is still signed in: %d", r.status)
		}
		if r := b.get("/account"); r.status != 200 {
			t.Fatalf("this device was signed out: %d", r.status)
		}

		// A right password from a new device that went no further is a
		// to-do until the holder says it wasn't them.
		stranger := h.browser("en")
		stranger.signInTo2ndStep("checkup@example.com", goodPassword)
		if !has("password_entered") {
			t.Fatal("an unfinished sign-in with the right password is not a to-do")
		}
		ids := regexp.MustCompile(`data-attempt="([^"]+)"`).FindStringSubmatch(b.get("/account/activity").body)
		if r := b.post("/account/activity/answer", url.Values{"attempt": {ids[1]}, "answer": {"not_me"}}); r.status != 200 {
			t.Fatalf("answer: %d", r.status)
		}
		// Signed out by the answer: sign in again (SMS), set a new password.
		c0 := challenge(t, b.post("/signin", url.Values{"email": {"checkup@example.com"}, "password": {goodPassword}}).location)
		b.post("/signin/verify", url.Values{"c": {c0}, "method": {"sms"}, "code": {h.smsCodeFor("+819077778888")}})
		if r := b.post("/account/password", url.Values{"current_password": {goodPassword}, "new_password": {"the holder's fresh passphrase"}}); r.status != http.StatusSeeOther {
			t.Fatalf("new password: %d\n%s", r.status, r.body)
		}
		if has("password_entered") || has("password_compromised") {
			t.Fatal("the disowned entry, or the compromised password, is still a to-do")
		}
	})
}

// otherDevice returns the id of the first device on the devices page that
// is not this one.
func otherDevice(t *testing.T, body string) string {
	t.Helper()
	for _, part := range strings.Split(body, `<li class="device" data-device="`)[1:] {
		id, rest, _ := strings.Cut(part, `"`)
		head, _, _ := strings.Cut(rest, "</h2>")
		if !strings.Contains(head, "(this device)") {
			return id
		}
	}
	t.Fatalf("no other device:\n%s", body)
	return ""
}

// TestMultiNode_NotMeAndSignOutEverywhereReachTheOtherNode: two nodes on
// one PostgreSQL database, each caching session checks. A session in use on
// node B ends there as soon as the holder, on node A, answers "this
// wasn't me" (or signs out everywhere): the revocation is a database
// write whose notification evicts B's cached copy. (ASVS v5.0.0-7.4.1,
// 7.5.2)
func TestMultiNode_NotMeAndSignOutEverywhereReachTheOtherNode_V7_4_1(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewDatabase(t)
	secrets := filepath.Join(t.TempDir(), "secrets.json")
	cfg := withCheck(map[string]string{"database": dbURL, "secrets_file": secrets, "session.cache_ttl": "1m"})
	a := newHarness(t, cfg)
	b := newHarness(t, cfg)

	holder := a.browser("en")
	email := "nodes@example.com"
	holder.signUp(email, goodPassword)

	// Someone else's browser is signed in, using node B (its cache warm).
	other := a.browser("en")
	c := other.signInTo2ndStep(email, goodPassword)
	if r := other.post("/signin/verify", url.Values{"c": {c}, "code": {a.codeFor(email)}}); r.status != http.StatusSeeOther {
		t.Fatalf("other sign-in: %d", r.status)
	}
	onB := func(br *browser) int {
		req, _ := http.NewRequest("GET", b.base+"/account", nil)
		return br.do(req).status
	}
	if s := onB(other); s != 200 {
		t.Fatalf("the other session on node B: %d", s)
	}
	// A third sign-in, pending, then the holder's answer on node A.
	third := a.browser("en")
	third.signInTo2ndStep(email, goodPassword)
	m := a.newest(email, request.SecondStep)
	if r := holder.answer(m.Reference, "not_me"); r.status != 200 {
		t.Fatalf("answer: %d\n%s", r.status, r.body)
	}
	deadline := time.Now().Add(5 * time.Second)
	for onB(other) == 200 {
		if time.Now().After(deadline) {
			t.Fatal("node B still honours a session signed out on node A")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestPlaces_DBIPIsCreditedOnThePagesThatShowItsPlaces: DB-IP Lite is
// CC BY 4.0.
func TestPlaces_DBIPIsCreditedOnThePagesThatShowItsPlaces(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withPlaces(t, geotest.DBIP, nil))
	b := h.browser("en")
	b.signUp("credit@example.com", goodPassword)
	if p := b.get("/account/activity"); !strings.Contains(p.body, "IP geolocation by DB-IP") {
		t.Fatalf("no credit:\n%s", p.body)
	}
	m := newHarness(t, withPlaces(t, geotest.MaxMind, nil))
	c := m.browser("en")
	c.signUp("credit@example.com", goodPassword)
	if p := c.get("/account/activity"); strings.Contains(p.body, "DB-IP") {
		t.Fatal("a MaxMind database credited to DB-IP")
	}
}
