package e2e

import (
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"gatehouse/internal/pgtest"
	"gatehouse/internal/smtptest"
)

// TestOutbox_KillNodeMidDelivery_EveryMessageDeliveredExactlyOnce queues
// messages on node A (PostgreSQL, real SMTP server that is slow to accept),
// kills A with SIGKILL mid-delivery, and lets node B finish: every message
// reaches the mailbox exactly once. A message whose hand-off A had started
// is sent again by B under the same Message-Id (its idempotency key), which
// the mailbox keeps once.
func TestOutbox_KillNodeMidDelivery_EveryMessageDeliveredExactlyOnce(t *testing.T) {
	db := pgtest.NewDatabase(t)
	s, err := smtptest.Start(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Delay = 300 * time.Millisecond
	env := smtpEnv(s)
	for k, v := range nodeEnv(db, filepath.Join(t.TempDir(), "secrets.json")) {
		env[k] = v
	}
	env["GATEHOUSE_MAIL_LEASE"] = "3s"
	a := serve(t, t.TempDir(), env)
	const n = 10
	for i := range n {
		if st, _ := a.form(noRedirect(), "/signup", map[string]string{"email": fmt.Sprintf("kill-%02d@example.com", i), "password": "violet canoe at dawn"}); st != 303 {
			t.Fatalf("signup %d: %d", i, st)
		}
	}
	s.WaitFor(2, 10*time.Second)
	time.Sleep(150 * time.Millisecond) // into the next message's DATA
	a.cmd.Process.Signal(syscall.SIGKILL)
	<-a.done
	atKill := len(s.Messages())
	if atKill >= n {
		t.Fatalf("everything was delivered before the kill (%d)", atKill)
	}

	b := serve(t, t.TempDir(), env)
	s.WaitFor(n, 30*time.Second)
	time.Sleep(time.Second) // a duplicate would arrive now
	msgs := s.Messages()
	refs := map[string]int{}
	for _, m := range msgs {
		refs[smtptest.Header(m.Data, "X-Gatehouse-Reference")]++
	}
	accepted, dups := s.Accepted()
	if len(msgs) != n || len(refs) != n {
		t.Fatalf("mailbox holds %d messages with %d references, want %d (accepted %d, duplicates %d)", len(msgs), len(refs), n, accepted, dups)
	}
	for ref, c := range refs {
		if c != 1 {
			t.Errorf("%s in the mailbox %d times", ref, c)
		}
	}
	t.Logf("%d delivered before SIGKILL; SMTP accepted %d transactions, %d of them re-sent under the same idempotency key", atKill, accepted, dups)
	if dups > 0 && !strings.Contains(b.Output(), "re-delivering a message whose earlier hand-off was cut off") {
		t.Error("a re-sent message was not logged as such")
	}
	if code := b.stop(); code != 0 {
		t.Fatalf("B exit %d", code)
	}
}
