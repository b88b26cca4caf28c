package web_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/japanese"

	"gatehouse/internal/check"
	"gatehouse/internal/outbox"
	"gatehouse/internal/request"
)

// deliver runs the outbox worker for the test: the dev driver keeps each
// email's raw bytes only once it has "delivered" it.
func (h *harness) deliver() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { h.app.Outbox.Run(ctx); close(done) }()
	h.t.Cleanup(func() { cancel(); <-done })
}

// eml waits for the raw bytes of the message and returns them, as a
// developer downloads them from /dev/messages/{reference}.eml.
func (b *browser) eml(m *outbox.Message) []byte {
	b.h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := b.get("/dev/messages/" + m.Reference + ".eml")
		if r.status == 200 {
			if ct := r.header.Get("Content-Type"); ct != "message/rfc822" {
				b.h.t.Fatalf("content type %q", ct)
			}
			return []byte(r.body)
		}
		if time.Now().After(deadline) {
			b.h.t.Fatalf("no raw message for %s: %d %s", m.Reference, r.status, r.body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// postFile submits the check page's form with an .eml file, as a browser
// does (multipart/form-data).
func (b *browser) postFile(path string, fields map[string]string, file []byte) *resp {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	if file != nil {
		fw, _ := mw.CreateFormFile("eml", "message.eml")
		fw.Write(file)
	}
	mw.Close()
	req, _ := http.NewRequest("POST", b.h.base+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", b.h.base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.do(req)
}

type apiResult struct {
	Verdict string `json:"verdict"`
	Reasons []struct {
		Code string `json:"code"`
		Text string `json:"text"`
	} `json:"reasons"`
}

func (r apiResult) has(code string) bool {
	for _, x := range r.Reasons {
		if x.Code == code {
			return true
		}
	}
	return false
}

// api posts to /api/check as a program does (no Origin, no cookies).
func (h *harness) api(contentType string, body []byte, lang string) (int, apiResult) {
	h.t.Helper()
	req, _ := http.NewRequest("POST", h.base+"/api/check?lang="+lang, bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer r.Body.Close()
	var out apiResult
	json.NewDecoder(r.Body).Decode(&out)
	return r.StatusCode, out
}

var verdictRe = func(v string) string { return `data-verdict="` + v + `"` }

// The sign-up code's email, as the dev driver keeps it (signed, exactly as
// SMTP would send it), is genuine on the page (file and pasted text) and
// through the API (raw, JSON with base64, JSON with text); one changed
// byte is not; the verdict and its reasons come in the reader's language.
func TestCheck_ADeliveredEmailIsGenuineOnThePageAndTheAPIAndAChangedOneIsNot(t *testing.T) {
	t.Parallel()
	onBothDatabases(t, func(t *testing.T, db map[string]string) {
		h := newHarness(t, db)
		h.deliver()
		holder := h.browser("ja")
		email := "check@example.com"
		holder.signUp(email, goodPassword)
		m := h.newest(email, request.ConfirmEmail)
		raw := holder.eml(m)
		if !bytes.Contains(raw, []byte("DKIM-Signature: a=ed25519-sha256;")) || !bytes.Contains(raw, []byte("a=rsa-sha256;")) {
			t.Fatalf("not signed:\n%s", raw[:min(len(raw), 2000)])
		}

		visitor := h.browser("en")
		if r := visitor.postFile("/check", nil, raw); r.status != 200 || !strings.Contains(r.body, verdictRe("genuine")) ||
			!strings.Contains(r.body, `data-code="dkim_ours"`) || !strings.Contains(r.body, "Genuine: we sent this message") {
			t.Fatalf("page, .eml: %d\n%s", r.status, r.body)
		} else if strings.Contains(r.body, email) || strings.Contains(r.body, `id="own-message"`) {
			t.Errorf("a visitor is shown the holder's address or message")
		}
		shown, _ := h.app.Outbox.Reveal(m) // what the holder pastes has the code
		text := shown.Text
		if r := holder.post("/check", url.Values{"text": {text}}); r.status != 200 || !strings.Contains(r.body, verdictRe("genuine")) ||
			!strings.Contains(r.body, "本物です") || !strings.Contains(r.body, `id="own-message"`) {
			t.Fatalf("page, pasted by the holder: %d\n%s", r.status, r.body)
		}

		for name, c := range map[string]struct {
			ct   string
			body []byte
		}{
			"rfc822":     {"message/rfc822", raw},
			"json eml":   {"application/json", mustJSON(map[string]string{"eml": base64.StdEncoding.EncodeToString(raw)})},
			"json text":  {"application/json", mustJSON(map[string]string{"text": text})},
			"text/plain": {"text/plain; charset=utf-8", []byte(text)},
		} {
			status, res := h.api(c.ct, c.body, "en")
			if status != 200 || res.Verdict != "genuine" || !res.has("content_matches") {
				t.Errorf("api %s: %d %+v", name, status, res)
			}
		}
		status, res := h.api("application/json", mustJSON(map[string]string{"reference": m.Reference}), "ja")
		if status != 200 || res.Verdict != "cannot_tell" || !res.has("reference_ours") || !strings.Contains(res.Reasons[0].Text, "当サービスが") {
			t.Errorf("api reference: %d %+v", status, res)
		}

		changed := bytes.Replace(raw, []byte("Subject: "), []byte("Subject: Re: "), 1)
		if r := visitor.postFile("/check", nil, changed); !strings.Contains(r.body, verdictRe("not_ours")) || !strings.Contains(r.body, `data-code="subject_differs"`) {
			t.Errorf("changed subject on the page:\n%s", r.body)
		}
		if status, res := h.api("message/rfc822", changed, "en"); status != 200 || res.Verdict != "not_ours" {
			t.Errorf("changed subject, api: %d %+v", status, res)
		}

		// Bad input: a clear error in the reader's language, nothing kept.
		if r := visitor.post("/check", url.Values{"text": {"  "}}); r.status != 422 || !strings.Contains(r.body, "Paste the message") {
			t.Errorf("empty form: %d\n%s", r.status, r.body)
		}
		if status, _ := h.api("application/xml", []byte("<x/>"), "en"); status != 415 {
			t.Errorf("xml: %d", status)
		}
		if status, _ := h.api("application/json", []byte(`{"eml": "not base64!"}`), "en"); status != 422 {
			t.Errorf("bad base64: %d", status)
		}
		// The raw bytes are for loopback developers only, and only ours.
		if r := visitor.get("/dev/messages/GH-2345-6789-ABCD.eml"); r.status != 404 {
			t.Errorf("unknown .eml: %d", r.status)
		}
	})
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// "Report this" is offered only to a signed-in reader and only for a
// message that is not genuine; it files the message — the server's own
// verdict, the content sealed — on the account, and the page lists it.
// Nothing is stored for a check that is not reported.
func TestCheck_ReportThisFilesTheMessageOnTheAccountSealed(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	holder := h.browser("en")
	holder.signUp("reporter@example.com", goodPassword)
	phish := "Gatehouse: your account is suspended. Confirm your password within 24 hours at https://gatehouse-login.example.net/verify"
	r := holder.post("/check", url.Values{"text": {phish}})
	if !strings.Contains(r.body, verdictRe("not_ours")) || !strings.Contains(r.body, `id="report-form"`) || !strings.Contains(r.body, `data-code="link_lookalike"`) {
		t.Fatalf("check: %d\n%s", r.status, r.body)
	}
	if n := len(h.reports()); n != 0 {
		t.Fatalf("%d reports before reporting", n)
	}
	if v := h.browser("en").post("/check", url.Values{"text": {phish}}); strings.Contains(v.body, `id="report-form"`) {
		t.Errorf("report offered to a signed-out visitor")
	}
	r = holder.postFile("/check/report", map[string]string{"text": phish}, nil)
	if r.status != http.StatusSeeOther || r.location != "/check?notice=reported" {
		t.Fatalf("report: %d %s\n%s", r.status, r.location, r.body)
	}
	page := holder.get(r.location)
	if !strings.Contains(page.body, "The message is reported") || !strings.Contains(page.body, `id="reports"`) || !strings.Contains(page.body, "Not from us") {
		t.Errorf("after reporting:\n%s", page.body)
	}
	reps := h.reports()
	if len(reps) != 1 || reps[0].Verdict != "not_ours" || reps[0].Kind != "text" || bytes.Contains(reps[0].Content, []byte("suspended")) {
		t.Fatalf("reports: %+v", reps)
	}
	if plain, err := h.app.Outbox.Box.Open(reps[0].Content, []byte("report:"+reps[0].ID)); err != nil || string(plain) != phish {
		t.Errorf("sealed content: %q %v", plain, err)
	}
	if v := h.browser("en").postFile("/check/report", map[string]string{"text": phish}, nil); v.status != http.StatusSeeOther || !strings.HasPrefix(v.location, "/signin") {
		t.Errorf("signed-out report: %d %s", v.status, v.location)
	}
	if len(h.reports()) != 1 {
		t.Errorf("a signed-out report was filed")
	}
}

func (h *harness) reports() []*check.Report {
	h.t.Helper()
	rs, err := h.app.DB.RecentReports(context.Background(), 100)
	if err != nil {
		h.t.Fatal(err)
	}
	return rs
}

// Lookups are limited per network: references are random enough not to be
// guessed, and trying many is refused (429) on the page, the API and
// /why/{reference} alike, for the whole /24.
func TestCheck_LookupsAreRateLimitedPerNetwork(t *testing.T) {
	t.Parallel()
	h := newHarness(t, map[string]string{"check.lookups_per_minute": "3", "trusted_proxies": "127.0.0.1/32"})
	a := h.browser("en")
	a.forwardedFor = "203.0.113.10"
	b := h.browser("ja")
	b.forwardedFor = "203.0.113.99" // the same /24
	if r := a.get("/why/GH-2345-6789-ABCD"); r.status != 200 {
		t.Fatalf("why: %d", r.status)
	}
	if r := a.post("/check", url.Values{"ref": {"GH-2345-6789-ABCE"}}); r.status != 200 || !strings.Contains(r.body, verdictRe("not_ours")) {
		t.Fatalf("check: %d", r.status)
	}
	if r := b.post("/check", url.Values{"ref": {"GH-2345-6789-ABCF"}}); r.status != 200 {
		t.Fatalf("third: %d", r.status)
	}
	// The refusal offers the way back to the checker, not to sign-in. It
	// is titled as a wait, and says how long, as Retry-After does: the
	// network's next lookup comes back in at most 20 s (3 a minute).
	r := b.get("/why/GH-2345-6789-ABCG")
	secs, err := strconv.Atoi(r.header.Get("Retry-After"))
	if r.status != http.StatusTooManyRequests || !strings.Contains(r.body, "確認が多すぎます") || err != nil || secs < 1 || secs > 20 ||
		!strings.Contains(r.body, `href="/check"`) || !strings.Contains(r.body, "<h1>しばらくお待ちください</h1>") ||
		!strings.Contains(r.body, fmt.Sprintf("%d秒待ってから", secs)) {
		t.Errorf("fourth, same network: %d, Retry-After %q\n%s", r.status, r.header.Get("Retry-After"), r.body)
	}
	if r := a.post("/check", url.Values{"ref": {"GH-2345-6789-ABCG"}}); r.status != http.StatusTooManyRequests ||
		!strings.Contains(r.body, "<h1>Please wait a moment</h1>") || !strings.Contains(r.body, "Please wait "+r.header.Get("Retry-After")+" second") {
		t.Errorf("fifth, same network, en: %d, Retry-After %q\n%s", r.status, r.header.Get("Retry-After"), r.body)
	}
	other := h.browser("en")
	other.forwardedFor = "198.51.100.7"
	if r := other.post("/check", url.Values{"ref": {"GH-2345-6789-ABCH"}}); r.status != 200 {
		t.Errorf("another network: %d", r.status)
	}
}

// The first-use walk's findings on the result page: each reason says which
// way it points in words (the mark and the colour are not all), a
// reference is never broken across lines, "not from us" prints the address
// to type instead, and a signed-out reader is offered a sign-in link.
func TestCheck_ResultPageSaysWhichWayEachReasonPointsAndPrintsOurAddress(t *testing.T) {
	t.Parallel()
	h := newHarness(t, map[string]string{"public_url": "https://id.example.com"})
	for lang, want := range map[string][]string{
		"en": {`<span class="visually-hidden">Against it: </span>We never sent a message with reference <span class="nowrap">GH-2345-6789-ABCD</span>.`,
			`<span class="visually-hidden">Note: </span>If you typed the reference`, "type our address, https://id.example.com, into your browser yourself"},
		"ja": {`<span class="visually-hidden">本物でない根拠： </span>参照番号 <span class="nowrap">GH-2345-6789-ABCD</span> のメッセージを当サービスは送っていません。`,
			"当サービスのアドレス https://id.example.com をご自身でブラウザに入力して"},
	} {
		b := h.browser(lang)
		r := b.post("/check", url.Values{"ref": {"gh-2345-6789-abcd"}})
		if r.status != 200 || !strings.Contains(r.body, verdictRe("not_ours")) {
			t.Fatalf("%s: %d\n%s", lang, r.status, r.body)
		}
		// The verdict leads the document's title (a screen reader says it
		// first) and is shown once, in the result box; the visible h1 is
		// the page's name.
		name := map[string]string{"en": "Is this message really from us?", "ja": "このメッセージは本物？"}[lang]
		verdict := map[string]string{"en": "Not from us", "ja": "当サービスからのメッセージではありません"}[lang]
		if !strings.Contains(r.body, "<title>"+verdict+" — "+name+" — Gatehouse</title>") || !strings.Contains(r.body, "<h1>"+name+"</h1>") ||
			!strings.Contains(r.body, `<h2 id="verdict-title">`+verdict+"</h2>") || strings.Count(r.body, verdict) != 2 {
			t.Errorf("%s: title, h1 and verdict box:\n%s", lang, r.body)
		}
		for _, w := range want {
			if !strings.Contains(r.body, w) {
				t.Errorf("%s: the result page lacks %q\n%s", lang, w, r.body)
			}
		}
		if !strings.Contains(r.body, `<a href="/signin">`) {
			t.Errorf("%s: a signed-out reader is not offered a sign-in link", lang)
		}
	}
}

// A signed-in reader who checks a genuine message we sent to another
// account is told so: a forwarded message, with someone else's code, must
// not pass for their own. Their own message shows as theirs, with no such
// warning.
func TestCheck_AGenuineMessageOfAnotherAccountSaysItIsNotTheReaders(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	h.deliver()
	owner, other := h.browser("en"), h.browser("ja")
	owner.signUp("owner@example.com", goodPassword)
	other.signUp("other@example.com", goodPassword)
	shown, err := h.app.Outbox.Reveal(h.newest("owner@example.com", request.ConfirmEmail))
	if err != nil {
		t.Fatal(err)
	}
	r := other.post("/check", url.Values{"text": {shown.Text}})
	if r.status != 200 || !strings.Contains(r.body, verdictRe("genuine")) || !strings.Contains(r.body, `id="not-yours"`) ||
		!strings.Contains(r.body, "あなた宛てではなく") || strings.Contains(r.body, `id="own-message"`) || strings.Contains(r.body, "owner@example.com") {
		t.Errorf("another account's message: %d\n%s", r.status, r.body)
	}
	r = owner.post("/check", url.Values{"text": {shown.Text}})
	if r.status != 200 || !strings.Contains(r.body, `id="own-message"`) || strings.Contains(r.body, `id="not-yours"`) {
		t.Errorf("the owner's own message: %d\n%s", r.status, r.body)
	}
}

// "Report this" checks again and lists the verdict, so it counts against
// the same allowance: a signed-in reader cannot try references through it
// (found by the black-box probe).
func TestCheck_ReportsCountAgainstTheLookupLimit(t *testing.T) {
	t.Parallel()
	h := newHarness(t, map[string]string{"check.lookups_per_minute": "3", "trusted_proxies": "127.0.0.1/32"})
	b := h.browser("en")
	b.signUp("reporter@example.com", goodPassword)
	b.forwardedFor = "203.0.113.10"
	for i := range 3 {
		if r := b.post("/check/report", url.Values{"ref": {fmt.Sprintf("GH-2345-6789-AB%c%c", 'C'+i, 'D')}}); r.status != http.StatusSeeOther {
			t.Fatalf("report %d: %d\n%s", i+1, r.status, r.body)
		}
	}
	if r := b.post("/check/report", url.Values{"ref": {"GH-2345-6789-ABGD"}}); r.status != http.StatusTooManyRequests {
		t.Errorf("fourth report: %d, want 429", r.status)
	}
	// Too large is said as too large.
	b.forwardedFor = "198.51.100.7"
	if r := b.post("/check/report", url.Values{"text": {strings.Repeat("x", 300<<10)}}); r.status != http.StatusRequestEntityTooLarge {
		t.Errorf("a 300 KB report: %d, want 413", r.status)
	}
}

// Bad input found by the black-box probe, each answered clearly: a file
// that is not an email (page, in the reader's language, at the file field;
// API), JSON with something after the object, a text in the charset its
// Content-Type names (decoded, so 至急 is read), an unknown charset, and a
// wrong method on the API (JSON, not a page).
func TestCheck_BadInputFromTheProbe(t *testing.T) {
	t.Parallel()
	h := newHarness(t, map[string]string{"check.lookups_per_minute": "1000"})
	b := h.browser("ja")
	pdf := []byte("%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n")
	if r := b.postFile("/check", nil, pdf); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, `id="e-eml"`) || !strings.Contains(r.body, "メール（.eml）ではありません") {
		t.Errorf("a PDF as the .eml: %d\n%s", r.status, r.body)
	}
	rawAPI := func(method, ct string, body []byte) (int, string, string) {
		req, _ := http.NewRequest(method, h.base+"/api/check?lang=en", bytes.NewReader(body))
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		out, _ := io.ReadAll(r.Body)
		return r.StatusCode, r.Header.Get("Content-Type"), string(out)
	}
	if status, _, body := rawAPI("POST", "message/rfc822", pdf); status != http.StatusUnprocessableEntity || !strings.Contains(body, `"code":"check_not_email"`) {
		t.Errorf("a PDF as message/rfc822: %d %s", status, body)
	}
	if status, _, body := rawAPI("POST", "application/json", []byte(`{"text": "hi"} xyz`)); status != http.StatusBadRequest || !strings.Contains(body, `"code":"check_json"`) {
		t.Errorf("JSON with trailing garbage: %d %s", status, body)
	}
	sjis, err := japanese.ShiftJIS.NewEncoder().Bytes([]byte("【Gatehouse】至急、アカウントを確認してください。"))
	if err != nil {
		t.Fatal(err)
	}
	if status, res := h.api("text/plain; charset=shift_jis", sjis, "ja"); status != 200 || !res.has("pressure") {
		t.Errorf("Shift_JIS text: %d %+v", status, res)
	}
	if status, _, body := rawAPI("POST", "text/plain; charset=x-no-such", []byte("hi")); status != http.StatusUnsupportedMediaType || !strings.Contains(body, `"code":"check_charset"`) {
		t.Errorf("unknown charset: %d %s", status, body)
	}
	if status, ct, body := rawAPI("GET", "", nil); status != http.StatusMethodNotAllowed || !strings.HasPrefix(ct, "application/json") || !strings.Contains(body, `"code":"method"`) {
		t.Errorf("GET /api/check: %d %s %s", status, ct, body)
	}
}

// "Thank you, reported" is said only to a signed-in holder: the link with
// it, opened by anyone else, says nothing happened.
func TestCheck_ReportedNoticeOnlyForTheSignedIn(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	if r := h.browser("en").get("/check?notice=reported"); r.status != 200 || strings.Contains(r.body, "The message is reported") {
		t.Errorf("signed out: %d, thanks shown", r.status)
	}
	b := h.browser("en")
	b.signUp("thanks@example.com", goodPassword)
	if r := b.get("/check?notice=reported"); !strings.Contains(r.body, "The message is reported") {
		t.Errorf("signed in: no thanks")
	}
}
