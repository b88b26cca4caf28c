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
// at once, up to queue more wait, and anything beyond waits for a place or
// is refused.
//
// Places are shared fairly between networks: requests waiting for one are
// queued per network (Admit's network key: an IPv4 /24 or IPv6 /64), and a
// freed place goes to the networks in turn, first come first served within
// each. One network's flood therefore waits behind itself, and any other
// network's sign-in gets the next place but one.
type Pool struct {
	slots chan struct{} // workers running
	mu    sync.Mutex
	// capacity is workers+queue: places held, running or waiting for a
	// worker; held counts them.
	capacity, held int
	queues         map[string][]*waiter // requests waiting for a place, per network
	order          []string             // networks with waiters, in turn
	next           int                  // whose turn it is in order
	// waiting counts requests inside Admit waiting for a place;
	// maxWaiting bounds them, and maxPerNetwork one network's share, so
	// a flood of connections cannot park without limit.
	waiting                   atomic.Int64
	maxWaiting, maxPerNetwork int64
	workers                   int
	hashes                    atomic.Int64
	refused                   atomic.Int64

	// Waited, when set, is told how long each AdmitFrom waited for a place
	// and whether it got one (zero for a place free at once). Set it
	// before the pool is used.
	Waited func(d time.Duration, admitted bool)
}

// waiter is one request waiting for a place; granted (under the pool's
// lock) says a release handed it one.
type waiter struct {
	ch      chan struct{}
	granted bool
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
	max := int64(16 * (workers + queue))
	return &Pool{slots: make(chan struct{}, workers), capacity: workers + queue, queues: map[string][]*waiter{},
		maxWaiting: max, maxPerNetwork: max / 2, workers: workers}
}

// admission is a place in the pool held by one request (see Admit).
type admission struct{ pool *Pool }

type admissionKey struct{}

// Admit is AdmitFrom for a request of no particular network.
func (p *Pool) Admit(ctx context.Context, wait time.Duration) (context.Context, func(), bool) {
	ctx, release, _, ok := p.AdmitFrom(ctx, "", wait)
	return ctx, release, ok
}

// AdmitFrom reserves a place in the pool (running or queued) for a request
// from network that is about to hash, before the request's body is even
// read. When every place is taken it waits up to wait for one to come free
// — without using the CPU, in its network's queue — and refuses (ok false)
// if none does, if the context ends, or if too many requests (or too many
// of its network's) are already waiting; retry then says when to try
// again, longer the longer the queue.
//
// The wait is what makes overload cheap: a client that retries the moment
// it is refused would otherwise turn every free millisecond into another
// refusal, taking the CPU the hashes need; a waiting request costs nothing
// and takes the next free place the moment its turn comes.
//
// Every Do with the returned context uses the reserved place instead of
// taking another (a password change hashes several times), and release
// gives it back; call it once the request is done.
func (p *Pool) AdmitFrom(ctx context.Context, network string, wait time.Duration) (context.Context, func(), time.Duration, bool) {
	p.mu.Lock()
	if p.held < p.capacity && len(p.order) == 0 {
		p.held++
		p.mu.Unlock()
		p.waited(0, true)
		return p.admitted(ctx)
	}
	if wait <= 0 || p.waiting.Load() >= p.maxWaiting || int64(len(p.queues[network])) >= p.maxPerNetwork {
		retry := p.retryLocked(network)
		p.mu.Unlock()
		p.refused.Add(1)
		p.waited(0, false)
		return ctx, func() {}, retry, false
	}
	start := time.Now()
	w := &waiter{ch: make(chan struct{})}
	if len(p.queues[network]) == 0 {
		p.order = append(p.order, network)
	}
	p.queues[network] = append(p.queues[network], w)
	p.waiting.Add(1)
	p.mu.Unlock()

	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-w.ch:
		p.waited(time.Since(start), true)
		return p.admitted(ctx)
	case <-t.C:
	case <-ctx.Done():
	}
	p.mu.Lock()
	if w.granted {
		// Handed a place as the wait ended: keep it.
		p.mu.Unlock()
		p.waited(time.Since(start), true)
		return p.admitted(ctx)
	}
	p.dropLocked(network, w)
	retry := p.retryLocked(network)
	p.mu.Unlock()
	if ctx.Err() == nil {
		p.refused.Add(1)
	}
	p.waited(time.Since(start), false)
	return ctx, func() {}, retry, false
}

// waited tells Waited, if anyone listens.
func (p *Pool) waited(d time.Duration, admitted bool) {
	if p.Waited != nil {
		p.Waited(d, admitted)
	}
}

func (p *Pool) admitted(ctx context.Context) (context.Context, func(), time.Duration, bool) {
	var once sync.Once
	return context.WithValue(ctx, admissionKey{}, admission{p}), func() { once.Do(p.release) }, 0, true
}

// release gives a place back: to the next network in turn that has a
// request waiting, or to the pool.
func (p *Pool) release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.order) == 0 {
		p.held--
		return
	}
	i := p.next % len(p.order)
	network := p.order[i]
	q := p.queues[network]
	w := q[0]
	if len(q) == 1 {
		delete(p.queues, network)
		p.order = append(p.order[:i], p.order[i+1:]...)
		p.next = i // the network after it is now at i
	} else {
		p.queues[network] = q[1:]
		p.next = i + 1
	}
	p.waiting.Add(-1)
	w.granted = true
	close(w.ch) // the place passes to w: held is unchanged
}

// dropLocked removes a waiter that gave up.
func (p *Pool) dropLocked(network string, w *waiter) {
	q := p.queues[network]
	for i, x := range q {
		if x == w {
			q = append(q[:i], q[i+1:]...)
			break
		}
	}
	p.waiting.Add(-1)
	if len(q) > 0 {
		p.queues[network] = q
		return
	}
	delete(p.queues, network)
	for i, n := range p.order {
		if n == network {
			p.order = append(p.order[:i], p.order[i+1:]...)
			if p.next > i {
				p.next--
			}
			break
		}
	}
}

// retryLocked is how long a refused request from network should wait:
// a second, and a second more for each round of places its network's
// queue and the networks ahead of it would take, at most a minute.
func (p *Pool) retryLocked(network string) time.Duration {
	rounds := (len(p.queues[network])*max(1, len(p.order)) + int(p.waiting.Load())) / (2 * p.workers)
	return time.Duration(min(60, 1+rounds)) * time.Second
}

// Do runs fn on the pool. It returns ErrBusy without running fn when the
// pool is saturated, or the context's error if it ends while waiting. A
// context from Admit already holds a place, and Do only waits for a worker.
func (p *Pool) Do(ctx context.Context, fn func()) error {
	if a, ok := ctx.Value(admissionKey{}).(admission); !ok || a.pool != p {
		p.mu.Lock()
		if p.held >= p.capacity || len(p.order) > 0 {
			p.mu.Unlock()
			p.refused.Add(1)
			return ErrBusy
		}
		p.held++
		p.mu.Unlock()
		defer p.release()
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
// worker and queue place is taken. It takes the pool's lock and
// allocates nothing. Requests use Admit, which decides and reserves in one
// step; Full is for watching the pool (tests, and later metrics).
func (p *Pool) Full() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.held >= p.capacity
}

// Hashes reports how many computations the pool has run. Tests use it to
// prove that two code paths do the same amount of hashing work.
func (p *Pool) Hashes() int64 { return p.hashes.Load() }

// Refused reports how many computations were refused as busy.
func (p *Pool) Refused() int64 { return p.refused.Load() }

// Waiting reports how many requests are waiting for a place now.
func (p *Pool) Waiting() int64 { return p.waiting.Load() }
