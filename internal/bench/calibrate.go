package bench

import (
	"context"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/argon2"

	"gatehouse/internal/password"
)

// Cost is how long one argon2id hash with the given parameters takes on
// this machine. Measure is the real one; the calibration's tests give a
// model of a machine instead.
type Cost func(p password.Params) time.Duration

// Limits bound the parameters a calibration may suggest.
type Limits struct {
	// MinMemoryKiB and MaxMemoryKiB bound the memory of one hash. The
	// server holds one hash's memory per hashing worker at once, so the
	// ceiling is what the machine can give each worker.
	MinMemoryKiB, MaxMemoryKiB uint32
	// MaxIterations bounds the passes (the configuration allows 64).
	MaxIterations uint32
}

// DefaultLimits are the configuration's bounds on argon2.memory_kib (8 MiB
// at least) and argon2.iterations, with a ceiling of 64 MiB per hash:
// RFC 9106's second recommended option, and what a small server can hold
// once per core.
var DefaultLimits = Limits{MinMemoryKiB: 8 << 10, MaxMemoryKiB: 64 << 10, MaxIterations: 64}

// Suggestion is what a calibration found: the parameters to configure and
// how long one hash with them took when last measured.
type Suggestion struct {
	Params password.Params
	Target time.Duration
	Took   time.Duration
	// Probes is how many parameter sets were measured on the way.
	Probes int
}

// tolerance is how far from the target a measured hash may be for the
// calibration to stop: a shared machine's timings vary more than that
// from one run to the next anyway.
const tolerance = 0.1

// maxProbes bounds the measurements of one calibration: each costs a few
// hashes of about the target time.
const maxProbes = 6

// Suggest finds argon2id parameters whose hash takes about target on the
// machine cost measures, starting from start (the configured parameters).
// Parallelism is kept as configured: it is a property of the deployment
// (lanes per hash), not of the machine's speed.
//
// Memory is chosen before passes, because memory is what makes each guess
// expensive for an attacker's hardware (RFC 9106 §4): with the configured
// passes, the memory is searched between the limits. Only when the
// ceiling is too fast are passes added (with the memory at the ceiling),
// and only when the floor is too slow are passes taken away, to one at
// least (the memory then searched again for those passes).
//
// The time of a hash is close to proportional to memory × passes, so each
// step predicts from the last measurement the parameters for the target
// and measures them. It stops within 10% of the target, after six
// measurements, or when the prediction was measured already. Of what it
// measured it suggests the most expensive parameters (memory × passes)
// not above the target by more than 10% — or, when every one was, the
// cheapest.
func Suggest(cost Cost, start password.Params, target time.Duration, lim Limits) Suggestion {
	lim = lim.normal()
	type probe struct {
		p    password.Params
		took time.Duration
	}
	var probes []probe
	measured := func(p password.Params) bool {
		return slices.ContainsFunc(probes, func(pr probe) bool { return pr.p == p })
	}
	p := start
	p.MemoryKiB = clamp(p.MemoryKiB, lim.MinMemoryKiB, lim.MaxMemoryKiB)
	p.Iterations = clamp(p.Iterations, 1, lim.MaxIterations)
	passes := p.Iterations // the configured passes, kept while memory can do
	took := max(cost(p), time.Microsecond)
	probes = append(probes, probe{p, took})
	for len(probes) < maxProbes && !near(took, target) {
		// perUnit is the time of one KiB-pass, from the last measurement.
		perUnit := float64(took) / work(p)
		next := password.Params{MemoryKiB: memoryFor(target, perUnit, passes, lim), Iterations: passes, Parallelism: p.Parallelism}
		switch {
		case next.MemoryKiB == lim.MaxMemoryKiB && predict(perUnit, next) < low(target):
			// As many more passes at the ceiling as stay within the
			// tolerance: a pass is a large step there.
			n := float64(high(target)) / (perUnit * float64(lim.MaxMemoryKiB))
			next.Iterations = clamp(uint32(min(n, float64(lim.MaxIterations))), passes, lim.MaxIterations)
		case next.MemoryKiB == lim.MinMemoryKiB && predict(perUnit, next) > high(target):
			n := float64(target) / (perUnit * float64(lim.MinMemoryKiB))
			next.Iterations = clamp(uint32(min(max(n, 1), float64(passes))), 1, passes)
			next.MemoryKiB = memoryFor(target, perUnit, next.Iterations, lim)
		}
		if measured(next) {
			break // the model points back at what was measured: as close as it gets
		}
		p, took = next, max(cost(next), time.Microsecond) // a zero would stall the model
		probes = append(probes, probe{p, took})
	}
	best := -1
	for i, pr := range probes {
		if pr.took <= high(target) && (best < 0 || work(pr.p) > work(probes[best].p)) {
			best = i
		}
	}
	if best < 0 {
		for i, pr := range probes {
			if best < 0 || pr.took < probes[best].took {
				best = i
			}
		}
	}
	return Suggestion{Params: probes[best].p, Target: target, Took: probes[best].took, Probes: len(probes)}
}

