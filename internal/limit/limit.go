// Package limit slows whoever tries again: guesses at a secret (a
// password, an emailed or texted code, an app's code, a backup code) and
// messages that carry codes.
//
// Every count lives in the database (Store, in both dialects), so a limit
// holds across requests, nodes and restarts. The policies are:
//
//   - Guesses, per account (or, for codes, per destination) and per kind of
//     secret, counted apart for each of the holder's known browsers (devices
//     the account has completed a sign-in on) and for everyone else
//     together: an attacker's failures never delay the holder's own
//     browser. From the FreeFailures+1-th consecutive failure a delay grows
//     (FirstDelay, doubling, at most MaxDelay); while it runs the guess is
//     refused before anything is hashed or compared, so a right answer
//     gives no signal. A guess is counted before it is evaluated (Take) and
//     the count cleared when it was right (Ticket.Done), so twenty guesses
//     at once are twenty counted guesses, not one.
//   - A budget: at most Budget wrong guesses evaluated per subject, kind and
//     scope in any 30 days (a right one is given back). It is kept as Budget/2 per fixed 30-day window, so
//     that any 30 days, which overlap at most two windows, see at most
//     Budget.
//   - Networks (an IPv4 address and its /24, an IPv6 /64 and /48): failures
//     and distinct subjects tried per hour, which slow that network — never
//     the accounts, and never a known browser signing in to its own account.
//   - Sending: per destination (in any 10 minutes and any day), per
//     requesting network (per hour), per SMS country calling code and for
//     all SMS together (per day), and an optional allow-list of SMS
//     countries. Addresses with and without an account are counted alike.
//
// A refusal is an *Error carrying when to try again; the web layer answers
// it 429 with Retry-After.
package limit

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"gatehouse/internal/clock"
	"gatehouse/internal/commit"
	"gatehouse/internal/ratelimit"
	"gatehouse/internal/request"
)

// Secret is a kind of secret a guess is made at.
type Secret string

// Secrets.
const (
	Password   Secret = "password"
	EmailCode  Secret = "email_code" // an emailed code: sign-up, reset, sign-in, address change, second step
	SMSCode    Secret = "sms_code"   // a code by SMS
	AppCode    Secret = "app_code"   // an authenticator app's code
	BackupCode Secret = "backup_code"
	Passkey    Secret = "passkey" // a passkey answer that was refused as a second step
)

// Secrets lists every kind, for the account's state.
var Secrets = []Secret{Password, EmailCode, SMSCode, AppCode, BackupCode, Passkey}

// CodeSecret is the kind of a code sent by ch.
func CodeSecret(ch request.Channel) Secret {
	if ch == request.SMS {
		return SMSCode
	}
	return EmailCode
}

// Rule names what refused a request, for the record and the log.
type Rule string

// Rules.
const (
	GuessDelay       Rule = "guess_delay"        // consecutive failures: the delay runs
	GuessBudget      Rule = "guess_budget"       // the 30-day budget is used up
	NetworkFailures  Rule = "network_failures"   // too many failures from the network
	NetworkSubjects  Rule = "network_subjects"   // too many accounts or destinations tried from the network
	DestinationShort Rule = "destination_10m"    // codes to one destination in 10 minutes
	DestinationDay   Rule = "destination_day"    // codes to one destination in a day
	NetworkSends     Rule = "network_sends"      // codes requested from one network in an hour
	SMSCountry       Rule = "sms_country"        // texts to one country calling code in a day
	SMSCountryClosed Rule = "sms_country_closed" // texts to a country not on the allow-list
	SMSDay           Rule = "sms_day"            // texts in a day, all together
	NetworkLookups   Rule = "network_lookups"    // anonymous requests that write (passkey ceremonies) from one network
)

// ErrLimited is what every *Error is (errors.Is).
var ErrLimited = errors.New("limit: try again later")

// Error is a refusal: the request was not evaluated (nothing hashed,
// compared or sent); it may be made again at RetryAt.
type Error struct {
	Rule    Rule
	RetryAt time.Time
	Now     time.Time
}

