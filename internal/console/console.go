// Package console is what the operator console does: finding a holder's
// account, showing what support may see of it, the actions support and
// admins take, the queue of reported messages and the limits — each one
// written to the audit trail (package operator) before its answer is
// given. The pages that show it are the web package's (they share the
// holder's templates, so support reads the words the holder reads); the
// access levels and their gate are here.
//
// What the console never shows: a code, a secret, a password's hash, or a
// whole phone number. Messages are listed without their text (a code's
// message carries it masked, but its shape is no one's business), numbers
// by their last digits, reported content only when opened — and opening is
// recorded.
package console

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"gatehouse/internal/account"
	"gatehouse/internal/activity"
	"gatehouse/internal/check"
	"gatehouse/internal/clock"
	"gatehouse/internal/commit"
	"gatehouse/internal/crypt"
	"gatehouse/internal/device"
	"gatehouse/internal/limit"
	"gatehouse/internal/operator"
	"gatehouse/internal/outbox"
	"gatehouse/internal/random"
	"gatehouse/internal/request"
	"gatehouse/internal/signin"
	"gatehouse/internal/twostep"
)

// ErrForbidden is returned for an action the operator's role does not
// allow (a support operator resetting two-step verification).
var ErrForbidden = errors.New("console: your role does not allow this")

// ErrQuery is returned for a search that is neither an address, a
// message reference, nor the last digits of a phone number.
var ErrQuery = errors.New("console: type an address, a message reference or the last 4 or more digits of a phone number")

// ErrLimitUnknown is returned for a limit that is not one of limit.Secrets.
var ErrLimitUnknown = errors.New("console: no such limit")

// ErrReviewUnknown is returned for a verdict that is not one of
// check.Reviews.
var ErrReviewUnknown = errors.New("console: choose a verdict")

// Actor is the operator acting and where from: every audit line names both.
type Actor struct {
	Operator *operator.Operator
	Origin   request.Origin
}

// Accounts finds and reads holders' accounts (the store).
type Accounts interface {
	AccountByEmail(ctx context.Context, email string) (*account.Account, error)
	AccountByID(ctx context.Context, id string) (*account.Account, error)
	// AccountsByPhoneEnding returns the accounts whose confirmed number
	// ends with digits, at most limit.
	AccountsByPhoneEnding(ctx context.Context, digits string, limit int) ([]*account.Account, error)
}

// Changes are the account changes an operator may make (account.Service).
type Changes interface {
	Disable(ctx context.Context, id string) error
	Enable(ctx context.Context, id string) error
	SignOutEverywhere(ctx context.Context, accountID string) error
	MarkPasswordKnown(ctx context.Context, accountID string) error
}

// Messages reads stored messages (outbox.Store).
type Messages interface {
	MessageByReference(ctx context.Context, ref string) (*outbox.Message, error)
	AccountMessages(ctx context.Context, accountID string, q outbox.AccountQuery) ([]*outbox.Message, error)
}

// Activity reads what the holder answered (activity.Store) and an
// account's sign-in attempts (signin.Store).
type Activity interface {
	AttemptsPage(ctx context.Context, accountID string, q signin.AttemptQuery) ([]*signin.Attempt, error)
	DeniedAttempts(ctx context.Context, accountID string, since time.Time) (map[string]bool, error)
	Requests(ctx context.Context, challengeIDs []string) (map[string]activity.Request, error)
}

// Stories tells a message's story as /why tells it (activity.Service).
type Stories interface {
	Story(ctx context.Context, accountID, ref string) (*activity.Story, error)
}

// Devices lists an account's devices (device.Devices).
type Devices interface {
	List(ctx context.Context, accountID string) ([]device.AccountDevice, error)
}

// TwoStep reads and resets an account's second steps (twostep.Service).
type TwoStep interface {
	Methods(ctx context.Context, a *account.Account) (*twostep.Methods, error)
	Reset(ctx context.Context, a *account.Account, at time.Time) error
}

