// Package smtptest runs a real SMTP submission server (emersion/go-smtp) on
// a loopback port for tests: STARTTLS with a throw-away certificate, AUTH
// PLAIN, and a record of every message accepted. It is the receiving side
// that Gatehouse's smtp driver talks to in tests, so the driver is tested
// against the protocol rather than against a mock.
package smtptest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Message is one accepted message.
type Message struct {
	From string
	To   []string
	Data []byte
}

// Server is a running test SMTP server.
type Server struct {
	Addr     string // host:port
	Host     string
	Port     int
	CAFile   string // PEM of the server's self-signed certificate
	Username string
	Password string
	// Delay is how long each DATA takes, to simulate a slow provider.
	Delay time.Duration

	srv        *smtp.Server
	mu         sync.Mutex
	msgs       []Message
	seen       map[string]bool
	accepted   int
	duplicates int
	received   int     // DATA transactions read in full, accepted or not yet
	holds      []*Hold // armed, not yet reached
	closed     chan struct{}
	wait       chan struct{}
}

// Hold is one DATA transaction the server stops inside; see HoldData.
type Hold struct {
	at      int // the server's received count that triggers it
	inside  chan struct{}
	release chan struct{}
	done    chan struct{}
	once    sync.Once
	msg     Message
}

// Inside is closed once the held transaction is inside DATA: the server
// has read the whole message, up to the final dot, and has neither
// accepted it nor answered the client. The client is then waiting for the
// reply that tells it the message was taken.
func (h *Hold) Inside() <-chan struct{} { return h.inside }

// Message returns the held message, or the zero Message before Inside is
// closed.
func (h *Hold) Message() Message {
	select {
	case <-h.inside:
		return h.msg
	default:
		return Message{}
	}
}

// Release lets the transaction go on: the server accepts the message, as a
// provider that has received it in full does even when the client is gone
// by then, and answers. If the transaction is already held, Release
// returns once the message is in the mailbox (or counted as a duplicate);
// released before the transaction arrives, the transaction is not held.
// Calling it again does nothing.
func (h *Hold) Release() {
	h.once.Do(func() { close(h.release) })
	select {
	case <-h.inside:
		<-h.done
	default:
	}
}

// HoldData arms a hold on the nth DATA transaction from now (1 for the
// next one): the server stops inside it until the hold is released, so a
// test can act — kill the sending process, say — at a moment when a
// message is inside DATA, without guessing that moment by sleeping. Close
// releases every hold.
func (s *Server) HoldData(n int) *Hold {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := &Hold{at: s.received + n, inside: make(chan struct{}), release: make(chan struct{}), done: make(chan struct{})}
	s.holds = append(s.holds, h)
	return h
}

// Start starts a STARTTLS server on 127.0.0.1 with a fresh certificate in dir.
func Start(dir string) (*Server, error) { return start(dir, false) }

// StartImplicitTLS starts a server that speaks TLS from the first byte, as
// on port 465.
func StartImplicitTLS(dir string) (*Server, error) { return start(dir, true) }

func start(dir string, implicit bool) (*Server, error) {
	cert, pemBytes, err := selfSigned()
	if err != nil {
		return nil, err
	}
	caFile := filepath.Join(dir, "smtp-ca.pem")
	if err := os.WriteFile(caFile, pemBytes, 0o600); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{Addr: ln.Addr().String(), Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, CAFile: caFile,
		Username: "gatehouse", Password: "smtp-test-password", wait: make(chan struct{}, 1), seen: map[string]bool{},
		closed: make(chan struct{})}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) { return &session{s: s}, nil }))
	s.srv.Domain = "localhost"
	s.srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	s.srv.ReadTimeout = 10 * time.Second
	s.srv.WriteTimeout = 10 * time.Second
	if implicit {
		ln = tls.NewListener(ln, s.srv.TLSConfig)
	}
	go s.srv.Serve(ln)
	return s, nil
}

// Close stops the server and releases any hold.
func (s *Server) Close() error {
	s.mu.Lock()
	select {
	case <-s.closed:
	default:
		close(s.closed)
	}
	s.holds = nil
	s.mu.Unlock()
	return s.srv.Close()
}

// Accepted returns how many DATA transactions the server accepted, and how
// many of them repeated a Message-Id already in the mailbox. Like a
// provider that honours idempotency keys, the server keeps one copy.
func (s *Server) Accepted() (accepted, duplicates int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accepted, s.duplicates
}

// Messages returns the messages in the mailbox (one per Message-Id).
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// WaitFor waits until at least n messages are in the mailbox or timeout
// passes.
func (s *Server) WaitFor(n int, timeout time.Duration) []Message {
	s.waitUntil(func() bool { return len(s.msgs) >= n }, timeout)
	return s.Messages()
}

// WaitAccepted waits until at least n DATA transactions were accepted
// (duplicates included) or timeout passes, and returns Accepted.
func (s *Server) WaitAccepted(n int, timeout time.Duration) (accepted, duplicates int) {
	s.waitUntil(func() bool { return s.accepted >= n }, timeout)
	return s.Accepted()
}

// waitUntil waits until cond, called with s.mu held, is true or timeout
// passes.
func (s *Server) waitUntil(cond func() bool, timeout time.Duration) {
	deadline := time.After(timeout)
	for {
		s.mu.Lock()
		ok := cond()
		s.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-s.wait:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			return
		}
	}
}

type session struct {
	s      *Server
	authed bool
	from   string
	to     []string
}

func (x *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (x *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, user, pass string) error {
		if user != x.s.Username || pass != x.s.Password {
			return errors.New("invalid credentials")
		}
		x.authed = true
		return nil
	}), nil
}

func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	if !x.authed {
		return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "authentication required"}
	}
	x.from = from
	return nil
}

func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.to = append(x.to, to)
	return nil
}

func (x *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	time.Sleep(x.s.Delay)
	if h := x.s.held(); h != nil {
		h.msg = Message{From: x.from, To: append([]string(nil), x.to...), Data: b}
		close(h.inside)
		select {
		case <-h.release:
		case <-x.s.closed:
		}
		defer close(h.done)
	}
	id := Header(b, "Message-Id")
	x.s.mu.Lock()
	x.s.accepted++
	if id != "" && x.s.seen[id] {
		x.s.duplicates++
	} else {
		x.s.seen[id] = true
		x.s.msgs = append(x.s.msgs, Message{From: x.from, To: x.to, Data: b})
	}
	x.s.mu.Unlock()
	select {
	case x.s.wait <- struct{}{}:
	default:
	}
	return nil
}

// held counts a DATA transaction read in full and returns the hold armed
// for it, if any.
func (s *Server) held() *Hold {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.received++
	for i, h := range s.holds {
		if h.at == s.received {
			s.holds = append(s.holds[:i], s.holds[i+1:]...)
			return h
		}
	}
	return nil
}

func (x *session) Reset()        { x.from, x.to = "", nil }
func (x *session) Logout() error { return nil }

// Header returns the value of a header in raw message data.
func Header(data []byte, name string) string {
	head, _, _ := bytes.Cut(data, []byte("\r\n\r\n"))
	for _, line := range strings.Split(string(head), "\r\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(k, name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func selfSigned() (tls.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pemBytes, nil
}
