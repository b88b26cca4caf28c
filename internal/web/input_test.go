package web_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"gatehouse/internal/httpcore"
)

// TestBadInput sends what a careless or hostile client sends. Every case
// must get a 4xx with a clear message in the holder's language — never a
// 500, never a half-created account.
func TestBadInput_ClearErrorsInBothLanguages(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	huge := strings.Repeat("p", 1<<20)
	long := strings.Repeat("a", 10000) + "@example.com"
	type tc struct {
		name     string
		path     string
		form     url.Values
		status   int
		en, ja   string
		mutate   func(*http.Request)
		rawBody  string
		noOrigin bool
	}
	cases := []tc{
		{name: "empty signup", path: "/signup", form: url.Values{"email": {""}, "password": {""}}, status: 422, en: "Enter your email address.", ja: "メールアドレスを入力してください"},
		{name: "1 MB password", path: "/signup", form: url.Values{"email": {"big@example.com"}, "password": {huge}}, status: 413, en: "at most 1,000 bytes", ja: "1,000バイトまで"},
		{name: "1001-byte password", path: "/signup", form: url.Values{"email": {"big@example.com"}, "password": {strings.Repeat("x", 1001)}}, status: 422, en: "Too long", ja: "長すぎます"},
		{name: "10,000-character email", path: "/signup", form: url.Values{"email": {long}, "password": {goodPassword}}, status: 422, en: "Enter an email address", ja: "メールアドレスを入力"},
		{name: "10,000-character email at sign-in", path: "/signin", form: url.Values{"email": {long}, "password": {goodPassword}}, status: 422, en: "Enter an email address", ja: "メールアドレスを入力"},
		{name: "invalid UTF-8 email", path: "/signup", form: url.Values{"email": {"a\xff@example.com"}, "password": {goodPassword}}, status: 422, en: "cannot be used", ja: "使用できない文字"},
		{name: "control characters", path: "/signup", form: url.Values{"email": {"a\x07b@example.com"}, "password": {goodPassword}}, status: 422, en: "cannot be used", ja: "使用できない文字"},
		{name: "control character in password", path: "/signup", form: url.Values{"email": {"ctl@example.com"}, "password": {"violet canoe\x00 dawn"}}, status: 422, en: "control characters", ja: "制御文字"},
		{name: "invalid phone", path: "/signup", form: url.Values{"email": {"ph@example.com"}, "password": {goodPassword}, "phone": {"12"}}, status: 422, en: "valid phone number", ja: "有効な電話番号"},
		{name: "common password", path: "/signup", form: url.Values{"email": {"c@example.com"}, "password": {"iloveyou1234"}}, status: 422, en: "common or breached", ja: "流出したパスワード"},
		{name: "short password", path: "/signup", form: url.Values{"email": {"s@example.com"}, "password": {"short one"}}, status: 422, en: "Too short", ja: "短すぎます"},
		{name: "empty sign-in", path: "/signin", form: url.Values{}, status: 422, en: "Enter a password.", ja: "パスワードを入力してください"},
		{name: "json content type", path: "/signup", rawBody: `{"email":"j@example.com"}`, mutate: func(r *http.Request) { r.Header.Set("Content-Type", "application/json") }, status: 415, en: "regular web form", ja: "通常のWebフォーム"},
		{name: "cross-site origin", path: "/signin", form: url.Values{"email": {"x@example.com"}, "password": {goodPassword}}, mutate: func(r *http.Request) {
			r.Header.Set("Origin", "https://evil.example")
			r.Header.Set("Sec-Fetch-Site", "cross-site")
		}, status: 403, en: "did not come from this site", ja: "このサイトのページから送信されたものではない"},
		{name: "missing origin", path: "/signin", form: url.Values{"email": {"x@example.com"}, "password": {goodPassword}}, noOrigin: true, status: 403, en: "did not come from this site", ja: "このサイトのページから送信されたものではない"},
		{name: "unknown confirmation request", path: "/signup/confirm", form: url.Values{"c": {"nope"}, "code": {"123456"}}, status: 404, en: "expired or is already complete", ja: "期限切れか、すでに完了"},
		{name: "code not digits", path: "/signup/confirm", form: url.Values{"c": {"nope"}, "code": {"12ab56"}}, status: 404, en: "expired or is already complete", ja: "期限切れか、すでに完了"},
		{name: "forgot with bad address", path: "/password/forgot", form: url.Values{"email": {"no-at-sign"}}, status: 422, en: "Enter an email address", ja: "メールアドレスを入力"},
	}
	for _, lang := range []string{"en", "ja"} {
		for _, c := range cases {
			t.Run(lang+"/"+c.name, func(t *testing.T) {
				b := h.browser(lang)
				body := c.rawBody
				if body == "" {
					body = c.form.Encode()
				}
				req, _ := http.NewRequest("POST", h.base+c.path, strings.NewReader(body))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				if !c.noOrigin {
					req.Header.Set("Origin", h.base)
					req.Header.Set("Sec-Fetch-Site", "same-origin")
				}
				if c.mutate != nil {
					c.mutate(req)
				}
				r := b.do(req)
				want := c.en
				if lang == "ja" {
					want = c.ja
				}
				if r.status != c.status || !strings.Contains(r.body, want) {
					t.Fatalf("status %d (want %d), body lacks %q:\n%.2000s", r.status, c.status, want, r.body)
				}
				if !strings.Contains(r.body, `<html lang="`+lang+`">`) {
					t.Fatal("error page not in the holder's language")
				}
			})
		}
	}
	accs, _ := h.app.DB.ListAccounts(context.Background())
	if len(accs) != 0 {
		t.Fatalf("bad input created %d accounts", len(accs))
	}
}

