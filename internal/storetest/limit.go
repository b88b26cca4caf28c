package storetest

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gatehouse/internal/device"
	"gatehouse/internal/limit"
	"gatehouse/internal/request"
)

// rule is the default policy's guess rule: 4 free failures, 30 s doubling
// to 1 h, 500 guesses per 30-day window.
var rule = limit.GuessRule{
	Free: 4, FirstDelay: (30 * time.Second).Microseconds(), MaxDelay: time.Hour.Microseconds(),
	Window: limit.Window.Microseconds(), WindowLimit: 500,
}

// testGuessCounters: twenty guesses at once are twenty counted guesses
// until the delay starts (the 5th), and none after it; the delay doubles;
// a right answer ends the run; scopes are apart.
func testGuessCounters(t *testing.T, s Store) {
	ctx := context.Background()
	k := limit.GuessKey{Secret: limit.Password, Subject: "acc1"}
	var taken atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, ok, err := s.TakeGuess(ctx, k, "acc1", rule, t0); err != nil {
				t.Error(err)
			} else if ok {
				taken.Add(1)
			}
		})
	}
	wg.Wait()
	if taken.Load() != 5 {
		t.Fatalf("%d of 20 simultaneous guesses counted, want 5 (the 5th starts the delay)", taken.Load())
	}
	c, ok, err := s.TakeGuess(ctx, k, "acc1", rule, t0.Add(29*time.Second))
	if err != nil || ok || !c.DelayedUntil.Equal(t0.Add(30*time.Second).Truncate(time.Microsecond)) || c.Consecutive != 5 {
		t.Fatalf("during the delay: %+v %v %v", c, ok, err)
	}
	c, ok, err = s.TakeGuess(ctx, k, "acc1", rule, t0.Add(30*time.Second))
	if err != nil || !ok || c.Consecutive != 6 || !c.DelayedUntil.Equal(t0.Add(90*time.Second).Truncate(time.Microsecond)) {
		t.Fatalf("6th guess: %+v %v %v (want a 60 s delay)", c, ok, err)
	}
	// Another scope (a known browser) is not delayed by this run.
	kd := limit.GuessKey{Secret: limit.Password, Subject: "acc1", Scope: "device:d1"}
	if c, ok, err := s.TakeGuess(ctx, kd, "acc1", rule, t0.Add(31*time.Second)); err != nil || !ok || c.Consecutive != 1 {
		t.Fatalf("known browser: %+v %v %v", c, ok, err)
	}
	got, err := s.AccountGuesses(ctx, "acc1")
	if err != nil || got[limit.Password] != 6 {
		t.Fatalf("account guesses %v %v", got, err)
	}
	if err := s.ClearGuesses(ctx, k); err != nil {
		t.Fatal(err)
	}
	if c, ok, err := s.TakeGuess(ctx, k, "acc1", rule, t0.Add(32*time.Second)); err != nil || !ok || c.Consecutive != 1 {
		t.Fatalf("after a right answer: %+v %v %v", c, ok, err)
	}
	// The delay stops growing at the maximum.
	k2 := limit.GuessKey{Secret: limit.AppCode, Subject: "acc2"}
	at := t0
	for i := 1; i <= 20; i++ {
		c, ok, err := s.TakeGuess(ctx, k2, "acc2", rule, at)
		if err != nil || !ok {
			t.Fatalf("guess %d at %v refused: %+v %v", i, at, c, err)
		}
		if i >= 5 {
			want := min(time.Hour, 30*time.Second<<(i-5))
			if d := c.DelayedUntil.Sub(at); d != want {
				t.Fatalf("guess %d: delay %v, want %v", i, d, want)
			}
			at = c.DelayedUntil
		}
	}
}

// testGuessBudget: at most WindowLimit guesses per window, whatever the
// delays allow.
func testGuessBudget(t *testing.T, s Store) {
	ctx := context.Background()
	r := rule
	r.Free, r.WindowLimit = 1000, 3 // no delay: only the budget stops it
	k := limit.GuessKey{Secret: limit.BackupCode, Subject: "acc"}
	for i := range 3 {
		if _, ok, err := s.TakeGuess(ctx, k, "acc", r, t0.Add(time.Duration(i)*time.Hour)); err != nil || !ok {
			t.Fatalf("guess %d refused: %v", i, err)
		}
	}
	c, ok, err := s.TakeGuess(ctx, k, "acc", r, t0.Add(10*time.Hour))
	if err != nil || ok || !c.WindowStart.Equal(t0.Truncate(time.Microsecond)) {
		t.Fatalf("4th guess in the window: %+v %v %v", c, ok, err)
	}
	if c, ok, err := s.TakeGuess(ctx, k, "acc", r, t0.Add(limit.Window)); err != nil || !ok || c.WindowCount != 1 {
		t.Fatalf("first guess of the next window: %+v %v %v", c, ok, err)
	}
}

