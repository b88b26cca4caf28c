package oidc

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"gatehouse/internal/clock"
	"gatehouse/internal/random"
)

// Client is an application registered to sign its users in through
// Gatehouse (gatehouse client add).
type Client struct {
	ID   string
	Name string
	// SecretHash is the HMAC of the client's secret (hashSecret); nil for a
	// public client (a browser or native app, which cannot keep a secret
	// and proves itself with PKCE instead).
	SecretHash []byte
	// FirstParty clients are the installation's own applications: their
	// users are never asked for consent.
	FirstParty bool
	// RedirectURIs are where codes may be sent, matched exactly.
	RedirectURIs []string
	// PostLogoutRedirectURIs are where RP-initiated logout may return.
	PostLogoutRedirectURIs []string
	// BackchannelLogoutURI receives logout tokens; empty: none.
	BackchannelLogoutURI string
	CreatedAt            time.Time
}

// Public reports whether the client has no secret.
func (c *Client) Public() bool { return c.SecretHash == nil }

// ErrClientNotFound is returned for a client id that names no registered
// client, or a removed one.
var ErrClientNotFound = errors.New("oidc: no such client")

// ClientStore keeps the clients; implemented by internal/sqlite and
// internal/postgres.
type ClientStore interface {
	AddClient(ctx context.Context, c *Client) error
	// ClientByID returns a live client, or ErrClientNotFound.
	ClientByID(ctx context.Context, id string) (*Client, error)
	// Clients returns the live clients, oldest first.
	Clients(ctx context.Context) ([]*Client, error)
	// RemoveClient marks a live client removed at at, or returns
	// ErrClientNotFound. The row stays, so that what it did can still be
	// named; every endpoint refuses it.
	RemoveClient(ctx context.Context, id string, at time.Time) error
}

// Clients registers and authenticates clients.
type Clients struct {
	Store ClientStore
	// Key is the installation's HMAC key (secrets.HMACKey): secrets are
	// 256 random bits, so a keyed hash is as safe as argon2 for them, and
	// the token endpoint never waits for the hashing pool.
	Key   []byte
	Clock clock.Clock
}

// NewClient is what gatehouse client add asks for.
type NewClient struct {
	Name                   string
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	BackchannelLogoutURI   string
	Public, FirstParty     bool
}

// hashSecret keys the hash with the client id too: a hash copied onto
// another client's row does not accept the secret.
func (s *Clients) hashSecret(clientID, secret string) []byte {
	m := hmac.New(sha256.New, s.Key)
	m.Write([]byte("oidc-client-secret\x00" + clientID + "\x00" + secret))
	return m.Sum(nil)
}

// Add validates and registers a client. It returns the client and, for a
// confidential client, its secret: shown this once, and kept only hashed.
func (s *Clients) Add(ctx context.Context, n NewClient) (*Client, string, error) {
	name := strings.TrimSpace(n.Name)
	if name == "" {
		return nil, "", errors.New("oidc: a client needs a name (--name): the holder sees it on the consent and connected-applications pages")
	}
	if len(n.RedirectURIs) == 0 {
		return nil, "", errors.New("oidc: a client needs at least one redirect URI (--redirect-uri)")
	}
	c := &Client{ID: random.ID(), Name: name, FirstParty: n.FirstParty, CreatedAt: s.Clock.Now().Truncate(time.Second)}
	for _, u := range n.RedirectURIs {
		if err := ValidateRedirectURI(u, n.Public); err != nil {
			return nil, "", err
		}
		c.RedirectURIs = appendNew(c.RedirectURIs, u)
	}
	for _, u := range n.PostLogoutRedirectURIs {
		if err := ValidateRedirectURI(u, n.Public); err != nil {
			return nil, "", err
		}
		c.PostLogoutRedirectURIs = appendNew(c.PostLogoutRedirectURIs, u)
	}
	if n.BackchannelLogoutURI != "" {
		// Gatehouse's own server posts to it: never a custom scheme.
		if err := ValidateRedirectURI(n.BackchannelLogoutURI, false); err != nil {
			return nil, "", fmt.Errorf("back-channel logout URI: %w", err)
		}
		c.BackchannelLogoutURI = n.BackchannelLogoutURI
	}
	secret := ""
	if !n.Public {
		secret = random.Token()
		c.SecretHash = s.hashSecret(c.ID, secret)
	}
	if err := s.Store.AddClient(ctx, c); err != nil {
		return nil, "", fmt.Errorf("oidc: add client: %w", err)
	}
	return c, secret, nil
}

