package code_test

import (
	"context"
	"errors"
	"gatehouse/internal/limit"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"gatehouse/internal/code"
	"gatehouse/internal/request"
	"gatehouse/internal/sqlite"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time      { return c.t }
func (c *clock) add(d time.Duration) { c.t = c.t.Add(d) }
func newService(t *testing.T) (*code.Service, *clock) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"), true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	c := &clock{time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)}
	return &code.Service{Store: db, Blocks: db, Key: []byte("0123456789abcdef0123456789abcdef"), TTL: 10 * time.Minute,
		Cooldown: time.Minute, MaxFailures: 5, Clock: c.now, Limits: limit.None()}, c
}

func TestIssue_SixRandomDigitsStoredOnlyAsHash_V6_5_3(t *testing.T) {
	t.Parallel()
	s, _ := newService(t)
	ctx := context.Background()
	seen := map[string]bool{}
	for range 20 {
		ch, c, err := s.Issue(ctx, code.Challenge{Purpose: request.ConfirmEmail, AccountID: "acc", Destination: "a@example.com", Origin: request.Origin{DeviceID: "dev"}}, false)
		if err != nil {
			t.Fatal(err)
		}
		if len(c) != 6 || len(ch.CodeHash) != 32 {
			t.Fatalf("code %q hash %d bytes", c, len(ch.CodeHash))
		}
		stored, _ := s.Store.Challenge(ctx, ch.ID)
		if string(stored.CodeHash) == c || len(stored.CodeHash) != 32 {
			t.Fatal("the store must hold an HMAC, not the code")
		}
		seen[c] = true
	}
	if len(seen) < 15 {
		t.Fatalf("20 codes gave only %d distinct values", len(seen))
	}
}

func TestVerify_SingleUse_V6_5_1(t *testing.T) {
	t.Parallel()
	s, _ := newService(t)
	ctx := context.Background()
	ch, c, _ := s.Issue(ctx, code.Challenge{Purpose: request.ConfirmEmail, AccountID: "acc", Destination: "a@example.com", Origin: request.Origin{DeviceID: "dev"}}, false)
	if _, err := s.Verify(ctx, ch.ID, request.ConfirmEmail, c, request.Origin{}); err != nil {
		t.Fatalf("first use: %v", err)
	}
	if _, err := s.Verify(ctx, ch.ID, request.ConfirmEmail, c, request.Origin{}); !errors.Is(err, code.ErrUsed) {
		t.Fatalf("second use: %v, want ErrUsed", err)
	}
}

