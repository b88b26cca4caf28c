package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
)

// chromium returns the path of the Chromium binary. Outside CI a missing
// browser skips the test; under CI=true it fails it.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{os.Getenv("GATEHOUSE_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if inCI() {
		t.Fatal("Chromium is required under CI=true but was not found (install Debian's chromium)")
	}
	t.Skip("Chromium not installed; scripts/test installs it")
	return ""
}

// newBrowser starts headless Chromium with a fresh profile, flags that keep
// it off the network, and returns a tab context.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	return startChromium(t, 1000, 900, 3*time.Minute)
}

// startChromium is newBrowser with a window size and a time limit for the
// whole tab.
func startChromium(t *testing.T, width, height int, limit time.Duration) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium(t)),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, limit)
	t.Cleanup(func() {
		if t.Failed() {
			screenshot(t, ctx)
		}
		cancelT()
		cancelC()
		cancelA()
	})
	if err := chromedp.Do(ctx, colorScheme("light")); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

// screenshot saves the current page to test-artifacts/ for a failed test.
func screenshot(t *testing.T, ctx context.Context) {
	dir := os.Getenv("GATEHOUSE_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "test-artifacts")
	}
	os.MkdirAll(dir, 0o755)
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(sctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Logf("screenshot failed: %v", err)
		return
	}
	name := filepath.Join(dir, regexp.MustCompile(`[^A-Za-z0-9_-]+`).ReplaceAllString(t.Name(), "_")+".png")
	if err := os.WriteFile(name, png, 0o644); err == nil {
		t.Logf("screenshot saved to %s", name)
	}
}

// latestCode reads the newest code sent to an address from the dev
// driver's message list, as a developer would.
func latestCode(t *testing.T, base, to string) string {
	t.Helper()
	resp, err := http.Get(base + "/dev/messages.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var msgs []struct{ To, Text string }
	if err := json.NewDecoder(resp.Body).Decode(&msgs); err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if m.To == to {
			if c := sixDigits.FindStringSubmatch(m.Text); c != nil {
				return c[1]
			}
			if c := anySixDigits.FindStringSubmatch(m.Text); c != nil {
				return c[1]
			}
		}
	}
	t.Fatalf("no code for %s", to)
	return ""
}

// anySixDigits finds a code written other than on a line of its own.
var anySixDigits = regexp.MustCompile(`(?:^|[^0-9])([0-9]{6})(?:[^0-9]|$)`)

// fullWidth writes ASCII digits as the full-width digits a Japanese IME
// types (U+FF10–U+FF19).
func fullWidth(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r - '0' + '０'
		}
		return r
	}, s)
}

// submit clicks the submit button of the form posting to action, waits
// until the next page has loaded, and for it to show sel.
func submit(action, sel string) chromedp.Action[chromedp.Void] {
	return clickAndLoad(`form[action="`+action+`"] button[type=submit]`, sel)
}

// resend presses the "send a new code" button posting to action, whether it
// is its own form or a formaction button in the code form.
func resend(action, sel string) chromedp.Action[chromedp.Void] {
	return clickAndLoad(`form[action="`+action+`"] button, button[formaction="`+action+`"]`, sel)
}

// clickAndLoad clicks the first element matching the selector list button,
// waits for the page load it triggers (also when the next page looks like
// the last, as a re-rendered form does), then for sel to be visible.
func clickAndLoad(button, sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		lctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		if _, err := chromedp.RunResponse(lctx, chromedp.Click(chromedp.CSS(button))); err != nil {
			return fmt.Errorf("click %s and wait for the page: %w", button, err)
		}
		_, err := chromedp.WaitVisible(chromedp.CSS(sel))(ctx, t)
		return err
	})
}

func typeInto(sel, text string) chromedp.Action[chromedp.Void] {
	return chromedp.SendKeys(chromedp.CSS(sel), text)
}

// imeInput focuses the field and commits text into it the way an input
// method does (Input.insertText), with no key events per character.
func imeInput(sel, text string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Focus(chromedp.CSS(sel)),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, input.InsertText, input.InsertTextParams{Text: text})
			return err
		}),
	)
}

// clearField empties a text field, as select-all and delete would.
func clearField(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.WaitVisible(chromedp.CSS(sel)),
		chromedp.Evaluate[chromedp.Void](`(() => { const e = document.querySelector(`+jsString(sel)+`); e.value = ""; e.dispatchEvent(new Event("input", {bubbles: true})) })()`),
	)
}

