// Package notice writes every message Gatehouse sends.
//
// A capability says what happened — a Notice: its purpose, the cause of its
// code, the request's origin, the code and how long it is valid, the
// channel, the holder's language and time zone — and Composer turns that
// into words and stores it in the outbox. The words live here, in one
// place, so that a code sent by the sign-up flow, by a reset, and later by a
// sign-in's second step or an alert all explain themselves the same way.
package notice

import (
	"context"
	"fmt"
	"time"

	"gatehouse/internal/i18n"
	"gatehouse/internal/outbox"
	"gatehouse/internal/request"
)

// Notice is one message to send, described by what it is about.
type Notice struct {
	Purpose request.Purpose
	// Cause is why the code was sent (the challenge's cause); notices
	// without a code leave it empty.
	Cause request.Cause
	// ChallengeID is the request the code answers.
	ChallengeID string
	AccountID   string // empty for an address with no account
	To          string
	Channel     request.Channel // Email when empty
	Language    string
	TimeZone    string // the holder's zone; "" for the language's default
	Origin      request.Origin
	Code        string
	Valid       time.Duration // how long Code is valid
	Remaining   int           // backup codes left (BackupUsed)
	// Method is the second-step method a two-step notice is about: "app",
	// "phone" or "passkey" (TwoStepOn, MethodAdded, MethodRemoved); empty
	// reads as "app".
	Method string
	// Address is the new address of an EmailChanged notice, as shown.
	Address string
	// Name is the holder's name for the passkey a PasskeyBlocked notice is
	// about.
	Name string
	// Phone is the number a notice is about, already masked to its last
	// digits (a phone method, PhoneChanged, PhoneRemoved).
	Phone string
	// Withhold records the message without ever sending it (a request for
	// an address with no account: see outbox.Withheld).
	Withhold bool
}

// Channels lists the channels each purpose may be sent on. An address to
// confirm can only be reached by email, a number being added only by SMS;
// a second step or a reset code go wherever the holder chose.
var Channels = map[request.Purpose][]request.Channel{
	request.ConfirmEmail:    {request.Email},
	request.ChangeEmail:     {request.Email},
	request.AddPhone:        {request.SMS},
	request.ResetPassword:   {request.Email, request.SMS},
	request.SecondStep:      {request.Email, request.SMS},
	request.StepUp:          {request.Email, request.SMS},
	request.CodeSignIn:      {request.Email, request.SMS},
	request.SignupExisting:  {request.Email},
	request.PasswordChanged: {request.Email},
	request.PasswordReset:   {request.Email},
	request.TwoStepOn:       {request.Email},
	request.MethodAdded:     {request.Email},
	request.BackupUsed:      {request.Email},
	request.MethodRemoved:   {request.Email},
	request.TwoStepOff:      {request.Email},
	request.BackupRenewed:   {request.Email},
	// A changed or removed number is told to the number itself too: a
	// holder whose phone was swapped by someone else hears it there.
	request.PhoneChanged:   {request.Email, request.SMS},
	request.PhoneRemoved:   {request.Email, request.SMS},
	request.EmailChanged:   {request.Email},
	request.PasskeyBlocked: {request.Email},
}

func allowed(p request.Purpose, ch request.Channel) bool {
	for _, c := range Channels[p] {
		if c == ch {
			return true
		}
	}
	return false
}

// Enqueuer stores a message for delivery (the outbox).
type Enqueuer interface {
	Enqueue(ctx context.Context, d outbox.Draft) (*outbox.Message, error)
}

// Composer writes notices and hands them to the outbox.
type Composer struct {
	Outbox      Enqueuer
	Catalog     *i18n.Catalog
	ServiceName string
}

// Send composes n in the holder's language and stores it for delivery. It
// refuses a code-bearing purpose without a code (unless withheld) and a
// code without a cause: a code must always say why it was sent.
func (c *Composer) Send(ctx context.Context, n Notice) (*outbox.Message, error) {
	d, err := c.Compose(n)
	if err != nil {
		return nil, err
	}
	return c.Outbox.Enqueue(ctx, d)
}

// Compose turns n into an outbox draft without storing it.
func (c *Composer) Compose(n Notice) (outbox.Draft, error) {
	if n.Channel == "" {
		n.Channel = request.Email
	}
	if !allowed(n.Purpose, n.Channel) {
		return outbox.Draft{}, fmt.Errorf("notice: %s is not sent by %s", n.Purpose, n.Channel)
	}
	if n.Purpose.HasCode() && !n.Withhold {
		if n.Code == "" {
			return outbox.Draft{}, fmt.Errorf("notice: %s message without a code", n.Purpose)
		}
		if n.Cause == "" {
			return outbox.Draft{}, fmt.Errorf("notice: %s code without a cause", n.Purpose)
		}
	}
	d := outbox.Draft{
		AccountID: n.AccountID, Purpose: n.Purpose, Cause: n.Cause, ChallengeID: n.ChallengeID,
		Channel: n.Channel, To: n.To, Language: n.Language, Code: n.Code, Withhold: n.Withhold,
	}
	var err error
	if n.Channel == request.SMS {
		d.Paragraphs, err = c.sms(n)
	} else {
		d.Subject, d.Paragraphs, err = c.email(n)
	}
	return d, err
}

