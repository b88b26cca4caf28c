// Package delivery is the outbox of HTTP deliveries to other programs:
// Security Event Tokens (RFC 8417, pushed per RFC 8935), JSON webhooks
// signed with HMAC, and OpenID Connect back-channel logout tokens.
//
// A delivery is stored before any attempt — in the transaction of what
// caused it, when Enqueue is called inside one — with its id (the token's
// jti, the receiver's idempotency key), kind, target URL and payload. A
// worker claims due deliveries with a lease (a conditional update; FOR
// UPDATE SKIP LOCKED on PostgreSQL), turns each into an HTTP request with
// the Encoder registered for its kind — signing at each attempt — and
// POSTs it, retrying with backoff (10 s doubling to an hour) up to
// MaxAttempts. A claim whose node died ends with its lease, and another
// worker (or the next start) takes the delivery again: nothing is lost
// across a restart, and a receiver that saw an attempt whose answer never
// came back sees the same id again.
package delivery

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"gatehouse/internal/clock"
	"gatehouse/internal/commit"
	"gatehouse/internal/random"
)

// Kind names how a delivery is encoded; each kind has its Encoder.
type Kind string

// The kinds Gatehouse sends.
const (
	// SET is a Security Event Token pushed per RFC 8935 (see SignedJWT).
	SET Kind = "set"
	// WebhookJSON is a JSON body signed with HMAC (see HMACJSON).
	WebhookJSON Kind = "webhook_json"
	// BackchannelLogout is an OpenID Connect back-channel logout token,
	// posted as the form field logout_token (see SignedJWT).
	BackchannelLogout Kind = "backchannel_logout"
)

// Status is where a delivery is.
type Status string

// Delivery states.
const (
	Queued  Status = "queued"
	Sending Status = "sending" // claimed by a worker until its lease ends
	Sent    Status = "sent"
	Failed  Status = "failed" // gave up after MaxAttempts, or refused for good
)

// Delivery is one stored delivery.
type Delivery struct {
	// ID is the idempotency key: a token's jti, a webhook's id.
	ID   string
	Kind Kind
	// Target is the URL it is posted to.
	Target string
	// Receiver names who receives it: a configured webhook receiver, an
	// OpenID Connect client.
	Receiver  string
	AccountID string
	// Payload is what the kind's Encoder turns into a request: a token's
	// claims, a webhook's body (JSON).
	Payload    json.RawMessage
	Status     Status
	Attempts   int
	NextAt     time.Time
	LeaseUntil time.Time
	LastError  string
	CreatedAt  time.Time
	SentAt     time.Time
}

// Store keeps deliveries. ClaimDelivery must hand each due delivery to
// exactly one caller: a conditional update that sets a lease.
type Store interface {
	// EnqueueDelivery stores d, in the flow's transaction when ctx
	// carries one.
	EnqueueDelivery(ctx context.Context, d *Delivery) error
	// ClaimDelivery returns the next due delivery (queued and due, or
	// sending with an expired lease), marked as sending until
	// leaseUntil; ErrEmpty when nothing is due.
	ClaimDelivery(ctx context.Context, now, leaseUntil time.Time) (*Delivery, error)
	// MarkDeliverySent records success.
	MarkDeliverySent(ctx context.Context, id string, at time.Time) error
	// MarkDeliveryRetry counts a failed attempt and schedules the next at
	// next, or gives up (failed).
	MarkDeliveryRetry(ctx context.Context, id string, next time.Time, lastError string, failed bool) error
	// Delivery returns the delivery with the id, or ErrNotFound.
	Delivery(ctx context.Context, id string) (*Delivery, error)
	// RequeueDelivery puts a failed delivery back in line, due at now
	// with a fresh run of attempts (its last error kept); ErrNotFound for
	// an unknown id, ErrNotFailed for one that has not failed. One
	// conditional update: of two operators retrying at once, one does.
	RequeueDelivery(ctx context.Context, id string, now time.Time) error
}

// Query selects stored deliveries for the operator: those in Status (any
// when empty), newest first, after the position Before/BeforeID (the
// last row of the previous page), at most Limit.
type Query struct {
	Status   Status
	Before   time.Time
	BeforeID string
	Limit    int
}

// ListStore lists stored deliveries (the admin API): what failed for
// good is not lost, only waiting for an operator to retry it.
type ListStore interface {
	Deliveries(ctx context.Context, q Query) ([]*Delivery, error)
}

// Statuses are every Status, in the order a delivery goes through them.
var Statuses = []Status{Queued, Sending, Sent, Failed}

// Backlog is what waits: deliveries queued or being sent, and when the
// oldest of them was stored (zero when none waits).
type Backlog struct {
	Depth  int
	Oldest time.Time
}

// BacklogStore reads the backlog in one cheap query (metrics).
type BacklogStore interface {
	DeliveryBacklog(ctx context.Context) (Backlog, error)
}

