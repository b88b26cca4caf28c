// Package oidcdoor is the OpenID Connect provider's front door: its part
// of the one route table. Today it serves what relying parties read before
// any sign-in — discovery and the JSON Web Key Set; the authorization flow
// (zitadel/oidc's op handlers, each wrapped as a route) comes next.
//
// It is a package apart from internal/oidc, which holds the provider's
// vocabulary and is imported by the stores: the stores' tests are imported
// by httpcore's, so internal/oidc must not import httpcore.
package oidcdoor

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"golang.org/x/text/language"

	"gatehouse/internal/account"
	"gatehouse/internal/httpcore"
	gh "gatehouse/internal/oidc"
)

// The provider's paths. Discovery names each of them; the ones the flow
// has not built yet are listed in the route-table test as the next step.
const (
	DiscoveryPath     = "/.well-known/openid-configuration"
	JWKSPath          = "/oidc/jwks"
	AuthorizationPath = "/oidc/authorize"
	TokenPath         = "/oidc/token"
	UserinfoPath      = "/oidc/userinfo"
	RevocationPath    = "/oidc/revoke"
	EndSessionPath    = "/oidc/end_session"
)

// The acr values Gatehouse can satisfy through its own re-verification
// pages: a second step (the REFEDS MFA profile) and a passkey.
const (
	ACRMFA = "https://refeds.org/profile/mfa"
	ACRPHR = "phr"
)

// Door is the provider's front door. Today it serves what relying parties
// read before any sign-in: discovery and the keys.
type Door struct {
	// Issuer is the installation's public URL without a trailing slash:
	// relying parties (go-oidc) compare the discovery document's issuer
	// with the URL they were configured with, character for character.
	Issuer string
	Keys   *gh.Keys
	// Flow is the authorization code flow (op with Gatehouse's storage).
	Flow *gh.Flow
	// Pages is the holder's pages' chain: the front channel's errors are
	// pages in the holder's language.
	Pages *httpcore.Chain
	// Proofs says what the account can prove beyond its password, so that
	// an acr the account cannot give is not asked for in vain.
	Proofs func(ctx context.Context, a *account.Account) (Proofs, error)
	// Hop renders the page that takes a browser back to the application
	// after one of Gatehouse's forms (see leave).
	Hop func(w http.ResponseWriter, r *http.Request, target, app string)
}

// Issuer turns public_url into the issuer: the same string everywhere.
func Issuer(publicURL string) string { return strings.TrimRight(publicURL, "/") }

// Routes is the provider's part of the one route table.
func (d *Door) Routes() []httpcore.Route {
	meta := d.metaChain()
	routes := []httpcore.Route{
		{Method: "GET", Path: DiscoveryPath, Access: httpcore.Public, Chain: meta, Handler: d.discovery},
		{Method: "GET", Path: JWKSPath, Access: httpcore.Public, Chain: meta, Handler: d.jwks},
	}
	if d.Flow != nil {
		routes = append(routes, d.flowRoutes()...)
	}
	return routes
}

// metaChain is the chain of the public metadata: JSON errors, and GET
// only, so no body rule is ever used.
func (d *Door) metaChain() *httpcore.Chain {
	c := httpcore.NewJSON()
	c.Name = "oidc-meta"
	return c
}

// public marks an answer as the same for everyone: relying parties and
// their browsers (a single-page app fetches both documents) may cache it
// and read it from any origin. The core's defaults (no-store,
// same-origin) are for pages that belong to one holder.
func public(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Cache-Control", "public, max-age=300")
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Content-Type", "application/json")
}

// Discovery is the OpenID Connect Discovery 1.0 document: it names only
// the endpoints, grants and methods Gatehouse serves. zitadel's type gives
// the field names op itself uses.
func (d *Door) Discovery() *oidc.DiscoveryConfiguration {
	url := func(path string) string { return d.Issuer + path }
	return &oidc.DiscoveryConfiguration{
		Issuer:                d.Issuer,
		AuthorizationEndpoint: url(AuthorizationPath),
		TokenEndpoint:         url(TokenPath),
		UserinfoEndpoint:      url(UserinfoPath),
		RevocationEndpoint:    url(RevocationPath),
		EndSessionEndpoint:    url(EndSessionPath),
		JwksURI:               url(JWKSPath),
		ScopesSupported:       []string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail, oidc.ScopeOfflineAccess},
		// The code flow only: no implicit or hybrid flow, whose tokens
		// travel in the browser's address bar.
		ResponseTypesSupported: []string{string(oidc.ResponseTypeCode)},
		// form_post needs an inline script and a cross-site form post,
		// both of which the pages' CSP forbids.
		ResponseModesSupported: []string{"query"},
		GrantTypesSupported:    []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken},
		ACRValuesSupported:     []string{ACRMFA, ACRPHR},
		SubjectTypesSupported:  []string{"public"},
		// Signed with the keys of the JWKS; op lists RS256 only.
		IDTokenSigningAlgValuesSupported:  []string{gh.RS256},
		TokenEndpointAuthMethodsSupported: []oidc.AuthMethod{oidc.AuthMethodBasic, oidc.AuthMethodPost, oidc.AuthMethodNone},
		RevocationEndpointAuthMethodsSupported: []oidc.AuthMethod{
			oidc.AuthMethodBasic, oidc.AuthMethodPost, oidc.AuthMethodNone,
		},
		ClaimsSupported: []string{
			"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "azp", "sid",
			"email", "email_verified", "locale",
		},
		// S256 only: plain PKCE protects nothing against an attacker who
		// reads the authorization request.
		CodeChallengeMethodsSupported:     []oidc.CodeChallengeMethod{oidc.CodeChallengeMethodS256},
		UILocalesSupported:                []language.Tag{language.Japanese, language.English},
		RequestParameterSupported:         false,
		RequestURIParameterSupported:      false,
		BackChannelLogoutSupported:        true,
		BackChannelLogoutSessionSupported: true,
	}
}

func (d *Door) discovery(w http.ResponseWriter, r *http.Request) {
	public(w)
	json.NewEncoder(w).Encode(d.Discovery())
}

// jwks publishes every key that is not retired. A failure is answered as
// an error, never as an empty set, and without the cache headers: a
// relying party that cached an empty set would refuse every token until
// its copy expired.
func (d *Door) jwks(w http.ResponseWriter, r *http.Request) {
	set, err := d.Keys.Published(r.Context())
	if err != nil {
		httpcore.Fail(w, r, err)
		return
	}
	public(w)
	w.Header().Set("Content-Type", "application/jwk-set+json")
	json.NewEncoder(w).Encode(set)
}
