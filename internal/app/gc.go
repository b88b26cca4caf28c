package app

import (
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"
)

// Memory of a password server.
//
// Almost everything a sign-in allocates is argon2id's work memory: every
// hash allocates its whole memory cost (19 MiB by default) in one piece —
// golang.org/x/crypto/argon2 (v0.59.0) offers no way to reuse it — and
// drops it when done. At the hash bound that is over a gigabyte a second of
// garbage, next to a live heap of about 15 MiB (templates, catalogs, phone
// number metadata, the user-agent parser). Everything else a request holds
// is small: a waiting sign-in keeps its parsed form (at most 64 KiB, in
// practice 100 bytes) and its connection's buffers, a few KiB each, so the
// queue of waiting requests does not matter.
//
// While hashing, the live heap is that base plus the hashes running (one
// per worker), and the collector is steered by two numbers:
//
//   - GOGC=gcPercent (Go's default, 100) lets the heap grow to twice that
//     before collecting: with two workers about one collection per three
//     hashes, each marking only the ~15 MiB of pointers (argon2 blocks hold
//     none). GOGC=400, used before, let the heap reach five times the live
//     heap (400 MiB at 64 clients) and was not faster: the runtime returned
//     much of that memory to the system between collections and faulted it
//     in again for the next hash (about 3 MiB of page faults per sign-in,
//     against 1 MiB now).
//   - a soft memory limit of gcBase plus two hashes' memory per worker (the
//     hashes running plus as many finished ones) is the ceiling whatever
//     the live heap does: 140 MiB of Go memory with two workers. The base
//     is not smaller on purpose: with 48 MiB (124 MiB in all) the heap sat
//     at the limit under load and the runtime kept handing pages back and
//     faulting them in again for the next hash — about 900 page faults per
//     sign-in against 160–250 now, and 0.61 instead of 0.77 of the hash
//     bound with 64 eager clients (e2e BenchmarkSignInLoad).
//
// Memory that a burst left behind is handed back when the process goes
// quiet (see releaseWhenQuiet), so an idle server sits near its live heap.
//
// An operator's GOGC or GOMEMLIMIT wins over the respective setting.
const (
	gcBase    = 64 << 20
	gcPercent = 100
)

// GCSettings reports what TuneMemory chose; zero fields were left to the
// operator's environment.
type GCSettings struct {
	Limit   int64 // soft memory limit in bytes
	Percent int   // GOGC
}

// gcLimit returns the soft memory limit for a pool of workers hashes of
// memoryKiB each.
func gcLimit(workers, memoryKiB int) int64 {
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	perWorker := 2 * int64(max(memoryKiB, 0)) << 10
	if int64(workers) > (math.MaxInt64-gcBase)/max(perWorker, 1) {
		return math.MaxInt64 // no limit: more than any machine has
	}
	return gcBase + int64(workers)*perWorker
}

// TuneMemory bounds the memory of a server whose hashing pool runs workers
// argon2 computations of memoryKiB each at once (workers ≤ 0: one per CPU,
// as the pool does). It sets the soft memory limit unless GOMEMLIMIT is set
// and the GC percentage unless GOGC is set, and starts handing memory back
// to the system whenever the process goes quiet.
func TuneMemory(workers, memoryKiB int) GCSettings {
	return tuneMemory(workers, memoryKiB, os.Getenv)
}

func tuneMemory(workers, memoryKiB int, getenv func(string) string) GCSettings {
	var s GCSettings
	if getenv("GOMEMLIMIT") == "" {
		s.Limit = gcLimit(workers, memoryKiB)
		debug.SetMemoryLimit(s.Limit)
	}
	if getenv("GOGC") == "" {
		s.Percent = gcPercent
		debug.SetGCPercent(s.Percent)
	}
	releaseOnce.Do(func() { go releaseWhenQuiet(time.Second, quietBytes) })
	return s
}

var releaseOnce sync.Once

// quietBytes is the most a second's allocations may be for the process to
// count as quiet: far below one hash, far above a few health checks.
const quietBytes = 1 << 20

// releaseWhenQuiet returns freed memory to the system once allocation has
// stopped. The collector only runs when the heap grows, so after a burst of
// sign-ins the dead argon2 blocks stay resident — until a forced collection
// two minutes later, and even then the scavenger returns them slowly. Every
// tick it reads the allocation counter (cheap: no stop-the-world); after a
// tick with less than quiet bytes allocated, if more than that was
// allocated since the last release, it collects and releases once. Under
// steady load it never fires; it costs one collection per burst.
func releaseWhenQuiet(tick time.Duration, quiet uint64) {
	sample := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	read := func() uint64 {
		metrics.Read(sample)
		if sample[0].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return sample[0].Value.Uint64()
	}
	released, prev := uint64(0), read() // start-up's garbage counts too
	t := time.NewTicker(tick)
	defer t.Stop()
	for range t.C {
		now := read()
		if shouldRelease(prev, now, released, quiet) {
			debug.FreeOSMemory()
			now = read()
			released = now
		}
		prev = now
	}
}

// shouldRelease decides, from the cumulative allocation counter at the
// previous tick (prev), now, and at the last release, whether to release:
// the last tick was quiet and there was activity since the last release.
func shouldRelease(prev, now, released, quiet uint64) bool {
	return now-prev < quiet && now-released >= quiet
}

// HoldCollection turns the collector off until the returned function is
// called, which restores the GC percentage in force before (TuneMemory's
// or the operator's). A server calls it around its start.
//
// A start allocates about 10 MiB — package tables, the store, the
// services, the pages' templates — of which most stays live. With the
// collector's 4 MiB minimum heap that was two or three collections during
// the start, each taking milliseconds of both cores of a small machine
// and slowing the start itself with assists, to free almost nothing. The
// soft memory limit (TuneMemory) still bounds the heap meanwhile.
func HoldCollection() (resume func()) {
	prev := debug.SetGCPercent(-1)
	return func() { debug.SetGCPercent(prev) }
}
