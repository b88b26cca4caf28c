package outbox_test

import (
	"context"
	"strings"
	"testing"

	"gatehouse/internal/outbox"
	"gatehouse/internal/request"
)

// keepingDriver is a driver whose delivery is reading the store (like the
// dev driver): the code must stay readable after "delivery".
type keepingDriver struct{ recordingDriver }

func (*keepingDriver) KeepsCode() bool { return true }

// TestEnqueue_SMSIsShortAndEndsWithTheOriginBoundLine: an SMS has no HTML,
// carries the code and the reference, and its last line is "@host #code"
// for the host of the public URL, so a phone offers the code only on the
// service's own site (WebOTP). The stored text masks the code everywhere.
func TestEnqueue_SMSIsShortAndEndsWithTheOriginBoundLine(t *testing.T) {
	t.Parallel()
	o, db := newOutbox(t, &recordingDriver{})
	m, err := o.Enqueue(context.Background(), outbox.Draft{Purpose: request.SecondStep, Cause: request.PasswordKnown,
		ChallengeID: "ch1", Channel: request.SMS, To: "+819012345678", Language: "ja", Code: "123456",
		Paragraphs: []string{"【Shop】ログイン確認コード"}})
	if err != nil {
		t.Fatal(err)
	}
	if m.HTML != "" || m.Channel != request.SMS || strings.Contains(m.Text, "123456") {
		t.Fatalf("stored SMS: html %q, channel %s, text %q", m.HTML, m.Channel, m.Text)
	}
	shown, err := o.Reveal(stored(t, db, m.ID))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(shown.Text, "\n")
	if last := lines[len(lines)-1]; last != "@id.example #123456" {
		t.Fatalf("last line %q, want the origin-bound line; text:\n%s", last, shown.Text)
	}
	if !strings.Contains(shown.Text, "\n123456\n") || !strings.Contains(shown.Text, m.Reference) {
		t.Fatalf("code or reference missing:\n%s", shown.Text)
	}
}

// TestEnqueue_RefusesAChannelWithoutADriver: a message for a channel this
// installation cannot send is refused when it is queued, not left to fail
// at delivery.
func TestEnqueue_RefusesAChannelWithoutADriver(t *testing.T) {
	t.Parallel()
	o, _ := newOutbox(t, &recordingDriver{})
	delete(o.Drivers, request.SMS)
	if _, err := o.Enqueue(context.Background(), outbox.Draft{Purpose: request.SecondStep, Channel: request.SMS,
		To: "+819012345678", Language: "en", Code: "123456"}); err == nil || !strings.Contains(err.Error(), "no driver") {
		t.Fatalf("an SMS without an SMS driver: %v", err)
	}
}

// TestRun_KeepingTheCodeIsTheDriversChoice: whether the sealed code is
// erased after delivery is the driver's KeepsCode, not its name.
func TestRun_KeepingTheCodeIsTheDriversChoice(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		d    outbox.Driver
		keep bool
	}{{"erasing", &recordingDriver{}, false}, {"keeping", &keepingDriver{}, true}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o, db := newOutbox(t, tc.d)
			m, err := o.Enqueue(context.Background(), draft("k@example.com"))
			if err != nil {
				t.Fatal(err)
			}
			run(t, o)
			waitFor(t, "the message is sent", func() bool { return stored(t, db, m.ID).Status == outbox.Sent })
			if got := stored(t, db, m.ID).Secret != nil; got != tc.keep {
				t.Fatalf("code kept: %v, want %v", got, tc.keep)
			}
		})
	}
}
