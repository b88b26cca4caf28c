// Package operator holds the people who run Gatehouse for a service and
// what they do: accounts given a role for the operator console (support
// staff answering holders, administrators), and the audit trail of every
// action they take and every view of a holder's data they open.
//
// An operator is an ordinary account with a role. Their account must have
// two-step verification with a passkey or an authenticator app: a code by
// SMS alone is not enough for someone who can act on other people's
// accounts (NIST SP 800-63B-4 treats SMS as a restricted authenticator).
package operator

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gatehouse/internal/account"
	"gatehouse/internal/clock"
	"gatehouse/internal/random"
)

// Role is what an operator may do in the console.
type Role string

// Roles.
const (
	// Support reads accounts and their stories, answers holders and signs
	// a holder out everywhere.
	Support Role = "support"
	// Admin does everything Support does and changes accounts: disable,
	// enable, reset two-step verification, lift a limit.
	Admin Role = "admin"
)

// Roles lists the roles, least first.
var Roles = []Role{Support, Admin}

// ParseRole returns the role s names, or ErrRoleUnknown.
func ParseRole(s string) (Role, error) {
	if slices.Contains(Roles, Role(s)) {
		return Role(s), nil
	}
	return "", fmt.Errorf("%w: %q (support or admin)", ErrRoleUnknown, s)
}

// Can reports whether the role may take action (an Action's name).
func (r Role) Can(action Action) bool {
	switch r {
	case Admin:
		return true
	case Support:
		return !action.AdminOnly()
	}
	return false
}

// Operator is an account with a role.
type Operator struct {
	AccountID string
	Email     string // the account's address, as it is now
	Role      Role
	AddedAt   time.Time
}

// Action names what an audit entry records.
type Action string

// Actions. Views are recorded as well as changes: who looked at a holder's
// data is part of what the holder is shown.
const (
	ViewAccount   Action = "view_account"   // an account's page in the console
	ViewStory     Action = "view_story"     // a message's story, by reference
	ViewReport    Action = "view_report"    // a reported message's sealed content
	SignOutAll    Action = "sign_out_all"   // every session of the account ended
	PasswordKnown Action = "password_known" // the password marked as known to someone else
	Disable       Action = "disable"        // the account disabled
	Enable        Action = "enable"         // the account enabled again
	ResetTwoStep  Action = "reset_two_step" // the account's second steps removed
	LiftLimit     Action = "lift_limit"     // a limit's hold lifted
	ReportHandled Action = "report_handled" // a reported message marked handled
	RoleAdded     Action = "role_added"     // gatehouse operator add
	RoleRemoved   Action = "role_removed"   // gatehouse operator remove
)

// AdminOnly reports whether only an Admin may take the action.
func (a Action) AdminOnly() bool {
	switch a {
	case Disable, Enable, ResetTwoStep, LiftLimit, RoleAdded, RoleRemoved:
		return true
	}
	return false
}

// Changes reports whether the action changes something (and so asks for a
// fresh second step and a reason), rather than only viewing.
func (a Action) Changes() bool {
	return !strings.HasPrefix(string(a), "view_")
}

// Entry is one line of the audit trail.
type Entry struct {
	ID string
	At time.Time
	// OperatorID and OperatorEmail name who acted: the email as it was,
	// so that the line still reads after the operator's address changes.
	// A command run on the server's machine (gatehouse operator add) has
	// OperatorEmail "(command line)" and no OperatorID.
	OperatorID    string
	OperatorEmail string
	Action        Action
	// AccountID is the holder's account acted on or looked at; "" for an
	// action about no one account (a report marked handled).
	AccountID string
	// Reason is what the operator typed (every change asks for one).
	Reason string
	// IP and Device are where the operator acted from.
	IP     string
	Device string
	// Detail is what the action was about beyond the account: a message
	// reference, a report id, a limit's name. Never a code or a secret.
	Detail string
}

// AuditFilter selects audit entries; zero fields select all.
type AuditFilter struct {
	AccountID  string
	OperatorID string
	Since      time.Time
	Limit      int // at most this many, newest first; 0: 100
}

// ErrRoleUnknown is returned for a role that is not support or admin.
var ErrRoleUnknown = errors.New("operator: unknown role")

// ErrNotOperator is returned for an account without a role.
var ErrNotOperator = errors.New("operator: not an operator")

// ErrWeakTwoStep is returned when an account to be made an operator has no
// passkey and no authenticator app.
var ErrWeakTwoStep = errors.New("operator: the account needs two-step verification with a passkey or an authenticator app (SMS alone is not enough)")

