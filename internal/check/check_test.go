package check_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gatehouse/internal/check"
	"gatehouse/internal/dkimkeys"
	"gatehouse/internal/notice"
	"gatehouse/internal/request"
)

func run(t *testing.T, e *env, in check.Input, lang string) *check.Result {
	t.Helper()
	res, err := e.checker.Check(context.Background(), in, lang)
	if err != nil {
		t.Fatalf("check: %v", err)
	}
	return res
}

func codes(r *check.Result) string {
	var out []string
	for _, x := range r.Reasons {
		out = append(out, x.Code)
	}
	return strings.Join(out, ",")
}

// Every message the server composes — every purpose, on every channel it
// is sent on, in both languages — is genuine however the holder brings it:
// as the raw email, as its text pasted, as the text a mail program shows
// of its HTML, and as the SMS.
func TestCheck_EveryGenuineMessageIsGenuineAsRawAsTextAndAsHTMLText(t *testing.T) {
	e := newEnv(t)
	for _, g := range e.everyMessage(t) {
		var ins map[string]check.Input
		if g.raw != nil {
			ins = map[string]check.Input{"eml": {Raw: g.raw}, "text": {Text: g.msg.Text}, "text-from-a-form": {Text: strings.ReplaceAll(g.msg.Text, "\n", "\r\n")}, "html-text": {Text: htmlText(g.msg.HTML)},
				"source-pasted": {Text: string(g.raw)}, "saved-with-LF": {Raw: bytes.ReplaceAll(g.raw, []byte("\r\n"), []byte("\n"))}}
		} else {
			ins = map[string]check.Input{"sms": {Text: g.msg.Text}}
		}
		for how, in := range ins {
			res := run(t, e, in, g.msg.Language)
			if res.Verdict != check.Genuine || !res.Has("content_matches") {
				t.Errorf("%s as %s: %s (%s)\n%v", g.name, how, res.Verdict, codes(res), res.Reasons)
			}
			for _, r := range res.Reasons {
				if r.Level == check.Bad {
					t.Errorf("%s as %s: a genuine message has a bad reason %s", g.name, how, r.Code)
				}
			}
			if g.raw != nil && (how == "eml" || how == "saved-with-LF") && !res.Has("dkim_ours") {
				t.Errorf("%s: DKIM not ours: %s", g.name, codes(res))
			}
			// The comparison with our records leads; the signature, which
			// says the same in words fewer people know, follows.
			if len(res.Reasons) > 0 && res.Reasons[0].Code != "content_matches" {
				t.Errorf("%s as %s: first reason %s, want content_matches (%s)", g.name, how, res.Reasons[0].Code, codes(res))
			}
		}
	}
}

// One changed byte in the body, the subject or a link makes a signed email
// not genuine; so does a changed sender.
func TestCheck_OneChangedByteOfBodySubjectOrLinkIsNotGenuine(t *testing.T) {
	e := newEnv(t)
	m, raw := e.send(t, notice.Notice{Purpose: request.SecondStep, Cause: request.PasswordKnown, To: "holder@example.com", Language: "en", AccountID: "a1"})
	if res := run(t, e, check.Input{Raw: raw}, "en"); res.Verdict != check.Genuine {
		t.Fatalf("unchanged: %s %s", res.Verdict, codes(res))
	}
	subject := []byte("Subject: " + m.Subject)
	cases := map[string][]byte{
		"body":   replaceOnceAfterHeader(raw, []byte("never ask"), []byte("newer ask")),
		"code":   bytes.Replace(raw, []byte(codeOf(m.Text)), []byte(nextCode(codeOf(m.Text))), 1),
		"link":   bytes.Replace(raw, []byte("https://gatehouse.example/check"), []byte("https://gatehovse.example/check"), 1),
		"domain": bytes.Replace(raw, []byte("gatehouse.example/why/"), []byte("gatehouse.exampl/why/"), 1),
		"subject": bytes.Replace(raw, subject, append(bytes.TrimSuffix(append([]byte{}, subject...), subject[len(subject)-1:]),
			subject[len(subject)-1]^0x20), 1),
		"from": bytes.Replace(raw, []byte("<no-reply@gatehouse.example>"), []byte("<no-reply@gatehouse-mail.example.net>"), 1),
	}
	for name, changed := range cases {
		if bytes.Equal(changed, raw) {
			t.Fatalf("%s: nothing changed", name)
		}
		res := run(t, e, check.Input{Raw: changed}, "en")
		if res.Verdict == check.Genuine {
			t.Errorf("%s changed: still genuine (%s)", name, codes(res))
		}
		if name != "code" && res.Verdict != check.NotOurs {
			t.Errorf("%s changed: %s, want not_ours (%s)", name, res.Verdict, codes(res))
		}
	}
	// The code is not in the stored message (it is sealed and erased), so
	// a different code cannot be told from ours by the text; the signature
	// tells it.
	if res := run(t, e, check.Input{Raw: cases["code"]}, "en"); res.Verdict != check.CannotTell || !res.Has("dkim_broken_matching") {
		t.Errorf("changed code: %s %s", res.Verdict, codes(res))
	}
}

