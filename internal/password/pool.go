package password

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
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
	// waiting counts requests inside Admit waiting for a place; maxWaiting
	// bounds them, so a flood of connections cannot park without limit.
	waiting    atomic.Int64
	maxWaiting int64
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
	return &Pool{slots: make(chan struct{}, workers), admit: make(chan struct{}, workers+queue),
		maxWaiting: int64(16 * (workers + queue))}
}

// admission is a place in the pool held by one request (see Admit).
type admission struct{ pool *Pool }

type admissionKey struct{}

// Admit reserves a place in the pool (running or queued) for a request that
// is about to hash, before the request's body is even read. When every place
// is taken it waits up to wait for one to come free — without using the CPU
// — and refuses (ok false) if none does, if the context ends, or if too many
// requests are already waiting.
//
// The wait is what makes overload cheap: a client that retries the moment
// it is refused would otherwise turn every free millisecond into another
// refusal, taking the CPU the hashes need; a waiting request costs nothing
// and takes the next free place the moment it opens.
//
// Every Do with the returned context uses the reserved place instead of
// taking another (a password change hashes several times), and release
// gives it back; call it once the request is done.
func (p *Pool) Admit(ctx context.Context, wait time.Duration) (context.Context, func(), bool) {
	select {
	case p.admit <- struct{}{}:
	default:
		if wait <= 0 || p.waiting.Add(1) > p.maxWaiting {
			if wait > 0 {
				p.waiting.Add(-1)
			}
			p.refused.Add(1)
			return ctx, func() {}, false
		}
		t := time.NewTimer(wait)
		select {
		case p.admit <- struct{}{}:
			t.Stop()
			p.waiting.Add(-1)
		case <-t.C:
			p.waiting.Add(-1)
			p.refused.Add(1)
			return ctx, func() {}, false
		case <-ctx.Done():
			t.Stop()
			p.waiting.Add(-1)
			return ctx, func() {}, false
		}
	}
	var once sync.Once
	return context.WithValue(ctx, admissionKey{}, admission{p}), func() { once.Do(func() { <-p.admit }) }, true
}

// Do runs fn on the pool. It returns ErrBusy without running fn when the
// pool is saturated, or the context's error if it ends while waiting. A
// context from Admit already holds a place, and Do only waits for a worker.
func (p *Pool) Do(ctx context.Context, fn func()) error {
	if a, ok := ctx.Value(admissionKey{}).(admission); !ok || a.pool != p {
		select {
		case p.admit <- struct{}{}:
		default:
			p.refused.Add(1)
			return ErrBusy
		}
		defer func() { <-p.admit }()
	}
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
// allocates nothing. Requests use Admit, which decides and reserves in one
// step; Full is for watching the pool (tests, and later metrics).
func (p *Pool) Full() bool { return len(p.admit) == cap(p.admit) }

// Hashes reports how many computations the pool has run. Tests use it to
// prove that two code paths do the same amount of hashing work.
func (p *Pool) Hashes() int64 { return p.hashes.Load() }

// Refused reports how many computations were refused as busy.
func (p *Pool) Refused() int64 { return p.refused.Load() }
