package web_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"gatehouse/internal/signin"
)

// TestLanguageSwitch_NoOpenRedirect_V3_7_2: the probe's target
// "/%09/evil.example/" came back as Location "/<TAB>/evil.example/", which
// browsers follow off-site.
func TestLanguageSwitch_NoOpenRedirect_V3_7_2(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	b := h.browser("en")
	for _, next := range []string{"/%09/evil.example/", "//evil.example/", "/%5Cevil.example", "https://evil.example/", "/%0d%0a/evil.example", "/.//evil.example"} {
		r := b.get("/lang?to=ja&next=" + next)
		if r.status != 303 || r.location != "/" {
			t.Errorf("next=%s: %d Location %q, want /", next, r.status, r.location)
		}
	}
	if r := b.get("/lang?to=ja&next=%2Fsignup%2Fconfirm%3Fc%3Dabc"); r.location != "/signup/confirm?c=abc" {
		t.Errorf("a local target: %q", r.location)
	}
}

// TestSignupThenSignin_PendingAddressLooksUnknown_V6_3_8: signing up with a
// password of one's choice and then signing in with it must not tell a
// fresh address (pending sign-up) from one with an account.
func TestSignupThenSignin_PendingAddressLooksUnknown_V6_3_8(t *testing.T) {
	t.Parallel()
	onBothDatabases(t, func(t *testing.T, db map[string]string) {
		h := newHarness(t, db)
		h.browser("en").signUp("taken@example.com", goodPassword)
		answer := func(email string) (int, string) {
			b := h.browser("en")
			b.post("/signup", url.Values{"email": {email}, "password": {"probe's own phrase"}})
			before := h.app.Pool.Hashes()
			r := b.post("/signin", url.Values{"email": {email}, "password": {"probe's own phrase"}})
			if n := h.app.Pool.Hashes() - before; n != 1 {
				t.Errorf("%s: %d hashes, want 1", email, n)
			}
			return r.status, strip(r.body, email)
		}
		s1, b1 := answer("fresh@example.com")
		s2, b2 := answer("taken@example.com")
		if s1 != s2 || b1 != b2 {
			t.Fatalf("pending and existing addresses answer differently: %d vs %d\n%s\n---\n%s", s1, s2, b1, b2)
		}
	})
}

// strip removes what legitimately differs between two answers: the echoed
// address.
func strip(body, email string) string {
	return strings.ReplaceAll(strings.ReplaceAll(body, email, "ADDR"), url.QueryEscape(url.QueryEscape(email)), "ADDR")
}

// TestForgot_SameSpellingShownForKnownAndUnknown_V6_3_8: the code page shows
// the address as typed, never the account's stored spelling.
func TestForgot_SameSpellingShownForKnownAndUnknown_V6_3_8(t *testing.T) {
	t.Parallel()
	onBothDatabases(t, func(t *testing.T, db map[string]string) {
		h := newHarness(t, db)
		h.browser("en").signUp("known@example.com", goodPassword)
		page := func(typed string) string {
			b := h.browser("en")
			r := b.post("/password/forgot", url.Values{"email": {typed}})
			if r.status != 303 {
				t.Fatalf("forgot %s: %d", typed, r.status)
			}
			body := b.get(r.location).body
			return strings.ReplaceAll(body, challenge(t, r.location), "ID")
		}
		known, unknown := page("KNOWN@example.com"), page("UNKNOWN@example.com")
		if !strings.Contains(known, "KNOWN@example.com") || strings.Contains(known, "known@example.com") {
			t.Fatal("the known address's code page shows the stored spelling")
		}
		if strings.ReplaceAll(known, "KNOWN", "X") != strings.ReplaceAll(unknown, "UNKNOWN", "X") {
			t.Log(known, "\n---\n", unknown)
			t.Fatal("known and unknown addresses give different code pages")
		}
		if len(h.messagesTo("known@example.com")) < 2 {
			t.Fatal("the reset code did not go to the account's address")
		}
	})
}

