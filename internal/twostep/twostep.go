// Package twostep turns two-step verification on and keeps its methods
// together: authenticator apps (package totp) and backup codes (package
// backup) today; SMS and passkeys join them.
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

	"gatehouse/internal/account"
	"gatehouse/internal/backup"
	"gatehouse/internal/notice"
	"gatehouse/internal/request"
	"gatehouse/internal/totp"
)

// Service runs the two-step settings.
type Service struct {
	Apps    *totp.Service
	Backup  *backup.Service
	Notices account.Notifier
	Tx      account.Transactor // nil runs each write on its own (tests)
}

// Methods is what the settings page lists.
type Methods struct {
	Apps       []*totp.App // confirmed apps, oldest first
	BackupLeft int
}

// On reports whether two-step verification is on: a confirmed method
// exists.
func (m *Methods) On() bool { return len(m.Apps) > 0 }

// Methods returns the account's confirmed methods.
func (s *Service) Methods(ctx context.Context, accountID string) (*Methods, error) {
	apps, err := s.Apps.Store.Apps(ctx, accountID)
	if err != nil {
		return nil, fmt.Errorf("two-step: list apps: %w", err)
	}
	m := &Methods{}
	for _, a := range apps {
		if a.Confirmed() {
			m.Apps = append(m.Apps, a)
		}
	}
	if m.BackupLeft, err = s.Backup.Left(ctx, accountID); err != nil {
		return nil, fmt.Errorf("two-step: count backup codes: %w", err)
	}
	return m, nil
}

// On reports whether the account has two-step verification on: a
// confirmed method exists. Every sign-in asks, so it reads only the apps.
func (s *Service) On(ctx context.Context, accountID string) (bool, error) {
	apps, err := s.Apps.Store.Apps(ctx, accountID)
	if err != nil {
		return false, fmt.Errorf("two-step: list apps: %w", err)
	}
	for _, a := range apps {
		if a.Confirmed() {
			return true, nil
		}
	}
	return false, nil
}

// Enabled is what confirming a method did.
type Enabled struct {
	// TurnedOn is set when this method turned two-step verification on;
	// BackupCodes then holds the new set, to show once.
	TurnedOn    bool
	BackupCodes []string
}

// ConfirmApp confirms a pending authenticator app with its first code. The
// first method turns two-step verification on and makes the backup codes;
// the holder is told either way, by email, with the request's origin.
func (s *Service) ConfirmApp(ctx context.Context, a *account.Account, appID, name, code string, o request.Origin) (*Enabled, error) {
	was, err := s.On(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	out := &Enabled{}
	err = s.inTx(ctx, func(ctx context.Context) error {
		if err := s.Apps.Confirm(ctx, a.ID, appID, name, code); err != nil {
			return err
		}
		purpose := request.MethodAdded
		if !was {
			codes, err := s.Backup.New(ctx, a.ID)
			if err != nil {
				return err
			}
			out.TurnedOn, out.BackupCodes, purpose = true, codes, request.TwoStepOn
		}
		if _, err := s.Notices.Send(ctx, notice.Notice{
			Purpose: purpose, AccountID: a.ID, To: a.Email, Language: a.Language, TimeZone: a.TimeZone, Origin: o,
		}); err != nil {
			return fmt.Errorf("two-step: notify holder: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ErrWrong is returned by Check for a wrong or used code.
var ErrWrong = errors.New("two-step: wrong or used code")

// Check passes a step-up's second step: a code of one of the holder's
// apps, or a backup code (used up). It is meant to run inside the
// caller's transaction.
func (s *Service) Check(ctx context.Context, accountID, method, code string) error {
	var err error
	switch method {
	case "backup":
		err = s.Backup.Use(ctx, accountID, code)
	default:
		_, err = s.Apps.Verify(ctx, accountID, code)
	}
	if errors.Is(err, totp.ErrNoMatch) || errors.Is(err, totp.ErrReplayed) || errors.Is(err, backup.ErrNoMatch) {
		return ErrWrong
	}
	return err
}

// RemoveApp removes one of the holder's apps. Removing the last method
// turns two-step verification off (the backup codes go with it). The
// holder is told.
func (s *Service) RemoveApp(ctx context.Context, a *account.Account, appID string, o request.Origin) (off bool, err error) {
	err = s.inTx(ctx, func(ctx context.Context) error {
		if err := s.Apps.Remove(ctx, a.ID, appID); err != nil {
			return err
		}
		on, err := s.On(ctx, a.ID)
		if err != nil {
			return err
		}
		purpose := request.MethodRemoved
		if !on {
			off, purpose = true, request.TwoStepOff
			if err := s.Backup.Store.ReplaceBackupCodes(ctx, a.ID, nil, o.Time); err != nil {
				return err
			}
		}
		return s.tell(ctx, a, purpose, o)
	})
	return off, err
}

// Off turns two-step verification off: every app and every backup code
// goes, and the holder is told.
func (s *Service) Off(ctx context.Context, a *account.Account, o request.Origin) error {
	return s.inTx(ctx, func(ctx context.Context) error {
		m, err := s.Methods(ctx, a.ID)
		if err != nil {
			return err
		}
		for _, app := range m.Apps {
			if err := s.Apps.Remove(ctx, a.ID, app.ID); err != nil {
				return err
			}
		}
		if err := s.Backup.Store.ReplaceBackupCodes(ctx, a.ID, nil, o.Time); err != nil {
			return err
		}
		return s.tell(ctx, a, request.TwoStepOff, o)
	})
}

// NewBackupCodes replaces the holder's backup codes with a new set, to show
// once; the old set stops working.
func (s *Service) NewBackupCodes(ctx context.Context, a *account.Account, o request.Origin) ([]string, error) {
	var codes []string
	err := s.inTx(ctx, func(ctx context.Context) error {
		var err error
		if codes, err = s.Backup.New(ctx, a.ID); err != nil {
			return err
		}
		return s.tell(ctx, a, request.BackupRenewed, o)
	})
	return codes, err
}

func (s *Service) tell(ctx context.Context, a *account.Account, p request.Purpose, o request.Origin) error {
	if _, err := s.Notices.Send(ctx, notice.Notice{
		Purpose: p, AccountID: a.ID, To: a.Email, Language: a.Language, TimeZone: a.TimeZone, Origin: o,
	}); err != nil {
		return fmt.Errorf("two-step: notify holder: %w", err)
	}
	return nil
}

func (s *Service) inTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if s.Tx == nil {
		return fn(ctx)
	}
	return s.Tx.InTx(ctx, fn)
}
