package account

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gatehouse/internal/code"
	"gatehouse/internal/i18n"
	"gatehouse/internal/outbox"
	"gatehouse/internal/password"
	"gatehouse/internal/random"
)

// Mailer stores a message for delivery (the outbox).
type Mailer interface {
	Enqueue(ctx context.Context, d outbox.Draft) (*outbox.Message, error)
}

// SessionEnder ends every session of an account.
type SessionEnder interface {
	EndAll(ctx context.Context, accountID string) error
}

// Origin describes where a request came from; messages quote it so the
// holder can tell whether it was them.
type Origin struct {
	DeviceID string
	IP       string
	Browser  string
	OS       string
	Time     time.Time
}

// Service runs the account flows.
type Service struct {
	Store         Store
	Hasher        *password.Hasher
	Policy        password.Policy
	Codes         *code.Service
	Mail          Mailer
	Sessions      SessionEnder
	Catalog       *i18n.Catalog
	ServiceName   string
	PhoneRegion   string // default region for phone numbers without a country code
	HistoryLength int    // passwords that may not be reused, counting the current one (5)
}

// Registration is what the sign-up form submits.
type Registration struct {
	Email    string
	Password string
	Phone    string
	Language string
	Origin   Origin
}

// ErrBusy is password.ErrBusy, re-exported for callers of this package.
var ErrBusy = password.ErrBusy

// checkPassword applies the policy and returns field errors keyed by field.
func (s *Service) checkPassword(field, pw, email string) FieldErrors {
	if pw == "" {
		return FieldErrors{field: "error.required"}
	}
	if r := s.Policy.Check(pw, email); r != "" {
		return FieldErrors{field: "password.reason." + string(r)}
	}
	return nil
}

// Register starts a sign-up and returns the id of the confirmation request
// the browser continues with. Whether or not the address already has an
// account, the caller sees the same result and the same amount of work: a
// fresh or unconfirmed address gets a confirmation code, an address with an
// account gets a notice instead.
func (s *Service) Register(ctx context.Context, r Registration) (string, error) {
	errs := FieldErrors{}
	email, err := NormalizeEmail(r.Email)
	if r.Email == "" {
		errs["email"] = "error.required"
	} else if err != nil {
		errs["email"] = "error.email_invalid"
	}
	var phone string
	if r.Phone != "" {
		if phone, err = NormalizePhone(r.Phone, s.PhoneRegion); err != nil {
			errs["phone"] = "error.phone_invalid"
		}
	}
	for k, v := range s.checkPassword("password", r.Password, email) {
		errs[k] = v
	}
	if len(errs) > 0 {
		return "", errs
	}
	// Hash before looking the address up, so every path costs one hash.
	hash, err := s.Hasher.Hash(ctx, r.Password)
	if err != nil {
		return "", err
	}
	now := r.Origin.Time.UTC()
	a := &Account{
		ID: random.ID(), Email: email, Phone: phone, PasswordHash: hash, Language: r.Language,
		Status: Unconfirmed, CreatedAt: now, PasswordChangedAt: now,
	}
	existing, err := s.Store.AccountByEmail(ctx, email)
	switch {
	case errors.Is(err, ErrNotFound):
		err = s.Store.CreateAccount(ctx, a)
		if errors.Is(err, ErrEmailTaken) { // lost a race with another sign-up
			return s.registerExisting(ctx, email, r)
		}
	case err != nil:
		return "", err
	case existing.Status == Unconfirmed:
		// Nobody has proved they own the address yet; the newest sign-up
		// replaces the pending one and the old codes die with it.
		err = s.Store.ReplaceUnconfirmed(ctx, existing.ID, a)
	default:
		return s.registerExisting(ctx, email, r)
	}
	if err != nil {
		return "", err
	}
	ch, c, err := s.Codes.Issue(ctx, code.ConfirmEmail, a.ID, email, r.Origin.DeviceID, false)
	if err != nil {
		return "", err
	}
	if err := s.sendCode(ctx, a.ID, email, r.Language, code.ConfirmEmail, c, r.Origin); err != nil {
		return "", err
	}
	return ch.ID, nil
}

func (s *Service) registerExisting(ctx context.Context, email string, r Registration) (string, error) {
	a, err := s.Store.AccountByEmail(ctx, email)
	if err != nil {
		return "", err
	}
	ch, _, err := s.Codes.Issue(ctx, code.ConfirmEmail, "", email, r.Origin.DeviceID, true)
	if err != nil {
		return "", err
	}
	lang := a.Language
	t := s.Catalog.T
	_, err = s.Mail.Enqueue(ctx, outbox.Draft{
		AccountID: a.ID, Purpose: "signup_existing", To: a.Email, Language: lang,
		Subject: t(lang, "mail.signup_existing.subject", s.ServiceName),
		Paragraphs: []string{
			t(lang, "mail.signup_existing.body", s.ServiceName),
			s.origin(lang, r.Origin),
			t(lang, "mail.signup_existing.advice"),
		},
	})
	return ch.ID, err
}

