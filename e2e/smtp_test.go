package e2e

import (
	"bytes"
	"io"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"

	"gatehouse/internal/smtptest"
)

func smtpEnv(s *smtptest.Server) map[string]string {
	env := map[string]string{
		"GATEHOUSE_MAIL_DRIVER": "smtp", "GATEHOUSE_SMTP_HOST": s.Host, "GATEHOUSE_SMTP_PORT": strconv.Itoa(s.Port),
		"GATEHOUSE_SMTP_USERNAME": s.Username, "GATEHOUSE_SMTP_PASSWORD": s.Password, "GATEHOUSE_SMTP_TLS": "starttls",
		"GATEHOUSE_SMTP_CA_FILE": s.CAFile, "GATEHOUSE_MAIL_FROM": "Example Shop <no-reply@shop.example>",
	}
	for k, v := range cheapArgon {
		env[k] = v
	}
	return env
}

// textPart returns the text/plain part of a received message.
func textPart(t *testing.T, data []byte) string {
	t.Helper()
	r, err := mail.CreateReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	for {
		p, err := r.NextPart()
		if err != nil {
			t.Fatalf("no text/plain part: %v", err)
		}
		if h, ok := p.Header.(*mail.InlineHeader); ok {
			if ct, _, _ := h.ContentType(); ct == "text/plain" {
				b, _ := io.ReadAll(p.Body)
				return strings.ReplaceAll(string(b), "\r\n", "\n")
			}
		}
	}
}

var sixDigits = regexp.MustCompile(`(?m)^    (\d{6})$`)

// TestSMTPDriver_ConfirmationCodeArrivesByRealMail signs up against the real
// binary, whose smtp driver delivers over STARTTLS with AUTH PLAIN to a real
// SMTP server; the code is read out of the received mail and confirms the
// account.
func TestSMTPDriver_ConfirmationCodeArrivesByRealMail(t *testing.T) {
	s, err := smtptest.Start(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p := serve(t, t.TempDir(), smtpEnv(s))
	jar, _ := cookiejar.New(nil)
	c := noRedirect()
	c.Jar = jar

	status, loc := p.form(c, "/signup", map[string]string{"email": "mailbox@example.com", "password": "violet canoe at dawn"})
	if status != 303 {
		t.Fatalf("signup: %d", status)
	}
	msgs := s.WaitFor(1, 10*time.Second)
	if len(msgs) != 1 {
		t.Fatalf("received %d messages", len(msgs))
	}
	m := msgs[0]
	if m.From != "no-reply@shop.example" || len(m.To) != 1 || m.To[0] != "mailbox@example.com" {
		t.Fatalf("envelope %s -> %v", m.From, m.To)
	}
	ref := smtptest.Header(m.Data, "X-Gatehouse-Reference")
	text := textPart(t, m.Data)
	if !strings.HasPrefix(ref, "GH-") || !strings.Contains(text, ref) {
		t.Fatalf("reference %q not printed in the mail:\n%s", ref, text)
	}
	code := sixDigits.FindStringSubmatch(text)
	if code == nil {
		t.Fatalf("no code in the mail:\n%s", text)
	}
	u, _ := url.Parse(loc)
	status, loc = p.form(c, "/signup/confirm", map[string]string{"c": u.Query().Get("c"), "code": code[1]})
	if status != 303 || loc != "/account?notice=account_created" {
		t.Fatalf("confirm with the mailed code: %d %s", status, loc)
	}
	resp, err := c.Get(p.URL + "/account")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("account page: %v %d", err, resp.StatusCode)
	}
	resp.Body.Close()
	if code := p.stop(); code != 0 {
		t.Fatalf("exit code %d after SIGTERM", code)
	}
}
