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

// Transactor runs a flow in one transaction carried in the context (the
// store's InTx): every store call made with the context fn receives joins
// it, so the flow's writes land together or not at all.
type Transactor interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
}

// PasswordChecks records checks of an account's password made outside the
// sign-in form (the signin package's attempt record keeps them).
type PasswordChecks interface {
	RecordPasswordCheck(ctx context.Context, accountID, email string, ok bool, o Origin) error
}

// Origin describes where a request came from; messages quote it so the
// holder can tell whether it was them.
type Origin struct {
	DeviceID  string
	UserAgent string
	IP        string
	Browser   string
	OS        string
	Time      time.Time
}

// Service runs the account flows.
type Service struct {
	Store         Store
	Hasher        *password.Hasher
	Policy        password.Policy
	Codes         *code.Service
	Mail          Mailer
	Sessions      SessionEnder
	Guesses       PasswordChecks // may be nil
	Tx            Transactor     // nil runs each write on its own (tests)
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

// inTx runs fn as one transaction. Nothing slow (hashing) may run inside:
// on SQLite the transaction holds the one writer.
func (s *Service) inTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if s.Tx == nil {
		return fn(ctx)
	}
	return s.Tx.InTx(ctx, fn)
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
	var id string
	err = s.inTx(ctx, func(ctx context.Context) error {
		existing, err := s.Store.AccountByEmail(ctx, email)
		switch {
		case errors.Is(err, ErrNotFound):
		case err != nil:
			return err
		default:
			id, err = s.registerExisting(ctx, existing, email, r)
			return err
		}
		// No account yet: a pending sign-up, with its own code. Other
		// pending sign-ups for the address (someone else's typo, or this
		// person's earlier try) keep theirs; the first one confirmed wins.
		ch, c, err := s.Codes.Issue(ctx, code.ConfirmEmail, "", email, r.Origin.DeviceID, false)
		if err != nil {
			return err
		}
		su := &Signup{ID: ch.ID, Email: email, Phone: phone, PasswordHash: hash, Language: r.Language,
			DeviceID: r.Origin.DeviceID, CreatedAt: r.Origin.Time.UTC()}
		if err := s.Store.CreateSignup(ctx, su); err != nil {
			return err
		}
		id = ch.ID
		return s.sendCode(ctx, "", email, r.Language, "", code.ConfirmEmail, c, r.Origin)
	})
	if err != nil {
		return "", err
	}
	return id, nil
}

// registerExisting answers a sign-up for an address that has an account:
// the same page (a decoy request no code can answer), and a notice to the
// holder instead of a code.
func (s *Service) registerExisting(ctx context.Context, a *Account, email string, r Registration) (string, error) {
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
			s.origin(lang, a.TimeZone, "mail.origin", r.Origin),
			t(lang, "mail.signup_existing.advice"),
		},
	})
	return ch.ID, err
}

// origin describes where and when a request came from, in the reader's
// language and time zone (tz "" means the default for the language), using
// the catalog line key ("mail.origin" for a request, "mail.origin_done" for
// a change that has happened).
func (s *Service) origin(lang, tz, key string, o Origin) string {
	when := s.Catalog.Time(lang, o.Time, s.Catalog.Zone(lang, tz))
	return s.Catalog.T(lang, key, when, o.Browser, o.OS, o.IP)
}

// sendCode sends a confirmation or reset code, saying why it was sent, from
// where, and how long it is valid.
func (s *Service) sendCode(ctx context.Context, accountID, to, lang, tz string, p code.Purpose, c string, o Origin) error {
	t := s.Catalog.T
	minutes := int(s.Codes.TTL / time.Minute)
	_, err := s.Mail.Enqueue(ctx, outbox.Draft{
		AccountID: accountID, Purpose: string(p), To: to, Language: lang, Code: c,
		Subject: t(lang, "mail."+string(p)+".subject", s.ServiceName),
		Paragraphs: []string{
			t(lang, "mail."+string(p)+".why", s.ServiceName),
			t(lang, "mail.code.valid", minutes),
			s.origin(lang, tz, "mail.origin", o),
			t(lang, "mail."+string(p)+".not_you"),
			t(lang, "mail.code.never_share", s.ServiceName),
		},
	})
	return err
}

// ResendConfirmation sends a new confirmation code for the request.
func (s *Service) ResendConfirmation(ctx context.Context, challengeID, _ string, o Origin) error {
	return s.inTx(ctx, func(ctx context.Context) error { return s.resendConfirmation(ctx, challengeID, o) })
}

