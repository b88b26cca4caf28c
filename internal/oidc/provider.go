package oidc

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"

	"gatehouse/internal/account"
	"gatehouse/internal/clock"
	"gatehouse/internal/crypt"
	"gatehouse/internal/random"
)

// Holders reads the accounts tokens are issued for.
type Holders interface {
	AccountByID(ctx context.Context, id string) (*account.Account, error)
}

// Flow is the authorization code flow's state: zitadel/oidc's op provider,
// with Gatehouse's storage (requests, tokens, grants in FlowStore; clients;
// keys) behind it. The front door (internal/oidcdoor) wraps op's handlers
// as routes of the one route table and decides the sign-in itself.
type Flow struct {
	Store   FlowStore
	Clients *Clients
	Keys    *Keys
	Holders Holders
	Clock   clock.Clock
	Log     *slog.Logger
	// LoginURL is the front door's hand-off for a stored request id.
	LoginURL func(id string) string

	op  *op.Provider
	box *crypt.Box
}

// NewFlow builds the provider for issuer. Box seals the codes and opaque
// access tokens op hands out (AES-GCM under the installation's key, so
// every node opens what another sealed).
func NewFlow(f *Flow, issuer string, box *crypt.Box) (*Flow, error) {
	cfg := &op.Config{
		CodeMethodS256:        true,
		AuthMethodPost:        true,
		GrantTypeRefreshToken: true,
		SupportedUILocales:    []language.Tag{language.Japanese, language.English},
		SupportedScopes:       []string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail, oidc.ScopeOfflineAccess},
		// Logout tokens are sent by Gatehouse itself; these only feed
		// op's own discovery, which is not served.
		BackChannelLogoutSupported:        true,
		BackChannelLogoutSessionSupported: true,
	}
	opts := []op.Option{op.WithCrypto(sealer{box})}
	if u := issuer; len(u) > 7 && u[:7] == "http://" {
		// A development installation on loopback (config refuses plain
		// http elsewhere).
		opts = append(opts, op.WithAllowInsecure())
	}
	p, err := op.NewProvider(cfg, &storage{f}, op.StaticIssuer(issuer), opts...)
	if err != nil {
		return nil, fmt.Errorf("oidc: provider: %w", err)
	}
	f.op, f.box = p, box
	return f, nil
}

// OP is op's provider, whose handlers the front door wraps.
func (f *Flow) OP() *op.Provider { return f.op }

// Storage is the op.Storage the provider reads and writes through.
func (f *Flow) Storage() op.Storage { return f.op.Storage() }

func (f *Flow) now() time.Time { return f.Clock.Now() }

// sealer is op's Crypto on the installation's box: codes and access tokens
// are sealed ids, bound to their use.
type sealer struct{ box *crypt.Box }

var sealerAD = []byte("gatehouse/oidc/op\x00")

func (s sealer) Encrypt(v string) (string, error) {
	return base64.RawURLEncoding.EncodeToString(s.box.Seal([]byte(v), sealerAD)), nil
}

func (s sealer) Decrypt(v string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		return "", err
	}
	p, err := s.box.Open(b, sealerAD)
	if err != nil {
		return "", err
	}
	return string(p), nil
}

// deviceKey carries the browser's device id to CreateAuthRequest.
type deviceKey struct{}

// WithDevice names the browser an authorization request comes from.
func WithDevice(ctx context.Context, deviceID string) context.Context {
	return context.WithValue(ctx, deviceKey{}, deviceID)
}

func deviceOf(ctx context.Context) string { s, _ := ctx.Value(deviceKey{}).(string); return s }

// hash is how codes and refresh tokens are stored.
func hash(v string) []byte { h := sha256.Sum256([]byte(v)); return h[:] }

// storage implements op.Storage over the Flow.
type storage struct{ f *Flow }

var (
	_ op.Storage                        = (*storage)(nil)
	_ op.CanSetUserinfoFromRequest      = (*storage)(nil)
	_ op.CanTerminateSessionFromRequest = (*storage)(nil)
)

