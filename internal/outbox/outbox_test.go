package outbox_test

import (
	"context"
	"errors"
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
	"gatehouse/internal/sqlite"
)

type recordingDriver struct {
	mu    sync.Mutex
	sent  []*outbox.Message
	fails atomic.Int32 // fail this many sends first
}

func (*recordingDriver) Name() string { return "test" }
func (d *recordingDriver) Send(_ context.Context, m *outbox.Message) error {
	if d.fails.Add(-1) >= 0 {
		return errors.New("provider unavailable")
	}
	d.mu.Lock()
	d.sent = append(d.sent, m)
	d.mu.Unlock()
	return nil
}
func (d *recordingDriver) count() int { d.mu.Lock(); defer d.mu.Unlock(); return len(d.sent) }

func newOutbox(t *testing.T, d outbox.Driver) (*outbox.Outbox, *sqlite.DB) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"), true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	box, _ := crypt.New([]byte("0123456789abcdef0123456789abcdef"))
	return &outbox.Outbox{Store: db, Driver: d, Catalog: i18n.New(), Box: box, ServiceName: "Shop", PublicURL: "https://id.example",
		Log: slog.New(slog.DiscardHandler), MaxAttempts: 3, Lease: 2 * time.Second, Poll: 20 * time.Millisecond}, db
}

func draft(to string) outbox.Draft {
	return outbox.Draft{Purpose: "test", To: to, Language: "ja", Subject: "件名", Code: "123456", Paragraphs: []string{"first <b>", "second"}}
}

func TestEnqueue_StoredBeforeDeliveryWithReference(t *testing.T) {
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

func TestRun_RetriesWithBackoffThenGivesUp(t *testing.T) {
	d := &recordingDriver{}
	d.fails.Store(1)
	o, db := newOutbox(t, d)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { o.Run(ctx); close(done) }()
	o.Enqueue(context.Background(), draft("retry@example.com"))
	time.Sleep(300 * time.Millisecond)
	ms, _ := db.RecentMessages(context.Background(), 10)
	if ms[0].Status != outbox.Queued || ms[0].Attempts != 1 || ms[0].LastError != "provider unavailable" || ms[0].NextAttemptAt.Before(time.Now().Add(5*time.Second)) {
		t.Fatalf("after one failure: status %s attempts %d error %q next %v", ms[0].Status, ms[0].Attempts, ms[0].LastError, ms[0].NextAttemptAt)
	}
	cancel()
	<-done
	if d.count() != 0 {
		t.Fatal("a failed message must wait for its backoff")
	}
}

func TestRun_EachMessageClaimedByExactlyOneWorker(t *testing.T) {
	d := &recordingDriver{}
	o, _ := newOutbox(t, d)
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
	deadline := time.Now().Add(10 * time.Second)
	for d.count() < n && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	cancel()
	wg.Wait()
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
}

func TestClaim_ExpiredLeaseIsPickedUpAgain(t *testing.T) {
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
