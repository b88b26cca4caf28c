// Package twostep turns two-step verification on and keeps its methods
// together: authenticator apps (package totp), a phone number for codes by
// SMS (package phone), passkeys (package passkey) and backup codes (package
// backup).
//
// There is no separate switch: confirming the first method is what turns
// two-step verification on, and that is the moment the backup codes are
// made (shown once), so no holder ends up with a second step and no way
// back in. Every change is one transaction and is announced to the holder.
package twostep

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gatehouse/internal/account"
	"gatehouse/internal/backup"
	"gatehouse/internal/code"
	"gatehouse/internal/commit"
	"gatehouse/internal/method"
	"gatehouse/internal/notice"
	"gatehouse/internal/passkey"
	"gatehouse/internal/phone"
	"gatehouse/internal/request"
	"gatehouse/internal/secevent"
	"gatehouse/internal/totp"
)

// Service runs the two-step settings.
type Service struct {
	Apps   *totp.Service
	Backup *backup.Service
	Phone  *phone.Service
	// Passkeys is nil when the public URL cannot hold passkeys (see
	// passkey.RelyingParty); the other methods work without it.
	Passkeys *passkey.Service
	Notices  notice.Sender
	Tx       commit.Transactor // required (tests without transactions say commit.Direct{})
	// Set is the second-step methods, registered by kind: what a sign-in
	// asks for is what makes two-step verification on (Ways). Required.
	Set *method.Set
	// Forget drops this node's cached sessions of an account after a
	// change to it (its phone) commits; nil forgets nothing.
	Forget func(accountID string)
	// Events, if set, records a credential change for every method added,
	// replaced or removed, in the change's transaction.
	Events secevent.Sink
	// Resets keeps when an operator reset the account's two-step
	// verification (Reset); ResetWait is how long after a reset a new
	// method may be added only from a device the account used before it.
	// Nil Resets: no reset is ever recorded or waited for.
	Resets    ResetStore
	ResetWait time.Duration
}

// ResetStore keeps the time of an account's last reset by an operator;
// implemented by internal/sqlite and internal/postgres.
type ResetStore interface {
	RecordTwoStepReset(ctx context.Context, accountID string, at time.Time) error
	// TwoStepReset returns when the account's two-step verification was
	// last reset (zero if never) and whether deviceID was used by the
	// account before then.
	TwoStepReset(ctx context.Context, accountID, deviceID string) (at time.Time, usedBefore bool, err error)
}

// ErrResetWait refuses a new method from a device the account had not used
// before an operator reset its two-step verification, until the waiting
// period (ResetWait) ends: whoever talked support into the reset — perhaps
// not the holder — must not be able to enrol their own phone at once.
var ErrResetWait = errors.New("twostep: a new method may be added only from a device used before the reset, until the waiting period ends")

// ErrNothingToReset is returned by Reset for an account with no method and
// no backup code: a second press (or twenty at once) tells the holder
// nothing more and starts no new waiting period.
var ErrNothingToReset = errors.New("twostep: two-step verification is already off")

// ResetWaitUntil returns when the waiting period after an operator's reset
// ends for a new method added from o's device, at o.Time: zero when none
// applies (no reset within ResetWait, or a device the account used before
// it). The pages ask it before an enrolment begins — before a key is
// shown or a code texted — and say until when.
func (s *Service) ResetWaitUntil(ctx context.Context, a *account.Account, o request.Origin) (time.Time, error) {
	if s.Resets == nil {
		return time.Time{}, nil
	}
	at, before, err := s.Resets.TwoStepReset(ctx, a.ID, o.DeviceID)
	if err != nil {
		return time.Time{}, fmt.Errorf("twostep: read the last reset: %w", err)
	}
	if at.IsZero() || before || o.Time.Sub(at) >= s.ResetWait {
		return time.Time{}, nil
	}
	return at.Add(s.ResetWait), nil
}

// mayAdd refuses a new method while a reset's waiting period runs, unless
// the request comes from a device the account used before the reset.
func (s *Service) mayAdd(ctx context.Context, a *account.Account, o request.Origin) error {
	until, err := s.ResetWaitUntil(ctx, a, o)
	if err != nil {
		return err
	}
	if !until.IsZero() {
		return ErrResetWait
	}
	return nil
}