// authRequest is a stored request as op sees it.
type authRequest struct{ r *Request }

func (a *authRequest) GetID() string          { return a.r.ID }
func (a *authRequest) GetACR() string         { return a.r.Result.ACR }
func (a *authRequest) GetAMR() []string       { return a.r.Result.AMR }
func (a *authRequest) GetAudience() []string  { return []string{a.r.ClientID} }
func (a *authRequest) GetAuthTime() time.Time { return a.r.Result.AuthTime }
func (a *authRequest) GetClientID() string    { return a.r.ClientID }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge {
	if a.r.Params.CodeChallenge == "" {
		return nil
	}
	return &oidc.CodeChallenge{Challenge: a.r.Params.CodeChallenge, Method: oidc.CodeChallengeMethod(a.r.Params.CodeChallengeMethod)}
}
func (a *authRequest) GetNonce() string       { return a.r.Params.Nonce }
func (a *authRequest) GetRedirectURI() string { return a.r.Params.RedirectURI }
func (a *authRequest) GetResponseType() oidc.ResponseType {
	return oidc.ResponseType(a.r.Params.ResponseType)
}
func (a *authRequest) GetResponseMode() oidc.ResponseMode {
	return oidc.ResponseMode(a.r.Params.ResponseMode)
}
func (a *authRequest) GetScopes() []string { return a.r.Params.Scopes }
func (a *authRequest) GetState() string    { return a.r.Params.State }
func (a *authRequest) GetSubject() string  { return a.r.AccountID }
func (a *authRequest) Done() bool          { return !a.r.DoneAt.IsZero() }

// OPRequest is op's view of a stored request (the hand-off, which has
// just completed it, need not read it again).
func OPRequest(r *Request) op.AuthRequest { return &authRequest{r} }

// refreshRequest is a refresh token's family as op sees it.
type refreshRequest struct {
	token  *RefreshToken
	family *Family
	scopes []string
}

func (r *refreshRequest) GetAMR() []string            { return r.family.AMR }
func (r *refreshRequest) GetAudience() []string       { return []string{r.family.ClientID} }
func (r *refreshRequest) GetAuthTime() time.Time      { return r.family.AuthTime }
func (r *refreshRequest) GetClientID() string         { return r.family.ClientID }
func (r *refreshRequest) GetScopes() []string         { return r.scopes }
func (r *refreshRequest) GetSubject() string          { return r.family.AccountID }
func (r *refreshRequest) SetCurrentScopes(s []string) { r.scopes = s }

// CreateAuthRequest stores a validated request, bound to the browser.
func (s *storage) CreateAuthRequest(ctx context.Context, req *oidc.AuthRequest, hintSubject string) (op.AuthRequest, error) {
	now := s.f.now()
	r := &Request{
		ID: random.ID(), ClientID: req.ClientID, DeviceID: deviceOf(ctx), CreatedAt: now, ExpiresAt: now.Add(AuthRequestLifetime),
		Params: Params{
			RedirectURI: req.RedirectURI, Scopes: req.Scopes, State: req.State, Nonce: req.Nonce,
			ResponseType: string(req.ResponseType), ResponseMode: string(req.ResponseMode), Prompt: req.Prompt,
			MaxAge: req.MaxAge, ACRValues: req.ACRValues, LoginHint: req.LoginHint, HintSubject: hintSubject,
			CodeChallenge: req.CodeChallenge, CodeChallengeMethod: string(req.CodeChallengeMethod),
		},
	}
	for _, t := range req.UILocales {
		r.Params.UILocales = append(r.Params.UILocales, t.String())
	}
	if err := s.f.Store.CreateAuthRequest(ctx, r); err != nil {
		return nil, err
	}
	return &authRequest{r}, nil
}

func (s *storage) AuthRequestByID(ctx context.Context, id string) (op.AuthRequest, error) {
	r, err := s.f.Store.AuthRequest(ctx, id, s.f.now())
	if err != nil {
		return nil, err
	}
	return &authRequest{r}, nil
}

