package oidc

import (
	"context"
	"errors"
	"sort"
	"strings"
	"time"
)

// Lifetimes of what the authorization code flow hands out.
const (
	// AuthRequestLifetime is how long a browser has to sign in after an
	// application sent it: long enough for a code by email.
	AuthRequestLifetime = 30 * time.Minute
	// CodeLifetime is how long an authorization code may be exchanged
	// (RFC 6749 §4.1.2 recommends at most ten minutes).
	CodeLifetime = time.Minute
	// ReplayWindow is how long an exchanged request is kept, so that a
	// replayed code is recognised and revokes what it bought.
	ReplayWindow = 10 * time.Minute
	// AccessTokenLifetime is short: access tokens are bearer tokens.
	AccessTokenLifetime = 15 * time.Minute
	// IDTokenLifetime is the ID token's exp.
	IDTokenLifetime = 5 * time.Minute
	// RefreshIdle ends a refresh token unused this long; RefreshAbsolute
	// ends its whole family, however often it was rotated.
	RefreshIdle     = 14 * 24 * time.Hour
	RefreshAbsolute = 30 * 24 * time.Hour
)

// Why a family of refresh tokens (and the access tokens it bought) was
// revoked, kept with it for support.
const (
	ReasonReuse         = "reuse"          // a rotated refresh token was used again
	ReasonCodeReplay    = "code_replay"    // the code that started it was exchanged twice
	ReasonSessionsEnded = "sessions_ended" // every session ended: sign out everywhere, "this wasn't me", a reset, disabling
	ReasonDisconnect    = "disconnect"     // the holder disconnected the application
	ReasonNotMe         = "not_me"         // "this wasn't me"
	ReasonDisabled      = "disabled"       // the account was disabled
	ReasonRevoked       = "revoked"        // the application revoked it (RFC 7009)
)

// Errors of the flow's store.
var (
	// ErrNotFound: no such request, token or grant (or it expired).
	ErrNotFound = errors.New("oidc: not found")
	// ErrUsed: the code was exchanged already, or the refresh token was
	// rotated already — by a concurrent request or a replay.
	ErrUsed = errors.New("oidc: already used")
)

// Request is an authorization request while its browser signs in.
type Request struct {
	ID       string
	ClientID string
	// DeviceID is the browser that brought it; only that browser may
	// finish it.
	DeviceID  string
	Params    Params
	CreatedAt time.Time
	ExpiresAt time.Time
	// Set when the sign-in is done.
	AccountID string
	Result    Result
	DoneAt    time.Time
	DeniedAt  time.Time
	// ExchangedAt is set when its code was exchanged.
	ExchangedAt time.Time
}

// Params are the application's parameters, as op parsed and validated
// them.
type Params struct {
	RedirectURI         string   `json:"redirect_uri"`
	Scopes              []string `json:"scopes"`
	State               string   `json:"state,omitempty"`
	Nonce               string   `json:"nonce,omitempty"`
	ResponseType        string   `json:"response_type"`
	ResponseMode        string   `json:"response_mode,omitempty"`
	Prompt              []string `json:"prompt,omitempty"`
	MaxAge              *uint    `json:"max_age,omitempty"`
	ACRValues           []string `json:"acr_values,omitempty"`
	LoginHint           string   `json:"login_hint,omitempty"`
	UILocales           []string `json:"ui_locales,omitempty"`
	HintSubject         string   `json:"hint_subject,omitempty"`
	CodeChallenge       string   `json:"code_challenge,omitempty"`
	CodeChallengeMethod string   `json:"code_challenge_method,omitempty"`
}

// Has reports whether the request asked for prompt value v.
func (p Params) Has(prompt string) bool {
	for _, x := range p.Prompt {
		if x == prompt {
			return true
		}
	}
	return false
}

// Result is what a finished sign-in proved, for the tokens.
type Result struct {
	SessionID string    `json:"session_id"`
	SID       string    `json:"sid"`
	AuthTime  time.Time `json:"auth_time"`
	AMR       []string  `json:"amr"`
	ACR       string    `json:"acr,omitempty"`
}

// AccessToken is one opaque access token: the bearer holds its sealed id.
type AccessToken struct {
	ID            string
	ClientID      string
	AccountID     string
	AuthRequestID string
	FamilyID      string
	Scopes        []string
	CreatedAt     time.Time
	ExpiresAt     time.Time
	RevokedAt     time.Time
}

// Family is a chain of refresh tokens, each rotated into the next, and
// what the sign-in that started it proved.
type Family struct {
	ID           string
	ClientID     string
	AccountID    string
	SessionID    string
	Scopes       []string
	AMR          []string
	ACR          string
	AuthTime     time.Time
	CreatedAt    time.Time
	ExpiresAt    time.Time
	LastUsedAt   time.Time
	LastDeviceID string
	RevokedAt    time.Time
	RevokeReason string
}

// RefreshToken is one refresh token, kept as its hash.
type RefreshToken struct {
	Hash      []byte
	FamilyID  string
	CreatedAt time.Time
	ExpiresAt time.Time
	RotatedAt time.Time
}

// Grant is the holder's yes to an application.
type Grant struct {
	AccountID    string
	ClientID     string
	Scopes       []string
	CreatedAt    time.Time
	LastUsedAt   time.Time
	LastDeviceID string
	RevokedAt    time.Time
}

