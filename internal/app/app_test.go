package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/app"
	"gatehouse/internal/config"
	"gatehouse/internal/pgtest"
	"gatehouse/internal/random"
	"gatehouse/internal/request"
	"gatehouse/internal/signin"
)

func load(t *testing.T, flags map[string]string) *config.Config {
	t.Helper()
	all := map[string]string{"argon2.memory_kib": "8192", "argon2.iterations": "1"}
	for k, v := range flags {
		all[k] = v
	}
	cfg, err := config.Load("", func(string) string { return "" }, all)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func start(t *testing.T, cfg *config.Config) (*app.App, error) {
	t.Helper()
	a, err := app.New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err == nil {
		t.Cleanup(func() { a.Close() })
	}
	return a, err
}

// TestNew_CreatesTheDataDirectoryWhenTheSecretsFileIsElsewhere is the
// regression for "unable to open database file (14)" with
// GATEHOUSE_SECRETS_FILE set, and with sqlite:PATH in missing directories.
func TestNew_CreatesTheDataDirectoryWhenTheSecretsFileIsElsewhere(t *testing.T) {
	root := t.TempDir()
	data := filepath.Join(root, "var", "gatehouse")
	secrets := filepath.Join(root, "etc", "gatehouse", "secrets.json")
	a, err := start(t, load(t, map[string]string{"data": data, "secrets_file": secrets}))
	if err != nil {
		t.Fatal(err)
	}
	if !a.SecretsCreated {
		t.Fatal("a new installation must generate its secrets")
	}
	for _, p := range []string{data, filepath.Dir(secrets)} {
		if st, err := os.Stat(p); err != nil || st.Mode().Perm() != 0o700 {
			t.Fatalf("%s: %v %v", p, st, err)
		}
	}
	if st, err := os.Stat(filepath.Join(data, "gatehouse.db")); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("database: %v %v", st, err)
	}
	other := filepath.Join(root, "sub", "dir", "x.db")
	if _, err := start(t, load(t, map[string]string{"data": filepath.Join(root, "d2"), "database": "sqlite:" + other})); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Fatal(err)
	}
}

// TestNew_MissingSecretsBesideExistingSQLiteDatabaseGeneratesNothing is
// the regression for a deleted secrets.json being silently regenerated
// and then refused with a message about "several nodes".
func TestNew_MissingSecretsBesideExistingSQLiteDatabaseGeneratesNothing(t *testing.T) {
	data := t.TempDir()
	cfg := load(t, map[string]string{"data": data})
	a, err := start(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	os.Remove(cfg.SecretsPath())
	checkMissingSecretsRefused(t, cfg)
}

// TestNew_MissingSecretsBesideExistingPostgresDatabaseGeneratesNothing: the
// same for a node starting on a PostgreSQL database that another node (or
// an earlier start) created.
func TestNew_MissingSecretsBesideExistingPostgresDatabaseGeneratesNothing(t *testing.T) {
	url := pgtest.NewDatabase(t)
	first := load(t, map[string]string{"database": url, "data": t.TempDir()})
	a, err := start(t, first)
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	// A second node whose secrets file was never copied to it.
	checkMissingSecretsRefused(t, load(t, map[string]string{"database": url, "data": t.TempDir()}))
}

func checkMissingSecretsRefused(t *testing.T, cfg *config.Config) {
	t.Helper()
	_, err := start(t, cfg)
	if !errors.Is(err, app.ErrSecretsMissing) {
		t.Fatalf("err %v, want ErrSecretsMissing", err)
	}
	for _, want := range []string{"is missing", cfg.SecretsPath(), "Restore the secrets file from your backup", "Where data lives, and backups", "Nothing was generated"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "several nodes") {
		t.Errorf("message %q talks about several nodes", err)
	}
	if _, err := os.Stat(cfg.SecretsPath()); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a secrets file was generated: %v", err)
	}
}

