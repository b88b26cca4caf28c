package web_test

import (
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// mainOf is the page's <main> element, markup and all.
func mainOf(t *testing.T, body string) string {
	t.Helper()
	start, end := strings.Index(body, `<main id="main">`), strings.Index(body, "</main>")
	if start < 0 || end < start {
		t.Fatalf("no <main> in\n%s", body)
	}
	return body[start:end]
}

var (
	downloadLink = regexp.MustCompile(`<a class="button secondary-button" id="backup-download" href="([^"]+)" download="([^"]+)">`)
	firstControl = regexp.MustCompile(`<(?:a|button) [^>]*>`)
)

// TestBackupCodes_CopyDownloadPrint: the backup codes are shown once, one
// an item with no bullets; the download link (no script) is a data: URL
// whose text is exactly the shown codes, one a line, in a file named
// after the service; "copy all" and "print" are buttons the site script
// shows; the print heading names the service. The answer is not stored
// (no-store), and the two-step page never shows the codes again.
func TestBackupCodes_CopyDownloadPrint(t *testing.T) {
	t.Parallel()
	h := newHarness(t, map[string]string{"service_name": "Example Shop"})
	for _, lang := range []string{"en", "ja"} {
		b := h.browser(lang)
		b.signUp("codes-"+lang+"@example.com", goodPassword)
		e, secret := b.enrolApp()
		r := b.post("/account/two-step/app", url.Values{"e": {e}, "name": {"Phone"}, "code": {nowCode(t, secret, time.Now())}})
		if r.status != 200 {
			t.Fatalf("%s: confirm the app: %d\n%s", lang, r.status, r.body)
		}
		var codes []string
		for _, m := range backupIn.FindAllStringSubmatch(r.body, -1) {
			codes = append(codes, m[1])
		}
		if len(codes) != 10 {
			t.Fatalf("%s: %d codes shown", lang, len(codes))
		}
		if !strings.Contains(r.body, `<ul class="backup-codes" id="backup-codes" role="list">`) {
			t.Errorf("%s: the codes are not the unbulleted list", lang)
		}
		m := downloadLink.FindStringSubmatch(r.body)
		if m == nil {
			t.Fatalf("%s: no download link in\n%s", lang, r.body)
		}
		href := html.UnescapeString(m[1])
		data, ok := strings.CutPrefix(href, "data:text/plain;charset=utf-8,")
		if !ok {
			t.Fatalf("%s: download link %q is not a text/plain data: URL", lang, href)
		}
		text, err := url.PathUnescape(data)
		if err != nil || text != strings.Join(codes, "\n")+"\n" {
			t.Errorf("%s: the download holds %q (%v), want the shown codes one a line", lang, text, err)
		}
		if m[2] != "example-shop-backup-codes.txt" {
			t.Errorf("%s: download name %q", lang, m[2])
		}
		for _, want := range []string{
			`<button type="button" class="secondary-button" data-copy="backup-codes" data-status="copy-status" hidden>`,
			`<button type="button" class="secondary-button" data-print hidden>`,
			`id="copy-status" class="copy-status" role="status"`,
			map[string]string{"en": "Backup codes for Example Shop", "ja": "Example Shopのバックアップコード"}[lang],
			map[string]string{"en": "Download (.txt)", "ja": "ダウンロード（.txt）"}[lang],
			map[string]string{"en": "Copy all codes", "ja": "すべてのコードをコピー"}[lang],
		} {
			if !strings.Contains(r.body, want) {
				t.Errorf("%s: the codes page lacks %s", lang, want)
			}
		}
		if cc := r.header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("%s: the codes page may be stored: Cache-Control %q", lang, cc)
		}
		if p := b.get("/account/two-step"); strings.Contains(p.body, codes[0]) || strings.Contains(p.body, "data:text/plain") {
			t.Errorf("%s: the two-step page shows a code again", lang)
		}
	}
}

// TestAppPage_OpenInAppFirst: the first link or button in the app page's
// main content is "Open in authenticator app", the otpauth:// link; the
// key follows with a copy button that copies it without the spaces; the QR
// code and the URI as text stay, and so do the form's fields.
func TestAppPage_OpenInAppFirst(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	for lang, label := range map[string]string{"en": "Open in authenticator app", "ja": "認証アプリで開く"} {
		b := h.browser(lang)
		b.signUp("open-"+lang+"@example.com", goodPassword)
		e, secret := b.enrolApp()
		r := b.get("/account/two-step/app?e=" + url.QueryEscape(e))
		main := mainOf(t, r.body)
		first := firstControl.FindString(main)
		uri := html.UnescapeString(uriInPage.FindStringSubmatch(r.body)[1])
		if !strings.HasPrefix(first, `<a class="button" id="otpauth-open" href="otpauth://totp/`) ||
			html.UnescapeString(regexp.MustCompile(`href="([^"]+)"`).FindStringSubmatch(first)[1]) != uri {
			t.Errorf("%s: first control in main is %s, want the otpauth:// link %s", lang, first, uri)
		}
		if !strings.Contains(main, `id="otpauth-open" href="`) || !strings.Contains(main, ">"+label+"</a>") {
			t.Errorf("%s: no %q button", lang, label)
		}
		if !strings.Contains(main, `data-copy="totp-secret" data-copy-text="`+secret+`"`) {
			t.Errorf("%s: no copy button for the key %s", lang, secret)
		}
		open, qr := strings.Index(main, `id="otpauth-open"`), strings.Index(main, `<svg class="qr"`)
		if qr < 0 || open > qr {
			t.Errorf("%s: the QR code is missing or before the link (link at %d, QR at %d)", lang, open, qr)
		}
		for _, id := range []string{`id="f-name"`, `id="f-code"`, `name="e"`, `id="totp-secret"`} {
			if !strings.Contains(main, id) {
				t.Errorf("%s: the form lost %s", lang, id)
			}
		}
	}
}

