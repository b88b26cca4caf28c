package oidcdoor_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"gatehouse/internal/oidc"
	"gatehouse/internal/random"
)

// tokenRequest posts a form to the token endpoint in process (no network:
// the benchmark measures Gatehouse, not the loopback).
func (p *provider) tokenRequest(tb testing.TB, h http.Handler, form url.Values) map[string]any {
	req := httptest.NewRequest("POST", issuer+"/oidc/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(p.client.ID), url.QueryEscape(p.secret))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	var out map[string]any
	body, _ := io.ReadAll(w.Result().Body)
	if w.Code != http.StatusOK || json.Unmarshal(body, &out) != nil {
		tb.Fatalf("token endpoint: %d %s", w.Code, body)
	}
	return out
}

// doneRequest stores an authorization request as the hand-off leaves it,
// and its code, as op makes it.
func (p *provider) doneRequest(tb testing.TB, scopes []string, verifier string) string {
	ctx := context.Background()
	now := time.Now()
	r := &oidc.Request{ID: random.ID(), ClientID: p.client.ID, DeviceID: "bench", CreatedAt: now, ExpiresAt: now.Add(oidc.AuthRequestLifetime),
		Params: oidc.Params{RedirectURI: callback, Scopes: scopes, ResponseType: "code", Nonce: "n",
			CodeChallenge: oauth2.S256ChallengeFromVerifier(verifier), CodeChallengeMethod: "S256"}}
	if err := p.app.Flow.Store.CreateAuthRequest(ctx, r); err != nil {
		tb.Fatal(err)
	}
	if err := p.app.Flow.Store.CompleteAuthRequest(ctx, r.ID, p.acct, oidc.Result{SessionID: "s", SID: "sid", AuthTime: now, AMR: []string{"pwd"}}, now); err != nil {
		tb.Fatal(err)
	}
	ar, err := p.app.Flow.Storage().AuthRequestByID(ctx, r.ID)
	if err != nil {
		tb.Fatal(err)
	}
	code, err := p.app.Flow.OP().Crypto().Encrypt(ar.GetID())
	if err != nil {
		tb.Fatal(err)
	}
	if err := p.app.Flow.Storage().SaveAuthCode(ctx, r.ID, code); err != nil {
		tb.Fatal(err)
	}
	return code
}

// BenchmarkTokenEndpoint is the token endpoint's work per request, in
// process, on SQLite (GATEHOUSE_TEST_POSTGRES: PostgreSQL too): a code
// exchange (its request stored beforehand, outside the timer) with an ID
// token signed and a refresh family started, and a refresh (rotation with
// a new access token and ID token). Run:
//
//	go test ./internal/oidcdoor -run '^$' -bench TokenEndpoint -benchtime 3s
func BenchmarkTokenEndpoint(b *testing.B) {
	for name, flags := range benchDatabases(b) {
		b.Run(name+"/code", func(b *testing.B) {
			p := newProvider(b, flags(), oidc.NewClient{})
			h := p.app.Handler()
			verifier := oauth2.GenerateVerifier()
			codes := make([]string, b.N)
			for i := range codes {
				codes[i] = p.doneRequest(b, []string{"openid", "offline_access"}, verifier)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				p.tokenRequest(b, h, url.Values{"grant_type": {"authorization_code"}, "code": {codes[i]}, "redirect_uri": {callback}, "code_verifier": {verifier}})
			}
		})
		b.Run(name+"/refresh", func(b *testing.B) {
			p := newProvider(b, flags(), oidc.NewClient{})
			h := p.app.Handler()
			verifier := oauth2.GenerateVerifier()
			out := p.tokenRequest(b, h, url.Values{"grant_type": {"authorization_code"}, "code": {p.doneRequest(b, []string{"openid", "offline_access"}, verifier)},
				"redirect_uri": {callback}, "code_verifier": {verifier}})
			rt, _ := out["refresh_token"].(string)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				out = p.tokenRequest(b, h, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
				rt, _ = out["refresh_token"].(string)
			}
		})
	}
}