// replaceOnceAfterHeader changes the first old in the body (not a header).
func replaceOnceAfterHeader(raw, old, new []byte) []byte {
	i := bytes.Index(raw, []byte("\r\n\r\n"))
	j := bytes.Index(raw[i:], old)
	if j < 0 {
		return raw
	}
	out := append([]byte{}, raw[:i+j]...)
	out = append(out, new...)
	return append(out, raw[i+j+len(old):]...)
}

func codeOf(text string) string {
	for _, l := range strings.Split(text, "\n") {
		if l = strings.TrimSpace(l); len(l) == 6 && strings.Trim(l, "0123456789") == "" {
			return l
		}
	}
	return "none"
}

func nextCode(c string) string {
	b := []byte(c)
	b[5] = '0' + (b[5]-'0'+1)%10
	return string(b)
}

// A paste that is part of a genuine message cannot be called genuine, nor
// phishing; a paste that adds a link, a phone number's request or a
// changed origin line to a genuine message is not ours.
func TestCheck_PartsAndAdditionsOfAGenuinePaste(t *testing.T) {
	e := newEnv(t)
	m, _ := e.send(t, notice.Notice{Purpose: request.ResetPassword, To: "holder@example.com", Language: "ja", AccountID: "a1", Cause: request.ResetRequested})
	lines := strings.Split(m.Text, "\n")
	part := strings.Join(lines[:len(lines)/2], "\n") + "\n" + m.Reference
	if res := run(t, e, check.Input{Text: part}, "ja"); res.Verdict != check.CannotTell || !res.Has("content_partial") {
		t.Errorf("part: %s %s", res.Verdict, codes(res))
	}
	// What a mail program puts above a forwarded message is harmless.
	fwd := "---------- Forwarded message ---------\nFrom: Gatehouse <no-reply@gatehouse.example>\n\n" + m.Text
	if res := run(t, e, check.Input{Text: fwd}, "ja"); res.Verdict != check.Genuine {
		t.Errorf("forwarded: %s %s", res.Verdict, codes(res))
	}
	added := strings.Replace(m.Text, "\n\n", "\n\n本人確認のため、こちら https://gatehouse-verify.example.net/login からパスワードを入力してください。\n\n", 1)
	res := run(t, e, check.Input{Text: added}, "ja")
	if res.Verdict != check.NotOurs || !res.Has("link_lookalike") || !res.Has("asks_password") {
		t.Errorf("added link: %s %s", res.Verdict, codes(res))
	}
	// The look-alike host is kept for the operators' takedown list.
	if len(res.Lookalikes) != 1 || res.Lookalikes[0] != "gatehouse-verify.example.net" {
		t.Errorf("added link: look-alikes %q, want the link's host", res.Lookalikes)
	}
	for _, r := range res.Reasons {
		if r.Code == "asks_password" && !strings.Contains(r.Text, "パスワード") {
			t.Errorf("reason not in Japanese: %q", r.Text)
		}
	}

	sms, _ := e.send(t, notice.Notice{Purpose: request.SecondStep, Channel: request.SMS, To: "+819012345678", Language: "ja", AccountID: "a1", Cause: request.PasswordKnown})
	if res := run(t, e, check.Input{Text: sms.Text}, "ja"); res.Verdict != check.Genuine {
		t.Fatalf("sms: %s %s", res.Verdict, codes(res))
	}
	other := strings.Replace(sms.Text, "@gatehouse.example #", "@gatehouse-login.example.net #", 1)
	if res := run(t, e, check.Input{Text: other}, "ja"); res.Verdict != check.NotOurs || !res.Has("sms_origin_elsewhere") {
		t.Errorf("sms origin elsewhere: %s %s", res.Verdict, codes(res))
	}
}