func appendNew(list []string, v string) []string {
	for _, x := range list {
		if x == v {
			return list
		}
	}
	return append(list, v)
}

// List returns the live clients, oldest first.
func (s *Clients) List(ctx context.Context) ([]*Client, error) { return s.Store.Clients(ctx) }

// Remove removes a client: every endpoint refuses it from then on.
func (s *Clients) Remove(ctx context.Context, id string) error {
	return s.Store.RemoveClient(ctx, id, s.Clock.Now())
}

// Authenticate returns the live client with the id if secret is its
// secret. A public client has none to give and is refused here: it
// authenticates with PKCE, at the token endpoint.
func (s *Clients) Authenticate(ctx context.Context, id, secret string) (*Client, error) {
	c, err := s.Store.ClientByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if c.Public() || !hmac.Equal(c.SecretHash, s.hashSecret(c.ID, secret)) {
		return nil, ErrWrongSecret
	}
	return c, nil
}

// ErrWrongSecret is returned for a client secret that does not match.
var ErrWrongSecret = errors.New("oidc: wrong client secret")

// ValidateRedirectURI checks a URI a client registers: absolute, without
// a fragment (OAuth 2.0 §3.1.2) or credentials, and either https, or http
// on a loopback address (a developer's machine; RFC 8252 §7.3 for native
// apps), or — for public clients only — a native app's private-use scheme
// in reverse-domain form (RFC 8252 §7.1, "com.example.app:/callback").
func ValidateRedirectURI(raw string, public bool) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return fmt.Errorf("redirect URI %q: %w", raw, err)
	case !u.IsAbs():
		return fmt.Errorf("redirect URI %q is not absolute", raw)
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return fmt.Errorf("redirect URI %q has a fragment, which OAuth forbids", raw)
	case u.User != nil:
		return fmt.Errorf("redirect URI %q carries credentials", raw)
	}
	switch scheme := strings.ToLower(u.Scheme); scheme {
	case "https":
		if u.Host == "" {
			return fmt.Errorf("redirect URI %q has no host", raw)
		}
		return nil
	case "http":
		if !Loopback(u.Hostname()) {
			return fmt.Errorf("redirect URI %q: http is allowed only on localhost or a loopback address; use https", raw)
		}
		return nil
	case "javascript", "data", "file", "vbscript", "blob", "about", "ftp", "ws", "wss":
		return fmt.Errorf("redirect URI %q: scheme %s cannot receive a code", raw, scheme)
	default:
		if !public {
			return fmt.Errorf("redirect URI %q: a confidential client needs https (or http on loopback); custom schemes are for public native apps (--public)", raw)
		}
		if !strings.Contains(scheme, ".") {
			return fmt.Errorf("redirect URI %q: a native app's scheme must be a reverse domain name it owns, such as com.example.app (RFC 8252 §7.1)", raw)
		}
		return nil
	}
}

// Loopback reports whether host is localhost or a loopback address.
func Loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// BrowserOrigin reports whether origin (an Origin header:
// scheme://host[:port]) is where a public client's pages run: the origin
// of one of its http(s) redirect URIs. A browser app (a single-page
// application) calls the token, revocation and userinfo endpoints from
// there with fetch, and the browser lets it read the answer only if that
// answer names its origin (CORS). A confidential client's server needs no
// CORS, and its pages must not be able to spend its tokens in a browser.
func (s *Clients) BrowserOrigin(ctx context.Context, origin string) (bool, error) {
	if origin == "" || origin == "null" {
		return false, nil
	}
	clients, err := s.Store.Clients(ctx)
	if err != nil {
		return false, fmt.Errorf("oidc: browser origin: %w", err)
	}
	for _, c := range clients {
		if !c.Public() {
			continue
		}
		for _, u := range c.RedirectURIs {
			if o, ok := originOf(u); ok && o == origin {
				return true, nil
			}
		}
	}
	return false, nil
}

// originOf is the origin of an http(s) URL as a browser's Origin header
// writes it: lower-case scheme and host, the port only when not the
// scheme's default.
func originOf(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", false
	}
	host := strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if p := u.Port(); p != "" && !(u.Scheme == "http" && p == "80") && !(u.Scheme == "https" && p == "443") {
		host += ":" + p
	}
	return strings.ToLower(u.Scheme) + "://" + host, true
}