// Covers reports whether the grant allows every scope of want.
func (g *Grant) Covers(want []string) bool {
	for _, s := range want {
		found := false
		for _, h := range g.Scopes {
			if h == s {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// App is one application connected to an account, as /account/apps shows
// it: its live grant and families, merged.
type App struct {
	ClientID     string
	Name         string
	Scopes       []string
	FirstUsedAt  time.Time
	LastUsedAt   time.Time
	LastDeviceID string
}

// AppSession is one sign-in of a Gatehouse session to an application.
type AppSession struct {
	SID, ClientID string
}

// Issue is what one token response stores, in one transaction.
type Issue struct {
	// Code is the request whose code is exchanged: set only if its
	// exchanged_at is still empty (ErrUsed otherwise).
	Code string
	// Family, when set, is a new family started by this response, with
	// its first refresh token.
	Family  *Family
	Refresh *RefreshToken
	Access  *AccessToken
	At      time.Time
	// DeviceID is the browser the sign-in came from, for the grant's last
	// use.
	DeviceID string
}

// FlowStore keeps the flow's requests, tokens and grants; implemented by
// internal/sqlite and internal/postgres.
type FlowStore interface {
	CreateAuthRequest(ctx context.Context, r *Request) error
	// AuthRequest returns a request that has not expired at now, or
	// ErrNotFound.
	AuthRequest(ctx context.Context, id string, now time.Time) (*Request, error)
	// CompleteAuthRequest marks a request done for an account, once.
	CompleteAuthRequest(ctx context.Context, id, accountID string, res Result, at time.Time) error
	// DenyAuthRequest records that the holder refused consent.
	DenyAuthRequest(ctx context.Context, id string, at time.Time) error
	// SaveAuthCode keeps the hash of a done request's code.
	SaveAuthCode(ctx context.Context, id string, codeHash []byte, expires time.Time) error
	// AuthRequestByCode returns the request of a code, exchanged or not
	// (the caller recognises a replay), or ErrNotFound once the code's
	// replay window has passed.
	AuthRequestByCode(ctx context.Context, codeHash []byte, now time.Time) (*Request, error)
	// IssueTokens stores one token response (see Issue).
	IssueTokens(ctx context.Context, is Issue) error
	// RevokeRequestTokens revokes what a request's code bought: its
	// access tokens, and the family it started.
	RevokeRequestTokens(ctx context.Context, requestID, reason string, at time.Time) error
	// RefreshToken returns a refresh token and its family, or
	// ErrNotFound.
	RefreshToken(ctx context.Context, hash []byte) (*RefreshToken, *Family, error)
	// RotateRefreshToken marks old rotated and stores its successor and
	// an access token, in one transaction; ErrUsed when old was rotated
	// already (the caller revokes the family).
	RotateRefreshToken(ctx context.Context, oldHash []byte, next *RefreshToken, access *AccessToken, deviceID string, at time.Time) error
	// RevokeFamily revokes a family and the access tokens it bought.
	RevokeFamily(ctx context.Context, familyID, reason string, at time.Time) error
	// AccessToken returns an access token, revoked or not, or ErrNotFound.
	AccessToken(ctx context.Context, id string) (*AccessToken, error)
	RevokeAccessToken(ctx context.Context, id string, at time.Time) error
	// Grant returns the live grant of an account to a client, or
	// ErrNotFound.
	Grant(ctx context.Context, accountID, clientID string) (*Grant, error)
	// SaveGrant writes a grant (a new one replaces a revoked one).
	SaveGrant(ctx context.Context, g *Grant) error
	// ConnectedApps lists the live clients holding a live grant or a live
	// family of the account, most recently used first.
	ConnectedApps(ctx context.Context, accountID string, now time.Time) ([]*App, error)
	// Disconnect revokes an account's grant to a client, its families and
	// access tokens, and marks its application sessions logged out; it
	// returns their sids (for back-channel logout).
	Disconnect(ctx context.Context, accountID, clientID, reason string, at time.Time) ([]string, error)
	// RevokeAccountTokens revokes every family and access token of the
	// account (grants stay: the holder did not disconnect anything).
	RevokeAccountTokens(ctx context.Context, accountID, reason string, at time.Time) error
	// EndAppSessions marks logged out, at at, the application sign-ins of
	// the account's sessions that were revoked, and returns them (for
	// back-channel logout).
	EndAppSessions(ctx context.Context, accountID string, at time.Time) ([]AppSession, error)
	// AppSession returns the sid of a Gatehouse session's sign-in to a
	// client, making one (sid) if there is none.
	AppSession(ctx context.Context, sessionID, clientID, accountID, sid string, at time.Time) (string, error)
}

// Scopes is the stored form of a scope list.
func Scopes(list []string) string { return strings.Join(list, " ") }

// ParseScopes reads the stored form.
func ParseScopes(s string) []string { return strings.Fields(s) }

// SortApps orders connected applications most recently used first, by
// name among equals.
func SortApps(apps []*App) {
	sort.SliceStable(apps, func(i, j int) bool {
		if !apps[i].LastUsedAt.Equal(apps[j].LastUsedAt) {
			return apps[i].LastUsedAt.After(apps[j].LastUsedAt)
		}
		return apps[i].Name < apps[j].Name
	})
}
