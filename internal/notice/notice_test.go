package notice_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/i18n"
	"gatehouse/internal/notice"
	"gatehouse/internal/outbox"
	"gatehouse/internal/request"
)

type capture struct{ drafts []outbox.Draft }

func (c *capture) Enqueue(_ context.Context, d outbox.Draft) (*outbox.Message, error) {
	c.drafts = append(c.drafts, d)
	return &outbox.Message{}, nil
}

func composer() (*notice.Composer, *capture) {
	c := &capture{}
	return &notice.Composer{Outbox: c, Catalog: i18n.New(), ServiceName: "Example"}, c
}

var origin = request.Origin{DeviceID: "dev", IP: "192.0.2.7", Browser: "Firefox 140", OS: "Ubuntu",
	Time: time.Date(2026, 11, 28, 3, 4, 0, 0, time.UTC)}

// TestCompose_EveryPurposeCauseChannelAndLanguageHasItsWords: a code must
// always say what it is for and why it came (the cause table), in both
// languages, on every channel its purpose may use — no missing catalog key
// may reach a holder.
func TestCompose_EveryPurposeCauseChannelAndLanguageHasItsWords(t *testing.T) {
	t.Parallel()
	c, _ := composer()
	for p, chans := range notice.Channels {
		for _, ch := range chans {
			for _, lang := range []string{"en", "ja"} {
				causes := []request.Cause{""}
				if p.HasCode() || p == request.NotMeDone {
					causes = request.Causes
				}
				methods := []string{""}
				if p == request.TwoStepOn || p == request.MethodAdded || p == request.MethodRemoved {
					methods = []string{"app", "phone", "passkey"}
				}
				for i := range max(len(causes), len(methods)) {
					cause := causes[i%len(causes)]
					n := notice.Notice{Purpose: p, Cause: cause, Channel: ch, Language: lang, To: "x@example.com",
						Origin: origin, Valid: 10 * time.Minute, Method: methods[i%len(methods)], Phone: "78",
						Secret: "app_code", Failures: 100}
					if p.HasCode() {
						n.Code = "123456"
					}
					if p == request.NotMeDone {
						// What a "this wasn't me" about a message of each cause did.
						n.Cause, n.About, n.Reference = "", cause, "ABCD-2345"
						n.Actions = []string{"denied_attempt", "stopped_request", "signed_out_all", "signed_out_device",
							"password_marked", "forgot_device", "blocked_sender", "cancelled_reset", "stopped_trusting",
							"nothing", "told_by_email", "told_by_sms"}
					}
					d, err := c.Compose(n)
					if err != nil {
						t.Fatalf("%s/%s/%s/%s: %v", p, cause, ch, lang, err)
					}
					all := d.Subject + "\n" + strings.Join(d.Paragraphs, "\n")
					for _, part := range append([]string{d.Subject}, d.Paragraphs...) {
						if ch == request.SMS && part == d.Subject {
							continue
						}
						if part == "" || strings.Contains(part, "%!") || strings.HasPrefix(part, "mail.") ||
							strings.HasPrefix(part, "sms.") || strings.Contains(part, "purpose.") || strings.Contains(part, "!(") {
							t.Errorf("%s/%s/%s/%s: bad part %q", p, cause, ch, lang, part)
						}
					}
					if p == request.TwoStepReset {
						// The support team's reset says when, never from
						// where: the operator's network is not the holder's.
						if strings.Contains(all, "192.0.2.7") || (ch == request.Email && !strings.Contains(all, "2026")) {
							t.Errorf("%s/%s/%s: a reset must say when and not the operator's network:\n%s", p, ch, lang, all)
						}
					} else if ch == request.Email && !strings.Contains(all, "192.0.2.7") {
						t.Errorf("%s/%s/%s: email does not say where the request came from:\n%s", p, cause, lang, all)
					}
				}
			}
		}
	}
}

