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
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
	"golang.org/x/net/idna"

	"gatehouse/internal/limit"
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
	TimeZone          string // IANA zone chosen by the holder; "" means the default for Language
	Status            Status
	CreatedAt         time.Time
	ConfirmedAt       time.Time
	PasswordChangedAt time.Time
	// PhoneConfirmedAt is when the holder typed back the code sent to
	// Phone; zero for a number given at sign-up and never confirmed. Only
	// a confirmed number receives second-step codes.
	PhoneConfirmedAt time.Time
	// PasswordCompromisedAt is when the holder said a code sent because
	// the right password was typed was not theirs: someone else has the
	// password, and the next sign-in must set a new one. Zero otherwise;
	// a new password clears it.
	PasswordCompromisedAt time.Time
	// Alerts is how the holder is told of a sign-in from a new device.
	Alerts Alerts
	// Changes counts the writes to what signed-in pages show about the
	// account besides this record — its two-step methods, devices, the
	// requests waiting for its answer — and to this record itself. The
	// SQLite store counts them in the writing transaction (triggers), so a
	// page may keep what it read while the count stands (session.Kept).
	// PostgreSQL nodes hear of changes instead (notifications) and leave
	// it as it is.
	Changes uint64
}

// Alerts are the channels of the new-device sign-in alert. Email is on for
// a new account; SMS needs a confirmed phone.
type Alerts struct {
	Email bool
	SMS   bool
}

// Off reports whether no channel carries the alert.
func (a Alerts) Off() bool { return !a.Email && !a.SMS }

// Signup is a pending sign-up: what someone typed on the sign-up form,
// kept until the address's owner confirms it with the mailed code. It is not
// an account: until then the address is, to everyone else, unknown. Several
// sign-ups for one address may be pending at once (the owner's and a
// stranger's); confirming one makes the account and ends the others.
type Signup struct {
	ID           string // the id of its confirm_email challenge
	Email        string // normalised
	Phone        string
	PasswordHash string // the password chosen on the sign-up form
	Language     string
	DeviceID     string // the browser that signed up
	CreatedAt    time.Time
}

// Store keeps accounts.
type Store interface {
	// CreateAccount stores a; ErrEmailTaken if the address has an account.
	CreateAccount(ctx context.Context, a *Account) error
	// AccountByEmail and AccountByID return ErrNotFound when absent.
	AccountByEmail(ctx context.Context, email string) (*Account, error)
	AccountByID(ctx context.Context, id string) (*Account, error)
	ListAccounts(ctx context.Context) ([]*Account, error)
	// SearchAccounts returns up to limit accounts whose address starts
	// with prefix (case-insensitively; "" matches every one), in the order
	// of their lower-cased addresses, after the lower-cased address after
	// ("" from the first): one page, and the next begins after its last.
	SearchAccounts(ctx context.Context, prefix, after string, limit int) ([]*Account, error)
	SetStatus(ctx context.Context, id string, s Status) error
	// SetPreferences sets the language of messages and the time zone.
	SetPreferences(ctx context.Context, id, language, timeZone string) error

	// CreateSignup stores a pending sign-up.
	CreateSignup(ctx context.Context, s *Signup) error
	// Signup returns the pending sign-up with the given id, or ErrNotFound.
	Signup(ctx context.Context, id string) (*Signup, error)
	// CompleteSignup creates a from the pending sign-up id and deletes every
	// pending sign-up for the same address, in one transaction. It returns
	// ErrNotFound when the sign-up is gone and ErrEmailTaken when the
	// address got an account meanwhile.
	CompleteSignup(ctx context.Context, id string, a *Account) error
	// SetPasswordHash replaces the hash. With remember set, the old hash is
	// kept in the password history (a change or reset); without, it is not
	// (a transparent rehash of the same password).
	SetPasswordHash(ctx context.Context, id, hash string, at time.Time, remember bool) error
	// MarkPasswordCompromised records that someone else has the password
	// (see Account.PasswordCompromisedAt); a SetPasswordHash with remember
	// set clears it.
	MarkPasswordCompromised(ctx context.Context, id string, at time.Time) error
	// MarkPasswordCompromisedOnce is MarkPasswordCompromised for a password
	// not marked yet (a conditional update: of two callers at once, one
	// marks); ErrNotFound when the account is missing or already marked.
	MarkPasswordCompromisedOnce(ctx context.Context, id string, at time.Time) error
	// SetAlerts sets the channels of the new-device alert.
	SetAlerts(ctx context.Context, id string, a Alerts) error
	// PasswordHistory returns up to n previous hashes, newest first.
	PasswordHistory(ctx context.Context, id string, n int) ([]string, error)
}

// Eraser deletes an account with everything kept of it (internal/sqlite,
// internal/postgres); Service.Delete is the flow around it.
type Eraser interface {
	// EraseAccount deletes a and every row that belongs to it, in the
	// flow's transaction: what names the account (its sessions, devices
	// only it used, methods, codes, attempts, messages and their raw
	// copies, answers, reports, password history, limit counters) and what
	// names its address or phone number without naming an account (codes
	// and messages sent to it before it was the account's, pending sign-ups
	// for it, senders blocked from it, sign-in attempts that typed it).
	// ErrNotFound when no account has a.ID.
	EraseAccount(ctx context.Context, a *Account) error
}