// TestTwoStepPage_OneLineAMethod: each method has one short line and a
// rank (recommended / backup) shown once beside its heading; the longer
// comparison is behind a closed <details>.
func TestTwoStepPage_OneLineAMethod(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	for _, tc := range []struct{ lang, good, backup, weaker string }{
		{"en", "Recommended", "Backup", "weaker than an app or a passkey"},
		{"ja", "おすすめ", "予備", "認証アプリやパスキーより弱い方法です"},
	} {
		b := h.browser(tc.lang)
		b.signUp("short-"+tc.lang+"@example.com", goodPassword)
		main := mainOf(t, b.get("/account/two-step").body)
		if n := strings.Count(main, `<span class="rank">`+tc.good+`</span>`); n != 2 {
			t.Errorf("%s: %d methods marked %s, want passkeys and apps", tc.lang, n, tc.good)
		}
		if n := strings.Count(main, `<span class="rank rank-backup">`+tc.backup+`</span>`); n != 1 {
			t.Errorf("%s: %d methods marked %s, want SMS", tc.lang, n, tc.backup)
		}
		open, close := strings.Index(main, `<details id="two-step-compare">`), strings.Index(main, "</details>")
		if open < 0 || close < open {
			t.Fatalf("%s: no comparison disclosure", tc.lang)
		}
		// Every warning about codes by SMS or email is inside it.
		if n := strings.Count(main, tc.weaker); n == 0 || strings.Count(main[open:close], tc.weaker) != n {
			t.Errorf("%s: %q missing or outside the disclosure", tc.lang, tc.weaker)
		}
		visible := main[:open] + main[close:]
		text := regexp.MustCompile(`<[^>]+>`).ReplaceAllString(visible, "")
		if n := len([]rune(strings.Join(strings.Fields(text), " "))); n > map[string]int{"en": 700, "ja": 350}[tc.lang] {
			t.Errorf("%s: the page shows %d characters outside the disclosure", tc.lang, n)
		}
	}
}

// TestConfirm_LandsOnAccountWithNotice: confirming sign-up lands on
// /account, which says the account was created.
func TestConfirm_LandsOnAccountWithNotice(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	for lang, want := range map[string]string{"en": "Your account was created.", "ja": "アカウントを作成しました。"} {
		b := h.browser(lang)
		b.signUp("created-"+lang+"@example.com", goodPassword) // checks the redirect
		r := b.get("/account?notice=account_created")
		if r.status != 200 || !strings.Contains(r.body, `<p class="notice" role="status">`+want+`</p>`) {
			t.Errorf("%s: account page after sign-up: %d, lacks %q", lang, r.status, want)
		}
	}
}

// TestMessages_SearchButtonBesideFieldAndReferencesKeptWhole: the message
// center's search button is the primary style, right after its field; a
// reference in the "searched" line and in the heading of /why/{ref} is
// wrapped so that it never breaks at its hyphens.
func TestMessages_SearchButtonBesideFieldAndReferencesKeptWhole(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	b := h.browser("en")
	const email = "search@example.com"
	b.signUp(email, goodPassword)
	r := b.get("/account/messages")
	if !regexp.MustCompile(`<div class="input-row"><input id="f-ref" [^>]*><button type="submit">Find</button></div>`).MatchString(r.body) {
		t.Errorf("the search button is not a primary button right after the field:\n%s", mainOf(t, r.body))
	}
	ref := h.messagesTo(email)[0].Reference
	if p := b.get("/account/messages?ref=" + ref); !strings.Contains(p.body, `<span class="nowrap">`+ref+`</span>`) {
		t.Errorf("the searched line does not keep %s whole:\n%s", ref, mainOf(t, p.body))
	}
	// The story's heading is now why it was sent; the reference, in its
	// details, is kept whole.
	if p := b.get("/why/" + ref); !strings.Contains(p.body, `<code class="nowrap">`+ref+`</code>`) {
		t.Errorf("the story of /why/%s does not keep it whole:\n%s", ref, mainOf(t, p.body))
	}
}