func TestCodes_ExpiredReusedForeignAndReplayed(t *testing.T) {
	t.Parallel()
	now := time.Now()
	h := newHarness(t, nil)
	clock := func() time.Time { return now }
	h.app.SetClock(clock)

	a := h.browser("en")
	ra := a.post("/signup", url.Values{"email": {"a@example.com"}, "password": {goodPassword}})
	codeA := h.codeFor("a@example.com")
	b := h.browser("ja")
	rb := b.post("/signup", url.Values{"email": {"b@example.com"}, "password": {goodPassword}})
	codeB := h.codeFor("b@example.com")

	// Foreign: b's code on a's request.
	if codeA != codeB {
		r := a.post("/signup/confirm", url.Values{"c": {challenge(t, ra.location)}, "code": {codeB}})
		if r.status != 422 || !strings.Contains(r.body, "4 tries left") {
			t.Fatalf("foreign code: %d\n%s", r.status, r.body)
		}
	}
	// Expired.
	now = now.Add(11 * time.Minute)
	r := b.post("/signup/confirm", url.Values{"c": {challenge(t, rb.location)}, "code": {codeB}})
	if r.status != 422 || !strings.Contains(r.body, "有効期限が切れています") {
		t.Fatalf("expired code: %d\n%s", r.status, r.body)
	}
	// A resend after expiry works and the new code confirms.
	if r := b.post("/signup/confirm/resend", url.Values{"c": {challenge(t, rb.location)}}); r.status != 303 {
		t.Fatalf("resend: %d", r.status)
	}
	if r := b.post("/signup/confirm/resend", url.Values{"c": {challenge(t, rb.location)}}); r.status != 429 || !strings.Contains(r.body, "秒後") || r.header.Get("Retry-After") == "" {
		t.Fatalf("resend during cool-down: %d", r.status)
	}
	if r := b.post("/signup/confirm", url.Values{"c": {challenge(t, rb.location)}, "code": {h.codeFor("b@example.com")}}); r.status != 303 {
		t.Fatalf("new code: %d", r.status)
	}
	// Replayed form: the same confirmation submitted again.
	r = b.post("/signup/confirm", url.Values{"c": {challenge(t, rb.location)}, "code": {h.codeFor("b@example.com")}})
	if r.status != 422 || !strings.Contains(r.body, "すでに使われています") {
		t.Fatalf("replayed confirmation: %d\n%s", r.status, r.body)
	}
	// Typed with a space, as people copy it from a message.
	now = time.Now()
	ra2 := a.post("/signup", url.Values{"email": {"a@example.com"}, "password": {goodPassword}})
	c := h.codeFor("a@example.com")
	if r := a.post("/signup/confirm", url.Values{"c": {challenge(t, ra2.location)}, "code": {c[:3] + " " + c[3:]}}); r.status != 303 {
		t.Fatalf("code with a space: %d", r.status)
	}
}

