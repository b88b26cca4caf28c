package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/smtptest"
)

// TestOutbox_StopWhileQueuedThenRestart_DeliversEveryMessageExactlyOnce
// queues messages faster than a slow SMTP server accepts them, stops the
// server with SIGTERM mid-delivery, starts it again on the same data, and
// checks that every stored message arrived exactly once.
func TestOutbox_StopWhileQueuedThenRestart_DeliversEveryMessageExactlyOnce(t *testing.T) {
	s, err := smtptest.Start(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Delay = 150 * time.Millisecond
	data := t.TempDir()
	env := smtpEnv(s)
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
	got := s.WaitFor(2, 10*time.Second)
	if len(got) >= n {
		t.Fatalf("all %d delivered before the stop; the test proves nothing", len(got))
	}
	if code := p.stop(); code != 0 {
		t.Fatalf("exit code %d after SIGTERM:\n%s", code, p.Output())
	}
	atStop := len(s.Messages())
	if atStop >= n {
		t.Fatalf("all messages were delivered before the stop (%d)", atStop)
	}
	if !strings.Contains(p.Output(), "finishing in-flight requests and the message in hand") {
		t.Fatal("no graceful stop logged")
	}

	serve(t, data, env)
	s.WaitFor(n, 30*time.Second)
	time.Sleep(500 * time.Millisecond) // anything extra would arrive now
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
	t.Logf("%d of %d delivered before the stop, the rest after the restart", atStop, n)
}