func (e *Error) Error() string {
	return fmt.Sprintf("limit: %s: try again at %s", e.Rule, e.RetryAt.UTC().Format(time.RFC3339))
}

// Is makes errors.Is(err, ErrLimited) true.
func (e *Error) Is(target error) bool { return target == ErrLimited }

// RetryAfter is how long until the request may be made again, rounded up
// to whole seconds, at least one.
func (e *Error) RetryAfter() time.Duration {
	d := e.RetryAt.Sub(e.Now)
	if d < time.Second {
		return time.Second
	}
	return (d + time.Second - 1).Truncate(time.Second)
}

// Policy holds every number of the limits (configuration keys limit.*).
type Policy struct {
	// Guesses.
	FreeFailures int           // consecutive failures before the delay (4: from the 5th on)
	FirstDelay   time.Duration // the first delay (30s)
	MaxDelay     time.Duration // the longest (1h)
	Budget       int           // evaluated guesses per subject, kind and scope in any 30 days (1000)
	Ceiling      int           // consecutive failures at which the holder is told (100)

	// Networks, per hour: failures and distinct subjects tried, for one
	// address and for its wider network (/24 or /64; /48 counts 4×).
	NetFailuresIP, NetFailuresNet int
	NetSubjectsIP, NetSubjectsNet int

	// Sending.
	PerDestination10m int // codes to one destination in any 10 minutes, or CodeTTL if longer (3)
	// CodeTTL is how long a code is valid (code.ttl): the short window is
	// at least as long, so that at most PerDestination10m requests to one
	// destination have a live code at any time.
	CodeTTL           time.Duration
	PerDestinationDay int      // codes to one destination in any day (10)
	PerNetworkHour    int      // codes requested from one /24 or /64 in an hour (30)
	SMSPerCountryDay  int      // texts per country calling code per day (1000)
	SMSPerDay         int      // texts per day in all (10000)
	SMSCountries      []string // calling codes allowed ("81", "1"); empty: all

	// Anonymous writes (a passkey sign-in ceremony), per network per minute.
	AnonymousPerMinute int
}

// Defaults returns the built-in policy.
func Defaults() Policy {
	return Policy{
		FreeFailures: 4, FirstDelay: 30 * time.Second, MaxDelay: time.Hour, Budget: 1000, Ceiling: 100,
		NetFailuresIP: 100, NetFailuresNet: 300, NetSubjectsIP: 20, NetSubjectsNet: 60,
		PerDestination10m: 3, PerDestinationDay: 10, PerNetworkHour: 30,
		SMSPerCountryDay: 1000, SMSPerDay: 10000, AnonymousPerMinute: 30,
	}
}

// Window is 30 days: the span the guess budget is stated for.
const Window = 30 * 24 * time.Hour

// GuessKey names one guess counter.
type GuessKey struct {
	Secret  Secret
	Subject string // the account's id, or for codes the destination; for an unknown address, "email:" and the address
	// Scope is "" for everyone but the holder's known browsers, or
	// "device:" and the device id of one of them.
	Scope string
}

// GuessRule is what the store needs to count a guess atomically.
type GuessRule struct {
	Free        int   // consecutive failures before the delay
	FirstDelay  int64 // µs
	MaxDelay    int64 // µs
	Window      int64 // µs, the budget's window (30 days)
	WindowLimit int   // guesses per window
}

// GuessCount is a counter as Take left it.
type GuessCount struct {
	Consecutive  int
	DelayedUntil time.Time
	WindowStart  time.Time
	WindowCount  int
}

