// Command gatehouse is the Gatehouse account-security server and its
// operator tools. Each subcommand lives in its own file.
//
//	gatehouse serve     run the server
//	gatehouse migrate   apply database migrations
//	gatehouse migrate-data  copy a SQLite installation into PostgreSQL
//	gatehouse user      create, list, disable or delete accounts
//	gatehouse apikey    create, list or revoke the admin API's keys
//	gatehouse operator  give, take or list the operator console's roles
//	gatehouse audit     print the operators' audit trail
//	gatehouse dkim      rotate or list the DKIM keys
//	gatehouse keys      rotate or list the OpenID provider's signing keys
//	gatehouse client    add, list or remove OpenID Connect clients
//	gatehouse dns-records  print the DNS records to publish for the mail domain
//	gatehouse verify-message  check whether a message is genuine
//	gatehouse reports   list the messages holders reported
//	gatehouse backup    back up a running installation into one encrypted file
//	gatehouse restore   restore such a backup into a data directory
//	gatehouse seed      fill a scratch database for the benchmarks
//	gatehouse bench     size a server on this machine: argon2id, sign-ins, checks, memory
//	gatehouse version   print the version
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"gatehouse/internal/app"
	"gatehouse/internal/config"
	"gatehouse/internal/httpcore"
)

type command struct {
	name, summary string
	run           func(args []string, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"serve", "run the server", runServe},
		{"migrate", "apply database migrations and exit", runMigrate},
		{"migrate-data", "copy a SQLite installation into PostgreSQL", runMigrateData},
		{"user", "manage accounts: user create|list|disable|delete", runUser},
		{"apikey", "admin API keys: apikey create --name NAME --scope S… | list | revoke ID", runAPIKey},
		{"operator", "operator console roles: operator add --email ADDR --role support|admin | remove --email ADDR | list", runOperator},
		{"audit", "the operators' audit trail, newest first: audit [--json] [--email ADDR] [--operator ADDR] [--since 24h]", runAudit},
		{"dkim", "DKIM keys: dkim rotate | dkim list", runDKIM},
		{"keys", "the OpenID provider's signing keys: keys rotate-signing | keys list", runKeys},
		{"client", "OpenID Connect clients: client add | client list | client remove ID", runClient},
		{"dns-records", "print the DNS TXT records (SPF, DKIM, DMARC, BIMI) for the mail domain", runDNSRecords},
		{"verify-message", "is this message genuine? verify-message [--json] [--lang en|ja] FILE|- (exit 0 genuine, 1 not ours, 2 cannot tell, 3 could not check)", runVerifyMessage},
		{"reports", "list the messages holders reported from the checker", runReports},
		{"backup", "back up the database, secrets and DKIM keys into one encrypted file: backup --to FILE --passphrase-file FILE", runBackup},
		{"restore", "restore a backup into an empty data directory: restore --from FILE --passphrase-file FILE [--force]", runRestore},
		{"seed", "fill a scratch database for the benchmarks: seed --accounts N --per-account M", runSeed},
		{"bench", "size a server on this machine: bench [--duration 5s] [--clients N] [--flood N] [--target 500ms] [--database postgres://…] [--json]", runBench},
		{"version", "print the version", runVersion},
	}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name == args[0] {
			if c.name == "serve" {
				// Its log handler quotes what it logs; the start-up lines
				// are ours.
				return c.run(args[1:], stdout, stderr)
			}
			out, errs := newTermSafe(stdout), newTermSafe(stderr)
			defer out.Close()
			defer errs.Close()
			return c.run(args[1:], out, errs)
		}
	}
	fmt.Fprintf(stderr, "gatehouse: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: gatehouse <command> [flags]\n\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-14s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'gatehouse <command> -h' for a command's flags.")
}

// configFlags are the flags every command that opens the database takes.
type configFlags struct {
	file                              string
	listen, data, database, publicURL string
}

func (c *configFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.file, "config", os.Getenv("GATEHOUSE_CONFIG"), "YAML configuration file (env GATEHOUSE_CONFIG)")
	fs.StringVar(&c.listen, "listen", "", "address to listen on (env GATEHOUSE_LISTEN; default 127.0.0.1:8080)")
	fs.StringVar(&c.data, "data", "", "data directory (env GATEHOUSE_DATA; default ./gatehouse-data)")
	fs.StringVar(&c.database, "database", "", "database (env GATEHOUSE_DATABASE; default sqlite in the data directory)")
	fs.StringVar(&c.publicURL, "public-url", "", "public URL used in messages (env GATEHOUSE_PUBLIC_URL)")
}

// parseConfig registers the configuration flags on fs, parses args and
// loads the configuration. On failure it has printed why and returns the
// exit code.
func parseConfig(fs *flag.FlagSet, args []string, stderr io.Writer) (*config.Config, int) {
	fs.SetOutput(stderr)
	var cf configFlags
	cf.register(fs)
	if err := fs.Parse(args); err != nil {
		return nil, 2
	}
	cfg, err := cf.load()
	if err != nil {
		fmt.Fprintf(stderr, "gatehouse: %v\n", err)
		return nil, 2
	}
	return cfg, 0
}

func (c *configFlags) load() (*config.Config, error) {
	flags := map[string]string{}
	for k, v := range map[string]string{"listen": c.listen, "data": c.data, "database": c.database, "public_url": c.publicURL} {
		if v != "" {
			flags[k] = v
		}
	}
	return config.Load(c.file, os.Getenv, flags)
}

func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(strings.ToUpper(cfg.String("log.level"))))
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if cfg.String("log.format") == "json" {
		h = slog.NewJSONHandler(w, opts)
	}
	return slog.New(httpcore.LogHandler(h))
}

// openApp builds the application for a one-shot command, without a log
// (the command prints what it did). When it cannot, it says why on stderr
// and returns nil; the command exits with its own failure code.
func openApp(ctx context.Context, cfg *config.Config, stderr io.Writer) *app.App {
	a, err := app.New(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		fmt.Fprintf(stderr, "gatehouse: %v\n", err)
		return nil
	}
	return a
}
