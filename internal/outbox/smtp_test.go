package outbox_test

import (
	"context"
	"crypto/x509"
	"os"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/outbox"
	"gatehouse/internal/smtptest"
)

func roots(t *testing.T, s *smtptest.Server) *x509.CertPool {
	b, err := os.ReadFile(s.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	p := x509.NewCertPool()
	p.AppendCertsFromPEM(b)
	return p
}

func TestSMTPDriver_ImplicitTLSAndSTARTTLSWithAuth(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"tls", "starttls"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			start := smtptest.Start
			if mode == "tls" {
				start = smtptest.StartImplicitTLS
			}
			s, err := start(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			d := &outbox.SMTPDriver{Config: outbox.SMTPConfig{Host: s.Host, Port: s.Port, Username: s.Username, Password: s.Password,
				TLS: mode, From: "Shop <no-reply@shop.example>", RootCAs: roots(t, s), Timeout: 5 * time.Second}}
			m := &outbox.Message{ID: "msgid1", Reference: "GH-2345-6789", To: "holder@example.com", Language: "ja",
				Subject: "確認コード", Text: "本文 123456", HTML: "<p>本文</p>", CreatedAt: time.Now()}
			if err := d.Send(context.Background(), m); err != nil {
				t.Fatal(err)
			}
			got := s.WaitFor(1, 5*time.Second)
			if len(got) != 1 || got[0].From != "no-reply@shop.example" || got[0].To[0] != "holder@example.com" {
				t.Fatalf("received %+v", got)
			}
			raw := string(got[0].Data)
			if smtptest.Header(got[0].Data, "Message-Id") != "<msgid1@shop.example>" || !strings.Contains(raw, "GH-2345-6789") || !strings.Contains(raw, "multipart/alternative") {
				t.Fatalf("message:\n%s", raw)
			}
		})
	}
}

func TestSMTPDriver_WrongPasswordAndUntrustedCertificateFail(t *testing.T) {
	t.Parallel()
	s, err := smtptest.Start(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	m := &outbox.Message{ID: "x", To: "a@example.com", Subject: "s", Text: "t", HTML: "h", CreatedAt: time.Now()}
	bad := &outbox.SMTPDriver{Config: outbox.SMTPConfig{Host: s.Host, Port: s.Port, Username: s.Username, Password: "wrong",
		TLS: "starttls", From: "a@shop.example", RootCAs: roots(t, s), Timeout: 5 * time.Second}}
	if err := bad.Send(context.Background(), m); err == nil || !strings.Contains(err.Error(), "auth") {
		t.Fatalf("wrong password: %v", err)
	}
	untrusted := &outbox.SMTPDriver{Config: outbox.SMTPConfig{Host: s.Host, Port: s.Port, Username: s.Username, Password: s.Password,
		TLS: "starttls", From: "a@shop.example", Timeout: 5 * time.Second}}
	if err := untrusted.Send(context.Background(), m); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("untrusted certificate: %v", err)
	}
	if len(s.Messages()) != 0 {
		t.Fatal("a message got through")
	}
}