// Store keeps the counts. Implementations must make TakeGuess and
// TakeSend atomic: they are the guard against guesses and sends made at
// the same time, on any node.
type Store interface {
	// TakeGuess counts one guess under k unless it is delayed or the
	// window's budget is used up, in one conditional write; ok is false
	// (and the counter as it stands returned) when it was not counted.
	// accountID is kept for the account's state.
	TakeGuess(ctx context.Context, k GuessKey, accountID string, r GuessRule, now time.Time) (c GuessCount, ok bool, err error)
	// Guesses returns the counter under k as it stands (zero if none).
	Guesses(ctx context.Context, k GuessKey) (GuessCount, error)
	// ClearGuesses ends the run of consecutive failures under k (a right
	// answer) and gives its guess back from the window's count: the
	// budget bounds wrong guesses.
	ClearGuesses(ctx context.Context, k GuessKey) error
	// ForgetGuesses deletes every counter of the kind of secret under
	// subject, whatever the scope.
	ForgetGuesses(ctx context.Context, s Secret, subject string) error
	// AccountGuesses returns the largest run of consecutive failures per
	// kind of secret counted for the account, any scope.
	AccountGuesses(ctx context.Context, accountID string) (map[Secret]int, error)

	// Counts returns the counts of fixed windows starting at start for
	// the keys (missing keys count 0).
	Counts(ctx context.Context, keys []string, start time.Time) (map[string]int, error)
	// WindowCounts returns every key starting with prefix counted in the
	// window starting at start (the console's texts by country today).
	WindowCounts(ctx context.Context, prefix string, start time.Time) (map[string]int, error)
	// Hit adds one to each key's window starting at start.
	Hit(ctx context.Context, keys []string, start time.Time) error
	// Seen records subject under key's window and reports whether it was
	// new there.
	Seen(ctx context.Context, key, subject string, start time.Time) (bool, error)

	// TakeSend records a send to destination at now unless it would make
	// more than short in the window or day in the day before now; ok
	// reports whether it was recorded.
	TakeSend(ctx context.Context, destination string, now time.Time, window time.Duration, short, day int) (ok bool, retryAt time.Time, err error)

	// RecordRefusal keeps a refused request for the operator.
	RecordRefusal(ctx context.Context, r Refusal) error
	// Refusals returns the refusals recorded since t, newest first, at
	// most n.
	Refusals(ctx context.Context, since time.Time, n int) ([]Refusal, error)
}

// Refusal is a refused request as recorded.
type Refusal struct {
	Rule    Rule
	Subject string // the account, the destination or the network
	Origin  request.Origin
	RetryAt time.Time
}

// Devices says whether a device is one of the account's known browsers.
type Devices interface {
	UsedBy(ctx context.Context, accountID, deviceID string) (bool, error)
}

// Limiter applies a Policy. Its zero value is not usable: build it with
// New, or use None in tests that are about something else.
type Limiter struct {
	store   Store
	devices Devices
	policy  Policy
	clock   clock.Clock
	log     *slog.Logger
	off     bool
	// LogKey keys the hash that stands for an address or a number in the
	// log (see logged): without it, a number's hash is found by trying
	// every number.
	LogKey []byte
	// Ceiling, when set, is told when a run of failures reaches
	// Policy.Ceiling: the holder must hear of it on every channel.
	Ceiling func(ctx context.Context, accountID string, s Secret, failures int, o request.Origin)
	// Refused, when set, is told the rule of every refusal, recorded or
	// not (Delayed's too: it answers 429 like the rest). Optional
	// (metrics).
	Refused func(Rule)
}

// New returns a limiter over store.
func New(store Store, devices Devices, p Policy, clk clock.Clock, log *slog.Logger) *Limiter {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Limiter{store: store, devices: devices, policy: p, clock: clk, log: log}
}

// None is a limiter that allows everything: for tests about something
// else, stated explicitly where it is used.
func None() *Limiter { return &Limiter{off: true, log: slog.New(slog.DiscardHandler)} }

// Policy returns the limiter's policy.
func (l *Limiter) Policy() Policy { return l.policy }

func (l *Limiter) now() time.Time {
	if l.clock == nil {
		return time.Now()
	}
	return l.clock.Now()
}

// Guess is one guess about to be evaluated.
type Guess struct {
	Secret Secret
	// AccountID is the account the secret belongs to; empty for an
	// address nobody holds (the guess is then counted under Subject).
	AccountID string
	// Subject is what the counter is kept for when it is not the account:
	// a code's destination, or a typed address without an account.
	Subject string
	Origin  request.Origin
	// Known, when set, is whether Origin's device is one of AccountID's
	// known browsers, as the caller already read it (one read fewer).
	Known *bool
}