// TestSignin_AgainEndsTheOldSession_V7_2_4: a new sign-in from a browser
// that already holds a session issues a new token and ends the old one.
func TestSignin_AgainEndsTheOldSession_V7_2_4(t *testing.T) {
	t.Parallel()
	onBothDatabases(t, func(t *testing.T, db map[string]string) {
		h := newHarness(t, db)
		b := h.browser("en")
		b.signUp("again@example.com", goodPassword)
		u, _ := url.Parse(h.base)
		old := sessionCookie(b, u)
		r := b.post("/signin", url.Values{"email": {"again@example.com"}, "password": {goodPassword}})
		if r.status != 303 {
			t.Fatal(r.status)
		}
		fresh := sessionCookie(b, u)
		if fresh == "" || fresh == old {
			t.Fatal("no new token")
		}
		replay := h.browser("en")
		replay.client.Jar.SetCookies(u, []*http.Cookie{{Name: "__Host-gh_session", Value: old, Path: "/"}})
		if r := replay.get("/account"); r.status != 303 {
			t.Fatalf("the old session still works: %d", r.status)
		}
		if r := b.get("/account"); r.status != 200 {
			t.Fatalf("the new session: %d", r.status)
		}
	})
}

func sessionCookie(b *browser, u *url.URL) string {
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == "__Host-gh_session" {
			return c.Value
		}
	}
	return ""
}

// TestStatic_BadPathsAnswerLocalisedPages: invalid UTF-8 under /static/
// used to answer a plain-text 500; a directory must not be listed.
func TestStatic_BadPathsAnswerLocalisedPages(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	b := h.browser("ja")
	for _, p := range []string{"/static/%ff", "/static/", "/static/%c0%af", "/static/../templates/layout.html", "/%ff", "/static/app.css/x", "/static/%00"} {
		r := b.get(p)
		if r.status/100 == 3 && strings.HasPrefix(r.location, "/") { // the router's own path cleaning
			r = b.get(r.location)
		}
		if r.status != 404 || !strings.Contains(r.body, "ページが見つかりません") || strings.Contains(r.body, "app.css</a>") {
			t.Errorf("%s: %d %q", p, r.status, r.header.Get("Content-Type"))
		}
	}
	if r := b.get("/static/app.css"); r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/css") {
		t.Fatalf("app.css: %d %s", r.status, r.header.Get("Content-Type"))
	}
}

// TestHost_DNSRebindingGets421: a page on another name that resolves to
// this server must not reach its pages or the dev mailbox.
func TestHost_DNSRebindingGets421(t *testing.T) {
	t.Parallel()
	h := newHarness(t, map[string]string{"public_url": "https://id.example.com"})
	for _, host := range []string{"evil.example", "id.example.com.evil.example", "127.0.0.1.nip.example"} {
		for _, p := range []string{"/dev/messages.json", "/signin", "/"} {
			req, _ := http.NewRequest("GET", h.base+p, nil)
			req.Host = host
			r := h.browser("en").do(req)
			if r.status != http.StatusMisdirectedRequest || strings.Contains(r.body, "[") {
				t.Errorf("Host %s %s: %d", host, p, r.status)
			}
			if r.header.Get("Content-Security-Policy") == "" || r.header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("Host %s %s: the 421 lacks the security headers", host, p)
			}
		}
	}
	for _, host := range []string{"id.example.com", "ID.EXAMPLE.COM:443", "localhost:8080", "127.0.0.1"} {
		req, _ := http.NewRequest("GET", h.base+"/signin", nil)
		req.Host = host
		if r := h.browser("en").do(req); r.status != 200 {
			t.Errorf("Host %s: %d", host, r.status)
		}
	}
	req, _ := http.NewRequest("GET", h.base+"/healthz", nil)
	req.Host = "10.0.0.7:8080"
	if r := h.browser("en").do(req); r.status != 200 {
		t.Errorf("a load balancer's health check by address: %d", r.status)
	}
}