// Limits reads and lifts the limits (limit.Limiter and the store).
type Limits interface {
	Guesses(ctx context.Context, accountID string) (map[limit.Secret]int, error)
	Lift(ctx context.Context, accountID string, s limit.Secret, destinations ...string) error
	Refusals(ctx context.Context, since time.Time, n int) ([]limit.Refusal, error)
	SMSToday(ctx context.Context) (map[string]int, error)
	Policy() limit.Policy
}

// Opener opens a report's sealed content (crypt.Box).
type Opener interface {
	Open(sealed, ad []byte) ([]byte, error)
}

var _ Opener = (*crypt.Box)(nil)

// Service is the console's work. Every field is required.
type Service struct {
	Operators   *operator.Service
	Accounts    Accounts
	Changes     Changes
	Messages    Messages
	Activity    Activity
	Stories     Stories
	Devices     Devices
	TwoStep     TwoStep
	Limits      Limits
	ReportStore check.ReportStore
	Box         Opener
	Clock       clock.Clock
	// Tx runs a change and its audit line as one transaction. Required
	// (tests without transactions say commit.Direct{}).
	Tx commit.Transactor
}

// OperatorOf returns the account's role, or operator.ErrNotOperator; and
// operator.ErrWeakTwoStep for an operator whose account no longer has a
// passkey or an authenticator app (removed after the role was given): the
// role stays, the console waits until one is added again.
func (s *Service) OperatorOf(ctx context.Context, a *account.Account) (*operator.Operator, error) {
	op, err := s.Operators.Store.OperatorByAccount(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	strong, err := s.Operators.Strong(ctx, a)
	if err != nil {
		return nil, fmt.Errorf("console: operator: %w", err)
	}
	if !strong {
		return nil, operator.ErrWeakTwoStep
	}
	op.Email = a.Email
	return op, nil
}

// record writes the audit line of what the actor did; an action that
// changes something and has no reason is refused before it is taken.
func (s *Service) record(ctx context.Context, by Actor, action operator.Action, accountID, reason, detail string) error {
	return s.Operators.Record(ctx, operator.Entry{OperatorID: by.Operator.AccountID, OperatorEmail: by.Operator.Email,
		Action: action, AccountID: accountID, Reason: strings.TrimSpace(reason), IP: by.Origin.IP, Device: by.Origin.DeviceID, Detail: detail})
}

// allowed refuses an action the actor's role does not allow, and a change
// without a reason: both before anything is done.
func allowed(by Actor, action operator.Action, reason string) error {
	if !by.Operator.Role.Can(action) {
		return ErrForbidden
	}
	if action.Changes() && strings.TrimSpace(reason) == "" {
		return operator.ErrNoReason
	}
	return nil
}

var digitsOnly = regexp.MustCompile(`^[0-9]{4,15}$`)

// Find returns the accounts a support query names: an address (exact), a
// message reference (its holder), or the last four or more digits of a
// confirmed phone number (spaces, hyphens and a leading + ignored).
// Nothing is recorded: a search shows addresses only, and the view that
// follows is recorded.
func (s *Service) Find(ctx context.Context, query string) ([]*account.Account, error) {
	q := strings.TrimSpace(query)
	switch {
	case q == "":
		return nil, ErrQuery
	case strings.Contains(q, "@"):
		norm, err := account.NormalizeEmail(q)
		if err != nil {
			return nil, ErrQuery
		}
		a, err := s.Accounts.AccountByEmail(ctx, norm)
		if errors.Is(err, account.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("console: find: %w", err)
		}
		return []*account.Account{a}, nil
	}
	if ref, ok := random.ParseReference(q); ok {
		m, err := s.Messages.MessageByReference(ctx, ref)
		if errors.Is(err, outbox.ErrNotFound) || (err == nil && m.AccountID == "") {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("console: find: %w", err)
		}
		a, err := s.Accounts.AccountByID(ctx, m.AccountID)
		if errors.Is(err, account.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("console: find: %w", err)
		}
		return []*account.Account{a}, nil
	}
	digits := phoneDigits(q)
	if !digitsOnly.MatchString(digits) {
		return nil, ErrQuery
	}
	found, err := s.Accounts.AccountsByPhoneEnding(ctx, digits, 50)
	if err != nil {
		return nil, fmt.Errorf("console: find: %w", err)
	}
	return found, nil
}

// phoneDigits is a number as a holder reads it out, reduced to the digits
// its stored (E.164) form ends with: separators and full-width digits as
// typed in Japanese go, and so does a national number's leading trunk
// prefix 0 ("090-1234-5678" is +81 90 1234 5678), which E.164 drops.
func phoneDigits(q string) string {
	var b strings.Builder
	for _, r := range q {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r >= '０' && r <= '９':
			b.WriteRune('0' + r - '０')
		case strings.ContainsRune(" -+().\u3000－（）", r):
		default:
			return q // not a number: refused as a query
		}
	}
	d := b.String()
	if !strings.HasPrefix(strings.TrimSpace(q), "+") {
		d = strings.TrimLeft(d, "0")
	}
	return d
}