// resendConfirmation issues the new code and queues its message (one transaction: see the
// exported method).
func (s *Service) resendConfirmation(ctx context.Context, challengeID string, o Origin) error {
	ch, c, err := s.Codes.Resend(ctx, challengeID, code.ConfirmEmail)
	if err != nil || c == "" {
		return err
	}
	su, err := s.Store.Signup(ctx, ch.ID)
	if errors.Is(err, ErrNotFound) {
		// The sign-up ended (another one for the address was confirmed):
		// answer like a decoy and send nothing — the address's owner has
		// an account now and must not get codes for a dead request.
		return nil
	}
	if err != nil {
		return err
	}
	return s.sendCode(ctx, "", ch.Destination, su.Language, "", code.ConfirmEmail, c, o)
}

// ErrPasswordNeeded is returned by Confirm when the code is right but the
// browser confirming it is not the one that signed up: whoever signed up
// chose the password, and the owner of the address — who has just proved
// it — must not be handed an account with a stranger's password (account
// pre-hijacking). The caller asks for a new password and calls Confirm
// again with it; the code is not used up until then.
var ErrPasswordNeeded = errors.New("account: confirming from another browser; choose a password")

// Confirmation is what a successful Confirm did.
type Confirmation struct {
	Account *Account
	// SignIn is set when the browser that confirmed is the one that signed
	// up with this password: only then may the caller sign it in.
	SignIn bool
}