func visible(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(chromedp.CSS(sel))
}

// tab is one headless Chromium tab driven by a test. run checks every page
// state it reaches with axe-core, in the light and the dark scheme.
type tab struct {
	t   *testing.T
	ctx context.Context
}

func openTab(t *testing.T) *tab { return &tab{t: t, ctx: newBrowser(t)} }

// do runs the actions and stops the test on the first error.
func (b *tab) do(step string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", step, err)
	}
}

// run runs the actions, which end on a new page state, and checks that
// state's accessibility.
func (b *tab) run(step string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	b.do(step, actions...)
	checkA11y(b.t, b.ctx, step)
}

// eval returns the string value of a JavaScript expression.
func (b *tab) eval(expr string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// pollString evaluates expr until it returns want or two seconds pass, and
// returns its last value.
func (b *tab) pollString(expr, want string) string {
	b.t.Helper()
	var v string
	for end := time.Now().Add(2 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if v = b.eval(expr); v == want || time.Now().After(end) {
			return v
		}
	}
}

func (b *tab) text(sel string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("read %s: %v", sel, err)
	}
	return strings.TrimSpace(v)
}

func (b *tab) attr(sel, name string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.AttributeValue(chromedp.CSS(sel), name))
	if err != nil {
		b.t.Fatalf("read %s[%s]: %v", sel, name, err)
	}
	return v.Value
}

// value is the current value of the first form control matching sel, or
// "(none)" when there is none.
func (b *tab) value(sel string) string {
	b.t.Helper()
	return b.eval(`(() => { const e = document.querySelector(` + jsString(sel) + `); return e ? e.value : "(none)" })()`)
}

func (b *tab) title() string { return b.eval(`document.title`) }

func (b *tab) path() string {
	b.t.Helper()
	u, err := url.Parse(b.eval(`location.href`))
	if err != nil {
		b.t.Fatal(err)
	}
	return u.Path
}

// useLanguage switches the pages to lang with the header's language link,
// as a holder does, unless they already are in it; sel must show after.
func (b *tab) useLanguage(lang, sel string) {
	b.t.Helper()
	if b.attr("html", "lang") == lang {
		return
	}
	b.run("switch to "+lang, clickAndLoad(`nav.langs a[hreflang="`+lang+`"]`, `html[lang="`+lang+`"] `+sel))
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestBrowser_FullJourney drives real headless Chromium through sign-up,
// confirmation, sign-out, sign-in, password change, sign-out, forgotten
// password, reset and sign-in — once in English and once in Japanese. Every
// page state on the way is checked with axe-core, light and dark.
func TestBrowser_FullJourney(t *testing.T) {
	for _, tc := range []struct{ lang, signinH1, accountH1, resetNotice string }{
		{"en", "Sign in", "Your account", "Your password has been reset"},
		{"ja", "ログイン", "アカウント", "パスワードを再設定し"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			p := serve(t, t.TempDir(), cheapArgon)
			b := openTab(t)
			email := "journey-" + tc.lang + "@example.com"
			pw1, pw2, pw3 := "violet canoe at dawn", "second violet canoe", "third violet canoe"
			b.run("open sign-up", chromedp.Navigate(p.URL+"/signup"), visible("#f-email"))
			b.useLanguage(tc.lang, "#f-email")
			if lang := b.attr("html", "lang"); lang != tc.lang {
				t.Fatalf("page language %q, want %q", lang, tc.lang)
			}
			b.run("show password toggle", typeInto("#f-password", pw1), chromedp.Click(chromedp.CSS(`button[data-reveal="f-password"]`)))
			typ, err := chromedp.Run(b.ctx, chromedp.JavascriptAttribute[string](chromedp.CSS("#f-password"), "type"))
			if err != nil || typ != "text" {
				t.Fatalf("show password: input type %q", typ)
			}
			b.run("sign up", typeInto("#f-email", email), submit("/signup", "#f-code"))
			b.run("confirm", typeInto("#f-code", latestCode(t, p.URL, email)), submit("/signup/confirm", "#account-email"))
			if h1 := b.text("h1"); h1 != tc.accountH1 {
				t.Fatalf("account page h1 %q", h1)
			}
			b.run("sign out", submit("/signout", "#f-password"))
			if h1 := b.text("h1"); h1 != tc.signinH1 {
				t.Fatalf("sign-in page h1 %q", h1)
			}
			b.run("sign in", typeInto("#f-email", email), typeInto("#f-password", pw1), submit("/signin", "#account-email"))
			b.run("open change password", clickAndLoad(`a[href="/account/password"]`, "#f-current_password"))
			b.run("change password", typeInto("#f-current_password", pw1), typeInto("#f-new_password", pw2),
				submit("/account/password", ".notice"))
			b.run("sign out again", submit("/signout", "#f-password"))
			b.run("open forgot password", clickAndLoad(`a[href="/password/forgot"]`, "#f-email"))
			b.run("forgot password", typeInto("#f-email", email), submit("/password/forgot", "#f-new_password"))
			b.run("reset", typeInto("#f-code", latestCode(t, p.URL, email)), typeInto("#f-new_password", pw3),
				submit("/password/reset", ".notice"))
			if notice := b.text(".notice"); !strings.Contains(notice, tc.resetNotice) {
				t.Fatalf("after reset: %q", notice)
			}
			if filled := b.value("#f-email"); filled != email {
				t.Fatalf("the sign-in page after a reset should carry the address, has %q", filled)
			}
			b.run("sign in with the new password", typeInto("#f-password", pw3),
				submit("/signin", "#account-email"))
			if shown := b.text("#account-email"); shown != email {
				t.Fatalf("account shows %q", shown)
			}
		})
	}
}

