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
// messages on node A (PostgreSQL, real SMTP server), kills A with SIGKILL
// while a message is inside SMTP DATA — the server has the whole message
// but A never hears that it was taken — and lets node B finish: every
// message reaches the mailbox exactly once. The message whose hand-off A
// had started is sent again by B under the same Message-Id (its
// idempotency key), which the mailbox keeps once.
func TestOutbox_KillNodeMidDelivery_EveryMessageDeliveredExactlyOnce(t *testing.T) {
	db := pgtest.NewDatabase(t)
	s, err := smtptest.Start(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	env := smtpEnv(s)
	for k, v := range nodeEnv(db, filepath.Join(t.TempDir(), "secrets.json")) {
		env[k] = v
	}
	env["GATEHOUSE_MAIL_LEASE"] = "3s"
	const n = 10
	// Two messages go through; the third is held inside DATA.
	hold := s.HoldData(3)
	defer hold.Release()
	a := serve(t, t.TempDir(), env)
	for i := range n {
		if st, _ := a.form(noRedirect(), "/signup", map[string]string{"email": fmt.Sprintf("kill-%02d@example.com", i), "password": "violet canoe at dawn"}); st != 303 {
			t.Fatalf("signup %d: %d", i, st)
		}
	}
	select {
	case <-hold.Inside():
	case <-time.After(30 * time.Second):
		t.Fatalf("no third message reached DATA (mailbox holds %d)", len(s.Messages()))
	}
	a.cmd.Process.Signal(syscall.SIGKILL)
	<-a.done
	atKill := len(s.Messages())
	// The provider had the whole message: it accepts it although A is gone.
	hold.Release()
	cut := smtptest.Header(hold.Message().Data, "X-Gatehouse-Reference")
	if atKill >= n {
		t.Fatalf("everything was delivered before the kill (%d)", atKill)
	}
	if cut == "" {
		t.Fatal("the held message carries no reference")
	}

	b := serve(t, t.TempDir(), env)
	s.WaitFor(n, 30*time.Second)
	// B sends the cut-off message again once A's lease on it has ended.
	s.WaitAccepted(n+1, 30*time.Second)
	// A graceful stop finishes the delivery in hand: after it, nothing more
	// can reach the mailbox.
	if code := b.stop(); code != 0 {
		t.Fatalf("B exit %d", code)
	}
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
	t.Logf("%d delivered before SIGKILL, 1 inside DATA; SMTP accepted %d transactions, %d of them re-sent under the same idempotency key", atKill, accepted, dups)
	if dups == 0 {
		t.Errorf("the message cut off inside DATA (%s) was not re-sent under its Message-Id", cut)
	}
	if !loggedLine(b.Output(), "re-delivering a message whose earlier hand-off was cut off", cut) {
		t.Errorf("the re-sent message %s was not logged as such:\n%s", cut, b.Output())
	}
}

// loggedLine reports whether one line of out contains every one of parts.
func loggedLine(out string, parts ...string) bool {
	for line := range strings.Lines(out) {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			return true
		}
	}
	return false
}
