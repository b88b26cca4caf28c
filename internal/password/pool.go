package password

import (
	"context"
	"errors"
	"sync/atomic"
)

// ErrBusy is returned when the hashing pool and its queue are full. The web
// layer answers it with 503 and Retry-After.
var ErrBusy = errors.New("password: hashing pool busy")

// Pool bounds concurrent argon2 computations. Each one allocates the
// configured memory (19 MiB by default), so an unbounded number of them is a
// memory-exhaustion attack waiting to happen. Up to workers computations run
// at once, up to queue more wait, and anything beyond is refused at once.
type Pool struct {
	slots   chan struct{}
	admit   chan struct{} // capacity workers+queue: running or waiting
	hashes  atomic.Int64
	refused atomic.Int64
}

// NewPool returns a pool running at most workers computations with at most
// queue more waiting.
func NewPool(workers, queue int) *Pool {
	if workers < 1 {
		workers = 1
	}
	if queue < 0 {
		queue = 0
	}
	return &Pool{slots: make(chan struct{}, workers), admit: make(chan struct{}, workers+queue)}
}

// Do runs fn on the pool. It returns ErrBusy without running fn when the
// pool is saturated, or the context's error if it ends while waiting.
func (p *Pool) Do(ctx context.Context, fn func()) error {
	select {
	case p.admit <- struct{}{}:
	default:
		p.refused.Add(1)
		return ErrBusy
	}
	defer func() { <-p.admit }()
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-p.slots }()
	p.hashes.Add(1)
	fn()
	return nil
}

// Full reports whether a Do called now would be refused with ErrBusy: every
// worker and queue place is taken. It reads one channel length and
// allocates nothing, so a request can be turned away before its body is
// read. The answer can change at once; Do decides for itself.
func (p *Pool) Full() bool { return len(p.admit) == cap(p.admit) }

// Hashes reports how many computations the pool has run. Tests use it to
// prove that two code paths do the same amount of hashing work.
func (p *Pool) Hashes() int64 { return p.hashes.Load() }

// Refused reports how many computations were refused as busy.
func (p *Pool) Refused() int64 { return p.refused.Load() }