// Ticket is a counted guess: Done says how it ended.
type Ticket struct {
	l     *Limiter
	key   GuessKey
	g     Guess
	known bool
	n     int
}

// Take counts a guess before it is evaluated, or refuses it with *Error
// while the subject's delay runs, its budget is used up, or (for anyone
// but the holder's known browsers) the network has failed too often.
func (l *Limiter) Take(ctx context.Context, g Guess) (*Ticket, error) {
	if l.off {
		return &Ticket{}, nil
	}
	now := l.now()
	t, err := l.ticket(ctx, g)
	if err != nil {
		return nil, err
	}
	subject := t.key.Subject
	if !t.known {
		if err := l.network(ctx, g.Origin, now); err != nil {
			return nil, err
		}
	}
	p := l.policy
	c, ok, err := l.store.TakeGuess(ctx, t.key, g.AccountID, GuessRule{
		Free: p.FreeFailures, FirstDelay: p.FirstDelay.Microseconds(), MaxDelay: p.MaxDelay.Microseconds(),
		Window: Window.Microseconds(), WindowLimit: max(1, p.Budget/2),
	}, now)
	if err != nil {
		return nil, fmt.Errorf("limit: count guess: %w", err)
	}
	if !ok {
		e := &Error{Rule: GuessDelay, RetryAt: c.DelayedUntil, Now: now}
		if !c.DelayedUntil.After(now) {
			e.Rule, e.RetryAt = GuessBudget, c.WindowStart.Add(Window)
		}
		return nil, l.refuse(ctx, e, subject, g.Origin)
	}
	t.n = c.Consecutive
	return t, nil
}

// Delayed reports, without counting anything, whether a guess like g would
// be refused now because the subject's delay runs: a request that can no
// longer be answered (a code locked by wrong entries) answers 429 like the
// rest while it does, so that no answer differs during the delay.
func (l *Limiter) Delayed(ctx context.Context, g Guess) error {
	if l.off {
		return nil
	}
	t, err := l.ticket(ctx, g)
	if err != nil {
		return err
	}
	c, err := l.store.Guesses(ctx, t.key)
	if err != nil {
		return fmt.Errorf("limit: read guesses: %w", err)
	}
	if now := l.now(); c.DelayedUntil.After(now) {
		if l.Refused != nil {
			l.Refused(GuessDelay)
		}
		return &Error{Rule: GuessDelay, RetryAt: c.DelayedUntil, Now: now}
	}
	return nil
}

// ticket is the ticket a guess like g would get: its key and whether it
// comes from a known browser.
func (l *Limiter) ticket(ctx context.Context, g Guess) (*Ticket, error) {
	subject := g.Subject
	if subject == "" {
		subject = g.AccountID
	}
	t := &Ticket{l: l, g: g, key: GuessKey{Secret: g.Secret, Subject: subject}}
	if g.Known != nil {
		t.known = *g.Known && g.AccountID != "" && g.Origin.DeviceID != ""
	} else if g.Origin.DeviceID != "" && l.devices != nil {
		// Asked for an address without an account too (it finds nothing):
		// the same reads either way, so the time taken tells nothing.
		known, err := l.devices.UsedBy(ctx, g.AccountID, g.Origin.DeviceID)
		if err != nil {
			return nil, fmt.Errorf("limit: read the account's devices: %w", err)
		}
		t.known = known && g.AccountID != ""
	}
	if t.known {
		t.key.Scope = "device:" + g.Origin.DeviceID
	}
	return t, nil
}