func TestCompose_CodeNeedsACauseAndAChannelItsPurposeUses(t *testing.T) {
	t.Parallel()
	c, _ := composer()
	if _, err := c.Compose(notice.Notice{Purpose: request.ResetPassword, Code: "123456", Language: "en"}); err == nil {
		t.Error("a code without a cause was composed")
	}
	if _, err := c.Compose(notice.Notice{Purpose: request.ResetPassword, Cause: request.ResetRequested, Language: "en"}); err == nil {
		t.Error("a code purpose without a code was composed")
	}
	if _, err := c.Compose(notice.Notice{Purpose: request.ConfirmEmail, Cause: request.Mistyped, Code: "1", Channel: request.SMS, Language: "en"}); err == nil {
		t.Error("an address confirmation was composed for SMS")
	}
	if _, err := c.Compose(notice.Notice{Purpose: request.ResetPassword, Withhold: true, Language: "en", Origin: origin}); err != nil {
		t.Errorf("a withheld reset needs no code: %v", err)
	}
}

func TestSend_CarriesTheRequestToTheOutbox(t *testing.T) {
	t.Parallel()
	c, got := composer()
	_, err := c.Send(context.Background(), notice.Notice{
		Purpose: request.ResetPassword, Cause: request.ResetRequested, ChallengeID: "ch1", AccountID: "acc",
		To: "h@example.com", Language: "ja", TimeZone: "Asia/Tokyo", Origin: origin, Code: "654321", Valid: 10 * time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	d := got.drafts[0]
	if d.ChallengeID != "ch1" || d.Cause != request.ResetRequested || d.Channel != request.Email || d.Code != "654321" ||
		d.AccountID != "acc" || d.Purpose != request.ResetPassword {
		t.Fatalf("draft lost the request: %+v", d)
	}
	// 03:04 UTC is 12:04 in Tokyo: the holder's zone, not the server's.
	if !strings.Contains(strings.Join(d.Paragraphs, "\n"), "12:04") || !strings.Contains(d.Paragraphs[1], "10分") {
		t.Fatalf("time or validity not in the holder's terms: %q", d.Paragraphs)
	}
}

// TestCompose_AConnectedAppsCodeNamesIt: the email and the SMS of a code
// an application caused say that it asked, by name, in both languages;
// the draft carries the name to the outbox (message center, /why). A name
// too long for two SMS segments leaves the SMS saying "a connected app".
func TestCompose_AConnectedAppsCodeNamesIt(t *testing.T) {
	t.Parallel()
	c, _ := composer()
	want := map[string]map[request.Channel]string{
		"en": {request.Email: "Example Shop, an application you connected, asked you to confirm it's you", request.SMS: "Example Shop asked you to confirm it's you."},
		"ja": {request.Email: "連携したアプリ「Example Shop」が、続ける前に本人確認を求めました。", request.SMS: "「Example Shop」が本人確認を求めています。"},
	}
	for lang, byChannel := range want {
		for ch, text := range byChannel {
			d, err := c.Compose(notice.Notice{Purpose: request.StepUp, Cause: request.ConnectedApp, App: "Example Shop", Channel: ch,
				To: "x", Language: lang, Origin: origin, Code: "123456", Valid: 10 * time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			if all := strings.Join(d.Paragraphs, "\n"); !strings.Contains(all, text) || d.App != "Example Shop" || d.Cause != request.ConnectedApp {
				t.Errorf("%s %s: want %q, app %q:\n%s", lang, ch, text, d.App, all)
			}
		}
	}
	d, err := c.Compose(notice.Notice{Purpose: request.StepUp, Cause: request.ConnectedApp, App: strings.Repeat("Long", 5), Channel: request.SMS,
		To: "x", Language: "en", Origin: origin, Code: "123456", Valid: 10 * time.Minute})
	if all := strings.Join(d.Paragraphs, "\n"); err != nil || strings.Contains(all, "LongLong") || !strings.Contains(all, "A connected app asked") {
		t.Errorf("a long name in an SMS: %v\n%s", err, all)
	}
}
