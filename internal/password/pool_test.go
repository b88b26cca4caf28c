package password

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
)

// TestPoolFullMatchesDo proves that Full reports exactly when Do would
// refuse, so a request can be refused before its body is read. Not
// parallel: testing.AllocsPerRun counts every allocation in the process.
func TestPoolFullMatchesDo(t *testing.T) {
	p := NewPool(2, 3)
	release := make(chan struct{})
	var wg sync.WaitGroup
	started := make(chan struct{}, 5)
	for i := range 5 {
		if p.Full() {
			t.Fatalf("Full with %d of 5 places taken", i)
		}
		wg.Go(func() {
			p.Do(context.Background(), func() { started <- struct{}{}; <-release })
		})
		if i < 2 {
			<-started // a worker holds it
		} else {
			waitFor(t, func() bool { p.mu.Lock(); defer p.mu.Unlock(); return p.held == i+1 })
		}
	}
	if !p.Full() {
		t.Fatal("not Full with every worker and queue place taken")
	}
	if err := p.Do(context.Background(), func() { t.Error("ran on a full pool") }); !errors.Is(err, ErrBusy) {
		t.Fatalf("Do on a full pool: %v", err)
	}
	if n := testing.AllocsPerRun(100, func() { _ = p.Full() }); n != 0 {
		t.Fatalf("Full allocates %v times", n)
	}
	close(release)
	wg.Wait()
	if p.Full() {
		t.Fatal("still Full after every computation ended")
	}
	if p.Hashes() != 5 || p.Refused() != 1 {
		t.Fatalf("hashes %d refused %d, want 5 and 1", p.Hashes(), p.Refused())
	}
}

// waitFor polls cond; the goroutines it waits for need no more than to be
// scheduled, so this ends at once in practice (no timing is asserted).
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for range 1_000_000 {
		if cond() {
			return
		}
		runtime.Gosched()
	}
	t.Fatal("condition never held")
}

// TestPoolAdmit_WaitsForAPlaceAndRefusesAfterTheWait: a request that finds
// the pool full waits (no CPU) for a place instead of being refused at once,
// is refused when none comes free in time, and its Do calls use the place
// it holds.
func TestPoolAdmit_WaitsForAPlaceAndRefusesAfterTheWait(t *testing.T) {
	t.Parallel()
	p := NewPool(1, 0)
	ctx, release, ok := p.Admit(context.Background(), 0)
	if !ok {
		t.Fatal("an empty pool refused")
	}
	// Two hashes under one admission: the place is not taken twice.
	for range 2 {
		if err := p.Do(ctx, func() {}); err != nil {
			t.Fatalf("Do with the admission: %v", err)
		}
	}
	if _, _, ok := p.Admit(context.Background(), 0); ok {
		t.Fatal("a full pool admitted without waiting")
	}
	start := time.Now()
	if _, _, ok := p.Admit(context.Background(), 50*time.Millisecond); ok || time.Since(start) < 40*time.Millisecond {
		t.Fatalf("no place came free: ok=%v after %v", ok, time.Since(start))
	}
	got := make(chan bool)
	go func() {
		_, rel, ok := p.Admit(context.Background(), 10*time.Second)
		rel()
		got <- ok
	}()
	waitFor(t, func() bool { return p.waiting.Load() == 1 })
	release()
	release() // a second release is harmless
	if !<-got {
		t.Fatal("the waiting request did not get the freed place")
	}
	if p.held != 0 {
		t.Fatalf("%d places still taken", p.held)
	}
}

// TestPoolAdmit_BoundsTheWaiters: beyond its bound, requests are refused at
// once instead of parking.
func TestPoolAdmit_BoundsTheWaiters(t *testing.T) {
	t.Parallel()
	p := NewPool(1, 0)
	_, release, _ := p.Admit(context.Background(), 0)
	defer release()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for i := range p.maxWaiting {
		// Two networks, each within its share: the bound is the total's.
		wg.Go(func() { p.AdmitFrom(ctx, []string{"a", "b"}[i%2], time.Minute) })
	}
	waitFor(t, func() bool { return p.waiting.Load() == p.maxWaiting })
	start := time.Now()
	if _, _, ok := p.Admit(context.Background(), time.Minute); ok || time.Since(start) > time.Second {
		t.Fatal("a request beyond the waiting bound was not refused at once")
	}
	cancel()
	wg.Wait()
	if p.waiting.Load() != 0 {
		t.Fatalf("waiting %d after the context ended", p.waiting.Load())
	}
}

// TestPoolAdmit_OneNetworksFloodWaitsBehindItself (issue 18, item 7): with
// the pool full and one network's requests queued, a request from another
// network gets the next place that frees, not the flood's turn; a refused
// request's Retry-After grows with its network's queue.
func TestPoolAdmit_OneNetworksFloodWaitsBehindItself(t *testing.T) {
	t.Parallel()
	p := NewPool(1, 0)
	_, release, _, _ := p.AdmitFrom(context.Background(), "flood", 0)
	var flood sync.WaitGroup
	var order []string
	var mu sync.Mutex
	record := func(who string, rel func()) {
		mu.Lock()
		order = append(order, who)
		mu.Unlock()
		rel()
	}
	for range 8 {
		flood.Go(func() {
			if _, rel, _, ok := p.AdmitFrom(context.Background(), "flood", time.Minute); ok {
				record("flood", rel)
			}
		})
	}
	waitFor(t, func() bool { return p.waiting.Load() == 8 })
	other := make(chan struct{})
	go func() {
		if _, rel, _, ok := p.AdmitFrom(context.Background(), "other", time.Minute); ok {
			record("other", rel)
		}
		close(other)
	}()
	waitFor(t, func() bool { return p.waiting.Load() == 9 })
	release()
	<-other
	flood.Wait()
	mu.Lock()
	defer mu.Unlock()
	// The other network was served second at the latest: one flood
	// request had its turn first.
	if i := slices.Index(order, "other"); i < 0 || i > 1 {
		t.Fatalf("served in the order %v: the other network waited behind the flood", order)
	}
	// Refusals tell the flood to wait longer the longer its queue.
	_, hold, _, _ := p.AdmitFrom(context.Background(), "flood", 0)
	defer hold()
	_, _, short, _ := p.AdmitFrom(context.Background(), "quiet", 0)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for range 6 {
		go p.AdmitFrom(ctx, "flood", time.Minute)
	}
	waitFor(t, func() bool { return p.waiting.Load() == 6 })
	_, _, long, _ := p.AdmitFrom(context.Background(), "flood", 0)
	if long <= short {
		t.Errorf("Retry-After for the flooding network %v, for a quiet one %v", long, short)
	}
}