// View is what the console shows of an account: never a code, a secret or
// a whole number.
type View struct {
	Account  *account.Account
	Operator *operator.Operator // the account's own role, if it has one
	Methods  *twostep.Methods   // Phone masked (phone.Mask) by the page
	Attempts []*signin.Attempt
	Denied   map[string]bool // attempts the holder answered "this wasn't me" about
	Messages []*outbox.Message
	Disowned map[string]bool // messages (by id) whose request someone disowned
	// Own are messages (by id) whose code the holder used for their own
	// request (activity.Story.Own): never "someone mistyped".
	Own     map[string]bool
	Devices []device.AccountDevice
	Guesses map[limit.Secret]int // runs of consecutive failures, per kind of secret
	Audit   []*operator.Entry    // what operators did to and saw of it, newest first
}

// Account returns the account's view, and records that the actor saw it.
func (s *Service) Account(ctx context.Context, by Actor, id string) (*View, error) {
	a, err := s.Accounts.AccountByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := s.record(ctx, by, operator.ViewAccount, a.ID, "", ""); err != nil {
		return nil, err
	}
	v := &View{Account: a}
	if v.Operator, err = s.Operators.Store.OperatorByAccount(ctx, a.ID); errors.Is(err, operator.ErrNotOperator) {
		v.Operator = nil
	} else if err != nil {
		return nil, fmt.Errorf("console: view: %w", err)
	}
	if v.Methods, err = s.TwoStep.Methods(ctx, a); err != nil {
		return nil, fmt.Errorf("console: view: %w", err)
	}
	since := s.Clock.Now().Add(-30 * 24 * time.Hour)
	if v.Attempts, err = s.Activity.AttemptsPage(ctx, a.ID, signin.AttemptQuery{Since: since, Limit: 20}); err != nil {
		return nil, fmt.Errorf("console: view: %w", err)
	}
	if v.Denied, err = s.Activity.DeniedAttempts(ctx, a.ID, since); err != nil {
		return nil, fmt.Errorf("console: view: %w", err)
	}
	if v.Messages, err = s.Messages.AccountMessages(ctx, a.ID, outbox.AccountQuery{Limit: 20}); err != nil {
		return nil, fmt.Errorf("console: view: %w", err)
	}
	var ids []string
	for _, m := range v.Messages {
		if m.ChallengeID != "" {
			ids = append(ids, m.ChallengeID)
		}
	}
	v.Disowned, v.Own = map[string]bool{}, map[string]bool{}
	if len(ids) > 0 {
		reqs, err := s.Activity.Requests(ctx, ids)
		if err != nil {
			return nil, fmt.Errorf("console: view: %w", err)
		}
		for _, m := range v.Messages {
			r, ok := reqs[m.ChallengeID]
			if !ok {
				continue
			}
			v.Disowned[m.ID] = r.Disowned
			st := activity.Story{Message: m, Challenge: r.Challenge}
			v.Own[m.ID] = !r.Disowned && st.Own()
		}
	}
	if v.Devices, err = s.Devices.List(ctx, a.ID); err != nil {
		return nil, fmt.Errorf("console: view: %w", err)
	}
	if v.Guesses, err = s.Limits.Guesses(ctx, a.ID); err != nil {
		return nil, fmt.Errorf("console: view: %w", err)
	}
	if v.Audit, err = s.Operators.Store.Audit(ctx, operator.AuditFilter{AccountID: a.ID, Limit: 20}); err != nil {
		return nil, fmt.Errorf("console: view: %w", err)
	}
	return v, nil
}