// Store errors.
var (
	ErrEmpty    = errors.New("delivery: nothing due")
	ErrNotFound = errors.New("delivery: no such delivery")
	// ErrNotFailed: only a failed delivery is retried by hand; one still
	// queued or being sent is already on its way, one sent has arrived.
	ErrNotFailed = errors.New("delivery: not failed: only a failed delivery can be retried")
)

// Request is what an Encoder makes of a delivery for one attempt: the
// body POSTed to the target, its Content-Type, and any other headers.
type Request struct {
	ContentType string
	Body        []byte
	Header      http.Header
}

// Encoder turns a delivery into the request of one attempt at now: a
// signed token is signed afresh at each attempt. An error wrapped with
// Permanent fails the delivery at once; any other is retried.
type Encoder interface {
	Encode(ctx context.Context, d *Delivery, now time.Time) (*Request, error)
}

// EncoderFunc is an Encoder that is a function.
type EncoderFunc func(ctx context.Context, d *Delivery, now time.Time) (*Request, error)

// Encode implements Encoder.
func (f EncoderFunc) Encode(ctx context.Context, d *Delivery, now time.Time) (*Request, error) {
	return f(ctx, d, now)
}

type permanent struct{ error }

func (p permanent) Unwrap() error { return p.error }

// Permanent marks err as one no retry can mend (the receiver's secret is
// no longer configured): the delivery fails at once.
func Permanent(err error) error { return permanent{err} }

// IsPermanent reports whether err was marked with Permanent.
func IsPermanent(err error) bool {
	var p permanent
	return errors.As(err, &p)
}

// Defaults for the Sender's zero fields.
const (
	DefaultMaxAttempts = 12
	DefaultLease       = time.Minute
	DefaultPoll        = time.Second
	// Timeout bounds one attempt's HTTP exchange.
	Timeout = 10 * time.Second
)

// Sender stores deliveries and delivers them.
type Sender struct {
	Store Store
	// Kinds has the Encoder of every kind this node sends. Enqueue refuses
	// a kind without one.
	Kinds map[Kind]Encoder
	// Client posts the requests; nil is NewClient().
	Client *http.Client
	Clock  clock.Clock
	Log    *slog.Logger
	// MaxAttempts is how many attempts are made before a delivery is
	// failed (DefaultMaxAttempts); Lease how long a claim lasts
	// (DefaultLease, longer than an attempt's Timeout); Poll how often an
	// idle worker looks for due deliveries (DefaultPoll).
	MaxAttempts int
	Lease       time.Duration
	Poll        time.Duration
	// Delivered, when set, is told of every delivery accepted by its
	// receiver. Optional (tests, metrics).
	Delivered func(*Delivery)

	once   sync.Once
	wake   chan struct{}
	client *http.Client
}

