package totp

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"gatehouse/internal/clock"
	"gatehouse/internal/crypt"
	"gatehouse/internal/random"
)

// App is one authenticator app of an account.
type App struct {
	ID          string
	AccountID   string
	Name        string
	Secret      []byte // sealed; see Service.open
	CreatedAt   time.Time
	ConfirmedAt time.Time // zero while the enrolment waits for its first code
	LastUsedAt  time.Time
}

// Confirmed reports whether the app's first code was entered.
func (a *App) Confirmed() bool { return !a.ConfirmedAt.IsZero() }

// Store keeps apps and each account's last used step.
type Store interface {
	CreateApp(ctx context.Context, a *App) error
	// App returns ErrNotFound for an unknown id.
	App(ctx context.Context, id string) (*App, error)
	// Apps returns the account's apps, confirmed or not, oldest first.
	Apps(ctx context.Context, accountID string) ([]*App, error)
	ConfirmApp(ctx context.Context, id, name string, at time.Time) error
	DeleteApp(ctx context.Context, accountID, id string) error
	// LastStep returns the newest step the account used (0 for none).
	LastStep(ctx context.Context, accountID string) (int64, error)
	// UseStep records step as the account's newest used step if it is
	// newer than the stored one — a conditional update, the only guard
	// against the same code being accepted twice by two nodes — and marks
	// the app used. It reports whether this call recorded it.
	UseStep(ctx context.Context, accountID, appID string, step int64, at time.Time) (bool, error)
}

// ErrNotFound is a Store's answer for an unknown app.
var ErrNotFound = errors.New("totp: no such app")

// ErrName is returned for an app name that is empty, too long or not plain
// text.
var ErrName = errors.New("totp: app name must be 1 to 64 characters of text")

// MaxName bounds an app's name (characters).
const MaxName = 64

// Service enrols apps and checks their codes.
type Service struct {
	Store  Store
	Box    *crypt.Box // seals secrets at rest (the installation's encryption key)
	Issuer string     // the service name, shown by the app
	Clock  clock.Clock
}

// Begin starts an enrolment: a new secret, stored sealed as a pending app
// of the account. The holder scans Key.URI (or types Key.Secret) and then
// confirms with a first code (Confirm).
func (s *Service) Begin(ctx context.Context, accountID, accountName string) (*App, *Key, error) {
	key, err := NewKey(s.Issuer, accountName)
	if err != nil {
		return nil, nil, err
	}
	now := s.Clock.Now()
	a := &App{ID: random.ID(), AccountID: accountID, CreatedAt: now}
	a.Secret = s.Box.Seal([]byte(key.Secret), []byte(a.ID))
	if err := s.Store.CreateApp(ctx, a); err != nil {
		return nil, nil, fmt.Errorf("totp: begin: %w", err)
	}
	return a, key, nil
}

// Pending returns the key of an enrolment of the account that waits for its
// first code, to show it again (a wrong first code, a page reload).
func (s *Service) Pending(ctx context.Context, accountID, appID, accountName string) (*App, *Key, error) {
	a, err := s.Store.App(ctx, appID)
	if err != nil {
		return nil, nil, err
	}
	if a.AccountID != accountID || a.Confirmed() {
		return nil, nil, ErrNotFound
	}
	secret, err := s.open(a)
	if err != nil {
		return nil, nil, err
	}
	k, err := KeyFor(s.Issuer, accountName, secret)
	if err != nil {
		return nil, nil, err
	}
	return a, k, nil
}

// CleanName checks and tidies an app's name.
func CleanName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > MaxName || !utf8.ValidString(name) {
		return "", ErrName
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return "", ErrName
		}
	}
	return name, nil
}

// Confirm checks the first code of a pending app and, when it is right,
// confirms the app under name and records the step as used. It is meant
// to run inside the caller's transaction (turning 2SV on with it).
func (s *Service) Confirm(ctx context.Context, accountID, appID, name, code string) error {
	name, err := CleanName(name)
	if err != nil {
		return err
	}
	a, err := s.Store.App(ctx, appID)
	if err != nil {
		return err
	}
	if a.AccountID != accountID || a.Confirmed() {
		return ErrNotFound
	}
	step, err := s.match(ctx, a, code)
	if err != nil {
		return err
	}
	now := s.Clock.Now()
	ok, err := s.Store.UseStep(ctx, accountID, a.ID, step, now)
	if err != nil {
		return fmt.Errorf("totp: confirm: %w", err)
	}
	if !ok {
		return ErrReplayed
	}
	if err := s.Store.ConfirmApp(ctx, a.ID, name, now); err != nil {
		return fmt.Errorf("totp: confirm: %w", err)
	}
	return nil
}

// Verify checks a code against every confirmed app of the account and
// records the step used; it returns the app that matched. A code of a step
// already used — by this app or another, on this node or another — is
// ErrReplayed.
func (s *Service) Verify(ctx context.Context, accountID, code string) (*App, error) {
	apps, err := s.Store.Apps(ctx, accountID)
	if err != nil {
		return nil, fmt.Errorf("totp: verify: %w", err)
	}
	last, err := s.Store.LastStep(ctx, accountID)
	if err != nil {
		return nil, fmt.Errorf("totp: verify: %w", err)
	}
	result := ErrNoMatch
	for _, a := range apps {
		if !a.Confirmed() {
			continue
		}
		secret, err := s.open(a)
		if err != nil {
			return nil, err
		}
		step, err := Match(secret, code, s.Clock.Now(), last)
		if errors.Is(err, ErrReplayed) {
			result = ErrReplayed
			continue
		}
		if err != nil {
			continue
		}
		ok, err := s.Store.UseStep(ctx, accountID, a.ID, step, s.Clock.Now())
		if err != nil {
			return nil, fmt.Errorf("totp: verify: %w", err)
		}
		if !ok {
			return nil, ErrReplayed // another request used this step first
		}
		return a, nil
	}
	return nil, result
}

// Remove deletes an app of the account.
func (s *Service) Remove(ctx context.Context, accountID, appID string) error {
	return s.Store.DeleteApp(ctx, accountID, appID)
}

func (s *Service) match(ctx context.Context, a *App, code string) (int64, error) {
	secret, err := s.open(a)
	if err != nil {
		return 0, err
	}
	last, err := s.Store.LastStep(ctx, a.AccountID)
	if err != nil {
		return 0, fmt.Errorf("totp: %w", err)
	}
	return Match(secret, code, s.Clock.Now(), last)
}

func (s *Service) open(a *App) (string, error) {
	b, err := s.Box.Open(a.Secret, []byte(a.ID))
	if err != nil {
		return "", fmt.Errorf("totp: open the secret of app %s: %w", a.ID, err)
	}
	return string(b), nil
}
