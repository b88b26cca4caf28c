package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"gatehouse/internal/archive"
)

func runRestore(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	from := fs.String("from", "", "the backup file gatehouse backup wrote")
	passFile := fs.String("passphrase-file", "", "file whose first line is the backup's passphrase (- reads standard input)")
	force := fs.Bool("force", false, "replace an existing installation's files (never while a server runs on its database)")
	cfg, code := parseConfig(fs, args, stderr)
	if cfg == nil {
		return code
	}
	if *from == "" || *passFile == "" {
		fmt.Fprintln(stderr, "usage: gatehouse restore --from FILE --passphrase-file FILE [--data DIR | --config FILE] [--force]")
		return 2
	}
	pass, err := readPassphrase(*passFile)
	if err != nil {
		fmt.Fprintf(stderr, "gatehouse: restore: %v\n", err)
		return 1
	}
	l := layout(cfg)
	m, err := archive.Restore(context.Background(), l, *from, archive.RestoreOptions{Passphrase: pass, Force: *force})
	if err != nil {
		fmt.Fprintf(stderr, "gatehouse: restore %s: %v\n", *from, err)
		return 1
	}
	fmt.Fprintf(stdout, "Restored the backup made %s by gatehouse %s (schema version %d):\n", m.CreatedAt.Format("2006-01-02 15:04:05 MST"), m.Gatehouse, m.Schema)
	if m.Has(archive.DatabaseName) {
		fmt.Fprintf(stdout, "  database   %s\n", l.Database)
	}
	fmt.Fprintf(stdout, "  secrets    %s\n", l.Secrets)
	fmt.Fprintf(stdout, "  DKIM keys  %s (%d files)\n", l.DKIMDir, dkimFiles(m))
	if m.Database == archive.Postgres {
		fmt.Fprintln(stdout, "This backup holds no database: restore the PostgreSQL database from its pg_dump with pg_restore, then start every node with this secrets file and these DKIM keys (README, \"Backups and restore\").")
	} else {
		fmt.Fprintln(stdout, "Start the server on it with gatehouse serve and the same --data, --config or --database.")
	}
	return 0
}
