package main

import (
	"bytes"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

func runCLI(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	if stdin != "" {
		f := filepath.Join(t.TempDir(), "stdin")
		os.WriteFile(f, []byte(stdin), 0o600)
		in, _ := os.Open(f)
		old := os.Stdin
		os.Stdin = in
		defer func() { os.Stdin = old; in.Close() }()
	}
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestCLI_UserCreateListDisableDelete(t *testing.T) {
	data := t.TempDir()
	t.Setenv("GATEHOUSE_ARGON2_MEMORY_KIB", "8192")
	t.Setenv("GATEHOUSE_ARGON2_ITERATIONS", "1")
	code, out, errs := runCLI(t, "operator chosen phrase\n", "user", "create", "--data", data, "--email", "Ops@Example.COM", "--password-stdin")
	if code != 0 || !strings.Contains(out, "created Ops@example.com") {
		t.Fatalf("create: %d %q %q", code, out, errs)
	}
	if code, _, errs := runCLI(t, "password1234\n", "user", "create", "--data", data, "--email", "weak@example.com", "--password-stdin"); code != 1 || !strings.Contains(errs, "common or breached") {
		t.Fatalf("weak password: %d %q", code, errs)
	}
	code, out, _ = runCLI(t, "", "user", "list", "--data", data)
	if code != 0 || !strings.Contains(out, "Ops@example.com") || !strings.Contains(out, "active") {
		t.Fatalf("list: %d %q", code, out)
	}
	code, out, _ = runCLI(t, "", "user", "disable", "--data", data, "--email", "ops@example.com")
	if code != 0 || !strings.Contains(out, "disabled") {
		t.Fatalf("disable: %d %q", code, out)
	}
	if _, out, _ = runCLI(t, "", "user", "list", "--data", data); !strings.Contains(out, "disabled") {
		t.Fatalf("list after disable: %q", out)
	}
	if info, err := os.Stat(filepath.Join(data, "secrets.json")); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("secrets file: %v %v", err, info.Mode())
	}
	code, out, errs = runCLI(t, "", "user", "delete", "--data", data, "--email", "OPS@example.com")
	if code != 0 || !strings.Contains(out, "deleted Ops@example.com") {
		t.Fatalf("delete: %d %q %q", code, out, errs)
	}
	if _, out, _ = runCLI(t, "", "user", "list", "--data", data); strings.Contains(out, "Ops@example.com") {
		t.Fatalf("list after delete: %q", out)
	}
	if code, _, errs := runCLI(t, "", "user", "delete", "--data", data, "--email", "ops@example.com"); code != 1 || !strings.Contains(errs, "not found") {
		t.Fatalf("delete again: %d %q", code, errs)
	}
}

func TestCLI_MigrateAndRefuseNewerSchema(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	code, out, errs := runCLI(t, "", "migrate", "--data", data)
	if code != 0 || !strings.Contains(out, "schema version 0 → ") || strings.HasSuffix(strings.TrimSpace(out), "→ 0") {
		t.Fatalf("migrate: %d %q %q", code, out, errs)
	}
	db, _ := sql.Open("sqlite", filepath.Join(data, "gatehouse.db"))
	db.Exec(`INSERT INTO schema_migrations (version, applied_at) VALUES (999, 0)`)
	db.Close()
	code, _, errs = runCLI(t, "", "migrate", "--data", data)
	if code != 1 || !strings.Contains(errs, "newer than this gatehouse") {
		t.Fatalf("newer schema: %d %q", code, errs)
	}
	code, _, errs = runCLI(t, "", "serve", "--data", data, "--listen", "127.0.0.1:0")
	if code != 1 || !strings.Contains(errs, "newer than this gatehouse") {
		t.Fatalf("serve on a newer schema: %d %q", code, errs)
	}
}

func TestCLI_ServeRefusesPlainHTTPOffLoopback(t *testing.T) {
	t.Parallel()
	code, _, errs := runCLI(t, "", "serve", "--data", t.TempDir(), "--listen", "0.0.0.0:0")
	if code != 2 || !strings.Contains(errs, "not a loopback address") {
		t.Fatalf("%d %q", code, errs)
	}
}

func TestCLI_VersionUsageAndBadConfig(t *testing.T) {
	if code, out, _ := runCLI(t, "", "version"); code != 0 || !strings.HasPrefix(out, "gatehouse ") {
		t.Fatalf("version: %d %q", code, out)
	}
	if code, _, errs := runCLI(t, "", "frobnicate"); code != 2 || !strings.Contains(errs, "unknown command") {
		t.Fatalf("unknown: %d %q", code, errs)
	}
	t.Setenv("GATEHOUSE_SESSION_IDLE_TIMEOUT", "forever")
	if code, _, errs := runCLI(t, "", "serve", "--data", t.TempDir()); code != 2 || !strings.Contains(errs, "session.idle_timeout") {
		t.Fatalf("bad config: %d %q", code, errs)
	}
}

// lockedBuffer is a bytes.Buffer that a running command may write while
// the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestCLI_CreatesDataDirectoryWithSecretsFileElsewhere is the regression
// for serve, migrate and user failing with "unable to open database file
// (14)" when GATEHOUSE_SECRETS_FILE is set or sqlite:PATH names missing
// directories.
func TestCLI_CreatesDataDirectoryWithSecretsFileElsewhere(t *testing.T) {
	t.Setenv("GATEHOUSE_ARGON2_MEMORY_KIB", "8192")
	t.Setenv("GATEHOUSE_ARGON2_ITERATIONS", "1")
	root := t.TempDir()
	t.Setenv("GATEHOUSE_SECRETS_FILE", filepath.Join(root, "etc", "secrets.json"))

	if code, _, errs := runCLI(t, "", "migrate", "--data", filepath.Join(root, "m", "data")); code != 0 {
		t.Fatalf("migrate: %d %q", code, errs)
	}
	if code, _, errs := runCLI(t, "", "migrate", "--database", "sqlite:"+filepath.Join(root, "sub", "dir", "x.db")); code != 0 {
		t.Fatalf("migrate sqlite:sub/dir/x.db: %d %q", code, errs)
	}
	if code, _, errs := runCLI(t, "", "user", "list", "--data", filepath.Join(root, "u", "data")); code != 0 {
		t.Fatalf("user list: %d %q", code, errs)
	}

	// serve runs until SIGTERM, which it catches.
	data := filepath.Join(root, "s", "data")
	var out, errs lockedBuffer
	done := make(chan int, 1)
	go func() { done <- run([]string{"serve", "--data", data, "--listen", "127.0.0.1:0"}, &out, &errs) }()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), "Gatehouse is running") {
		select {
		case code := <-done:
			t.Fatalf("serve exited %d: %s", code, errs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start: %s", errs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	syscall.Kill(os.Getpid(), syscall.SIGTERM)
	if code := <-done; code != 0 {
		t.Fatalf("serve: %d %s", code, errs.String())
	}
	for _, dir := range []string{data, filepath.Join(root, "sub", "dir"), filepath.Join(root, "etc")} {
		if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
			t.Errorf("%s: %v %v", dir, st, err)
		}
	}
	if st, err := os.Stat(filepath.Join(data, "gatehouse.db")); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("database: %v %v", st, err)
	}
}

