package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLI_BackupRestore: the commands' usage errors exit 2; an account
// made with `user create` is in a backup restored into an empty data
// directory, and `user list` there shows it.
func TestCLI_BackupRestore(t *testing.T) {
	t.Setenv("GATEHOUSE_ARGON2_MEMORY_KIB", "8192")
	t.Setenv("GATEHOUSE_ARGON2_ITERATIONS", "1")
	if code, _, errs := runCLI(t, "", "backup", "--data", t.TempDir()); code != 2 || !strings.Contains(errs, "usage: gatehouse backup --to FILE --passphrase-file FILE") {
		t.Fatalf("backup without --to: %d %q", code, errs)
	}
	if code, _, errs := runCLI(t, "", "restore", "--to", "x"); code != 2 {
		t.Fatalf("restore with an unknown flag: %d %q", code, errs)
	}
	data, dir := t.TempDir(), t.TempDir()
	if code, _, errs := runCLI(t, "operator chosen phrase\n", "user", "create", "--data", data, "--email", "ops@example.com", "--password-stdin"); code != 0 {
		t.Fatalf("create: %d %q", code, errs)
	}
	pass, file := filepath.Join(dir, "pass"), filepath.Join(dir, "b.backup")
	os.WriteFile(pass, []byte("twelve characters or more\n"), 0o600)
	code, out, errs := runCLI(t, "", "backup", "--data", data, "--to", file, "--passphrase-file", pass)
	if code != 0 || !strings.Contains(out, "Backed up the database (schema version") || !strings.Contains(out, "the secrets file, the DKIM keys (3 files)") {
		t.Fatalf("backup: %d %q %q", code, out, errs)
	}
	restored := filepath.Join(dir, "restored")
	code, out, errs = runCLI(t, "", "restore", "--data", restored, "--from", file, "--passphrase-file", "-")
	if code != 1 || !strings.Contains(errs, "at least 12 characters, and the first line is empty") {
		t.Fatalf("restore with nothing on standard input: %d %q %q", code, out, errs)
	}
	code, out, errs = runCLI(t, "twelve characters or more\n", "restore", "--data", restored, "--from", file, "--passphrase-file", "-")
	if code != 0 || !strings.Contains(out, "Restored the backup made") {
		t.Fatalf("restore: %d %q %q", code, out, errs)
	}
	if _, out, _ := runCLI(t, "", "user", "list", "--data", restored); !strings.Contains(out, "ops@example.com") {
		t.Fatalf("user list of the restored installation: %q", out)
	}
}
