package delivery

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"gatehouse/internal/random"
	"gatehouse/internal/secevent"
)

// The event type URIs of the Security Event Tokens (OpenID CAEP 1.0 and
// RISC 1.0).
const (
	CAEPSessionRevoked       = "https://schemas.openid.net/secevent/caep/event-type/session-revoked"
	CAEPCredentialChange     = "https://schemas.openid.net/secevent/caep/event-type/credential-change"
	RISCAccountDisabled      = "https://schemas.openid.net/secevent/risc/event-type/account-disabled"
	RISCCredentialCompromise = "https://schemas.openid.net/secevent/risc/event-type/credential-compromise"
)

// EventURI is the SET event type of an event.
var EventURI = map[secevent.Type]string{
	secevent.SessionRevoked:       CAEPSessionRevoked,
	secevent.CredentialChange:     CAEPCredentialChange,
	secevent.AccountDisabled:      RISCAccountDisabled,
	secevent.CredentialCompromise: RISCCredentialCompromise,
}

// credentialType is CAEP's credential_type of each credential.
var credentialType = map[string]string{
	secevent.Password: "password",
	secevent.App:      "app",
	secevent.Phone:    "phone-sms",
	secevent.Passkey:  "fido2-platform",
}

// Receiver is one configured webhook receiver.
type Receiver struct {
	// Kind is SET or WebhookJSON.
	Kind Kind
	URL  string
	// Audience is a SET receiver's aud.
	Audience string
	// Secret is a JSON receiver's HMAC key.
	Secret []byte
}

// ID names the receiver in its deliveries: its kind and a digest of its
// URL, the same on every node and across restarts.
func (r Receiver) ID() string {
	sum := sha256.Sum256([]byte(string(r.Kind) + " " + r.URL))
	return string(r.Kind) + "-" + hex.EncodeToString(sum[:6])
}

// Webhooks turns security events into deliveries to every configured
// receiver: a Security Event Token for each SET receiver and a signed
// JSON body for each JSON receiver, enqueued in the transaction of the
// event's cause. It is the capabilities' secevent.Sink.
type Webhooks struct {
	Sender    *Sender
	Receivers []Receiver
	// Issuer is the SETs' iss and the issuer of their subjects (the
	// OpenID provider's issuer).
	Issuer string
}

var _ secevent.Sink = (*Webhooks)(nil)

// Secrets is the JSON receivers' secrets by receiver id, for HMACJSON.
func (w *Webhooks) Secrets() func(string) ([]byte, bool) {
	m := map[string][]byte{}
	for _, r := range w.Receivers {
		if r.Kind == WebhookJSON {
			m[r.ID()] = r.Secret
		}
	}
	return func(id string) ([]byte, bool) {
		s, ok := m[id]
		return s, ok
	}
}

// Record implements secevent.Sink.
func (w *Webhooks) Record(ctx context.Context, e secevent.Event) error {
	if len(w.Receivers) == 0 {
		return nil
	}
	if _, ok := EventURI[e.Type]; !ok {
		return fmt.Errorf("delivery: unknown event type %q", e.Type)
	}
	if e.At.IsZero() {
		e.At = w.Sender.Clock.Now()
	}
	for _, r := range w.Receivers {
		d := &Delivery{ID: random.ID(), Kind: r.Kind, Target: r.URL, Receiver: r.ID(), AccountID: e.AccountID}
		var payload any
		switch r.Kind {
		case SET:
			payload = w.SETClaims(e, r.Audience)
		case WebhookJSON:
			payload = JSONBody(d.ID, e)
		default:
			return fmt.Errorf("delivery: receiver kind %q", r.Kind)
		}
		b, err := json.Marshal(payload)
		if err != nil {
			return err
		}
		d.Payload = b
		if err := w.Sender.Enqueue(ctx, d); err != nil {
			return err
		}
	}
	return nil
}

// SETClaims are the claims of e's Security Event Token for audience,
// without iat and jti (added at each attempt): iss, aud, the subject as
// RFC 9493 iss_sub, and the one event.
func (w *Webhooks) SETClaims(e secevent.Event, audience string) map[string]any {
	ev := map[string]any{}
	ts := e.At.Unix()
	switch e.Type {
	case secevent.SessionRevoked:
		ev["event_timestamp"] = ts
		if e.By != "" {
			ev["initiating_entity"] = e.By
		}
	case secevent.CredentialChange:
		ev["event_timestamp"] = ts
		ev["credential_type"] = credentialType[e.Credential]
		ev["change_type"] = e.Change
		if e.By != "" {
			ev["initiating_entity"] = e.By
		}
	case secevent.AccountDisabled:
		ev["event_timestamp"] = ts
	case secevent.CredentialCompromise:
		ev["event_timestamp"] = ts
		ev["credential_type"] = credentialType[e.Credential]
	}
	if e.Reason != "" {
		ev["reason_admin"] = map[string]string{"en": e.Reason}
	}
	return map[string]any{
		"iss":    w.Issuer,
		"aud":    audience,
		"sub_id": map[string]string{"format": "iss_sub", "iss": w.Issuer, "sub": e.AccountID},
		"events": map[string]any{EventURI[e.Type]: ev},
	}
}

// Body is a JSON webhook's body.
type Body struct {
	ID         string        `json:"id"`
	Type       secevent.Type `json:"type"`
	AccountID  string        `json:"account_id"`
	OccurredAt time.Time     `json:"occurred_at"`
	Data       BodyData      `json:"data"`
}

// BodyData is what a JSON webhook says beyond its type.
type BodyData struct {
	By         string `json:"initiated_by,omitempty"`
	Scope      string `json:"scope,omitempty"`
	SessionID  string `json:"session_id,omitempty"`
	Credential string `json:"credential,omitempty"`
	Change     string `json:"change,omitempty"`
	Reason     string `json:"reason,omitempty"`
}

// JSONBody is e's JSON webhook body, with id.
func JSONBody(id string, e secevent.Event) Body {
	return Body{ID: id, Type: e.Type, AccountID: e.AccountID, OccurredAt: e.At.UTC().Truncate(time.Second), Data: BodyData{
		By: e.By, Scope: e.Scope, SessionID: e.SessionID, Credential: e.Credential, Change: e.Change, Reason: e.Reason,
	}}
}
