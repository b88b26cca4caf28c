package main

import (
	"bytes"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

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

func TestCLI_UserCreateListDisable(t *testing.T) {
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
}

func TestCLI_MigrateAndRefuseNewerSchema(t *testing.T) {
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