// testSendWindows: at most short sends in any 10 minutes and day in any
// day, even when asked together; a refusal says when the next fits.
func testSendWindows(t *testing.T, s Store) {
	ctx := context.Background()
	var sent atomic.Int32
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			if ok, _, err := s.TakeSend(ctx, "a@example.com", t0, 10*time.Minute, 3, 10); err != nil {
				t.Error(err)
			} else if ok {
				sent.Add(1)
			}
		})
	}
	wg.Wait()
	if sent.Load() != 3 {
		t.Fatalf("%d of 10 simultaneous sends taken, want 3", sent.Load())
	}
	ok, retry, err := s.TakeSend(ctx, "a@example.com", t0.Add(9*time.Minute), 10*time.Minute, 3, 10)
	if err != nil || ok || !retry.Equal(t0.Add(10*time.Minute).Truncate(time.Microsecond)) {
		t.Fatalf("4th within 10 minutes: %v %v %v", ok, retry, err)
	}
	if ok, _, err := s.TakeSend(ctx, "b@example.com", t0, 10*time.Minute, 3, 10); err != nil || !ok {
		t.Fatalf("another destination: %v %v", ok, err)
	}
	at := t0.Add(10*time.Minute + time.Second)
	for i := 3; i < 10; i++ {
		if ok, _, err := s.TakeSend(ctx, "a@example.com", at, 10*time.Minute, 3, 10); err != nil || !ok {
			t.Fatalf("send %d at %v refused", i+1, at)
		}
		at = at.Add(4 * time.Minute)
	}
	ok, retry, err = s.TakeSend(ctx, "a@example.com", at.Add(time.Hour), 10*time.Minute, 3, 10)
	if err != nil || ok || !retry.Equal(t0.Add(24*time.Hour).Truncate(time.Microsecond)) {
		t.Fatalf("11th in a day: %v %v %v", ok, retry, err)
	}
	if err := s.RecordRefusal(ctx, limit.Refusal{Rule: limit.DestinationDay, Subject: "a@example.com",
		Origin: request.Origin{IP: "192.0.2.1", Time: t0}, RetryAt: retry}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Refusals(ctx, t0.Add(-time.Minute), 10)
	if err != nil || len(got) != 1 || got[0].Rule != limit.DestinationDay || got[0].Subject != "a@example.com" ||
		got[0].Origin.IP != "192.0.2.1" || !got[0].RetryAt.Equal(retry) {
		t.Fatalf("refusals read back: %+v %v", got, err)
	}
}

// testLimitWindows: fixed windows count apart per key and start; a
// subject is new once per key and window.
func testLimitWindows(t *testing.T, s Store) {
	ctx := context.Background()
	h := t0.Truncate(time.Hour)
	for range 3 {
		if err := s.Hit(ctx, []string{"fail:192.0.2.1", "fail:192.0.2.0/24"}, h); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Hit(ctx, []string{"fail:192.0.2.1"}, h.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, err := s.Counts(ctx, []string{"fail:192.0.2.1", "fail:192.0.2.0/24", "fail:other"}, h)
	if err != nil || got["fail:192.0.2.1"] != 3 || got["fail:192.0.2.0/24"] != 3 || got["fail:other"] != 0 {
		t.Fatalf("counts %v %v", got, err)
	}
	for i, want := range []bool{true, false} {
		if fresh, err := s.Seen(ctx, "subj:192.0.2.1", "password:acc", h); err != nil || fresh != want {
			t.Fatalf("seen %d: %v %v", i, fresh, err)
		}
	}
	if fresh, err := s.Seen(ctx, "subj:192.0.2.1", "password:acc", h.Add(time.Hour)); err != nil || !fresh {
		t.Fatalf("next window: %v %v", fresh, err)
	}
}

// testDeviceRotation: a rotated token is taken once as superseded (a
// copy showing up), and the accounts trusting the device are listed.
func testDeviceRotation(t *testing.T, s Store) {
	ctx := context.Background()
	a := newAccount("rotation@example.com")
	if err := s.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	d := &device.Device{ID: "dev-rot", TokenHash: []byte("old-token-hash-0123456789abcdef0"), FirstSeen: t0, LastSeen: t0}
	if err := s.CreateDevice(ctx, d); err != nil {
		t.Fatal(err)
	}
	s.MarkUsed(ctx, a.ID, d.ID, t0)
	if err := s.Trust(ctx, a.ID, d.ID, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.RotateToken(ctx, d.ID, d.TokenHash, []byte("new-token-hash-0123456789abcdef0")); err != nil || !ok {
		t.Fatalf("rotate: %v %v", ok, err)
	}
	if ok, _ := s.RotateToken(ctx, d.ID, d.TokenHash, []byte("another-hash")); ok {
		t.Fatal("a second rotation from the same old token won")
	}
	for i, want := range []string{d.ID, ""} {
		if id, err := s.TakeSupersededToken(ctx, d.TokenHash); err != nil || id != want {
			t.Fatalf("superseded token, take %d: %q %v", i, id, err)
		}
	}
	if got, err := s.TrustingAccounts(ctx, d.ID, t0); err != nil || len(got) != 1 || got[0] != a.ID {
		t.Fatalf("trusting accounts %v %v", got, err)
	}
	if got, _ := s.TrustingAccounts(ctx, d.ID, t0.Add(2*time.Hour)); len(got) != 0 {
		t.Fatalf("trust past its end: %v", got)
	}
}
