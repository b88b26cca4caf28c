package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"gatehouse/internal/app"
	"gatehouse/internal/config"
)

// ErrInstalled is returned for a PostgreSQL database that already holds a
// Gatehouse installation: a run never writes beside one.
var ErrInstalled = errors.New("the database already holds a Gatehouse installation")

// installation is the throw-away server a run measures: a data directory
// of its own (the SQLite database, secrets and DKIM keys), on PostgreSQL
// a schema of its own, and the real server answering HTTP on loopback.
type installation struct {
	app  *app.App
	base string // http://127.0.0.1:PORT
	dir  string
	srv  *http.Server
	// stop ends the server's background work (outbox, deliveries).
	stop    context.CancelFunc
	workers sync.WaitGroup
	// dropSchema removes the PostgreSQL schema, when there is one.
	dropSchema func() error
}

// keptPrefixes and keptKeys are the operator's settings a run takes: those
// that decide what it measures. The rest would reach the operator's
// installation or the world (the database, secrets, mail, webhooks).
var (
	keptPrefixes = []string{"argon2.", "password.", "session.", "code.", "limit."}
	keptKeys     = []string{"database_pool_size", "geoip.database"}
)

// benchConfig is the configuration of the throw-away installation: the
// operator's settings that decide the figures, in data (and database),
// listening on listen. Sign-ins are from browsers the accounts were never
// used on, so the new-device check (a code by email) is off: it would make
// every measured sign-in stop at its code.
func benchConfig(op *config.Config, data, database, listen string) (*config.Config, error) {
	flags := map[string]string{}
	for _, o := range config.Options {
		for _, p := range keptPrefixes {
			if strings.HasPrefix(o.Key, p) {
				flags[o.Key] = op.String(o.Key)
			}
		}
	}
	for _, k := range keptKeys {
		flags[k] = op.String(k)
	}
	flags["data"] = data
	flags["database"] = database
	flags["listen"] = listen
	flags["signin.new_device_check"] = "off"
	return config.Load("", func(string) string { return "" }, flags)
}

// open makes the throw-away installation and starts its server, as serve
// does, on a free loopback port.
func open(ctx context.Context, op *config.Config, database string) (inst *installation, err error) {
	inst = &installation{stop: func() {}}
	defer func() {
		if err != nil {
			inst.close()
			inst = nil
		}
	}()
	if inst.dir, err = os.MkdirTemp("", "gatehouse-bench-"); err != nil {
		return nil, fmt.Errorf("bench: data directory: %w", err)
	}
	if database != "" {
		if database, inst.dropSchema, err = ownSchema(ctx, database); err != nil {
			return inst, err
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return inst, fmt.Errorf("bench: %w", err)
	}
	cfg, err := benchConfig(op, inst.dir, database, ln.Addr().String())
	if err != nil {
		ln.Close()
		return inst, fmt.Errorf("bench: %w", err)
	}
	if inst.app, err = app.New(ctx, cfg, slog.New(slog.DiscardHandler)); err != nil {
		ln.Close()
		return inst, fmt.Errorf("bench: %w", err)
	}
	inst.app.Start()
	inst.base = cfg.PublicURL()
	// The server's settings are serve's.
	inst.srv = &http.Server{
		Handler:           inst.app.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	work, stop := context.WithCancel(context.Background())
	inst.stop = stop
	inst.workers.Go(func() { inst.app.Outbox.Run(work) })
	inst.workers.Go(func() { inst.app.Deliveries.Run(work) })
	go inst.srv.Serve(ln)
	// The pages' assets are built in the background after a start: the
	// first page would wait for them, and be measured.
	inst.app.Web.WaitAssets()
	return inst, nil
}

// close stops the server and removes everything the installation made.
func (inst *installation) close() error {
	var errs []error
	if inst.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		if err := inst.srv.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
		cancel()
	}
	inst.stop()
	inst.workers.Wait()
	if inst.app != nil {
		errs = append(errs, inst.app.Close())
	}
	if inst.dropSchema != nil {
		errs = append(errs, inst.dropSchema())
	}
	if inst.dir != "" {
		errs = append(errs, os.RemoveAll(inst.dir))
	}
	return errors.Join(errs...)
}

// ownSchema makes a schema of the run's own in the PostgreSQL database at
// dbURL, and returns the URL that puts it first on the search path (every
// table of the run is made there) and what drops it. A database with a
// Gatehouse installation on its search path is refused: the run's nodes
// would share its notification channel, and an operator who names a real
// installation's database has most likely made a mistake.
func ownSchema(ctx context.Context, dbURL string) (string, func() error, error) {
	u, err := url.Parse(dbURL)
	if err != nil {
		return "", nil, fmt.Errorf("bench: the database URL: %w", err)
	}
	shown := u.Redacted()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return "", nil, fmt.Errorf("bench: connect to %s: %w", shown, err)
	}
	defer conn.Close(context.Background())
	var installed bool
	err = conn.QueryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL OR to_regclass('accounts') IS NOT NULL`).Scan(&installed)
	if err != nil {
		return "", nil, fmt.Errorf("bench: read %s: %w", shown, err)
	}
	if installed {
		return "", nil, fmt.Errorf("bench: %s: %w; give bench a database of its own (it works in a schema it drops afterwards)", shown, ErrInstalled)
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "gatehouse_bench_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		return "", nil, fmt.Errorf("bench: make a schema in %s: %w", shown, err)
	}
	drop := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, dbURL)
		if err != nil {
			return fmt.Errorf("bench: drop schema %s: %w", schema, err)
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			return fmt.Errorf("bench: drop schema %s: %w", schema, err)
		}
		return nil
	}
	q := u.Query()
	q.Set("search_path", schema) // pgx sends unknown URL parameters as run-time settings
	u.RawQuery = q.Encode()
	return u.String(), drop, nil
}
