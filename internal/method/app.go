package method

import (
	"context"
	"errors"

	"gatehouse/internal/account"
	"gatehouse/internal/limit"
	"gatehouse/internal/totp"
)

// AppStore lists an account's apps (totp.Store).
type AppStore interface {
	Apps(ctx context.Context, accountID string) ([]*totp.App, error)
}

// AppCodes checks an app's code and uses its time step up (totp.Service).
type AppCodes interface {
	Verify(ctx context.Context, accountID, code string) (*totp.App, error)
}

// AppMethod is an authenticator app's six-digit code (TOTP, RFC 6238).
type AppMethod struct {
	Store AppStore
	Codes AppCodes
}

// About implements Method: a one-time password the holder's app makes
// ("otp"); a site that asks for it can relay it, so not phishing-resistant.
func (AppMethod) About() About {
	return About{Kind: App, AMR: "otp", Factor: true, Input: Digits, Secret: limit.AppCode, InTx: true}
}

// Offer implements Method: Ready once an app is confirmed.
func (m AppMethod) Offer(ctx context.Context, a *account.Account) (Offer, error) {
	apps, err := m.Store.Apps(ctx, a.ID)
	if err != nil {
		return Off, err
	}
	for _, app := range apps {
		if app.Confirmed() {
			return Ready, nil
		}
	}
	return Off, nil
}

// Destination implements Method: nothing is sent.
func (AppMethod) Destination(*account.Account) string { return "" }

// Check implements Method: the code's time step is used up by a
// conditional update, so a code passes once on any node (a replayed one is
// wrong: ASVS v5.0.0-6.5.1).
func (m AppMethod) Check(ctx context.Context, ans *Answer) error {
	_, err := m.Codes.Verify(ctx, ans.AccountID, ans.Code)
	if errors.Is(err, totp.ErrNoMatch) || errors.Is(err, totp.ErrReplayed) {
		return errors.Join(ErrWrong, err)
	}
	return err
}