// A reference alone says what we sent, never "genuine"; an unknown one,
// and a withheld one (never sent), are not ours — in the same words.
func TestCheck_AReferenceAloneAndUnknownAndWithheldReferences(t *testing.T) {
	e := newEnv(t)
	m, _ := e.send(t, notice.Notice{Purpose: request.PasswordChanged, To: "holder@example.com", Language: "en", AccountID: "a1"})
	res := run(t, e, check.Input{Reference: strings.ToLower(m.Reference)}, "en")
	if res.Verdict != check.CannotTell || !res.Has("reference_ours") || !res.Has("reference_only") {
		t.Errorf("reference alone: %s %s", res.Verdict, codes(res))
	}
	for _, r := range res.Reasons {
		if strings.Contains(r.Text, "holder@") || strings.Contains(r.Text, "example.com") {
			t.Errorf("a reason names the address: %q", r.Text)
		}
	}
	w, _ := e.send(t, notice.Notice{Purpose: request.ConfirmEmail, To: "nobody@example.com", Language: "en", Withhold: true, Cause: request.Mistyped})
	unknown := run(t, e, check.Input{Reference: "GH-2345-6789-ABCD"}, "en")
	withheld := run(t, e, check.Input{Reference: w.Reference}, "en")
	for name, r := range map[string]*check.Result{"unknown": unknown, "withheld": withheld} {
		// A typed reference may be mistyped: the note says how to compare.
		if r.Verdict != check.NotOurs || codes(r) != "reference_unknown,reference_typo" {
			t.Errorf("%s: %s %s", name, r.Verdict, codes(r))
		}
	}
	if strings.ReplaceAll(unknown.Reasons[0].Text, "GH-2345-6789-ABCD", "R") != strings.ReplaceAll(withheld.Reasons[0].Text, w.Reference, "R") {
		t.Errorf("withheld and unknown differ: %q / %q", unknown.Reasons[0].Text, withheld.Reasons[0].Text)
	}
	if r := run(t, e, check.Input{Reference: "GH-0000-OOOO"}, "en"); r.Verdict != check.NotOurs || !r.Has("reference_format") || !r.Has("reference_typo") {
		t.Errorf("impossible reference: %s", codes(r))
	}
	// Pasted, not typed: no hint about typing.
	if r := run(t, e, check.Input{Text: "Your Gatehouse code. Reference: GH-2345-6789-ABCD"}, "en"); r.Has("reference_typo") || !r.Has("reference_unknown") {
		t.Errorf("pasted unknown reference: %s", codes(r))
	}
	if _, err := e.checker.Check(context.Background(), check.Input{}, "en"); !errors.Is(err, check.ErrEmpty) {
		t.Errorf("empty: %v", err)
	}
	if _, err := e.checker.Check(context.Background(), check.Input{Raw: make([]byte, check.MaxRaw+1)}, "en"); !errors.Is(err, check.ErrTooLarge) {
		t.Errorf("too large: %v", err)
	}
}

