package storetest

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"gatehouse/internal/delivery"
	"gatehouse/internal/random"
)

// DeliveryStore is what the deliveries outbox keeps in the database.
type DeliveryStore interface {
	delivery.Store
	delivery.BacklogStore
	delivery.ListStore
	PruneDeliveries(ctx context.Context, t time.Time, limit int) (int, error)
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
}

// RunDeliveries runs the deliveries outbox suite; open returns a fresh,
// migrated, empty store.
func RunDeliveries(t *testing.T, open func(t *testing.T) DeliveryStore) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, DeliveryStore)
	}{
		{"EnqueueJoinsTheFlowsTransaction", testDeliveryInTx},
		{"ClaimLeaseRetryAndSent", testDeliveryLifecycle},
		{"ConcurrentClaimsNeverShareADelivery", testDeliveryConcurrentClaims},
		{"SentAndFailedArePruned", testDeliveryPrune},
		{"ListedByStatusAndAFailedOneRetriedOnce", testDeliveryListAndRetry},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

func newDelivery(at time.Time) *delivery.Delivery {
	return &delivery.Delivery{ID: random.ID(), Kind: delivery.SET, Target: "https://rp.example/events", Receiver: "set-1", AccountID: "acc",
		Payload: []byte(`{"aud":"rp","events":{"x":{}}}`), Status: delivery.Queued, NextAt: at, CreatedAt: at}
}

func testDeliveryInTx(t *testing.T, s DeliveryStore) {
	ctx := context.Background()
	d := newDelivery(t0)
	boom := errors.New("the cause failed")
	err := s.InTx(ctx, func(ctx context.Context) error {
		if err := s.EnqueueDelivery(ctx, d); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if _, err := s.Delivery(ctx, d.ID); !errors.Is(err, delivery.ErrNotFound) {
		t.Fatalf("a rolled-back delivery: %v", err)
	}
	if err := s.InTx(ctx, func(ctx context.Context) error { return s.EnqueueDelivery(ctx, d) }); err != nil {
		t.Fatal(err)
	}
	got, err := s.Delivery(ctx, d.ID)
	if err != nil || string(got.Payload) != string(d.Payload) || got.Kind != d.Kind || got.Target != d.Target || got.Receiver != d.Receiver ||
		got.AccountID != "acc" || got.Status != delivery.Queued || !got.CreatedAt.Equal(t0) {
		t.Fatalf("stored %+v %v", got, err)
	}
}

func testDeliveryLifecycle(t *testing.T, s DeliveryStore) {
	ctx := context.Background()
	d := newDelivery(t0)
	if err := s.EnqueueDelivery(ctx, d); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ClaimDelivery(ctx, t0.Add(-time.Second), t0.Add(time.Minute)); !errors.Is(err, delivery.ErrEmpty) {
		t.Fatalf("claimed before it is due: %v", err)
	}
	if b, err := s.DeliveryBacklog(ctx); err != nil || b.Depth != 1 || !b.Oldest.Equal(t0) {
		t.Fatalf("backlog %+v %v", b, err)
	}
	c, err := s.ClaimDelivery(ctx, t0, t0.Add(time.Minute))
	if err != nil || c.ID != d.ID || c.Status != delivery.Sending || !c.LeaseUntil.Equal(t0.Add(time.Minute)) {
		t.Fatalf("claim %+v %v", c, err)
	}
	// Claimed: nobody else gets it while the lease runs…
	if _, err := s.ClaimDelivery(ctx, t0.Add(59*time.Second), t0.Add(2*time.Minute)); !errors.Is(err, delivery.ErrEmpty) {
		t.Fatalf("claimed twice within the lease: %v", err)
	}
	// …and once it ended (the node died), another worker takes it.
	c, err = s.ClaimDelivery(ctx, t0.Add(time.Minute), t0.Add(2*time.Minute))
	if err != nil || c.ID != d.ID || c.Attempts != 0 {
		t.Fatalf("reclaim after the lease: %+v %v", c, err)
	}
	if err := s.MarkDeliveryRetry(ctx, d.ID, t0.Add(5*time.Minute), "receiver answered 500", false); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ClaimDelivery(ctx, t0.Add(4*time.Minute), t0.Add(5*time.Minute)); !errors.Is(err, delivery.ErrEmpty) {
		t.Fatalf("claimed before its retry is due: %v", err)
	}
	c, err = s.ClaimDelivery(ctx, t0.Add(5*time.Minute), t0.Add(6*time.Minute))
	if err != nil || c.Attempts != 1 || c.LastError != "receiver answered 500" {
		t.Fatalf("retry %+v %v", c, err)
	}
	if err := s.MarkDeliverySent(ctx, d.ID, t0.Add(5*time.Minute)); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Delivery(ctx, d.ID)
	if got.Status != delivery.Sent || got.Attempts != 2 || !got.SentAt.Equal(t0.Add(5*time.Minute)) || !got.LeaseUntil.IsZero() {
		t.Fatalf("sent %+v", got)
	}
	if _, err := s.ClaimDelivery(ctx, t0.Add(time.Hour), t0.Add(2*time.Hour)); !errors.Is(err, delivery.ErrEmpty) {
		t.Fatalf("a sent delivery claimed: %v", err)
	}
	f := newDelivery(t0)
	s.EnqueueDelivery(ctx, f)
	s.ClaimDelivery(ctx, t0, t0.Add(time.Minute))
	if err := s.MarkDeliveryRetry(ctx, f.ID, t0, "gave up", true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ClaimDelivery(ctx, t0.Add(time.Hour), t0.Add(2*time.Hour)); !errors.Is(err, delivery.ErrEmpty) {
		t.Fatalf("a failed delivery claimed: %v", err)
	}
	if b, err := s.DeliveryBacklog(ctx); err != nil || b.Depth != 0 || !b.Oldest.IsZero() {
		t.Fatalf("backlog %+v %v", b, err)
	}
}

func testDeliveryConcurrentClaims(t *testing.T, s DeliveryStore) {
	ctx := context.Background()
	var want []string
	for i := range 20 {
		d := newDelivery(t0.Add(time.Duration(i) * time.Millisecond))
		if err := s.EnqueueDelivery(ctx, d); err != nil {
			t.Fatal(err)
		}
		want = append(want, d.ID)
	}
	var mu sync.Mutex
	var got []string
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				d, err := s.ClaimDelivery(ctx, t0.Add(time.Second), t0.Add(time.Minute))
				if errors.Is(err, delivery.ErrEmpty) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				got = append(got, d.ID)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("claimed %d (%v), want each of %d once", len(got), got, len(want))
	}
}

func testDeliveryPrune(t *testing.T, s DeliveryStore) {
	ctx := context.Background()
	old := t0.Add(-40 * 24 * time.Hour)
	sent, failed, queued, recent := newDelivery(old), newDelivery(old), newDelivery(old), newDelivery(t0)
	for _, d := range []*delivery.Delivery{sent, failed, queued, recent} {
		if err := s.EnqueueDelivery(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	s.MarkDeliverySent(ctx, sent.ID, old)
	s.MarkDeliveryRetry(ctx, failed.ID, old, "gave up", true)
	s.MarkDeliverySent(ctx, recent.ID, t0)
	n, err := s.PruneDeliveries(ctx, t0.Add(-30*24*time.Hour), 10)
	if err != nil || n != 2 {
		t.Fatalf("pruned %d %v, want the old sent and failed ones", n, err)
	}
	for _, d := range []*delivery.Delivery{queued, recent} {
		if _, err := s.Delivery(ctx, d.ID); err != nil {
			t.Errorf("%s: %v", d.ID, err)
		}
	}
}

// testDeliveryListAndRetry: the operator lists deliveries by status,
// newest first, a page at a time; a failed one is put back in line with a
// fresh run of attempts, by one of twenty operators pressing at once.
func testDeliveryListAndRetry(t *testing.T, s DeliveryStore) {
	ctx := context.Background()
	var all []*delivery.Delivery
	for i := range 5 {
		d := newDelivery(t0.Add(time.Duration(i) * time.Minute))
		if err := s.EnqueueDelivery(ctx, d); err != nil {
			t.Fatal(err)
		}
		all = append(all, d)
	}
	// Two failed for good (the newest and the oldest), one sent.
	for _, d := range []*delivery.Delivery{all[0], all[4]} {
		if err := s.MarkDeliveryRetry(ctx, d.ID, t0.Add(time.Hour), "502 Bad Gateway", true); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.MarkDeliverySent(ctx, all[2].ID, t0); err != nil {
		t.Fatal(err)
	}
	ids := func(ds []*delivery.Delivery) []string {
		var out []string
		for _, d := range ds {
			out = append(out, d.ID)
		}
		return out
	}
	got, err := s.Deliveries(ctx, delivery.Query{Limit: 10})
	if want := []string{all[4].ID, all[3].ID, all[2].ID, all[1].ID, all[0].ID}; err != nil || !slices.Equal(ids(got), want) {
		t.Fatalf("every delivery: %v %v, want newest first %v", ids(got), err, want)
	}
	page, err := s.Deliveries(ctx, delivery.Query{Limit: 2, Before: got[1].CreatedAt, BeforeID: got[1].ID})
	if want := []string{all[2].ID, all[1].ID}; err != nil || !slices.Equal(ids(page), want) {
		t.Fatalf("the page after the second: %v %v, want %v", ids(page), err, want)
	}
	failed, err := s.Deliveries(ctx, delivery.Query{Status: delivery.Failed, Limit: 10})
	if want := []string{all[4].ID, all[0].ID}; err != nil || !slices.Equal(ids(failed), want) {
		t.Fatalf("failed: %v %v, want %v", ids(failed), err, want)
	}
	if failed[0].LastError != "502 Bad Gateway" || failed[0].Attempts != 1 {
		t.Fatalf("a failed delivery as listed: %+v", failed[0])
	}

	for _, d := range []*delivery.Delivery{all[1], all[2]} {
		if err := s.RequeueDelivery(ctx, d.ID, t0); !errors.Is(err, delivery.ErrNotFailed) {
			t.Errorf("retrying %s delivery: %v, want ErrNotFailed", d.Status, err)
		}
	}
	if err := s.RequeueDelivery(ctx, "no-such-delivery", t0); !errors.Is(err, delivery.ErrNotFound) {
		t.Errorf("retrying an unknown delivery: %v", err)
	}
	now := t0.Add(2 * time.Hour)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var done, refused int
	for range 20 {
		wg.Go(func() {
			err := s.RequeueDelivery(ctx, all[0].ID, now)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				done++
			case errors.Is(err, delivery.ErrNotFailed):
				refused++
			default:
				t.Errorf("retry: %v", err)
			}
		})
	}
	wg.Wait()
	if done != 1 || refused != 19 {
		t.Fatalf("twenty retries at once: %d done, %d refused", done, refused)
	}
	d, err := s.Delivery(ctx, all[0].ID)
	if err != nil || d.Status != delivery.Queued || d.Attempts != 0 || !d.NextAt.Equal(now) || d.LastError != "502 Bad Gateway" {
		t.Fatalf("after the retry: %+v %v", d, err)
	}
	for _, d := range []*delivery.Delivery{all[1], all[3]} {
		if err := s.MarkDeliverySent(ctx, d.ID, now); err != nil {
			t.Fatal(err)
		}
	}
	claimed, err := s.ClaimDelivery(ctx, now, now.Add(time.Minute))
	if err != nil || claimed.ID != all[0].ID {
		t.Fatalf("the retried delivery is due at once: %+v %v", claimed, err)
	}
}
