package password

import (
	"context"
	"errors"
	"runtime"
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
			waitFor(t, func() bool { return len(p.admit) == i+1 })
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
	if len(p.admit) != 0 {
		t.Fatalf("%d places still taken", len(p.admit))
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
	for range p.maxWaiting {
		wg.Go(func() { p.Admit(ctx, time.Minute) })
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
