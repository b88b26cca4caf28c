package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"gatehouse/internal/sqlite"
)

func runMigrate(args []string, stdout, stderr io.Writer) int {
	cfg, code := parseConfig(flag.NewFlagSet("migrate", flag.ContinueOnError), args, stderr)
	if cfg == nil {
		return code
	}
	ctx := context.Background()
	db, err := sqlite.Open(ctx, cfg.DatabasePath(), false)
	if err != nil {
		fmt.Fprintf(stderr, "gatehouse: %v\n", err)
		return 1
	}
	defer db.Close()
	before, _, err := db.Version(ctx)
	if err == nil {
		err = db.Migrate(ctx)
	}
	if err != nil {
		fmt.Fprintf(stderr, "gatehouse: migrate: %v\n", err)
		return 1
	}
	after, _, _ := db.Version(ctx)
	fmt.Fprintf(stdout, "%s: schema version %d → %d\n", cfg.DatabasePath(), before, after)
	return 0
}
