package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"gatehouse/internal/account"
)

// ContactStore is what the address and phone changes need of a store.
type ContactStore interface {
	SetEmail(ctx context.Context, accountID, email string) error
	SetPhone(ctx context.Context, accountID, number string, confirmedAt time.Time) error
}

// testContact: a new address is found by its own spelling in any case and
// the old one no longer is; an address another account has is refused by
// the unique index (ErrEmailTaken) and changes nothing; a confirmed phone
// reads back with its time, and removing it clears both.
func testContact(t *testing.T, s Store) {
	ctx := context.Background()
	c, ok := s.(ContactStore)
	if !ok {
		t.Fatal("the store cannot change addresses and phones")
	}
	a, b := newAccount("first@example.com"), newAccount("second@example.com")
	for _, x := range []*account.Account{a, b} {
		if err := s.CreateAccount(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.SetEmail(ctx, a.ID, "Moved@Example.com"); err != nil {
		t.Fatal(err)
	}
	if got, err := s.AccountByEmail(ctx, "moved@example.com"); err != nil || got.ID != a.ID || got.Email != "Moved@Example.com" {
		t.Fatalf("by the new address: %+v %v", got, err)
	}
	if _, err := s.AccountByEmail(ctx, "first@example.com"); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("the old address still finds the account: %v", err)
	}
	if err := c.SetEmail(ctx, b.ID, "MOVED@example.com"); !errors.Is(err, account.ErrEmailTaken) {
		t.Fatalf("another account's address: %v, want ErrEmailTaken", err)
	}
	if got, _ := s.AccountByID(ctx, b.ID); got.Email != "second@example.com" {
		t.Fatalf("a refused change changed the address to %q", got.Email)
	}
	if err := c.SetEmail(ctx, "missing", "x@example.com"); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("unknown account: %v", err)
	}
	at := t0.Add(time.Hour)
	if err := c.SetPhone(ctx, a.ID, "+819011112222", at); err != nil {
		t.Fatal(err)
	}
	got, _ := s.AccountByID(ctx, a.ID)
	if got.Phone != "+819011112222" || !got.PhoneConfirmedAt.Equal(at) || got.PhoneConfirmedAt.Location() != time.UTC {
		t.Fatalf("phone read back as %q at %v", got.Phone, got.PhoneConfirmedAt)
	}
	if err := c.SetPhone(ctx, a.ID, "", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.AccountByID(ctx, a.ID); got.Phone != "" || !got.PhoneConfirmedAt.IsZero() {
		t.Fatalf("removed phone reads %q at %v", got.Phone, got.PhoneConfirmedAt)
	}
	if err := c.SetPhone(ctx, "missing", "+819011112222", at); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("unknown account: %v", err)
	}
}