// TestSignup_EmailRule_BothLanguages: one rule, one clear message in each
// language, for every kind of bad address.
func TestSignup_EmailRule_BothLanguages(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	msgs := map[string]string{"en": "name@example.com (letters, digits", "ja": "name@example.com の形で"}
	for _, bad := range []string{"a\u202e@example.com", "a\u200b@example.com", "a(comment)@example.com", "a<b>@example.com", "a@[192.0.2.1]", "a@192.0.2.1", `"a b"@example.com`} {
		for lang, want := range msgs {
			r := h.browser(lang).post("/signup", url.Values{"email": {bad}, "password": {goodPassword}})
			if r.status != 422 || !strings.Contains(r.body, want) {
				t.Errorf("%s %q: %d", lang, bad, r.status)
			}
		}
	}
	b := h.browser("ja")
	r := b.post("/signup", url.Values{"email": {"taro@例え.jp"}, "password": {goodPassword}})
	if r.status != 303 {
		t.Fatalf("an IDN domain is refused: %d", r.status)
	}
	if page := b.get(r.location); !strings.Contains(page.body, "taro@例え.jp") || strings.Contains(page.body, "xn--") {
		t.Error("the code page shows the domain in punycode, not as typed")
	}
}

// TestPasswordChange_GuessesAreRecordedAsAttempts_V6_3_1 and whitespace /
// repeated-character passwords are refused with their reason.
func TestPasswordChange_GuessesAreRecordedAsAttempts_V6_3_1(t *testing.T) {
	t.Parallel()
	onBothDatabases(t, func(t *testing.T, db map[string]string) {
		h := newHarness(t, db)
		b := h.browser("en")
		b.signUp("guess@example.com", goodPassword)
		for _, guess := range []string{"guess one two", "guess three four"} {
			r := b.post("/account/password", url.Values{"current_password": {guess}, "new_password": {"a new fine phrase"}})
			if r.status != 422 {
				t.Fatal(r.status)
			}
		}
		acc, _ := h.app.DB.AccountByEmail(context.Background(), "guess@example.com")
		at, _ := h.app.DB.AttemptsByAccount(context.Background(), acc.ID, 10)
		wrong := 0
		for _, a := range at {
			if a.Kind == signin.PasswordChange && a.Outcome == signin.WrongPassword {
				wrong++
			}
		}
		if wrong != 2 {
			t.Fatalf("recorded wrong current passwords: %d, want 2", wrong)
		}
		for _, pw := range []string{"                ", strings.Repeat("x", 14)} {
			r := b.post("/account/password", url.Values{"current_password": {goodPassword}, "new_password": {pw}})
			if r.status != 422 || !strings.Contains(r.body, "short pattern repeated") {
				t.Errorf("new password %q: %d", pw, r.status)
			}
		}
	})
}

