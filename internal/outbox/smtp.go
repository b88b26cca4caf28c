package outbox

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// SMTPConfig configures the SMTP driver.
type SMTPConfig struct {
	Host     string
	Port     int
	Username string
	Password string
	// TLS is "starttls" (default, port 587), "tls" (implicit, port 465) or
	// "none" (only for a relay on the same machine).
	TLS     string
	From    string         // e.g. "Example <no-reply@example.com>"
	HelloAs string         // EHLO name; defaults to the From domain
	RootCAs *x509.CertPool // nil: the system's roots
	Timeout time.Duration
}

// SMTPDriver delivers messages to an SMTP submission server.
type SMTPDriver struct {
	Config SMTPConfig
	// Mailer writes (and signs) the email; nil writes an unsigned one
	// from Config.From.
	Mailer *Mailer
}

// Name implements Driver.
func (*SMTPDriver) Name() string { return "smtp" }

// KeepsCode implements Driver: once the mail server has the message, the
// sealed code is erased.
func (*SMTPDriver) KeepsCode() bool { return false }

// Send implements Driver: one connection per message keeps failure handling
// simple, and the outbox already serialises delivery.
func (d *SMTPDriver) Send(ctx context.Context, m *Message) error {
	c := d.Config
	from, err := mail.ParseAddress(c.From)
	if err != nil {
		return fmt.Errorf("smtp: from address %q: %w", c.From, err)
	}
	mailer := d.Mailer
	if mailer == nil {
		mailer = &Mailer{From: from}
	}
	body, err := mailer.Build(m)
	if err != nil {
		return err
	}
	addr := net.JoinHostPort(c.Host, strconv.Itoa(c.Port))
	timeout := c.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	dialer := &net.Dialer{Timeout: timeout}
	conn, err := dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("smtp: dial %s: %w", addr, err)
	}
	deadline := time.Now().Add(timeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	conn.SetDeadline(deadline)
	tlsConf := &tls.Config{ServerName: c.Host, RootCAs: c.RootCAs, MinVersion: tls.VersionTLS12}
	var client *smtp.Client
	switch c.TLS {
	case "tls":
		client = smtp.NewClient(tls.Client(conn, tlsConf))
	case "none":
		client = smtp.NewClient(conn)
	default:
		client, err = smtp.NewClientStartTLS(conn, tlsConf)
		if err != nil {
			conn.Close()
			return fmt.Errorf("smtp: starttls with %s: %w", addr, err)
		}
	}
	defer client.Close()
	if err := client.Hello(helloName(c, from)); err != nil {
		return fmt.Errorf("smtp: hello: %w", err)
	}
	if c.Username != "" {
		if err := client.Auth(sasl.NewPlainClient("", c.Username, c.Password)); err != nil {
			return fmt.Errorf("smtp: auth: %w", err)
		}
	}
	if err := client.SendMail(from.Address, []string{m.To}, bytes.NewReader(body)); err != nil {
		return fmt.Errorf("smtp: send to %s: %w", m.To, err)
	}
	return client.Quit()
}

func helloName(c SMTPConfig, from *mail.Address) string {
	if c.HelloAs != "" {
		return c.HelloAs
	}
	if _, domain, ok := cut(from.Address); ok {
		return domain
	}
	return "localhost"
}

func cut(addr string) (string, string, bool) {
	for i := len(addr) - 1; i >= 0; i-- {
		if addr[i] == '@' {
			return addr[:i], addr[i+1:], true
		}
	}
	return addr, "", false
}
