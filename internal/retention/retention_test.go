package retention

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// fakeStore has n rows in each table and records every call.
type fakeStore struct {
	mu     sync.Mutex
	rows   map[string]int
	calls  []string
	cut    map[string]time.Time
	locked bool
	fail   error
}

func newFake(n int) *fakeStore {
	f := &fakeStore{rows: map[string]int{}, cut: map[string]time.Time{}}
	for _, t := range []string{"sessions", "devices", "signups", "challenges", "oidc_auth_requests", "oidc_access_tokens", "oidc_token_families", "withheld", "messages", "attempts", "ceremonies", "enrolments",
		"limit counts", "guess_counters", "limit_refusals", "deliveries"} {
		f.rows[t] = n
	}
	return f
}

func (f *fakeStore) LockPruning(context.Context) (func(), bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.locked {
		return nil, false, nil
	}
	f.locked = true
	return func() { f.mu.Lock(); f.locked = false; f.mu.Unlock() }, true, nil
}

func (f *fakeStore) prune(table string, t time.Time, limit int) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf("%s/%d", table, limit))
	f.cut[table] = t
	if f.fail != nil {
		return 0, f.fail
	}
	n := min(limit, f.rows[table])
	f.rows[table] -= n
	return n, nil
}

func (f *fakeStore) PruneSignups(_ context.Context, t time.Time, l int) (int, error) {
	return f.prune("signups", t, l)
}
func (f *fakeStore) PruneChallenges(_ context.Context, t time.Time, l int) (int, error) {
	return f.prune("challenges", t, l)
}
func (f *fakeStore) PruneAuthRequests(_ context.Context, t time.Time, l int) (int, error) {
	return f.prune("oidc_auth_requests", t, l)
}
func (f *fakeStore) PruneAccessTokens(_ context.Context, t time.Time, l int) (int, error) {
	return f.prune("oidc_access_tokens", t, l)
}
func (f *fakeStore) PruneTokenFamilies(_ context.Context, t time.Time, l int) (int, error) {
	return f.prune("oidc_token_families", t, l)
}
func (f *fakeStore) PruneWithheldMessages(_ context.Context, t time.Time, l int) (int, error) {
	return f.prune("withheld", t, l)
}
func (f *fakeStore) PruneMessages(_ context.Context, t time.Time, l int) (int, error) {
	return f.prune("messages", t, l)
}
func (f *fakeStore) PruneAttempts(_ context.Context, t time.Time, l int) (int, error) {
	return f.prune("attempts", t, l)
}
func (f *fakeStore) PruneSessions(_ context.Context, t time.Time, l int) (int, error) {
	return f.prune("sessions", t, l)
}
func (f *fakeStore) PruneDevices(_ context.Context, t time.Time, l int) (int, error) {
	return f.prune("devices", t, l)
}
func (f *fakeStore) PrunePasskeyCeremonies(_ context.Context, t time.Time, l int) (int, error) {
	return f.prune("ceremonies", t, l)
}
func (f *fakeStore) PruneAppEnrolments(_ context.Context, t time.Time, l int) (int, error) {
	return f.prune("enrolments", t, l)
}
func (f *fakeStore) PruneLimitCounts(_ context.Context, t time.Time, l int) (int, error) {
	return f.prune("limit counts", t, l)
}
func (f *fakeStore) PruneGuessCounters(_ context.Context, t time.Time, l int) (int, error) {
	return f.prune("guess_counters", t, l)
}
func (f *fakeStore) PruneLimitRefusals(_ context.Context, t time.Time, l int) (int, error) {
	return f.prune("limit_refusals", t, l)
}
func (f *fakeStore) PruneDeliveries(_ context.Context, t time.Time, l int) (int, error) {
	return f.prune("deliveries", t, l)
}

var now = time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)

func TestOnce_DeletesInBatchesUntilAShortOneWithTheRightCutoffs(t *testing.T) {
	t.Parallel()
	f := newFake(5)
	p := &Pruner{Store: f, History: 400 * 24 * time.Hour, Now: func() time.Time { return now }, Batch: 2, Pause: time.Microsecond}
	rep, err := p.Once(context.Background())
	if err != nil || !rep.Ran || rep.Total() != 80 {
		t.Fatalf("%+v %v", rep, err)
	}
	// 5 rows in batches of 2: 2, 2, 1 — and sessions before devices.
	if got := fmt.Sprint(f.calls[:6]); got != "[sessions/2 sessions/2 sessions/2 devices/2 devices/2 devices/2]" {
		t.Fatalf("calls %s", got)
	}
	if len(f.calls) != 48 {
		t.Fatalf("%d calls", len(f.calls))
	}
	day, history := now.Add(-24*time.Hour), now.Add(-400*24*time.Hour)
	for table, want := range map[string]time.Time{"sessions": day, "signups": day, "challenges": day, "oidc_auth_requests": day, "oidc_access_tokens": day, "oidc_token_families": day, "withheld": day, "ceremonies": day, "enrolments": day, "devices": history, "messages": history, "attempts": history,
		"limit counts": now.Add(-48 * time.Hour), "guess_counters": now.Add(-31 * 24 * time.Hour), "limit_refusals": history,
		"deliveries": now.Add(-DeliveryKeep)} {
		if !f.cut[table].Equal(want) {
			t.Errorf("%s cut at %v, want %v", table, f.cut[table], want)
		}
	}
}

func TestOnce_SkipsWhileAnotherHoldsTheLock(t *testing.T) {
	t.Parallel()
	f := newFake(5)
	unlock, _, _ := f.LockPruning(context.Background())
	p := &Pruner{Store: f, History: time.Hour}
	if rep, err := p.Once(context.Background()); err != nil || rep.Ran || len(f.calls) != 0 {
		t.Fatalf("%+v %v %v", rep, err, f.calls)
	}
	unlock()
	if rep, err := p.Once(context.Background()); err != nil || !rep.Ran {
		t.Fatalf("%+v %v", rep, err)
	}
	if f.locked {
		t.Fatal("the lock was not released after the pass")
	}
}

func TestOnce_StopsAtAnErrorAndReleasesTheLock(t *testing.T) {
	t.Parallel()
	f := newFake(5)
	f.fail = errors.New("disk full")
	p := &Pruner{Store: f, History: time.Hour}
	if _, err := p.Once(context.Background()); !errors.Is(err, f.fail) {
		t.Fatalf("err %v", err)
	}
	if len(f.calls) != 1 || f.locked {
		t.Fatalf("calls %v, locked %v", f.calls, f.locked)
	}
}

func TestRun_PrunesSoonAfterStartThenPeriodicallyUntilCancelled(t *testing.T) {
	t.Parallel()
	f := newFake(0)
	p := &Pruner{Store: f, History: time.Hour, First: time.Millisecond, Every: 5 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		f.mu.Lock()
		n := len(f.calls)
		f.mu.Unlock()
		if n >= 16 { // two passes of eight tables
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d calls", n)
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}