// network refuses a guess from a network that failed too often, or tried
// too many subjects, within the hour.
func (l *Limiter) network(ctx context.Context, o request.Origin, now time.Time) error {
	keys := networkKeys(o.IP)
	if len(keys) == 0 {
		return nil
	}
	start := now.Truncate(time.Hour)
	var ask []string
	for _, k := range keys {
		ask = append(ask, "fail:"+k.key, "subj:"+k.key)
	}
	counts, err := l.store.Counts(ctx, ask, start)
	if err != nil {
		return fmt.Errorf("limit: read network counts: %w", err)
	}
	p := l.policy
	for _, k := range keys {
		failures, subjects := p.NetFailuresIP, p.NetSubjectsIP
		if !k.single {
			failures, subjects = p.NetFailuresNet*k.weight, p.NetSubjectsNet*k.weight
		}
		rule := Rule("")
		switch {
		case counts["fail:"+k.key] >= failures:
			rule = NetworkFailures
		case counts["subj:"+k.key] >= subjects:
			rule = NetworkSubjects
		}
		if rule != "" {
			return l.refuse(ctx, &Error{Rule: rule, RetryAt: start.Add(time.Hour), Now: now}, k.key, o)
		}
	}
	return nil
}

// netKey is one network an address belongs to: the address itself
// (single), or a prefix, whose limits are weight times the /24's.
type netKey struct {
	key    string
	single bool
	weight int
}

// networkKeys lists the networks ip is counted in: an IPv4 address and
// its /24; an IPv6 address's /64 (one household or one host: a single
// sender) and /48 (a site).
func networkKeys(ip string) []netKey {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return nil
	}
	a = a.Unmap()
	if a.Is4() {
		p, _ := a.Prefix(24)
		return []netKey{{a.String(), true, 1}, {p.String(), false, 1}}
	}
	p64, _ := a.Prefix(64)
	p48, _ := a.Prefix(48)
	return []netKey{{p64.String(), true, 1}, {p48.String(), false, 4}}
}

// Network is the key a sender's network is known by: an IPv4 /24 or an
// IPv6 /64 ("" for no address).
func Network(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ""
	}
	return ratelimit.Network(a)
}

// Done records how the guess ended: a right answer ends the run of
// failures; a wrong one counts against the network (unless it came from a
// known browser) and, at the ceiling, has the holder told.
func (t *Ticket) Done(ctx context.Context, right bool) {
	if t == nil || t.l == nil {
		return
	}
	l := t.l
	ctx = context.WithoutCancel(ctx)
	if right {
		if err := l.store.ClearGuesses(ctx, t.key); err != nil {
			l.log.ErrorContext(ctx, "limit: clear guesses", "err", err)
		}
		return
	}
	if !t.known {
		now := l.now()
		start := now.Truncate(time.Hour)
		var fails []string
		for _, k := range networkKeys(t.g.Origin.IP) {
			fails = append(fails, "fail:"+k.key)
			fresh, err := l.store.Seen(ctx, "subj:"+k.key, string(t.key.Secret)+":"+t.key.Subject, start)
			if err != nil {
				l.log.ErrorContext(ctx, "limit: record subject", "err", err)
			}
			if fresh {
				fails = append(fails, "subj:"+k.key)
			}
		}
		if err := l.store.Hit(ctx, fails, start); err != nil {
			l.log.ErrorContext(ctx, "limit: count network failure", "err", err)
		}
	}
	if t.n == l.policy.Ceiling && t.g.AccountID != "" && l.Ceiling != nil {
		l.Ceiling(ctx, t.g.AccountID, t.g.Secret, t.n, t.g.Origin)
	}
}

// Right records a right guess like Done(ctx, true), but returns the
// store's error: for a flow that clears the run in its own transaction
// (one write fewer on the hot path than a separate Done).
func (t *Ticket) Right(ctx context.Context) error {
	if t == nil || t.l == nil {
		return nil
	}
	if err := t.l.store.ClearGuesses(ctx, t.key); err != nil {
		return fmt.Errorf("limit: clear guesses: %w", err)
	}
	return nil
}

// Failures is how many consecutive failures the ticket's guess made, if it
// was wrong (for messages such as "someone typed your password").
func (t *Ticket) Failures() int {
	if t == nil {
		return 0
	}
	return t.n
}

