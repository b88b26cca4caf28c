package method

import (
	"context"
	"errors"

	"gatehouse/internal/account"
	"gatehouse/internal/limit"
	"gatehouse/internal/passkey"
)

// Passkeys is what the passkey method needs of package passkey.
type Passkeys interface {
	List(ctx context.Context, accountID string) ([]*passkey.Credential, error)
	FinishLogin(ctx context.Context, accountID, ceremonyID string, response []byte) (*passkey.Credential, error)
}

// PasskeyMethod is a WebAuthn credential of the account, unlocked on the
// holder's device.
type PasskeyMethod struct{ Keys Passkeys }

// About implements Method. A passkey's answer is signed for this origin
// alone, so no look-alike site can relay it: the only phishing-resistant
// method. Its amr is "swk" (RFC 8176: proof of possession of a
// software-secured key): without attestation Gatehouse cannot tell a
// hardware key from a synced passkey, and claims the weaker.
func (PasskeyMethod) About() About {
	return About{Kind: Passkey, AMR: "swk", PhishingResistant: true, Factor: true, Input: Assertion, Secret: limit.Passkey}
}

// Offer implements Method: Ready while one passkey can pass; Blocked when
// every one is flagged as a possible copy.
func (m PasskeyMethod) Offer(ctx context.Context, a *account.Account) (Offer, error) {
	ps, err := m.Keys.List(ctx, a.ID)
	if err != nil {
		return Off, err
	}
	if len(ps) == 0 {
		return Off, nil
	}
	for _, p := range ps {
		if !p.Flagged {
			return Ready, nil
		}
	}
	return Blocked, nil
}

// Destination implements Method: nothing is sent.
func (PasskeyMethod) Destination(*account.Account) string { return "" }

// Check implements Method. The ceremony is used up, and the passkey's
// counter (or its flag, for a copy) recorded, whatever the answer: every
// refusal is a wrong answer that carries package passkey's reason.
func (m PasskeyMethod) Check(ctx context.Context, ans *Answer) error {
	if _, err := m.Keys.FinishLogin(ctx, ans.AccountID, ans.Ceremony, ans.Response); err != nil {
		return errors.Join(ErrWrong, ErrPasskey, err)
	}
	return nil
}
