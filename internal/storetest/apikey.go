package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"gatehouse/internal/account"
	"gatehouse/internal/apikey"
	"gatehouse/internal/random"
	"gatehouse/internal/session"
)

// testAPIKeys: a key is found by its hash only, keeps its scopes and times,
// records its last use, and a revocation keeps its first time; an unknown
// id is ErrNotFound.
func testAPIKeys(t *testing.T, s Store) {
	ctx := context.Background()
	k := &apikey.Key{ID: random.ID(), Name: "billing", Scopes: []apikey.Scope{apikey.AccountsRead, apikey.SessionsWrite},
		Hash: apikey.Hash("gh_one"), CreatedAt: t0}
	if err := s.CreateAPIKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateAPIKey(ctx, &apikey.Key{ID: random.ID(), Name: "same hash", Scopes: []apikey.Scope{apikey.AccountsRead}, Hash: apikey.Hash("gh_one"), CreatedAt: t0}); err == nil {
		t.Fatal("two keys with one hash")
	}
	got, err := s.APIKeyByHash(ctx, apikey.Hash("gh_one"))
	if err != nil || got.ID != k.ID || got.Name != "billing" || !slices.Equal(got.Scopes, k.Scopes) || !bytes.Equal(got.Hash, k.Hash) ||
		!got.CreatedAt.Equal(t0) || !got.LastUsedAt.IsZero() || !got.RevokedAt.IsZero() {
		t.Fatalf("by hash: %+v %v", got, err)
	}
	if _, err := s.APIKeyByHash(ctx, apikey.Hash("gh_two")); !errors.Is(err, apikey.ErrNotFound) {
		t.Fatalf("unknown hash: %v", err)
	}
	if err := s.TouchAPIKey(ctx, k.ID, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeAPIKey(ctx, k.ID, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeAPIKey(ctx, k.ID, t0.Add(2*time.Hour)); err != nil {
		t.Fatalf("revoked twice: %v", err)
	}
	if err := s.RevokeAPIKey(ctx, "missing", t0); !errors.Is(err, apikey.ErrNotFound) {
		t.Fatalf("revoke unknown: %v", err)
	}
	s.CreateAPIKey(ctx, &apikey.Key{ID: random.ID(), Name: "second", Scopes: []apikey.Scope{apikey.AccountsWrite}, Hash: apikey.Hash("gh_2"), CreatedAt: t0.Add(time.Second)})
	all, err := s.APIKeys(ctx)
	if err != nil || len(all) != 2 || all[0].ID != k.ID || all[1].Name != "second" {
		t.Fatalf("list: %v %v", all, err)
	}
	if !all[0].LastUsedAt.Equal(t0.Add(time.Minute)) || !all[0].RevokedAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("times: used %v, revoked %v", all[0].LastUsedAt, all[0].RevokedAt)
	}
}

// testAccountSearch: accounts found by the start of their address in any
// case, in address order, a page at a time.
func testAccountSearch(t *testing.T, s Store) {
	ctx := context.Background()
	for i := range 5 {
		s.CreateAccount(ctx, newAccount(fmt.Sprintf("Team%d@example.com", 4-i)))
	}
	s.CreateAccount(ctx, newAccount("other@example.com"))
	s.CreateAccount(ctx, newAccount("te_m@example.com")) // _ is no wildcard
	emails := func(as []*account.Account) []string {
		var out []string
		for _, a := range as {
			out = append(out, a.Email)
		}
		return out
	}
	page, err := s.SearchAccounts(ctx, "team", "", 2)
	if err != nil || !slices.Equal(emails(page), []string{"Team0@example.com", "Team1@example.com"}) {
		t.Fatalf("first page: %v %v", emails(page), err)
	}
	page, err = s.SearchAccounts(ctx, "team", "team1@example.com", 10)
	if err != nil || !slices.Equal(emails(page), []string{"Team2@example.com", "Team3@example.com", "Team4@example.com"}) {
		t.Fatalf("next page: %v %v", emails(page), err)
	}
	if page, _ = s.SearchAccounts(ctx, "", "", 100); len(page) != 7 || page[0].Email != "other@example.com" {
		t.Fatalf("no prefix: %v", emails(page))
	}
	if page, _ = s.SearchAccounts(ctx, "te_", "", 100); !slices.Equal(emails(page), []string{"te_m@example.com"}) {
		t.Fatalf("underscore: %v", emails(page))
	}
	if page, _ = s.SearchAccounts(ctx, "nobody", "", 100); len(page) != 0 {
		t.Fatalf("no match: %v", emails(page))
	}
}

// testSessionByID: a session is found by its id, revoked or not.
func testSessionByID(t *testing.T, s Store) {
	ctx := context.Background()
	a := newAccount("byid@example.com")
	s.CreateAccount(ctx, a)
	ss := &session.Session{ID: random.ID(), TokenHash: session.HashToken("byid"), AccountID: a.ID, CreatedAt: t0,
		LastSeenAt: t0, AuthenticatedAt: t0, IdleTimeout: time.Hour, AbsoluteExpiresAt: t0.Add(24 * time.Hour), IP: "192.0.2.1", AMR: []string{"pwd"}}
	if err := s.CreateSession(ctx, ss); err != nil {
		t.Fatal(err)
	}
	got, err := s.SessionByID(ctx, ss.ID)
	if err != nil || got.AccountID != a.ID || got.IdleTimeout != time.Hour || !got.AbsoluteExpiresAt.Equal(t0.Add(24*time.Hour)) || !slices.Equal(got.AMR, []string{"pwd"}) || !got.RevokedAt.IsZero() {
		t.Fatalf("by id: %+v %v", got, err)
	}
	s.RevokeSession(ctx, ss.ID, t0.Add(time.Minute))
	if got, err := s.SessionByID(ctx, ss.ID); err != nil || !got.RevokedAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("revoked: %+v %v", got, err)
	}
	if _, err := s.SessionByID(ctx, "missing"); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("unknown: %v", err)
	}
}
