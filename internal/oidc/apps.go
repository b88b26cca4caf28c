package oidc

import (
	"context"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"

	"gatehouse/internal/crypt"
)

// ErrNotYours is returned for a request another browser brought, or one
// that is over: only the browser an application sent may answer it.
var ErrNotYours = errors.New("oidc: not this browser's request")

// Apps is what the holder's pages ask about applications: consent to one,
// the connected ones, and disconnecting.
type Apps struct {
	Store   FlowStore
	Clients ClientStore
	Now     func() time.Time
	// Box opens the sign-out page's sealed target (OpenLogout).
	Box *crypt.Box
	// Logout tells an application that one of its sign-ins ended
	// (back-channel logout: a logout token posted to the client's
	// back-channel logout URI, through the deliveries outbox, in the
	// caller's transaction). Nil: applications are not told.
	Logout func(ctx context.Context, accountID string, client *Client, sid string) error
}

// Consent is what the consent page shows for a waiting request.
type Consent struct {
	Request *Request
	Client  *Client
}

// ConsentFor returns a request waiting for the holder's consent, brought
// by this browser.
func (a *Apps) ConsentFor(ctx context.Context, id, deviceID string) (*Consent, error) {
	r, err := a.Store.AuthRequest(ctx, id, a.Now())
	if errors.Is(err, ErrNotFound) || err == nil && (r.DeviceID != deviceID || !r.DoneAt.IsZero() || !r.DeniedAt.IsZero()) {
		return nil, ErrNotYours
	}
	if err != nil {
		return nil, err
	}
	c, err := a.Clients.ClientByID(ctx, r.ClientID)
	if errors.Is(err, ErrClientNotFound) {
		return nil, ErrNotYours
	}
	if err != nil {
		return nil, err
	}
	return &Consent{Request: r, Client: c}, nil
}

// Answer records the holder's answer to a consent request: a grant of
// the request's scopes, or the refusal the application is told of.
func (a *Apps) Answer(ctx context.Context, c *Consent, accountID, deviceID string, allow bool) error {
	now := a.Now()
	if !allow {
		return a.Store.DenyAuthRequest(ctx, c.Request.ID, now)
	}
	return a.Store.SaveGrant(ctx, &Grant{AccountID: accountID, ClientID: c.Client.ID, Scopes: c.Request.Params.Scopes,
		CreatedAt: now, LastUsedAt: now, LastDeviceID: deviceID})
}

// Connected lists the applications connected to the account.
func (a *Apps) Connected(ctx context.Context, accountID string) ([]*App, error) {
	return a.Store.ConnectedApps(ctx, accountID, a.Now())
}

// Disconnect ends an application's access to the account: its grant, its
// refresh and access tokens, and its sign-ins (told by back-channel
// logout). reason is kept with the revoked tokens.
func (a *Apps) Disconnect(ctx context.Context, accountID, clientID, reason string) error {
	c, err := a.Clients.ClientByID(ctx, clientID)
	if err != nil {
		return err
	}
	sids, err := a.Store.Disconnect(ctx, accountID, clientID, reason, a.Now())
	if err != nil {
		return err
	}
	for _, sid := range sids {
		if err := a.logout(ctx, accountID, c, sid); err != nil {
			return err
		}
	}
	return nil
}

func (a *Apps) logout(ctx context.Context, accountID string, c *Client, sid string) error {
	if a.Logout == nil || c.BackchannelLogoutURI == "" {
		return nil
	}
	return a.Logout(ctx, accountID, c, sid)
}

// SessionsEnded tells every application a revoked session of the account
// signed in to that the sign-in ended (back-channel logout), once.
func (a *Apps) SessionsEnded(ctx context.Context, accountID string) error {
	ended, err := a.Store.EndAppSessions(ctx, accountID, a.Now())
	if err != nil {
		return err
	}
	for _, e := range ended {
		c, err := a.Clients.ClientByID(ctx, e.ClientID)
		if errors.Is(err, ErrClientNotFound) {
			continue // removed: nobody to tell
		}
		if err != nil {
			return err
		}
		if err := a.logout(ctx, accountID, c, e.SID); err != nil {
			return err
		}
	}
	return nil
}

// RevokeAll revokes every refresh and access token of the account: signing
// out everywhere, and a "this wasn't me" that says the password is known,
// must reach the applications too. Grants stay: the holder did not
// disconnect anything, and signs in to them again as before.
func (a *Apps) RevokeAll(ctx context.Context, accountID, reason string) error {
	return a.Store.RevokeAccountTokens(ctx, accountID, reason, a.Now())
}

// logoutAD binds a sealed logout target to its use.
var logoutAD = []byte("gatehouse/oidc/logout\x00")

// LogoutLifetime is how long the sign-out question an application's
// logout leads to may be answered.
const LogoutLifetime = 30 * time.Minute

// SealLogout seals where an application's logout returns to (already
// validated against the client's registered URIs by op), with the time it
// stops being accepted: the sign-out page carries it, and cannot be made to
// send a browser anywhere else.
func SealLogout(box *crypt.Box, now time.Time, target string) string {
	msg := strconv.FormatInt(now.Add(LogoutLifetime).Unix(), 10) + "|" + target
	return base64.RawURLEncoding.EncodeToString(box.Seal([]byte(msg), logoutAD))
}

// OpenLogout opens what SealLogout sealed, while it is valid.
func OpenLogout(box *crypt.Box, now time.Time, sealed string) (string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil {
		return "", false
	}
	p, err := box.Open(b, logoutAD)
	if err != nil {
		return "", false
	}
	until, target, ok := strings.Cut(string(p), "|")
	n, err := strconv.ParseInt(until, 10, 64)
	if !ok || err != nil || now.Unix() > n {
		return "", false
	}
	return target, true
}

// LogoutTarget opens the sign-out page's sealed target.
func (a *Apps) LogoutTarget(sealed string) (string, bool) { return OpenLogout(a.Box, a.Now(), sealed) }