// Send is a message with a code about to be sent.
type Send struct {
	Channel     request.Channel
	Destination string // lower-cased address, or E.164 number
	AccountID   string // the account the request is for, if any
	// Own: the destination is the account's own (its address, its
	// confirmed number), not one typed with the request (a sign-up, a new
	// address, a number being added), which may be anyone's.
	Own bool
	// Proven: the request proved the password (a second step, a
	// re-verification). Its codes are counted per destination apart from
	// requests anyone can make (a reset, a sign-in by code, a sign-up, a
	// typed destination), so that someone without the password cannot use
	// those up and keep the holder, on a browser new to the account, from
	// the code of their own sign-in.
	Proven bool
	Origin request.Origin
}

// Sending counts a message with a code before it is sent, or refuses it
// with *Error: too many to the destination, from the network, to the SMS
// country or in all. A code to the account's own destination (s.Own)
// asked for by one of the account's known browsers — the holder's own
// sign-in — is not counted against its network, and is counted per
// destination apart from everyone else's; a destination typed with the
// request never is, whoever asks (else an attacker's own browsers would
// each get a fresh allowance for someone else's number). The SMS country
// and daily caps refuse only typed numbers (toll fraud needs numbers the
// attacker chooses): a holder's own number is counted but never refused by
// them, so no one can keep the holder from their codes by exhausting a
// cap. Call it inside the flow's transaction:
// a flow that rolls back sent nothing, and its count goes with it; the
// refusal itself is recorded once the transaction has ended.
func (l *Limiter) Sending(ctx context.Context, s Send) error {
	if l.off {
		return nil
	}
	now := l.now()
	p := l.policy
	dest := strings.ToLower(s.Destination)
	var keys []string
	limits := map[string]int{}
	rules := map[string]Rule{}
	day := now.Truncate(24 * time.Hour)
	hour := now.Truncate(time.Hour)
	known := false
	if s.Own && s.AccountID != "" && s.Origin.DeviceID != "" && l.devices != nil {
		var err error
		if known, err = l.devices.UsedBy(ctx, s.AccountID, s.Origin.DeviceID); err != nil {
			return fmt.Errorf("limit: read the account's devices: %w", err)
		}
	}
	if n := Network(s.Origin.IP); n != "" && !known {
		k := "send:" + n
		keys, limits[k], rules[k] = append(keys, k), p.PerNetworkHour, NetworkSends
	}
	if s.Channel == request.SMS {
		cc := CallingCode(dest)
		if !s.Own && len(p.SMSCountries) > 0 && !contains(p.SMSCountries, cc) {
			return l.refuseLater(ctx, &Error{Rule: SMSCountryClosed, RetryAt: now.Add(24 * time.Hour), Now: now}, dest, s.Origin)
		}
		k := "sms:" + cc
		keys, limits[k], rules[k] = append(keys, k), p.SMSPerCountryDay, SMSCountry
		keys, limits["sms"], rules["sms"] = append(keys, "sms"), p.SMSPerDay, SMSDay
	}
	if len(keys) > 0 {
		counts, err := l.countsAt(ctx, keys, hour, day)
		if err != nil {
			return err
		}
		for _, k := range keys {
			if s.Own && !strings.HasPrefix(k, "send:") {
				continue // a holder's own number: counted, never refused by the caps
			}
			if counts[k] >= limits[k] {
				retry := day.Add(24 * time.Hour)
				if strings.HasPrefix(k, "send:") {
					retry = hour.Add(time.Hour)
				}
				return l.refuseLater(ctx, &Error{Rule: rules[k], RetryAt: retry, Now: now}, k, s.Origin)
			}
		}
	}
	// A known browser's own codes are counted apart: a flood of requests
	// from elsewhere must not keep the holder's own codes from them.
	bucket := dest
	switch {
	case known:
		bucket += "|device:" + s.Origin.DeviceID
	case s.Own && s.Proven:
		bucket += "|proven"
	}
	ok, retry, err := l.store.TakeSend(ctx, bucket, now, max(10*time.Minute, p.CodeTTL), p.PerDestination10m, p.PerDestinationDay)
	if err != nil {
		return fmt.Errorf("limit: count send: %w", err)
	}
	if !ok {
		rule := DestinationShort
		if retry.Sub(now) > max(10*time.Minute, p.CodeTTL) {
			rule = DestinationDay
		}
		return l.refuseLater(ctx, &Error{Rule: rule, RetryAt: retry, Now: now}, dest, s.Origin)
	}
	for _, k := range keys {
		start := day
		if strings.HasPrefix(k, "send:") {
			start = hour
		}
		if err := l.store.Hit(ctx, []string{k}, start); err != nil {
			return fmt.Errorf("limit: count send: %w", err)
		}
	}
	return nil
}