// Reset is an operator's reset of the account's two-step verification,
// for a holder who lost every method and proved who they are to support:
// every method goes as with Off, the reset is recorded (starting the
// waiting period), and the holder is told on every channel they had —
// the address and the number that received codes.
func (s *Service) Reset(ctx context.Context, a *account.Account, at time.Time) error {
	if s.Resets == nil {
		return errors.New("twostep: reset: no reset store wired")
	}
	o := request.Origin{Time: at}
	return s.Tx.InTx(ctx, func(ctx context.Context) error {
		// The record first: its row serialises two resets of one account
		// (twenty presses at once), and what follows reads the account as
		// the earlier one left it — the number included, which a caller's
		// copy read before the transaction may still show — so that the
		// later one finds nothing to reset and tells the holder nothing.
		if err := s.Resets.RecordTwoStepReset(ctx, a.ID, at); err != nil {
			return fmt.Errorf("twostep: reset: %w", err)
		}
		cur, err := s.Phone.Store.AccountByID(ctx, a.ID)
		if err != nil {
			return fmt.Errorf("twostep: reset: %w", err)
		}
		a = cur
		m, err := s.Methods(ctx, a)
		if err != nil {
			return fmt.Errorf("twostep: reset: %w", err)
		}
		if !m.On() && m.BackupLeft == 0 {
			return ErrNothingToReset
		}
		if err := s.removeAll(ctx, a, m, o); err != nil {
			return fmt.Errorf("twostep: reset: %w", err)
		}
		n := notice.Notice{Purpose: request.TwoStepReset, Origin: o, Wait: s.ResetWait}
		if err := s.send(ctx, a, n); err != nil {
			return fmt.Errorf("twostep: reset: %w", err)
		}
		if m.Phone != "" {
			// The number is no longer the account's, so the email's copy
			// by SMS would not reach it: told there directly.
			n.Channel, n.To = request.SMS, m.Phone
			if err := s.send(ctx, a, n); err != nil {
				return fmt.Errorf("twostep: reset: %w", err)
			}
		}
		return nil
	})
}

// changed records that a method (secevent.App, Phone, Passkey) was
// created, updated or deleted.
func (s *Service) changed(ctx context.Context, a *account.Account, o request.Origin, credential, change string) error {
	err := secevent.Record(ctx, s.Events, secevent.Event{Type: secevent.CredentialChange, AccountID: a.ID, At: o.Time,
		Credential: credential, Change: change})
	if err != nil {
		return fmt.Errorf("twostep: record the change: %w", err)
	}
	return nil
}

// Methods is what the settings page lists.
type Methods struct {
	Apps []*totp.App // confirmed apps, oldest first
	// Phone is the confirmed number for codes by SMS (E.164), or "".
	Phone string
	// Passkeys are the account's passkeys, oldest first; a flagged one
	// (see passkey.Credential.Flagged) is listed but no longer passes.
	Passkeys   []*passkey.Credential
	BackupLeft int
}

// On reports whether two-step verification is on: a confirmed method
// exists.
//
// A passkey flagged as a possible copy still counts: two-step verification
// is not quietly turned off by a clone. Its holder passes with a backup
// code (or another way) and removes it.
func (m *Methods) On() bool { return len(m.Apps) > 0 || m.Phone != "" || len(m.Passkeys) > 0 }

// Methods returns the account's confirmed methods.
func (s *Service) Methods(ctx context.Context, a *account.Account) (*Methods, error) {
	apps, err := s.Apps.Store.Apps(ctx, a.ID)
	if err != nil {
		return nil, fmt.Errorf("two-step: list apps: %w", err)
	}
	m := &Methods{Phone: confirmedPhone(a)}
	for _, a := range apps {
		if a.Confirmed() {
			m.Apps = append(m.Apps, a)
		}
	}
	if s.Passkeys != nil {
		if m.Passkeys, err = s.Passkeys.List(ctx, a.ID); err != nil {
			return nil, fmt.Errorf("two-step: list passkeys: %w", err)
		}
	}
	if m.BackupLeft, err = s.Backup.Left(ctx, a.ID); err != nil {
		return nil, fmt.Errorf("two-step: count backup codes: %w", err)
	}
	return m, nil
}

func confirmedPhone(a *account.Account) string {
	if a.PhoneConfirmedAt.IsZero() {
		return ""
	}
	return a.Phone
}

