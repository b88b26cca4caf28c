// Package request is the vocabulary every capability shares for "a request
// someone made": where it came from (Origin), what a code sent for it is for
// (Purpose), why the code was sent (Cause), and how it travelled (Channel).
//
// A one-time code is only ever sent on behalf of one recorded request, for
// one cause. The sign-in attempt, the code challenge, the stored message and
// later the "this wasn't me" answer all describe that same request, so they
// use these types instead of each keeping its own copy of "device, IP,
// browser, time".
package request

import (
	"time"
)

// Origin describes where a request came from: the browser's device, its
// network and software, and when. It is recognised once per HTTP request
// (by the HTTP core's chain, httpcore) and quoted by every message the request
// causes, so the holder can tell whether it was them.
type Origin struct {
	DeviceID string // the device cookie's device; empty outside a browser (CLI, API)
	// Client names the program a request came from when it is not a
	// browser (an API key, an OIDC client), so activity and "this wasn't
	// me" can name the application; empty for a browser.
	Client    string
	IP        string
	UserAgent string
	Browser   string // e.g. "Chrome 156"
	OS        string // e.g. "Windows 10"
	Time      time.Time
	// Country (ISO 3166-1 alpha-2) and City (in English, and in Japanese
	// when known) are the approximate place of IP, from the operator's
	// IP geolocation database; empty without one. They are not stored
	// with a request: a reader looks the address up again.
	Country, City, CityJA string
}

// App is an application the holder connected (an OpenID Connect client)
// that caused a request: its client id, for "this wasn't me" to
// disconnect it, and its name as it was when the code was sent, for the
// messages and pages that name it. The zero App: no application asked.
type App struct {
	ID   string
	Name string
}

// Channel is how a message reaches its holder.
type Channel string

// Channels.
const (
	Email Channel = "email"
	SMS   Channel = "sms"
)

// Purpose is what a message is for. Code-bearing purposes name what the
// code unlocks; the others are notices that carry no code.
type Purpose string

// Purposes of codes: one per row family of the cause table in PRODUCT.md.
const (
	ConfirmEmail  Purpose = "confirm_email"  // an address typed at sign-up
	ResetPassword Purpose = "reset_password" // a password reset was requested
	SecondStep    Purpose = "second_step"    // the password was right; the second step of a sign-in
	CodeSignIn    Purpose = "code_signin"    // sign-in by code alone, where the operator allows it
	ChangeEmail   Purpose = "change_email"   // an address typed as a holder's new address
	AddPhone      Purpose = "add_phone"      // a number typed while setting up SMS codes
	// StepUp: a signed-in holder proving it's them again before a
	// sensitive change (the password was right). Its challenge is a
	// second step's; the message says what it is for.
	StepUp Purpose = "step_up"
)

// Purposes of notices, which carry no code.
const (
	SignupExisting  Purpose = "signup_existing"  // someone tried to sign up with the holder's address
	PasswordChanged Purpose = "password_changed" // the holder changed their password
	PasswordReset   Purpose = "password_reset"   // the password was set with a reset code
	TwoStepOn       Purpose = "two_step_on"      // two-step verification was turned on
	MethodAdded     Purpose = "method_added"     // a second-step method was added
	BackupUsed      Purpose = "backup_used"      // a backup code passed a sign-in
	MethodRemoved   Purpose = "method_removed"   // a second-step method was removed
	TwoStepOff      Purpose = "two_step_off"     // two-step verification was turned off
	// TwoStepReset: an operator reset two-step verification (the console),
	// after the holder proved who they are to support.
	TwoStepReset   Purpose = "two_step_reset"
	BackupRenewed  Purpose = "backup_renewed"  // a new set of backup codes replaced the old
	PhoneChanged   Purpose = "phone_changed"   // codes by SMS now go to another number (told to the old one too)
	PhoneRemoved   Purpose = "phone_removed"   // the number no longer receives codes
	EmailChanged   Purpose = "email_changed"   // the account's address changed (told to the old and the new)
	PasskeyBlocked Purpose = "passkey_blocked" // a passkey answered with a counter that went back: blocked as a possible copy
	NewDevice      Purpose = "new_device"      // the alert: a sign-in from a device the account had not used
	TrustAdded     Purpose = "trust_added"     // a browser was trusted to skip the second step
	NotMeDone      Purpose = "not_me_done"     // what the holder's "this wasn't me" did
	AlertsOff      Purpose = "alerts_off"      // the new-device alert was turned off on every channel
	// SecondStepFailed: the right password was typed but the second step
	// was not passed (locked after wrong codes, or delayed for guessing).
	// Its cause is PasswordKnown and it names the attempt's challenge, so
	// "this wasn't me" answers it like the code it never got.
	SecondStepFailed Purpose = "second_step_failed"
	// GuessCeiling: a run of wrong guesses at one of the holder's secrets
	// reached the ceiling (NIST SP 800-63B-4: 100 consecutive failures).
	GuessCeiling Purpose = "guess_ceiling"
	// TrustCopied: a trusted browser's cookie was used from two browsers
	// (it was copied); the browser is trusted no more.
	TrustCopied Purpose = "trust_copied"
)

