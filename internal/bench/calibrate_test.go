package bench

import (
	"testing"
	"time"

	"gatehouse/internal/password"
)

// machine is a model of a machine's argon2id: a fixed overhead plus a time
// per KiB and pass, slower per KiB above slowAbove (the hash no longer
// fits the caches), as real machines are. It counts what it is asked.
type machine struct {
	perKiBPass time.Duration
	overhead   time.Duration
	slowAbove  uint32  // KiB; 0: never
	slowFactor float64 // per KiB-pass above slowAbove
	asked      map[password.Params]int
}

func (m *machine) cost(p password.Params) time.Duration {
	if m.asked == nil {
		m.asked = map[password.Params]int{}
	}
	m.asked[p]++
	per := float64(m.perKiBPass)
	if m.slowAbove > 0 && p.MemoryKiB > m.slowAbove {
		per *= m.slowFactor
	}
	return m.overhead + time.Duration(per*float64(p.MemoryKiB)*float64(p.Iterations))
}

// perKiBPass returns the time per KiB-pass of a machine on which the
// default parameters (19 MiB, 2 passes) take d.
func perKiBPass(d time.Duration) time.Duration {
	return d / time.Duration(password.DefaultParams.MemoryKiB*password.DefaultParams.Iterations)
}

func TestSuggest(t *testing.T) {
	const target = 500 * time.Millisecond
	cases := []struct {
		name  string
		m     *machine
		lim   Limits
		check func(t *testing.T, m *machine, s Suggestion)
	}{
		{
			// Between the limits: memory grows, the passes stay.
			name: "memory at the configured passes",
			m:    &machine{perKiBPass: perKiBPass(250 * time.Millisecond), overhead: time.Millisecond},
			lim:  DefaultLimits,
			check: func(t *testing.T, m *machine, s Suggestion) {
				if s.Params.Iterations != 2 || s.Params.MemoryKiB <= password.DefaultParams.MemoryKiB || s.Params.MemoryKiB >= 64<<10 {
					t.Errorf("want more memory at 2 passes, got %+v", s.Params)
				}
				if s.Params.MemoryKiB%1024 != 0 {
					t.Errorf("memory %d KiB is not whole MiB", s.Params.MemoryKiB)
				}
			},
		},
		{
			// A fast machine, slower per KiB above 32 MiB: memory to the
			// ceiling, then passes.
			name: "passes added at the memory ceiling",
			m:    &machine{perKiBPass: perKiBPass(22 * time.Millisecond), overhead: time.Millisecond / 2, slowAbove: 32 << 10, slowFactor: 1.3},
			lim:  DefaultLimits,
			check: func(t *testing.T, m *machine, s Suggestion) {
				if s.Params.MemoryKiB != 64<<10 || s.Params.Iterations <= 2 {
					t.Errorf("want 64 MiB and more than 2 passes, got %+v", s.Params)
				}
			},
		},
		{
			name: "a lower ceiling is kept",
			m:    &machine{perKiBPass: perKiBPass(22 * time.Millisecond)},
			lim:  Limits{MinMemoryKiB: 8 << 10, MaxMemoryKiB: 24 << 10, MaxIterations: 64},
			check: func(t *testing.T, m *machine, s Suggestion) {
				if s.Params.MemoryKiB != 24<<10 {
					t.Errorf("want the 24 MiB ceiling, got %+v", s.Params)
				}
				for p := range m.asked {
					if p.MemoryKiB > 24<<10 {
						t.Errorf("measured %+v, above the ceiling", p)
					}
				}
			},
		},
		{
			// Two passes of the floor's memory are already too slow: one
			// pass, and memory searched again for it.
			name: "passes taken away on a slow machine",
			m:    &machine{perKiBPass: perKiBPass(2 * time.Second), overhead: 2 * time.Millisecond},
			lim:  DefaultLimits,
			check: func(t *testing.T, m *machine, s Suggestion) {
				if s.Params.Iterations != 1 || s.Params.MemoryKiB < 8<<10 {
					t.Errorf("want 1 pass and at least 8 MiB, got %+v", s.Params)
				}
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := password.DefaultParams
			s := Suggest(c.m.cost, start, target, c.lim)
			t.Logf("%+v: %s after %d measurements", s.Params, s.Took, s.Probes)
			checkProbes(t, c.m, s, start)
			c.check(t, c.m, s)
			if !near(s.Took, target) {
				t.Errorf("took %s, not within 10%% of %s (%+v)", s.Took, target, s.Params)
			}
			if s.Took != c.m.cost(s.Params) {
				t.Errorf("reported %s, the suggestion takes %s", s.Took, c.m.cost(s.Params))
			}
		})
	}
}

// A machine too slow for the target at the floor gets the cheapest
// parameters there are, with the time they really take.
func TestSuggest_TooSlowForTheTarget(t *testing.T) {
	m := &machine{perKiBPass: 150 * time.Microsecond}
	start := password.Params{MemoryKiB: 19456, Iterations: 2, Parallelism: 4}
	s := Suggest(m.cost, start, 500*time.Millisecond, DefaultLimits)
	if s.Params != (password.Params{MemoryKiB: 8 << 10, Iterations: 1, Parallelism: 4}) {
		t.Fatalf("want 8 MiB, 1 pass, 4 lanes; got %+v", s.Params)
	}
	if s.Took <= 500*time.Millisecond {
		t.Fatalf("took %s: the floor is slower than the target on this machine", s.Took)
	}
	checkProbes(t, m, s, start)
}

// A machine on which the configured parameters already meet the target
// is measured once and told to keep them.
func TestSuggest_KeepsParametersOnTarget(t *testing.T) {
	m := &machine{perKiBPass: perKiBPass(480 * time.Millisecond)}
	s := Suggest(m.cost, password.DefaultParams, 500*time.Millisecond, DefaultLimits)
	if s.Params != password.DefaultParams || s.Probes != 1 {
		t.Fatalf("want the defaults after one measurement, got %+v after %d", s.Params, s.Probes)
	}
}

// checkProbes: each parameter set was measured once (a measurement costs
// seconds), at most maxProbes of them, and the lanes were never changed.
func checkProbes(t *testing.T, m *machine, s Suggestion, start password.Params) {
	t.Helper()
	if s.Probes > maxProbes || s.Probes != len(m.asked) {
		t.Errorf("%d probes reported, %d parameter sets measured", s.Probes, len(m.asked))
	}
	for p, n := range m.asked {
		if n > 1 {
			t.Errorf("%+v measured %d times", p, n)
		}
		if p.Parallelism != start.Parallelism {
			t.Errorf("%+v: parallelism changed from %d", p, start.Parallelism)
		}
	}
}

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 200; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	if p50, p99 := percentile(d, 50), percentile(d, 99); p50 != 100*time.Millisecond || p99 != 198*time.Millisecond {
		t.Fatalf("p50 %s p99 %s", p50, p99)
	}
	one := []time.Duration{7}
	if percentile(one, 50) != 7 || percentile(one, 99) != 7 {
		t.Fatal("one sample is every percentile")
	}
}
