// Package grant is what a successful authentication hands the browser: a
// new session and the token its cookie carries. Every flow that signs a
// holder in (password, second step, passkey, code, reset, confirmation)
// returns one, and the web layer turns it into the cookie; it is its own
// package so that none of them imports another for it.
package grant

import "time"

// Grant is a session handed to a browser: the token its cookie carries.
// The token is shown here once; the store keeps only its hash.
type Grant struct {
	SessionID string
	Token     string
	Remember  bool
	ExpiresAt time.Time
}
