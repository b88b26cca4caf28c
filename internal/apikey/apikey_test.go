package apikey_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/apikey"
	"gatehouse/internal/sqlite"
)

// TestKeys_ShownOnceStoredHashedScopedRevocable: a key is gh_ and random,
// only its hash is stored, Check accepts it until it is revoked, records a
// use at most once a minute, and refuses anything else without saying why.
func TestKeys_ShownOnceStoredHashedScopedRevocable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "t.db"), true)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	s := &apikey.Service{Store: db, Clock: func() time.Time { return now }}

	key, k, err := s.Create(ctx, " billing ", []apikey.Scope{apikey.AccountsRead, apikey.AccountsRead, apikey.SessionsWrite})
	if err != nil || !strings.HasPrefix(key, "gh_") || len(key) < 40 || k.Name != "billing" || len(k.Scopes) != 2 {
		t.Fatalf("create: %q %+v %v", key, k, err)
	}
	other, _, _ := s.Create(ctx, "other", []apikey.Scope{apikey.AccountsRead})
	if other == key {
		t.Fatal("two keys alike")
	}
	stored, _ := s.List(ctx)
	for _, st := range stored {
		if strings.Contains(string(st.Hash), key[3:]) {
			t.Fatal("the key is stored as it is")
		}
	}
	got, err := s.Check(ctx, key)
	if err != nil || got.ID != k.ID || !got.Allows(apikey.SessionsWrite) || got.Allows(apikey.AccountsWrite) || !got.LastUsedAt.Equal(now) {
		t.Fatalf("check: %+v %v", got, err)
	}
	now = now.Add(30 * time.Second)
	s.Check(ctx, key)
	// The two keys were made in the same instant: find this one by id.
	lastUsed := func() time.Time {
		t.Helper()
		all, err := s.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range all {
			if st.ID == k.ID {
				return st.LastUsedAt
			}
		}
		t.Fatalf("key %s not listed", k.ID)
		return time.Time{}
	}
	if got := lastUsed(); !got.Equal(now.Add(-30 * time.Second)) {
		t.Fatalf("a use within the minute was written: %v", got)
	}
	now = now.Add(time.Minute)
	s.Check(ctx, key)
	if got := lastUsed(); !got.Equal(now) {
		t.Fatalf("a use after a minute was not written: %v", got)
	}
	for _, bad := range []string{"", "gh_", "gh_nope", key[3:], key + "x", "Bearer " + key} {
		if _, err := s.Check(ctx, bad); !errors.Is(err, apikey.ErrInvalid) {
			t.Errorf("check %q: %v", bad, err)
		}
	}
	if err := s.Revoke(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Check(ctx, key); !errors.Is(err, apikey.ErrInvalid) {
		t.Fatalf("a revoked key: %v", err)
	}
	if err := s.Revoke(ctx, "nosuchkey"); !errors.Is(err, apikey.ErrNotFound) {
		t.Fatalf("revoke unknown: %v", err)
	}
	if _, _, err := s.Create(ctx, "", []apikey.Scope{apikey.AccountsRead}); !errors.Is(err, apikey.ErrName) {
		t.Fatalf("no name: %v", err)
	}
	if _, _, err := s.Create(ctx, "x", []apikey.Scope{"accounts:delete"}); !errors.Is(err, apikey.ErrScopeUnknown) {
		t.Fatalf("unknown scope: %v", err)
	}
	if _, _, err := s.Create(ctx, "x", nil); !errors.Is(err, apikey.ErrScopeUnknown) {
		t.Fatalf("no scope: %v", err)
	}
}