// Story returns the story of the message with the reference as /why tells
// it to its holder, with the holder's account, and records that the actor
// read it. A reference of no holder's message is activity.ErrNotFound.
func (s *Service) Story(ctx context.Context, by Actor, ref string) (*activity.Story, *account.Account, error) {
	m, err := s.Messages.MessageByReference(ctx, ref)
	if errors.Is(err, outbox.ErrNotFound) || (err == nil && m.AccountID == "") {
		return nil, nil, activity.ErrNotFound
	}
	if err != nil {
		return nil, nil, fmt.Errorf("console: story: %w", err)
	}
	a, err := s.Accounts.AccountByID(ctx, m.AccountID)
	if err != nil {
		return nil, nil, err
	}
	st, err := s.Stories.Story(ctx, a.ID, ref)
	if err != nil {
		return nil, nil, err
	}
	if err := s.record(ctx, by, operator.ViewStory, a.ID, "", ref); err != nil {
		return nil, nil, err
	}
	return st, a, nil
}

// change checks an action on an account, then records it and takes it in
// one transaction: every change made has its line (a crash cannot leave
// one no one can account for), and a press refused on the way — nothing
// left to reset, twenty presses at once — leaves none, so the holder's
// activity page never tells them of a change that did not happen.
func (s *Service) change(ctx context.Context, by Actor, action operator.Action, id, reason, detail string, do func(ctx context.Context, a *account.Account) error) error {
	if err := allowed(by, action, reason); err != nil {
		return err
	}
	a, err := s.Accounts.AccountByID(ctx, id)
	if err != nil {
		return err
	}
	return s.Tx.InTx(ctx, func(ctx context.Context) error {
		if err := s.record(ctx, by, action, a.ID, reason, detail); err != nil {
			return err
		}
		return do(ctx, a)
	})
}

// SignOutEverywhere ends every session of the account (support and admin).
func (s *Service) SignOutEverywhere(ctx context.Context, by Actor, id, reason string) error {
	return s.change(ctx, by, operator.SignOutAll, id, reason, "", func(ctx context.Context, a *account.Account) error {
		return s.Changes.SignOutEverywhere(ctx, a.ID)
	})
}

// PasswordKnown says for the holder that someone else has their password
// (support and admin): what "this wasn't me" about a sign-in with the
// password does (account.Service.MarkPasswordKnown) — the phone call of
// a holder who got a code they did not ask for.
func (s *Service) PasswordKnown(ctx context.Context, by Actor, id, reason string) error {
	return s.change(ctx, by, operator.PasswordKnown, id, reason, "", func(ctx context.Context, a *account.Account) error {
		return s.Changes.MarkPasswordKnown(ctx, a.ID)
	})
}

// Disable stops the account from signing in and ends its sessions (admin).
func (s *Service) Disable(ctx context.Context, by Actor, id, reason string) error {
	return s.change(ctx, by, operator.Disable, id, reason, "", func(ctx context.Context, a *account.Account) error {
		return s.Changes.Disable(ctx, a.ID)
	})
}

// Enable lets a disabled account sign in again (admin).
func (s *Service) Enable(ctx context.Context, by Actor, id, reason string) error {
	return s.change(ctx, by, operator.Enable, id, reason, "", func(ctx context.Context, a *account.Account) error {
		return s.Changes.Enable(ctx, a.ID)
	})
}