// ErrNoReason is returned for a change without a reason.
var ErrNoReason = errors.New("operator: a reason is required")

// Store keeps operators and the audit trail; implemented by
// internal/sqlite and internal/postgres.
type Store interface {
	// SetOperator gives the account the role (or changes it).
	SetOperator(ctx context.Context, accountID string, role Role, at time.Time) error
	// RemoveOperator takes the account's role away; false if it had none.
	RemoveOperator(ctx context.Context, accountID string) (bool, error)
	// OperatorByAccount returns the account's role, or ErrNotOperator.
	OperatorByAccount(ctx context.Context, accountID string) (*Operator, error)
	// Operators lists every operator, by address.
	Operators(ctx context.Context) ([]*Operator, error)
	// AddAudit appends an entry to the audit trail.
	AddAudit(ctx context.Context, e *Entry) error
	// Audit returns the entries f selects, newest first.
	Audit(ctx context.Context, f AuditFilter) ([]*Entry, error)
}

// Strength says whether an account's two-step verification is strong
// enough for an operator: a passkey or an authenticator app.
type Strength func(ctx context.Context, a *account.Account) (bool, error)

// Accounts finds the account to give a role.
type Accounts interface {
	AccountByEmail(ctx context.Context, email string) (*account.Account, error)
}

// Service gives and takes roles and keeps the audit trail.
type Service struct {
	Store    Store
	Accounts Accounts
	Strong   Strength
	Clock    clock.Clock
}

// CommandLine is the operator of an action taken with a `gatehouse`
// command on the server's machine.
const CommandLine = "(command line)"

// ErasedOperator stands for an operator whose own account was erased, in
// the audit lines of what they did: the trail keeps what was done, not who.
const ErasedOperator = "(erased account)"

// Add gives the account of email the role: only an active account with a
// passkey or an authenticator app. It is recorded in the audit trail.
func (s *Service) Add(ctx context.Context, email string, role Role) (*Operator, error) {
	a, err := s.Accounts.AccountByEmail(ctx, email)
	if err != nil {
		return nil, fmt.Errorf("operator: add %s: %w", email, err)
	}
	if a.Status != account.Active {
		return nil, fmt.Errorf("operator: add %s: the account is %s", email, a.Status)
	}
	strong, err := s.Strong(ctx, a)
	if err != nil {
		return nil, fmt.Errorf("operator: add %s: %w", email, err)
	}
	if !strong {
		return nil, ErrWeakTwoStep
	}
	now := s.Clock.Now()
	if err := s.Store.SetOperator(ctx, a.ID, role, now); err != nil {
		return nil, fmt.Errorf("operator: add %s: %w", email, err)
	}
	if err := s.Store.AddAudit(ctx, &Entry{ID: random.ID(), At: now, OperatorEmail: CommandLine, Action: RoleAdded,
		AccountID: a.ID, Detail: string(role)}); err != nil {
		return nil, fmt.Errorf("operator: add %s: %w", email, err)
	}
	return &Operator{AccountID: a.ID, Email: a.Email, Role: role, AddedAt: now}, nil
}

// Remove takes the role of the account of email away.
func (s *Service) Remove(ctx context.Context, email string) error {
	a, err := s.Accounts.AccountByEmail(ctx, email)
	if err != nil {
		return fmt.Errorf("operator: remove %s: %w", email, err)
	}
	ok, err := s.Store.RemoveOperator(ctx, a.ID)
	if err != nil {
		return fmt.Errorf("operator: remove %s: %w", email, err)
	}
	if !ok {
		return ErrNotOperator
	}
	if err := s.Store.AddAudit(ctx, &Entry{ID: random.ID(), At: s.Clock.Now(), OperatorEmail: CommandLine,
		Action: RoleRemoved, AccountID: a.ID}); err != nil {
		return fmt.Errorf("operator: remove %s: %w", email, err)
	}
	return nil
}

// Record appends an operator's action to the audit trail. A change needs
// a reason.
func (s *Service) Record(ctx context.Context, e Entry) error {
	if e.Action.Changes() && strings.TrimSpace(e.Reason) == "" {
		return ErrNoReason
	}
	e.ID, e.At = random.ID(), s.Clock.Now()
	if err := s.Store.AddAudit(ctx, &e); err != nil {
		return fmt.Errorf("operator: record %s: %w", e.Action, err)
	}
	return nil
}