// email writes an email's subject and paragraphs. A code follows the first
// paragraph (outbox.Draft.Code).
func (c *Composer) email(n Notice) (string, []string, error) {
	t, lang, svc := c.Catalog.T, n.Language, c.ServiceName
	switch {
	case n.Purpose.HasCode() && n.Withhold:
		// Recorded, never sent: what the request would have cost.
		return t(lang, "mail."+string(n.Purpose)+".subject", svc), []string{
			t(lang, "mail."+string(n.Purpose)+".withheld"),
			c.origin(n, "mail.origin"),
		}, nil
	case n.Purpose.HasCode():
		return t(lang, "mail."+string(n.Purpose)+".subject", svc), []string{
			t(lang, "mail."+string(n.Purpose)+".why", svc),
			t(lang, "mail.code.valid", minutes(n.Valid)),
			c.origin(n, "mail.origin"),
			c.notYou(n),
			t(lang, "mail.code.never_share", svc),
		}, nil
	case n.Purpose == request.BackupUsed:
		return t(lang, "mail.backup_used.subject", svc), []string{
			t(lang, "mail.backup_used.body", svc, n.Remaining),
			c.origin(n, "mail.origin"),
			t(lang, "mail.backup_used.not_you"),
		}, nil
	case n.Purpose == request.SignupExisting:
		return t(lang, "mail.signup_existing.subject", svc), []string{
			t(lang, "mail.signup_existing.body", svc),
			c.origin(n, "mail.origin"),
			t(lang, "mail.signup_existing.advice"),
		}, nil
	case n.Purpose == request.TwoStepOn, n.Purpose == request.MethodAdded, n.Purpose == request.MethodRemoved:
		return t(lang, "mail."+string(n.Purpose)+".subject", svc), []string{
			t(lang, "mail."+string(n.Purpose)+".body", svc, c.method(n)),
			c.origin(n, "mail.origin_done"),
			t(lang, "mail.password_notice.not_you"),
		}, nil
	case n.Purpose == request.PhoneChanged, n.Purpose == request.PhoneRemoved:
		return t(lang, "mail."+string(n.Purpose)+".subject", svc), []string{
			t(lang, "mail."+string(n.Purpose)+".body", svc, n.Phone),
			c.origin(n, "mail.origin_done"),
			t(lang, "mail.password_notice.not_you"),
		}, nil
	case n.Purpose == request.PasskeyBlocked:
		return t(lang, "mail.passkey_blocked.subject", svc), []string{
			t(lang, "mail.passkey_blocked.body", svc, n.Name),
			c.origin(n, "mail.origin"),
			t(lang, "mail.passkey_blocked.advice"),
		}, nil
	case n.Purpose == request.EmailChanged:
		return t(lang, "mail.email_changed.subject", svc), []string{
			t(lang, "mail.email_changed.body", svc, n.Address),
			c.origin(n, "mail.origin_done"),
			t(lang, "mail.email_changed.not_you"),
		}, nil
	case n.Purpose == request.PasswordChanged, n.Purpose == request.PasswordReset,
		n.Purpose == request.TwoStepOff, n.Purpose == request.BackupRenewed:
		return t(lang, "mail."+string(n.Purpose)+".subject", svc), []string{
			t(lang, "mail."+string(n.Purpose)+".body", svc),
			c.origin(n, "mail.origin_done"),
			t(lang, "mail.password_notice.not_you"),
		}, nil
	}
	return "", nil, fmt.Errorf("notice: no email for purpose %q", n.Purpose)
}

// sms writes an SMS's lines: what the code is for and why it came, in a few
// words; the outbox adds the code, the reference and the origin-bound line.
func (c *Composer) sms(n Notice) ([]string, error) {
	t, lang := c.Catalog.T, n.Language
	switch n.Purpose {
	case request.PhoneChanged, request.PhoneRemoved:
		return []string{t(lang, "sms."+string(n.Purpose), c.ServiceName, n.Phone)}, nil
	}
	if !n.Purpose.HasCode() {
		return nil, fmt.Errorf("notice: no SMS for purpose %q", n.Purpose)
	}
	return []string{
		t(lang, "sms.code", c.ServiceName, t(lang, "purpose."+string(n.Purpose))),
		t(lang, "sms.cause."+string(n.Cause)),
	}, nil
}

// notYou is the code email's "if it wasn't you" paragraph: the cause's,
// or where the purpose changes what it means, the cause's for that
// purpose (a mistyped new address of another account's holder is not a
// sign-up: no account is created either way, but one changes address).
func (c *Composer) notYou(n Notice) string {
	if k := "mail.not_you." + string(n.Cause) + "." + string(n.Purpose); c.Catalog.Has(k) {
		return c.Catalog.T(n.Language, k)
	}
	return c.Catalog.T(n.Language, "mail.not_you."+string(n.Cause))
}

// method names the second-step method a two-step notice is about.
func (c *Composer) method(n Notice) string {
	switch n.Method {
	case "phone":
		return c.Catalog.T(n.Language, "mail.method.phone", n.Phone)
	case "passkey":
		return c.Catalog.T(n.Language, "mail.method.passkey")
	}
	return c.Catalog.T(n.Language, "mail.method.app")
}

// origin describes where and when the request came from, in the reader's
// language and time zone, with the catalog line key ("mail.origin" for a
// request, "mail.origin_done" for a change that has happened).
func (c *Composer) origin(n Notice, key string) string {
	o := n.Origin
	when := c.Catalog.Time(n.Language, o.Time, c.Catalog.Zone(n.Language, n.TimeZone))
	return c.Catalog.T(n.Language, key, when, o.Browser, o.OS, o.IP)
}

func minutes(d time.Duration) int { return int(d / time.Minute) }