func (s *Service) origin(lang string, o Origin) string {
	when := o.Time.UTC().Format("2006-01-02 15:04 UTC")
	return s.Catalog.T(lang, "mail.origin", when, o.Browser, o.OS, o.IP)
}

// sendCode sends a confirmation or reset code, saying why it was sent, from
// where, and how long it is valid.
func (s *Service) sendCode(ctx context.Context, accountID, to, lang string, p code.Purpose, c string, o Origin) error {
	t := s.Catalog.T
	minutes := int(s.Codes.TTL / time.Minute)
	_, err := s.Mail.Enqueue(ctx, outbox.Draft{
		AccountID: accountID, Purpose: string(p), To: to, Language: lang, Code: c,
		Subject: t(lang, "mail."+string(p)+".subject", s.ServiceName),
		Paragraphs: []string{
			t(lang, "mail."+string(p)+".why", s.ServiceName),
			s.origin(lang, o),
			t(lang, "mail.code.valid", minutes),
			t(lang, "mail."+string(p)+".not_you"),
		},
	})
	return err
}

// ResendConfirmation sends a new confirmation code for the request.
func (s *Service) ResendConfirmation(ctx context.Context, challengeID, lang string, o Origin) error {
	ch, c, err := s.Codes.Resend(ctx, challengeID, code.ConfirmEmail)
	if err != nil || c == "" {
		return err
	}
	return s.sendCode(ctx, ch.AccountID, ch.Destination, lang, code.ConfirmEmail, c, o)
}

// Confirm checks the code of a sign-up request and activates the account.
// It returns the account, and whether the browser confirming it is the one
// that signed up (only then may the caller sign it in).
func (s *Service) Confirm(ctx context.Context, challengeID, c, deviceID string, at time.Time) (*Account, bool, error) {
	ch, err := s.Codes.Verify(ctx, challengeID, code.ConfirmEmail, c)
	if err != nil {
		return nil, false, err
	}
	a, err := s.Store.AccountByID(ctx, ch.AccountID)
	if errors.Is(err, ErrNotFound) || (err == nil && a.Email != ch.Destination) {
		// Replaced by a newer sign-up for the same address.
		return nil, false, code.ErrExpired
	}
	if err != nil {
		return nil, false, err
	}
	if a.Status == Unconfirmed {
		if err := s.Store.ConfirmAccount(ctx, a.ID, at); err != nil {
			return nil, false, err
		}
		a.Status, a.ConfirmedAt = Active, at
	}
	return a, ch.DeviceID != "" && ch.DeviceID == deviceID, nil
}

// reused reports whether pw equals the current password or one of the
// previous ones the history keeps.
func (s *Service) reused(ctx context.Context, a *Account, pw string) (bool, error) {
	hist, err := s.Store.PasswordHistory(ctx, a.ID, s.HistoryLength-1)
	if err != nil {
		return false, err
	}
	for _, h := range append([]string{a.PasswordHash}, hist...) {
		ok, _, err := s.Hasher.Verify(ctx, pw, h)
		if err != nil && !errors.Is(err, password.ErrMalformedHash) {
			return false, err
		}
		if ok {
			return true, nil
		}
	}
	return false, nil
}

// setPassword checks the new password against the policy and the history,
// runs commit (if any) once everything is validated, stores the new hash and
// notifies the holder.
func (s *Service) setPassword(ctx context.Context, a *Account, field, pw, purpose string, o Origin, commit func() error) error {
	if errs := s.checkPassword(field, pw, a.Email); errs != nil {
		return errs
	}
	if reused, err := s.reused(ctx, a, pw); err != nil {
		return err
	} else if reused {
		return FieldErrors{field: "password.reason." + string(password.Reused)}
	}
	hash, err := s.Hasher.Hash(ctx, pw)
	if err != nil {
		return err
	}
	if commit != nil {
		if err := commit(); err != nil {
			return err
		}
	}
	if err := s.Store.SetPasswordHash(ctx, a.ID, hash, o.Time.UTC(), true); err != nil {
		return err
	}
	t, lang := s.Catalog.T, a.Language
	_, err = s.Mail.Enqueue(ctx, outbox.Draft{
		AccountID: a.ID, Purpose: purpose, To: a.Email, Language: lang,
		Subject: t(lang, "mail."+purpose+".subject", s.ServiceName),
		Paragraphs: []string{
			t(lang, "mail."+purpose+".body", s.ServiceName),
			s.origin(lang, o),
			t(lang, "mail.password_notice.not_you"),
		},
	})
	return err
}