// AuthRequestByCode returns the done request of a code. A code exchanged
// before is a replay: what it bought is revoked (RFC 6749 §4.1.2), and the
// code refused.
func (s *storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	r, err := s.f.Store.AuthRequestByCode(ctx, hash(code), s.f.now())
	if errors.Is(err, ErrNotFound) {
		return nil, oidc.ErrInvalidGrant().WithDescription("the code is unknown or expired")
	}
	if err != nil {
		return nil, err
	}
	if !r.ExchangedAt.IsZero() {
		if err := s.f.Store.RevokeRequestTokens(ctx, r.ID, ReasonCodeReplay, s.f.now()); err != nil {
			return nil, err
		}
		s.f.Log.Warn("oidc: an authorization code was used twice; its tokens are revoked", "client", r.ClientID, "request", r.ID)
		return nil, oidc.ErrInvalidGrant().WithDescription("the code was used already")
	}
	if r.DoneAt.IsZero() {
		return nil, oidc.ErrInvalidGrant()
	}
	return &authRequest{r}, nil
}

func (s *storage) SaveAuthCode(ctx context.Context, id, code string) error {
	return s.f.Store.SaveAuthCode(ctx, id, hash(code), s.f.now().Add(CodeLifetime))
}

// DeleteAuthRequest keeps the row: its exchanged_at recognises a replayed
// code until the replay window passes (pruned then).
func (s *storage) DeleteAuthRequest(ctx context.Context, id string) error { return nil }

func (s *storage) newAccess(clientID, accountID string, scopes []string) *AccessToken {
	now := s.f.now()
	return &AccessToken{ID: random.ID(), ClientID: clientID, AccountID: accountID, Scopes: scopes, CreatedAt: now, ExpiresAt: now.Add(AccessTokenLifetime)}
}

// CreateAccessToken is the code flow without offline_access.
func (s *storage) CreateAccessToken(ctx context.Context, req op.TokenRequest) (string, time.Time, error) {
	a, ok := req.(*authRequest)
	if !ok {
		return "", time.Time{}, oidc.ErrUnsupportedGrantType()
	}
	t := s.newAccess(a.r.ClientID, a.r.AccountID, a.r.Params.Scopes)
	t.AuthRequestID = a.r.ID
	err := s.f.Store.IssueTokens(ctx, Issue{Code: a.r.ID, Access: t, At: t.CreatedAt, DeviceID: a.r.DeviceID})
	if errors.Is(err, ErrUsed) {
		return "", time.Time{}, oidc.ErrInvalidGrant().WithDescription("the code was used already")
	}
	if err != nil {
		return "", time.Time{}, err
	}
	return t.ID, t.ExpiresAt, nil
}

