// Package account holds account holders' accounts and the self-service
// flows that change them: sign-up with address confirmation, password
// change and password reset.
//
// None of these flows may reveal whether an address has an account: sign-up
// and reset answer every address with the same page and the same work, and
// the difference is only in what the address's owner receives by email.
package account

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
	"golang.org/x/net/idna"
)

// Status is an account's state.
type Status string

// Account states. Only Active accounts can sign in.
const (
	Unconfirmed Status = "unconfirmed"
	Active      Status = "active"
	Disabled    Status = "disabled"
)

// Account is one account holder's account.
type Account struct {
	ID                string
	Email             string // normalised, see NormalizeEmail
	Phone             string // E.164, or empty
	PasswordHash      string // argon2id PHC string
	Language          string // "en" or "ja": the language of messages
	Status            Status
	CreatedAt         time.Time
	ConfirmedAt       time.Time
	PasswordChangedAt time.Time
}

// Store keeps accounts.
type Store interface {
	// CreateAccount stores a; ErrEmailTaken if the address has an account.
	CreateAccount(ctx context.Context, a *Account) error
	// ReplaceUnconfirmed swaps the unconfirmed account oldID for a, in one
	// transaction, so that codes sent for the old one stop working.
	ReplaceUnconfirmed(ctx context.Context, oldID string, a *Account) error
	// AccountByEmail and AccountByID return ErrNotFound when absent.
	AccountByEmail(ctx context.Context, email string) (*Account, error)
	AccountByID(ctx context.Context, id string) (*Account, error)
	ListAccounts(ctx context.Context) ([]*Account, error)
	ConfirmAccount(ctx context.Context, id string, at time.Time) error
	SetStatus(ctx context.Context, id string, s Status) error
	// SetPasswordHash replaces the hash. With remember set, the old hash is
	// kept in the password history (a change or reset); without, it is not
	// (a transparent rehash of the same password).
	SetPasswordHash(ctx context.Context, id, hash string, at time.Time, remember bool) error
	// PasswordHistory returns up to n previous hashes, newest first.
	PasswordHistory(ctx context.Context, id string, n int) ([]string, error)
}

// Store errors.
var (
	ErrNotFound   = errors.New("account: not found")
	ErrEmailTaken = errors.New("account: email already registered")
)

// MaxEmailBytes is the longest address accepted (RFC 5321 path limit).
const MaxEmailBytes = 254

// ErrInvalidEmail is returned by NormalizeEmail.
var ErrInvalidEmail = errors.New("account: invalid email address")

// NormalizeEmail trims the address, lower-cases its domain and converts an
// internationalised domain to punycode, so that one mailbox has one
// spelling. The local part keeps its case (RFC 5321 leaves it to the mail
// server), but uniqueness is checked case-insensitively by the store.
func NormalizeEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > MaxEmailBytes || !utf8.ValidString(s) {
		return "", ErrInvalidEmail
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return "", ErrInvalidEmail
	}
	local, domain := s[:at], s[at+1:]
	if len(local) > 64 {
		return "", ErrInvalidEmail
	}
	for _, r := range local {
		if r <= ' ' || r == '@' || r == '<' || r == '>' || r == ',' || r == ';' || unicode.IsControl(r) || unicode.IsSpace(r) {
			return "", ErrInvalidEmail
		}
	}
	ascii, err := idna.Lookup.ToASCII(strings.ToLower(domain))
	if err != nil || !strings.Contains(ascii, ".") || strings.HasSuffix(ascii, ".") {
		return "", ErrInvalidEmail
	}
	out := local + "@" + ascii
	if len(out) > MaxEmailBytes {
		return "", ErrInvalidEmail
	}
	return out, nil
}

// ErrInvalidPhone is returned by NormalizePhone.
var ErrInvalidPhone = errors.New("account: invalid phone number")

// NormalizePhone parses a phone number typed in any common form and returns
// it as E.164. Numbers without a country code are read as numbers of
// defaultRegion (e.g. "JP", so "090-1234-5678" becomes "+819012345678").
func NormalizePhone(s, defaultRegion string) (string, error) {
	s = strings.TrimSpace(s)
	if len(s) > 64 {
		return "", ErrInvalidPhone
	}
	n, err := phonenumbers.Parse(s, defaultRegion)
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return "", ErrInvalidPhone
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}

// FieldErrors maps a form field to the i18n key of what is wrong with it.
// The web layer shows each one next to its field.
type FieldErrors map[string]string

// Error lists the fields and their message keys (for logs; pages show each
// message next to its field).
func (f FieldErrors) Error() string {
	var b strings.Builder
	b.WriteString("invalid input:")
	for k, v := range f {
		b.WriteString(" " + k + "=" + v)
	}
	return b.String()
}