// TestNew_MigratedButUnusedDatabaseStillGetsSecrets: `gatehouse migrate`
// before the first `serve` leaves tables but no installation; that is
// still a fresh installation.
func TestNew_MigratedButUnusedDatabaseStillGetsSecrets(t *testing.T) {
	cfg := load(t, map[string]string{"data": t.TempDir()})
	db, err := app.OpenStore(context.Background(), cfg, true)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	a, err := start(t, cfg)
	if err != nil || !a.SecretsCreated {
		t.Fatalf("%v", err)
	}
}

// TestNew_RefusesEmptyOrShortPepper: a pepper shorter than 32 bytes in the
// secrets file stops the start instead of being used.
func TestNew_RefusesEmptyOrShortPepper(t *testing.T) {
	for _, pepper := range [][]byte{nil, []byte("short pepper")} {
		dir := t.TempDir()
		path := filepath.Join(dir, "secrets.json")
		key := make([]byte, 32)
		b, _ := json.Marshal(map[string][]byte{"hmac_key": key, "encryption_key": key, "pepper": pepper})
		os.WriteFile(path, b, 0o600)
		_, err := start(t, load(t, map[string]string{"data": dir}))
		if err == nil || !strings.Contains(err.Error(), "pepper is") || !strings.Contains(err.Error(), "at least 32") {
			t.Errorf("pepper %q: %v", pepper, err)
		}
	}
}

// TestNew_OtherSecretsPointToTheBackup: a secrets file that is not the
// installation's is refused, and the message says where to get the right one.
func TestNew_OtherSecretsPointToTheBackup(t *testing.T) {
	cfg := load(t, map[string]string{"data": t.TempDir()})
	a, err := start(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	os.Remove(cfg.SecretsPath())
	other := load(t, map[string]string{"data": filepath.Dir(cfg.SecretsPath()), "secrets_file": filepath.Join(t.TempDir(), "new.json")})
	if _, err := start(t, other); !errors.Is(err, app.ErrSecretsMissing) {
		t.Fatalf("a secrets file elsewhere, still missing: %v", err)
	}
	// Hand-made keys: refused as not the installation's.
	key := make([]byte, 32)
	b, _ := json.Marshal(map[string][]byte{"hmac_key": key, "encryption_key": key, "pepper": key})
	os.WriteFile(cfg.SecretsPath(), b, 0o600)
	_, err = start(t, cfg)
	if !errors.Is(err, app.ErrWrongSecrets) || !strings.Contains(err.Error(), "from your backup") {
		t.Fatalf("other secrets: %v", err)
	}
}

// TestStart_PrunesInTheBackgroundAndCloseStopsIt wires retention into the
// server: Start prunes shortly after, Close stops the pruner.
func TestStart_PrunesInTheBackgroundAndCloseStopsIt(t *testing.T) {
	a, err := start(t, load(t, map[string]string{"data": t.TempDir(), "retention.history": "30d"}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	old := &signin.Attempt{ID: random.ID(), Identifier: "a@example.com", AccountID: "acc",
		Origin:  request.Origin{DeviceID: "d", IP: "192.0.2.1", UserAgent: "UA", Time: time.Now().Add(-31 * 24 * time.Hour)},
		Outcome: signin.WrongPassword}
	recent := *old
	recent.ID, recent.Origin.Time = random.ID(), time.Now().Add(-29*24*time.Hour)
	for _, at := range []*signin.Attempt{old, &recent} {
		if err := a.DB.RecordAttempt(ctx, at); err != nil {
			t.Fatal(err)
		}
	}
	if a.Pruner.History != 30*24*time.Hour {
		t.Fatalf("history %v", a.Pruner.History)
	}
	a.Pruner.First = time.Millisecond
	a.Start()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := a.DB.AttemptsByAccount(ctx, "acc", 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 1 && got[0].ID == recent.ID {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not pruned: %d attempts left", len(got))
		}
		time.Sleep(10 * time.Millisecond)
	}
	done := make(chan error, 1)
	go func() { done <- a.Close() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not stop the pruner")
	}
}