func (l Limits) normal() Limits {
	l.MinMemoryKiB = max(l.MinMemoryKiB, 8<<10)
	l.MaxMemoryKiB = max(l.MaxMemoryKiB, l.MinMemoryKiB)
	l.MaxIterations = max(l.MaxIterations, 1)
	return l
}

// memoryFor is the memory, in whole MiB within the limits, that the model
// (perUnit per KiB-pass) predicts takes target with iterations passes.
func memoryFor(target time.Duration, perUnit float64, iterations uint32, lim Limits) uint32 {
	kib := float64(target) / (perUnit * float64(iterations))
	if kib >= float64(lim.MaxMemoryKiB) {
		return lim.MaxMemoryKiB
	}
	// Whole MiB read better in a configuration; rounded down, so that a
	// prediction errs on the side of a hash within the target.
	m := uint32(kib) / 1024 * 1024
	return clamp(m, lim.MinMemoryKiB, lim.MaxMemoryKiB)
}

func predict(perUnit float64, p password.Params) time.Duration {
	return time.Duration(perUnit * float64(p.MemoryKiB) * float64(p.Iterations))
}

func work(p password.Params) float64 { return float64(p.MemoryKiB) * float64(p.Iterations) }

func near(d, target time.Duration) bool { return d >= low(target) && d <= high(target) }

func low(target time.Duration) time.Duration {
	return time.Duration(float64(target) * (1 - tolerance))
}

func high(target time.Duration) time.Duration {
	return time.Duration(float64(target) * (1 + tolerance))
}

func clamp(v, lo, hi uint32) uint32 { return min(max(v, lo), hi) }

// Measure times runs argon2id hashes with p, one after another on one
// goroutine, and returns the median: a shared machine has outliers. It
// is the hash alone — no pepper's HMAC, no pool — which is all but the
// whole of a sign-in's hashing.
//
// Each hash is timed on memory the process already has, as a busy
// server's hashes mostly are: one hash first, untimed, and a collection
// before each timed one, so that the last hash's memory is free for the
// next. Fresh memory from the system would add its page faults — at 19
// MiB a fifth of the hash — to every run.
func Measure(p password.Params, runs int) time.Duration {
	pw, salt := []byte("gatehouse bench password"), []byte("gatehouse bench salt")
	argon2.IDKey(pw, salt, p.Iterations, p.MemoryKiB, p.Parallelism, 32)
	var took []time.Duration
	for range max(runs, 1) {
		runtime.GC()
		t0 := time.Now()
		argon2.IDKey(pw, salt, p.Iterations, p.MemoryKiB, p.Parallelism, 32)
		took = append(took, time.Since(t0))
	}
	slices.Sort(took)
	return took[len(took)/2]
}

// HashBound is the most sign-ins a second a server with workers hashing
// workers can answer if every sign-in hashes once: workers goroutines hash
// with p back to back for d, and the hashes finished are divided by the
// time until the last one finished. Hashing at once on every core is
// slower per hash than one hash alone (the cores share memory
// bandwidth), so this is lower than workers ÷ one hash's time.
func HashBound(ctx context.Context, p password.Params, workers int, d time.Duration) float64 {
	pw, salt := []byte("gatehouse bench password"), []byte("gatehouse bench salt")
	var done atomic.Int64
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for range max(workers, 1) {
		wg.Go(func() {
			for time.Now().Before(deadline) && ctx.Err() == nil {
				argon2.IDKey(pw, salt, p.Iterations, p.MemoryKiB, p.Parallelism, 32)
				done.Add(1)
			}
		})
	}
	wg.Wait()
	return float64(done.Load()) / time.Since(start).Seconds()
}