// signUpJa opens sign-up in Japanese and signs up, ending on the code page.
func signUpJa(t *testing.T, p *proc, b *tab, email string) {
	t.Helper()
	b.run("open sign-up", chromedp.Navigate(p.URL+"/signup"), visible("#f-email"))
	b.useLanguage("ja", "#f-email")
	b.run("sign up", typeInto("#f-email", email), typeInto("#f-password", "violet canoe at dawn"), submit("/signup", "#f-code"))
}

// TestBrowser_Ja_LanguageSwitchOnCodePageKeepsRequestAndCode: after a wrong
// code, and after "send a new code" during the cool-down, the language link
// shows the same code page in the other language — same request, the typed
// code still in the field — and the request can still be confirmed.
func TestBrowser_Ja_LanguageSwitchOnCodePageKeepsRequestAndCode(t *testing.T) {
	p := serve(t, t.TempDir(), cheapArgon)
	b := openTab(t)
	email := "switch-ja@example.com"
	signUpJa(t, p, b, email)
	req := b.value(`form[action="/signup/confirm"] input[name=c]`)
	code := latestCode(t, p.URL, email)
	wrong := wrongCode(code)

	b.run("confirm with a wrong code", typeInto("#f-code", wrong), submit("/signup/confirm", "#f-code"))
	b.run("switch to English after the wrong code", clickAndLoad(`nav.langs a[hreflang="en"]`, `html[lang="en"] main`))
	expectCodePage := func(after, lang string) {
		t.Helper()
		if got := b.attr("html", "lang"); got != lang {
			t.Errorf("after %s: page language %q, want %q", after, got, lang)
		}
		if got := b.value("#f-code"); got == "(none)" {
			t.Fatalf("after %s: %s shows no code field (title %q, text %q)", after, b.path(), b.title(), b.text("main"))
		}
		if got := b.value(`input[name=c]`); got != req {
			t.Errorf("after %s: request c=%q, want the same request %q", after, got, req)
		}
		if got := b.value("#f-code"); got != wrong {
			t.Errorf("after %s: code field holds %q, want the typed code %q kept", after, got, wrong)
		}
	}
	expectCodePage("a wrong code and the language switch", "en")

	b.run("switch back to Japanese", clickAndLoad(`nav.langs a[hreflang="ja"]`, `html[lang="ja"] #f-code`))
	expectCodePage("switching back", "ja")
	if b.value("#f-code") != wrong {
		b.do("type the code again", clearField("#f-code"), typeInto("#f-code", wrong))
	}
	b.run("resend during the cool-down", resend("/signup/confirm/resend", "#f-code"))
	b.run("switch to English after the resend", clickAndLoad(`nav.langs a[hreflang="en"]`, `html[lang="en"] main`))
	expectCodePage("a resend during the cool-down and the language switch", "en")

	b.run("confirm with the right code", clearField("#f-code"), typeInto("#f-code", latestCode(t, p.URL, email)),
		submit("/signup/confirm", "#account-email"))
	if got := b.path(); got != "/account" {
		t.Fatalf("after confirming: %s, want /account", got)
	}
}