// countsAt reads the network keys' hourly windows and the others' daily
// ones.
func (l *Limiter) countsAt(ctx context.Context, keys []string, hour, day time.Time) (map[string]int, error) {
	var hourly, daily []string
	for _, k := range keys {
		if strings.HasPrefix(k, "send:") {
			hourly = append(hourly, k)
		} else {
			daily = append(daily, k)
		}
	}
	out := map[string]int{}
	for _, part := range []struct {
		keys  []string
		start time.Time
	}{{hourly, hour}, {daily, day}} {
		if len(part.keys) == 0 {
			continue
		}
		c, err := l.store.Counts(ctx, part.keys, part.start)
		if err != nil {
			return nil, fmt.Errorf("limit: read send counts: %w", err)
		}
		for k, v := range c {
			out[k] = v
		}
	}
	return out, nil
}

// Anonymous counts a request that writes without any credential (a
// passkey sign-in ceremony) against its network, per minute.
func (l *Limiter) Anonymous(ctx context.Context, o request.Origin) error {
	if l.off {
		return nil
	}
	n := Network(o.IP)
	if n == "" {
		return nil
	}
	now := l.now()
	start := now.Truncate(time.Minute)
	k := "anon:" + n
	counts, err := l.store.Counts(ctx, []string{k}, start)
	if err != nil {
		return fmt.Errorf("limit: read counts: %w", err)
	}
	if counts[k] >= l.policy.AnonymousPerMinute {
		return l.refuse(ctx, &Error{Rule: NetworkLookups, RetryAt: start.Add(time.Minute), Now: now}, n, o)
	}
	if err := l.store.Hit(ctx, []string{k}, start); err != nil {
		return fmt.Errorf("limit: count: %w", err)
	}
	return nil
}

// refuse records and logs a refusal made outside any transaction, and
// returns it.
func (l *Limiter) refuse(ctx context.Context, e *Error, subject string, o request.Origin) error {
	l.record(context.WithoutCancel(ctx), e, subject, o)
	return e
}

// refuseLater records a refusal once the flow's transaction has ended
// (it rolls back: the refusal is the flow's error).
func (l *Limiter) refuseLater(ctx context.Context, e *Error, subject string, o request.Origin) error {
	commit.Finally(ctx, func(ctx context.Context) { l.record(ctx, e, subject, o) })
	return e
}

func (l *Limiter) record(ctx context.Context, e *Error, subject string, o request.Origin) {
	if l.Refused != nil {
		l.Refused(e.Rule)
	}
	l.log.WarnContext(ctx, "limit: refused", "rule", e.Rule, "subject", l.logged(subject), "ip", o.IP, "device", o.DeviceID,
		"retry_after", e.RetryAfter().Seconds())
	if err := l.store.RecordRefusal(ctx, Refusal{Rule: e.Rule, Subject: subject, Origin: o, RetryAt: e.RetryAt}); err != nil {
		l.log.ErrorContext(ctx, "limit: record refusal", "err", err)
	}
}

// Forget drops every count of guesses at the account's secret s: the
// secret was replaced (a new password), so guesses at the old one are
// void. Run it in the transaction that replaces it.
func (l *Limiter) Forget(ctx context.Context, accountID string, s Secret) error {
	if l.off {
		return nil
	}
	if err := l.store.ForgetGuesses(ctx, s, accountID); err != nil {
		return fmt.Errorf("limit: forget guesses: %w", err)
	}
	return nil
}

// AccountState returns the kinds of secret whose consecutive failures
// reached the ceiling, with their counts: what /account/security shows.
func (l *Limiter) AccountState(ctx context.Context, accountID string) (map[Secret]int, error) {
	if l.off {
		return nil, nil
	}
	all, err := l.store.AccountGuesses(ctx, accountID)
	if err != nil {
		return nil, fmt.Errorf("limit: read the account's guesses: %w", err)
	}
	out := map[Secret]int{}
	for s, n := range all {
		if n >= l.policy.Ceiling {
			out[s] = n
		}
	}
	return out, nil
}

