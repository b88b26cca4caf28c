package method

import (
	"context"

	"gatehouse/internal/account"
	"gatehouse/internal/code"
	"gatehouse/internal/limit"
	"gatehouse/internal/request"
)

// Codes is what a method that sends codes needs of package code: the
// check of a typed code against the attempt's request, which counts a
// wrong one and locks the request after too many.
type Codes interface {
	Check(ctx context.Context, id string, p request.Purpose, c string, by request.Origin) (*code.Challenge, error)
}

// check checks a sent code and leaves the request as the check did.
func check(ctx context.Context, codes Codes, ans *Answer) error {
	ch, err := codes.Check(ctx, ans.Challenge.ID, request.SecondStep, ans.Code, ans.Origin)
	if ch != nil {
		ans.Challenge = ch
	}
	return err
}

// SMSMethod is a code sent by SMS to the account's confirmed number.
type SMSMethod struct{ Codes Codes }

// About implements Method: RFC 8176 names it ("sms"). A restricted
// authenticator (NIST SP 800-63B-4 §3.1.3.3) but a second factor.
func (SMSMethod) About() About {
	return About{Kind: SMS, AMR: "sms", Factor: true, Channel: request.SMS, Input: Digits, Secret: limit.SMSCode}
}

// Offer implements Method: Ready once a number is confirmed.
func (SMSMethod) Offer(_ context.Context, a *account.Account) (Offer, error) {
	if a.Phone == "" || a.PhoneConfirmedAt.IsZero() {
		return Off, nil
	}
	return Ready, nil
}

// Destination implements Method: the account's number.
func (SMSMethod) Destination(a *account.Account) string { return a.Phone }

// Check implements Method.
func (m SMSMethod) Check(ctx context.Context, ans *Answer) error { return check(ctx, m.Codes, ans) }

// EmailMethod is a code sent to the account's address: the new-device
// check, the step after a password reported known, and — when the
// operator allows it — the last "other way" of a two-step sign-in.
type EmailMethod struct{ Codes Codes }

// About implements Method. RFC 8176 has no value for email; the code is a
// one-time password sent out of band ("otp"). It is no second factor
// (NIST SP 800-63B-4 §3.1.3: whoever reads the mailbox has it).
func (EmailMethod) About() About {
	return About{Kind: Email, AMR: "otp", Channel: request.Email, Input: Digits, Secret: limit.EmailCode}
}

// Offer implements Method: an address never turns two-step verification
// on; sign-in asks for its code by its own rules.
func (EmailMethod) Offer(context.Context, *account.Account) (Offer, error) { return Off, nil }

// Destination implements Method: the account's address.
func (EmailMethod) Destination(a *account.Account) string { return a.Email }

// Check implements Method.
func (m EmailMethod) Check(ctx context.Context, ans *Answer) error { return check(ctx, m.Codes, ans) }