// CreateAccessAndRefreshTokens starts a family (code flow with
// offline_access) or rotates a refresh token into the next of its family.
func (s *storage) CreateAccessAndRefreshTokens(ctx context.Context, req op.TokenRequest, current string) (string, string, time.Time, error) {
	now := s.f.now()
	token := random.Token()
	switch r := req.(type) {
	case *authRequest:
		fam := &Family{
			ID: random.ID(), ClientID: r.r.ClientID, AccountID: r.r.AccountID, SessionID: r.r.Result.SessionID,
			Scopes: r.r.Params.Scopes, AMR: r.r.Result.AMR, ACR: r.r.Result.ACR, AuthTime: r.r.Result.AuthTime,
			CreatedAt: now, ExpiresAt: now.Add(RefreshAbsolute), LastUsedAt: now, LastDeviceID: r.r.DeviceID,
		}
		rt := &RefreshToken{Hash: hash(token), FamilyID: fam.ID, CreatedAt: now, ExpiresAt: minTime(now.Add(RefreshIdle), fam.ExpiresAt)}
		t := s.newAccess(r.r.ClientID, r.r.AccountID, r.r.Params.Scopes)
		t.AuthRequestID, t.FamilyID = r.r.ID, fam.ID
		err := s.f.Store.IssueTokens(ctx, Issue{Code: r.r.ID, Family: fam, Refresh: rt, Access: t, At: now, DeviceID: r.r.DeviceID})
		if errors.Is(err, ErrUsed) {
			return "", "", time.Time{}, oidc.ErrInvalidGrant().WithDescription("the code was used already")
		}
		if err != nil {
			return "", "", time.Time{}, err
		}
		return t.ID, token, t.ExpiresAt, nil
	case *refreshRequest:
		fam := r.family
		rt := &RefreshToken{Hash: hash(token), FamilyID: fam.ID, CreatedAt: now, ExpiresAt: minTime(now.Add(RefreshIdle), fam.ExpiresAt)}
		t := s.newAccess(fam.ClientID, fam.AccountID, r.scopes)
		t.FamilyID = fam.ID
		err := s.f.Store.RotateRefreshToken(ctx, r.token.Hash, rt, t, "", now)
		if errors.Is(err, ErrUsed) {
			// Two uses of one token at once: one of them is not the
			// application's.
			if err := s.f.Store.RevokeFamily(ctx, fam.ID, ReasonReuse, now); err != nil {
				return "", "", time.Time{}, err
			}
			return "", "", time.Time{}, oidc.ErrInvalidGrant().WithDescription("the refresh token was used already")
		}
		if err != nil {
			return "", "", time.Time{}, err
		}
		return t.ID, token, t.ExpiresAt, nil
	}
	return "", "", time.Time{}, oidc.ErrUnsupportedGrantType()
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// TokenRequestByRefreshToken checks a refresh token. A rotated token used
// again means it was copied: the whole family is revoked, so the copy and
// the genuine newest token both stop working.
func (s *storage) TokenRequestByRefreshToken(ctx context.Context, token string) (op.RefreshTokenRequest, error) {
	now := s.f.now()
	t, fam, err := s.f.Store.RefreshToken(ctx, hash(token))
	if errors.Is(err, ErrNotFound) {
		return nil, oidc.ErrInvalidGrant().WithDescription("unknown refresh token")
	}
	if err != nil {
		return nil, err
	}
	if !fam.RevokedAt.IsZero() {
		return nil, oidc.ErrInvalidGrant().WithDescription("the refresh token was revoked")
	}
	if !t.RotatedAt.IsZero() {
		if err := s.f.Store.RevokeFamily(ctx, fam.ID, ReasonReuse, now); err != nil {
			return nil, err
		}
		s.f.Log.Warn("oidc: a rotated refresh token was used again; its family is revoked", "client", fam.ClientID, "family", fam.ID)
		return nil, oidc.ErrInvalidGrant().WithDescription("the refresh token was used already")
	}
	if !now.Before(t.ExpiresAt) || !now.Before(fam.ExpiresAt) {
		return nil, oidc.ErrInvalidGrant().WithDescription("the refresh token has expired")
	}
	if _, err := s.f.Clients.Store.ClientByID(ctx, fam.ClientID); err != nil {
		return nil, oidc.ErrInvalidGrant()
	}
	a, err := s.f.Holders.AccountByID(ctx, fam.AccountID)
	if err != nil || a.Status != account.Active {
		return nil, oidc.ErrInvalidGrant().WithDescription("the account cannot sign in")
	}
	return &refreshRequest{token: t, family: fam, scopes: fam.Scopes}, nil
}

// LogoutPath is the page that asks the holder whether to sign out of
// Gatehouse too, after an application's logout (the holder's pages serve
// it).
const LogoutPath = "/oidc/logout"

// TerminateSessionFromRequest ends nothing: a logout URL is a plain GET
// any page can make a browser follow, so signing out on it would let any
// site sign the holder out. It sends the browser to the page that asks,
// carrying the application's validated return address sealed.
func (s *storage) TerminateSessionFromRequest(ctx context.Context, req *op.EndSessionRequest) (string, error) {
	target := req.RedirectURI
	if target == "" {
		target = "/signin?notice=signed_out"
	}
	return LogoutPath + "?to=" + SealLogout(s.f.box, s.f.now(), target), nil
}

// TerminateSession is not used: RP-initiated logout asks the holder first
// (the front door's logout page).
func (s *storage) TerminateSession(ctx context.Context, userID, clientID string) error { return nil }

// RevokeToken revokes a refresh token's family or one access token
// (RFC 7009); an unknown token is not an error. op hands over a refresh
// token as itself (GetRefreshTokenInfo names it its own id) and an access
// token as its id, with the subject set in both cases: a refresh token is
// recognised by its hash, anything else is taken as an access token id.
func (s *storage) RevokeToken(ctx context.Context, tokenOrID, userID, clientID string) *oidc.Error {
	now := s.f.now()
	_, fam, err := s.f.Store.RefreshToken(ctx, hash(tokenOrID))
	switch {
	case err == nil:
		if fam.ClientID != clientID {
			return oidc.ErrInvalidClient()
		}
		if err := s.f.Store.RevokeFamily(ctx, fam.ID, ReasonRevoked, now); err != nil {
			return oidc.ErrServerError()
		}
		return nil
	case !errors.Is(err, ErrNotFound):
		return oidc.ErrServerError()
	}
	t, err := s.f.Store.AccessToken(ctx, tokenOrID)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return oidc.ErrServerError()
	}
	if t.ClientID != clientID {
		return oidc.ErrInvalidClient()
	}
	if err := s.f.Store.RevokeAccessToken(ctx, t.ID, now); err != nil {
		return oidc.ErrServerError()
	}
	return nil
}