// TestBrowser_Ja_FullWidthCodeIsAccepted: the code typed with a Japanese
// IME, in full-width digits, confirms the address.
func TestBrowser_Ja_FullWidthCodeIsAccepted(t *testing.T) {
	p := serve(t, t.TempDir(), cheapArgon)
	b := openTab(t)
	email := "fullwidth-ja@example.com"
	signUpJa(t, p, b, email)
	code := fullWidth(latestCode(t, p.URL, email))
	b.do("type the code with an IME", imeInput("#f-code", code))
	if got := b.value("#f-code"); got != code {
		t.Fatalf("code field holds %q, want %q", got, code)
	}
	if err := chromedp.Do(b.ctx, submit("/signup/confirm", "main")); err != nil {
		t.Fatalf("submit: %v", err)
	}
	if got := b.path(); got != "/account" {
		t.Fatalf("full-width code %q: landed on %s (title %q), field error %q", code, got, b.title(),
			b.eval(`(document.querySelector("#e-code") || document.querySelector(".field-error, .error") || {textContent: ""}).textContent.trim()`))
	}
	checkA11y(t, b.ctx, "confirm with full-width digits")
}

// japanTime is how a Japanese holder reads a time: 2026年11月28日 10:26（日本時間）.
var japanTime = regexp.MustCompile(`\d{4}年\d{1,2}月\d{1,2}日 \d{1,2}:\d{2}（日本時間）`)

// TestBrowser_Ja_AccountShowsJapanTime: the account page of a Japanese
// holder writes the session's start in Japan time, the Japanese way, and
// nowhere in UTC.
func TestBrowser_Ja_AccountShowsJapanTime(t *testing.T) {
	p := serve(t, t.TempDir(), cheapArgon)
	b := openTab(t)
	email := "time-ja@example.com"
	signUpJa(t, p, b, email)
	b.run("confirm", typeInto("#f-code", latestCode(t, p.URL, email)), submit("/signup/confirm", "#account-email"))
	// The page's text, leaving out the choices of a time-zone menu (where
	// "UTC" is a fair option).
	shown := b.eval(`(() => { const c = document.body.cloneNode(true); c.querySelectorAll("select, option, datalist").forEach(e => e.remove()); return c.innerText || c.textContent })()`)
	if !japanTime.MatchString(shown) {
		t.Errorf("account page shows no time like 2026年11月28日 10:26（日本時間）:\n%s", shown)
	}
	if strings.Contains(shown, "UTC") {
		t.Errorf("account page writes a time in UTC:\n%s", shown)
	}
}

// TestBrowser_Ja_ConfirmInAnotherBrowserChoosesThePassword: the code page
// opened in a browser other than the one that signed up (the pre-hijacking
// case) asks for the password, in Japanese, passes the accessibility check,
// and the password typed at sign-up never works.
func TestBrowser_Ja_ConfirmInAnotherBrowserChoosesThePassword(t *testing.T) {
	p := serve(t, t.TempDir(), cheapArgon)
	first := openTab(t)
	email := "elsewhere-ja@example.com"
	first.run("open sign-up", chromedp.Navigate(p.URL+"/signup"), visible("#f-email"))
	first.useLanguage("ja", "#f-email")
	first.run("sign up", typeInto("#f-email", email), typeInto("#f-password", "the first browser's phrase"),
		submit("/signup", "#f-code"))
	confirmURL := first.eval(`location.href`)

	other := openTab(t)
	other.run("open the code page elsewhere", chromedp.Navigate(confirmURL), visible("#f-code"))
	other.useLanguage("ja", "#f-code")
	other.run("enter the code", typeInto("#f-code", latestCode(t, p.URL, email)), submit("/signup/confirm", "#f-new_password"))
	if h1 := other.text("h1"); h1 != "パスワードの設定" {
		t.Fatalf("page h1 %q, want the choose-a-password page", h1)
	}
	if u := other.attr(`input[name="username"]`, "value"); u != email {
		t.Fatalf("hidden username %q: password managers need the address", u)
	}
	other.run("choose the password", typeInto("#f-new_password", "the owner's own phrase"), submit("/signup/confirm", "#f-password"))
	if notice := other.text(".notice"); !strings.Contains(notice, "設定したパスワードでログイン") {
		t.Fatalf("sign-in notice %q", notice)
	}
	other.run("sign in with the sign-up password", typeInto("#f-password", "the first browser's phrase"), submit("/signin", "#error-summary"))
	other.run("sign in with the chosen password", clearField("#f-password"), typeInto("#f-password", "the owner's own phrase"),
		submit("/signin", "#account-email"))
}
