// Package bench sizes a Gatehouse server on the machine it runs on
// (`gatehouse bench`): it measures argon2id with the configured parameters
// and suggests parameters for a target time per hash, then runs the real
// server in this process against a throw-away installation and measures
// what its holders would see — password sign-ins a second against the
// most hashing allows, session checks and forward-auth checks a second
// with their latency, peak memory, and optionally a flood of sign-ins.
//
// The clients run in the same process as the server, over loopback HTTP:
// they take some of the CPU a server of its own would have, so the
// figures are a little below what the server alone reaches — the side to
// err on when sizing.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"runtime/debug"
	"time"

	"gatehouse/internal/config"
	"gatehouse/internal/password"
)

// Options say what to measure.
type Options struct {
	// Config is the operator's configuration. Only what decides the
	// figures is taken from it — argon2.*, password.*, session.*, code.*,
	// limit.*, database_pool_size and geoip.database — into a
	// configuration of a throw-away installation: nothing else of the
	// operator's (database, data directory, secrets, DKIM keys, mail, SMS,
	// webhooks, metrics) is opened or used. Nil means the defaults.
	Config *config.Config
	// Database is empty for SQLite in the throw-away data directory, or a
	// postgres:// URL: a database that holds no Gatehouse installation,
	// in which the run makes a schema of its own and drops it afterwards.
	Database string
	// Duration is the length of each measured phase: the hash bound, the
	// sign-ins, the session checks, the forward-auth checks and the flood.
	Duration time.Duration
	// Clients is how many clients send requests at once in each phase
	// (and how many accounts are made).
	Clients int
	// Flood, when above zero, adds a phase of that many sign-in posts at
	// once, each posted again as soon as it is answered, while Clients
	// clients check sessions.
	Flood int
	// Target is the time one hash should take for the suggested
	// parameters; zero skips the calibration.
	Target time.Duration
	// Limits bound the suggested parameters.
	Limits Limits
	// Progress, when set, is told what each phase is about to do.
	Progress io.Writer
}

// Report is what a run measured. Its JSON form is `gatehouse bench
// --json`'s output; durations are in milliseconds, memory in MiB.
type Report struct {
	// Database is "sqlite" or "postgres".
	Database string `json:"database"`
	// CPUs is the Go scheduler's processors (GOMAXPROCS).
	CPUs         int     `json:"cpus"`
	Clients      int     `json:"clients"`
	PhaseSeconds float64 `json:"phase_seconds"`
	// Argon2 are the configured parameters every hash used.
	Argon2 Argon2 `json:"argon2"`
	// HashMS is one hash alone, the median of five.
	HashMS float64 `json:"hash_ms"`
	// HashBound is hashes a second with every hashing worker busy: the
	// most password sign-ins a second can be.
	HashBound float64 `json:"hash_bound_per_s"`
	// SignIn are password sign-ins (a 303 to /account) over HTTP.
	SignIn SignIns `json:"signin"`
	// SessionCheck is GET /account with a live session cookie: the
	// session checked and the holder's page served.
	SessionCheck Rate `json:"session_check"`
	// ForwardAuth is GET /auth/verify with a live session cookie.
	ForwardAuth Rate `json:"forward_auth"`
	// PeakMemoryMiB is the process's peak resident memory during the
	// sign-ins and checks (see peakMemory).
	PeakMemoryMiB float64 `json:"peak_memory_mib"`
	// Flood is the flood phase; absent without one.
	Flood *Flood `json:"flood,omitempty"`
	// Suggestion is the calibration's; absent without one.
	Suggestion *Suggested `json:"suggestion,omitempty"`
}

// Argon2 are argon2id parameters and the hashing workers of the server.
type Argon2 struct {
	MemoryKiB   uint32 `json:"memory_kib"`
	Iterations  uint32 `json:"iterations"`
	Parallelism uint8  `json:"parallelism"`
	Workers     int    `json:"workers"`
}

// Rate is one kind of request in one phase: answers that succeeded a
// second, the latency of every request, and how many got each status
// ("error" for a request that got no answer).
type Rate struct {
	PerSecond float64        `json:"per_s"`
	P50MS     float64        `json:"p50_ms"`
	P99MS     float64        `json:"p99_ms"`
	Statuses  map[string]int `json:"statuses"`
}

// SignIns is the sign-ins' Rate and its ratio to the hash bound.
type SignIns struct {
	Rate
	Ratio float64 `json:"ratio"`
}

// Flood is the flood phase: Posts sign-in posts at once, each posted
// again as soon as it was answered, while other clients check sessions.
type Flood struct {
	Posts         int     `json:"posts"`
	SignIn        Rate    `json:"signin"`
	SessionCheck  Rate    `json:"session_check"`
	PeakMemoryMiB float64 `json:"peak_memory_mib"`
}

// Suggested are the calibration's parameters with what they imply for a
// server with the configured hashing workers.
type Suggested struct {
	TargetMS    float64 `json:"target_ms"`
	MemoryKiB   uint32  `json:"memory_kib"`
	Iterations  uint32  `json:"iterations"`
	Parallelism uint8   `json:"parallelism"`
	// HashMS is one hash with them, as measured.
	HashMS float64 `json:"hash_ms"`
	// HashBound is workers ÷ HashMS: an estimate, above what workers
	// hashing at once reach (see HashBound).
	HashBound float64 `json:"hash_bound_per_s"`
	// HashingMemoryMiB is what the workers hold at once.
	HashingMemoryMiB float64 `json:"hashing_memory_mib"`
}

