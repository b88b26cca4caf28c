package storetest

import (
	"context"
	"crypto/sha256"
	"errors"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"gatehouse/internal/oidc"
	"gatehouse/internal/random"
)

// The authorization code flow's store (oidc.FlowStore), run by RunOIDC.

// flowAccount makes an account for the flow's rows to belong to.
func flowAccount(t *testing.T, s OIDCStore) string {
	t.Helper()
	a := newAccount(random.ID() + "@example.com")
	if err := s.CreateAccount(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	return a.ID
}

// flowClient registers a client called name.
func flowClient(t *testing.T, s OIDCStore, name string) *oidc.Client {
	t.Helper()
	c := &oidc.Client{ID: random.ID(), Name: name, RedirectURIs: []string{"https://app.example/cb"}, CreatedAt: t0}
	if err := s.AddClient(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	return c
}

// tokenHash is the stored form of a fresh code or refresh token.
func tokenHash() []byte {
	h := sha256.Sum256([]byte(random.Token()))
	return h[:]
}

// doneRequest makes a request of the client, signed in to by the account
// at at, with a code that expires a CodeLifetime later.
func doneRequest(t *testing.T, s OIDCStore, accountID, clientID string, at time.Time) (*oidc.Request, []byte) {
	t.Helper()
	ctx := context.Background()
	r := &oidc.Request{ID: random.ID(), ClientID: clientID, DeviceID: "dev-1",
		Params:    oidc.Params{RedirectURI: "https://app.example/cb", Scopes: []string{"openid", "offline_access"}, ResponseType: "code"},
		CreatedAt: at.Add(-time.Minute), ExpiresAt: at.Add(oidc.AuthRequestLifetime)}
	if err := s.CreateAuthRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	res := oidc.Result{SessionID: "sess-1", SID: "sid-1", AuthTime: at, AMR: []string{"pwd"}}
	if err := s.CompleteAuthRequest(ctx, r.ID, accountID, res, at); err != nil {
		t.Fatal(err)
	}
	code := tokenHash()
	if err := s.SaveAuthCode(ctx, r.ID, code, at.Add(oidc.CodeLifetime)); err != nil {
		t.Fatal(err)
	}
	return r, code
}

// newIssue is a token response to requestID (none when "") that starts a
// family, at at.
func newIssue(accountID, clientID, requestID string, at time.Time) oidc.Issue {
	f := &oidc.Family{ID: random.ID(), ClientID: clientID, AccountID: accountID, SessionID: "sess-1",
		Scopes: []string{"openid", "offline_access"}, AMR: []string{"pwd", "otp"}, ACR: "urn:gatehouse:2fa", AuthTime: at.Add(-time.Minute),
		CreatedAt: at, ExpiresAt: at.Add(oidc.RefreshAbsolute), LastUsedAt: at, LastDeviceID: "dev-1"}
	rt := &oidc.RefreshToken{Hash: tokenHash(), FamilyID: f.ID, CreatedAt: at, ExpiresAt: at.Add(oidc.RefreshIdle)}
	acc := &oidc.AccessToken{ID: random.ID(), ClientID: clientID, AccountID: accountID, AuthRequestID: requestID, FamilyID: f.ID,
		Scopes: f.Scopes, CreatedAt: at, ExpiresAt: at.Add(oidc.AccessTokenLifetime)}
	return oidc.Issue{Code: requestID, Family: f, Refresh: rt, Access: acc, At: at, DeviceID: "dev-1"}
}

// nextTokens are what a rotation of f's refresh token at at stores.
func nextTokens(f *oidc.Family, at time.Time) (*oidc.RefreshToken, *oidc.AccessToken) {
	return &oidc.RefreshToken{Hash: tokenHash(), FamilyID: f.ID, CreatedAt: at, ExpiresAt: at.Add(oidc.RefreshIdle)},
		&oidc.AccessToken{ID: random.ID(), ClientID: f.ClientID, AccountID: f.AccountID, FamilyID: f.ID,
			Scopes: f.Scopes, CreatedAt: at, ExpiresAt: at.Add(oidc.AccessTokenLifetime)}
}

func issue(t *testing.T, s OIDCStore, is oidc.Issue) {
	t.Helper()
	if err := s.IssueTokens(context.Background(), is); err != nil {
		t.Fatal(err)
	}
}

// revokedAt returns when an access token was revoked (zero: live).
func revokedAt(t *testing.T, s OIDCStore, id string) time.Time {
	t.Helper()
	a, err := s.AccessToken(context.Background(), id)
	if err != nil {
		t.Fatalf("access token %s: %v", id, err)
	}
	return a.RevokedAt
}

// family reads a family by its refresh token.
func family(t *testing.T, s OIDCStore, hash []byte) *oidc.Family {
	t.Helper()
	_, f, err := s.RefreshToken(context.Background(), hash)
	if err != nil {
		t.Fatalf("refresh token: %v", err)
	}
	return f
}

func testAuthRequests(t *testing.T, s OIDCStore) {
	ctx := context.Background()
	acct := flowAccount(t, s)
	c := flowClient(t, s, "Shop")
	maxAge := uint(300)
	r := &oidc.Request{ID: random.ID(), ClientID: c.ID, DeviceID: "dev-1",
		Params: oidc.Params{RedirectURI: "https://app.example/cb", Scopes: []string{"openid", "email"}, State: "st", Nonce: "n",
			ResponseType: "code", Prompt: []string{"login"}, MaxAge: &maxAge, CodeChallenge: "cc", CodeChallengeMethod: "S256"},
		CreatedAt: t0, ExpiresAt: t0.Add(oidc.AuthRequestLifetime)}
	if err := s.CreateAuthRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	got, err := s.AuthRequest(ctx, r.ID, t0.Add(time.Minute))
	if err != nil || got.ClientID != c.ID || got.DeviceID != "dev-1" || !reflect.DeepEqual(got.Params, r.Params) ||
		!got.CreatedAt.Equal(t0) || !got.ExpiresAt.Equal(r.ExpiresAt) || got.CreatedAt.Location() != time.UTC ||
		got.AccountID != "" || !got.DoneAt.IsZero() || !got.DeniedAt.IsZero() || !got.ExchangedAt.IsZero() {
		t.Fatalf("read back %+v %v", got, err)
	}
	if _, err := s.AuthRequest(ctx, r.ID, r.ExpiresAt); !errors.Is(err, oidc.ErrNotFound) {
		t.Fatalf("expired request: %v", err)
	}
	if _, err := s.AuthRequest(ctx, "nope", t0); !errors.Is(err, oidc.ErrNotFound) {
		t.Fatalf("unknown request: %v", err)
	}
	if err := s.SaveAuthCode(ctx, r.ID, tokenHash(), t0.Add(time.Hour)); !errors.Is(err, oidc.ErrUsed) {
		t.Fatalf("a code for a request not done: %v", err)
	}

	done := t0.Add(time.Minute)
	res := oidc.Result{SessionID: "sess-1", SID: "sid-1", AuthTime: t0.Add(30 * time.Second), AMR: []string{"pwd", "otp"}, ACR: "urn:x"}
	if err := s.CompleteAuthRequest(ctx, r.ID, acct, res, done); err != nil {
		t.Fatal(err)
	}
	if err := s.CompleteAuthRequest(ctx, r.ID, acct, res, done); !errors.Is(err, oidc.ErrUsed) {
		t.Fatalf("completed twice: %v", err)
	}
	if err := s.DenyAuthRequest(ctx, r.ID, done); err != nil {
		t.Fatal(err)
	}
	got, err = s.AuthRequest(ctx, r.ID, done)
	if err != nil || got.AccountID != acct || got.Result.SessionID != "sess-1" || got.Result.SID != "sid-1" ||
		!got.Result.AuthTime.Equal(res.AuthTime) || !slices.Equal(got.Result.AMR, res.AMR) || got.Result.ACR != "urn:x" ||
		!got.DoneAt.Equal(done) || !got.DeniedAt.IsZero() {
		t.Fatalf("done request (a denial after it must change nothing): %+v %v", got, err)
	}

	denied := &oidc.Request{ID: random.ID(), ClientID: c.ID, DeviceID: "dev-1", Params: r.Params, CreatedAt: t0, ExpiresAt: r.ExpiresAt}
	if err := s.CreateAuthRequest(ctx, denied); err != nil {
		t.Fatal(err)
	}
	if err := s.DenyAuthRequest(ctx, denied.ID, done); err != nil {
		t.Fatal(err)
	}
	if err := s.CompleteAuthRequest(ctx, denied.ID, acct, res, done); !errors.Is(err, oidc.ErrUsed) {
		t.Fatalf("completing a denied request: %v", err)
	}
	if got, err := s.AuthRequest(ctx, denied.ID, done); err != nil || !got.DeniedAt.Equal(done) || got.AccountID != "" {
		t.Fatalf("denied request: %+v %v", got, err)
	}

	code, codeExp := tokenHash(), done.Add(oidc.CodeLifetime)
	if err := s.SaveAuthCode(ctx, r.ID, code, codeExp); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveAuthCode(ctx, r.ID, tokenHash(), codeExp); !errors.Is(err, oidc.ErrUsed) {
		t.Fatalf("a second code: %v", err)
	}
	if got, err := s.AuthRequestByCode(ctx, code, done); err != nil || got.ID != r.ID || got.AccountID != acct {
		t.Fatalf("by code: %+v %v", got, err)
	}
	if _, err := s.AuthRequestByCode(ctx, tokenHash(), done); !errors.Is(err, oidc.ErrNotFound) {
		t.Fatalf("unknown code: %v", err)
	}
	if _, err := s.AuthRequestByCode(ctx, code, codeExp); !errors.Is(err, oidc.ErrNotFound) {
		t.Fatalf("expired code never exchanged: %v", err)
	}

	is := newIssue(acct, c.ID, r.ID, done.Add(10*time.Second))
	issue(t, s, is)
	again := newIssue(acct, c.ID, r.ID, done.Add(20*time.Second))
	if err := s.IssueTokens(ctx, again); !errors.Is(err, oidc.ErrUsed) {
		t.Fatalf("code exchanged twice: %v", err)
	}
	if _, err := s.AccessToken(ctx, again.Access.ID); !errors.Is(err, oidc.ErrNotFound) {
		t.Fatalf("the second exchange's access token was stored: %v", err)
	}
	if _, _, err := s.RefreshToken(ctx, again.Refresh.Hash); !errors.Is(err, oidc.ErrNotFound) {
		t.Fatalf("the second exchange's refresh token was stored: %v", err)
	}
	if apps, err := s.ConnectedApps(ctx, acct, done); err != nil || len(apps) != 1 || !apps[0].LastUsedAt.Equal(is.At) {
		t.Fatalf("the second exchange's family was stored: %+v %v", apps, err)
	}
	// An exchanged code is still recognised (a replay) until the replay
	// window after its expiry has passed.
	got, err = s.AuthRequestByCode(ctx, code, codeExp.Add(oidc.ReplayWindow-time.Second))
	if err != nil || got.ID != r.ID || !got.ExchangedAt.Equal(is.At) {
		t.Fatalf("replayed code: %+v %v", got, err)
	}
	if _, err := s.AuthRequestByCode(ctx, code, codeExp.Add(oidc.ReplayWindow)); !errors.Is(err, oidc.ErrNotFound) {
		t.Fatalf("code after the replay window: %v", err)
	}

	a, err := s.AccessToken(ctx, is.Access.ID)
	if err != nil || a.ClientID != c.ID || a.AccountID != acct || a.AuthRequestID != r.ID || a.FamilyID != is.Family.ID ||
		!slices.Equal(a.Scopes, is.Access.Scopes) || !a.CreatedAt.Equal(is.At) || !a.ExpiresAt.Equal(is.Access.ExpiresAt) ||
		!a.RevokedAt.IsZero() || a.CreatedAt.Location() != time.UTC {
		t.Fatalf("access token: %+v %v", a, err)
	}
	if _, err := s.AccessToken(ctx, "nope"); !errors.Is(err, oidc.ErrNotFound) {
		t.Fatalf("unknown access token: %v", err)
	}
	rt, f, err := s.RefreshToken(ctx, is.Refresh.Hash)
	if err != nil || !slices.Equal(rt.Hash, is.Refresh.Hash) || rt.FamilyID != is.Family.ID || !rt.CreatedAt.Equal(is.At) ||
		!rt.ExpiresAt.Equal(is.Refresh.ExpiresAt) || !rt.RotatedAt.IsZero() {
		t.Fatalf("refresh token: %+v %v", rt, err)
	}
	want := *is.Family
	if !reflect.DeepEqual(*f, want) {
		t.Fatalf("family:\n got %+v\nwant %+v", *f, want)
	}
	if _, _, err := s.RefreshToken(ctx, tokenHash()); !errors.Is(err, oidc.ErrNotFound) {
		t.Fatalf("unknown refresh token: %v", err)
	}
}

// testCodeExchangeConcurrency: two token requests with one code at once —
// exactly one gets tokens.
func testCodeExchangeConcurrency(t *testing.T, s OIDCStore) {
	ctx := context.Background()
	acct := flowAccount(t, s)
	c := flowClient(t, s, "Shop")
	for round := range 5 {
		at := t0.Add(time.Duration(round) * time.Hour)
		r, _ := doneRequest(t, s, acct, c.ID, at)
		var wg sync.WaitGroup
		results := make([]error, 2)
		issues := make([]oidc.Issue, 2)
		for i := range 2 {
			issues[i] = newIssue(acct, c.ID, r.ID, at.Add(time.Second))
			wg.Go(func() { results[i] = s.IssueTokens(ctx, issues[i]) })
		}
		wg.Wait()
		won := 0
		for i, err := range results {
			_, aerr := s.AccessToken(ctx, issues[i].Access.ID)
			switch {
			case err == nil:
				won++
				if aerr != nil {
					t.Fatalf("round %d: the winner's access token: %v", round, aerr)
				}
			case errors.Is(err, oidc.ErrUsed):
				if !errors.Is(aerr, oidc.ErrNotFound) {
					t.Fatalf("round %d: the loser's access token was stored: %v", round, aerr)
				}
			default:
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d exchanges of one code succeeded", round, won)
		}
	}
}

func testRefreshRotation(t *testing.T, s OIDCStore) {
	ctx := context.Background()
	acct := flowAccount(t, s)
	c := flowClient(t, s, "Shop")
	r, _ := doneRequest(t, s, acct, c.ID, t0)
	is := newIssue(acct, c.ID, r.ID, t0.Add(time.Second))
	issue(t, s, is)

	at := t0.Add(time.Hour)
	next, access := nextTokens(is.Family, at)
	if err := s.RotateRefreshToken(ctx, is.Refresh.Hash, next, access, "dev-2", at); err != nil {
		t.Fatal(err)
	}
	old, f, err := s.RefreshToken(ctx, is.Refresh.Hash)
	if err != nil || !old.RotatedAt.Equal(at) || !f.LastUsedAt.Equal(at) || f.LastDeviceID != "dev-2" || !f.CreatedAt.Equal(is.At) {
		t.Fatalf("rotated token and its family: %+v %+v %v", old, f, err)
	}
	if nt, f, err := s.RefreshToken(ctx, next.Hash); err != nil || !nt.RotatedAt.IsZero() || nt.FamilyID != is.Family.ID || f.ID != is.Family.ID {
		t.Fatalf("successor: %+v %+v %v", nt, f, err)
	}
	if a, err := s.AccessToken(ctx, access.ID); err != nil || a.FamilyID != is.Family.ID || a.AuthRequestID != "" {
		t.Fatalf("rotation's access token: %+v %v", a, err)
	}

	// The same old token again: a replay (or a lost race).
	next2, access2 := nextTokens(is.Family, at.Add(time.Minute))
	if err := s.RotateRefreshToken(ctx, is.Refresh.Hash, next2, access2, "dev-3", at.Add(time.Minute)); !errors.Is(err, oidc.ErrUsed) {
		t.Fatalf("rotated twice: %v", err)
	}
	if _, _, err := s.RefreshToken(ctx, next2.Hash); !errors.Is(err, oidc.ErrNotFound) {
		t.Fatalf("a refused rotation's refresh token was stored: %v", err)
	}
	if _, err := s.AccessToken(ctx, access2.ID); !errors.Is(err, oidc.ErrNotFound) {
		t.Fatalf("a refused rotation's access token was stored: %v", err)
	}
	if f := family(t, s, next.Hash); !f.LastUsedAt.Equal(at) || f.LastDeviceID != "dev-2" {
		t.Fatalf("a refused rotation touched the family: %+v", f)
	}
	if err := s.RotateRefreshToken(ctx, tokenHash(), next2, access2, "", at); !errors.Is(err, oidc.ErrUsed) {
		t.Fatalf("unknown refresh token: %v", err)
	}

	// No device: the family keeps the last one it knew.
	at3 := at.Add(2 * time.Hour)
	next3, access3 := nextTokens(is.Family, at3)
	if err := s.RotateRefreshToken(ctx, next.Hash, next3, access3, "", at3); err != nil {
		t.Fatal(err)
	}
	if f := family(t, s, next3.Hash); !f.LastUsedAt.Equal(at3) || f.LastDeviceID != "dev-2" {
		t.Fatalf("rotation without a device: %+v", f)
	}

	// Revoking the family revokes every access token it bought, the
	// code's and the rotations'; the first reason stays.
	other := newIssue(acct, c.ID, "", t0)
	issue(t, s, other)
	rev := at3.Add(time.Minute)
	if err := s.RevokeFamily(ctx, is.Family.ID, oidc.ReasonReuse, rev); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeFamily(ctx, is.Family.ID, oidc.ReasonSessionsEnded, rev.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if f := family(t, s, next3.Hash); !f.RevokedAt.Equal(rev) || f.RevokeReason != oidc.ReasonReuse {
		t.Fatalf("revoked family: %+v", f)
	}
	for _, id := range []string{is.Access.ID, access.ID, access3.ID} {
		if got := revokedAt(t, s, id); !got.Equal(rev) {
			t.Fatalf("access token %s of the revoked family: revoked at %v, want %v", id, got, rev)
		}
	}
	if f := family(t, s, other.Refresh.Hash); !f.RevokedAt.IsZero() || !revokedAt(t, s, other.Access.ID).IsZero() {
		t.Fatalf("another family was revoked: %+v", f)
	}

	// One access token alone (RFC 7009), once.
	if err := s.RevokeAccessToken(ctx, other.Access.ID, rev); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeAccessToken(ctx, other.Access.ID, rev.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := revokedAt(t, s, other.Access.ID); !got.Equal(rev) {
		t.Fatalf("revoked access token: %v", got)
	}
	if f := family(t, s, other.Refresh.Hash); !f.RevokedAt.IsZero() {
		t.Fatalf("revoking an access token revoked its family: %+v", f)
	}
}

// testRotationConcurrency: two refreshes with one token at once — exactly
// one rotates it.
func testRotationConcurrency(t *testing.T, s OIDCStore) {
	ctx := context.Background()
	acct := flowAccount(t, s)
	c := flowClient(t, s, "Shop")
	for round := range 5 {
		at := t0.Add(time.Duration(round) * time.Hour)
		is := newIssue(acct, c.ID, "", at)
		issue(t, s, is)
		var wg sync.WaitGroup
		results := make([]error, 2)
		nexts := make([]*oidc.RefreshToken, 2)
		for i := range 2 {
			next, access := nextTokens(is.Family, at.Add(time.Minute))
			nexts[i] = next
			wg.Go(func() {
				results[i] = s.RotateRefreshToken(ctx, is.Refresh.Hash, next, access, "dev-2", at.Add(time.Minute))
			})
		}
		wg.Wait()
		won := 0
		for i, err := range results {
			_, _, rerr := s.RefreshToken(ctx, nexts[i].Hash)
			switch {
			case err == nil:
				won++
				if rerr != nil {
					t.Fatalf("round %d: the winner's refresh token: %v", round, rerr)
				}
			case errors.Is(err, oidc.ErrUsed):
				if !errors.Is(rerr, oidc.ErrNotFound) {
					t.Fatalf("round %d: the loser's refresh token was stored: %v", round, rerr)
				}
			default:
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d rotations of one token succeeded", round, won)
		}
	}
}

// testRevokeRequestTokens: a replayed code revokes the access tokens it
// bought and the family it started, with the rotations' tokens.
func testRevokeRequestTokens(t *testing.T, s OIDCStore) {
	ctx := context.Background()
	acct := flowAccount(t, s)
	c := flowClient(t, s, "Shop")
	r, _ := doneRequest(t, s, acct, c.ID, t0)
	is := newIssue(acct, c.ID, r.ID, t0.Add(time.Second))
	issue(t, s, is)
	next, access := nextTokens(is.Family, t0.Add(time.Hour))
	if err := s.RotateRefreshToken(ctx, is.Refresh.Hash, next, access, "", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	// A code that bought an access token only, and another request's family.
	r2, _ := doneRequest(t, s, acct, c.ID, t0)
	only := newIssue(acct, c.ID, r2.ID, t0.Add(time.Second))
	only.Family, only.Refresh, only.Access.FamilyID = nil, nil, ""
	issue(t, s, only)
	r3, _ := doneRequest(t, s, acct, c.ID, t0)
	third := newIssue(acct, c.ID, r3.ID, t0.Add(time.Second))
	issue(t, s, third)

	at := t0.Add(2 * time.Hour)
	if err := s.RevokeRequestTokens(ctx, r.ID, oidc.ReasonCodeReplay, at); err != nil {
		t.Fatal(err)
	}
	if f := family(t, s, next.Hash); !f.RevokedAt.Equal(at) || f.RevokeReason != oidc.ReasonCodeReplay {
		t.Fatalf("the code's family: %+v", f)
	}
	for _, id := range []string{is.Access.ID, access.ID} {
		if got := revokedAt(t, s, id); !got.Equal(at) {
			t.Fatalf("access token %s bought by the code: revoked at %v", id, got)
		}
	}
	if !revokedAt(t, s, only.Access.ID).IsZero() || !revokedAt(t, s, third.Access.ID).IsZero() || !family(t, s, third.Refresh.Hash).RevokedAt.IsZero() {
		t.Fatal("another code's tokens were revoked")
	}
	if err := s.RevokeRequestTokens(ctx, r2.ID, oidc.ReasonCodeReplay, at); err != nil {
		t.Fatal(err)
	}
	if got := revokedAt(t, s, only.Access.ID); !got.Equal(at) {
		t.Fatalf("a code's lone access token: revoked at %v", got)
	}
	if err := s.RevokeRequestTokens(ctx, "nope", oidc.ReasonCodeReplay, at); err != nil {
		t.Fatalf("an unknown request: %v", err)
	}
	if !family(t, s, third.Refresh.Hash).RevokedAt.IsZero() {
		t.Fatal("another code's family was revoked")
	}
}

func testGrants(t *testing.T, s OIDCStore) {
	ctx := context.Background()
	acct := flowAccount(t, s)
	c := flowClient(t, s, "Shop")
	if _, err := s.Grant(ctx, acct, c.ID); !errors.Is(err, oidc.ErrNotFound) {
		t.Fatalf("no grant yet: %v", err)
	}
	g := &oidc.Grant{AccountID: acct, ClientID: c.ID, Scopes: []string{"openid", "email"}, CreatedAt: t0, LastUsedAt: t0, LastDeviceID: "dev-1"}
	if err := s.SaveGrant(ctx, g); err != nil {
		t.Fatal(err)
	}
	got, err := s.Grant(ctx, acct, c.ID)
	if err != nil || !reflect.DeepEqual(*got, *g) {
		t.Fatalf("grant:\n got %+v %v\nwant %+v", got, err, g)
	}
	// Saving a live grant again widens it and keeps when it was given.
	later := t0.Add(time.Hour)
	if err := s.SaveGrant(ctx, &oidc.Grant{AccountID: acct, ClientID: c.ID, Scopes: []string{"openid", "email", "profile"},
		CreatedAt: later, LastUsedAt: later, LastDeviceID: "dev-2"}); err != nil {
		t.Fatal(err)
	}
	got, err = s.Grant(ctx, acct, c.ID)
	if err != nil || !got.CreatedAt.Equal(t0) || !got.LastUsedAt.Equal(later) || got.LastDeviceID != "dev-2" ||
		!got.Covers([]string{"profile", "openid"}) || got.Covers([]string{"phone"}) {
		t.Fatalf("grant saved again: %+v %v", got, err)
	}
	// Tokens issued under it record its use, and the device when known.
	is := newIssue(acct, c.ID, "", t0.Add(2*time.Hour))
	is.DeviceID = ""
	issue(t, s, is)
	if got, _ := s.Grant(ctx, acct, c.ID); !got.LastUsedAt.Equal(is.At) || got.LastDeviceID != "dev-2" {
		t.Fatalf("grant after tokens without a device: %+v", got)
	}
	next, access := nextTokens(is.Family, t0.Add(3*time.Hour))
	if err := s.RotateRefreshToken(ctx, is.Refresh.Hash, next, access, "dev-3", t0.Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Grant(ctx, acct, c.ID); !got.LastUsedAt.Equal(t0.Add(3*time.Hour)) || got.LastDeviceID != "dev-3" {
		t.Fatalf("grant after a refresh: %+v", got)
	}

	if _, err := s.Disconnect(ctx, acct, c.ID, oidc.ReasonDisconnect, t0.Add(4*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Grant(ctx, acct, c.ID); !errors.Is(err, oidc.ErrNotFound) {
		t.Fatalf("revoked grant: %v", err)
	}
	// A new yes after a disconnection is a new grant.
	again := &oidc.Grant{AccountID: acct, ClientID: c.ID, Scopes: []string{"openid"}, CreatedAt: t0.Add(5 * time.Hour),
		LastUsedAt: t0.Add(5 * time.Hour), LastDeviceID: "dev-4"}
	if err := s.SaveGrant(ctx, again); err != nil {
		t.Fatal(err)
	}
	got, err = s.Grant(ctx, acct, c.ID)
	if err != nil || !reflect.DeepEqual(*got, *again) {
		t.Fatalf("grant given again:\n got %+v %v\nwant %+v", got, err, again)
	}
}

func testConnectedApps(t *testing.T, s OIDCStore) {
	ctx := context.Background()
	acct := flowAccount(t, s)
	now := t0.Add(48 * time.Hour)
	grant := func(c *oidc.Client, accountID string, created, used time.Time, device string, scopes ...string) {
		t.Helper()
		if err := s.SaveGrant(ctx, &oidc.Grant{AccountID: accountID, ClientID: c.ID, Scopes: scopes, CreatedAt: created,
			LastUsedAt: used, LastDeviceID: device}); err != nil {
			t.Fatal(err)
		}
	}
	// fam starts a family; it must come before the client's grant, whose
	// last use it would record.
	fam := func(c *oidc.Client, accountID string, created, used time.Time, device string, scopes ...string) oidc.Issue {
		t.Helper()
		is := newIssue(accountID, c.ID, "", created)
		is.Family.LastUsedAt, is.Family.LastDeviceID, is.Family.Scopes = used, device, scopes
		issue(t, s, is)
		return is
	}

	shop := flowClient(t, s, "Shop") // a grant only
	grant(shop, acct, t0, t0.Add(time.Hour), "dev-g", "openid", "email")
	app := flowClient(t, s, "App") // live families only
	fam(app, acct, t0.Add(2*time.Hour), t0.Add(5*time.Hour), "dev-f", "openid", "offline_access")
	fam(app, acct, t0.Add(3*time.Hour), t0.Add(4*time.Hour), "dev-e", "openid", "offline_access")
	both := flowClient(t, s, "Both") // a family older than the grant
	fam(both, acct, t0.Add(time.Hour), t0.Add(6*time.Hour), "", "openid", "offline_access")
	grant(both, acct, t0.Add(3*time.Hour), t0.Add(3*time.Hour), "dev-g2", "openid")

	revoked := flowClient(t, s, "Revoked")
	is := fam(revoked, acct, t0, t0.Add(7*time.Hour), "dev-r", "openid")
	if err := s.RevokeFamily(ctx, is.Family.ID, oidc.ReasonReuse, t0.Add(8*time.Hour)); err != nil {
		t.Fatal(err)
	}
	expired := flowClient(t, s, "Expired")
	is = newIssue(acct, expired.ID, "", t0)
	is.Family.ExpiresAt = now
	issue(t, s, is)
	removed := flowClient(t, s, "Removed")
	grant(removed, acct, t0, t0.Add(9*time.Hour), "dev-x", "openid")
	if err := s.RemoveClient(ctx, removed.ID, t0.Add(10*time.Hour)); err != nil {
		t.Fatal(err)
	}
	someone := flowAccount(t, s)
	elsewhere := flowClient(t, s, "Elsewhere")
	grant(elsewhere, someone, t0, t0.Add(11*time.Hour), "dev-s", "openid")
	fam(elsewhere, someone, t0, t0.Add(11*time.Hour), "dev-s", "openid")

	apps, err := s.ConnectedApps(ctx, acct, now)
	if err != nil {
		t.Fatal(err)
	}
	want := []oidc.App{
		{ClientID: both.ID, Name: "Both", Scopes: []string{"openid"}, FirstUsedAt: t0.Add(time.Hour), LastUsedAt: t0.Add(6 * time.Hour), LastDeviceID: "dev-g2"},
		{ClientID: app.ID, Name: "App", Scopes: []string{"openid", "offline_access"}, FirstUsedAt: t0.Add(2 * time.Hour), LastUsedAt: t0.Add(5 * time.Hour), LastDeviceID: "dev-f"},
		{ClientID: shop.ID, Name: "Shop", Scopes: []string{"openid", "email"}, FirstUsedAt: t0, LastUsedAt: t0.Add(time.Hour), LastDeviceID: "dev-g"},
	}
	checkApps := func(apps []*oidc.App, want []oidc.App) {
		t.Helper()
		if len(apps) != len(want) {
			for _, a := range apps {
				t.Logf("listed %+v", *a)
			}
			t.Fatalf("%d applications listed, want %d", len(apps), len(want))
		}
		for i, a := range apps {
			if !reflect.DeepEqual(*a, want[i]) {
				t.Fatalf("application %d:\n got %+v\nwant %+v", i, *a, want[i])
			}
		}
	}
	checkApps(apps, want)

	for _, c := range []*oidc.Client{app, shop} {
		if _, err := s.Disconnect(ctx, acct, c.ID, oidc.ReasonDisconnect, now); err != nil {
			t.Fatal(err)
		}
	}
	apps, err = s.ConnectedApps(ctx, acct, now)
	if err != nil {
		t.Fatal(err)
	}
	checkApps(apps, want[:1])
	if apps, err := s.ConnectedApps(ctx, flowAccount(t, s), now); err != nil || len(apps) != 0 {
		t.Fatalf("an account with no application: %+v %v", apps, err)
	}
}

func testDisconnect(t *testing.T, s OIDCStore) {
	ctx := context.Background()
	acct := flowAccount(t, s)
	shop := flowClient(t, s, "Shop")
	other := flowClient(t, s, "Other")
	app := func(sessionID string, c *oidc.Client, sid string) string {
		t.Helper()
		got, err := s.AppSession(ctx, sessionID, c.ID, acct, sid, t0)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := app("sess-a", shop, "sid-1"); got != "sid-1" {
		t.Fatalf("new application session: %q", got)
	}
	if got := app("sess-a", shop, "sid-x"); got != "sid-1" {
		t.Fatalf("the same session signing in to the same client again: %q, want sid-1", got)
	}
	if got := app("sess-b", shop, "sid-2"); got != "sid-2" {
		t.Fatalf("another session: %q", got)
	}
	if got := app("sess-a", other, "sid-3"); got != "sid-3" {
		t.Fatalf("another client: %q", got)
	}

	at := t0.Add(time.Hour)
	var shopIssues, otherIssues []oidc.Issue
	for range 2 {
		shopIssues = append(shopIssues, newIssue(acct, shop.ID, "", t0))
		otherIssues = append(otherIssues, newIssue(acct, other.ID, "", t0))
	}
	for _, is := range append(slices.Clone(shopIssues), otherIssues...) {
		issue(t, s, is)
	}
	for _, c := range []*oidc.Client{shop, other} {
		if err := s.SaveGrant(ctx, &oidc.Grant{AccountID: acct, ClientID: c.ID, Scopes: []string{"openid"}, CreatedAt: t0, LastUsedAt: t0}); err != nil {
			t.Fatal(err)
		}
	}

	sids, err := s.Disconnect(ctx, acct, shop.ID, oidc.ReasonDisconnect, at)
	slices.Sort(sids)
	if err != nil || !slices.Equal(sids, []string{"sid-1", "sid-2"}) {
		t.Fatalf("disconnect: %v %v, want [sid-1 sid-2]", sids, err)
	}
	for _, is := range shopIssues {
		if f := family(t, s, is.Refresh.Hash); !f.RevokedAt.Equal(at) || f.RevokeReason != oidc.ReasonDisconnect {
			t.Fatalf("disconnected client's family: %+v", f)
		}
		if got := revokedAt(t, s, is.Access.ID); !got.Equal(at) {
			t.Fatalf("disconnected client's access token: revoked at %v", got)
		}
	}
	if _, err := s.Grant(ctx, acct, shop.ID); !errors.Is(err, oidc.ErrNotFound) {
		t.Fatalf("disconnected client's grant: %v", err)
	}
	for _, is := range otherIssues {
		if !family(t, s, is.Refresh.Hash).RevokedAt.IsZero() || !revokedAt(t, s, is.Access.ID).IsZero() {
			t.Fatal("another client's tokens were revoked")
		}
	}
	if _, err := s.Grant(ctx, acct, other.ID); err != nil {
		t.Fatalf("another client's grant: %v", err)
	}
	if sids, err := s.Disconnect(ctx, acct, shop.ID, oidc.ReasonDisconnect, at); err != nil || len(sids) != 0 {
		t.Fatalf("disconnected twice: %v %v", sids, err)
	}
	// Signing in again with the same session brings its sid back.
	if got := app("sess-a", shop, "sid-y"); got != "sid-1" {
		t.Fatalf("signing in again after a disconnection: %q, want sid-1", got)
	}
	if sids, err := s.Disconnect(ctx, acct, shop.ID, oidc.ReasonDisconnect, at); err != nil || !slices.Equal(sids, []string{"sid-1"}) {
		t.Fatalf("disconnect after signing in again: %v %v", sids, err)
	}
	if sids, err := s.Disconnect(ctx, acct, other.ID, oidc.ReasonDisconnect, at); err != nil || !slices.Equal(sids, []string{"sid-3"}) {
		t.Fatalf("disconnect the other client: %v %v", sids, err)
	}
}

func testRevokeAccountTokens(t *testing.T, s OIDCStore) {
	ctx := context.Background()
	acct, someone := flowAccount(t, s), flowAccount(t, s)
	shop, other := flowClient(t, s, "Shop"), flowClient(t, s, "Other")
	mine := []oidc.Issue{newIssue(acct, shop.ID, "", t0), newIssue(acct, other.ID, "", t0), newIssue(acct, shop.ID, "", t0)}
	theirs := newIssue(someone, shop.ID, "", t0)
	for _, is := range append(slices.Clone(mine), theirs) {
		issue(t, s, is)
	}
	if err := s.SaveGrant(ctx, &oidc.Grant{AccountID: acct, ClientID: shop.ID, Scopes: []string{"openid"}, CreatedAt: t0, LastUsedAt: t0}); err != nil {
		t.Fatal(err)
	}
	first := t0.Add(time.Minute)
	if err := s.RevokeFamily(ctx, mine[2].Family.ID, oidc.ReasonReuse, first); err != nil {
		t.Fatal(err)
	}
	at := t0.Add(time.Hour)
	if err := s.RevokeAccountTokens(ctx, acct, oidc.ReasonSessionsEnded, at); err != nil {
		t.Fatal(err)
	}
	for _, is := range mine[:2] {
		if f := family(t, s, is.Refresh.Hash); !f.RevokedAt.Equal(at) || f.RevokeReason != oidc.ReasonSessionsEnded {
			t.Fatalf("the account's family: %+v", f)
		}
		if got := revokedAt(t, s, is.Access.ID); !got.Equal(at) {
			t.Fatalf("the account's access token: revoked at %v", got)
		}
	}
	if f := family(t, s, mine[2].Refresh.Hash); !f.RevokedAt.Equal(first) || f.RevokeReason != oidc.ReasonReuse {
		t.Fatalf("a family revoked before keeps its reason: %+v", f)
	}
	if !family(t, s, theirs.Refresh.Hash).RevokedAt.IsZero() || !revokedAt(t, s, theirs.Access.ID).IsZero() {
		t.Fatal("another account's tokens were revoked")
	}
	if _, err := s.Grant(ctx, acct, shop.ID); err != nil {
		t.Fatalf("the grant must stay: %v", err)
	}
	apps, err := s.ConnectedApps(ctx, acct, at)
	if err != nil || len(apps) != 1 || apps[0].ClientID != shop.ID {
		t.Fatalf("connected after signing out everywhere: %+v %v", apps, err)
	}
}