// ResetTwoStep removes every second step of the account (admin), for a
// holder who lost them all and proved who they are to support; the holder
// is told on every channel and a waiting period starts (twostep.Reset).
func (s *Service) ResetTwoStep(ctx context.Context, by Actor, id, reason string) error {
	return s.change(ctx, by, operator.ResetTwoStep, id, reason, "", func(ctx context.Context, a *account.Account) error {
		return s.TwoStep.Reset(ctx, a, s.Clock.Now())
	})
}

// LiftLimit forgets the account's run of failures at one kind of secret
// (admin): the holder who was slowed down may try again at once. The
// counts of codes sent to the account's address and number go too.
func (s *Service) LiftLimit(ctx context.Context, by Actor, id string, secret limit.Secret, reason string) error {
	if !slices.Contains(limit.Secrets, secret) {
		return ErrLimitUnknown
	}
	return s.change(ctx, by, operator.LiftLimit, id, reason, string(secret), func(ctx context.Context, a *account.Account) error {
		var dest []string
		switch secret {
		case limit.EmailCode:
			dest = append(dest, strings.ToLower(a.Email))
		case limit.SMSCode:
			if a.Phone != "" {
				dest = append(dest, a.Phone)
			}
		}
		return s.Limits.Lift(ctx, a.ID, secret, dest...)
	})
}

// Queue is the reported-message queue: the newest reports, those not yet
// handled and the handled ones, and the look-alike domains they found.
type Queue struct {
	Open, Handled []*check.Report
	Domains       []Domain
}

// Reports returns the queue of the newest limit reports, from one read.
func (s *Service) Reports(ctx context.Context, limit int) (*Queue, error) {
	reps, err := s.ReportStore.RecentReports(ctx, limit)
	if err != nil {
		return nil, fmt.Errorf("console: reports: %w", err)
	}
	q := &Queue{Domains: domainsOf(reps)}
	for _, r := range reps {
		if r.HandledAt.IsZero() {
			q.Open = append(q.Open, r)
		} else {
			q.Handled = append(q.Handled, r)
		}
	}
	return q, nil
}

// Report returns one report without its content.
func (s *Service) Report(ctx context.Context, id string) (*check.Report, error) {
	return s.ReportStore.ReportByID(ctx, id)
}