func TestVerify_ConcurrentUseHasOneWinner(t *testing.T) {
	t.Parallel()
	s, _ := newService(t)
	ctx := context.Background()
	ch, c, _ := s.Issue(ctx, code.Challenge{Purpose: request.ResetPassword, AccountID: "acc", Destination: "a@example.com", Origin: request.Origin{DeviceID: "dev"}}, false)
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for range 8 {
		wg.Go(func() {
			if _, err := s.Verify(ctx, ch.ID, request.ResetPassword, c, request.Origin{}); err == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d parallel uses succeeded, want exactly 1", wins)
	}
}

func TestVerify_ExpiresAfterTenMinutes_V6_5_5(t *testing.T) {
	t.Parallel()
	s, clk := newService(t)
	ctx := context.Background()
	ch, c, _ := s.Issue(ctx, code.Challenge{Purpose: request.ConfirmEmail, AccountID: "acc", Destination: "a@example.com", Origin: request.Origin{DeviceID: "dev"}}, false)
	clk.add(10 * time.Minute)
	if _, err := s.Verify(ctx, ch.ID, request.ConfirmEmail, c, request.Origin{}); !errors.Is(err, code.ErrExpired) {
		t.Fatalf("after 10 min: %v, want ErrExpired", err)
	}
	ch2, c2, _ := s.Issue(ctx, code.Challenge{Purpose: request.ConfirmEmail, AccountID: "acc", Destination: "a@example.com", Origin: request.Origin{DeviceID: "dev"}}, false)
	clk.add(10*time.Minute - time.Second)
	if _, err := s.Verify(ctx, ch2.ID, request.ConfirmEmail, c2, request.Origin{}); err != nil {
		t.Fatalf("just inside 10 min: %v", err)
	}
}

func TestVerify_LocksAfterFiveWrongCodes(t *testing.T) {
	t.Parallel()
	s, _ := newService(t)
	ctx := context.Background()
	ch, c, _ := s.Issue(ctx, code.Challenge{Purpose: request.ConfirmEmail, AccountID: "acc", Destination: "a@example.com", Origin: request.Origin{DeviceID: "dev"}}, false)
	wrong := "000000"
	if c == wrong {
		wrong = "111111"
	}
	for i := 1; i <= 4; i++ {
		got, err := s.Verify(ctx, ch.ID, request.ConfirmEmail, wrong, request.Origin{})
		if !errors.Is(err, code.ErrWrongCode) || s.Remaining(got) != 5-i {
			t.Fatalf("wrong #%d: %v remaining %d", i, err, s.Remaining(got))
		}
	}
	if _, err := s.Verify(ctx, ch.ID, request.ConfirmEmail, wrong, request.Origin{}); !errors.Is(err, code.ErrLocked) {
		t.Fatalf("fifth wrong: %v, want ErrLocked", err)
	}
	if _, err := s.Verify(ctx, ch.ID, request.ConfirmEmail, c, request.Origin{}); !errors.Is(err, code.ErrLocked) {
		t.Fatalf("right code after lock: %v, want ErrLocked", err)
	}
}

func TestResend_CooldownAndFailuresCarryOver_NIST_3_1_3(t *testing.T) {
	t.Parallel()
	s, clk := newService(t)
	ctx := context.Background()
	ch, old, _ := s.Issue(ctx, code.Challenge{Purpose: request.ConfirmEmail, AccountID: "acc", Destination: "a@example.com", Origin: request.Origin{DeviceID: "dev"}}, false)
	if _, _, err := s.Resend(ctx, ch.ID, request.ConfirmEmail, request.Origin{}); !errors.Is(err, code.ErrCooldown) {
		t.Fatalf("immediate resend: %v, want ErrCooldown", err)
	}
	wrong := "999999"
	if old == wrong {
		wrong = "888888"
	}
	s.Verify(ctx, ch.ID, request.ConfirmEmail, wrong, request.Origin{})
	clk.add(time.Minute)
	got, fresh, err := s.Resend(ctx, ch.ID, request.ConfirmEmail, request.Origin{})
	if err != nil || fresh == "" {
		t.Fatalf("resend after cool-down: %q %v", fresh, err)
	}
	if got.Failures != 1 {
		t.Fatalf("failures after resend = %d, want 1 (a new code must not reset the counter)", got.Failures)
	}
	if old != fresh {
		if _, err := s.Verify(ctx, ch.ID, request.ConfirmEmail, old, request.Origin{}); !errors.Is(err, code.ErrWrongCode) {
			t.Fatalf("old code after resend: %v, want ErrWrongCode", err)
		}
	}
	if _, err := s.Verify(ctx, ch.ID, request.ConfirmEmail, fresh, request.Origin{}); err != nil {
		t.Fatalf("new code: %v", err)
	}
}

func TestVerify_ForeignCodeAndPurposeRefused(t *testing.T) {
	t.Parallel()
	s, _ := newService(t)
	ctx := context.Background()
	a, ca, _ := s.Issue(ctx, code.Challenge{Purpose: request.ConfirmEmail, AccountID: "acc1", Destination: "a@example.com", Origin: request.Origin{DeviceID: "dev"}}, false)
	b, cb, _ := s.Issue(ctx, code.Challenge{Purpose: request.ConfirmEmail, AccountID: "acc2", Destination: "b@example.com", Origin: request.Origin{DeviceID: "dev"}}, false)
	if ca != cb {
		if _, err := s.Verify(ctx, a.ID, request.ConfirmEmail, cb, request.Origin{}); !errors.Is(err, code.ErrWrongCode) {
			t.Fatalf("b's code on a's request: %v", err)
		}
	}
	if _, err := s.Verify(ctx, b.ID, request.ResetPassword, cb, request.Origin{}); !errors.Is(err, code.ErrNotFound) {
		t.Fatalf("confirm request used as reset: %v", err)
	}
	if _, err := s.Verify(ctx, "nope", request.ConfirmEmail, cb, request.Origin{}); !errors.Is(err, code.ErrNotFound) {
		t.Fatalf("unknown request: %v", err)
	}
}

func TestDecoy_NoCodeEverMatches(t *testing.T) {
	t.Parallel()
	s, _ := newService(t)
	ctx := context.Background()
	ch, c, _ := s.Issue(ctx, code.Challenge{Purpose: request.ResetPassword, AccountID: "", Destination: "nobody@example.com", Origin: request.Origin{DeviceID: "dev"}}, true)
	if c != "" || ch.CodeHash != nil {
		t.Fatal("a decoy must have no code")
	}
	for _, guess := range []string{"000000", "123456", ""} {
		if _, err := s.Verify(ctx, ch.ID, request.ResetPassword, guess, request.Origin{}); err == nil {
			t.Fatalf("guess %q matched a decoy", guess)
		}
	}
}

// BenchmarkCheck is the verification of a right code against its stored
// challenge (one read and one HMAC), in parallel on SQLite: the code
// check of an emailed or SMS second step.
func BenchmarkCheck(b *testing.B) {
	db, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "t.db"), true)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	s := &code.Service{Store: db, Blocks: db, Key: []byte("0123456789abcdef0123456789abcdef"), TTL: time.Hour, Cooldown: time.Minute, MaxFailures: 5, Limits: limit.None()}
	ch, c, err := s.Issue(context.Background(), code.Challenge{Purpose: request.ResetPassword, AccountID: "acc", Destination: "a@example.com"}, false)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Check(context.Background(), ch.ID, request.ResetPassword, c, request.Origin{}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// TestOpenAndSend_ASecondStepSwitchesChannelsWithinOneLimit_NIST_3_1_3: a
// second step opened without a code sends none; its first code (by SMS,
// say) needs no cool-down; a second code by the same channel does; a code
// by the other channel replaces it, the failure count carries over every
// switch, and MaxSends bounds the codes of all channels together.
func TestOpenAndSend_ASecondStepSwitchesChannelsWithinOneLimit_NIST_3_1_3(t *testing.T) {
	t.Parallel()
	s, clk := newService(t)
	s.MaxSends = 3
	ctx := context.Background()
	if _, err := s.Open(ctx, code.Challenge{Purpose: request.SecondStep, AccountID: "acc"}); err == nil {
		t.Fatal("a second step opened without its cause")
	}
	ch, err := s.Open(ctx, code.Challenge{Purpose: request.SecondStep, Cause: request.PasswordKnown, AccountID: "acc", AttemptID: "att"})
	if err != nil || ch.Sends != 0 || ch.CodeHash != nil {
		t.Fatalf("open: %+v %v", ch, err)
	}
	if _, err := s.Verify(ctx, ch.ID, request.SecondStep, "123456", request.Origin{}); !errors.Is(err, code.ErrWrongCode) {
		t.Fatalf("a code typed before any was sent: %v", err)
	}
	got, sms, err := s.Send(ctx, ch.ID, request.SecondStep, request.SMS, "+819012345678", request.Origin{})
	if err != nil || len(sms) != 6 || got.Channel != request.SMS || got.Destination != "+819012345678" || got.Sends != 1 {
		t.Fatalf("first code by SMS at once: %+v %q %v", got, sms, err)
	}
	if _, _, err := s.Send(ctx, ch.ID, request.SecondStep, request.SMS, "+819012345678", request.Origin{}); !errors.Is(err, code.ErrCooldown) {
		t.Fatalf("a second SMS at once: %v, want ErrCooldown", err)
	}
	got, mail, err := s.Send(ctx, ch.ID, request.SecondStep, request.Email, "a@example.com", request.Origin{})
	if err != nil || got.Channel != request.Email || got.Failures != 1 {
		t.Fatalf("switching to email: %+v %v (failures must carry over)", got, err)
	}
	if mail != sms {
		if _, err := s.Check(ctx, ch.ID, request.SecondStep, sms, request.Origin{}); !errors.Is(err, code.ErrWrongCode) {
			t.Fatalf("the replaced SMS code: %v", err)
		}
	}
	clk.add(time.Minute)
	if _, _, err := s.Send(ctx, ch.ID, request.SecondStep, request.SMS, "+819012345678", request.Origin{}); err != nil {
		t.Fatalf("third code: %v", err)
	}
	clk.add(time.Minute)
	if _, _, err := s.Send(ctx, ch.ID, request.SecondStep, request.Email, "a@example.com", request.Origin{}); !errors.Is(err, code.ErrNoMore) {
		t.Fatalf("a fourth code: %v, want ErrNoMore", err)
	}
	read, _ := s.Lookup(ctx, ch.ID, request.SecondStep)
	if read.Sends != 3 || read.Channel != request.SMS {
		t.Fatalf("stored: sends %d channel %s", read.Sends, read.Channel)
	}
}
