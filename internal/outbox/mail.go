package outbox

import (
	"bytes"
	"fmt"
	"time"

	"github.com/emersion/go-message/mail"
)

// Signer signs an email's bytes (package dkimkeys' Ring): it returns the
// message with its DKIM-Signature fields prepended.
type Signer interface {
	Sign(msg []byte, domain string, now time.Time) ([]byte, error)
}

// Mailer writes a stored message as the bytes of an email. The SMTP driver
// sends those bytes and the development driver keeps them, so what a
// developer downloads from /dev/messages/{reference}.eml is exactly what a
// mailbox would receive.
type Mailer struct {
	From *mail.Address
	// Domain is the mail domain: the d= of the signatures and the right
	// side of Message-Ids. Empty means the From address's domain.
	Domain string
	// Signer signs every email; nil sends them unsigned (driver tests).
	Signer Signer
	// Now is the signing time (time.Now when nil).
	Now func() time.Time
}

// NewMailer makes a Mailer from a From header value such as
// "Gatehouse <no-reply@example.com>".
func NewMailer(from, domain string, s Signer) (*Mailer, error) {
	addr, err := mail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("outbox: from address %q: %w", from, err)
	}
	return &Mailer{From: addr, Domain: domain, Signer: s}, nil
}

// MailDomain is the domain the Mailer signs for.
func (mm *Mailer) MailDomain() string {
	if mm.Domain != "" {
		return mm.Domain
	}
	return domainOf(mm.From.Address)
}

// Build writes the message as multipart/alternative (text, then HTML) and
// signs it. The reference also goes into a header so the checker can find
// it in a raw email without parsing the body.
func (mm *Mailer) Build(m *Message) ([]byte, error) {
	var buf bytes.Buffer
	var h mail.Header
	h.SetDate(m.CreatedAt)
	h.SetAddressList("From", []*mail.Address{mm.From})
	h.SetAddressList("To", []*mail.Address{{Address: m.To}})
	h.SetSubject(m.Subject)
	h.Set("Message-Id", fmt.Sprintf("<%s@%s>", m.IdempotencyKey(), mm.MailDomain()))
	h.Set("X-Gatehouse-Reference", m.Reference)
	h.Set("Content-Language", m.Language)
	h.Set("Auto-Submitted", "auto-generated")
	mw, err := mail.CreateWriter(&buf, h)
	if err != nil {
		return nil, err
	}
	tw, err := mw.CreateInline()
	if err != nil {
		return nil, err
	}
	for _, part := range []struct{ typ, body string }{{"text/plain", m.Text}, {"text/html", m.HTML}} {
		var ph mail.InlineHeader
		ph.Set("Content-Type", part.typ+"; charset=utf-8")
		ph.Set("Content-Transfer-Encoding", "quoted-printable")
		w, err := tw.CreatePart(ph)
		if err != nil {
			return nil, err
		}
		w.Write([]byte(part.body))
		w.Close()
	}
	tw.Close()
	mw.Close()
	if mm.Signer == nil {
		return buf.Bytes(), nil
	}
	now := time.Now
	if mm.Now != nil {
		now = mm.Now
	}
	return mm.Signer.Sign(buf.Bytes(), mm.MailDomain(), now())
}

func domainOf(addr string) string {
	if _, d, ok := cut(addr); ok {
		return d
	}
	return "localhost"
}
