package totp_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/account"
	"gatehouse/internal/clock"
	"gatehouse/internal/crypt"
	"gatehouse/internal/sqlite"
	"gatehouse/internal/totp"
)

func newService(t *testing.T) (*totp.Service, *clock.Fake, *sqlite.DB, string) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "t.db"), true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	now := time.Date(2026, 11, 28, 9, 0, 10, 0, time.UTC)
	a := &account.Account{ID: "acc", Email: "taro@example.com", PasswordHash: "x", Status: account.Active, CreatedAt: now, PasswordChangedAt: now}
	if err := db.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	box, _ := crypt.New(bytes.Repeat([]byte{7}, 32))
	fake := clock.NewFake(now)
	return &totp.Service{Store: db, Box: box, Issuer: "Shop", Clock: fake.Clock()}, fake, db, a.ID
}

// TestEnrol_FirstCodeConfirmsTheAppAndSecretIsSealed_V6_6_1: an enrolment
// is pending until a right first code; the secret is stored sealed, never
// in the clear; a wrong first code leaves it pending; the first code's step
// cannot be used again to sign in.
func TestEnrol_FirstCodeConfirmsTheAppAndSecretIsSealed_V6_6_1(t *testing.T) {
	t.Parallel()
	s, clk, db, acc := newService(t)
	ctx := context.Background()
	app, key, err := s.Begin(ctx, acc, "taro@example.com")
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := db.App(ctx, app.ID)
	if bytes.Contains(stored.Secret, []byte(key.Secret)) || stored.Confirmed() {
		t.Fatalf("stored app: confirmed %v, secret in the clear: %v", stored.Confirmed(), bytes.Contains(stored.Secret, []byte(key.Secret)))
	}
	_, again, err := s.Pending(ctx, acc, app.ID, "taro@example.com")
	if err != nil || again.Secret != key.Secret || again.URI != key.URI {
		t.Fatalf("the pending key shown again: %+v %v (first %+v)", again, err, key)
	}
	if _, _, err := s.Pending(ctx, "someone-else", app.ID, "x"); !errors.Is(err, totp.ErrNotFound) {
		t.Fatalf("another account's enrolment: %v", err)
	}
	// Not confirmed: it passes no second step.
	code, _ := totp.Code(key.Secret, totp.Step(clk.Now()))
	if _, err := s.Verify(ctx, acc, code); !errors.Is(err, totp.ErrNoMatch) {
		t.Fatalf("an unconfirmed app verified: %v", err)
	}
	if err := s.Confirm(ctx, acc, app.ID, "Phone", "000000"); err == nil {
		t.Fatal("a wrong first code confirmed the app")
	}
	if err := s.Confirm(ctx, acc, app.ID, "  ", code); !errors.Is(err, totp.ErrName) {
		t.Fatalf("an empty name: %v", err)
	}
	if err := s.Confirm(ctx, acc, app.ID, " Phone ", code); err != nil {
		t.Fatal(err)
	}
	apps, _ := db.Apps(ctx, acc)
	if len(apps) != 1 || !apps[0].Confirmed() || apps[0].Name != "Phone" {
		t.Fatalf("apps: %+v", apps)
	}
	if _, err := s.Verify(ctx, acc, code); !errors.Is(err, totp.ErrReplayed) {
		t.Fatalf("the confirming code reused: %v", err)
	}
	clk.Advance(totp.Period * time.Second)
	next, _ := totp.Code(key.Secret, totp.Step(clk.Now()))
	if got, err := s.Verify(ctx, acc, next); err != nil || got.ID != app.ID {
		t.Fatalf("the next step: %v %v", got, err)
	}
	if _, err := s.Verify(ctx, acc, next); !errors.Is(err, totp.ErrReplayed) {
		t.Fatalf("the same code twice: %v", err)
	}
}

// TestVerify_AnyConfirmedAppOneStepForAll: with two apps, a code from
// either passes, and a step used with one app cannot be used with the
// other (the last step is the account's).
func TestVerify_AnyConfirmedAppOneStepForAll(t *testing.T) {
	t.Parallel()
	s, clk, _, acc := newService(t)
	ctx := context.Background()
	var keys []*totp.Key
	for _, name := range []string{"Phone", "Tablet"} {
		app, key, _ := s.Begin(ctx, acc, "taro@example.com")
		c, _ := totp.Code(key.Secret, totp.Step(clk.Now()))
		if err := s.Confirm(ctx, acc, app.ID, name, c); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		keys = append(keys, key)
		clk.Advance(totp.Period * time.Second)
	}
	c, _ := totp.Code(keys[0].Secret, totp.Step(clk.Now()))
	if app, err := s.Verify(ctx, acc, c); err != nil || app.Name != "Phone" {
		t.Fatalf("the first app's code: %v %v", app, err)
	}
	c2, _ := totp.Code(keys[1].Secret, totp.Step(clk.Now()))
	if _, err := s.Verify(ctx, acc, c2); !errors.Is(err, totp.ErrReplayed) {
		t.Fatalf("the other app's code for the same step: %v", err)
	}
}

func TestCleanName(t *testing.T) {
	t.Parallel()
	for in, ok := range map[string]bool{"Phone": true, " 仕事用 ": true, "": false, "a\x00b": false, strings.Repeat("x", 65): false, strings.Repeat("あ", 64): true} {
		if _, err := totp.CleanName(in); (err == nil) != ok {
			t.Errorf("CleanName(%q): %v", in, err)
		}
	}
}