// ChangePassword changes a signed-in holder's password after checking the
// current one (ASVS v5.0.0-6.2.3).
func (s *Service) ChangePassword(ctx context.Context, accountID, current, next string, o Origin) error {
	a, err := s.Store.AccountByID(ctx, accountID)
	if err != nil {
		return err
	}
	if current == "" {
		return FieldErrors{"current_password": "error.required"}
	}
	ok, _, err := s.Hasher.Verify(ctx, current, a.PasswordHash)
	if err != nil {
		return err
	}
	if !ok {
		return FieldErrors{"current_password": "error.current_password_wrong"}
	}
	return s.setPassword(ctx, a, "new_password", next, "password_changed", o, nil)
}

// RequestReset starts a password reset and returns the request id. Every
// address gets the same answer; only a confirmed account's address receives
// a code.
func (s *Service) RequestReset(ctx context.Context, email, lang string, o Origin) (string, error) {
	norm, err := NormalizeEmail(email)
	if email == "" {
		return "", FieldErrors{"email": "error.required"}
	} else if err != nil {
		return "", FieldErrors{"email": "error.email_invalid"}
	}
	a, err := s.Store.AccountByEmail(ctx, norm)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return "", err
	}
	if a == nil || a.Status != Active {
		ch, _, err := s.Codes.Issue(ctx, code.ResetPassword, "", norm, o.DeviceID, true)
		if err != nil {
			return "", err
		}
		// Record, but never send, what this request would have cost: the
		// same writes as for an address with an account.
		t := s.Catalog.T
		_, err = s.Mail.Enqueue(ctx, outbox.Draft{
			Purpose: string(code.ResetPassword), To: norm, Language: lang, Withhold: true,
			Subject:    t(lang, "mail.reset_password.subject", s.ServiceName),
			Paragraphs: []string{t(lang, "mail.reset_password.withheld"), s.origin(lang, o)},
		})
		return ch.ID, err
	}
	ch, c, err := s.Codes.Issue(ctx, code.ResetPassword, a.ID, a.Email, o.DeviceID, false)
	if err != nil {
		return "", err
	}
	return ch.ID, s.sendCode(ctx, a.ID, a.Email, a.Language, code.ResetPassword, c, o)
}

// ResendReset sends a new reset code for the request, in the account's
// language (lang, the page's, is not used: the message goes to the holder).
func (s *Service) ResendReset(ctx context.Context, challengeID, _ string, o Origin) error {
	ch, c, err := s.Codes.Resend(ctx, challengeID, code.ResetPassword)
	if err != nil || c == "" {
		return err
	}
	a, err := s.Store.AccountByID(ctx, ch.AccountID)
	if err != nil {
		return err
	}
	return s.sendCode(ctx, a.ID, a.Email, a.Language, code.ResetPassword, c, o)
}

// Reset sets a new password with a reset code and signs the account out
// everywhere. The holder then signs in with the new password (no automatic
// sign-in: OWASP Forgot Password cheat sheet).
func (s *Service) Reset(ctx context.Context, challengeID, c, next string, o Origin) error {
	ch, err := s.Codes.Lookup(ctx, challengeID, code.ResetPassword)
	if err != nil {
		return err
	}
	// The rule is checked before the code is used up, so a refused password
	// does not cost the holder their code.
	if errs := s.checkPassword("new_password", next, ch.Destination); errs != nil {
		return errs
	}
	if c == "" {
		return FieldErrors{"code": "error.required"}
	}
	// Checked, not used: a password refused for reuse must not cost the
	// holder their code. It is used only once everything else is valid.
	if ch, err = s.Codes.Check(ctx, challengeID, code.ResetPassword, c); err != nil {
		return err
	}
	a, err := s.Store.AccountByID(ctx, ch.AccountID)
	if err != nil {
		return err
	}
	err = s.setPassword(ctx, a, "new_password", next, "password_reset", o, func() error { return s.Codes.Use(ctx, ch) })
	if err != nil {
		return err
	}
	return s.Sessions.EndAll(ctx, a.ID)
}

// Create makes an active account directly (the operator's "user create").
func (s *Service) Create(ctx context.Context, email, pw, lang string) (*Account, error) {
	norm, err := NormalizeEmail(email)
	if err != nil {
		return nil, err
	}
	if errs := s.checkPassword("password", pw, norm); errs != nil {
		return nil, fmt.Errorf("password refused: %s", s.Catalog.T("en", errs["password"]))
	}
	hash, err := s.Hasher.Hash(ctx, pw)
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	a := &Account{ID: random.ID(), Email: norm, PasswordHash: hash, Language: lang, Status: Active,
		CreatedAt: now, ConfirmedAt: now, PasswordChangedAt: now}
	return a, s.Store.CreateAccount(ctx, a)
}

// Disable stops an account from signing in and ends its sessions
// (ASVS v5.0.0-7.4.2).
func (s *Service) Disable(ctx context.Context, id string) error {
	if err := s.Store.SetStatus(ctx, id, Disabled); err != nil {
		return err
	}
	return s.Sessions.EndAll(ctx, id)
}
