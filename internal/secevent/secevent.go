// Package secevent is the vocabulary of security events: what happened to
// an account that the applications relying on it should hear of — a
// session revoked, a credential changed, the account disabled, a
// credential known to someone else.
//
// The capabilities record an event where it happens, inside the
// transaction of what caused it, through a Sink; package delivery turns
// each into Security Event Tokens and JSON webhooks for the configured
// receivers. A capability with no Sink records nothing.
package secevent

import (
	"context"
	"time"
)

// Type is what happened.
type Type string

// The event types (CAEP and RISC names in package delivery).
const (
	// SessionRevoked: one session, the sessions of a device, or every
	// session of the account ended (CAEP session-revoked).
	SessionRevoked Type = "session_revoked"
	// CredentialChange: a password or a second-step method was set,
	// added or removed (CAEP credential-change).
	CredentialChange Type = "credential_change"
	// AccountDisabled: the operator disabled the account (RISC
	// account-disabled).
	AccountDisabled Type = "account_disabled"
	// CredentialCompromise: the holder said "this wasn't me" about a
	// request made with their password (RISC credential-compromise).
	CredentialCompromise Type = "credential_compromise"
)

// Who started what happened (CAEP initiating_entity).
const (
	ByUser   = "user"
	ByAdmin  = "admin"
	ByPolicy = "policy"
)

// Credentials a CredentialChange or CredentialCompromise names.
const (
	Password = "password"
	App      = "app"     // an authenticator app (TOTP)
	Phone    = "phone"   // codes by SMS to the account's number
	Passkey  = "passkey" // a WebAuthn credential
)

// Changes a CredentialChange names (CAEP change_type).
const (
	Create = "create"
	Update = "update"
	Delete = "delete"
)

// Event is one security event of one account.
type Event struct {
	Type      Type
	AccountID string
	At        time.Time
	// By is who started it (ByUser, ByAdmin, ByPolicy); "" when unknown.
	By string
	// Scope says which sessions a SessionRevoked ended: "all", "others",
	// "device" or "session".
	Scope string
	// SessionID is the one session a SessionRevoked ended, when one.
	SessionID string
	// Credential and Change describe a CredentialChange (Change is "" for
	// a CredentialCompromise).
	Credential string
	Change     string
	// Reason is a short operator-readable reason, in English ("" none).
	Reason string
}

// Sink records events. Record runs inside the transaction of what caused
// the event (the context carries it): an error fails that transaction, so
// an event is recorded exactly when its cause is.
type Sink interface {
	Record(ctx context.Context, e Event) error
}

type byKey struct{}

// WithBy returns a context in which events are recorded as started by by
// (an operator's command or API call says ByAdmin), unless the event says
// otherwise.
func WithBy(ctx context.Context, by string) context.Context {
	return context.WithValue(ctx, byKey{}, by)
}

// By returns who ctx says starts what happens in it: ByUser unless WithBy
// said otherwise.
func By(ctx context.Context) string {
	if by, ok := ctx.Value(byKey{}).(string); ok {
		return by
	}
	return ByUser
}

// Record records e in sink, filling in who started it from ctx when e does
// not say; a nil sink records nothing.
func Record(ctx context.Context, sink Sink, e Event) error {
	if sink == nil {
		return nil
	}
	if e.By == "" {
		e.By = By(ctx)
	}
	return sink.Record(ctx, e)
}