// Traces are the values that find the rows of an account's which do not
// name it by its id (see Eraser): messages, codes and sign-up requests
// sent to its address or number before the account was its own, senders
// blocked from them, attempts that typed them, and the limits' counters.
type Traces struct {
	// EmailKey is the lower-cased address, as accounts and sign-ups keep it.
	EmailKey string
	// Addresses are the lower-cased address and the phone number (if
	// any): destinations of codes and messages, and what a sign-in typed.
	Addresses []string
	// Subjects are what the limits count under (limit.Guess.Subject, a
	// refusal's subject): the id, the address (as written and lower-cased,
	// and as an unknown address is counted, "email:…") and the number.
	Subjects []string
	// Seen are the network counters' subjects (limit_seen): each kind of
	// secret and each subject, "kind:subject".
	Seen []string
}

// TracesOf returns the traces of a.
func TracesOf(a *Account) Traces {
	key := strings.ToLower(a.Email)
	t := Traces{EmailKey: key, Addresses: []string{key}}
	subjects := []string{a.ID, a.Email, key, "email:" + a.Email, "email:" + key}
	if a.Phone != "" {
		t.Addresses = append(t.Addresses, a.Phone)
		subjects = append(subjects, a.Phone)
	}
	for _, s := range subjects {
		if !slices.Contains(t.Subjects, s) {
			t.Subjects = append(t.Subjects, s)
		}
	}
	for _, k := range limit.Secrets {
		for _, s := range t.Subjects {
			t.Seen = append(t.Seen, string(k)+":"+s)
		}
	}
	return t
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

// NormalizeEmail checks an address against Gatehouse's one address rule
// and returns its normal spelling: trimmed, domain lower-cased, an
// internationalised domain converted to punycode, so one mailbox has one
// spelling. The local part keeps its case (RFC 5321 leaves it to the mail
// server); uniqueness is checked case-insensitively by the store.
//
// The rule is what a browser's <input type=email> accepts (the HTML
// Standard's "valid email address"), with a Unicode domain also allowed:
//
//   - local part: ASCII letters, digits, dots and !#$%&'*+/=?^_`{|}~- ; no
//     quotes, comments "(…)", spaces or other specials;
//   - domain: labels of letters, digits and inner hyphens (after IDNA
//     conversion), at least two of them, the last not all digits — so no
//     IP addresses, bracketed or not;
//   - nowhere a control or format character (bidi overrides, zero-width
//     spaces), which could make an address display as another;
//   - at most 64 bytes before the @ and 254 in all (RFC 5321).
func NormalizeEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 4*MaxEmailBytes || !utf8.ValidString(s) {
		return "", ErrInvalidEmail
	}
	for _, r := range s {
		if unicode.In(r, unicode.Cc, unicode.Cf) || unicode.IsSpace(r) {
			return "", ErrInvalidEmail
		}
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return "", ErrInvalidEmail
	}
	local, domain := s[:at], s[at+1:]
	if len(local) > 64 {
		return "", ErrInvalidEmail
	}
	for i := 0; i < len(local); i++ {
		if !atext(local[i]) && local[i] != '.' {
			return "", ErrInvalidEmail
		}
	}
	ascii, err := idna.Lookup.ToASCII(strings.ToLower(domain))
	if err != nil || !validDomain(ascii) {
		return "", ErrInvalidEmail
	}
	out := local + "@" + ascii
	if len(out) > MaxEmailBytes {
		return "", ErrInvalidEmail
	}
	return out, nil
}

// atext reports whether c may appear in a local part (RFC 5322 atext, as
// the HTML Standard's email rule uses it).
func atext(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+/=?^_`{|}~-", c) >= 0
}

// validDomain checks an ASCII domain: two or more labels of 1 to 63
// letters, digits and inner hyphens, the last one not all digits.
func validDomain(d string) bool {
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return strings.Trim(labels[len(labels)-1], "0123456789") != ""
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

// PhoneExample returns a mobile number of region written the way people
// there write it ("090-1234-5678" for JP), for hints and error messages.
func PhoneExample(region string) string {
	n := phonenumbers.GetExampleNumberForType(region, phonenumbers.MOBILE)
	if n == nil {
		return "+81 90 1234 5678"
	}
	return phonenumbers.Format(n, phonenumbers.NATIONAL)
}

// DisplayEmail returns an address as a person reads it: an internationalised
// domain in its Unicode form ("taro@例え.jp", not "taro@xn--r8jz45g.jp").
// Addresses are stored and mailed in their ASCII form.
func DisplayEmail(addr string) string {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return addr
	}
	domain, err := idna.Display.ToUnicode(addr[at+1:])
	if err != nil {
		return addr
	}
	return addr[:at+1] + domain
}

// PhoneEnding is what pages and the admin API show of a phone number:
// its last two digits, never the whole number.
func PhoneEnding(p string) string {
	if len(p) <= 2 {
		return p
	}
	return p[len(p)-2:]
}

// MaskEmail shows an address the way pages list it to someone who may not
// be its owner: the first character of the local part, "***", and the
// domain (for display), e.g. t***@example.com.
func MaskEmail(addr string) string {
	addr = DisplayEmail(addr)
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 {
		return "***"
	}
	first, _ := utf8.DecodeRuneInString(addr)
	return string(first) + "***" + addr[at:]
}
