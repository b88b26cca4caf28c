package outbox_test

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"gatehouse/internal/outbox"
	"gatehouse/internal/request"
)

// TestCodeSMS_SaysWhereToCheckAndFitsTwoSegments: every code SMS names the
// site's address and /why (host with its port, to be typed), and — with
// the reason, the code, the reference and the origin-bound line — still
// fits two concatenated segments: 134 characters in Japanese (UCS-2), 306
// in English (GSM 7-bit), for a service name of up to nine letters at a
// short address.
func TestCodeSMS_SaysWhereToCheckAndFitsTwoSegments(t *testing.T) {
	t.Parallel()
	o, _ := newOutbox(t, &recordingDriver{})
	o.ServiceName, o.PublicURL = "Gatehouse", "https://example.jp"
	limit := map[string]int{"ja": 134, "en": 306}
	for _, lang := range []string{"ja", "en"} {
		// The purposes an SMS carries a code for, each with the causes it
		// is sent with.
		for _, pc := range []struct {
			p      request.Purpose
			causes []request.Cause
		}{
			{request.SecondStep, []request.Cause{request.PasswordKnown, request.OldDevice, request.YouJustNow}},
			{request.StepUp, []request.Cause{request.YouJustNow, request.ConnectedApp, "connected_app_named"}},
			{request.AddPhone, []request.Cause{request.Mistyped, request.YouJustNow}},
			{request.ResetPassword, []request.Cause{request.ResetRequested}},
		} {
			for _, cause := range pc.causes {
				p := pc.p
				d := outboxDraftSMS(o.Catalog.T, lang, p, cause)
				m, err := o.Enqueue(context.Background(), d)
				if err != nil {
					t.Fatal(err)
				}
				body, _, _ := strings.Cut(m.Text, "\n\n@")
				if !strings.Contains(body, "example.jp/why") {
					t.Errorf("%s %s/%s names no place to check it:\n%s", lang, p, cause, m.Text)
				}
				if n := utf8.RuneCountInString(m.Text); n > limit[lang] {
					t.Errorf("%s %s/%s: %d characters, over two segments (%d):\n%s", lang, p, cause, n, limit[lang], m.Text)
				}
			}
		}
	}
}

// outboxDraftSMS is a code SMS as package notice writes it.
func outboxDraftSMS(tr func(lang, key string, args ...any) string, lang string, p request.Purpose, c request.Cause) outbox.Draft {
	reason := tr(lang, "sms.cause."+string(c))
	if c == "connected_app_named" {
		// An application's name as long as a code SMS names
		// (notice.SMSAppName).
		reason = tr(lang, "sms.cause.connected_app_named", strings.Repeat("あ", 16))
	}
	return outbox.Draft{Purpose: p, To: "+819012345678", Language: lang, Channel: request.SMS, Code: "123456",
		Paragraphs: []string{tr(lang, "sms.code", "Gatehouse", tr(lang, "purpose."+string(p))), reason}}
}
