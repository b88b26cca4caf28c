package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

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
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium(t)),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1000, 900),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() {
		if t.Failed() {
			screenshot(t, ctx)
		}
		cancelT()
		cancelC()
		cancelA()
	})
	if err := chromedp.Do(ctx); err != nil {
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
		}
	}
	t.Fatalf("no code for %s", to)
	return ""
}

// submit clicks the submit button of the form posting to action and waits
// for the next page to show sel.
func submit(action, sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Click(chromedp.CSS(`form[action="`+action+`"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(sel)),
	)
}

func typeInto(sel, text string) chromedp.Action[chromedp.Void] {
	return chromedp.SendKeys(chromedp.CSS(sel), text)
}

func visible(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(chromedp.CSS(sel))
}

// TestBrowser_FullJourney drives real headless Chromium through sign-up,
// confirmation, sign-out, sign-in, password change, sign-out, forgotten
// password, reset and sign-in — once in English and once in Japanese.
func TestBrowser_FullJourney(t *testing.T) {
	for _, tc := range []struct{ lang, switchTo, signinH1, accountH1, resetNotice string }{
		{"en", "", "Sign in", "Your account", "Your password has been reset"},
		{"ja", "日本語", "ログイン", "アカウント", "パスワードを再設定し"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			p := serve(t, t.TempDir(), cheapArgon)
			ctx := newBrowser(t)
			email := "journey-" + tc.lang + "@example.com"
			pw1, pw2, pw3 := "violet canoe at dawn", "second violet canoe", "third violet canoe"
			run := func(step string, actions ...chromedp.Action[chromedp.Void]) {
				t.Helper()
				if err := chromedp.Do(ctx, actions...); err != nil {
					t.Fatalf("%s: %v", step, err)
				}
			}
			text := func(sel string) string {
				t.Helper()
				v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
				if err != nil {
					t.Fatalf("read %s: %v", sel, err)
				}
				return strings.TrimSpace(v)
			}
			attr := func(sel, name string) string {
				t.Helper()
				v, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(sel), name))
				if err != nil {
					t.Fatalf("read %s[%s]: %v", sel, name, err)
				}
				return v.Value
			}
			run("open sign-up", chromedp.Navigate(p.URL+"/signup"), visible("#f-email"))
			if tc.switchTo != "" {
				run("switch language", chromedp.Click(chromedp.CSS(`a[hreflang="`+tc.lang+`"]`)), visible(`html[lang="`+tc.lang+`"] #f-email`))
			}
			if lang := attr("html", "lang"); lang != tc.lang {
				t.Fatalf("page language %q, want %q", lang, tc.lang)
			}
			run("show password toggle", typeInto("#f-password", pw1), chromedp.Click(chromedp.CSS(`button[data-reveal="f-password"]`)))
			typ, err := chromedp.Run(ctx, chromedp.JavascriptAttribute[string](chromedp.CSS("#f-password"), "type"))
			if err != nil || typ != "text" {
				t.Fatalf("show password: input type %q", typ)
			}
			run("sign up", typeInto("#f-email", email), submit("/signup", "#f-code"))
			run("confirm", typeInto("#f-code", latestCode(t, p.URL, email)), submit("/signup/confirm", "#account-email"))
			if h1 := text("h1"); h1 != tc.accountH1 {
				t.Fatalf("account page h1 %q", h1)
			}
			run("sign out", submit("/signout", "#f-password"))
			if h1 := text("h1"); h1 != tc.signinH1 {
				t.Fatalf("sign-in page h1 %q", h1)
			}
			run("sign in", typeInto("#f-email", email), typeInto("#f-password", pw1), submit("/signin", "#account-email"))
			run("change password",
				chromedp.Click(chromedp.CSS(`a[href="/account/password"]`)), visible("#f-current_password"),
				typeInto("#f-current_password", pw1), typeInto("#f-new_password", pw2),
				submit("/account/password", ".notice"),
			)
			run("sign out again", submit("/signout", "#f-password"))
			run("forgot password",
				chromedp.Click(chromedp.CSS(`a[href="/password/forgot"]`)), visible("#f-email"),
				typeInto("#f-email", email), submit("/password/forgot", "#f-new_password"),
			)
			run("reset", typeInto("#f-code", latestCode(t, p.URL, email)), typeInto("#f-new_password", pw3),
				submit("/password/reset", ".notice"))
			if notice := text(".notice"); !strings.Contains(notice, tc.resetNotice) {
				t.Fatalf("after reset: %q", notice)
			}
			run("sign in with the new password", typeInto("#f-email", email), typeInto("#f-password", pw3),
				submit("/signin", "#account-email"))
			if shown := text("#account-email"); shown != email {
				t.Fatalf("account shows %q", shown)
			}
		})
	}
}
