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
	"strings"
	"time"
	"unicode/utf8"

	"gatehouse/internal/geo"
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
	// Secret and Failures describe a GuessCeiling notice: the kind of
	// secret guessed at (limit.Secret) and how many wrong guesses in a row.
	Secret   string
	Failures int
	// Phone is the number a notice is about, already masked to its last
	// digits (a phone method, PhoneChanged, PhoneRemoved).
	Phone string
	// Wait is the waiting period a reset of two-step verification
	// started (TwoStepReset): no new method from a new device until then.
	Wait time.Duration
	// Withhold records the message without ever sending it (a request for
	// an address with no account: see outbox.Withheld).
	Withhold bool
	// LastUsed is when the device last signed in to the account, for a
	// code whose cause is "an old device of yours".
	LastUsed time.Time
	// App is the name of the connected application that asked for the
	// code (cause connected_app).
	App string
	// Reference, About and Actions describe a NotMeDone notice: the
	// message the holder answered, its cause, and what was done
	// (activity.Action names).
	Reference string
	About     request.Cause
	Actions   []string
}

// Channels lists the channels each purpose may be sent on. An address to
// confirm can only be reached by email, a number being added only by SMS;
// a second step or a reset code go wherever the holder chose.
//
// Every security notice (request.SecurityNotices) may go by SMS too: the
// Composer copies it to the holder's confirmed phone.
var Channels = map[request.Purpose][]request.Channel{
	request.ConfirmEmail:    {request.Email},
	request.ChangeEmail:     {request.Email},
	request.AddPhone:        {request.SMS},
	request.ResetPassword:   {request.Email, request.SMS},
	request.SecondStep:      {request.Email, request.SMS},
	request.StepUp:          {request.Email, request.SMS},
	request.CodeSignIn:      {request.Email, request.SMS},
	request.SignupExisting:  {request.Email},
	request.PasswordChanged: {request.Email, request.SMS},
	request.PasswordReset:   {request.Email, request.SMS},
	request.TwoStepOn:       {request.Email, request.SMS},
	request.MethodAdded:     {request.Email, request.SMS},
	request.BackupUsed:      {request.Email, request.SMS},
	request.MethodRemoved:   {request.Email, request.SMS},
	request.TwoStepOff:      {request.Email, request.SMS},
	request.TwoStepReset:    {request.Email, request.SMS},
	request.BackupRenewed:   {request.Email, request.SMS},
	// A changed or removed number is told to the number itself too: a
	// holder whose phone was swapped by someone else hears it there.
	request.PhoneChanged:   {request.Email, request.SMS},
	request.PhoneRemoved:   {request.Email, request.SMS},
	request.EmailChanged:   {request.Email, request.SMS},
	request.PasskeyBlocked: {request.Email, request.SMS},
	request.NewDevice:      {request.Email, request.SMS},
	request.TrustAdded:     {request.Email, request.SMS},
	request.NotMeDone:      {request.Email, request.SMS},
	request.AlertsOff:      {request.Email, request.SMS},
	// The right password met a failed second step; a run of guesses
	// reached the ceiling: both go to every channel the holder has.
	request.SecondStepFailed: {request.Email, request.SMS},
	request.GuessCeiling:     {request.Email, request.SMS},
	request.TrustCopied:      {request.Email, request.SMS},
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

// Sender composes and stores a message for the holder: what a flow that
// tells its holder something needs (the Composer, or a test's fake).
type Sender interface {
	Send(ctx context.Context, n Notice) (*outbox.Message, error)
}

// Composer writes notices and hands them to the outbox.
type Composer struct {
	Outbox      Enqueuer
	Catalog     *i18n.Catalog
	ServiceName string
	// Holders, when set, finds the account's address and confirmed phone,
	// so that a security notice mailed to the account's address is copied
	// to the phone by SMS.
	Holders Holders
}

// Holders says where an account's messages go.
type Holders interface {
	// Reach returns the account's address and its confirmed phone ("" when
	// none is confirmed).
	Reach(ctx context.Context, accountID string) (email, phone string, err error)
}

// Send composes n in the holder's language and stores it for delivery. It
// refuses a code-bearing purpose without a code (unless withheld) and a
// code without a cause: a code must always say why it was sent. A
// security notice to the account's own address is copied by SMS to its
// confirmed phone (request.SecurityNotices); the email is returned.
func (c *Composer) Send(ctx context.Context, n Notice) (*outbox.Message, error) {
	d, err := c.Compose(n)
	if err != nil {
		return nil, err
	}
	m, err := c.Outbox.Enqueue(ctx, d)
	if err != nil {
		return nil, err
	}
	if !n.Purpose.Security() || c.Holders == nil || n.AccountID == "" || n.Withhold ||
		(n.Channel != "" && n.Channel != request.Email) {
		return m, nil
	}
	email, phone, err := c.Holders.Reach(ctx, n.AccountID)
	if err != nil {
		return nil, fmt.Errorf("notice: find the holder's phone: %w", err)
	}
	// Only the copy of the notice to the account's current address: an
	// address change tells the old address too, and the phone once.
	if phone == "" || !strings.EqualFold(email, n.To) {
		return m, nil
	}
	n.Channel, n.To = request.SMS, phone
	sd, err := c.Compose(n)
	if err != nil {
		return nil, err
	}
	if _, err := c.Outbox.Enqueue(ctx, sd); err != nil {
		return nil, err
	}
	return m, nil
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
		AccountID: n.AccountID, Purpose: n.Purpose, Cause: n.Cause, ChallengeID: n.ChallengeID, App: n.App,
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
		ps := []string{
			t(lang, "mail."+string(n.Purpose)+".why", svc),
			t(lang, "mail.code.valid", minutes(n.Valid)),
			c.origin(n, "mail.origin"),
		}
		if cause := c.cause(n); cause != "" {
			ps = append(ps, cause)
		}
		ps = append(ps, c.notYou(n), t(lang, "mail.code.never_share", svc))
		return t(lang, "mail."+string(n.Purpose)+".subject", svc), ps, nil
	case n.Purpose == request.NewDevice:
		return t(lang, "mail.new_device.subject", svc), []string{
			t(lang, "mail.new_device.body", svc, orOther(n.Origin.Browser), orOther(n.Origin.OS)),
			c.origin(n, "mail.origin_signin"),
			t(lang, "mail.new_device.not_you"),
		}, nil
	case n.Purpose == request.TrustAdded:
		return t(lang, "mail.trust_added.subject", svc), []string{
			t(lang, "mail.trust_added.body", svc, orOther(n.Origin.Browser), orOther(n.Origin.OS), int(n.Valid/(24*time.Hour))),
			c.origin(n, "mail.origin_done"),
			t(lang, "mail.trust_added.not_you"),
		}, nil
	case n.Purpose == request.NotMeDone:
		about := string(n.About)
		if about == "" {
			about = "wrong_password" // an attempt whose password was wrong
		}
		var ps []string
		if n.Reference != "" {
			ps = append(ps, t(lang, "mail.not_me_done.body", n.Reference, t(lang, "cause."+about)))
		} else {
			ps = append(ps, t(lang, "mail.not_me_done.body_attempt", t(lang, "cause."+about)))
		}
		bullet := "- "
		if lang == "ja" {
			bullet = "・"
		}
		for _, a := range n.Actions {
			ps = append(ps, bullet+t(lang, "answer.action."+a))
		}
		ps = append(ps, t(lang, "answer.next."+about), c.origin(n, "mail.origin_answer"))
		return t(lang, "mail.not_me_done.subject", svc), ps, nil
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
	case n.Purpose == request.SecondStepFailed:
		return t(lang, "mail.second_step_failed.subject", svc), []string{
			t(lang, "mail.second_step_failed.body", svc, orOther(n.Origin.Browser), orOther(n.Origin.OS)),
			c.origin(n, "mail.origin"),
			t(lang, "mail.second_step_failed.not_you"),
		}, nil
	case n.Purpose == request.TrustCopied:
		return t(lang, "mail.trust_copied.subject", svc), []string{
			t(lang, "mail.trust_copied.body", svc),
			c.origin(n, "mail.origin"),
			t(lang, "mail.trust_copied.advice"),
		}, nil
	case n.Purpose == request.GuessCeiling:
		return t(lang, "mail.guess_ceiling.subject", svc), []string{
			t(lang, "mail.guess_ceiling.body", svc, n.Failures, t(lang, "secret."+n.Secret)),
			c.origin(n, "mail.origin"),
			t(lang, "mail.guess_ceiling.advice"),
		}, nil
	case n.Purpose == request.PasskeyBlocked:
		return t(lang, "mail.passkey_blocked.subject", svc), []string{
			t(lang, "mail.passkey_blocked.body", svc, n.Name),
			c.origin(n, "mail.origin"),
			t(lang, "mail.passkey_blocked.advice"),
		}, nil
	case n.Purpose == request.TwoStepReset:
		return t(lang, "mail.two_step_reset.subject", svc), []string{
			t(lang, "mail.two_step_reset.body", svc),
			t(lang, "mail.two_step_reset.wait", waitHours(n.Wait)),
			// When, not from where: the support team's network and
			// browser are not the holder's business, nor an attacker's.
			t(lang, "mail.two_step_reset.when", c.Catalog.Time(lang, n.Origin.Time, c.Catalog.Zone(lang, n.TimeZone))),
			t(lang, "mail.two_step_reset.not_you"),
		}, nil
	case n.Purpose == request.EmailChanged:
		return t(lang, "mail.email_changed.subject", svc), []string{
			t(lang, "mail.email_changed.body", svc, n.Address),
			c.origin(n, "mail.origin_done"),
			t(lang, "mail.email_changed.not_you"),
		}, nil
	case n.Purpose == request.PasswordChanged, n.Purpose == request.PasswordReset,
		n.Purpose == request.TwoStepOff, n.Purpose == request.BackupRenewed, n.Purpose == request.AlertsOff:
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
	case request.NotMeDone:
		return []string{t(lang, "sms.not_me_done", c.ServiceName, n.Reference)}, nil
	case request.NewDevice:
		return []string{t(lang, "sms.new_device", c.ServiceName, orOther(n.Origin.Browser), orOther(n.Origin.OS))}, nil
	}
	if n.Purpose.Security() {
		return []string{t(lang, "sms."+string(n.Purpose), c.ServiceName)}, nil
	}
	if !n.Purpose.HasCode() {
		return nil, fmt.Errorf("notice: no SMS for purpose %q", n.Purpose)
	}
	cause := t(lang, "sms.cause."+string(n.Cause))
	if n.Cause == request.ConnectedApp && n.App != "" && utf8.RuneCountInString(n.App) <= SMSAppName {
		cause = t(lang, "sms.cause.connected_app_named", n.App)
	}
	return []string{
		t(lang, "sms.code", c.ServiceName, t(lang, "purpose."+string(n.Purpose))),
		cause,
	}, nil
}