// SecurityNotices are the notices about a change to the account's
// security. Each goes to the account's address and, when it has a
// confirmed phone, by SMS too: someone who took over the mailbox must not
// be able to hide the change from the holder.
var SecurityNotices = []Purpose{
	PasswordChanged, PasswordReset, TwoStepOn, MethodAdded, BackupUsed, MethodRemoved, TwoStepOff, TwoStepReset,
	BackupRenewed, EmailChanged, PasskeyBlocked, TrustAdded, NotMeDone, AlertsOff, SecondStepFailed, GuessCeiling, TrustCopied,
}

// Security reports whether p is one of SecurityNotices.
func (p Purpose) Security() bool {
	for _, c := range SecurityNotices {
		if p == c {
			return true
		}
	}
	return false
}

// CodePurposes lists every purpose whose message carries a code.
var CodePurposes = []Purpose{ConfirmEmail, ResetPassword, SecondStep, CodeSignIn, ChangeEmail, AddPhone, StepUp}

// HasCode reports whether messages of this purpose carry a one-time code.
func (p Purpose) HasCode() bool {
	for _, c := range CodePurposes {
		if p == c {
			return true
		}
	}
	return false
}

// Cause is why a code was sent, from the holder's point of view: the rows of
// the cause table in PRODUCT.md. It is decided from what the server knew
// when it sent the code (see Decide), stored with the challenge and the
// message, and never guessed afterwards.
type Cause string

// Causes, in the order of the cause table.
const (
	// PasswordKnown: the correct password was entered from a device this
	// account has not used. "This wasn't me" denies the attempt, signs out
	// every session and requires a new password.
	PasswordKnown Cause = "password_known"
	// OldDevice: the browser presented a device cookie this account used
	// before. "This wasn't me" denies it and forgets the device.
	OldDevice Cause = "old_device"
	// Mistyped: the address or number was typed during a sign-up, an
	// address change or a phone set-up, and is not (or not yet) tied to an
	// account through that request. From the recipient's side that may be
	// their own typing or someone else's mistake; either way no account of
	// theirs was involved. "This wasn't me" blocks further codes for that
	// request and from that sender.
	Mistyped Cause = "mistyped"
	// ConnectedApp: an application the holder connected (an OpenID
	// Connect client) asked for a fresh sign-in or a step-up, and the
	// holder's signed-in browser was sent to prove it's them again. The
	// challenge records the application, and the message names it. "This
	// wasn't me" ends that attempt, signs out the session that asked and
	// disconnects the application. Decide never returns it: the step-up
	// knows the application asked, Decide's facts do not.
	ConnectedApp Cause = "connected_app"
	// ResetRequested: someone asked to reset the password; no password was
	// given. "This wasn't me" cancels the reset.
	ResetRequested Cause = "reset_requested"
	// CodeRequested: sign-in by code alone was started; no password was
	// given. "This wasn't me" denies it. Its id is code_signin, as issue
	// 9's contract spells it (no stored row used the earlier spelling:
	// sign-in by code is not built yet).
	CodeRequested Cause = "code_signin"
	// YouJustNow: the same device and browser hold an active session of
	// this account (a step-up, or a routine second step); shown as routine.
	YouJustNow Cause = "you_just_now"
)

// Causes lists every cause, in the order of the cause table.
var Causes = []Cause{PasswordKnown, OldDevice, Mistyped, ConnectedApp, ResetRequested, CodeRequested, YouJustNow}

// Facts is what the server knows about a request when it sends a code.
type Facts struct {
	// DeviceKnown: the browser's device has been used by this account before
	// (it presented a device cookie the account has signed in with).
	DeviceKnown bool
	// SessionOnDevice: the device holds an active session of this account.
	SessionOnDevice bool
}

// Decide returns the cause of a code sent for purpose p, given what the
// server knows now. It is the one place the cause table's "what the server
// knew" column is turned into a cause.
func Decide(p Purpose, f Facts) Cause {
	switch p {
	case ResetPassword:
		return ResetRequested
	case CodeSignIn:
		return CodeRequested
	case ConfirmEmail, ChangeEmail, AddPhone:
		return Mistyped
	}
	// A second step: the password was right.
	switch {
	case f.SessionOnDevice:
		return YouJustNow
	case f.DeviceKnown:
		return OldDevice
	default:
		return PasswordKnown
	}
}