// Run measures. It stops early, cleaning up, when ctx is cancelled.
func Run(ctx context.Context, opts Options) (_ *Report, err error) {
	if opts.Duration <= 0 || opts.Clients < 1 || opts.Flood < 0 || opts.Target < 0 {
		return nil, errors.New("bench: duration and clients must be positive, flood and target not negative")
	}
	if opts.Config == nil {
		cfg, err := config.Load("", func(string) string { return "" }, nil)
		if err != nil {
			return nil, err
		}
		opts.Config = cfg
	}
	if opts.Limits == (Limits{}) {
		opts.Limits = DefaultLimits
	}
	say := func(format string, args ...any) {
		if opts.Progress != nil {
			fmt.Fprintf(opts.Progress, format+"\n", args...)
		}
	}
	cfg := opts.Config
	params := password.Params{
		MemoryKiB:   uint32(cfg.Int("argon2.memory_kib")),
		Iterations:  uint32(cfg.Int("argon2.iterations")),
		Parallelism: uint8(cfg.Int("argon2.parallelism")),
	}
	workers := cfg.Int("argon2.workers")
	if workers <= 0 {
		workers = runtime.NumCPU() // as the server's pool does
	}
	rep := &Report{Database: "sqlite", CPUs: runtime.GOMAXPROCS(0), Clients: opts.Clients,
		PhaseSeconds: opts.Duration.Seconds(),
		Argon2:       Argon2{params.MemoryKiB, params.Iterations, params.Parallelism, workers}}
	if opts.Database != "" {
		rep.Database = "postgres"
	}

	// The hashes alone first, on a machine the server does not load yet.
	say("timing one argon2id hash (memory_kib %d, iterations %d, parallelism %d)…", params.MemoryKiB, params.Iterations, params.Parallelism)
	one := Measure(params, 5)
	rep.HashMS = ms(one)
	if opts.Target > 0 {
		say("calibrating for %s a hash…", opts.Target)
		cost := func(p password.Params) time.Duration {
			switch {
			case p == params:
				return one
			case ctx.Err() != nil:
				// Stopped: "on target" ends the search at once; the
				// result is thrown away below.
				return opts.Target
			}
			return Measure(p, 3)
		}
		s := Suggest(cost, params, opts.Target, opts.Limits)
		rep.Suggestion = &Suggested{TargetMS: ms(s.Target), MemoryKiB: s.Params.MemoryKiB, Iterations: s.Params.Iterations,
			Parallelism: s.Params.Parallelism, HashMS: ms(s.Took),
			HashBound:        round(float64(workers)/s.Took.Seconds(), 2),
			HashingMemoryMiB: round(float64(workers)*float64(s.Params.MemoryKiB)/1024, 1)}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	say("hash bound: %d workers hashing for %s…", workers, opts.Duration)
	rep.HashBound = round(HashBound(ctx, params, workers, opts.Duration), 2)

	say("starting a throw-away server…")
	inst, err := open(ctx, cfg, opts.Database)
	if err != nil {
		return nil, err
	}
	defer func() {
		// What the run made must go even when the run failed; a failure
		// to remove it is told either way.
		if cerr := inst.close(); cerr != nil {
			err = errors.Join(err, cerr)
		}
	}()
	drv, err := newLoad(ctx, inst, opts.Clients, opts.Clients+opts.Flood)
	if err != nil {
		return nil, err
	}
	defer drv.close()

	// Calibration's and the hash bound's hashes left memory behind that a
	// server at rest would have handed back (app.TuneMemory releases it
	// when the process goes quiet): the load starts from there.
	debug.FreeOSMemory()
	peak := startPeak()
	say("sign-ins: %d clients for %s…", opts.Clients, opts.Duration)
	rep.SignIn.Rate = drv.signIns(ctx, opts.Clients, opts.Duration).rate()
	if rep.HashBound > 0 {
		rep.SignIn.Ratio = round(rep.SignIn.PerSecond/rep.HashBound, 3)
	}
	say("session checks (GET /account): %d clients for %s…", opts.Clients, opts.Duration)
	rep.SessionCheck = drv.checks(ctx, "/account", opts.Clients, opts.Duration).rate()
	say("forward-auth checks (GET /auth/verify): %d clients for %s…", opts.Clients, opts.Duration)
	rep.ForwardAuth = drv.checks(ctx, "/auth/verify", opts.Clients, opts.Duration).rate()
	rep.PeakMemoryMiB = mib(peak.stop())
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for name, r := range map[string]Rate{"sign-ins": rep.SignIn.Rate, "session checks": rep.SessionCheck, "forward-auth checks": rep.ForwardAuth} {
		if r.PerSecond == 0 {
			return nil, fmt.Errorf("bench: no %s succeeded (answers: %v)", name, r.Statuses)
		}
	}

	if opts.Flood > 0 {
		say("flood: %d sign-in posts at once for %s, %d clients checking sessions…", opts.Flood, opts.Duration, opts.Clients)
		debug.FreeOSMemory()
		peak := startPeak()
		signIns, checks := drv.flood(ctx, opts.Flood, opts.Clients, opts.Duration)
		rep.Flood = &Flood{Posts: opts.Flood, SignIn: signIns.rate(), SessionCheck: checks.rate(), PeakMemoryMiB: mib(peak.stop())}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

func ms(d time.Duration) float64 { return round(float64(d)/float64(time.Millisecond), 3) }

func mib(b int64) float64 { return round(float64(b)/(1<<20), 1) }

func round(x float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(x*p) / p
}
