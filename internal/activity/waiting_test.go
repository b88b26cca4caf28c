package activity_test

import (
	"context"
	"errors"
	"testing"

	"gatehouse/internal/activity"
	"gatehouse/internal/code"
	"gatehouse/internal/outbox"
	"gatehouse/internal/random"
	"gatehouse/internal/request"
)

// wrongCode is a six-digit code that is not c.
func wrongCode(c string) string {
	if c == "000000" {
		return "111111"
	}
	return "000000"
}

// TestWaiting_UnansweredRequestsFromElsewhere: open requests of the causes
// that protect the account are waiting, newest first, unless made from the
// asking device, answered, or of a cause that is not put to the holder.
func TestWaiting_UnansweredRequestsFromElsewhere(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	pk, _, _ := w.request(t, request.PasswordKnown, "other")
	reset, _, _ := w.request(t, request.ResetRequested, "other")
	w.request(t, request.PasswordKnown, "mine") // from the asking device
	w.request(t, request.Mistyped, "other")     // not put to the holder
	answered, _, _ := w.request(t, request.CodeRequested, "other")
	if _, err := w.svc.Answer(ctx, w.acc.ID, answered, activity.Me, request.Origin{DeviceID: "mine"}); err != nil {
		t.Fatal(err)
	}
	ws, err := w.svc.Waiting(ctx, w.acc.ID, "mine")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, x := range ws {
		got[x.Reference] = true
		if !x.Open {
			t.Errorf("%s is not open", x.Reference)
		}
	}
	if len(ws) != 2 || !got[pk] || !got[reset] {
		t.Fatalf("waiting %+v, want %s and %s", ws, pk, reset)
	}
	if ws[0].AttemptID == "" && ws[1].AttemptID == "" {
		t.Error("the password_known request does not name its attempt")
	}
	// From anywhere (no device), the asking device's own request counts.
	if ws, _ := w.svc.Waiting(ctx, w.acc.ID, ""); len(ws) != 3 {
		t.Errorf("from no device: %d waiting, want 3", len(ws))
	}
}

// TestStopUnasked_TheRecipientsCodeStopsAndBlocks: the right code stops a
// code-to-an-unheld-destination request and blocks its sender; a wrong one
// stops nothing; a second stop renews nothing; a sign-in's code cannot be
// stopped this way.
func TestStopUnasked_TheRecipientsCodeStopsAndBlocks(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	sender := request.Origin{DeviceID: "typist", IP: "198.51.100.7", UserAgent: "UA", Time: w.now}
	ch, right, err := w.codes.Issue(ctx, code.Challenge{Purpose: request.AddPhone, Cause: request.Mistyped, AccountID: w.acc.ID,
		Channel: request.SMS, Destination: "+819087654321", Origin: sender}, false)
	if err != nil {
		t.Fatal(err)
	}
	ref := random.Reference()
	if err := w.db.EnqueueMessage(ctx, &outbox.Message{ID: random.ID(), Reference: ref, AccountID: w.acc.ID, Purpose: request.AddPhone,
		Cause: request.Mistyped, ChallengeID: ch.ID, Channel: request.SMS, To: ch.Destination, CreatedAt: w.now, Status: outbox.Sent,
		NextAttemptAt: w.now}); err != nil {
		t.Fatal(err)
	}
	by := request.Origin{DeviceID: "recipient", IP: "203.0.113.5"}
	if _, err := w.svc.StopUnasked(ctx, ref, wrongCode(right), by); !errors.Is(err, activity.ErrStopCode) {
		t.Fatalf("a wrong code: %v", err)
	}
	if blocked, _ := w.codes.Blocked(ctx, ch.Destination, sender); blocked {
		t.Fatal("a wrong code blocked the sender")
	}
	u, err := w.svc.StopUnasked(ctx, ref, right, by)
	if err != nil || !u.Stopped || !u.Blocked || u.Already {
		t.Fatalf("the right code: %+v, %v", u, err)
	}
	if blocked, _ := w.codes.Blocked(ctx, ch.Destination, sender); !blocked {
		t.Fatal("the sender is not blocked")
	}
	if _, err := w.codes.Check(ctx, ch.ID, ch.Purpose, right, sender); err == nil {
		t.Fatal("the stopped code still answers its request")
	}
	if u, err := w.svc.StopUnasked(ctx, ref, "000000", by); err != nil || !u.Already || u.Blocked {
		t.Fatalf("a second stop: %+v, %v", u, err)
	}
	pk, _, _ := w.request(t, request.PasswordKnown, "other")
	if _, err := w.svc.StopUnasked(ctx, pk, "000000", by); !errors.Is(err, activity.ErrNotFound) {
		t.Fatalf("a sign-in's code: %v", err)
	}
}

// TestAnswer_EndedSession: the answer says whether it signed out a given
// session — every session for password_known, the device that asked for
// old_device — without asking the session store.
func TestAnswer_EndedSession(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	ref, _, _ := w.request(t, request.OldDevice, "old-laptop")
	a, err := w.svc.Answer(ctx, w.acc.ID, ref, activity.NotMe, request.Origin{DeviceID: "phone"})
	if err != nil {
		t.Fatal(err)
	}
	if a.EndedSession("s-phone", "phone") || !a.EndedSession("s-old", "old-laptop") {
		t.Errorf("old_device: ended phone %v, old laptop %v", a.EndedSession("s-phone", "phone"), a.EndedSession("s-old", "old-laptop"))
	}
	ref, _, _ = w.request(t, request.PasswordKnown, "stranger")
	a, err = w.svc.Answer(ctx, w.acc.ID, ref, activity.NotMe, request.Origin{DeviceID: "phone"})
	if err != nil {
		t.Fatal(err)
	}
	if !a.EndedSession("s-phone", "phone") {
		t.Error("password_known did not end the answering session")
	}
}