// Guesses returns the account's runs of consecutive failures per kind of
// secret, however short (the console's view; AccountState keeps only
// those at the ceiling).
func (l *Limiter) Guesses(ctx context.Context, accountID string) (map[Secret]int, error) {
	if l.off {
		return nil, nil
	}
	all, err := l.store.AccountGuesses(ctx, accountID)
	if err != nil {
		return nil, fmt.Errorf("limit: read the account's guesses: %w", err)
	}
	return all, nil
}

// Lift forgets every count of guesses at the account's secret s, and at
// the codes sent to destinations: an operator's answer to a holder slowed
// down by someone else's guessing, or by their own.
func (l *Limiter) Lift(ctx context.Context, accountID string, s Secret, destinations ...string) error {
	if l.off {
		return nil
	}
	for _, subject := range append([]string{accountID}, destinations...) {
		if err := l.store.ForgetGuesses(ctx, s, subject); err != nil {
			return fmt.Errorf("limit: lift: %w", err)
		}
	}
	return nil
}

// Refusals returns the refusals recorded since t, newest first, at most n.
func (l *Limiter) Refusals(ctx context.Context, since time.Time, n int) ([]Refusal, error) {
	if l.off {
		return nil, nil
	}
	out, err := l.store.Refusals(ctx, since, n)
	if err != nil {
		return nil, fmt.Errorf("limit: read refusals: %w", err)
	}
	return out, nil
}

// SMSToday returns today's texts by country calling code ("81" → 12):
// what the per-country cap counts.
func (l *Limiter) SMSToday(ctx context.Context) (map[string]int, error) {
	out := map[string]int{}
	if l.off {
		return out, nil
	}
	counts, err := l.store.WindowCounts(ctx, "sms:", l.now().Truncate(24*time.Hour))
	if err != nil {
		return nil, fmt.Errorf("limit: read today's texts: %w", err)
	}
	for k, n := range counts {
		out[strings.TrimPrefix(k, "sms:")] = n
	}
	return out, nil
}

// CallingCode returns the country calling code of an E.164 number
// ("+81…" → "81"), by the ITU's assignment: one to three digits.
func CallingCode(e164 string) string {
	d := strings.TrimPrefix(e164, "+")
	if d == "" {
		return ""
	}
	switch d[0] {
	case '1', '7':
		return d[:1]
	}
	if len(d) >= 2 && twoDigit[d[:2]] {
		return d[:2]
	}
	if len(d) >= 3 {
		return d[:3]
	}
	return d
}

// twoDigit lists the two-digit country calling codes (ITU-T E.164
// assignments); every other code not starting with 1 or 7 has three.
var twoDigit = map[string]bool{
	"20": true, "27": true, "30": true, "31": true, "32": true, "33": true, "34": true, "36": true, "39": true,
	"40": true, "41": true, "43": true, "44": true, "45": true, "46": true, "47": true, "48": true, "49": true,
	"51": true, "52": true, "53": true, "54": true, "55": true, "56": true, "57": true, "58": true,
	"60": true, "61": true, "62": true, "63": true, "64": true, "65": true, "66": true,
	"81": true, "82": true, "84": true, "86": true, "90": true, "91": true, "92": true, "93": true, "94": true,
	"95": true, "98": true,
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// logged is how a subject appears in the log: an account id or a network
// as it is, an address or a number (which logs never carry) as a short
// keyed hash (HMAC-SHA-256 under LogKey) that still groups one subject's
// lines and cannot be reversed by trying every number.
func (l *Limiter) logged(subject string) string {
	if !strings.ContainsAny(subject, "@+") {
		return subject
	}
	m := hmac.New(sha256.New, l.LogKey)
	m.Write([]byte(subject))
	return "hmac:" + hex.EncodeToString(m.Sum(nil)[:6])
}