// NewClient is the HTTP client deliveries are posted with: no redirect
// is followed (a receiver that moved is a configuration to fix, and a
// signed token must not be replayed to wherever a redirect points), and
// an attempt ends after Timeout.
func NewClient() *http.Client {
	return &http.Client{
		Timeout:       Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func (s *Sender) init() {
	s.once.Do(func() {
		s.wake = make(chan struct{}, 1)
		s.client = s.Client
		if s.client == nil {
			s.client = NewClient()
		}
	})
}

func orDefault[T int | time.Duration](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

// Enqueue stores d as queued and due now, giving it a fresh id unless it
// has one, and wakes the worker once the transaction ctx carries (if
// any) commits. Once it returns without error, and that transaction
// commits, d will be attempted until it is sent or fails, across
// restarts. d is updated with what was stored.
func (s *Sender) Enqueue(ctx context.Context, d *Delivery) error {
	s.init()
	if _, ok := s.Kinds[d.Kind]; !ok {
		return fmt.Errorf("delivery: enqueue: no encoder for kind %q", d.Kind)
	}
	if d.Target == "" {
		return errors.New("delivery: enqueue: no target URL")
	}
	if !json.Valid(d.Payload) {
		return fmt.Errorf("delivery: enqueue %s: the payload is not JSON", d.Kind)
	}
	if d.ID == "" {
		d.ID = random.ID()
	}
	now := s.Clock.Now()
	d.Status, d.Attempts, d.CreatedAt, d.NextAt = Queued, 0, now, now
	d.LeaseUntil, d.SentAt, d.LastError = time.Time{}, time.Time{}, ""
	if err := s.Store.EnqueueDelivery(ctx, d); err != nil {
		return fmt.Errorf("delivery: enqueue %s: %w", d.Kind, err)
	}
	commit.After(ctx, s.wakeWorker)
	return nil
}

// Retry puts a failed delivery back in line, due now with a fresh run of
// attempts, and wakes the worker: the operator's answer to a receiver
// that was down for longer than the retries last (about 3.4 hours with
// the defaults). The receiver dedupes by the delivery's id, so a retry
// of something it did receive after all is harmless.
func (s *Sender) Retry(ctx context.Context, id string) (*Delivery, error) {
	s.init()
	if err := s.Store.RequeueDelivery(ctx, id, s.Clock.Now()); err != nil {
		return nil, fmt.Errorf("delivery: retry %s: %w", id, err)
	}
	s.wakeWorker()
	d, err := s.Store.Delivery(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("delivery: retry %s: %w", id, err)
	}
	return d, nil
}

func (s *Sender) wakeWorker() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// backoff is the wait after the attempts-th failed attempt: 10 s,
// doubling, at most an hour.
func backoff(attempts int) time.Duration {
	return min(10*time.Second<<min(max(attempts-1, 0), 9), time.Hour)
}

// Run delivers due deliveries until ctx ends. An attempt in progress when
// ctx ends is finished (within Timeout) before Run returns.
func (s *Sender) Run(ctx context.Context) {
	s.init()
	lease := orDefault(s.Lease, DefaultLease)
	for {
		if ctx.Err() != nil {
			return
		}
		now := s.Clock.Now()
		d, err := s.Store.ClaimDelivery(ctx, now, now.Add(lease))
		switch {
		case err == nil:
			s.attempt(d)
			continue
		case errors.Is(err, ErrEmpty), ctx.Err() != nil:
		default:
			s.Log.Error("delivery: claim", "err", err)
		}
		t := time.NewTimer(orDefault(s.Poll, DefaultPoll))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-s.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// attempt makes one attempt at d and records its outcome.
func (s *Sender) attempt(d *Delivery) {
	// Not the worker's context: a stop must not cut an attempt short.
	ctx, cancel := context.WithTimeout(context.Background(), orDefault(s.Lease, DefaultLease)/2)
	defer cancel()
	err := s.post(ctx, d)
	now := s.Clock.Now()
	if err == nil {
		if err := s.Store.MarkDeliverySent(ctx, d.ID, now); err != nil {
			s.Log.Error("delivery: mark sent", "delivery", d.ID, "err", err)
			return
		}
		s.Log.Info("delivery sent", "delivery", d.ID, "kind", d.Kind, "receiver", d.Receiver, "attempt", d.Attempts+1)
		if s.Delivered != nil {
			s.Delivered(d)
		}
		return
	}
	attempts := d.Attempts + 1
	failed := attempts >= orDefault(s.MaxAttempts, DefaultMaxAttempts) || IsPermanent(err)
	s.Log.Warn("delivery attempt failed", "delivery", d.ID, "kind", d.Kind, "receiver", d.Receiver, "target", d.Target,
		"attempt", attempts, "gave_up", failed, "err", err)
	if err := s.Store.MarkDeliveryRetry(ctx, d.ID, now.Add(backoff(attempts)), err.Error(), failed); err != nil {
		s.Log.Error("delivery: mark retry", "delivery", d.ID, "err", err)
	}
}

// post encodes d and POSTs it. Success is 202 Accepted (RFC 8935), or
// 200 or 204; anything else, a redirect included, is an error.
func (s *Sender) post(ctx context.Context, d *Delivery) error {
	enc, ok := s.Kinds[d.Kind]
	if !ok {
		return fmt.Errorf("no encoder for kind %q on this node", d.Kind)
	}
	r, err := enc.Encode(ctx, d, s.Clock.Now())
	if err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.Target, strings.NewReader(string(r.Body)))
	if err != nil {
		return Permanent(fmt.Errorf("request: %w", err))
	}
	for k, v := range r.Header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", r.ContentType)
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json")
	}
	req.Header.Set("User-Agent", "Gatehouse")
	res, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
	switch res.StatusCode {
	case http.StatusAccepted, http.StatusOK, http.StatusNoContent:
		return nil
	}
	return &StatusError{Code: res.StatusCode, Err: errorCode(body), Description: description(body), Location: res.Header.Get("Location")}
}

// StatusError is a receiver's answer other than success.
type StatusError struct {
	Code int
	// Err and Description are the receiver's error, from an RFC 8935
	// body {"err": …, "description": …} (or an OAuth-style {"error":
	// …, "error_description": …}).
	Err, Description string
	// Location is where a redirect pointed (never followed).
	Location string
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("receiver answered %d", e.Code)
	if e.Err != "" {
		msg += ": " + e.Err
	}
	if e.Description != "" {
		msg += " (" + e.Description + ")"
	}
	if e.Location != "" {
		msg += "; redirect to " + e.Location + " not followed"
	}
	return msg
}

type errorBody struct {
	Err              string `json:"err"`
	Description      string `json:"description"`
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

func parseError(body []byte) errorBody {
	var b errorBody
	json.Unmarshal(body, &b)
	return b
}

func errorCode(body []byte) string {
	b := parseError(body)
	return clip(cmp.Or(b.Err, b.Error))
}

func description(body []byte) string {
	b := parseError(body)
	return clip(cmp.Or(b.Description, b.ErrorDescription))
}

// clip keeps a receiver's words short and on one line in logs.
func clip(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