// Confirm checks the code of a sign-up request and creates the account.
// From the browser that signed up, the password chosen then is kept. From
// any other browser it returns ErrPasswordNeeded unless newPassword is
// given, which then replaces the sign-up's password.
func (s *Service) Confirm(ctx context.Context, challengeID, c, deviceID, newPassword string, at time.Time) (*Confirmation, error) {
	ch, err := s.Codes.Check(ctx, challengeID, code.ConfirmEmail, c)
	if err != nil {
		return nil, err
	}
	su, err := s.Store.Signup(ctx, ch.ID)
	if errors.Is(err, ErrNotFound) {
		// Another sign-up for the address was confirmed first: this
		// request has ended, and no new code can revive it.
		return nil, code.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	sameBrowser := su.DeviceID != "" && su.DeviceID == deviceID
	hash := su.PasswordHash
	if !sameBrowser {
		if newPassword == "" {
			return nil, ErrPasswordNeeded
		}
		if errs := s.checkPassword("new_password", newPassword, su.Email); errs != nil {
			return nil, errs
		}
		if hash, err = s.Hasher.Hash(ctx, newPassword); err != nil {
			return nil, err
		}
	}
	a := &Account{
		ID: random.ID(), Email: su.Email, Phone: su.Phone, PasswordHash: hash, Language: su.Language,
		Status: Active, CreatedAt: su.CreatedAt, ConfirmedAt: at.UTC(), PasswordChangedAt: at.UTC(),
	}
	// The code is used and the account made together: a code spent on an
	// account that was never created would leave the holder stuck.
	err = s.inTx(ctx, func(ctx context.Context) error {
		if err := s.Codes.Use(ctx, ch); err != nil {
			return err
		}
		return s.Store.CompleteSignup(ctx, su.ID, a)
	})
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrEmailTaken) {
		return nil, code.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return &Confirmation{Account: a, SignIn: sameBrowser}, nil
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
//
// commit runs first inside the transaction (a reset uses its code there),
// after last (a reset ends every session); either may be nil.
func (s *Service) setPassword(ctx context.Context, a *Account, field, pw, purpose string, o Origin, commit, after func(ctx context.Context) error) error {
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
	// Everything that follows is one transaction: the code (if any) is
	// used, the password changed, the notice queued and (after) the
	// sessions ended — all of it or none.
	return s.inTx(ctx, func(ctx context.Context) error {
		if commit != nil {
			if err := commit(ctx); err != nil {
				return err
			}
		}
		if err := s.Store.SetPasswordHash(ctx, a.ID, hash, o.Time.UTC(), true); err != nil {
			return err
		}
		t, lang := s.Catalog.T, a.Language
		if _, err := s.Mail.Enqueue(ctx, outbox.Draft{
			AccountID: a.ID, Purpose: purpose, To: a.Email, Language: lang,
			Subject: t(lang, "mail."+purpose+".subject", s.ServiceName),
			Paragraphs: []string{
				t(lang, "mail."+purpose+".body", s.ServiceName),
				s.origin(lang, a.TimeZone, "mail.origin_done", o),
				t(lang, "mail.password_notice.not_you"),
			},
		}); err != nil {
			return err
		}
		if after != nil {
			return after(ctx)
		}
		return nil
	})
}

// ChangePassword changes a signed-in holder's password after checking the
// current one (ASVS v5.0.0-6.2.3).
// Both fields are checked in one round, so the holder fixes everything at
// once; every check of the current password is recorded like a sign-in
// attempt, because a wrong one is a guess at the password.
func (s *Service) ChangePassword(ctx context.Context, accountID, current, next string, o Origin) error {
	a, err := s.Store.AccountByID(ctx, accountID)
	if err != nil {
		return err
	}
	errs := s.checkPassword("new_password", next, a.Email)
	if current == "" {
		if errs == nil {
			errs = FieldErrors{}
		}
		errs["current_password"] = "error.required"
		return errs
	}
	ok, _, err := s.Hasher.Verify(ctx, current, a.PasswordHash)
	if err != nil {
		return err
	}
	if !ok && s.Guesses != nil {
		// A wrong guess is recorded on its own; a right one with the change.
		if err := s.Guesses.RecordPasswordCheck(ctx, a.ID, a.Email, false, o); err != nil {
			return err
		}
	}
	if !ok {
		if errs == nil {
			errs = FieldErrors{}
		}
		errs["current_password"] = "error.current_password_wrong"
	}
	if errs != nil {
		return errs
	}
	var record func(ctx context.Context) error
	if s.Guesses != nil {
		record = func(ctx context.Context) error { return s.Guesses.RecordPasswordCheck(ctx, a.ID, a.Email, true, o) }
	}
	return s.setPassword(ctx, a, "new_password", next, "password_changed", o, record, nil)
}

// SetPreferences sets the language of the holder's messages and their time
// zone ("" for the default of that language).
func (s *Service) SetPreferences(ctx context.Context, accountID, lang, tz string) error {
	errs := FieldErrors{}
	if !i18n.Supported(lang) {
		errs["language"] = "error.choose_option"
	}
	if tz != "" && !i18n.KnownZone(tz) {
		errs["time_zone"] = "error.choose_option"
	}
	if len(errs) > 0 {
		return errs
	}
	return s.Store.SetPreferences(ctx, accountID, lang, tz)
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
	var id string
	err = s.inTx(ctx, func(ctx context.Context) (err error) {
		id, err = s.requestReset(ctx, norm, lang, o)
		return err
	})
	return id, err
}

// requestReset records the reset request and its message (a code, or a
// withheld record for an address without an active account).
func (s *Service) requestReset(ctx context.Context, norm, lang string, o Origin) (string, error) {
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
			Paragraphs: []string{t(lang, "mail.reset_password.withheld"), s.origin(lang, "", "mail.origin", o)},
		})
		return ch.ID, err
	}
	// The request records the address as typed (normalised), not the
	// account's stored spelling: the code page shows it, and showing the
	// stored spelling would tell whoever typed KNOWN@… that an account
	// exists. The code goes to the stored address.
	ch, c, err := s.Codes.Issue(ctx, code.ResetPassword, a.ID, norm, o.DeviceID, false)
	if err != nil {
		return "", err
	}
	return ch.ID, s.sendCode(ctx, a.ID, a.Email, a.Language, a.TimeZone, code.ResetPassword, c, o)
}

// ResendReset sends a new reset code for the request, in the account's
// language (lang, the page's, is not used: the message goes to the holder).
func (s *Service) ResendReset(ctx context.Context, challengeID, _ string, o Origin) error {
	return s.inTx(ctx, func(ctx context.Context) error { return s.resendReset(ctx, challengeID, o) })
}

// resendReset issues the new code and queues its message (one transaction: see the
// exported method).
func (s *Service) resendReset(ctx context.Context, challengeID string, o Origin) error {
	ch, c, err := s.Codes.Resend(ctx, challengeID, code.ResetPassword)
	if err != nil || c == "" {
		return err
	}
	a, err := s.Store.AccountByID(ctx, ch.AccountID)
	if err != nil {
		return err
	}
	return s.sendCode(ctx, a.ID, a.Email, a.Language, a.TimeZone, code.ResetPassword, c, o)
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
	return s.setPassword(ctx, a, "new_password", next, "password_reset", o,
		func(ctx context.Context) error { return s.Codes.Use(ctx, ch) },
		func(ctx context.Context) error { return s.Sessions.EndAll(ctx, a.ID) })
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
	return s.inTx(ctx, func(ctx context.Context) error {
		if err := s.Store.SetStatus(ctx, id, Disabled); err != nil {
			return err
		}
		return s.Sessions.EndAll(ctx, id)
	})
}
