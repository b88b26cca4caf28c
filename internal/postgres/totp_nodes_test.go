package postgres_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"gatehouse/internal/account"
	"gatehouse/internal/clock"
	"gatehouse/internal/crypt"
	"gatehouse/internal/pgtest"
	"gatehouse/internal/postgres"
	"gatehouse/internal/totp"
)

// TestTOTP_AStepAcceptedOnOneNodeIsRefusedOnTheOther: two nodes on one
// database; a code accepted by one is refused by the other, even at the
// same moment (the conditional update on the shared row decides).
func TestTOTP_AStepAcceptedOnOneNodeIsRefusedOnTheOther(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	var nodes []*totp.Service
	now := time.Date(2026, 11, 28, 9, 0, 10, 0, time.UTC)
	box, _ := crypt.New(bytes.Repeat([]byte{7}, 32))
	for range 2 {
		db, err := postgres.Open(ctx, url, 5, true)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		nodes = append(nodes, &totp.Service{Store: db, Box: box, Issuer: "Shop", Clock: clock.NewFake(now).Clock()})
	}
	a := &account.Account{ID: "acc", Email: "n@example.com", PasswordHash: "x", Status: account.Active, CreatedAt: now, PasswordChangedAt: now}
	if err := nodes[0].Store.(*postgres.DB).CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	app, key, err := nodes[0].Begin(ctx, a.ID, a.Email)
	if err != nil {
		t.Fatal(err)
	}
	first, _ := totp.Code(key.Secret, totp.Step(now)-1)
	if err := nodes[1].Confirm(ctx, a.ID, app.ID, "Phone", first); err != nil {
		t.Fatalf("confirming on the other node: %v", err)
	}
	code, _ := totp.Code(key.Secret, totp.Step(now))
	results := make(chan error, 2)
	for _, n := range nodes {
		go func() { _, err := n.Verify(ctx, a.ID, code); results <- err }()
	}
	var passed, refused int
	for range 2 {
		switch err := <-results; {
		case err == nil:
			passed++
		case errors.Is(err, totp.ErrReplayed):
			refused++
		default:
			t.Fatalf("unexpected: %v", err)
		}
	}
	if passed != 1 || refused != 1 {
		t.Fatalf("one code on two nodes at once: %d passed, %d refused; want 1 and 1", passed, refused)
	}
	if _, err := nodes[0].Verify(ctx, a.ID, code); !errors.Is(err, totp.ErrReplayed) {
		t.Fatalf("afterwards on the first node: %v", err)
	}
}