func TestCookies_V3_3_HostPrefixSecureHttpOnlyLax(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	b := h.browser("en")
	b.signUp("cookie@example.com", goodPassword)
	b.post("/signout", nil)
	check := func(remember bool) {
		form := url.Values{"email": {"cookie@example.com"}, "password": {goodPassword}}
		if remember {
			form.Set("remember", "on")
		}
		r := b.post("/signin", form)
		var session *http.Cookie
		for _, c := range r.cookies {
			if c.Name == "__Host-gh_session" {
				session = c
			}
		}
		if session == nil {
			t.Fatal("no session cookie")
		}
		raw := strings.Join(r.header.Values("Set-Cookie"), "\n")
		if !session.Secure || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Path != "/" || session.Domain != "" {
			t.Fatalf("session cookie attributes: %s", raw)
		}
		if len(session.Value) != 43 {
			t.Fatalf("session token %q is not 256 bits", session.Value)
		}
		if remember != (session.MaxAge > 29*24*3600) {
			t.Fatalf("remember=%v but Max-Age=%d", remember, session.MaxAge)
		}
	}
	check(false)
	check(true)
	r := h.browser("en").post("/signin", url.Values{"email": {"cookie@example.com"}, "password": {goodPassword}})
	for _, c := range r.cookies {
		if c.Name == "__Host-gh_device" && (!c.Secure || !c.HttpOnly || c.MaxAge < 300*24*3600) {
			t.Fatalf("device cookie: %+v", c)
		}
	}
}

func TestSecurityHeaders_EveryResponse(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	b := h.browser("en")
	for _, path := range []string{"/signin", "/nope", "/static/app.css", "/healthz", "/account"} {
		r := b.get(path)
		for k, want := range map[string]string{
			"Content-Security-Policy": "frame-ancestors 'none'",
			"X-Content-Type-Options":  "nosniff",
			"Referrer-Policy":         "no-referrer",
			"X-Request-Id":            "",
		} {
			if got := r.header.Get(k); got == "" || !strings.Contains(got, want) {
				t.Errorf("%s: %s = %q", path, k, got)
			}
		}
		if csp := r.header.Get("Content-Security-Policy"); strings.Contains(csp, "unsafe-inline") {
			t.Errorf("%s: CSP allows inline code", path)
		}
		if r.header.Get("Strict-Transport-Security") != "" {
			t.Errorf("%s: HSTS on plain HTTP", path)
		}
	}
	if r := b.get("/signin"); strings.Contains(r.body, "<script>") || strings.Contains(r.body, " onclick=") {
		t.Error("inline script in a page")
	}
}

func TestNotFoundAndMethodNotAllowed_Localised(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	if r := h.browser("ja").get("/nothing-here"); r.status != 404 || !strings.Contains(r.body, "このアドレスのページはありません") {
		t.Fatalf("404: %d", r.status)
	}
	r := h.browser("en").post("/healthz", url.Values{})
	if r.status != 405 || !strings.Contains(r.body, "cannot be done at this address") || !strings.Contains(r.header.Get("Allow"), "GET") {
		t.Fatalf("405: %d %q", r.status, r.header.Get("Allow"))
	}
}

