package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gatehouse/internal/crypt"
	"gatehouse/internal/i18n"
	"gatehouse/internal/outbox"
	"gatehouse/internal/request"
	"gatehouse/internal/sqlite"
)

// recordingDriver records what it delivers. A send to an address in fail
// is refused that many times first (every time when the count is
// negative); set fail before the worker runs.
type recordingDriver struct {
	fail    map[string]int
	mu      sync.Mutex
	sent    []*outbox.Message
	refused map[string]int // failed sends by address
}

func (*recordingDriver) Name() string    { return "test" }
func (*recordingDriver) KeepsCode() bool { return false }
func (d *recordingDriver) Send(_ context.Context, m *outbox.Message) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if n := d.fail[m.To]; n != 0 {
		d.fail[m.To] = n - 1
		if d.refused == nil {
			d.refused = map[string]int{}
		}
		d.refused[m.To]++
		return errors.New("provider unavailable")
	}
	d.sent = append(d.sent, m)
	return nil
}
func (d *recordingDriver) count() int { d.mu.Lock(); defer d.mu.Unlock(); return len(d.sent) }
func (d *recordingDriver) refusedTo(to string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.refused[to]
}

// newOutbox is the one place the tests build an Outbox: a fresh SQLite
// store, the driver, three attempts, and a short poll.
func newOutbox(t *testing.T, d outbox.Driver) (*outbox.Outbox, *sqlite.DB) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"), true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	box, _ := crypt.New([]byte("0123456789abcdef0123456789abcdef"))
	return &outbox.Outbox{Store: db, Drivers: map[request.Channel]outbox.Driver{request.Email: d, request.SMS: d}, Catalog: i18n.New(), Box: box, ServiceName: "Shop", PublicURL: "https://id.example",
		Log: slog.New(slog.DiscardHandler), MaxAttempts: 3, Lease: 2 * time.Second, Poll: 20 * time.Millisecond}, db
}

// laterStore makes the worker claim as if the time were later by ahead, so
// a message waiting out its backoff falls due without the test waiting.
type laterStore struct {
	outbox.Store
	ahead atomic.Int64 // a time.Duration
}

func (s *laterStore) ClaimMessage(ctx context.Context, now, leaseUntil time.Time) (*outbox.Message, error) {
	d := time.Duration(s.ahead.Load())
	return s.Store.ClaimMessage(ctx, now.Add(d), leaseUntil.Add(d))
}

// run runs one worker until the test ends.
func run(t *testing.T, o *outbox.Outbox) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { o.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

// waitFor polls cond until it holds, failing the test after ten seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
	}
}

// stored returns the stored message with the given id.
func stored(t *testing.T, db *sqlite.DB, id string) *outbox.Message {
	t.Helper()
	ms, err := db.RecentMessages(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.ID == id {
			return m
		}
	}
	t.Fatalf("message %s not stored", id)
	return nil
}

func draft(to string) outbox.Draft {
	return outbox.Draft{Purpose: "test", To: to, Language: "ja", Subject: "件名", Code: "123456", Paragraphs: []string{"first <b>", "second"}}
}

