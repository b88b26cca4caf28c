package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// cbPhishingJa is a made-up phishing text of the kind a Japanese holder
// gets: it names us, links to a look-alike of our domain, hurries the
// reader (24時間以内に) and asks for the password.
const cbPhishingJa = `【Gatehouse】24時間以内にご本人確認をお願いします

いつも Gatehouse をご利用いただきありがとうございます。
お客様のアカウントで、第三者による不審なログインを確認しました。
以下のリンクからログインし、パスワードを入力してご本人確認を完了してください。

https://gatehouse-login.example.net/ja/verify?session=8f3a2c

期限までに確認いただけない場合、アカウントのご利用を制限いたします。

Gatehouse サポートセンター`

// cbJapanese finds kana: a text in Japanese has some.
var cbJapanese = regexp.MustCompile(`\p{Hiragana}|\p{Katakana}`)

// cbSubmitCheck presses the /check form's button, waits for the page it
// loads and for sel, and returns the page's HTTP status.
func (b *tab) cbSubmitCheck(step, sel string) int64 {
	b.t.Helper()
	var status int64
	b.run(step, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		lctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		resp, err := chromedp.RunResponse(lctx, chromedp.Click(chromedp.CSS(`#check-form button[type=submit]`)))
		if err != nil {
			return fmt.Errorf("submit the check form: %w", err)
		}
		status = resp.Status
		_, err = chromedp.WaitVisible(chromedp.CSS(sel))(ctx, t)
		return err
	}))
	return status
}

// cbVerdict checks the verdict the page shows — its data-verdict exactly,
// its heading's start — and that every code is among the reasons; it
// returns the reasons' texts by code.
func (b *tab) cbVerdict(step, verdict, heading string, codes ...string) map[string]string {
	b.t.Helper()
	if got := b.attr("#verdict", "data-verdict"); got != verdict {
		b.t.Errorf("%s: data-verdict %q, want %q\n%s", step, got, verdict, b.text("main"))
	}
	if h := b.text("#verdict h2"); !strings.HasPrefix(h, heading) {
		b.t.Errorf("%s: verdict heading %q, want it to start with %q", step, h, heading)
	}
	// The box says the verdict; the h1 above it does not say it again.
	if h1 := b.text("h1"); strings.Contains(h1, heading) {
		b.t.Errorf("%s: the h1 %q repeats the verdict", step, h1)
	}
	reasons := map[string]string{}
	for _, line := range strings.Split(b.eval(`Array.from(document.querySelectorAll("#reasons li[data-code]")).map(li => li.dataset.code + "\t" + li.textContent.trim()).join("\n")`), "\n") {
		if code, text, ok := strings.Cut(line, "\t"); ok {
			reasons[code] = text
		}
	}
	for _, c := range codes {
		if _, ok := reasons[c]; !ok {
			b.t.Errorf("%s: no reason %s among %q", step, c, reasons)
		}
	}
	return reasons
}

// cbText is the trimmed text of the first element matching sel, or
// "(none)" at once when there is none (b.text would wait for it).
func (b *tab) cbText(sel string) string {
	b.t.Helper()
	return b.eval(`(() => { const e = document.querySelector(` + jsString(sel) + `); return e ? e.textContent.trim() : "(none)" })()`)
}

// cbCount is how many elements match sel.
func (b *tab) cbCount(sel string) string {
	b.t.Helper()
	return b.eval(`String(document.querySelectorAll(` + jsString(sel) + `).length)`)
}

// cbEmptySubmit sends the form with nothing in it and checks the answer:
// 422, the error summary (titled, focused) and the field's error, in the
// page's language.
func (b *tab) cbEmptySubmit(step, lang, titlePrefix, message string) {
	b.t.Helper()
	b.do(step+": empty the form", clearField("#f-text"), clearField("#f-ref"))
	if status := b.cbSubmitCheck(step, "#error-summary"); status != http.StatusUnprocessableEntity {
		b.t.Errorf("%s: status %d, want 422", step, status)
	}
	if got := b.attr("html", "lang"); got != lang {
		b.t.Errorf("%s: page language %q, want %q", step, got, lang)
	}
	if title := b.title(); !strings.HasPrefix(title, titlePrefix) {
		b.t.Errorf("%s: title %q, want it to start with %q", step, title, titlePrefix)
	}
	if s := b.cbText("#error-summary a[href='#f-text']"); s != message {
		b.t.Errorf("%s: error summary link %q (summary %q), want a link to the text field saying %q", step, s, b.text("#error-summary"), message)
	}
	if e := b.cbText("#e-text"); e != message {
		b.t.Errorf("%s: field error %q, want %q", step, e, message)
	}
	if inv := b.attr("#f-text", "aria-invalid"); inv != "true" {
		b.t.Errorf("%s: the text field is not marked invalid (aria-invalid %q)", step, inv)
	}
	if n := b.cbCount("#verdict"); n != "0" {
		b.t.Errorf("%s: the error page shows a verdict", step)
	}
	if f := b.pollString(`document.activeElement ? document.activeElement.id : ""`, "error-summary"); f != "error-summary" {
		b.t.Errorf("%s: focus on %q, want the error summary", step, f)
	}
}