func TestBusyHashPool_Answers503WithRetryAfter(t *testing.T) {
	t.Parallel()
	h := newHarness(t, map[string]string{"argon2.workers": "1", "argon2.queue": "1", "argon2.wait": "0s"})
	h.browser("en").signUp("busy@example.com", goodPassword)
	release := make(chan struct{})
	started := make(chan struct{}, 2)
	for range 2 { // one running, one queued: the pool is full
		go h.app.Pool.Do(context.Background(), func() { started <- struct{}{}; <-release })
	}
	<-started
	deadline := time.Now().Add(5 * time.Second)
	// Both jobs must hold their places before a sign-in is tried: one
	// admitted while the second job was still on its way would queue
	// behind the first, which waits for release — and release comes only
	// after this loop (the hang that cut a whole test run short twice).
	for !h.app.Pool.Full() {
		if time.Now().After(deadline) {
			close(release)
			t.Fatal("the pool never filled")
		}
		time.Sleep(time.Millisecond)
	}
	var r *resp
	for time.Now().Before(deadline) {
		r = h.browser("ja").post("/signin", url.Values{"email": {"busy@example.com"}, "password": {goodPassword}})
		if r.status == 503 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(release)
	if r.status != 503 || r.header.Get("Retry-After") == "" || !strings.Contains(r.body, "混み合っています") {
		t.Fatalf("full pool: %d Retry-After=%q", r.status, r.header.Get("Retry-After"))
	}
	// The two jobs finish once released; until they have, the pool may
	// still be full for an instant.
	for h.app.Pool.Full() && time.Now().Before(deadline.Add(5*time.Second)) {
		time.Sleep(time.Millisecond)
	}
	if r := h.browser("en").post("/signin", url.Values{"email": {"busy@example.com"}, "password": {goodPassword}}); r.status != 303 {
		t.Fatalf("after the pool drained: %d", r.status)
	}
}

func TestLanguage_AcceptLanguageSwitcherAndCookie(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	b := h.browser("ja-JP,ja;q=0.9,en;q=0.5")
	if r := b.get("/signin"); !strings.Contains(r.body, `<html lang="ja">`) || r.header.Get("Content-Language") != "ja" {
		t.Fatal("Accept-Language ja not honoured")
	}
	if r := h.browser("fr-FR").get("/signin"); !strings.Contains(r.body, `<html lang="en">`) {
		t.Fatal("unsupported language should fall back to English")
	}
	r := b.get("/lang?to=en&next=/signup")
	if r.status != 303 || r.location != "/signup" {
		t.Fatalf("switch: %d %s", r.status, r.location)
	}
	if r := b.get("/signup"); !strings.Contains(r.body, `<html lang="en">`) {
		t.Fatal("chosen language not remembered over Accept-Language")
	}
	for _, next := range []string{"//evil.example/", "https://evil.example/", "/\\evil.example"} {
		if r := b.get("/lang?to=ja&next=" + url.QueryEscape(next)); r.location != "/" {
			t.Fatalf("open redirect through %q: %s", next, r.location)
		}
	}
}

func TestDevMessages_OnlyDevDriverAndLoopback(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	h.browser("en").post("/signup", url.Values{"email": {"dev@example.com"}, "password": {goodPassword}})
	r := h.browser("en").get("/dev/messages.json")
	if r.status != 200 || !strings.Contains(r.body, `"to":"dev@example.com"`) || !strings.Contains(r.body, `"reference":"GH-`) || !strings.Contains(r.body, `"created_at"`) {
		t.Fatalf("dev json: %d %s", r.status, r.body)
	}
	if r := h.browser("en").get("/dev/messages"); r.status != 200 || !strings.Contains(r.body, "dev@example.com") {
		t.Fatalf("dev page: %d", r.status)
	}
	// From another machine: not found.
	req := httptest.NewRequest("GET", "/dev/messages.json", nil)
	req.RemoteAddr = "192.0.2.7:4444"
	req.Host = "127.0.0.1"
	w := httptest.NewRecorder()
	h.app.Handler().ServeHTTP(w, req)
	if w.Code != 404 {
		t.Fatalf("dev messages to a non-loopback client: %d", w.Code)
	}
	// With the SMTP driver: not found, even on loopback.
	hs := newHarness(t, map[string]string{"mail.driver": "smtp", "smtp.host": "127.0.0.1"})
	if r := hs.browser("en").get("/dev/messages.json"); r.status != 404 {
		t.Fatalf("dev messages with smtp driver: %d", r.status)
	}
}

func TestHealthAndReady(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	if r := h.browser("en").get("/healthz"); r.status != 200 {
		t.Fatal(r.status)
	}
	if r := h.browser("en").get("/readyz"); r.status != 200 {
		t.Fatal(r.status)
	}
	h.app.DB.Close()
	if r := h.browser("en").get("/readyz"); r.status != 503 {
		t.Fatalf("readyz with the database closed: %d", r.status)
	}
}

func TestLogs_EveryLineCarriesTheRequestID(t *testing.T) {
	t.Parallel()
	var buf strings.Builder
	var mu sync.Mutex
	w := writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return buf.Write(p) })
	h := newHarnessLog(t, nil, slog.New(httpcore.LogHandler(slog.NewJSONHandler(w, nil))))
	b := h.browser("en")
	r := b.post("/signin", url.Values{"email": {"nobody@example.com"}, "password": {goodPassword}})
	id := r.header.Get("X-Request-Id")
	mu.Lock()
	logs := buf.String()
	mu.Unlock()
	if id == "" || !strings.Contains(logs, `"request_id":"`+id+`"`) || !strings.Contains(logs, `"path":"/signin"`) {
		t.Fatalf("request %s not in logs:\n%s", id, logs)
	}
	if strings.Contains(logs, goodPassword) {
		t.Fatal("a password reached the logs")
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func TestTrustedProxies_ClientAddressFromXForwardedFor(t *testing.T) {
	t.Parallel()
	h := newHarness(t, map[string]string{"trusted_proxies": "127.0.0.0/8, 10.0.0.0/8"})
	h.browser("en").signUp("proxy@example.com", goodPassword)
	ctx := context.Background()
	acc, _ := h.app.DB.AccountByEmail(ctx, "proxy@example.com")
	signIn := func(xff string) string {
		b := h.browser("en")
		req, _ := http.NewRequest("POST", h.base+"/signin", strings.NewReader(url.Values{"email": {"proxy@example.com"}, "password": {"wrong password here"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", h.base)
		req.Header.Set("X-Forwarded-For", xff)
		b.do(req)
		atts, _ := h.app.DB.AttemptsByAccount(ctx, acc.ID, 1)
		return atts[0].Origin.IP
	}
	// client, then a second trusted proxy: the client is the nearest untrusted hop.
	if ip := signIn("198.51.100.7, 10.1.2.3"); ip != "198.51.100.7" {
		t.Fatalf("recorded %s, want the client 198.51.100.7", ip)
	}
	// A client cannot pretend: what it wrote is left of the real hop.
	if ip := signIn("203.0.113.66, 198.51.100.9"); ip != "198.51.100.9" {
		t.Fatalf("recorded %s, want 198.51.100.9", ip)
	}
	// Without trusted proxies the header is ignored.
	plain := newHarness(t, nil)
	plain.browser("en").signUp("direct@example.com", goodPassword)
	b := plain.browser("en")
	req, _ := http.NewRequest("POST", plain.base+"/signin", strings.NewReader(url.Values{"email": {"direct@example.com"}, "password": {"wrong password here"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", plain.base)
	req.Header.Set("X-Forwarded-For", "203.0.113.66")
	b.do(req)
	acc2, _ := plain.app.DB.AccountByEmail(ctx, "direct@example.com")
	if atts, _ := plain.app.DB.AttemptsByAccount(ctx, acc2.ID, 1); atts[0].Origin.IP != "127.0.0.1" {
		t.Fatalf("untrusted X-Forwarded-For believed: %s", atts[0].Origin.IP)
	}
	// The dev message list is never shown through a proxy, even one on this machine.
	req, _ = http.NewRequest("GET", plain.base+"/dev/messages.json", nil)
	req.Header.Set("X-Forwarded-For", "127.0.0.1")
	if r := b.do(req); r.status != 404 {
		t.Fatalf("dev messages through a proxy: %d", r.status)
	}
}

func TestHSTS_BehindTLSProxy(t *testing.T) {
	t.Parallel()
	h := newHarness(t, map[string]string{"public_url": "https://id.example.com"})
	if got := h.browser("en").get("/signin").header.Get("Strict-Transport-Security"); !strings.Contains(got, "max-age=31536000") {
		t.Fatalf("HSTS behind a TLS proxy: %q", got)
	}
}