func (s *storage) GetRefreshTokenInfo(ctx context.Context, clientID, token string) (string, string, error) {
	_, fam, err := s.f.Store.RefreshToken(ctx, hash(token))
	if err != nil || fam.ClientID != clientID {
		return "", "", op.ErrInvalidRefreshToken
	}
	return fam.AccountID, token, nil
}

// signingKey is the current key as op signs with it.
type signingKey struct{ s *Signer }

func (k signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k signingKey) Key() any                                    { return k.s.Key }
func (k signingKey) ID() string                                  { return k.s.KID }

func (s *storage) SigningKey(ctx context.Context) (op.SigningKey, error) {
	signer, err := s.f.Keys.Signing(ctx)
	if err != nil {
		return nil, err
	}
	return signingKey{signer}, nil
}

func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

// publicKey is a published key as op verifies id_token_hint with it.
type publicKey struct{ k jose.JSONWebKey }

func (p publicKey) ID() string                         { return p.k.KeyID }
func (p publicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (p publicKey) Use() string                        { return "sig" }
func (p publicKey) Key() any                           { return p.k.Key }

func (s *storage) KeySet(ctx context.Context) ([]op.Key, error) {
	set, err := s.f.Keys.Published(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]op.Key, 0, len(set.Keys))
	for _, k := range set.Keys {
		out = append(out, publicKey{k})
	}
	return out, nil
}

// opClient is a registered client as op sees it.
type opClient struct {
	c       *Client
	loginAt func(string) string
}

func (c *opClient) GetID() string                    { return c.c.ID }
func (c *opClient) RedirectURIs() []string           { return c.c.RedirectURIs }
func (c *opClient) PostLogoutRedirectURIs() []string { return c.c.PostLogoutRedirectURIs }
func (c *opClient) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c *opClient) GrantTypes() []oidc.GrantType {
	return []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken}
}
func (c *opClient) LoginURL(id string) string            { return c.loginAt(id) }
func (c *opClient) AccessTokenType() op.AccessTokenType  { return op.AccessTokenTypeBearer }
func (c *opClient) IDTokenLifetime() time.Duration       { return IDTokenLifetime }
func (c *opClient) DevMode() bool                        { return false }
func (c *opClient) IsScopeAllowed(string) bool           { return false }
func (c *opClient) IDTokenUserinfoClaimsAssertion() bool { return true } // email in the ID token too (op drops it otherwise)
func (c *opClient) ClockSkew() time.Duration             { return 0 }
func (c *opClient) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *opClient) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

