package smtptest_test

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"gatehouse/internal/smtptest"
)

// client opens an authenticated STARTTLS session with s.
func client(t *testing.T, s *smtptest.Server) *smtp.Client {
	t.Helper()
	pem, err := os.ReadFile(s.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	c, err := smtp.DialStartTLS(s.Addr, &tls.Config{RootCAs: roots, ServerName: s.Host})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Auth(sasl.NewPlainClient("", s.Username, s.Password)); err != nil {
		t.Fatal(err)
	}
	return c
}

// send starts a transaction for a message with the Message-Id and returns
// a channel that gets the server's answer to the final dot.
func send(t *testing.T, c *smtp.Client, id string) <-chan error {
	t.Helper()
	if err := c.Mail("from@example.com", nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("to@example.com", nil); err != nil {
		t.Fatal(err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("Message-Id: <" + id + ">\r\nSubject: test\r\n\r\nbody\r\n")); err != nil {
		t.Fatal(err)
	}
	answer := make(chan error, 1)
	go func() { answer <- w.Close() }()
	return answer
}

func TestHoldData_StopsInsideDataUntilReleased(t *testing.T) {
	t.Parallel()
	s, err := smtptest.Start(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	hold := s.HoldData(2)
	c := client(t, s)
	defer c.Close()
	if err := <-send(t, c, "first@test"); err != nil {
		t.Fatalf("the first transaction is not held: %v", err)
	}
	answer := send(t, c, "second@test")
	select {
	case <-hold.Inside():
	case <-time.After(10 * time.Second):
		t.Fatal("the second transaction never reached the hold")
	}
	if id := smtptest.Header(hold.Message().Data, "Message-Id"); id != "<second@test>" {
		t.Fatalf("held %q", id)
	}
	select {
	case err := <-answer:
		t.Fatalf("the client got an answer while held: %v", err)
	default:
	}
	if n := len(s.Messages()); n != 1 {
		t.Fatalf("%d messages in the mailbox while the second is held, want 1", n)
	}
	hold.Release()
	if n := len(s.Messages()); n != 2 {
		t.Fatalf("%d messages in the mailbox once Release returned, want 2", n)
	}
	if err := <-answer; err != nil {
		t.Fatalf("after the release: %v", err)
	}
	hold.Release() // again: nothing happens
}

// TestHoldData_ClientGoneThenResent: a message whose client died while it
// was held is still accepted on release, and the same Message-Id sent
// again counts as a duplicate, not as a second message in the mailbox.
func TestHoldData_ClientGoneThenResent(t *testing.T) {
	t.Parallel()
	s, err := smtptest.Start(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	hold := s.HoldData(1)
	c := client(t, s)
	send(t, c, "cut@test")
	<-hold.Inside()
	c.Close() // the sending process dies, never hearing the answer
	hold.Release()
	again := client(t, s)
	defer again.Close()
	if err := <-send(t, again, "cut@test"); err != nil {
		t.Fatal(err)
	}
	accepted, dups := s.WaitAccepted(2, 10*time.Second)
	if accepted != 2 || dups != 1 || len(s.Messages()) != 1 {
		t.Fatalf("accepted %d, duplicates %d, mailbox %d; want 2, 1, 1", accepted, dups, len(s.Messages()))
	}
}

// TestHoldData_CloseReleases: closing the server does not leave a held
// transaction stuck.
func TestHoldData_CloseReleases(t *testing.T) {
	t.Parallel()
	s, err := smtptest.Start(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	hold := s.HoldData(1)
	c := client(t, s)
	defer c.Close()
	send(t, c, "closing@test")
	<-hold.Inside()
	s.Close()
	done := make(chan struct{})
	go func() { hold.Release(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Release after Close did not return")
	}
}
