// Package outbox is the one way Gatehouse sends anything to an account
// holder.
//
// A message is stored — purpose, destination, language, subject, bodies and
// a short reference printed in the message — before any attempt to deliver
// it. That record is what the holder's message center and the "is this
// message genuine?" checker read later, and it is what lets delivery survive
// a restart: a worker claims due messages from the store, hands them to a
// Driver, and records the outcome, retrying with backoff.
//
// Each channel (email, SMS) has its own driver; what a message says is
// composed elsewhere (package notice) and arrives here as a Draft.
package outbox

import (
	"context"
	_ "embed" // the email's HTML template
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"gatehouse/internal/clock"
	"gatehouse/internal/commit"
	"gatehouse/internal/crypt"
	"gatehouse/internal/i18n"
	"gatehouse/internal/random"
	"gatehouse/internal/request"
)

// Status is where a message is in delivery.
type Status string

// Delivery states.
const (
	Queued  Status = "queued"
	Sending Status = "sending" // claimed by a worker until its lease ends
	Sent    Status = "sent"
	Failed  Status = "failed" // gave up after MaxAttempts
	// Withheld is a message recorded but deliberately never sent: the
	// answer to a request for an address with no account, stored so that
	// the request costs the same work either way (no enumeration by
	// timing) and so the operator can see requests for unknown addresses.
	Withheld Status = "withheld"
)

// Message is one stored message.
type Message struct {
	ID          string
	Reference   string
	AccountID   string // empty when sent to an address with no account
	Purpose     request.Purpose
	Cause       request.Cause // why a code was sent; empty for a notice
	ChallengeID string        // the request a code answers; empty for a notice
	// App is the name of the application that caused the code (cause
	// connected_app), as it was when the code was sent; "" otherwise.
	App           string
	Channel       request.Channel
	To            string
	Language      string
	Subject       string
	Text          string
	HTML          string
	CreatedAt     time.Time
	SentAt        time.Time
	Status        Status
	Attempts      int
	NextAttemptAt time.Time
	LastError     string
	// Secret is the code the message carries, sealed with the installation's
	// encryption key (see Outbox.Box); Text and HTML show CodeMask in its
	// place. It is erased once the message is delivered.
	Secret []byte
	// HandedOffAt is when a worker last handed the message to the driver.
	// Set on a claimed message, it means an earlier delivery was cut off
	// (the node died) and the provider may already have it: the driver
	// sends it again under the same idempotency key, IdempotencyKey.
	HandedOffAt time.Time
}

// IdempotencyKey identifies a message to the provider across retries: the
// SMTP driver sends it as the Message-Id, so a provider (or mailbox) that
// drops duplicate Message-Ids never shows a retried message twice.
func (m *Message) IdempotencyKey() string { return m.ID }

// Store keeps messages. ClaimMessage must hand each due message to exactly
// one caller: the claim is a conditional update that sets a lease.
type Store interface {
	// EnqueueMessage stores m; ErrDuplicateReference if its reference is taken.
	EnqueueMessage(ctx context.Context, m *Message) error
	// ClaimMessage returns the next due message (queued and due, or sending
	// with an expired lease), marked as sending until leaseUntil; ErrEmpty
	// when nothing is due.
	ClaimMessage(ctx context.Context, now, leaseUntil time.Time) (*Message, error)
	// MarkHandoff records that the message is being handed to the driver,
	// before the hand-off, so that a node dying mid-delivery leaves a trace.
	MarkHandoff(ctx context.Context, id string, at time.Time) error
	// MarkSent records delivery; with forget set it also erases the sealed
	// code, which nobody needs any more.
	MarkSent(ctx context.Context, id string, at time.Time, forget bool) error
	// MarkRetry schedules another attempt, or gives up (failed) and then
	// erases the sealed code.
	MarkRetry(ctx context.Context, id string, next time.Time, lastError string, failed bool) error
	RecentMessages(ctx context.Context, limit int) ([]*Message, error)
	// AccountMessages returns an account's messages for its message
	// center, newest first (see AccountQuery). Withheld messages are never
	// among them: they were not sent, and listing one would tell its
	// reader something about another address.
	AccountMessages(ctx context.Context, accountID string, q AccountQuery) ([]*Message, error)
	// MessageByReference returns the message with the reference, or
	// ErrNotFound.
	MessageByReference(ctx context.Context, ref string) (*Message, error)
}

// Backlog is what waits for delivery: messages queued or being sent, and
// when the oldest of them was stored (zero when none waits).
type Backlog struct {
	Depth  int
	Oldest time.Time
}