// SMSAppName is the longest application name a code SMS names (in
// characters): a longer one would push the SMS past two segments, and the
// SMS says "a connected app" instead (the email and /why name it).
const SMSAppName = 16

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

// cause is the code email's paragraph saying what the server knew when it
// sent the code, for the causes whose story has details: the device that
// typed the password, and for an old device when it last signed in.
func (c *Composer) cause(n Notice) string {
	o, lang := n.Origin, n.Language
	switch n.Cause {
	case request.PasswordKnown:
		return c.Catalog.T(lang, "mail.cause.password_known", orOther(o.Browser), orOther(o.OS))
	case request.OldDevice:
		if n.LastUsed.IsZero() {
			return ""
		}
		day := c.Catalog.Time(lang, n.LastUsed, c.Catalog.Zone(lang, n.TimeZone))
		return c.Catalog.T(lang, "mail.cause.old_device", orOther(o.Browser), orOther(o.OS), day)
	case request.ConnectedApp:
		if n.App == "" {
			return ""
		}
		return c.Catalog.T(lang, "mail.cause.connected_app", n.App, orOther(o.Browser), orOther(o.OS))
	}
	return ""
}

func orOther(s string) string {
	if s == "" {
		return "Other"
	}
	return s
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
	line := c.Catalog.T(n.Language, key, when, orOther(o.Browser), orOther(o.OS), o.IP)
	if place := Place(n.Language, o); place != "" {
		line += " " + c.Catalog.T(n.Language, "mail.origin_place", place)
	}
	return line
}

func minutes(d time.Duration) int { return int(d / time.Minute) }

// Place is the approximate place of a request's network in lang ("Tokyo,
// Japan", "日本、東京"), or "" when it is not known.
func Place(lang string, o request.Origin) string {
	return geo.Place{Country: o.Country, City: o.City, CityJA: o.CityJA}.Display(lang)
}

// waitHours is a waiting period in whole hours, rounded up, at least one.
func waitHours(d time.Duration) int {
	return max(1, int((d+time.Hour-1)/time.Hour))
}
