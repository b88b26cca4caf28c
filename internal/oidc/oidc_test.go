package oidc_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"gatehouse/internal/clock"
	"gatehouse/internal/crypt"
	"gatehouse/internal/oidc"
	"gatehouse/internal/sqlite"
)

func newDB(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"), true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func newBox(t *testing.T) *crypt.Box {
	t.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	box, err := crypt.New(key)
	if err != nil {
		t.Fatal(err)
	}
	return box
}

// published parses the set the way a relying party does: through the
// JSON of the JWKS.
func published(t *testing.T, k *oidc.Keys) []string {
	t.Helper()
	set, err := k.Published(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(set)
	var parsed jose.JSONWebKeySet
	if err := json.Unmarshal(b, &parsed); err != nil {
		t.Fatalf("JWKS %s: %v", b, err)
	}
	var kids []string
	for _, key := range parsed.Keys {
		if !key.Valid() || !key.IsPublic() || key.Algorithm != oidc.RS256 || key.Use != "sig" {
			t.Fatalf("published key %+v", key)
		}
		kids = append(kids, key.KeyID)
	}
	return kids
}

func signWith(t *testing.T, k *oidc.Keys) string {
	t.Helper()
	s, err := k.Signing(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: s.Key, KeyID: s.KID}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := signer.Sign([]byte(`{"sub":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := jws.CompactSerialize()
	return tok
}

// verify checks tok against the published set, by its kid, as a relying
// party does.
func verify(t *testing.T, k *oidc.Keys, tok string) error {
	t.Helper()
	jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	set, err := k.Published(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	keys := set.Key(jws.Signatures[0].Header.KeyID)
	if len(keys) != 1 {
		return errors.New("kid not published")
	}
	_, err = jws.Verify(keys[0])
	return err
}

func TestKeys_RotationPublishesAtOnceSignsLaterAndRetiresTheOld(t *testing.T) {
	ctx := context.Background()
	fake := clock.NewFake(time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC))
	keys := &oidc.Keys{Store: newDB(t), Box: newBox(t), Clock: fake.Clock()}

	// The first JWKS request of a new installation makes its first key,
	// which signs at once.
	first := published(t, keys)
	if len(first) != 1 {
		t.Fatalf("first key: %v", first)
	}
	oldTok := signWith(t, keys)
	if err := verify(t, keys, oldTok); err != nil {
		t.Fatal(err)
	}

	next, err := keys.Rotate(ctx, 10*time.Minute, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if got := published(t, keys); len(got) != 2 || !slices.Contains(got, next.KID) || !slices.Contains(got, first[0]) {
		t.Fatalf("after rotate-signing, the JWKS must publish the new key at once beside the old: %v", got)
	}
	if s, _ := keys.Signing(ctx); s.KID != first[0] {
		t.Fatalf("the new key signs before its publish-ahead has passed: %s", s.KID)
	}
	if st := oidc.States(mustList(t, keys), fake.Now()); st[next.KID] != oidc.Next || st[first[0]] != oidc.Current {
		t.Fatalf("states: %v", st)
	}

	fake.Advance(10 * time.Minute)
	keys.Signing(ctx) // the cache is a minute old at most
	fake.Advance(oidc.KeyCacheTTL)
	if s, _ := keys.Signing(ctx); s.KID != next.KID {
		t.Fatalf("after the publish-ahead the new key must sign, got %s", s.KID)
	}
	// A token the old key signed still verifies while it may be in use.
	if err := verify(t, keys, oldTok); err != nil {
		t.Fatalf("old token after the rotation: %v", err)
	}
	if err := verify(t, keys, signWith(t, keys)); err != nil {
		t.Fatal(err)
	}
	if st := oidc.States(mustList(t, keys), fake.Now()); st[next.KID] != oidc.Current || st[first[0]] != oidc.Previous {
		t.Fatalf("states: %v", st)
	}

	// Past retire_after (the new key's start + MaxTokenLifetime + overlap)
	// the old key is gone from the set.
	fake.Set(next.ActiveFrom.Add(oidc.MaxTokenLifetime + 24*time.Hour).Add(-time.Second))
	keys.Signing(ctx)
	if got := published(t, keys); len(got) != 2 {
		t.Fatalf("the old key left before its retire_after: %v", got)
	}
	fake.Advance(oidc.KeyCacheTTL + time.Second)
	if got := published(t, keys); len(got) != 1 || got[0] != next.KID {
		t.Fatalf("past retire_after the old key must disappear: %v", got)
	}
	if st := oidc.States(mustList(t, keys), fake.Now()); st[first[0]] != oidc.Retired {
		t.Fatalf("states: %v", st)
	}
}

func mustList(t *testing.T, k *oidc.Keys) []*oidc.SigningKey {
	t.Helper()
	list, err := k.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func TestKeys_PrivateKeyIsSealedAndBoundToItsKID(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	box := newBox(t)
	keys := &oidc.Keys{Store: db, Box: box}
	if err := keys.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	if err := keys.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	list := mustList(t, keys)
	if len(list) != 1 {
		t.Fatalf("Ensure twice made %d keys", len(list))
	}
	k := list[0]
	if bytes.Contains(k.PrivateSealed, []byte("PRIVATE")) || len(k.PrivateSealed) < 1000 {
		t.Fatalf("private key not sealed: %d bytes", len(k.PrivateSealed))
	}
	if !k.CreatedAt.Equal(k.ActiveFrom) {
		t.Fatal("the first key must sign at once")
	}
	// Another installation's key opens nothing.
	other := &oidc.Keys{Store: db, Box: newBox(t)}
	if _, err := other.Signing(ctx); err == nil {
		t.Fatal("a signing key opened with another encryption key")
	}
	// A sealed key moved onto another kid does not open.
	moved := *k
	moved.KID = "another"
	if _, err := box.Open(moved.PrivateSealed, []byte("oidc-signing-key\x00another")); err == nil {
		t.Fatal("a sealed key opened under another kid")
	}
	if _, err := keys.Rotate(ctx, -time.Second, 0); err == nil {
		t.Fatal("a negative publish-ahead was accepted")
	}
}

func TestValidateRedirectURI(t *testing.T) {
	for _, tc := range []struct {
		uri    string
		public bool
		ok     bool
	}{
		{"https://shop.example/cb", false, true},
		{"https://shop.example/cb?x=1", false, true},
		{"http://localhost:3000/cb", false, true},
		{"http://127.0.0.1:8000/cb", true, true},
		{"http://[::1]/cb", true, true},
		{"com.example.app:/oauth2redirect", true, true},
		{"com.example.app:/oauth2redirect", false, false},
		{"myapp:/cb", true, false},
		{"http://shop.example/cb", false, false},
		{"https://shop.example/cb#frag", false, false},
		{"https://shop.example/cb#", false, false},
		{"/cb", false, false},
		{"shop.example/cb", false, false},
		{"https:///cb", false, false},
		{"https://user:pw@shop.example/cb", false, false},
		{"javascript:alert(1)", true, false},
		{"data:text/html,x", true, false},
		{"http://localhost.evil.example/cb", false, false},
	} {
		err := oidc.ValidateRedirectURI(tc.uri, tc.public)
		if (err == nil) != tc.ok {
			t.Errorf("%q public=%v: %v", tc.uri, tc.public, err)
		}
	}
}

func TestClients_SecretShownOnceKeptHashed(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	clients := &oidc.Clients{Store: db, Key: bytes.Repeat([]byte{7}, 32)}
	c, secret, err := clients.Add(ctx, oidc.NewClient{Name: " Shop ", RedirectURIs: []string{"https://shop.example/cb", "https://shop.example/cb"}})
	if err != nil {
		t.Fatal(err)
	}
	if secret == "" || len(secret) < 43 || c.Public() || c.Name != "Shop" || len(c.RedirectURIs) != 1 {
		t.Fatalf("client %+v secret %q", c, secret)
	}
	stored, err := db.ClientByID(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(stored.SecretHash, []byte(secret)) || len(stored.SecretHash) != 32 {
		t.Fatal("the secret is stored as it is")
	}
	if _, err := clients.Authenticate(ctx, c.ID, secret); err != nil {
		t.Fatal(err)
	}
	if _, err := clients.Authenticate(ctx, c.ID, secret+"x"); !errors.Is(err, oidc.ErrWrongSecret) {
		t.Fatalf("wrong secret: %v", err)
	}
	// Another installation's key does not accept it.
	other := &oidc.Clients{Store: db, Key: bytes.Repeat([]byte{8}, 32)}
	if _, err := other.Authenticate(ctx, c.ID, secret); err == nil {
		t.Fatal("secret accepted under another HMAC key")
	}

	pub, secret, err := clients.Add(ctx, oidc.NewClient{Name: "App", Public: true, RedirectURIs: []string{"com.example.app:/cb"}})
	if err != nil || secret != "" || !pub.Public() {
		t.Fatalf("public client: %+v %q %v", pub, secret, err)
	}
	if _, err := clients.Authenticate(ctx, pub.ID, ""); !errors.Is(err, oidc.ErrWrongSecret) {
		t.Fatalf("a public client authenticated with a secret: %v", err)
	}
	for _, bad := range []oidc.NewClient{
		{Name: "", RedirectURIs: []string{"https://a.example/cb"}},
		{Name: "x"},
		{Name: "x", RedirectURIs: []string{"http://a.example/cb"}},
		{Name: "x", RedirectURIs: []string{"https://a.example/cb"}, BackchannelLogoutURI: "com.example.app:/x"},
		{Name: "x", RedirectURIs: []string{"https://a.example/cb"}, PostLogoutRedirectURIs: []string{"https://a.example/#x"}},
	} {
		if _, _, err := clients.Add(ctx, bad); err == nil {
			t.Errorf("accepted %+v", bad)
		}
	}
	if err := clients.Remove(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := clients.Authenticate(ctx, c.ID, secret); !errors.Is(err, oidc.ErrClientNotFound) {
		t.Fatalf("a removed client authenticated: %v", err)
	}
}