// BacklogStore reads the backlog in one cheap query (the stores' index on
// status and creation time): what the operator's metrics watch.
type BacklogStore interface {
	Backlog(ctx context.Context) (Backlog, error)
}

// AccountQuery selects a page of an account's messages: those older than
// the cursor (Before, and BeforeID among messages of the same time) when
// Before is set, only the one with Reference when it is set, at most Limit.
// The admin API narrows it further: only messages since Since and before
// Until, and with Cause, when they are set.
type AccountQuery struct {
	Before    time.Time
	BeforeID  string
	Reference string
	Limit     int
	Since     time.Time
	Until     time.Time
	Cause     request.Cause
}

// CodeMask stands for a code in stored message text: a code is stored only
// sealed (Message.Secret), never readable, and put back just before delivery.
const CodeMask = "••••••"

// Store errors.
var (
	ErrDuplicateReference = errors.New("outbox: duplicate reference")
	ErrEmpty              = errors.New("outbox: nothing due")
	ErrNotFound           = errors.New("outbox: no such message")
)

// Driver hands messages of one channel to the outside world.
type Driver interface {
	Name() string
	Send(ctx context.Context, m *Message) error
	// KeepsCode reports whether a delivered message's code must stay
	// readable in the store. Only a driver whose "delivery" is reading the
	// store (the development list at /dev/messages) needs that; for every
	// real provider the sealed code is erased once it is handed over.
	KeepsCode() bool
}

// Outbox stores and delivers messages.
type Outbox struct {
	Store Store
	// Drivers has one driver per channel a message may be sent on; a
	// draft for a channel without a driver is refused at Enqueue.
	Drivers map[request.Channel]Driver
	Catalog *i18n.Catalog
	// Box seals the codes inside messages at rest.
	Box         *crypt.Box
	ServiceName string
	PublicURL   string
	// Support is where holders reach the operator's support (support.url
	// and/or support.email, joined), or "": then no message tells the
	// holder to contact anyone.
	Support     string
	Log         *slog.Logger
	MaxAttempts int           // give up after this many failed deliveries (8)
	Lease       time.Duration // how long a claim lasts before another worker may retry (2 min)
	Poll        time.Duration // how often an idle worker looks for due messages (1 s)
	Clock       clock.Clock
	// Delivered, when set, is told of every message its driver accepted,
	// after the delivery is recorded. Optional (metrics).
	Delivered func(*Message)
	// Color is the service's colour (brand.color, #rrggbb) under its
	// name in every email; "" for Gatehouse's blue.
	Color string

	// html is the operator's template for the HTML part of emails
	// (UseHTMLTemplate), nil for the built-in one.
	html *template.Template

	wakeOnce sync.Once
	wake     chan struct{}
}

// Draft is a message before it is stored: its text is already in the
// holder's language, paragraph by paragraph (package notice writes it).
type Draft struct {
	AccountID   string
	Purpose     request.Purpose
	Cause       request.Cause
	ChallengeID string
	App         string          // the application that caused the code (Message.App)
	Channel     request.Channel // Email when empty
	To          string
	Language    string
	Subject     string
	Code        string // shown on its own line after the first paragraph
	Paragraphs  []string
	Withhold    bool // record the message but never send it (see Withheld)
}

// wakeWorker tells an idle worker that a message is due.
func (o *Outbox) wakeWorker() {
	select {
	case o.signal() <- struct{}{}:
	default:
	}
}

func (o *Outbox) signal() chan struct{} {
	o.wakeOnce.Do(func() { o.wake = make(chan struct{}, 1) })
	return o.wake
}

