package postgres_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gatehouse/internal/pgtest"
	"gatehouse/internal/postgres"
	"gatehouse/internal/retention"
)

// overlapStore wraps one node's store and counts how many nodes are inside
// a pass at once. A node inside a pass stays there until both nodes have
// tried to take the lock in this round, so the other node always tries
// while the lock is held.
type overlapStore struct {
	*postgres.DB
	inside, most *atomic.Int32
	round        *round
}

// round is one pass of both nodes: tried is closed once both have tried
// to take the lock.
type round struct {
	mu    sync.Mutex
	tries int
	tried chan struct{}
}

func (r *round) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tries, r.tried = 0, make(chan struct{})
}

func (r *round) wait() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.tried
}

func (s overlapStore) LockPruning(ctx context.Context) (func(), bool, error) {
	unlock, ok, err := s.DB.LockPruning(ctx)
	s.round.mu.Lock()
	if s.round.tries++; s.round.tries == 2 {
		close(s.round.tried)
	}
	s.round.mu.Unlock()
	return unlock, ok, err
}

func (s overlapStore) PruneSessions(ctx context.Context, t time.Time, limit int) (int, error) {
	n := s.inside.Add(1)
	for {
		m := s.most.Load()
		if n <= m || s.most.CompareAndSwap(m, n) {
			break
		}
	}
	defer s.inside.Add(-1)
	select {
	case <-s.round.wait():
	case <-time.After(10 * time.Second):
		return 0, errors.New("the other node never tried to take the lock")
	}
	return s.DB.PruneSessions(ctx, t, limit)
}

// TestPrune_TwoNodesNeverPruneAtOnce runs two nodes' pruners on one
// database at the same moment, several times: the advisory lock lets one
// through and makes the other skip its pass.
func TestPrune_TwoNodesNeverPruneAtOnce(t *testing.T) {
	url := pgtest.NewDatabase(t)
	ctx := context.Background()
	var inside, most atomic.Int32
	var r round
	var pruners []*retention.Pruner
	for range 2 {
		db, err := postgres.Open(ctx, url, 4, true)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		pruners = append(pruners, &retention.Pruner{Store: overlapStore{db, &inside, &most, &r}, History: 24 * time.Hour})
	}
	const rounds = 5
	skipped := 0
	for range rounds {
		r.reset()
		var wg sync.WaitGroup
		reps := make([]retention.Report, 2)
		for i, p := range pruners {
			wg.Go(func() {
				rep, err := p.Once(ctx)
				if err != nil {
					t.Error(err)
				}
				reps[i] = rep
			})
		}
		wg.Wait()
		if !reps[0].Ran && !reps[1].Ran {
			t.Fatal("neither node pruned")
		}
		if !reps[0].Ran || !reps[1].Ran {
			skipped++
		}
	}
	if most.Load() != 1 {
		t.Fatalf("%d nodes pruned at once", most.Load())
	}
	// Each round the other node tried while the lock was held.
	if skipped != rounds {
		t.Fatalf("a node found the other holding the lock in %d of %d rounds, want every round", skipped, rounds)
	}
}

// TestPrune_LockEndsWithItsConnection: the lock is a session lock on a
// connection of its own, so a node that dies mid-pass (its connection
// closes) cannot keep the other nodes from pruning.
func TestPrune_LockEndsWithItsConnection(t *testing.T) {
	url := pgtest.NewDatabase(t)
	ctx := context.Background()
	a, err := postgres.Open(ctx, url, 2, true)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := postgres.Open(ctx, url, 2, false)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	unlock, ok, err := a.LockPruning(ctx)
	if err != nil || !ok {
		t.Fatalf("%v %v", ok, err)
	}
	if _, ok, _ := b.LockPruning(ctx); ok {
		t.Fatal("two nodes hold the pruning lock")
	}
	// The holder's session goes away (as when its node is killed).
	// Only this test database's pruning lock (key 0x6761746570: classid
	// holds its high 32 bits, objid the low): other tests share the cluster.
	if _, err := b.Pool().Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks
		WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
		AND classid = 103 AND objid = 1635018096 AND granted`); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		unlockB, ok, err := b.LockPruning(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			unlockB()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the lock outlived its connection")
		}
		time.Sleep(20 * time.Millisecond)
	}
	unlock() // closing an already dead connection is harmless
}
