package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"gatehouse/internal/app"
	"gatehouse/internal/bench"
	"gatehouse/internal/config"
)

// runBench sizes a server on this machine (package bench): it times
// argon2id with the configured parameters and suggests parameters for
// --target a hash, then runs the real server in this process on a
// throw-away installation — SQLite in a temporary data directory, or a
// schema of its own in the empty PostgreSQL database --database names,
// both removed afterwards — and measures each phase for --duration.
//
// It prints a table, or with --json one object:
//
//	database            "sqlite" or "postgres"
//	cpus, clients, phase_seconds
//	argon2              {memory_kib, iterations, parallelism, workers}: the configured parameters
//	hash_ms             one hash alone (median of five)
//	hash_bound_per_s    hashes a second with every worker hashing: the most sign-ins a second can be
//	signin              {per_s, ratio, p50_ms, p99_ms, statuses}: password sign-ins, ratio = per_s ÷ hash_bound_per_s
//	session_check       {per_s, p50_ms, p99_ms, statuses}: GET /account with a live session
//	forward_auth        {per_s, p50_ms, p99_ms, statuses}: GET /auth/verify with a live session
//	peak_memory_mib     this process's peak resident memory during those three
//	flood               with --flood N: {posts, signin, session_check, peak_memory_mib}
//	suggestion          with --target above 0: {target_ms, memory_kib, iterations, parallelism,
//	                    hash_ms, hash_bound_per_s, hashing_memory_mib}
//
// per_s counts answers that succeeded (a 303 to /account, a 200); the
// latencies are of every request; statuses counts each status ("error":
// no answer). Exit 0 when every phase had successes, 1 otherwise, 2 on
// bad flags or configuration.
func runBench(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("config", os.Getenv("GATEHOUSE_CONFIG"), "YAML configuration file (env GATEHOUSE_CONFIG): its argon2, password, session, code and limit settings are measured")
	database := fs.String("database", "", "an empty PostgreSQL database (postgres://…) to run in, in a schema of its own dropped afterwards; default SQLite in a temporary directory")
	duration := fs.Duration("duration", 5*time.Second, "length of each phase")
	clients := fs.Int("clients", 2*runtime.GOMAXPROCS(0), "clients sending requests at once")
	flood := fs.Int("flood", 0, "add a phase of this many sign-in posts at once, with session checks beside them")
	target := fs.Duration("target", 500*time.Millisecond, "time of one hash for the suggested argon2id parameters; 0 skips the calibration")
	maxMemory := fs.Int("max-memory", 0, "most MiB of memory per hash to suggest; 0 means 64 or the configured memory, whichever is more")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	bad := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "gatehouse: bench: "+format+"\n", a...)
		return 2
	}
	switch {
	case fs.NArg() > 0:
		return bad("unexpected argument %q", fs.Arg(0))
	case *duration <= 0:
		return bad("--duration must be above 0")
	case *clients < 1:
		return bad("--clients must be 1 or more")
	case *flood < 0:
		return bad("--flood must not be negative")
	case *target < 0:
		return bad("--target must not be negative")
	case *maxMemory != 0 && (*maxMemory < 8 || *maxMemory > 1024):
		return bad("--max-memory must be from 8 to 1024 (MiB, as argon2.memory_kib allows), or 0")
	case *database != "" && !config.IsPostgres(*database):
		return bad("--database must be a postgres:// URL (without it, SQLite in a temporary directory)")
	}
	// The operator's database, data directory and the rest are not read
	// from here: only the settings that decide the figures (see
	// bench.Options.Config).
	cfg, err := config.Load(*file, os.Getenv, nil)
	if err != nil {
		fmt.Fprintf(stderr, "gatehouse: %v\n", err)
		return 2
	}
	// The server runs in this process: its memory is tuned as serve's is.
	app.TuneMemory(cfg.Int("argon2.workers"), cfg.Int("argon2.memory_kib"))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	lim := bench.DefaultLimits
	if *maxMemory > 0 {
		lim.MaxMemoryKiB = uint32(*maxMemory) << 10
	} else {
		// An operator who chose more memory than the default ceiling is
		// not told to take it back.
		lim.MaxMemoryKiB = max(lim.MaxMemoryKiB, uint32(cfg.Int("argon2.memory_kib")+1023)/1024*1024)
	}
	rep, err := bench.Run(ctx, bench.Options{Config: cfg, Database: *database, Duration: *duration, Clients: *clients,
		Flood: *flood, Target: *target, Limits: lim, Progress: stderr})
	if rep != nil {
		if *asJSON {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			enc.Encode(rep)
		} else {
			rep.WriteText(stdout)
		}
	}
	if err != nil && ctx.Err() != nil {
		// What failed, failed because of the signal; a failure to remove
		// what the run made would be joined to it.
		fmt.Fprintf(stderr, "gatehouse: bench: interrupted (%v)\n", err)
		return 1
	}
	if err != nil {
		fmt.Fprintf(stderr, "gatehouse: %v\n", err)
		return 1
	}
	return 0
}
