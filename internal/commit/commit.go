// Package commit runs work after a flow's transaction commits.
//
// A flow runs in one store transaction (the stores' InTx). Some of its
// effects must not be seen before the commit — waking the outbox worker for
// a message the worker could not yet read, for example — and must not
// happen at all if the flow rolls back. A store's InTx calls Track and runs
// the returned function after its commit; code inside the flow calls After.
package commit

import (
	"context"
	"sync"
)

type key struct{}

type hooks struct {
	mu  sync.Mutex
	fns []func()
}

// Track returns a context in which After defers work, and the function the
// transaction's owner calls once it has committed. If the transaction
// rolls back the owner simply never calls it, and the work is dropped.
func Track(ctx context.Context) (context.Context, func()) {
	h := &hooks{}
	return context.WithValue(ctx, key{}, h), func() {
		h.mu.Lock()
		fns := h.fns
		h.fns = nil
		h.mu.Unlock()
		for _, fn := range fns {
			fn()
		}
	}
}

// After runs fn once the transaction carried by ctx commits, or now when
// ctx carries none.
func After(ctx context.Context, fn func()) {
	h, ok := ctx.Value(key{}).(*hooks)
	if !ok {
		fn()
		return
	}
	h.mu.Lock()
	h.fns = append(h.fns, fn)
	h.mu.Unlock()
}