// Ways returns the second-step methods the account has set up, strongest
// first — the order a sign-in offers them in; none means two-step
// verification is off (method.Set.Ways).
func (s *Service) Ways(ctx context.Context, a *account.Account) ([]method.Kind, error) {
	ways, err := s.Set.Ways(ctx, a)
	if err != nil {
		return nil, fmt.Errorf("twostep: ways: %w", err)
	}
	return ways, nil
}

// On reports whether the account has two-step verification on: a
// confirmed method exists.
func (s *Service) On(ctx context.Context, a *account.Account) (bool, error) {
	ways, err := s.Ways(ctx, a)
	return len(ways) > 0, err
}

// Enabled is what confirming a method did.
type Enabled struct {
	// TurnedOn is set when this method turned two-step verification on;
	// BackupCodes then holds the new set, to show once.
	TurnedOn    bool
	BackupCodes []string
	// Replaced is set when the method took the place of another (a new
	// phone number for the old one).
	Replaced bool
}

// ConfirmApp confirms a pending authenticator app with its first code. The
// first method turns two-step verification on and makes the backup codes;
// the holder is told either way, by email, with the request's origin.
func (s *Service) ConfirmApp(ctx context.Context, a *account.Account, appID, name, code string, o request.Origin) (*Enabled, error) {
	if err := s.mayAdd(ctx, a, o); err != nil {
		return nil, err
	}
	was, err := s.On(ctx, a)
	if err != nil {
		return nil, fmt.Errorf("twostep: confirm app: %w", err)
	}
	out := &Enabled{}
	err = s.Tx.InTx(ctx, func(ctx context.Context) error {
		if err := s.Apps.Confirm(ctx, a.ID, appID, name, code); err != nil {
			return fmt.Errorf("twostep: confirm app: %w", err)
		}
		return s.added(ctx, a, was, notice.Notice{Method: "app", Origin: o}, out)
	})
	if err != nil {
		return nil, fmt.Errorf("twostep: confirm app: %w", err)
	}
	return out, nil
}

// added finishes adding a method, inside its transaction: the first
// method turns two-step verification on and makes the backup codes (into
// out), and the holder is told either way.
func (s *Service) added(ctx context.Context, a *account.Account, was bool, n notice.Notice, out *Enabled) error {
	n.Purpose = request.MethodAdded
	if !was {
		codes, err := s.Backup.New(ctx, a.ID)
		if err != nil {
			return fmt.Errorf("twostep: added: %w", err)
		}
		out.TurnedOn, out.BackupCodes, n.Purpose = true, codes, request.TwoStepOn
	}
	if err := s.changed(ctx, a, n.Origin, n.Method, secevent.Create); err != nil {
		return err
	}
	return s.send(ctx, a, n)
}

// ConfirmPhone confirms a number being enrolled with the code sent to it.
// A wrong code is counted (outside the transaction); a right one makes the
// number the account's, which turns two-step verification on if it was
// off (with backup codes, as for an app). The holder is told by email, and
// a number it replaces is told by SMS that codes no longer go there.
func (s *Service) ConfirmPhone(ctx context.Context, a *account.Account, id, typed string, o request.Origin) (*Enabled, error) {
	if err := s.mayAdd(ctx, a, o); err != nil {
		return nil, err
	}
	ch, err := s.Phone.Check(ctx, a, id, typed, o)
	if err != nil {
		return nil, fmt.Errorf("twostep: confirm phone: %w", err)
	}
	was, err := s.On(ctx, a)
	if err != nil {
		return nil, fmt.Errorf("twostep: confirm phone: %w", err)
	}
	old := confirmedPhone(a)
	out := &Enabled{}
	err = s.Tx.InTx(ctx, func(ctx context.Context) error {
		if err := s.Phone.Confirm(ctx, a, ch); err != nil {
			return fmt.Errorf("twostep: confirm phone: %w", err)
		}
		s.forget(ctx, a.ID)
		masked := phone.Mask(ch.Destination)
		if old == "" {
			return s.added(ctx, a, was, notice.Notice{Method: "phone", Phone: masked, Origin: o}, out)
		}
		out.Replaced = true
		if err := s.changed(ctx, a, o, secevent.Phone, secevent.Update); err != nil {
			return err
		}
		if err := s.send(ctx, a, notice.Notice{Purpose: request.PhoneChanged, Phone: masked, Origin: o}); err != nil {
			return fmt.Errorf("twostep: confirm phone: %w", err)
		}
		return s.send(ctx, a, notice.Notice{Purpose: request.PhoneChanged, Phone: masked, Origin: o, Channel: request.SMS, To: old})
	})
	if err != nil {
		return nil, fmt.Errorf("twostep: confirm phone: %w", err)
	}
	return out, nil
}