// AuthMethod: a public client proves itself with PKCE alone.
func (c *opClient) AuthMethod() oidc.AuthMethod {
	if c.c.Public() {
		return oidc.AuthMethodNone
	}
	return oidc.AuthMethodBasic
}

// ApplicationType: op lets http redirect URIs through only for web
// (confidential) clients and native apps on loopback (RFC 8252, any
// port); a public client whose URIs are all loopback or a private scheme
// is a native app, any other public client a browser app.
func (c *opClient) ApplicationType() op.ApplicationType {
	if !c.c.Public() {
		return op.ApplicationTypeWeb
	}
	return op.ApplicationTypeNative
}

func (s *storage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.f.Clients.Store.ClientByID(ctx, id)
	if errors.Is(err, ErrClientNotFound) {
		return nil, err // a plain error: op answers invalid_client, not 500
	}
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	return &opClient{c: c, loginAt: s.f.LoginURL}, nil
}

func (s *storage) AuthorizeClientIDSecret(ctx context.Context, id, secret string) error {
	_, err := s.f.Clients.Authenticate(ctx, id, secret)
	if err != nil && !errors.Is(err, ErrClientNotFound) && !errors.Is(err, ErrWrongSecret) {
		return oidc.ErrServerError().WithParent(err)
	}
	return err
}

func (s *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

// setUserinfo fills the claims of the granted scopes.
func (s *storage) setUserinfo(ctx context.Context, info *oidc.UserInfo, accountID string, scopes []string) error {
	a, err := s.f.Holders.AccountByID(ctx, accountID)
	if err != nil {
		return err
	}
	info.Subject = a.ID
	if slices.Contains(scopes, oidc.ScopeEmail) {
		info.Email = a.Email
		info.EmailVerified = oidc.Bool(!a.ConfirmedAt.IsZero())
	}
	if slices.Contains(scopes, oidc.ScopeProfile) && a.Language != "" {
		info.Locale = oidc.NewLocale(language.Make(a.Language))
	}
	return nil
}

// SetUserinfoFromToken answers the userinfo endpoint for a live access
// token.
func (s *storage) SetUserinfoFromToken(ctx context.Context, info *oidc.UserInfo, tokenID, subject, origin string) error {
	t, err := s.f.Store.AccessToken(ctx, tokenID)
	if err != nil || t.AccountID != subject || !t.RevokedAt.IsZero() || !s.f.now().Before(t.ExpiresAt) {
		return oidc.ErrAccessDenied().WithDescription("the access token is not valid")
	}
	a, err := s.f.Holders.AccountByID(ctx, subject)
	if err != nil || a.Status != account.Active {
		return oidc.ErrAccessDenied().WithDescription("the account cannot sign in")
	}
	return s.setUserinfo(ctx, info, subject, t.Scopes)
}

// SetUserinfoFromRequest fills the ID token's claims, and adds what op
// does not: sid (back-channel logout) and, on a refreshed ID token, the
// acr of the sign-in.
func (s *storage) SetUserinfoFromRequest(ctx context.Context, info *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	if err := s.setUserinfo(ctx, info, req.GetSubject(), scopes); err != nil {
		return err
	}
	switch r := req.(type) {
	case *authRequest:
		if r.r.Result.SID != "" {
			info.AppendClaims("sid", r.r.Result.SID)
		}
	case *refreshRequest:
		if r.family.ACR != "" {
			info.AppendClaims("acr", r.family.ACR)
		}
	}
	return nil
}

func (s *storage) SetIntrospectionFromToken(context.Context, *oidc.IntrospectionResponse, string, string, string) error {
	return errors.New("oidc: introspection is not offered")
}

func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("oidc: private_key_jwt is not offered")
}

func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("oidc: the JWT profile grant is not offered")
}

func (s *storage) Health(context.Context) error { return nil }