// cbDownload fetches the raw email of ref from the dev driver, as a holder
// saves it from their mail program, into a file named ref.eml.
func cbDownload(t *testing.T, p *proc, ref string) string {
	t.Helper()
	raw := devEML(t, p.URL, ref) // polls until the dev driver has it
	if !strings.Contains(string(raw), "DKIM-Signature:") {
		t.Fatalf("GET /dev/messages/%s.eml: not signed\n%.500s", ref, raw)
	}
	name := filepath.Join(t.TempDir(), ref+".eml")
	if err := os.WriteFile(name, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	return name
}

// TestBrowser_Check_PasteAGenuineAndAPhishingMessageInBothLanguages: a
// Japanese holder follows the message center's link to /check and pastes
// their real sign-up email, code and all: genuine, and the page shows what
// we sent (the code hidden). A crafted phishing text — our name, a
// look-alike link, 24時間以内に, the password asked for — is not ours, for
// reasons written in Japanese; "report this" files it and the page lists
// it. Then someone signed out, in another browser and in English, uploads
// the same email's .eml: genuine, its DKIM signature ours, and nothing of
// the holder's shown. Its reference alone cannot tell; a made-up one is
// not ours; an empty form answers 422 with the error in the page's
// language. Every state is checked with axe-core, light and dark.
func TestBrowser_Check_PasteAGenuineAndAPhishingMessageInBothLanguages(t *testing.T) {
	p := serve(t, t.TempDir(), cheapArgon)
	const email = "check-holder-ja@example.com"

	holder := openTab(t)
	signUpJa(t, p, holder, email)
	signup := newestMail(t, p.URL, email, "confirm_email")
	code := signup.code(t)
	holder.run("confirm", typeInto("#f-code", code), submit("/signup/confirm", "#account-email"))

	holder.run("open the message center", chromedp.Navigate(p.URL+"/account/messages"), visible("#check-link a"))
	holder.run("follow the check link", clickAndLoad("#check-link a", "#f-text"))
	holder.expectPath("follow the check link", "/check")
	if lang := holder.attr("html", "lang"); lang != "ja" {
		t.Fatalf("/check for a Japanese holder: page language %q", lang)
	}
	if h1 := holder.text("h1"); h1 != "このメッセージは本物？" {
		t.Errorf("/check h1 %q", h1)
	}
	if n := holder.cbCount("#verdict, #reasons"); n != "0" {
		t.Errorf("/check before any check shows a verdict")
	}

	// The real sign-up email, as the mailbox shows it, code included.
	holder.do("paste the sign-up email", imeInput("#f-text", signup.Text))
	if got := holder.value("#f-text"); !strings.Contains(got, code) || !strings.Contains(got, signup.Reference) {
		t.Fatalf("the textarea holds %q, want the pasted email", got)
	}
	if status := holder.cbSubmitCheck("check the sign-up email", "#verdict"); status != http.StatusOK {
		t.Errorf("check the sign-up email: status %d", status)
	}
	holder.expectPath("check the sign-up email", "/check")
	reasons := holder.cbVerdict("the sign-up email", "genuine", "本物です", "content_matches")
	if r := reasons["content_matches"]; !strings.Contains(r, signup.Reference) || !strings.Contains(r, "完全に一致") {
		t.Errorf("content_matches reads %q, want it to name %s in Japanese", r, signup.Reference)
	}
	for c := range reasons {
		if strings.HasPrefix(c, "asks_") || strings.HasPrefix(c, "link_") || c == "pressure" {
			t.Errorf("our own email is given the phishing reason %s: %q", c, reasons[c])
		}
	}
	own := holder.cbText("#own-message")
	for _, want := range []string{"あなた宛てのメッセージです", signup.Reference, "このメールアドレスで Gatehouse のアカウントが作成されようとしています"} {
		if !strings.Contains(own, want) {
			t.Errorf("#own-message lacks %q:\n%s", want, own)
		}
	}
	if strings.Contains(own, code) {
		t.Errorf("#own-message shows the code %s; it should be hidden:\n%s", code, own)
	}
	if href := holder.eval(`(() => { const a = document.querySelector("#own-message a"); return a ? a.getAttribute("href") : "(none)" })()`); href != "/why/"+signup.Reference {
		t.Errorf("#own-message links to %q, want /why/%s", href, signup.Reference)
	}
	if n := holder.cbCount("#report-form"); n != "0" {
		t.Error("our own sign-up email is offered for reporting")
	}

	// A phishing text in Japanese.
	holder.do("paste a phishing text", clearField("#f-text"), imeInput("#f-text", cbPhishingJa))
	holder.cbSubmitCheck("check the phishing text", "#verdict")
	reasons = holder.cbVerdict("the phishing text", "not_ours", "当サービスからのメッセージではありません", "link_lookalike", "asks_password", "pressure")
	for c, want := range map[string]string{
		"link_lookalike": "gatehouse-login.example.net",
		"asks_password":  "パスワード",
		"pressure":       "24時間以内",
	} {
		if r := reasons[c]; !strings.Contains(r, want) || !cbJapanese.MatchString(r) {
			t.Errorf("reason %s reads %q, want it in Japanese, quoting %q", c, r, want)
		}
	}
	if n := holder.cbCount("#own-message"); n != "0" {
		t.Error("the phishing text shows an own message")
	}
	if n := holder.cbCount("#reports li"); n != "0" {
		t.Errorf("reports listed before any was filed: %s", holder.text("#reports"))
	}
	holder.run("report this", clickAndLoad(`#report-form button[type=submit]`, "#reports"))
	holder.expectPath("report this", "/check")
	if q := holder.eval(`location.search`); q != "?notice=reported" {
		t.Errorf("after reporting at %s, want ?notice=reported", q)
	}
	if n := holder.cbText(".notice"); !strings.Contains(n, "ご報告ありがとうございます") {
		t.Errorf("notice after reporting %q", n)
	}
	if n := holder.cbCount("#reports li"); n != "1" {
		t.Errorf("#reports lists %s reports, want 1:\n%s", n, holder.text("#reports"))
	}
	if rep := holder.text("#reports"); !strings.Contains(rep, "貼り付けた文章") || !strings.Contains(rep, "当サービスからのメッセージではありません") {
		t.Errorf("the report reads %q, want the pasted text, not ours", rep)
	}
	holder.cbEmptySubmit("empty check in Japanese", "ja", "エラー：", "メッセージを貼り付けるか、.eml ファイルを選ぶか、参照番号を入力してください。")

	// Someone signed out, in another browser, in English.
	eml := cbDownload(t, p, signup.Reference)
	visitor := openTab(t)
	visitor.run("open /check signed out", chromedp.Navigate(p.URL+"/check"), visible("#f-eml"))
	visitor.useLanguage("en", "#f-eml")
	visitor.do("choose the .eml", chromedp.SetUploadFiles(chromedp.CSS("#f-eml"), []string{eml}))
	if n := visitor.eval(`String(document.querySelector("#f-eml").files.length)`); n != "1" {
		t.Fatalf("the file input holds %s files", n)
	}
	visitor.cbSubmitCheck("check the .eml", "#verdict")
	reasons = visitor.cbVerdict("the .eml", "genuine", "Genuine", "dkim_ours", "content_matches")
	if r := reasons["dkim_ours"]; !strings.Contains(r, "DKIM signature is valid") {
		t.Errorf("dkim_ours reads %q, want English", r)
	}
	if all := visitor.text("#reasons"); cbJapanese.MatchString(all) {
		t.Errorf("the reasons for an English reader are not in English:\n%s", all)
	}
	private := func(step string) {
		t.Helper()
		page := strings.ToLower(visitor.eval(`document.documentElement.outerHTML`))
		if strings.Contains(page, email) || strings.Contains(page, "check-holder-ja") {
			t.Errorf("%s: the page shows the holder's address to a signed-out visitor:\n%s", step, visitor.text("main"))
		}
		if n := visitor.cbCount("#own-message, #report-form, #reports"); n != "0" {
			t.Errorf("%s: a signed-out visitor sees the own message, the report form or reports", step)
		}
	}
	private("the .eml")

	visitor.do("type only the reference", clearField("#f-text"), clearField("#f-ref"), typeInto("#f-ref", signup.Reference))
	visitor.cbSubmitCheck("check the reference", "#verdict")
	visitor.cbVerdict("the reference alone", "cannot_tell", "We cannot tell", "reference_ours")
	private("the reference alone")

	visitor.do("type a made-up reference", clearField("#f-text"), clearField("#f-ref"), typeInto("#f-ref", "GH-2345-6789-ABCD"))
	visitor.cbSubmitCheck("check a made-up reference", "#verdict")
	visitor.cbVerdict("a made-up reference", "not_ours", "Not from us", "reference_unknown")
	private("a made-up reference")

	visitor.cbEmptySubmit("empty check in English", "en", "Error: ", "Paste the message, choose its .eml file, or type its reference.")
}
