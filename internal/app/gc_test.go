package app

import (
	"math"
	"runtime/debug"
	"testing"
)

func TestGCLimitIsSizedFromTheHashingPool(t *testing.T) {
	const mib = 1 << 20
	// Two workers with the default 19 MiB: 64 MiB + 2 × 2 × 19 MiB.
	if got := gcLimit(2, 19*1024); got != 140*mib {
		t.Fatalf("limit for 2 × 19 MiB = %d MiB, want 140", got/mib)
	}
	if got, want := gcLimit(16, 64*1024), int64(64+2*16*64)*mib; got != want {
		t.Fatalf("limit for 16 × 64 MiB = %d MiB, want %d", got/mib, want/mib)
	}
	// The largest settings the configuration accepts must not overflow.
	if got := gcLimit(1<<20, math.MaxUint32); got <= 0 {
		t.Fatalf("limit overflowed: %d", got)
	}
}

func TestTuneMemoryLeavesTheOperatorsSettings(t *testing.T) {
	oldLimit := debug.SetMemoryLimit(-1)
	oldPercent := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetMemoryLimit(oldLimit); debug.SetGCPercent(oldPercent) })

	env := map[string]string{}
	getenv := func(k string) string { return env[k] }

	s := tuneMemory(2, 19*1024, getenv)
	if s.Limit != 140<<20 || debug.SetMemoryLimit(-1) != 140<<20 {
		t.Fatalf("limit %d, runtime %d; want 140 MiB", s.Limit, debug.SetMemoryLimit(-1))
	}
	if s.Percent != gcPercent || debug.SetGCPercent(gcPercent) != gcPercent {
		t.Fatalf("GC percent %d, want %d", s.Percent, gcPercent)
	}

	debug.SetMemoryLimit(1 << 40)
	debug.SetGCPercent(77)
	env["GOMEMLIMIT"], env["GOGC"] = "1GiB", "77"
	s = tuneMemory(2, 19*1024, getenv)
	if s != (GCSettings{}) || debug.SetMemoryLimit(-1) != 1<<40 || debug.SetGCPercent(77) != 77 {
		t.Fatalf("operator's GOMEMLIMIT/GOGC overridden: %+v", s)
	}
}

func TestReleaseOnlyAfterActivityThenQuiet(t *testing.T) {
	const q = 1 << 20
	for _, c := range []struct {
		name                string
		prev, now, released uint64
		want                bool
	}{
		{"busy tick", 100 * q, 140 * q, 0, false},
		{"quiet after a burst", 140 * q, 140*q + 10, 0, true},
		{"quiet, nothing since the last release", 140 * q, 140*q + 10, 140 * q, false},
		{"trickle below the threshold", 140*q + 10, 140*q + 20, 140 * q, false},
		{"trickle adds up, then quiet", 141*q + 5, 141*q + 10, 140 * q, true},
	} {
		if got := shouldRelease(c.prev, c.now, c.released, q); got != c.want {
			t.Errorf("%s: release = %v, want %v", c.name, got, c.want)
		}
	}
}
