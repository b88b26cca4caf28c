package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"gatehouse/internal/app"
	"gatehouse/internal/archive"
	"gatehouse/internal/config"
	"gatehouse/internal/postgres"
	"gatehouse/internal/sqlite"
)

func runBackup(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	to := fs.String("to", "", "the backup file to write (mode 0600; replaced whole if it exists)")
	passFile := fs.String("passphrase-file", "", "file whose first line is the passphrase, at least 12 characters (- reads standard input)")
	cfg, code := parseConfig(fs, args, stderr)
	if cfg == nil {
		return code
	}
	if *to == "" || *passFile == "" {
		fmt.Fprintln(stderr, "usage: gatehouse backup --to FILE --passphrase-file FILE [--data DIR | --config FILE | --database …]")
		return 2
	}
	pass, err := readPassphrase(*passFile)
	if err != nil {
		fmt.Fprintf(stderr, "gatehouse: backup: %v\n", err)
		return 1
	}
	ctx := context.Background()
	opts := archive.BackupOptions{Passphrase: pass, Gatehouse: binaryVersion()}
	pg := app.IsPostgres(cfg.String("database"))
	if pg {
		// Only for the manifest: pg_dump backs the database up.
		db, err := postgres.Open(ctx, cfg.String("database"), 1, false)
		if err != nil {
			fmt.Fprintf(stderr, "gatehouse: backup: %v\n", err)
			return 1
		}
		opts.Schema, _, err = db.Version(ctx)
		db.Close()
		if err != nil {
			fmt.Fprintf(stderr, "gatehouse: backup: %v\n", err)
			return 1
		}
	} else {
		opts.Check = func(ctx context.Context, copy string) error {
			db, err := sqlite.Open(ctx, copy, false)
			if err != nil {
				return err
			}
			defer db.Close()
			return app.CheckSecretsFile(ctx, db, cfg.SecretsPath())
		}
	}
	m, err := archive.Backup(ctx, layout(cfg), *to, opts)
	if err != nil {
		fmt.Fprintf(stderr, "gatehouse: backup: %v\n", err)
		return 1
	}
	var what []string
	if m.Has(archive.DatabaseName) {
		what = append(what, fmt.Sprintf("the database (schema version %d)", m.Schema))
	}
	what = append(what, "the secrets file", fmt.Sprintf("the DKIM keys (%d files)", dkimFiles(m)))
	fmt.Fprintf(stdout, "Backed up %s to %s (mode 0600).\n", strings.Join(what, ", "), *to)
	if pg {
		fmt.Fprintf(stdout, "The PostgreSQL database (%s) is not in it: back it up with pg_dump --format=custom (README, \"Backups and restore\").\n", app.DatabaseName(cfg))
	}
	fmt.Fprintln(stdout, "Keep the passphrase apart from the backup: nothing can be restored without it.")
	return 0
}

// readPassphrase reads the first line of the passphrase file, or of
// standard input for "-".
func readPassphrase(path string) (string, error) {
	if path == "-" {
		return archive.ReadPassphrase(os.Stdin)
	}
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	p, err := archive.ReadPassphrase(f)
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// layout is where the configured installation keeps what a backup holds.
func layout(cfg *config.Config) archive.Layout {
	l := archive.Layout{Secrets: cfg.SecretsPath(), DKIMDir: cfg.DKIMDir()}
	if !app.IsPostgres(cfg.String("database")) {
		l.Database = cfg.DatabasePath()
	}
	return l
}

// dkimFiles counts the DKIM key files of a backup.
func dkimFiles(m *archive.Manifest) int {
	n := 0
	for _, e := range m.Files {
		if strings.HasPrefix(e.Name, archive.DKIMPrefix) {
			n++
		}
	}
	return n
}