// TestCLI_DeletedSecretsFileIsNotRegenerated: with the secrets file gone
// beside an existing database, commands stop and say how to restore it.
func TestCLI_DeletedSecretsFileIsNotRegenerated(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	if code, _, errs := runCLI(t, "", "user", "list", "--data", data); code != 0 {
		t.Fatalf("first start: %d %q", code, errs)
	}
	os.Remove(filepath.Join(data, "secrets.json"))
	code, _, errs := runCLI(t, "", "user", "list", "--data", data)
	if code != 1 || !strings.Contains(errs, "secrets file is missing") || !strings.Contains(errs, "backup") {
		t.Fatalf("%d %q", code, errs)
	}
	if _, err := os.Stat(filepath.Join(data, "secrets.json")); err == nil {
		t.Fatal("a new secrets file was generated")
	}
}

// verify-message answers from an installation's records and keys: pointed
// at a directory with none, it refuses (exit 3) in the reader's language —
// as JSON when asked — and creates nothing; empty input is refused the
// same way. (Found by the black-box probe: it made a new, empty
// installation and called genuine mail "not from us".)
func TestCLI_VerifyMessageRefusesWithoutAnInstallation(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "nothing-here")
	msg := filepath.Join(dir, "m.txt")
	os.WriteFile(msg, []byte("Gatehouse: your code is 123456. Ref GH-2345-6789-ABCD"), 0o600)
	code, out, errs := runCLI(t, "", "verify-message", "--lang", "ja", "--json", "--data", empty, msg)
	if code != 3 || !strings.Contains(errs, "Gatehouse のデータがありません") || !strings.Contains(out, `"code":"cli_no_installation"`) {
		t.Errorf("no installation: %d %q %q", code, out, errs)
	}
	if _, err := os.Stat(empty); !os.IsNotExist(err) {
		t.Errorf("it created %s: %v", empty, err)
	}
	// An installation: its database and its keys.
	data := filepath.Join(dir, "data")
	if code, _, errs := runCLI(t, "", "migrate", "--data", data); code != 0 {
		t.Fatalf("migrate: %d %q", code, errs)
	}
	if code, _, errs := runCLI(t, "", "dkim", "rotate", "--data", data); code != 0 {
		t.Fatalf("dkim rotate: %d %q", code, errs)
	}
	code, out, errs = runCLI(t, "", "verify-message", "--data", data, "--public-url", "https://id.example.com", msg)
	if code != 1 || !strings.Contains(out, "https://id.example.com") || strings.Contains(errs, "public_url") {
		t.Errorf("with the installation: %d %q %q", code, out, errs)
	}
	os.WriteFile(msg, []byte("%PDF-1.7\n\x00\xe2\xe3\xcf\xd3"), 0o600)
	if code, _, errs := runCLI(t, "", "verify-message", "--data", data, msg); code != 3 || !strings.Contains(errs, "not an email") {
		t.Errorf("a PDF: %d %q", code, errs)
	}
	os.WriteFile(msg, []byte("  \n"), 0o600)
	if code, _, errs := runCLI(t, "", "verify-message", "--lang", "ja", "--data", data, msg); code != 3 || !strings.Contains(errs, "メッセージを貼り付ける") {
		t.Errorf("empty: %d %q", code, errs)
	}
}
