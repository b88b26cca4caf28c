package postgres_test

import (
	"context"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"gatehouse/internal/crypt"
	"gatehouse/internal/i18n"
	"gatehouse/internal/outbox"
	"gatehouse/internal/pgtest"
	"gatehouse/internal/postgres"
	"gatehouse/internal/request"
)

type countingDriver struct{ sent atomic.Int32 }

// claimCounter counts the worker's claims, so the test knows when it has
// found the queue empty and gone idle.
type claimCounter struct {
	outbox.Store
	claims atomic.Int32
}

func (c *claimCounter) ClaimMessage(ctx context.Context, now, leaseUntil time.Time) (*outbox.Message, error) {
	defer c.claims.Add(1)
	return c.Store.ClaimMessage(ctx, now, leaseUntil)
}

func (*countingDriver) Name() string                                  { return "count" }
func (*countingDriver) KeepsCode() bool                               { return false }
func (d *countingDriver) Send(context.Context, *outbox.Message) error { d.sent.Add(1); return nil }

// TestOutbox_WorkerWokenAfterTheFlowCommits: a message queued inside a
// flow's transaction wakes the worker only once the flow commits. Woken
// before (as it was), a worker on another connection finds nothing, goes
// back to sleep for its whole poll interval — here an hour — and the code
// the holder is waiting for never arrives.
func TestOutbox_WorkerWokenAfterTheFlowCommits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := postgres.Open(ctx, pgtest.NewDatabase(t), 10, true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	box, _ := crypt.New(make([]byte, 32))
	d := &countingDriver{}
	store := &claimCounter{Store: db}
	o := &outbox.Outbox{Store: store, Drivers: map[request.Channel]outbox.Driver{request.Email: d}, Catalog: i18n.New(), Box: box,
		ServiceName: "Shop", PublicURL: "https://id.example", Log: slog.New(slog.DiscardHandler),
		MaxAttempts: 3, Lease: time.Minute, Poll: time.Hour}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { o.Run(rctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	for deadline := time.Now().Add(10 * time.Second); store.claims.Load() == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) { // the worker never looked at the queue
			t.Fatal("the worker made no claim")
		}
	}
	err = db.InTx(ctx, func(ctx context.Context) error {
		if _, err := o.Enqueue(ctx, outbox.Draft{Purpose: request.PasswordChanged, To: "h@example.com", Language: "en",
			Subject: "s", Paragraphs: []string{"p"}}); err != nil {
			return err
		}
		// The rest of the flow takes a moment before it commits.
		time.Sleep(100 * time.Millisecond)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); d.sent.Load() == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the message queued by a committed flow was not delivered: the worker was woken before the commit")
		}
	}
}
