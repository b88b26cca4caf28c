package check_test

import (
	"regexp"
	"strings"
	"testing"

	"gatehouse/internal/check"
	"gatehouse/internal/notice"
	"gatehouse/internal/request"
)

// refLine is a line of ours that names the reference ("Ref GH-…",
// "…/why/GH-…", 参照番号 …).
var refLine = regexp.MustCompile(`(?m)^.*GH-[0-9A-Z]{4}-[0-9A-Z]{4}(-[0-9A-Z]{4})?.*$\n?`)

// Our own words are never judged as phishing: every message we send, for
// every cause, with its reference cut away — an email's text cut at its
// footer, as a holder copies only the body; an SMS without its reference
// line — has no reason against it but the missing reference (which
// pressure words then join), and the
// body of an email, which is plainly part of a message, is "cannot tell",
// not "not from us".
func TestCheck_OurOwnWordsWithoutTheReferenceAreNeverPhishing(t *testing.T) {
	e := newEnv(t)
	msgs := e.everyMessage(t)
	for _, p := range []request.Purpose{request.SecondStep, request.ConfirmEmail, request.ResetPassword, request.CodeSignIn, request.StepUp, request.ChangeEmail, request.AddPhone} {
		for _, c := range request.Causes {
			for _, ch := range notice.Channels[p] {
				for _, lang := range []string{"en", "ja"} {
					to := "holder@example.com"
					if ch == request.SMS {
						to = "+819012345678"
					}
					m, raw := e.send(t, notice.Notice{Purpose: p, Cause: c, Channel: ch, To: to, Language: lang, AccountID: "a1"})
					msgs = append(msgs, genuineMessage{name: string(p) + "/" + string(ch) + "/" + string(c) + "/" + lang, msg: m, raw: raw})
				}
			}
		}
	}
	for _, g := range msgs {
		cuts := []string{refLine.ReplaceAllString(g.msg.Text, "")}
		if body, footer, ok := strings.Cut(g.msg.Text, "\n--\n"); ok {
			// Cut before the footer, just after its "--", and after its
			// first line: all are parts of a message.
			first, _, _ := strings.Cut(footer, "\n")
			cuts = []string{body, body + "\n--\n", body + "\n--\n" + first + "\n"}
		}
		for _, text := range cuts {
			text = refLine.ReplaceAllString(text, "")
			if strings.Contains(text, "GH-") {
				t.Fatalf("%s: the reference is still in %q", g.name, text)
			}
			checkOwnWords(t, e, g, text)
		}
	}
}

func checkOwnWords(t *testing.T, e *env, g genuineMessage, text string) {
	t.Helper()
	{
		res := run(t, e, check.Input{Text: text}, g.msg.Language)
		for _, r := range res.Reasons {
			// Pressure words (our notices say 停止 too) join a case
			// made otherwise — here, an SMS without its reference.
			if r.Level == check.Bad && r.Code != "reference_missing" && !(r.Code == "pressure" && res.Has("reference_missing")) {
				t.Errorf("%s: our own words give %s: %s", g.name, r.Code, r.Text)
			}
		}
		if g.raw != nil && res.Verdict == check.NotOurs {
			t.Errorf("%s: the body of our email, cut at its footer, is not_ours (%s)", g.name, codes(res))
		}
	}
}

// Lines added to a genuine message are judged as written — spaces kept —
// so a request for the code, the password or a card, pressure, another
// host's origin line or simplified Chinese make it "not from us".
func TestCheck_LinesAddedToAGenuineMessageAreJudged(t *testing.T) {
	e := newEnv(t)
	reset, _ := e.send(t, notice.Notice{Purpose: request.ResetPassword, Cause: request.ResetRequested, To: "holder@example.com", Language: "en", AccountID: "a1"})
	resetJa, _ := e.send(t, notice.Notice{Purpose: request.ResetPassword, Cause: request.ResetRequested, To: "holder@example.com", Language: "ja", AccountID: "a1"})
	sms, _ := e.send(t, notice.Notice{Purpose: request.SecondStep, Cause: request.PasswordKnown, Channel: request.SMS, To: "+819012345678", Language: "en", AccountID: "a1"})
	for _, c := range []struct {
		name, text, want string
	}{
		{"reply with the code", reset.Text + "\n\nPlease reply to this email with the code above.", "asks_code"},
		{"send the code", reset.Text + "\nSend the code to our support team.", "asks_code"},
		{"password before", "Enter your password at the link below to keep your account.\n\n" + reset.Text, "asks_password"},
		{"card", reset.Text + "\nTo continue, enter your card number.", "asks_card"},
		{"origin line", sms.Text + "\n@other.example #123456", "sms_origin_elsewhere"},
		{"simplified chinese", resetJa.Text + "\n您的帐户已被锁定。", "foreign_kanji"},
		{"pressure and a link", reset.Text + "\nYour account will be suspended within 24 hours: https://gatehouse-login.example.net/keep", "pressure"},
		// From the second probe.
		{"pressure alone", reset.Text + "\nYour account will be suspended within 24 hours unless you act.", "pressure"},
		{"pressure alone, ja", resetJa.Text + "\n至急、24時間以内にご対応ください。", "pressure"},
		{"a number to call", reset.Text + "\nIf this was not you, call our security desk at +1 800 555 0199 now.", "asks_call"},
		{"a number to call, ja", resetJa.Text + "\nお心当たりのない場合は、フリーダイヤル 0120-123-456 までお電話ください。", "asks_call"},
		{"date of birth", reset.Text + "\nTo confirm it is you, reply with your date of birth.", "asks_personal"},
		{"a from line", "From: Gatehouse Security <security@gatehouse-help.example>\n\n" + reset.Text, "address_lookalike"},
	} {
		res := run(t, e, check.Input{Text: c.text}, "en")
		if res.Verdict != check.NotOurs || !res.Has(c.want) {
			t.Errorf("%s: %s (%s), want not_ours with %s", c.name, res.Verdict, codes(res), c.want)
		}
		for _, r := range res.Reasons {
			if r.Code == "content_matches" && strings.Contains(r.Text, "exactly") {
				t.Errorf("%s: a message that is not ours as it is reads %q", c.name, r.Text)
			}
			if r.Code == "content_extra" && !strings.Contains(r.Text, " ") && !strings.HasSuffix(c.name, "chinese") && !strings.HasSuffix(c.name, "ja") && c.name != "origin line" {
				t.Errorf("%s: the added text is shown squashed: %s", c.name, r.Text)
			}
		}
	}
	// What a holder copies from the HTML rendering, our name above the
	// message included, is genuine with nothing "added".
	for _, g := range e.everyMessage(t) {
		if g.raw == nil {
			continue
		}
		res := run(t, e, check.Input{Text: htmlText(g.msg.HTML)}, g.msg.Language)
		if res.Verdict != check.Genuine || res.Has("content_extra") {
			t.Errorf("%s as HTML text: %s (%s)", g.name, res.Verdict, codes(res))
		}
	}
}
