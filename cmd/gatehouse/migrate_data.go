package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"gatehouse/internal/app"
	"gatehouse/internal/postgres"
	"gatehouse/internal/sqlite"
	"gatehouse/internal/transfer"
)

func runMigrateData(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("migrate-data", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "the SQLite installation: sqlite:PATH (e.g. sqlite:gatehouse-data/gatehouse.db)")
	to := fs.String("to", "", "the PostgreSQL database: postgres://USER:PASSWORD@HOST:PORT/DB")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if !strings.HasPrefix(*from, "sqlite:") || !app.IsPostgres(*to) {
		fmt.Fprintln(stderr, "usage: gatehouse migrate-data --from sqlite:PATH --to postgres://USER:PASSWORD@HOST:PORT/DB")
		return 2
	}
	path := strings.TrimPrefix(*from, "sqlite:")
	if _, err := os.Stat(path); err != nil {
		fmt.Fprintf(stderr, "gatehouse: %v\n", err)
		return 1
	}
	ctx := context.Background()
	src, err := sqlite.Open(ctx, path, true)
	if err != nil {
		fmt.Fprintf(stderr, "gatehouse: %v\n", err) // the error names the file
		return 1
	}
	defer src.Close()
	dst, err := postgres.Open(ctx, *to, 4, true)
	if err != nil {
		fmt.Fprintf(stderr, "gatehouse: %v\n", err)
		return 1
	}
	defer dst.Close()

	counts, err := transfer.Copy(ctx, src.SQL(), dst.Pool(), progressPrinter(stderr))
	if err != nil {
		fmt.Fprintf(stderr, "gatehouse: migrate-data: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, "Copied and verified (rows in SQLite = rows in PostgreSQL):")
	for _, c := range counts {
		fmt.Fprintf(stdout, "  %-18s %d\n", c.Table, c.Dst)
	}
	fmt.Fprintln(stdout, "Start every node with this database and the same secrets file as the SQLite installation.")
	return 0
}

// progressPrinter draws a progress bar per table on a terminal and prints a
// plain line per finished table otherwise (logs, CI).
func progressPrinter(w io.Writer) transfer.Progress {
	tty := false
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			tty = true
		}
	}
	return func(table string, done, total int) {
		if !tty {
			if done == total {
				fmt.Fprintf(w, "%s: %d rows\n", table, total)
			}
			return
		}
		const width = 30
		filled := width
		if total > 0 {
			filled = done * width / total
		}
		fmt.Fprintf(w, "\r%-18s [%s%s] %d/%d", table, strings.Repeat("#", filled), strings.Repeat("-", width-filled), done, total)
		if done == total {
			fmt.Fprintln(w)
		}
	}
}
