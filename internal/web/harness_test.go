package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gatehouse/internal/app"
	"gatehouse/internal/config"
	"gatehouse/internal/outbox"
	"gatehouse/internal/pgtest"
)

// harness is a whole Gatehouse server on a loopback port, built the way
// `gatehouse serve` builds it, with cheap argon2 parameters.
type harness struct {
	t    testing.TB
	app  *app.App
	srv  *httptest.Server
	base string
}

func newHarness(t testing.TB, overrides map[string]string) *harness {
	t.Helper()
	return newHarnessLog(t, overrides, slog.New(slog.DiscardHandler))
}

func newHarnessLog(t testing.TB, overrides map[string]string, log *slog.Logger) *harness {
	t.Helper()
	dir := t.TempDir()
	flags := map[string]string{
		"data": dir, "argon2.memory_kib": "8192", "argon2.iterations": "1",
		"database": filepath.Join(dir, "gatehouse.db"),
		// Most tests sign in from a browser the account has not been used
		// on and are about something else; the new-device check (on by
		// default) has its own tests, which turn it on.
		"signin.new_device_check": "off",
	}
	for k, v := range overrides {
		flags[k] = v
	}
	cfg, err := config.Load("", func(string) string { return "" }, flags)
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(context.Background(), cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(func() { srv.Close(); a.Close() })
	return &harness{t: t, app: a, srv: srv, base: srv.URL}
}

// browser is one browser: its own cookies and language.
type browser struct {
	h      *harness
	client *http.Client
	lang   string
	// forwardedFor, when set, is sent as X-Forwarded-For (a browser
	// behind a trusted proxy).
	forwardedFor string
}

func (h *harness) browser(lang string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{h: h, lang: lang, client: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

type resp struct {
	status   int
	body     string
	header   http.Header
	location string
	cookies  []*http.Cookie
}

func (b *browser) do(req *http.Request) *resp {
	b.h.t.Helper()
	req.Header.Set("Accept-Language", b.lang)
	if b.forwardedFor != "" {
		req.Header.Set("X-Forwarded-For", b.forwardedFor)
	}
	req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36")
	r, err := b.client.Do(req)
	if err != nil {
		b.h.t.Fatal(err)
	}
	defer r.Body.Close()
	body, _ := io.ReadAll(r.Body)
	if strings.Contains(string(body), "!(") {
		b.h.t.Errorf("%s %s shows a missing catalog key:\n%s", req.Method, req.URL.Path, body)
	}
	return &resp{status: r.StatusCode, body: string(body), header: r.Header, location: r.Header.Get("Location"), cookies: r.Cookies()}
}

func (b *browser) get(path string) *resp {
	req, _ := http.NewRequest("GET", b.h.base+path, nil)
	return b.do(req)
}

// post submits a form the way a browser on this site's own page does.
func (b *browser) post(path string, form url.Values) *resp {
	req, _ := http.NewRequest("POST", b.h.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.h.base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.do(req)
}

// messagesTo returns the stored messages to an address, newest first.
func (h *harness) messagesTo(to string) []*outbox.Message {
	h.t.Helper()
	ms, err := h.app.DB.RecentMessages(context.Background(), 1000)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []*outbox.Message
	for _, m := range ms {
		if strings.EqualFold(m.To, to) {
			out = append(out, m)
		}
	}
	return out
}

var codeLine = regexp.MustCompile(`(?m)^    (\d{6})$`)

// codeFor reads the newest code sent to an address out of the message
// text, as delivered (stored text has the code masked; see outbox.CodeMask).
func (h *harness) codeFor(to string) string {
	h.t.Helper()
	for _, m := range h.messagesTo(to) {
		shown, err := h.app.Outbox.Reveal(m)
		if err != nil {
			h.t.Fatal(err)
		}
		if c := codeLine.FindStringSubmatch(shown.Text); c != nil {
			return c[1]
		}
	}
	h.t.Fatalf("no code was sent to %s", to)
	return ""
}

// signUp registers and confirms an account from b, leaving b signed in.
func (b *browser) signUp(email, pw string) {
	b.h.t.Helper()
	r := b.post("/signup", url.Values{"email": {email}, "password": {pw}})
	if r.status != http.StatusSeeOther {
		b.h.t.Fatalf("signup: %d\n%s", r.status, r.body)
	}
	c := challenge(b.h.t, r.location)
	r = b.post("/signup/confirm", url.Values{"c": {c}, "code": {b.h.codeFor(email)}})
	if r.status != http.StatusSeeOther || r.location != "/account?notice=account_created" {
		b.h.t.Fatalf("confirm: %d %s\n%s", r.status, r.location, r.body)
	}
}

func challenge(t testing.TB, location string) string {
	t.Helper()
	u, err := url.Parse(location)
	if err != nil || u.Query().Get("c") == "" {
		t.Fatalf("redirect %q carries no request id", location)
	}
	return u.Query().Get("c")
}

// onBothDatabases runs a test on SQLite and on PostgreSQL: every flow that
// stores something must hold on both. db is the harness override for the
// database. Each run builds its own harness, so the two run side by side;
// onBothDatabases returns once both have finished.
func onBothDatabases(t *testing.T, fn func(t *testing.T, db map[string]string)) {
	t.Run("db", func(t *testing.T) {
		t.Run("sqlite", func(t *testing.T) { t.Parallel(); fn(t, nil) })
		t.Run("postgres", func(t *testing.T) { t.Parallel(); fn(t, map[string]string{"database": pgtest.NewDatabase(t)}) })
	})
}