// OpenReport returns a report's sealed content, opened, and records that
// the actor read it: the content is a holder's mail, which may hold
// anything.
func (s *Service) OpenReport(ctx context.Context, by Actor, id string) (*check.Report, []byte, error) {
	r, err := s.ReportStore.ReportByID(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	content, err := s.Box.Open(r.Content, []byte("report:"+r.ID))
	if err != nil {
		return nil, nil, fmt.Errorf("console: open report: %w", err)
	}
	if err := s.record(ctx, by, operator.ViewReport, r.AccountID, "", r.ID); err != nil {
		return nil, nil, err
	}
	return r, content, nil
}

// ReviewReport records the actor's verdict on a report and marks it
// handled (support and admin).
func (s *Service) ReviewReport(ctx context.Context, by Actor, id string, review check.Review, reason string) error {
	if !slices.Contains(check.Reviews, review) {
		return ErrReviewUnknown
	}
	if err := allowed(by, operator.ReportHandled, reason); err != nil {
		return err
	}
	r, err := s.ReportStore.ReportByID(ctx, id)
	if err != nil {
		return err
	}
	// The line and the verdict in one transaction: a verdict refused
	// (handled already) leaves no line, and the holder hears of one.
	return s.Tx.InTx(ctx, func(ctx context.Context) error {
		if err := s.record(ctx, by, operator.ReportHandled, r.AccountID, reason, r.ID+" "+string(review)); err != nil {
			return err
		}
		return s.ReportStore.ReviewReport(ctx, r.ID, review, by.Operator.Email, s.Clock.Now())
	})
}

// Domain is a look-alike host found in reported messages: how many
// reports named it, the newest when, and whether an operator judged one
// of them phishing.
type Domain struct {
	Host     string
	Reports  int
	Last     time.Time
	Phishing bool
}

// domainsOf lists the look-alike hosts of reps, most reported first: the
// list to send to registrars and blocklists.
func domainsOf(reps []*check.Report) []Domain {
	byHost := map[string]*Domain{}
	var out []Domain
	for _, r := range reps {
		for _, h := range r.Lookalikes {
			d := byHost[h]
			if d == nil {
				d = &Domain{Host: h}
				byHost[h] = d
			}
			d.Reports++
			if r.CreatedAt.After(d.Last) {
				d.Last = r.CreatedAt
			}
			d.Phishing = d.Phishing || r.Review == check.ReviewPhishing
		}
	}
	for _, d := range byHost {
		out = append(out, *d)
	}
	slices.SortFunc(out, func(a, b Domain) int {
		if a.Reports != b.Reports {
			return b.Reports - a.Reports
		}
		return strings.Compare(a.Host, b.Host)
	})
	return out
}

// Slowed is a subject a limit holds now: a network, or a destination
// (masked by the page), with the rule and until when.
type Slowed struct {
	Rule    limit.Rule
	Subject string
	Until   time.Time
	Count   int // refusals recorded in the last day
	// Last is when the newest refusal was recorded.
	Last time.Time
	// Account is the account the subject is (a run of guesses at its
	// secrets), nil for a network or a destination.
	Account *account.Account
}

// LimitsView is the console's limits page.
type LimitsView struct {
	Slowed []Slowed
	// SMS is today's texts by country calling code, with the day's cap
	// per country and in all.
	SMS           map[string]int
	SMSTotal      int
	PerCountryCap int
	DayCap        int
}

// LimitsNow returns what the limits hold now: the subjects refused in the
// last day whose hold has not ended, and today's texts by country.
func (s *Service) LimitsNow(ctx context.Context) (*LimitsView, error) {
	now := s.Clock.Now()
	refusals, err := s.Limits.Refusals(ctx, now.Add(-24*time.Hour), 1000)
	if err != nil {
		return nil, fmt.Errorf("console: limits: %w", err)
	}
	held := map[string]*Slowed{}
	var order []string
	for _, r := range refusals {
		k := string(r.Rule) + "\x00" + r.Subject
		sl := held[k]
		if sl == nil {
			sl = &Slowed{Rule: r.Rule, Subject: r.Subject}
			held[k] = sl
			order = append(order, k)
		}
		sl.Count++
		if r.RetryAt.After(sl.Until) {
			sl.Until = r.RetryAt
		}
		if r.Origin.Time.After(sl.Last) {
			sl.Last = r.Origin.Time
		}
	}
	// An admin's lift since the last refusal ended the hold, though the
	// refusals recorded stay.
	lifted := map[string]time.Time{}
	lifts, err := s.Operators.Store.Audit(ctx, operator.AuditFilter{Since: now.Add(-24 * time.Hour), Limit: 1000})
	if err != nil {
		return nil, fmt.Errorf("console: limits: %w", err)
	}
	for _, e := range lifts {
		if e.Action == operator.LiftLimit && e.At.After(lifted[e.AccountID]) {
			lifted[e.AccountID] = e.At
		}
	}
	v := &LimitsView{}
	for _, k := range order {
		sl := held[k]
		if !sl.Until.After(now) {
			continue
		}
		if a, err := s.Accounts.AccountByID(ctx, sl.Subject); err == nil {
			if at, ok := lifted[a.ID]; ok && !at.Before(sl.Last) {
				continue
			}
			sl.Account = a
		}
		v.Slowed = append(v.Slowed, *sl)
	}
	if v.SMS, err = s.Limits.SMSToday(ctx); err != nil {
		return nil, fmt.Errorf("console: limits: %w", err)
	}
	for _, n := range v.SMS {
		v.SMSTotal += n
	}
	p := s.Limits.Policy()
	v.PerCountryCap, v.DayCap = p.SMSPerCountryDay, p.SMSPerDay
	return v, nil
}

// Audit returns the audit trail f selects.
func (s *Service) Audit(ctx context.Context, f operator.AuditFilter) ([]*operator.Entry, error) {
	return s.Operators.Store.Audit(ctx, f)
}
