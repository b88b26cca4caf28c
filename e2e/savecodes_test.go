package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// viewport emulates a screen width × height; mobile also emulates a
// phone's touch screen and meta-viewport handling.
func viewport(w, h int64, mobile bool) chromedp.Action[chromedp.Void] {
	if mobile {
		return chromedp.EmulateViewport(w, h, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait)
	}
	return chromedp.EmulateViewport(w, h)
}

// printMedia emulates (or with on false, stops emulating) the print media
// type; the colour scheme goes back to light either way.
func printMedia(on bool) chromedp.Action[chromedp.Void] {
	if !on {
		return colorScheme("light")
	}
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"})
		return err
	})
}

// shot saves a full-page screenshot as name.png into $GATEHOUSE_SHOTS, when
// that is set (for a person to look at the pages; nothing checks them).
func shot(b *tab, name string) {
	dir := os.Getenv("GATEHOUSE_SHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
}

// headerOnOneRow reports "" when the header's brand, language links and
// sign-out button share one row and nothing scrolls sideways, or what is
// wrong.
const headerOnOneRow = `(() => {
  const r = s => document.querySelector(s).getBoundingClientRect();
  const brand = r("header .brand");
  const on = x => x.top < brand.bottom && x.bottom > brand.top;
  const out = [];
  if (!on(r("header .langs"))) out.push("language links below the brand");
  if (!on(r("header .signout button"))) out.push("sign-out below the brand");
  const b = document.querySelector("header .brand");
  if (b.scrollWidth > b.clientWidth) out.push("brand cut short");
  if (r("header").height > 64) out.push("header " + Math.round(r("header").height) + "px tall");
  if (document.documentElement.scrollWidth > innerWidth) out.push("page " + document.documentElement.scrollWidth + "px wide in " + innerWidth);
  return out.join("; ");
})()`

// TestBrowser_SavingCodesAndPhoneApp walks, on a phone (390×844, and the
// header also at 320) and on a desktop (1280×900), in English and Japanese:
// the notice after confirming sign-up; the header's sign-out on the brand's
// row; the two-step page with its details closed; adding an authenticator
// app, where the otpauth:// link comes first in the page (and on a phone
// above the QR code) and the key's copy button copies the key; the backup
// codes, which copy one a line by selection and by "copy all", download as
// a .txt file of exactly the codes (a data: link under the site's CSP),
// and print as the codes and the service name alone; the message center's
// search button beside its field. Every state passes axe, light and dark.
func TestBrowser_SavingCodesAndPhoneApp(t *testing.T) {
	for _, tc := range []struct {
		name, lang string
		w, h       int64
		mobile     bool
		created    string
		maxChars   int // of the two-step page's visible text (893 in ja before)
	}{
		{"phone-en", "en", 390, 844, true, "Your account was created", 700},
		{"phone-ja", "ja", 390, 844, true, "アカウントを作成しました", 400},
		{"desktop-ja", "ja", 1280, 900, false, "アカウントを作成しました", 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := serve(t, t.TempDir(), map[string]string{
				"GATEHOUSE_ARGON2_MEMORY_KIB": "8192", "GATEHOUSE_ARGON2_ITERATIONS": "1",
				"GATEHOUSE_SERVICE_NAME": "Example Shop",
			})
			b := openTab(t)
			b.do("screen", viewport(tc.w, tc.h, tc.mobile))
			email := "save-" + tc.name + "@example.com"

			b.run("open sign-up", chromedp.Navigate(p.URL+"/signup"), visible("#f-email"))
			b.useLanguage(tc.lang, "#f-email")
			b.run("sign up", typeInto("#f-email", email), typeInto("#f-password", "violet canoe at dawn"), submit("/signup", "#f-code"))
			b.run("confirm", typeInto("#f-code", latestCode(t, p.URL, email)), submit("/signup/confirm", "#account-email"))
			if n := b.text(".notice"); !strings.Contains(n, tc.created) {
				t.Errorf("after confirming sign-up the notice is %q, want %q", n, tc.created)
			}
			shot(b, tc.name+"-account")
			if got := b.eval(headerOnOneRow); got != "" {
				t.Errorf("header at %d px: %s", tc.w, got)
			}
			if tc.mobile {
				b.do("a 320 px screen", viewport(320, 640, true))
				if got := b.eval(headerOnOneRow); got != "" {
					t.Errorf("header at 320 px: %s", got)
				}
				b.run("account at 320 px", visible("#account-email"))
				shot(b, tc.name+"-account-320")
				b.do("back to the phone", viewport(tc.w, tc.h, tc.mobile))
			}

			// The two-step page: short, the details closed.
			b.run("two-step settings", chromedp.Navigate(p.URL+"/account/two-step"), visible("#two-step-state"))
			shot(b, tc.name+"-twostep")
			if open := b.eval(`String(document.getElementById("two-step-compare").open)`); open != "false" {
				t.Errorf("the comparison is open: %s", open)
			}
			if n := b.eval(`String(document.querySelectorAll("main h2 .rank").length)`); n != "3" {
				t.Errorf("%s ranked methods, want 3", n)
			}
			if n, _ := strconv.Atoi(b.eval(`String(document.querySelector("main").innerText.length)`)); n > tc.maxChars {
				t.Errorf("the two-step page shows %d characters, want at most %d", n, tc.maxChars)
			}
			b.run("open the comparison", chromedp.Click(chromedp.CSS("#two-step-compare summary")), visible("#two-step-compare p"))

			// Adding an app: the otpauth:// link first.
			b.run("add an app", chromedp.Navigate(p.URL+"/account/two-step/app"), visible("svg.qr"))
			shot(b, tc.name+"-app")
			if first := b.eval(`(() => { const a = document.querySelector("main a, main button:not([hidden])"); return a.id + " " + a.getAttribute("href") })()`); !strings.HasPrefix(first, "otpauth-open otpauth://totp/") {
				t.Errorf("first link or button in main: %q, want the otpauth:// link", first)
			}
			order := b.eval(`document.getElementById("otpauth-open").getBoundingClientRect().top < document.querySelector("svg.qr").getBoundingClientRect().top ? "link first" : "QR first"`)
			if want := map[bool]string{true: "link first", false: "QR first"}[tc.mobile]; order != want {
				t.Errorf("at %d px: %s, want %s", tc.w, order, want)
			}
			uri := b.eval(`document.getElementById("otpauth-uri").textContent`)
			secret := strings.ReplaceAll(b.text("#totp-secret"), " ", "")
			grantClipboard(t, b, p.URL)
			b.do("copy the key", chromedp.Click(chromedp.CSS(`button[data-copy="totp-secret"]`)))
			b.pollString(`document.getElementById("copy-status").textContent`, b.attr("#copy-status", "data-done"))
			if got := readClipboard(b); got != secret {
				t.Errorf("copied key %q, want %q", got, secret)
			}
			b.run("confirm the app", clearField("#f-name"), typeInto("#f-name", "Phone"), typeInto("#f-code", appCode(t, uri, time.Now())),
				submit("/account/two-step/app", ".backup-code"))
			shot(b, tc.name+"-backup")

			// The backup codes.
			codes := strings.Fields(b.eval(`Array.from(document.querySelectorAll(".backup-code")).map(e => e.textContent).join(" ")`))
			if len(codes) != 10 {
				t.Fatalf("%d backup codes", len(codes))
			}
			want := strings.Join(codes, "\n")
			if ls := b.eval(`getComputedStyle(document.getElementById("backup-codes")).listStyleType`); ls != "none" {
				t.Errorf("the codes have bullets: list-style-type %s", ls)
			}
			selected := b.eval(`(() => { const r = document.createRange(); r.selectNodeContents(document.getElementById("backup-codes")); const s = getSelection(); s.removeAllRanges(); s.addRange(r); const t = s.toString(); s.removeAllRanges(); return t })()`)
			if strings.TrimSpace(selected) != want {
				t.Errorf("selecting the codes copies %q, want one a line:\n%s", selected, want)
			}
			b.do("copy all", chromedp.Click(chromedp.CSS(`button[data-copy="backup-codes"]`)))
			b.pollString(`document.getElementById("copy-status").textContent`, b.attr("#copy-status", "data-done"))
			if got := readClipboard(b); got != want {
				t.Errorf("copy all copied %q, want:\n%s", got, want)
			}
			checkA11y(t, b.ctx, "codes copied")

			dir := t.TempDir()
			b.do("allow downloads", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				_, err := cdp.Call(ctx, tg, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir})
				return err
			}))
			name := b.attr("#backup-download", "download")
			if name != "example-shop-backup-codes.txt" {
				t.Errorf("download name %q", name)
			}
			b.do("download", chromedp.Click(chromedp.CSS("#backup-download")))
			var file []byte
			for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
				if f, err := os.ReadFile(filepath.Join(dir, name)); err == nil && len(f) > 0 {
					file = f
					break
				}
			}
			if string(file) != want+"\n" {
				entries, _ := os.ReadDir(dir)
				t.Errorf("downloaded %q (files %v), want the codes one a line:\n%s", file, entries, want)
			}
			if got := b.path(); got != "/account/two-step/app" {
				t.Errorf("the download navigated to %s", got)
			}

			b.do("print", printMedia(true))
			shot(b, tc.name+"-backup-print")
			printed := b.eval(`(() => {
  const shown = e => e && getComputedStyle(e).display !== "none" && e.getClientRects().length > 0;
  const out = [];
  for (const e of document.querySelectorAll("header, main > *")) if (shown(e) && e.id !== "backup-sheet") out.push(e.tagName + (e.id ? "#" + e.id : "") + "." + e.className);
  if (!shown(document.getElementById("backup-print-heading"))) out.push("no service name");
  if (!shown(document.getElementById("backup-codes"))) out.push("no codes");
  return out.join(", ");
})()`)
			heading := b.text("#backup-print-heading")
			b.do("stop printing", printMedia(false))
			if printed != "" {
				t.Errorf("printing shows %s; want only the codes and the service name", printed)
			}
			if !strings.Contains(heading, "Example Shop") {
				t.Errorf("printed heading %q lacks the service name", heading)
			}

			// The message center's search: the primary button beside the field.
			b.run("messages", chromedp.Navigate(p.URL+"/account/messages"), visible("#f-ref"))
			shot(b, tc.name+"-messages")
			place := b.eval(`(() => {
  const f = document.getElementById("f-ref").getBoundingClientRect(), btn = document.querySelector("form[action='/account/messages'] button[type=submit]");
  const r = btn.getBoundingClientRect(), bg = getComputedStyle(btn).backgroundColor;
  const out = [];
  if (r.left - f.right > 16 || r.left < f.right) out.push("button " + Math.round(r.left - f.right) + "px from the field");
  if (Math.abs(r.top - f.top) > 4) out.push("button not on the field's row");
  if (bg === "rgba(0, 0, 0, 0)" || bg === "transparent") out.push("button not filled");
  for (const c of document.querySelectorAll("main code")) if (c.getClientRects().length > 1) out.push("reference broken: " + c.textContent);
  return out.join("; ");
})()`)
			if place != "" {
				t.Errorf("message search: %s", place)
			}
		})
	}
}

// grantClipboard lets the page at origin read and write the clipboard, so
// that the test can read back what a copy button copied.
func grantClipboard(t *testing.T, b *tab, origin string) {
	t.Helper()
	for _, name := range []string{"clipboard-read", "clipboard-write"} {
		b.do("grant "+name, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, browser.SetPermission, browser.SetPermissionParams{
				Permission: &browser.PermissionDescriptor{Name: name}, Setting: browser.PermissionSettingGranted, Origin: origin,
			})
			return err
		}))
	}
}

func readClipboard(b *tab) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`navigator.clipboard.readText()`, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Errorf("read the clipboard: %v", err)
	}
	return v
}
