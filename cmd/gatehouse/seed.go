package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"gatehouse/internal/app"
)

// runSeed fills a database for the benchmarks (see app.Seed). It refuses
// nothing: point it at a scratch database, never a real installation.
func runSeed(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	accounts := fs.Int("accounts", 100_000, "accounts to create")
	per := fs.Int("per-account", 50, "sign-in attempts, and as many messages, per account")
	from := fs.Int("from", 0, "first account number: resumes a seed that stopped (its log says where)")
	more := fs.Bool("more", false, "add attempts and messages to the accounts an earlier seed made")
	cfg, code := parseConfig(fs, args, stderr)
	if cfg == nil {
		return code
	}
	ctx := context.Background()
	a, err := app.New(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		fmt.Fprintf(stderr, "gatehouse: %v\n", err)
		return 1
	}
	defer a.Close()
	began := time.Now()
	last := time.Now()
	err = a.Seed(ctx, *from, *accounts, *per, *more, func(done int) {
		if time.Since(last) > 5*time.Second || done == *accounts {
			last = time.Now()
			fmt.Fprintf(stdout, "%d/%d accounts (%d attempts and %d messages) in %s\n", done, *accounts, done**per, done**per, time.Since(began).Round(time.Second))
		}
	})
	if err != nil {
		fmt.Fprintf(stderr, "gatehouse: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "seeded %d accounts, %d attempts and %d messages in %s; each account's password is %q\n",
		*accounts, *accounts**per, *accounts**per, time.Since(began).Round(time.Second), app.SeedPassword)
	return 0
}
