package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"gatehouse/internal/app"
	"gatehouse/internal/config"
)

// TestCLI_APIKeyCreateListRevoke: create prints the key once (as JSON with
// --json), list never shows it, revoke stops it; mistakes are usage (2) or
// failures (1).
func TestCLI_APIKeyCreateListRevoke(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	code, out, errs := runCLI(t, "", "apikey", "create", "--data", data, "--name", "billing", "--scope", "accounts:read", "--scope", "sessions:write", "--json")
	if code != 0 {
		t.Fatalf("create: %d %q %q", code, out, errs)
	}
	var made struct {
		ID     string   `json:"id"`
		Key    string   `json:"key"`
		Scopes []string `json:"scopes"`
	}
	if err := json.Unmarshal([]byte(out), &made); err != nil || !strings.HasPrefix(made.Key, "gh_") || made.ID == "" ||
		strings.Join(made.Scopes, " ") != "accounts:read sessions:write" {
		t.Fatalf("create --json: %q %v", out, err)
	}
	code, out, _ = runCLI(t, "", "apikey", "create", "--data", data, "--name", "ops", "--scope", "accounts:write")
	if code != 0 || !strings.Contains(out, "gh_") || !strings.Contains(out, "shown once") {
		t.Fatalf("create: %d %q", code, out)
	}
	code, out, _ = runCLI(t, "", "apikey", "list", "--data", data)
	if code != 0 || !strings.Contains(out, made.ID) || !strings.Contains(out, "billing") || !strings.Contains(out, "accounts:read,sessions:write") || strings.Contains(out, "gh_") {
		t.Fatalf("list: %d %q", code, out)
	}

	check := func() error {
		cfg, err := config.Load("", func(string) string { return "" }, map[string]string{"data": data})
		if err != nil {
			t.Fatal(err)
		}
		a, err := app.New(context.Background(), cfg, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		_, err = a.APIKeys.Check(context.Background(), made.Key)
		return err
	}
	if err := check(); err != nil {
		t.Fatalf("the new key: %v", err)
	}
	if code, out, errs := runCLI(t, "", "apikey", "revoke", made.ID, "--data", data); code != 0 || !strings.Contains(out, "revoked") {
		t.Fatalf("revoke: %d %q %q", code, out, errs)
	}
	if err := check(); err == nil {
		t.Fatal("a revoked key still works")
	}
	if code, out, _ := runCLI(t, "", "apikey", "list", "--data", data); code != 0 || !strings.Contains(out, made.ID) {
		t.Fatalf("list after revoke: %d %q", code, out)
	}
	if code, _, errs := runCLI(t, "", "apikey", "revoke", "--data", data, "nosuchkey"); code != 1 || !strings.Contains(errs, "no API key") {
		t.Fatalf("revoke unknown: %d %q", code, errs)
	}
	// The scopes of the admin API's later routes, comma-separated too.
	code, out, errs = runCLI(t, "", "apikey", "create", "--data", data, "--name", "console", "--scope", "activity:read,devices:read", "--scope", "clients:read", "--scope", "clients:write", "--json")
	if code != 0 || !strings.Contains(out, `"scopes":["activity:read","devices:read","clients:read","clients:write"]`) {
		t.Fatalf("create with the newer scopes: %d %q %q", code, out, errs)
	}
	for _, args := range [][]string{
		{"apikey"},
		{"apikey", "create", "--data", data, "--name", "x"},
		{"apikey", "create", "--data", data, "--scope", "accounts:read"},
		{"apikey", "create", "--data", data, "--name", "x", "--scope", "accounts:delete"},
		{"apikey", "revoke", "--data", data},
		{"apikey", "rotate", "--data", data},
	} {
		if code, _, _ := runCLI(t, "", args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}
