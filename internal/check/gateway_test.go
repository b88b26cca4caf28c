package check_test

import (
	"bytes"
	"io"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/emersion/go-message"

	"gatehouse/internal/check"
	"gatehouse/internal/notice"
	"gatehouse/internal/request"
)

// safeLinks does to raw what Microsoft Defender's Safe Links does to mail
// it delivers: every URL of the text part, and every href of the HTML
// part, is rewritten to pass through the service; the parts are decoded
// and encoded again, the headers (DKIM signatures among them) are kept.
func safeLinks(t *testing.T, raw []byte) []byte {
	t.Helper()
	return rewriteLinks(t, raw, wrap)
}

// rewriteLinks rewrites raw's links with wrap, as safeLinks does.
func rewriteLinks(t *testing.T, raw []byte, wrap func(string) string) []byte {
	t.Helper()
	e, err := message.Read(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := rewriteEntity(&out, e, wrap); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

var (
	urlRun  = regexp.MustCompile(`https?://[^\s"'<>()]+`)
	hrefRun = regexp.MustCompile(`href="(https?://[^"]+)"`)
)

func wrap(u string) string {
	return "https://jpn01.safelinks.protection.outlook.com/?url=" + url.QueryEscape(u) + "&data=05%7C02%7C%7C4f1c%7C0&sdata=Zm9v&reserved=0"
}

func rewriteEntity(w io.Writer, e *message.Entity, wrap func(string) string) error {
	mw, err := message.CreateWriter(w, e.Header)
	if err != nil {
		return err
	}
	if mr := e.MultipartReader(); mr != nil {
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				return err
			}
			pw, err := mw.CreatePart(p.Header)
			if err != nil {
				return err
			}
			if err := rewriteBody(pw, p, wrap); err != nil {
				return err
			}
			pw.Close()
		}
		return mw.Close()
	}
	if err := rewriteBody(mw, e, wrap); err != nil {
		return err
	}
	return mw.Close()
}

// rewriteBody writes e's rewritten body (a nested multipart as a whole
// entity of its own) into w, which encodes it as e's header says.
func rewriteBody(w io.Writer, e *message.Entity, wrap func(string) string) error {
	if e.MultipartReader() != nil {
		var nested bytes.Buffer
		if err := rewriteEntity(&nested, e, wrap); err != nil {
			return err
		}
		// CreatePart wrote the part's header: only the body is wanted.
		_, body, _ := bytes.Cut(nested.Bytes(), []byte("\r\n\r\n"))
		_, err := w.Write(body)
		return err
	}
	b, err := io.ReadAll(e.Body)
	if err != nil {
		return err
	}
	typ, _, _ := e.Header.ContentType()
	s := string(b)
	switch typ {
	case "text/plain":
		s = urlRun.ReplaceAllStringFunc(s, wrap)
	case "text/html":
		s = hrefRun.ReplaceAllStringFunc(s, func(m string) string {
			u := strings.ReplaceAll(hrefRun.FindStringSubmatch(m)[1], "&amp;", "&")
			return `href="` + strings.ReplaceAll(wrap(u), "&", "&amp;") + `"`
		})
	}
	_, err = io.WriteString(w, s)
	return err
}

// A genuine email whose links a mail security service rewrote (which
// breaks its signature) is never called phishing: with the links put back
// it is what we sent, and the verdict says why it cannot vouch for more.
// Before, it read "not from us: its text was changed".
func TestCheck_AGenuineEmailBehindSafeLinksIsNeverCalledPhishing(t *testing.T) {
	e := newEnv(t)
	for _, lang := range []string{"en", "ja"} {
		m, raw := e.send(t, notice.Notice{Purpose: request.SecondStep, Cause: request.PasswordKnown, To: "holder@example.com", Language: lang, AccountID: "a1"})
		rewritten := safeLinks(t, raw)
		if !bytes.Contains(rewritten, []byte("safelinks.protection.outlook.com")) || bytes.Contains(rewritten, []byte(`href=3D"https://gatehouse.example`)) {
			t.Fatalf("the gateway did not rewrite the links:\n%s", rewritten)
		}
		res := run(t, e, check.Input{Raw: rewritten}, lang)
		if res.Verdict != check.CannotTell || !res.Has("content_matches") || !res.Has("dkim_broken_rewritten") {
			t.Errorf("%s: %s (%s), want cannot_tell with content_matches and dkim_broken_rewritten\n%v", lang, res.Verdict, codes(res), res.Reasons)
		}
		for _, r := range res.Reasons {
			if r.Level == check.Bad {
				t.Errorf("%s: a genuine message behind Safe Links has a bad reason %s: %s", lang, r.Code, r.Text)
			}
		}
		// The text a holder copies from it, links and all, is genuine.
		shown, err := e.outbox.Reveal(m)
		if err != nil {
			t.Fatal(err)
		}
		paste := urlRun.ReplaceAllStringFunc(shown.Text, wrap)
		if res := run(t, e, check.Input{Text: paste}, lang); res.Verdict != check.Genuine || !res.Has("links_rewritten") {
			t.Errorf("%s: pasted text behind Safe Links: %s (%s)", lang, res.Verdict, codes(res))
		}
		// A link changed behind the rewriting is still caught.
		changed := false
		evil := rewriteLinks(t, raw, func(u string) string {
			if !changed && strings.HasPrefix(u, "https://gatehouse.example/") {
				changed = true
				u = strings.Replace(u, "gatehouse.example", "gatehouse-login.example.net", 1)
			}
			return wrap(u)
		})
		if !changed {
			t.Fatal("no link to change")
		}
		if res := run(t, e, check.Input{Raw: evil}, lang); res.Verdict != check.NotOurs {
			t.Errorf("%s: a changed link behind Safe Links: %s (%s)", lang, res.Verdict, codes(res))
		}
	}
}

// A phish whose link passes through a security service or Google's
// redirector is judged by where the link really leads.
func TestCheck_APhishBehindARewriterIsJudgedByItsRealTarget(t *testing.T) {
	e := newEnv(t)
	for name, link := range map[string]string{
		"safe links": wrap("https://gatehouse-login.example.net/verify"),
		"google":     "https://www.google.com/url?q=https://gatehouse-login.example.net/verify&sa=D",
	} {
		raw := "From: Gatehouse <no-reply@gatehouse.example>\r\nTo: holder@example.com\r\nSubject: Confirm your account\r\nDate: Wed, 02 Dec 2026 10:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nConfirm your account at " + link + " today.\r\n"
		res := run(t, e, check.Input{Raw: []byte(raw)}, "en")
		if res.Verdict != check.NotOurs || !res.Has("link_lookalike") {
			t.Errorf("%s: %s (%s), want not_ours with link_lookalike", name, res.Verdict, codes(res))
		}
	}
}