// Enqueue renders and stores the draft and wakes the worker. Once it
// returns without error the message will be delivered, even across
// restarts.
func (o *Outbox) Enqueue(ctx context.Context, d Draft) (*Message, error) {
	if d.Channel == "" {
		d.Channel = request.Email
	}
	if _, ok := o.Drivers[d.Channel]; !ok {
		return nil, fmt.Errorf("outbox: enqueue %s message: no driver for channel %q", d.Purpose, d.Channel)
	}
	now := o.Clock.Now()
	m := &Message{
		AccountID: d.AccountID, Purpose: d.Purpose, Cause: d.Cause, ChallengeID: d.ChallengeID, App: d.App, Channel: d.Channel,
		To: d.To, Language: d.Language, Subject: d.Subject, CreatedAt: now, Status: Queued, NextAttemptAt: now,
	}
	if d.Withhold {
		m.Status = Withheld
	}
	var err error
	code := d.Code
	if code != "" {
		d.Code = CodeMask
	}
	for range 5 { // a reference collision is rare; try a few fresh ones
		m.ID, m.Reference = random.ID(), random.Reference()
		m.Text, m.HTML = o.render(d, m.Reference)
		if code != "" {
			m.Secret = o.Box.Seal([]byte(code), []byte(m.ID))
		}
		if err = o.Store.EnqueueMessage(ctx, m); !errors.Is(err, ErrDuplicateReference) {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("outbox: enqueue %s message: %w", d.Purpose, err)
	}
	// Wake the worker once the message can be read: inside a flow's
	// transaction that is after the commit, or the worker would find
	// nothing and sleep a whole poll interval.
	commit.After(ctx, o.wakeWorker)
	return m, nil
}

func (o *Outbox) footer(lang, ref string, code bool) []string {
	var why []string
	if code {
		// The way to "this wasn't me" from a code in hand (see renderSMS).
		why = append(why, o.Catalog.T(lang, "mail.footer.why", o.site()+"/why", ref))
	}
	return append(why,
		o.Catalog.T(lang, "mail.footer.never_ask", o.ServiceName),
		o.reference(lang, ref),
		// Written out, to be typed: a holder who doubts a message should
		// not follow its links.
		o.Catalog.T(lang, "mail.footer.check", o.url("/check"), o.url("/why/"+ref), o.url("/account/messages")),
		o.Catalog.T(lang, "mail.footer.sender", o.ServiceName, o.PublicURL),
	)
}

// reference is the footer's reference line, with the support contact
// when the operator configured one.
func (o *Outbox) reference(lang, ref string) string {
	line := o.Catalog.T(lang, "mail.footer.reference", ref)
	if o.Support != "" {
		line += o.Catalog.T(lang, "mail.footer.support", o.Support)
	}
	return line
}

func (o *Outbox) url(path string) string { return strings.TrimSuffix(o.PublicURL, "/") + path }

// htmlMail is the HTML part: the same paragraphs as the text, under a
// sender block that is the same in every message, so a holder learns what a
// genuine message from the service looks like. The operator may replace it
// (UseHTMLTemplate).
//
//go:embed message.html
var messageHTML string

var htmlMail = template.Must(template.New("message.html").Parse(messageHTML))

// defaultColor is the line under the service's name in an email when
// the look has no colour of its own.
const defaultColor = "#0b57d0"

// render writes the stored text (and, for email, HTML) of a draft.
func (o *Outbox) render(d Draft, ref string) (text, html string) {
	if d.Channel == request.SMS {
		return o.renderSMS(d, ref), ""
	}
	var t strings.Builder
	for i, p := range d.Paragraphs {
		if i > 0 {
			t.WriteString("\n\n")
		}
		t.WriteString(p)
		if i == 0 && d.Code != "" {
			t.WriteString("\n\n    " + d.Code)
		}
	}
	t.WriteString("\n\n--\n")
	footer := o.footer(d.Language, ref, d.Code != "")
	t.WriteString(strings.Join(footer, "\n"))
	t.WriteString("\n")
	return t.String(), o.renderHTML(d, ref, footer)
}

// ForAccount returns a page of an account's messages for its message
// center, newest first (see AccountQuery; Limit is kept to 1…100).
func (o *Outbox) ForAccount(ctx context.Context, accountID string, q AccountQuery) ([]*Message, error) {
	q.Limit = min(max(q.Limit, 1), 100)
	return o.Store.AccountMessages(ctx, accountID, q)
}

// Recent returns the newest stored messages, newest first (the development
// message list; the holder's message center reads its own).
func (o *Outbox) Recent(ctx context.Context, limit int) ([]*Message, error) {
	return o.Store.RecentMessages(ctx, limit)
}

// ByReference returns the message with the reference (ErrNotFound when
// none has it): the development mailbox's raw emails, and next the
// console's lookup by reference.
func (o *Outbox) ByReference(ctx context.Context, ref string) (*Message, error) {
	return o.Store.MessageByReference(ctx, ref)
}

// Reveal returns a copy of m with its code put back in place of CodeMask,
// for handing to a driver (or to the development message list). A message
// without a code is returned as it is.
func (o *Outbox) Reveal(m *Message) (*Message, error) {
	if m.Secret == nil {
		return m, nil
	}
	code, err := o.Box.Open(m.Secret, []byte(m.ID))
	if err != nil {
		return nil, fmt.Errorf("outbox: message %s: %w", m.ID, err)
	}
	c := *m
	c.Text = strings.ReplaceAll(m.Text, CodeMask, string(code))
	c.HTML = strings.ReplaceAll(m.HTML, CodeMask, string(code))
	c.Secret = nil
	return &c, nil
}

func (o *Outbox) backoff(attempts int) time.Duration {
	d := 10 * time.Second << min(attempts-1, 9)
	return min(d, time.Hour)
}

// Run delivers due messages until ctx ends. When ctx ends while a message is
// being handed to the driver, that delivery is finished (bounded by the
// lease) before Run returns, so a graceful stop never abandons a message
// half-sent.
func (o *Outbox) Run(ctx context.Context) {
	wake := o.signal()
	for {
		if ctx.Err() != nil {
			return
		}
		now := o.Clock.Now()
		m, err := o.Store.ClaimMessage(ctx, now, now.Add(o.Lease))
		switch {
		case err == nil:
			o.deliver(m)
			continue
		case errors.Is(err, ErrEmpty), ctx.Err() != nil:
		default:
			o.Log.Error("outbox: claim", "err", err)
		}
		t := time.NewTimer(o.Poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-wake:
		case <-t.C:
		}
		t.Stop()
	}
}

func (o *Outbox) deliver(m *Message) {
	// Not the worker's context: a stop request must not cut a delivery short.
	ctx, cancel := context.WithTimeout(context.Background(), o.Lease/2)
	defer cancel()
	if !m.HandedOffAt.IsZero() {
		o.Log.Warn("re-delivering a message whose earlier hand-off was cut off", "message", m.ID, "reference", m.Reference,
			"handed_off_at", m.HandedOffAt, "idempotency_key", m.IdempotencyKey())
	}
	driver, ok := o.Drivers[m.Channel]
	if !ok {
		// Stored by a node configured with this channel; this one is not.
		// Leave it to the lease: a node that has the driver will take it.
		o.Log.Error("outbox: no driver for the message's channel", "message", m.ID, "channel", m.Channel)
		return
	}
	if err := o.Store.MarkHandoff(ctx, m.ID, o.Clock.Now()); err != nil {
		// Without the record, do not hand it off: the lease will bring it back.
		o.Log.Error("outbox: record hand-off", "message", m.ID, "err", err)
		return
	}
	out, err := o.Reveal(m)
	if err == nil {
		err = driver.Send(ctx, out)
	}
	now := o.Clock.Now()
	if err == nil {
		if err := o.Store.MarkSent(ctx, m.ID, now, !driver.KeepsCode()); err != nil {
			o.Log.Error("outbox: mark sent", "message", m.ID, "err", err)
		}
		o.Log.Info("message sent", "message", m.ID, "reference", m.Reference, "purpose", m.Purpose, "channel", m.Channel,
			"driver", driver.Name())
		if o.Delivered != nil {
			o.Delivered(m)
		}
		return
	}
	attempts := m.Attempts + 1
	failed := attempts >= o.MaxAttempts
	o.Log.Warn("message delivery failed", "message", m.ID, "attempt", attempts, "gave_up", failed, "err", err)
	if err := o.Store.MarkRetry(ctx, m.ID, now.Add(o.backoff(attempts)), err.Error(), failed); err != nil {
		o.Log.Error("outbox: mark retry", "message", m.ID, "err", err)
	}
}

// renderSMS writes an SMS: short, because a Japanese SMS segment holds 70
// characters. The paragraphs (already short), the code, the reference, and
// last the origin-bound line "@host #code" (the WebOTP format), which lets a
// phone offer the code only on the service's own site.
func (o *Outbox) renderSMS(d Draft, ref string) string {
	var t strings.Builder
	for _, p := range d.Paragraphs {
		t.WriteString(p)
		t.WriteString("\n")
	}
	if d.Code != "" {
		t.WriteString(d.Code)
		t.WriteString("\n")
	}
	t.WriteString(o.Catalog.T(d.Language, "sms.reference", ref))
	if d.Code != "" {
		// Where to check an unexpected code, to be typed, not tapped (the
		// guide's advice: the address you know, never a link that asks
		// for a password). The autofill line below does not count: phones
		// hide it, and it names no page.
		if site := o.site(); site != "" {
			t.WriteString("\n" + o.Catalog.T(d.Language, "sms.check", site+"/why"))
		}
		if host := o.host(); host != "" {
			t.WriteString("\n\n@" + host + " #" + d.Code)
		}
	}
	return t.String()
}

// site is the public URL without its scheme — host, port when it has one,
// and path prefix — the shortest form a holder can type.
func (o *Outbox) site() string {
	u, err := url.Parse(o.PublicURL)
	if err != nil || u.Host == "" {
		return ""
	}
	return u.Host + strings.TrimSuffix(u.Path, "/")
}

// host is the host name of the public URL, for the origin-bound SMS line.
func (o *Outbox) host() string {
	u, err := url.Parse(o.PublicURL)
	if err != nil {
		return ""
	}
	return u.Hostname()
}
