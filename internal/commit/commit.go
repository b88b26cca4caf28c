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

// Transactor runs a flow in one transaction carried in the context (the
// stores' InTx): every store call made with the context fn receives joins
// it, so the flow's writes land together or not at all. Every service
// whose flow writes more than once requires one; there is no "no
// transaction" default to fall into by leaving a field nil.
type Transactor interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
}

// Direct is a Transactor for tests whose store has no transactions: fn
// runs on the context as it is, and what waits for the commit runs when fn
// succeeds. Production code never uses it; a test says it by name.
type Direct struct{}

// InTx implements Transactor.
func (Direct) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	ctx, committed := Track(ctx)
	err := fn(ctx)
	if err == nil {
		committed()
	}
	Ended(ctx)
	return err
}

type key struct{}

type hooks struct {
	mu  sync.Mutex
	fns []func()
	// finally runs once the transaction has ended either way, with the
	// context the transaction was started from.
	finally []func(ctx context.Context)
	outer   context.Context
}

// Track returns a context in which After defers work, and the function the
// transaction's owner calls once it has committed. If the transaction
// rolls back the owner simply never calls it, and the work is dropped.
func Track(ctx context.Context) (context.Context, func()) {
	h := &hooks{outer: ctx}
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

// Finally runs fn once the transaction carried by ctx has ended, whether it
// committed or rolled back, or now when ctx carries none. fn gets a context
// outside the transaction: for records that must outlive the flow's
// rollback, such as a refusal that is the flow's own error. The store's
// InTx calls Ended when its transaction is over.
func Finally(ctx context.Context, fn func(ctx context.Context)) {
	h, ok := ctx.Value(key{}).(*hooks)
	if !ok {
		fn(context.WithoutCancel(ctx))
		return
	}
	h.mu.Lock()
	h.finally = append(h.finally, fn)
	h.mu.Unlock()
}

// Ended runs the Finally work of the transaction tracked in ctx (the
// context Track returned); the owner calls it once the transaction is over,
// committed or not, with no transaction of its own left in ctx's place.
func Ended(ctx context.Context) {
	h, ok := ctx.Value(key{}).(*hooks)
	if !ok {
		return
	}
	h.mu.Lock()
	fns := h.finally
	h.finally = nil
	h.mu.Unlock()
	for _, fn := range fns {
		fn(context.WithoutCancel(h.outer))
	}
}
