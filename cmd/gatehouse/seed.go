package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
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
	sessions := fs.Int("sessions", 0, "then start this many sessions, spread over the accounts (for the forward-auth and session-check benchmarks)")
	tokens := fs.String("tokens", "", "write the sessions' tokens to this file, one per line (mode 0600): the load's cookies")
	skip := fs.Bool("sessions-only", false, "make only the sessions, for the accounts an earlier seed made")
	cfg, code := parseConfig(fs, args, stderr)
	if cfg == nil {
		return code
	}
	ctx := context.Background()
	a := openApp(ctx, cfg, stderr)
	if a == nil {
		return 1
	}
	defer a.Close()
	began := time.Now()
	last := time.Now()
	if *skip {
		return seedSessions(ctx, a, *accounts, *sessions, *tokens, stdout, stderr)
	}
	err := a.Seed(ctx, *from, *accounts, *per, *more, func(done int) {
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
	if *sessions > 0 {
		return seedSessions(ctx, a, *accounts, *sessions, *tokens, stdout, stderr)
	}
	return 0
}

// seedSessions starts n sessions over the seeded accounts and writes their
// tokens to the file named, if any.
func seedSessions(ctx context.Context, a *app.App, accounts, n int, tokens string, stdout, stderr io.Writer) int {
	began := time.Now()
	out := io.Discard
	if tokens != "" {
		f, err := os.OpenFile(tokens, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
		if err != nil {
			fmt.Fprintf(stderr, "gatehouse: %v\n", err)
			return 1
		}
		defer f.Close()
		w := bufio.NewWriter(f)
		defer w.Flush()
		out = w
	}
	err := a.SeedSessions(ctx, accounts, n, func(t string) error {
		_, err := io.WriteString(out, t+"\n")
		return err
	})
	if err != nil {
		fmt.Fprintf(stderr, "gatehouse: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "seeded %d sessions over %d accounts in %s\n", n, accounts, time.Since(began).Round(time.Second))
	return 0
}