// Mail signed with a key since retired still verifies as ours; a valid
// signature of another domain is named as such.
func TestCheck_RetiredKeysStillVerifyAndOtherDomainsSignaturesAreNamed(t *testing.T) {
	e := newEnv(t)
	_, raw := e.send(t, notice.Notice{Purpose: request.TwoStepOn, To: "holder@example.com", Language: "en", AccountID: "a1"})
	time.Sleep(10 * time.Millisecond)
	if _, err := dkimkeys.Rotate(e.keyDir, time.Now().Add(-time.Hour), 0); err != nil {
		t.Fatal(err)
	}
	res := run(t, e, check.Input{Raw: raw}, "en")
	if res.Verdict != check.Genuine || !res.Has("dkim_ours") || !res.Has("dkim_retired_key") {
		t.Errorf("after rotation: %s %s", res.Verdict, codes(res))
	}

	// Another domain signs a message claiming to be us.
	otherDir := t.TempDir()
	other, err := dkimkeys.Open(otherDir, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	phish := "From: Gatehouse Support <support@gatehouse-help.example.net>\r\nTo: holder@example.com\r\nSubject: Your account will be suspended\r\nDate: Wed, 02 Dec 2026 10:00:00 +0000\r\nMessage-Id: <p1@gatehouse-help.example.net>\r\n\r\nConfirm your password within 24 hours: https://gatehouse-help.example.net/login\r\n"
	signed, err := other.Sign([]byte(phish), "gatehouse-help.example.net", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	e.checker.LookupTXT = func(_ context.Context, name string) ([]string, error) {
		sel, _, _ := strings.Cut(name, ".")
		if k, ok := other.Lookup(sel); ok {
			return []string{k.Record()}, nil
		}
		return nil, errors.New("no such record")
	}
	res = run(t, e, check.Input{Raw: signed}, "en")
	for _, want := range []string{"dkim_other_domain", "sender_lookalike", "asks_password", "pressure", "reference_missing"} {
		if !res.Has(want) {
			t.Errorf("missing %s: %s", want, codes(res))
		}
	}
	if res.Verdict != check.NotOurs {
		t.Errorf("verdict %s", res.Verdict)
	}
}

// The page, the API and the CLI all promise: reasons first by weight.
func TestCheck_DecisiveReasonsComeFirst(t *testing.T) {
	e := newEnv(t)
	res := run(t, e, check.Input{Text: "【Gatehouse】お客様のアカウントは停止されました。24時間以内に https://bit.ly/3xYz から本人確認してください。参照番号 GH-2345-6789-ABCD"}, "ja")
	if res.Verdict != check.NotOurs || len(res.Reasons) < 3 {
		t.Fatalf("%s %s", res.Verdict, codes(res))
	}
	seenOther := false
	for _, r := range res.Reasons {
		if r.Level != check.Bad {
			seenOther = true
		} else if seenOther {
			t.Errorf("a decisive reason after a note: %s", codes(res))
		}
	}
}

// "Not from us" tells the reader the way back that a phishing message
// cannot fake — our address, typed by hand — and prints it, in both
// languages; the other verdicts' advice is whole, with no stray verb.
func TestCheck_AdviceNamesOurAddressForNotOurs(t *testing.T) {
	e := newEnv(t)
	for _, lang := range []string{"en", "ja"} {
		if a := e.checker.Advice(&check.Result{Verdict: check.NotOurs}, lang); !strings.Contains(a, publicURL) {
			t.Errorf("%s: not_ours advice %q does not name %s", lang, a, publicURL)
		}
		for _, v := range []check.Verdict{check.Genuine, check.NotOurs, check.CannotTell} {
			for _, kind := range []string{"eml", "text", "reference"} {
				a := e.checker.Advice(&check.Result{Verdict: v, Kind: kind}, lang)
				if a == "" || strings.Contains(a, "%!") || strings.Contains(a, "%s") || strings.HasPrefix(a, "!(") {
					t.Errorf("%s %s %s: advice %q", lang, v, kind, a)
				}
				// Given the whole email, the advice does not ask for it.
				if v == check.CannotTell && kind == "eml" && (strings.Contains(a, ".eml")) {
					t.Errorf("%s: cannot_tell advice for an .eml asks for the .eml: %q", lang, a)
				}
			}
		}
	}
}

// withoutSignatures removes raw's DKIM-Signature fields (folded lines too).
func withoutSignatures(raw []byte) []byte {
	head, body, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	var out [][]byte
	skipping := false
	for _, l := range bytes.Split(head, []byte("\r\n")) {
		if len(l) > 0 && (l[0] == ' ' || l[0] == '\t') {
			if !skipping {
				out = append(out, l)
			}
			continue
		}
		skipping = bytes.HasPrefix(bytes.ToLower(l), []byte("dkim-signature:"))
		if !skipping {
			out = append(out, l)
		}
	}
	return append(append(bytes.Join(out, []byte("\r\n")), "\r\n\r\n"...), body...)
}

// Headers and signatures, from the black-box probe: a From or Subject added
// on top (what a mail program shows) breaks the signature (each field is
// oversigned) and is named; an added Reply-To is decisive (we never set
// one); an email of ours whose signatures were removed is at most "cannot
// tell" — nothing vouches for its code any more.
func TestCheck_AddedHeadersAndRemovedSignatures(t *testing.T) {
	e := newEnv(t)
	m, raw := e.send(t, notice.Notice{Purpose: request.SecondStep, Cause: request.PasswordKnown, To: "holder@example.com", Language: "en", AccountID: "a1"})
	for name, c := range map[string]struct {
		raw  []byte
		want []string
	}{
		"subject on top":  {append([]byte("Subject: Urgent: confirm your account\r\n"), raw...), []string{"header_twice", "dkim_broken"}},
		"from on top":     {append([]byte("From: Gatehouse <help@gatehouse-help.example.net>\r\n"), raw...), []string{"header_twice", "dkim_broken"}},
		"reply-to added":  {append([]byte("Reply-To: help@evil.example\r\n"), raw...), []string{"reply_to_elsewhere", "dkim_broken"}},
		"reference twice": {append([]byte("X-Gatehouse-Reference: GH-2345-6789-ABCD\r\n"), raw...), []string{"header_twice"}},
	} {
		res := run(t, e, check.Input{Raw: c.raw}, "en")
		if res.Verdict != check.NotOurs {
			t.Errorf("%s: %s (%s), want not_ours", name, res.Verdict, codes(res))
		}
		for _, w := range c.want {
			// Our words, under a broken signature, say so.
			if !res.Has(w) && !(w == "dkim_broken" && res.Has("dkim_broken_matching")) {
				t.Errorf("%s: no %s (%s)", name, w, codes(res))
			}
		}
		if res.Has("dkim_ours") {
			t.Errorf("%s: still says nobody changed it (%s)", name, codes(res))
		}
	}
	stripped := withoutSignatures(raw)
	if bytes.Contains(stripped, []byte("DKIM-Signature")) {
		t.Fatalf("signatures not removed:\n%s", stripped)
	}
	code := codeOf(m.Text)
	for name, r := range map[string][]byte{
		"signatures removed":                  stripped,
		"signatures removed and code changed": bytes.ReplaceAll(stripped, []byte(code), []byte(nextCode(code))),
	} {
		res := run(t, e, check.Input{Raw: r}, "en")
		if res.Verdict != check.CannotTell || !res.Has("dkim_missing_matching") {
			t.Errorf("%s: %s (%s), want cannot_tell with dkim_missing_matching", name, res.Verdict, codes(res))
		}
		for _, x := range res.Reasons {
			if x.Code == "content_matches" && strings.Contains(x.Text, "exactly") {
				t.Errorf("%s: 'cannot tell' with %q", name, x.Text)
			}
		}
	}
}

// A file given as the email that is not one (a picture, a PDF, a text) is
// refused rather than judged as text; an email saved from an mbox, with
// its "From sender date" line, is read.
func TestCheck_RawThatIsNotAnEmailIsRefusedAndAnMboxCopyIsRead(t *testing.T) {
	e := newEnv(t)
	for name, b := range map[string][]byte{
		"pdf":    []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"),
		"binary": {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d},
		"readme": []byte("# Gatehouse\n\nRun it: go run ./cmd/gatehouse serve --listen 127.0.0.1:8080\n"),
	} {
		if _, err := e.checker.Check(context.Background(), check.Input{Raw: b}, "en"); !errors.Is(err, check.ErrNotEmail) {
			t.Errorf("%s: %v, want ErrNotEmail", name, err)
		}
	}
	_, raw := e.send(t, notice.Notice{Purpose: request.SecondStep, Cause: request.PasswordKnown, To: "holder@example.com", Language: "en", AccountID: "a1"})
	mbox := append([]byte("From no-reply@gatehouse.example Wed Dec  2 10:00:00 2026\r\n"), raw...)
	if res := run(t, e, check.Input{Raw: mbox}, "en"); res.Verdict != check.Genuine {
		t.Errorf("mbox copy: %s (%s)", res.Verdict, codes(res))
	}
}

// TestCheck_AWholeForeignEmailIsNotOurs (issue 18, item 6): a complete
// email with no signature of ours, not from our address and with no
// reference of ours is "not ours" — not "cannot tell" — and says that
// whether it is genuine from its sender is not ours to judge.
func TestCheck_AWholeForeignEmailIsNotOurs(t *testing.T) {
	e := newEnv(t)
	e.checker.LookupTXT = func(context.Context, string) ([]string, error) { return nil, errors.New("no DNS here") }
	foreign := "From: Parcel Service <track@parcels.example.org>\r\nTo: holder@example.com\r\nSubject: Your parcel\r\n" +
		"Date: Wed, 02 Dec 2026 10:00:00 +0000\r\nMessage-Id: <x1@parcels.example.org>\r\n\r\nYour parcel is on its way.\r\n"
	for _, lang := range []string{"en", "ja"} {
		res := run(t, e, check.Input{Raw: []byte(foreign)}, lang)
		if res.Verdict != check.NotOurs || !res.Has("not_ours_foreign") {
			t.Errorf("%s: %s %s", lang, res.Verdict, codes(res))
		}
	}
	// The same words pasted (not a whole email) stay "cannot tell": a
	// piece of text cannot show where it came from.
	if res := run(t, e, check.Input{Text: "Your parcel is on its way."}, "en"); res.Verdict == check.NotOurs || res.Has("not_ours_foreign") {
		t.Errorf("a pasted sentence: %s %s", res.Verdict, codes(res))
	}
}

// TestCheck_JunkSignaturesAboveOursDoNotHideIt (the probe's W9): four
// foreign signatures and fifty broken ones of our domain placed above our
// own still leave the message genuine, and a check looks up at most two
// other domains' keys.
func TestCheck_JunkSignaturesAboveOursDoNotHideIt(t *testing.T) {
	e := newEnv(t)
	_, raw := e.send(t, notice.Notice{Purpose: request.TwoStepOn, To: "holder@example.com", Language: "en", AccountID: "a1"})
	var lookups atomic.Int32
	e.checker.LookupTXT = func(context.Context, string) ([]string, error) {
		lookups.Add(1)
		return nil, errors.New("no such record")
	}
	var junk bytes.Buffer
	for i := range 4 {
		fmt.Fprintf(&junk, "DKIM-Signature: v=1; a=rsa-sha256; d=attacker%d.example; s=s%d; h=from; bh=AAAA; b=AAAA\r\n", i, i)
	}
	for i := range 50 {
		fmt.Fprintf(&junk, "DKIM-Signature: v=1; a=rsa-sha256; d=%s; s=junk%d; h=from; bh=AAAA; b=AAAA\r\n", e.checker.MailDomain, i)
	}
	res := run(t, e, check.Input{Raw: append(junk.Bytes(), raw...)}, "en")
	if res.Verdict != check.Genuine || !res.Has("dkim_ours") {
		t.Errorf("with junk signatures above ours: %s %s", res.Verdict, codes(res))
	}
	// Junk with our own selectors, above ours, is verified after ours.
	junk.Reset()
	for i := range 20 {
		for _, k := range e.checker.Keys.Keys() {
			fmt.Fprintf(&junk, "DKIM-Signature: v=1; a=rsa-sha256; d=%s; s=%s; h=from; bh=AAAA%d; b=AAAA\r\n", e.checker.MailDomain, k.Selector, i)
		}
	}
	res = run(t, e, check.Input{Raw: append(junk.Bytes(), raw...)}, "en")
	if res.Verdict != check.Genuine || !res.Has("dkim_ours") {
		t.Errorf("with junk signatures of our selectors above ours: %s %s", res.Verdict, codes(res))
	}
	// A signature in our name with a selector we never had is broken,
	// not absent.
	forged := []byte(fmt.Sprintf("DKIM-Signature: v=1; a=rsa-sha256; d=%s; s=never; h=from; bh=AAAA; b=AAAA\r\n", e.checker.MailDomain))
	if res := run(t, e, check.Input{Raw: append(forged, withoutSignatures(raw)...)}, "en"); res.Verdict == check.Genuine {
		t.Errorf("a forged signature of ours: %s %s", res.Verdict, codes(res))
	}
	if n := lookups.Load(); n > 2 {
		t.Errorf("%d DNS lookups of names the visitor chose, want at most 2", n)
	}
}