// ConfirmPasskey stores a new passkey from the browser's answer to the
// registration ceremony the page began. The first method turns two-step
// verification on and makes the backup codes; the holder is told either
// way.
func (s *Service) ConfirmPasskey(ctx context.Context, a *account.Account, ceremonyID, name string, response []byte, o request.Origin) (*passkey.Credential, *Enabled, error) {
	if s.Passkeys == nil {
		return nil, nil, passkey.ErrRelyingParty
	}
	if err := s.mayAdd(ctx, a, o); err != nil {
		return nil, nil, err
	}
	was, err := s.On(ctx, a)
	if err != nil {
		return nil, nil, fmt.Errorf("twostep: confirm passkey: %w", err)
	}
	out := &Enabled{}
	var c *passkey.Credential
	err = s.Tx.InTx(ctx, func(ctx context.Context) error {
		var err error
		if c, err = s.Passkeys.FinishRegistration(ctx, a.ID, ceremonyID, name, response); err != nil {
			return fmt.Errorf("twostep: confirm passkey: %w", err)
		}
		return s.added(ctx, a, was, notice.Notice{Method: "passkey", Origin: o}, out)
	})
	if err != nil {
		return nil, nil, fmt.Errorf("twostep: confirm passkey: %w", err)
	}
	return c, out, nil
}

// RemovePasskey removes one of the holder's passkeys; removing the last
// method turns two-step verification off. The holder is told.
func (s *Service) RemovePasskey(ctx context.Context, a *account.Account, id string, o request.Origin) (off bool, err error) {
	if s.Passkeys == nil {
		return false, passkey.ErrNotFound
	}
	err = s.Tx.InTx(ctx, func(ctx context.Context) error {
		if err := s.Passkeys.Remove(ctx, a.ID, id); err != nil {
			return fmt.Errorf("twostep: remove passkey: %w", err)
		}
		if err := s.changed(ctx, a, o, secevent.Passkey, secevent.Delete); err != nil {
			return err
		}
		if off, err = s.offIfNone(ctx, a, o); err != nil || off {
			return err
		}
		return s.send(ctx, a, notice.Notice{Purpose: request.MethodRemoved, Method: "passkey", Origin: o})
	})
	return off, err
}

// RemovePhone forgets the account's number; removing the last method
// turns two-step verification off. The holder is told by email and the
// number by SMS.
func (s *Service) RemovePhone(ctx context.Context, a *account.Account, o request.Origin) (off bool, err error) {
	old := confirmedPhone(a)
	if old == "" {
		return false, code.ErrNotFound
	}
	err = s.Tx.InTx(ctx, func(ctx context.Context) error {
		if err := s.Phone.Remove(ctx, a); err != nil {
			return fmt.Errorf("twostep: remove phone: %w", err)
		}
		if err := s.changed(ctx, a, o, secevent.Phone, secevent.Delete); err != nil {
			return err
		}
		s.forget(ctx, a.ID)
		b := *a
		b.Phone, b.PhoneConfirmedAt = "", time.Time{}
		if off, err = s.offIfNone(ctx, &b, o); err != nil {
			return fmt.Errorf("twostep: remove phone: %w", err)
		}
		masked := phone.Mask(old)
		if err := s.send(ctx, a, notice.Notice{Purpose: request.PhoneRemoved, Phone: masked, Origin: o, Channel: request.SMS, To: old}); err != nil {
			return fmt.Errorf("twostep: remove phone: %w", err)
		}
		if off {
			return nil
		}
		return s.send(ctx, a, notice.Notice{Purpose: request.MethodRemoved, Method: "phone", Phone: masked, Origin: o})
	})
	return off, err
}

// RemoveApp removes one of the holder's apps. Removing the last method
// turns two-step verification off (the backup codes go with it). The
// holder is told.
func (s *Service) RemoveApp(ctx context.Context, a *account.Account, appID string, o request.Origin) (off bool, err error) {
	err = s.Tx.InTx(ctx, func(ctx context.Context) error {
		if err := s.Apps.Remove(ctx, a.ID, appID); err != nil {
			return fmt.Errorf("twostep: remove app: %w", err)
		}
		if err := s.changed(ctx, a, o, secevent.App, secevent.Delete); err != nil {
			return err
		}
		if off, err = s.offIfNone(ctx, a, o); err != nil || off {
			return err
		}
		return s.send(ctx, a, notice.Notice{Purpose: request.MethodRemoved, Method: "app", Origin: o})
	})
	return off, err
}

