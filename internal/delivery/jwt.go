package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"gatehouse/internal/oidc"
)

// Keys gives the key that signs now (oidc.Keys).
type Keys interface {
	Signing(ctx context.Context) (*oidc.Signer, error)
}

// SignedJWT is the Encoder of signed tokens: the delivery's payload is
// the token's claims, to which each attempt adds iat (now) and, unless
// the claims have them, jti (the delivery's id) and exp (now + TTL, when
// TTL is set). It is signed RS256 with the provider's current key, its
// kid and typ in the header.
//
// A Security Event Token (RFC 8417, pushed per RFC 8935) is
// SignedJWT{Keys: k, Typ: "secevent+jwt", ContentType:
// "application/secevent+jwt"}; a back-channel logout token is
// SignedJWT{Keys: k, Typ: "logout+jwt", FormField: "logout_token"}.
type SignedJWT struct {
	Keys Keys
	// Typ is the JOSE header's typ.
	Typ string
	// ContentType is the body's type when the token is the body.
	ContentType string
	// FormField, when set, posts the token as this field of an
	// application/x-www-form-urlencoded body instead.
	FormField string
	// TTL, when set, gives the token an exp.
	TTL time.Duration
}

// Encode implements Encoder.
func (j SignedJWT) Encode(ctx context.Context, d *Delivery, now time.Time) (*Request, error) {
	var claims map[string]any
	if err := json.Unmarshal(d.Payload, &claims); err != nil || claims == nil {
		return nil, Permanent(errors.New("the claims are not a JSON object"))
	}
	claims["iat"] = now.Unix()
	if _, ok := claims["jti"]; !ok {
		claims["jti"] = d.ID
	}
	if _, ok := claims["exp"]; !ok && j.TTL > 0 {
		claims["exp"] = now.Add(j.TTL).Unix()
	}
	token, err := j.Sign(ctx, claims)
	if err != nil {
		return nil, err
	}
	if j.FormField != "" {
		return &Request{ContentType: "application/x-www-form-urlencoded", Body: []byte(url.Values{j.FormField: {token}}.Encode())}, nil
	}
	return &Request{ContentType: j.ContentType, Body: []byte(token)}, nil
}

// Sign signs claims with the key that signs now, in compact form.
func (j SignedJWT) Sign(ctx context.Context, claims any) (string, error) {
	key, err := j.Keys.Signing(ctx)
	if err != nil {
		return "", fmt.Errorf("signing key: %w", err)
	}
	opts := (&jose.SignerOptions{}).WithType(jose.ContentType(j.Typ)).WithHeader(jose.HeaderKey("kid"), key.KID)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key.Key}, opts)
	if err != nil {
		return "", fmt.Errorf("signer: %w", err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("claims: %w", err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("sign: %w", err)
	}
	return jws.CompactSerialize()
}
