package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"gatehouse/internal/account"
	"gatehouse/internal/code"
	"gatehouse/internal/config"
	"gatehouse/internal/outbox"
	"gatehouse/internal/postgres"
	"gatehouse/internal/secrets"
	"gatehouse/internal/session"
	"gatehouse/internal/signin"
	"gatehouse/internal/sqlite"
)

// Store is one database implementing every capability's store. Only the
// wiring sees it whole; each capability is handed its own small interface.
type Store interface {
	account.Store
	code.Store
	session.Store
	signin.Store
	outbox.Store
	Ping(ctx context.Context) error
	Close() error
	Version(ctx context.Context) (applied, known int, err error)
	Migrate(ctx context.Context) error
	Installation(ctx context.Context, key, value string) (string, error)
}

var (
	_ Store = (*sqlite.DB)(nil)
	_ Store = (*postgres.DB)(nil)
)

// IsPostgres reports whether a database setting names PostgreSQL.
func IsPostgres(database string) bool {
	return strings.HasPrefix(database, "postgres://") || strings.HasPrefix(database, "postgresql://")
}

// OpenStore opens the configured database: PostgreSQL for a postgres:// URL,
// SQLite otherwise. With migrate set, pending migrations are applied.
func OpenStore(ctx context.Context, cfg *config.Config, migrate bool) (Store, error) {
	if db := cfg.String("database"); IsPostgres(db) {
		return postgres.Open(ctx, db, cfg.Int("database_pool_size"), migrate)
	}
	return sqlite.Open(ctx, cfg.DatabasePath(), migrate)
}

// ErrWrongSecrets is returned when the secrets file does not match the one
// the database was created with.
var ErrWrongSecrets = errors.New("the secrets file does not match this database")

// fingerprint identifies a set of keys without revealing them.
func fingerprint(s *secrets.Secrets) string {
	h := sha256.New()
	h.Write([]byte("gatehouse key fingerprint v1\x00"))
	for _, k := range [][]byte{s.HMACKey, s.EncryptionKey, s.Pepper} {
		h.Write([]byte{byte(len(k))})
		h.Write(k)
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// checkSecrets records the keys' fingerprint on first start and refuses
// other keys afterwards: every node must share one secrets file.
func checkSecrets(ctx context.Context, db Store, s *secrets.Secrets, path string) error {
	fp := fingerprint(s)
	got, err := db.Installation(ctx, "key_fingerprint", fp)
	if err != nil {
		return err
	}
	if got != fp {
		return fmt.Errorf("%w: %s has key fingerprint %s but the database was created with %s; give every node the same secrets file (see README, \"Several nodes\")", ErrWrongSecrets, path, fp, got)
	}
	return nil
}