// offIfNone ends two-step verification when a (as it is now) has no
// method left: the backup codes go, and the holder is told it is off.
func (s *Service) offIfNone(ctx context.Context, a *account.Account, o request.Origin) (bool, error) {
	on, err := s.On(ctx, a)
	if err != nil || on {
		return false, err
	}
	if err := s.Backup.Store.ReplaceBackupCodes(ctx, a.ID, nil, o.Time); err != nil {
		return false, fmt.Errorf("twostep: off if none: %w", err)
	}
	return true, s.send(ctx, a, notice.Notice{Purpose: request.TwoStepOff, Origin: o})
}

// Off turns two-step verification off: every app, passkey, the phone
// number and every backup code go, and the holder is told (by SMS too, at the number
// that no longer receives codes).
func (s *Service) Off(ctx context.Context, a *account.Account, o request.Origin) error {
	return s.Tx.InTx(ctx, func(ctx context.Context) error {
		m, err := s.Methods(ctx, a)
		if err != nil {
			return fmt.Errorf("twostep: off: %w", err)
		}
		if err := s.removeAll(ctx, a, m, o); err != nil {
			return fmt.Errorf("twostep: off: %w", err)
		}
		if m.Phone != "" {
			if err := s.send(ctx, a, notice.Notice{Purpose: request.PhoneRemoved, Phone: phone.Mask(m.Phone), Origin: o, Channel: request.SMS, To: m.Phone}); err != nil {
				return fmt.Errorf("twostep: off: %w", err)
			}
		}
		return s.send(ctx, a, notice.Notice{Purpose: request.TwoStepOff, Origin: o})
	})
}

// removeAll removes every method in m and the backup codes, inside the
// caller's transaction, recording each credential change.
func (s *Service) removeAll(ctx context.Context, a *account.Account, m *Methods, o request.Origin) error {
	for _, app := range m.Apps {
		if err := s.Apps.Remove(ctx, a.ID, app.ID); err != nil {
			return err
		}
		if err := s.changed(ctx, a, o, secevent.App, secevent.Delete); err != nil {
			return err
		}
	}
	for _, p := range m.Passkeys {
		if err := s.Passkeys.Remove(ctx, a.ID, p.ID); err != nil {
			return err
		}
		if err := s.changed(ctx, a, o, secevent.Passkey, secevent.Delete); err != nil {
			return err
		}
	}
	if m.Phone != "" {
		if err := s.Phone.Remove(ctx, a); err != nil {
			return err
		}
		if err := s.changed(ctx, a, o, secevent.Phone, secevent.Delete); err != nil {
			return err
		}
		s.forget(ctx, a.ID)
	}
	return s.Backup.Store.ReplaceBackupCodes(ctx, a.ID, nil, o.Time)
}

// NewBackupCodes replaces the holder's backup codes with a new set, to show
// once; the old set stops working.
func (s *Service) NewBackupCodes(ctx context.Context, a *account.Account, o request.Origin) ([]string, error) {
	var codes []string
	err := s.Tx.InTx(ctx, func(ctx context.Context) error {
		var err error
		if codes, err = s.Backup.New(ctx, a.ID); err != nil {
			return fmt.Errorf("twostep: new backup codes: %w", err)
		}
		return s.send(ctx, a, notice.Notice{Purpose: request.BackupRenewed, Origin: o})
	})
	return codes, err
}

// send tells the holder: by email to the account's address unless n says
// another channel and recipient.
func (s *Service) send(ctx context.Context, a *account.Account, n notice.Notice) error {
	n.AccountID, n.Language, n.TimeZone = a.ID, a.Language, a.TimeZone
	if n.To == "" {
		n.To = a.Email
	}
	if _, err := s.Notices.Send(ctx, n); err != nil {
		return fmt.Errorf("two-step: notify holder: %w", err)
	}
	return nil
}

// forget drops this node's cached sessions of the account once the
// change commits, so the holder's next page shows it.
func (s *Service) forget(ctx context.Context, accountID string) {
	if s.Forget != nil {
		commit.After(ctx, func() { s.Forget(accountID) })
	}
}
