package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"gatehouse/internal/app"
	"gatehouse/internal/config"
)

func runMigrate(args []string, stdout, stderr io.Writer) int {
	cfg, code := parseConfig(flag.NewFlagSet("migrate", flag.ContinueOnError), args, stderr)
	if cfg == nil {
		return code
	}
	ctx := context.Background()
	db, err := app.OpenStore(ctx, cfg, false)
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
	fmt.Fprintf(stdout, "%s: schema version %d → %d\n", databaseName(cfg), before, after)
	return 0
}

// databaseName names the database for messages without its password.
func databaseName(cfg *config.Config) string { return app.DatabaseName(cfg) }
