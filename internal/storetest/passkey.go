package storetest

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gatehouse/internal/passkey"
	"gatehouse/internal/random"
)

// testPasskeys: passkeys are the account's alone, a credential id is
// registered once in the whole installation, a use keeps the highest count
// and a flag once set, and times come back in UTC.
func testPasskeys(t *testing.T, s Store) {
	ctx := context.Background()
	a, b := newAccount("passkey@example.com"), newAccount("other-passkey@example.com")
	s.CreateAccount(ctx, a)
	s.CreateAccount(ctx, b)
	tokyo := time.FixedZone("JST", 9*3600)
	first := &passkey.Credential{ID: random.ID(), AccountID: a.ID, Name: "Laptop", CredentialID: []byte{1, 2, 3},
		Data: []byte(`{"id":"AQID"}`), SignCount: 7, CreatedAt: t0.In(tokyo)}
	second := &passkey.Credential{ID: random.ID(), AccountID: a.ID, Name: "Phone", CredentialID: []byte{4, 5, 6},
		Data: []byte(`{"id":"BAUG"}`), SignCount: 0, CreatedAt: t0.Add(time.Minute)}
	for _, c := range []*passkey.Credential{second, first} { // stored newest first; listed oldest first
		if err := s.CreatePasskey(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	// The same credential id, for this account or another, is refused.
	for _, owner := range []string{a.ID, b.ID} {
		dup := &passkey.Credential{ID: random.ID(), AccountID: owner, Name: "Copy", CredentialID: []byte{1, 2, 3}, Data: []byte(`{}`), CreatedAt: t0}
		if err := s.CreatePasskey(ctx, dup); !errors.Is(err, passkey.ErrDuplicate) {
			t.Fatalf("the same credential id again: %v, want ErrDuplicate", err)
		}
	}
	list, err := s.Passkeys(ctx, a.ID)
	if err != nil || len(list) != 2 || list[0].ID != first.ID || list[1].ID != second.ID {
		t.Fatalf("passkeys: %+v %v", list, err)
	}
	got := list[0]
	if got.AccountID != a.ID || got.Name != "Laptop" || !bytes.Equal(got.CredentialID, first.CredentialID) || !bytes.Equal(got.Data, first.Data) ||
		got.SignCount != 7 || got.Flagged || !got.CreatedAt.Equal(t0) || got.CreatedAt.Location() != time.UTC || !got.LastUsedAt.IsZero() {
		t.Fatalf("stored passkey: %+v", got)
	}
	if others, err := s.Passkeys(ctx, b.ID); err != nil || len(others) != 0 {
		t.Fatalf("another account's passkeys: %+v %v", others, err)
	}
	if got, err := s.PasskeyByCredentialID(ctx, []byte{4, 5, 6}); err != nil || got.ID != second.ID {
		t.Fatalf("by credential id: %+v %v", got, err)
	}
	if _, err := s.PasskeyByCredentialID(ctx, []byte{9}); !errors.Is(err, passkey.ErrNotFound) {
		t.Fatalf("unknown credential id: %v", err)
	}

	// A use records the count, data and time; a lower count (a racing
	// older write) does not lower it, and a flag stays.
	used := t0.Add(time.Hour).In(tokyo)
	if err := s.UsePasskey(ctx, first.ID, 0xFFFFFFF0, []byte(`{"n":1}`), false, used); err != nil {
		t.Fatal(err)
	}
	got, _ = s.PasskeyByCredentialID(ctx, first.CredentialID)
	if got.SignCount != 0xFFFFFFF0 || string(got.Data) != `{"n":1}` || got.Flagged || !got.LastUsedAt.Equal(used) || got.LastUsedAt.Location() != time.UTC {
		t.Fatalf("after a use: %+v", got)
	}
	if err := s.UsePasskey(ctx, first.ID, 8, []byte(`{"n":2}`), true, used.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.UsePasskey(ctx, first.ID, 9, []byte(`{"n":3}`), false, used.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	got, _ = s.PasskeyByCredentialID(ctx, first.CredentialID)
	if got.SignCount != 0xFFFFFFF0 || !got.Flagged || string(got.Data) != `{"n":3}` {
		t.Fatalf("after lower counts and a flag: count %d, flagged %v, data %s", got.SignCount, got.Flagged, got.Data)
	}
	if err := s.UsePasskey(ctx, "missing", 1, []byte(`{}`), false, used); !errors.Is(err, passkey.ErrNotFound) {
		t.Fatalf("use of a missing passkey: %v", err)
	}

	// Renaming and deleting: only the account's own.
	if err := s.RenamePasskey(ctx, b.ID, second.ID, "Stolen"); !errors.Is(err, passkey.ErrNotFound) {
		t.Fatalf("renaming another account's passkey: %v", err)
	}
	if err := s.RenamePasskey(ctx, a.ID, second.ID, "Work phone"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.PasskeyByCredentialID(ctx, second.CredentialID); got.Name != "Work phone" {
		t.Fatalf("renamed: %q", got.Name)
	}
	if err := s.DeletePasskey(ctx, b.ID, second.ID); !errors.Is(err, passkey.ErrNotFound) {
		t.Fatalf("deleting another account's passkey: %v", err)
	}
	if err := s.DeletePasskey(ctx, a.ID, second.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeletePasskey(ctx, a.ID, second.ID); !errors.Is(err, passkey.ErrNotFound) {
		t.Fatalf("deleting twice: %v", err)
	}
	if _, err := s.PasskeyByCredentialID(ctx, second.CredentialID); !errors.Is(err, passkey.ErrNotFound) {
		t.Fatalf("deleted passkey: %v", err)
	}
	// Its credential id is free again.
	again := &passkey.Credential{ID: random.ID(), AccountID: b.ID, Name: "Phone", CredentialID: second.CredentialID, Data: []byte(`{}`), CreatedAt: t0}
	if err := s.CreatePasskey(ctx, again); err != nil {
		t.Fatalf("registering a deleted passkey's credential id: %v", err)
	}
}

// testPasskeyCeremonies: a ceremony comes back whole, in UTC, once — of 16
// concurrent takes exactly one gets it.
func testPasskeyCeremonies(t *testing.T, s Store) {
	ctx := context.Background()
	a := newAccount("ceremony@example.com")
	s.CreateAccount(ctx, a)
	tokyo := time.FixedZone("JST", 9*3600)
	c := &passkey.Ceremony{ID: random.ID(), AccountID: a.ID, Kind: passkey.KindRegister, Data: []byte(`{"challenge":"x"}`),
		CreatedAt: t0.In(tokyo), ExpiresAt: t0.Add(5 * time.Minute).In(tokyo)}
	if err := s.CreateCeremony(ctx, c); err != nil {
		t.Fatal(err)
	}
	disc := &passkey.Ceremony{ID: random.ID(), Kind: passkey.KindDiscoverable, Data: []byte(`{}`), CreatedAt: t0, ExpiresAt: t0.Add(time.Minute)}
	if err := s.CreateCeremony(ctx, disc); err != nil {
		t.Fatal(err)
	}
	got, err := s.TakeCeremony(ctx, c.ID)
	if err != nil || got.ID != c.ID || got.AccountID != a.ID || got.Kind != passkey.KindRegister || string(got.Data) != `{"challenge":"x"}` ||
		!got.CreatedAt.Equal(t0) || !got.ExpiresAt.Equal(c.ExpiresAt) || got.CreatedAt.Location() != time.UTC || got.ExpiresAt.Location() != time.UTC {
		t.Fatalf("taken: %+v %v", got, err)
	}
	if _, err := s.TakeCeremony(ctx, c.ID); !errors.Is(err, passkey.ErrNotFound) {
		t.Fatalf("taken twice: %v", err)
	}
	if got, err := s.TakeCeremony(ctx, disc.ID); err != nil || got.AccountID != "" || got.Kind != passkey.KindDiscoverable {
		t.Fatalf("discoverable ceremony: %+v %v", got, err)
	}

	race := &passkey.Ceremony{ID: random.ID(), AccountID: a.ID, Kind: passkey.KindLogin, Data: []byte(`{}`), CreatedAt: t0, ExpiresAt: t0.Add(time.Minute)}
	if err := s.CreateCeremony(ctx, race); err != nil {
		t.Fatal(err)
	}
	var wins, misses atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 16 {
		wg.Go(func() {
			<-start
			_, err := s.TakeCeremony(ctx, race.ID)
			switch {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, passkey.ErrNotFound):
				misses.Add(1)
			default:
				t.Errorf("take: %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	if wins.Load() != 1 || misses.Load() != 15 {
		t.Fatalf("%d of 16 concurrent takes got the ceremony (%d found it gone), want exactly 1", wins.Load(), misses.Load())
	}
}