func TestEnqueue_StoredBeforeDeliveryWithReference(t *testing.T) {
	t.Parallel()
	o, db := newOutbox(t, &recordingDriver{})
	m, err := o.Enqueue(context.Background(), draft("a@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	ms, _ := db.RecentMessages(context.Background(), 10)
	if len(ms) != 1 || ms[0].Status != outbox.Queued || ms[0].Reference != m.Reference {
		t.Fatalf("stored: %+v", ms)
	}
	if !strings.Contains(m.Text, "first <b>\n\n    ••••••\n\nsecond") || strings.Contains(m.Text+m.HTML, "123456") || !strings.Contains(m.Text, m.Reference) {
		t.Fatalf("stored text body must mask the code:\n%s", m.Text)
	}
	shown, err := o.Reveal(ms[0])
	if err != nil || !strings.Contains(shown.Text, "first <b>\n\n    123456\n\nsecond") || !strings.Contains(shown.HTML, ">123456<") {
		t.Fatalf("revealed: %v\n%s", err, shown.Text)
	}
	if !strings.Contains(m.HTML, "first &lt;b&gt;") || !strings.Contains(m.HTML, `<html lang="ja">`) || !strings.Contains(m.HTML, m.Reference) {
		t.Fatalf("HTML body must escape text and carry the reference:\n%s", m.HTML)
	}
	if !strings.Contains(m.Text, "メッセージ参照番号") {
		t.Fatal("footer not in the message's language")
	}
}

// TestRun_RetriesWithBackoffThenGivesUp: a message the provider refuses is
// kept queued with its code, retried only once its backoff (10 s, then
// doubling) has passed, and after MaxAttempts (3) failed deliveries marked
// failed, its sealed code erased and never tried again.
func TestRun_RetriesWithBackoffThenGivesUp(t *testing.T) {
	t.Parallel()
	const doomed = "doomed@example.com"
	d := &recordingDriver{fail: map[string]int{doomed: -1}}
	o, db := newOutbox(t, d)
	clock := &laterStore{Store: o.Store}
	o.Store = clock
	run(t, o)
	ctx := context.Background()
	m, err := o.Enqueue(ctx, draft(doomed))
	if err != nil {
		t.Fatal(err)
	}
	backoff := 10 * time.Second
	for attempt := 1; attempt <= 3; attempt++ {
		var got *outbox.Message
		waitFor(t, fmt.Sprintf("delivery attempt %d is recorded", attempt), func() bool {
			got = stored(t, db, m.ID)
			return got.Attempts >= attempt && got.Status != outbox.Sending
		})
		if got.Attempts != attempt || got.LastError != "provider unavailable" || d.refusedTo(doomed) != attempt {
			t.Fatalf("attempt %d: recorded %d attempts (error %q), driver refused %d", attempt, got.Attempts, got.LastError, d.refusedTo(doomed))
		}
		if attempt < 3 {
			if got.Status != outbox.Queued || got.Secret == nil {
				t.Fatalf("after failure %d: status %s, sealed code kept %v; want queued with its code for the retry", attempt, got.Status, got.Secret != nil)
			}
			// The next attempt is due one backoff after this one.
			if wait := got.NextAttemptAt.Sub(got.HandedOffAt); wait < backoff || wait > backoff+time.Second {
				t.Fatalf("after failure %d: next attempt %v after the hand-off, want %v", attempt, wait, backoff)
			}
		} else if got.Status != outbox.Failed || got.Secret != nil {
			t.Fatalf("after failure %d of 3: status %s, sealed code kept %v; want failed with the code erased", attempt, got.Status, got.Secret != nil)
		}
		// The worker goes on: a message queued now is delivered, and the
		// failed one is not tried again before it is due (or ever, once
		// given up).
		later, err := o.Enqueue(ctx, draft(fmt.Sprintf("later-%d@example.com", attempt)))
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, later.To+" is delivered", func() bool { return stored(t, db, later.ID).Status == outbox.Sent })
		if n := d.refusedTo(doomed); n != attempt {
			t.Fatalf("after failure %d the message was tried %d times before its backoff passed", attempt, n)
		}
		clock.ahead.Add(int64(backoff + time.Second)) // now the retry is due
		backoff *= 2
	}
	// Days later, still given up.
	clock.ahead.Add(int64(24 * time.Hour))
	last, _ := o.Enqueue(ctx, draft("last@example.com"))
	waitFor(t, "last@example.com is delivered", func() bool { return stored(t, db, last.ID).Status == outbox.Sent })
	if got := stored(t, db, m.ID); got.Status != outbox.Failed || got.Attempts != 3 || d.refusedTo(doomed) != 3 {
		t.Fatalf("a given-up message was tried again: status %s, %d attempts, refused %d", got.Status, got.Attempts, d.refusedTo(doomed))
	}
}

// TestRun_RetryDeliversOnceDueAndErasesTheCode: a message refused once is
// delivered by the retry once its backoff has passed, with its code, and
// then its sealed code is erased.
func TestRun_RetryDeliversOnceDueAndErasesTheCode(t *testing.T) {
	t.Parallel()
	const flaky = "flaky@example.com"
	d := &recordingDriver{fail: map[string]int{flaky: 1}}
	o, db := newOutbox(t, d)
	clock := &laterStore{Store: o.Store}
	o.Store = clock
	run(t, o)
	m, err := o.Enqueue(context.Background(), draft(flaky))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the first attempt is recorded", func() bool { return stored(t, db, m.ID).Attempts >= 1 })
	if got := stored(t, db, m.ID); got.Attempts != 1 || got.Status != outbox.Queued || got.Secret == nil || d.count() != 0 {
		t.Fatalf("after one failure: %d attempts, status %s, code kept %v, delivered %d", got.Attempts, got.Status, got.Secret != nil, d.count())
	}
	clock.ahead.Add(int64(11 * time.Second))
	waitFor(t, "the retry is delivered", func() bool { return stored(t, db, m.ID).Status == outbox.Sent })
	got := stored(t, db, m.ID)
	d.mu.Lock()
	delivered := append([]*outbox.Message(nil), d.sent...)
	d.mu.Unlock()
	if got.Attempts != 2 || got.Secret != nil || len(delivered) != 1 || !strings.Contains(delivered[0].Text, "123456") {
		t.Fatalf("after the retry: %d attempts, code kept %v, delivered %d", got.Attempts, got.Secret != nil, len(delivered))
	}
}

func TestRun_EachMessageClaimedByExactlyOneWorker(t *testing.T) {
	t.Parallel()
	d := &recordingDriver{}
	o, db := newOutbox(t, d)
	const n = 40
	for i := range n {
		if _, err := o.Enqueue(context.Background(), draft(strings.Repeat("x", i%5+1)+"@example.com")); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 4 { // four workers on one store, as on four nodes
		wg.Go(func() { o.Run(ctx) })
	}
	waitFor(t, fmt.Sprintf("%d messages are delivered", n), func() bool { return d.count() >= n })
	cancel()
	wg.Wait() // Run finishes the delivery in hand before it returns
	seen := map[string]bool{}
	for _, m := range d.sent {
		if seen[m.ID] {
			t.Fatalf("message %s delivered twice", m.ID)
		}
		seen[m.ID] = true
	}
	if len(seen) != n {
		t.Fatalf("delivered %d of %d", len(seen), n)
	}
	// All recorded as sent once: no worker can pick any of them up again.
	ms, err := db.RecentMessages(context.Background(), 2*n)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.Status != outbox.Sent || m.Attempts != 1 {
			t.Errorf("message %s: status %s after %d attempts, want sent after 1", m.ID, m.Status, m.Attempts)
		}
	}
}

func TestClaim_ExpiredLeaseIsPickedUpAgain(t *testing.T) {
	t.Parallel()
	o, db := newOutbox(t, &recordingDriver{})
	ctx := context.Background()
	o.Enqueue(ctx, draft("lease@example.com"))
	now := time.Now().UTC()
	m, err := db.ClaimMessage(ctx, now, now.Add(time.Minute)) // a worker that then dies
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ClaimMessage(ctx, now.Add(30*time.Second), now.Add(90*time.Second)); !errors.Is(err, outbox.ErrEmpty) {
		t.Fatalf("claimed while leased: %v", err)
	}
	again, err := db.ClaimMessage(ctx, now.Add(61*time.Second), now.Add(2*time.Minute))
	if err != nil || again.ID != m.ID {
		t.Fatalf("after the lease: %v", err)
	}
}
