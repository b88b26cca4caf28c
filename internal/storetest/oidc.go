package storetest

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"gatehouse/internal/account"
	"gatehouse/internal/oidc"
	"gatehouse/internal/random"
)

// OIDCStore is what the OpenID Connect provider keeps in the database.
type OIDCStore interface {
	oidc.KeyStore
	oidc.ClientStore
	oidc.FlowStore
	// CreateAccount makes the accounts the flow's rows belong to.
	CreateAccount(ctx context.Context, a *account.Account) error
}

// RunOIDC runs the provider's store suite; open returns a fresh, migrated,
// empty store.
func RunOIDC(t *testing.T, open func(t *testing.T) OIDCStore) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, OIDCStore)
	}{
		{"FirstSigningKeyOnceUnderConcurrency", testFirstSigningKey},
		{"RotationRetiresEveryKeyItReplaces", testRotateSigningKey},
		{"Clients", testClients},
		{"AuthRequestsAndCodeExchangedOnce", testAuthRequests},
		{"CodeExchangedOnceUnderConcurrency", testCodeExchangeConcurrency},
		{"RefreshTokenRotation", testRefreshRotation},
		{"RefreshTokenRotatedOnceUnderConcurrency", testRotationConcurrency},
		{"ReplayedCodeRevokesWhatItBought", testRevokeRequestTokens},
		{"Grants", testGrants},
		{"ConnectedApps", testConnectedApps},
		{"DisconnectAndApplicationSessions", testDisconnect},
		{"RevokeAccountTokens", testRevokeAccountTokens},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

func signingKey(created time.Time) *oidc.SigningKey {
	return &oidc.SigningKey{
		KID: random.ID(), Algorithm: oidc.RS256, PublicJWK: []byte(`{"kty":"RSA"}`), PrivateSealed: []byte{1, 2, 3},
		CreatedAt: created, ActiveFrom: created.Add(time.Minute),
	}
}

// testFirstSigningKey: nodes starting together make exactly one key.
func testFirstSigningKey(t *testing.T, s OIDCStore) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	var wg sync.WaitGroup
	var mu sync.Mutex
	added := 0
	for range 4 {
		wg.Go(func() {
			ok, err := s.AddFirstSigningKey(ctx, signingKey(now))
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				added++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	keys, err := s.SigningKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if added != 1 || len(keys) != 1 {
		t.Fatalf("added %d, stored %d; want one key", added, len(keys))
	}
	k := keys[0]
	if k.Algorithm != oidc.RS256 || string(k.PublicJWK) != `{"kty":"RSA"}` || !slices.Equal(k.PrivateSealed, []byte{1, 2, 3}) ||
		!k.CreatedAt.Equal(now) || !k.ActiveFrom.Equal(now.Add(time.Minute)) || !k.RetireAfter.IsZero() || k.CreatedAt.Location() != time.UTC {
		t.Fatalf("read back %+v", k)
	}
}

func testRotateSigningKey(t *testing.T, s OIDCStore) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	first := signingKey(now)
	if _, err := s.AddFirstSigningKey(ctx, first); err != nil {
		t.Fatal(err)
	}
	second := signingKey(now.Add(time.Second))
	retire := now.Add(25 * time.Hour)
	if err := s.RotateSigningKey(ctx, second, retire); err != nil {
		t.Fatal(err)
	}
	third := signingKey(now.Add(2 * time.Second))
	if err := s.RotateSigningKey(ctx, third, retire.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	keys, err := s.SigningKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 3 || keys[0].KID != first.KID || keys[1].KID != second.KID || keys[2].KID != third.KID {
		t.Fatalf("keys not oldest first: %+v", keys)
	}
	// A key keeps the retirement its replacement gave it: a later
	// rotation must not publish it longer.
	if !keys[0].RetireAfter.Equal(retire) || !keys[1].RetireAfter.Equal(retire.Add(time.Hour)) || !keys[2].RetireAfter.IsZero() {
		t.Fatalf("retire_after: %v %v %v", keys[0].RetireAfter, keys[1].RetireAfter, keys[2].RetireAfter)
	}
	if ok, err := s.AddFirstSigningKey(ctx, signingKey(now)); ok || err != nil {
		t.Fatalf("a first key beside existing ones: %v %v", ok, err)
	}
}

func testClients(t *testing.T, s OIDCStore) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	conf := &oidc.Client{
		ID: random.ID(), Name: "Example Shop", SecretHash: []byte("hash"), FirstParty: true,
		RedirectURIs:           []string{"https://shop.example/cb", "https://shop.example/a"},
		PostLogoutRedirectURIs: []string{"https://shop.example/bye"},
		BackchannelLogoutURI:   "https://shop.example/logout", CreatedAt: now,
	}
	pub := &oidc.Client{ID: random.ID(), Name: "App", RedirectURIs: []string{"com.example.app:/cb"}, CreatedAt: now.Add(time.Second)}
	for _, c := range []*oidc.Client{conf, pub} {
		if err := s.AddClient(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.ClientByID(ctx, conf.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != conf.Name || string(got.SecretHash) != "hash" || !got.FirstParty || got.BackchannelLogoutURI != conf.BackchannelLogoutURI ||
		!got.CreatedAt.Equal(now) || got.Public() ||
		!slices.Equal(got.RedirectURIs, []string{"https://shop.example/a", "https://shop.example/cb"}) ||
		!slices.Equal(got.PostLogoutRedirectURIs, conf.PostLogoutRedirectURIs) {
		t.Fatalf("read back %+v", got)
	}
	got, err = s.ClientByID(ctx, pub.ID)
	if err != nil || !got.Public() || got.FirstParty || len(got.PostLogoutRedirectURIs) != 0 {
		t.Fatalf("public client: %+v %v", got, err)
	}
	list, err := s.Clients(ctx)
	if err != nil || len(list) != 2 || list[0].ID != conf.ID || len(list[0].RedirectURIs) != 2 || list[1].ID != pub.ID {
		t.Fatalf("list: %+v %v", list, err)
	}
	if err := s.AddClient(ctx, &oidc.Client{ID: conf.ID, Name: "again", CreatedAt: now}); err == nil {
		t.Fatal("a client id was registered twice")
	}
	if err := s.RemoveClient(ctx, conf.ID, now); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ClientByID(ctx, conf.ID); !errors.Is(err, oidc.ErrClientNotFound) {
		t.Fatalf("removed client: %v", err)
	}
	if err := s.RemoveClient(ctx, conf.ID, now); !errors.Is(err, oidc.ErrClientNotFound) {
		t.Fatalf("removed twice: %v", err)
	}
	if _, err := s.ClientByID(ctx, "nope"); !errors.Is(err, oidc.ErrClientNotFound) {
		t.Fatalf("unknown client: %v", err)
	}
	if list, _ := s.Clients(ctx); len(list) != 1 || list[0].ID != pub.ID {
		t.Fatalf("list after remove: %+v", list)
	}
}
