package e2e

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"gatehouse/internal/smtptest"
)

// TestOutbox_StopWhileQueuedThenRestart_DeliversEveryMessageExactlyOnce
// queues messages faster than a slow SMTP server accepts them, stops the
// server with SIGTERM while a message is inside SMTP DATA, starts it again
// on the same data, and checks that every stored message arrived exactly
// once: the message in hand was finished by the stop, not sent again.
func TestOutbox_StopWhileQueuedThenRestart_DeliversEveryMessageExactlyOnce(t *testing.T) {
	s, err := smtptest.Start(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Delay = 150 * time.Millisecond
	data := t.TempDir()
	env := smtpEnv(s)
	hold := s.HoldData(3) // two go through; the stop comes while the third is inside DATA
	defer hold.Release()
	p := serve(t, data, env)

	const n = 12
	for i := range n {
		status, _ := p.form(noRedirect(), "/signup", map[string]string{
			"email": fmt.Sprintf("queued-%02d@example.com", i), "password": "violet canoe at dawn",
		})
		if status != 303 {
			t.Fatalf("signup %d: %d", i, status)
		}
	}
	select {
	case <-hold.Inside():
	case <-time.After(30 * time.Second):
		t.Fatalf("no third message reached DATA (mailbox holds %d)", len(s.Messages()))
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(p.Output(), "finishing in-flight requests and the message in hand"); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no graceful stop logged after SIGTERM:\n%s", p.Output())
		}
	}
	hold.Release() // the message in hand is taken; the stopping server finishes it
	if code := p.stop(); code != 0 {
		t.Fatalf("exit code %d after SIGTERM:\n%s", code, p.Output())
	}
	atStop := len(s.Messages())
	if atStop >= n {
		t.Fatalf("all messages were delivered before the stop (%d)", atStop)
	}
	if atStop < 3 {
		t.Fatalf("the stop left the message in hand undelivered: %d in the mailbox, want at least 3", atStop)
	}

	q := serve(t, data, env)
	s.WaitFor(n, 30*time.Second)
	// A graceful stop finishes the delivery in hand: after it, nothing more
	// can reach the mailbox.
	if code := q.stop(); code != 0 {
		t.Fatalf("exit code %d after SIGTERM:\n%s", code, q.Output())
	}
	msgs := s.Messages()
	seen := map[string]int{}
	for _, m := range msgs {
		seen[smtptest.Header(m.Data, "X-Gatehouse-Reference")]++
	}
	if len(msgs) != n || len(seen) != n {
		t.Fatalf("delivered %d messages with %d distinct references, want %d each (delivered %d before the stop)", len(msgs), len(seen), n, atStop)
	}
	for ref, c := range seen {
		if c != 1 {
			t.Errorf("%s delivered %d times", ref, c)
		}
	}
	if accepted, dups := s.Accepted(); accepted != n || dups != 0 {
		t.Errorf("SMTP accepted %d transactions, %d of them again under the same Message-Id: a graceful stop must not leave a hand-off to send again", accepted, dups)
	}
	t.Logf("%d of %d delivered before the stop, the rest after the restart", atStop, n)
}
