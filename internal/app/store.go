package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"

	"gatehouse/internal/account"
	"gatehouse/internal/activity"
	"gatehouse/internal/address"
	"gatehouse/internal/apikey"
	"gatehouse/internal/backup"
	"gatehouse/internal/check"
	"gatehouse/internal/code"
	"gatehouse/internal/config"
	"gatehouse/internal/delivery"
	"gatehouse/internal/device"
	"gatehouse/internal/limit"
	"gatehouse/internal/oidc"
	"gatehouse/internal/operator"
	"gatehouse/internal/outbox"
	"gatehouse/internal/passkey"
	"gatehouse/internal/phone"
	"gatehouse/internal/postgres"
	"gatehouse/internal/retention"
	"gatehouse/internal/secrets"
	"gatehouse/internal/session"
	"gatehouse/internal/signin"
	"gatehouse/internal/sqlite"
	"gatehouse/internal/totp"
	"gatehouse/internal/twostep"
	"gatehouse/internal/web"
)

// Store is one database implementing every capability's store. Only the
// wiring sees it whole; each capability is handed its own small interface.
type Store interface {
	account.Store
	account.Eraser
	code.Store
	session.Store
	device.Store
	signin.Store
	outbox.Store
	outbox.BacklogStore
	totp.Store
	backup.Store
	passkey.Store
	phone.Store
	address.Store
	retention.Store
	activity.Store
	code.Blocks
	outbox.RawStore
	check.ReportStore
	limit.Store
	apikey.Store
	operator.Store
	twostep.ResetStore
	// AccountsByPhoneEnding finds accounts by their number's last
	// digits, for the console's search (console.Accounts).
	AccountsByPhoneEnding(ctx context.Context, digits string, limit int) ([]*account.Account, error)
	oidc.KeyStore
	oidc.ClientStore
	oidc.FlowStore
	delivery.Store
	delivery.BacklogStore
	delivery.ListStore
	web.Proofs
	// InTx runs a flow in one transaction carried in the context.
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	Ping(ctx context.Context) error
	Close() error
	Version(ctx context.Context) (applied, known int, err error)
	Migrate(ctx context.Context) error
	Installation(ctx context.Context, key, value string) (string, error)
	// Installed reports whether the database already belongs to an
	// installation (it has a key fingerprint or an account).
	Installed(ctx context.Context) (bool, error)
}

var (
	_ Store = (*sqlite.DB)(nil)
	_ Store = (*postgres.DB)(nil)
)

// IsPostgres reports whether a database setting names PostgreSQL.
func IsPostgres(database string) bool { return config.IsPostgres(database) }

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

// ErrSecretsMissing is returned when the secrets file is missing but the
// database already belongs to an installation.
var ErrSecretsMissing = errors.New("the secrets file is missing")

// loadSecrets reads the secrets file. Only a new installation — a database
// with no key fingerprint and no account — gets a generated one: beside an
// existing database, new keys would make every peppered password
// unverifiable and end every session, and would then be refused as a
// mismatch anyway. The file must come back from the backup instead.
func loadSecrets(ctx context.Context, db Store, cfg *config.Config) (*secrets.Secrets, bool, error) {
	path := cfg.SecretsPath()
	sec, err := secrets.Load(path)
	if !errors.Is(err, secrets.ErrMissing) {
		return sec, false, err
	}
	installed, err := db.Installed(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("secrets: %s is missing, and the database could not be checked: %w", path, err)
	}
	if installed {
		return nil, false, fmt.Errorf("%w: %s does not exist, but the database %s already belongs to an installation, whose passwords and sessions need its secrets. "+
			"Nothing was generated. Restore the secrets file from your backup to %s (mode 0600), or point secrets_file (GATEHOUSE_SECRETS_FILE) at it; "+
			"see README, \"Where data lives, and backups\"", ErrSecretsMissing, path, DatabaseName(cfg), path)
	}
	sec, err = secrets.Create(path)
	return sec, err == nil, err
}

// DatabaseName names the configured database for messages and logs,
// without its password.
func DatabaseName(cfg *config.Config) string {
	db := cfg.String("database")
	if !IsPostgres(db) {
		return cfg.DatabasePath()
	}
	if u, err := url.Parse(db); err == nil {
		return u.Redacted()
	}
	return "postgres"
}

// CheckSecretsFile reads the secrets file at path and checks that it is
// the one db was created with (gatehouse backup asks this of its copy of
// the database, before packing the two together). A database that has
// recorded no fingerprint yet records this file's.
func CheckSecretsFile(ctx context.Context, db Store, path string) error {
	s, err := secrets.Load(path)
	if err != nil {
		return err
	}
	return checkSecrets(ctx, db, s, path)
}

// checkSecrets records the keys' fingerprint on first start and refuses
// other keys afterwards: the keys must be the installation's own, and every
// node must share them.
func checkSecrets(ctx context.Context, db Store, s *secrets.Secrets, path string) error {
	fp := fingerprint(s)
	got, err := db.Installation(ctx, "key_fingerprint", fp)
	if err != nil {
		return err
	}
	if got != fp {
		return fmt.Errorf("%w: %s has key fingerprint %s but the database was created with %s. "+
			"Restore this installation's secrets file from your backup (README, \"Where data lives, and backups\"); "+
			"with several nodes, give every node the same file (README, \"Running on PostgreSQL, and several nodes\")", ErrWrongSecrets, path, fp, got)
	}
	return nil
}