// TestLog_ClientDisconnectIsNot500: a client that hangs up mid-request is
// logged at info as status 499, never as an error with 500.
func TestLog_ClientDisconnectIsNot500(t *testing.T) {
	t.Parallel()
	log, logged := captureLog()
	h := newHarnessLog(t, map[string]string{"argon2.workers": "1", "argon2.queue": "8"}, log)
	h.browser("en").signUp("hangup@example.com", goodPassword)
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	go h.app.Pool.Do(context.Background(), func() { started <- struct{}{}; <-release })
	<-started
	// The worker stays busy until the 499 is logged: the sign-in can end
	// only because its client went away.
	defer close(release)
	// This sign-in waits for the busy worker; its client gives up.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	form := url.Values{"email": {"hangup@example.com"}, "password": {goodPassword}}.Encode()
	req, _ := http.NewRequestWithContext(ctx, "POST", h.base+"/signin", strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", h.base)
	if _, err := http.DefaultClient.Do(req); err == nil {
		t.Fatal("the request was expected to be cut off")
	}
	cancel()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		out := logged()
		if strings.Contains(out, "path=/signin status=499") {
			if strings.Contains(out, "level=ERROR") || strings.Contains(out, "status=500") {
				t.Fatalf("a client disconnect was logged as a server error:\n%s", out)
			}
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no 499 access line:\n%s", logged())
}

// TestBusy_RefusedBeforeTheBodyIsParsed: with the hashing pool full, a
// sign-in is refused with the fixed 503 and Retry-After before its body is
// looked at — a body that parsing would refuse (415) still gets the 503,
// and no log line is written per refusal.
func TestBusy_RefusedBeforeTheBodyIsParsed(t *testing.T) {
	t.Parallel()
	log, logged := captureLog()
	h := newHarnessLog(t, map[string]string{"argon2.workers": "1", "argon2.queue": "1", "argon2.wait": "0s"}, log)
	defer fillPool(h)()
	for range 50 {
		req, _ := http.NewRequest("POST", h.base+"/signin", strings.NewReader(`{"email":"x"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", h.base)
		r := h.browser("ja").do(req)
		if r.status != 503 || r.header.Get("Retry-After") == "" || !strings.Contains(r.body, "混み合っています") {
			t.Fatalf("%d Retry-After=%q", r.status, r.header.Get("Retry-After"))
		}
	}
	lines := strings.Count(logged(), "status=503")
	if lines > 5 {
		t.Fatalf("%d log lines for 50 refusals: refusals must be sampled", lines)
	}
	// The pages that do not hash are not refused.
	if r := h.browser("en").get("/signin"); r.status != 200 {
		t.Fatalf("sign-in page while busy: %d", r.status)
	}
}

// TestCodePages_LanguageSwitchKeepsRequestAndTypedCode: after a wrong code
// or a resend during the cool-down, the switcher returns to the same
// request with what was typed.
func TestCodePages_LanguageSwitchKeepsRequestAndTypedCode(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	b := h.browser("ja")
	r := b.post("/signup", url.Values{"email": {"switch@example.com"}, "password": {goodPassword}})
	c := challenge(t, r.location)
	for _, path := range []string{"/signup/confirm", "/signup/confirm/resend"} {
		r = b.post(path, url.Values{"c": {c}, "code": {"111 111"}})
		if r.status != 422 && r.status != 429 {
			t.Fatalf("%s: %d", path, r.status)
		}
		m := regexp.MustCompile(`href="(/lang\?to=en&amp;next=[^"]+)"`).FindStringSubmatch(r.body)
		if m == nil {
			t.Fatalf("%s: no language link", path)
		}
		sw := b.get(strings.ReplaceAll(m[1], "&amp;", "&"))
		if sw.status != 303 {
			t.Fatalf("switch: %d", sw.status)
		}
		page := b.get(sw.location)
		if page.status != 200 || !strings.Contains(page.body, `name="c" value="`+c+`"`) || !strings.Contains(page.body, `value="111 111"`) ||
			!strings.Contains(page.body, "Confirm your email address") {
			t.Fatalf("%s: switching lost the request or the typed code: %d %s\n%s", path, page.status, sw.location, page.body)
		}
		b.get("/lang?to=ja&next=/")
	}
}

// TestCodes_FullWidthDigitsAndSeparatorsAccepted: what a Japanese IME types.
func TestCodes_FullWidthDigitsAndSeparatorsAccepted(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	for i, typed := range []func(string) string{
		func(c string) string { return toFullWidth(c) },
		func(c string) string { return toFullWidth(c[:3]) + "\u3000" + toFullWidth(c[3:]) },
		func(c string) string { return c[:3] + "－" + c[3:] },
		func(c string) string { return c[:3] + "ー" + c[3:] },
	} {
		b := h.browser("ja")
		email := fmt.Sprintf("ime%d@example.com", i)
		r := b.post("/signup", url.Values{"email": {email}, "password": {goodPassword}})
		r = b.post("/signup/confirm", url.Values{"c": {challenge(t, r.location)}, "code": {typed(h.codeFor(email))}})
		if r.status != 303 || r.location != "/account?notice=account_created" {
			t.Errorf("form %d: %d %s", i, r.status, r.location)
		}
	}
}

func toFullWidth(s string) string {
	var b strings.Builder
	for _, c := range s {
		b.WriteRune(c - '0' + '０')
	}
	return b.String()
}

// TestTimes_InTheHoldersZoneWrittenTheLocalWay: no UTC on a Japanese
// holder's pages and emails; a chosen zone is used for both — on the very
// next page, also on PostgreSQL with the session cache on (the node drops
// its cached session of the account when the change commits, rather than
// waiting for its own notification to come back).
func TestTimes_InTheHoldersZoneWrittenTheLocalWay(t *testing.T) {
	t.Parallel()
	onBothDatabases(t, func(t *testing.T, db map[string]string) {
		h := newHarness(t, db)
		b := h.browser("ja")
		b.signUp("zone@example.com", goodPassword)
		jaTime := regexp.MustCompile(`\d{4}年\d{1,2}月\d{1,2}日 \d{1,2}:\d{2}（日本時間）`)
		r := b.get("/account")
		if !jaTime.MatchString(r.body) || regexp.MustCompile(`<dd[^>]*>[^<]*UTC`).MatchString(r.body) {
			t.Fatalf("account page times:\n%s", r.body)
		}
		ms := h.messagesTo("zone@example.com")
		if !jaTime.MatchString(ms[len(ms)-1].Text) {
			t.Fatalf("email time: %s", ms[len(ms)-1].Text)
		}
		r = b.post("/account/preferences", url.Values{"language": {"en"}, "time_zone": {"America/New_York"}})
		if r.status != 303 {
			t.Fatalf("preferences: %d", r.status)
		}
		acc, _ := h.app.DB.AccountByEmail(context.Background(), "zone@example.com")
		if acc.Language != "en" || acc.TimeZone != "America/New_York" {
			t.Fatalf("stored: %q %q", acc.Language, acc.TimeZone)
		}
		r = b.get("/account")
		if !strings.Contains(r.body, "（米国東部時間）") || !strings.Contains(r.body, `<dd id="account-language">English</dd>`) {
			t.Fatalf("after choosing:\n%s", r.body)
		}
		b.post("/account/password", url.Values{"current_password": {goodPassword}, "new_password": {"another fine phrase"}})
		if m := h.messagesTo("zone@example.com")[0]; m.Language != "en" || !strings.Contains(m.Text, "(US Eastern time)") {
			t.Fatalf("notice after choosing: %s %s", m.Language, m.Text)
		}
		if r := b.post("/account/preferences", url.Values{"language": {"fr"}, "time_zone": {"Mars/Olympus"}}); r.status != 422 {
			t.Fatalf("bad preferences: %d", r.status)
		}
	})
}

// TestErrors_AccessibleSummaryAndNumbers_WCAG_3_3_1: a refused form says
// "Error:" in its title, lists each problem as a link to its field, keeps
// each field's hint described, and says the number in the message.
func TestErrors_AccessibleSummaryAndNumbers_WCAG_3_3_1(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	for lang, want := range map[string][]string{
		"en": {"<title>Error: Create your account", "use at least 12 characters", "Enter your email address."},
		"ja": {"<title>エラー：アカウントを作成", "12文字以上にしてください", "メールアドレスを入力してください。"},
	} {
		r := h.browser(lang).post("/signup", url.Values{"email": {""}, "password": {"short"}})
		if r.status != 422 {
			t.Fatal(r.status)
		}
		for _, w := range want {
			if !strings.Contains(r.body, w) {
				t.Errorf("%s: missing %q", lang, w)
			}
		}
		for _, w := range []string{`id="error-summary"`, `tabindex="-1"`, "autofocus", `href="#f-email"`, `href="#f-password"`, `aria-describedby="h-password e-password"`} {
			if !strings.Contains(r.body, w) {
				t.Errorf("%s: missing %s", lang, w)
			}
		}
	}
	r := h.browser("en").post("/signin", url.Values{"email": {"x@example.com"}, "password": {"wrong wrong wrong"}})
	if strings.Count(r.body, `aria-invalid="true"`) != 2 {
		t.Error("a refused sign-in marks both fields")
	}
}

// TestCodePage_ResendIsSecondaryAndKeepsTheTypedCode: the resend button is
// a separate, quieter action after the primary one, and a cool-down (not a
// code error) keeps what was typed.
func TestCodePage_ResendIsSecondaryAndKeepsTheTypedCode(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	b := h.browser("en")
	r := b.post("/signup", url.Values{"email": {"resend@example.com"}, "password": {goodPassword}})
	c := challenge(t, r.location)
	page := b.get(r.location).body
	primary, resend := strings.Index(page, `>Confirm</button>`), strings.Index(page, `formaction="/signup/confirm/resend"`)
	if primary < 0 || resend < primary || !strings.Contains(page, `class="resend"`) || !strings.Contains(page, `class="link-button"`) {
		t.Fatal("resend must come after the primary button, as a secondary action")
	}
	r = b.post("/signup/confirm/resend", url.Values{"c": {c}, "code": {"12345"}})
	if r.status != 429 || !strings.Contains(r.body, `value="12345"`) || !strings.Contains(r.body, `class="notice"`) {
		t.Fatalf("cool-down: %d", r.status)
	}
	for _, link := range []string{`href="/signin"`, `href="/password/forgot"`, `href="/signup"`} {
		if !strings.Contains(page, link) {
			t.Errorf("code page lacks %s", link)
		}
	}
}

// TestPasswordChange_HiddenUsernameCarriesTheAddress: password managers
// file the new password under the account.
func TestPasswordChange_HiddenUsernameCarriesTheAddress(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	b := h.browser("en")
	b.signUp("pm@example.com", goodPassword)
	if r := b.get("/account/password"); !strings.Contains(r.body, `name="username" autocomplete="username" value="pm@example.com"`) {
		t.Fatal("hidden username is empty")
	}
}

// TestErrorPages_SayWhatHappenedAndOfferAWayBack.
func TestErrorPages_SayWhatHappenedAndOfferAWayBack(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	b := h.browser("en")
	if r := b.get("/no/such/page"); r.status != 404 || !strings.Contains(r.body, "<title>Page not found") || !strings.Contains(r.body, `href="/signin"`) {
		t.Fatalf("404: %d", r.status)
	}
	if r := b.get("/signup/confirm?c=nope"); r.status != 404 || !strings.Contains(r.body, "This request has ended") || !strings.Contains(r.body, `href="/signup"`) {
		t.Fatalf("unknown sign-up request: %d", r.status)
	}
	if r := b.get("/password/reset?c=nope"); !strings.Contains(r.body, `href="/password/forgot"`) {
		t.Fatal("unknown reset request: no way back to the reset")
	}
	if r := b.post("/signout", nil); r.status != 303 {
		t.Fatal(r.status)
	}
	req, _ := http.NewRequest("PUT", h.base+"/signin", nil)
	req.Header.Set("Origin", h.base)
	if r := b.do(req); r.status != 405 || strings.Contains(r.body, "Page not found") || !strings.Contains(r.body, "Not possible at this address") {
		t.Fatalf("405: %d", r.status)
	}
	if r := b.get("/account"); r.status != 303 || r.location != "/signin?notice=signin_needed" {
		t.Fatalf("signed-out /account: %d %s", r.status, r.location)
	}
}

// TestBusy_WaitsForAPlaceInsteadOfRefusing: with argon2.wait, a sign-in
// that finds the pool full waits for the next free place (using no CPU)
// and goes through, instead of being refused and retried.
func TestBusy_WaitsForAPlaceInsteadOfRefusing(t *testing.T) {
	t.Parallel()
	h := newHarness(t, map[string]string{"argon2.workers": "1", "argon2.queue": "1", "argon2.wait": "10s"})
	h.browser("en").signUp("patient@example.com", goodPassword)
	release := fillPool(h)
	done := make(chan int)
	go func() {
		done <- h.browser("en").post("/signin", url.Values{"email": {"patient@example.com"}, "password": {goodPassword}}).status
	}()
	select {
	case st := <-done:
		t.Fatalf("answered %d while the pool was full; it should wait", st)
	case <-time.After(200 * time.Millisecond):
	}
	release()
	if st := <-done; st != 303 {
		t.Fatalf("after a place came free: %d, want 303", st)
	}
	if h.app.Pool.Refused() != 0 {
		t.Fatalf("refused %d", h.app.Pool.Refused())
	}
}

// captureLog returns a logger that writes text lines into memory, and a
// function that returns what has been logged so far.
func captureLog() (*slog.Logger, func() string) {
	var mu sync.Mutex
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return buf.Write(p)
	}), nil))
	return log, func() string {
		mu.Lock()
		defer mu.Unlock()
		return buf.String()
	}
}

// fillPool takes every place of a pool with one worker and one queue place
// (argon2.workers=1, argon2.queue=1) and returns what frees them.
func fillPool(h *harness) (release func()) {
	ch := make(chan struct{})
	started := make(chan struct{}, 2)
	for range 2 {
		go h.app.Pool.Do(context.Background(), func() { started <- struct{}{}; <-ch })
	}
	<-started
	for deadline := time.Now().Add(10 * time.Second); !h.app.Pool.Full(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			h.t.Fatal("the pool never filled")
		}
	}
	return func() { close(ch) }
}
