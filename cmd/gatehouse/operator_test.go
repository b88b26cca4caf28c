package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/app"
	"gatehouse/internal/config"
	"gatehouse/internal/random"
	"gatehouse/internal/totp"
)

// TestCLI_OperatorNeedsAStrongSecondStepAndIsAudited (issue 22's
// contract; NIST SP 800-63B-4 restricts SMS): operator add refuses an
// account without two-step verification and one with only SMS (exit 1,
// saying what is missing), accepts one with an authenticator app (exit
// 0); list shows the role; remove takes it away; every change is an
// audit line, printed by audit --json as one object per line with
// operator, action, account, reason and at.
func TestCLI_OperatorNeedsAStrongSecondStepAndIsAudited(t *testing.T) {
	data := t.TempDir()
	t.Setenv("GATEHOUSE_ARGON2_MEMORY_KIB", "8192")
	t.Setenv("GATEHOUSE_ARGON2_ITERATIONS", "1")
	for _, email := range []string{"support@example.com", "texts@example.com"} {
		if code, out, errs := runCLI(t, "operator chosen phrase\n", "user", "create", "--data", data, "--email", email, "--password-stdin"); code != 0 {
			t.Fatalf("user create %s: %d %q %q", email, code, out, errs)
		}
	}
	// texts@ has a confirmed phone only; support@ gets an app later.
	withApp := func(fn func(a *app.App)) {
		t.Helper()
		cfg, err := config.Load("", func(string) string { return "" }, map[string]string{"data": data})
		if err != nil {
			t.Fatal(err)
		}
		a, err := app.New(context.Background(), cfg, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		fn(a)
	}
	ctx := context.Background()
	withApp(func(a *app.App) {
		acct, err := a.DB.AccountByEmail(ctx, "texts@example.com")
		if err != nil {
			t.Fatal(err)
		}
		if err := a.DB.SetPhone(ctx, acct.ID, "+819012345678", time.Now()); err != nil {
			t.Fatal(err)
		}
	})

	for _, email := range []string{"support@example.com", "texts@example.com"} {
		code, out, errs := runCLI(t, "", "operator", "add", "--data", data, "--email", email, "--role", "support")
		if code != 1 || !strings.Contains(errs, "passkey or an authenticator app") || out != "" {
			t.Fatalf("operator add %s without a strong second step: %d %q %q", email, code, out, errs)
		}
	}
	if code, _, errs := runCLI(t, "", "operator", "add", "--data", data, "--email", "nobody@example.com", "--role", "admin"); code != 1 || !strings.Contains(errs, "no account") {
		t.Fatalf("operator add of no account: %d %q", code, errs)
	}
	if code, _, errs := runCLI(t, "", "operator", "add", "--data", data, "--email", "support@example.com", "--role", "root"); code != 2 || !strings.Contains(errs, "support or admin") {
		t.Fatalf("operator add with an unknown role: %d %q", code, errs)
	}

	withApp(func(a *app.App) {
		acct, err := a.DB.AccountByEmail(ctx, "support@example.com")
		if err != nil {
			t.Fatal(err)
		}
		id := random.ID()
		if err := a.DB.CreateApp(ctx, &totp.App{ID: id, AccountID: acct.ID, Secret: []byte("sealed"), CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		if err := a.DB.ConfirmApp(ctx, id, "Phone", time.Now()); err != nil {
			t.Fatal(err)
		}
	})
	if code, out, errs := runCLI(t, "", "operator", "add", "--data", data, "--email", "Support@Example.com", "--role", "support"); code != 0 || !strings.Contains(out, "support@example.com is now a support operator") {
		t.Fatalf("operator add with an app: %d %q %q", code, out, errs)
	}
	if code, out, _ := runCLI(t, "", "operator", "list", "--data", data); code != 0 || !strings.Contains(out, "support@example.com") || !strings.Contains(out, "support") {
		t.Fatalf("operator list: %d %q", code, out)
	}
	if code, out, errs := runCLI(t, "", "operator", "remove", "--data", data, "--email", "support@example.com"); code != 0 || !strings.Contains(out, "no longer") {
		t.Fatalf("operator remove: %d %q %q", code, out, errs)
	}
	if code, _, errs := runCLI(t, "", "operator", "remove", "--data", data, "--email", "support@example.com"); code != 1 || !strings.Contains(errs, "not an operator") {
		t.Fatalf("operator remove again: %d %q", code, errs)
	}

	code, out, errs := runCLI(t, "", "audit", "--data", data, "--json")
	if code != 0 {
		t.Fatalf("audit --json: %d %q", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("audit --json: %d lines, want 2 (added, removed):\n%s", len(lines), out)
	}
	var actions []string
	for _, l := range lines {
		var e map[string]any
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("not one JSON object per line: %q: %v", l, err)
		}
		for _, k := range []string{"operator", "action", "account", "reason", "at"} {
			if _, ok := e[k]; !ok {
				t.Fatalf("audit line without %q: %s", k, l)
			}
		}
		if _, err := time.Parse(time.RFC3339, e["at"].(string)); err != nil || e["account"] == "" || e["operator"] != "(command line)" {
			t.Fatalf("audit line: %s", l)
		}
		actions = append(actions, e["action"].(string))
	}
	if strings.Join(actions, " ") != "role_removed role_added" {
		t.Fatalf("actions, newest first: %v", actions)
	}
	if code, out, _ := runCLI(t, "", "audit", "--data", data, "--email", "texts@example.com"); code != 0 || strings.Contains(out, "role_") {
		t.Fatalf("audit of an account nothing was done to: %d %q", code, out)
	}
	if code, _, errs := runCLI(t, "", "audit", "--data", data, "--since", "yesterday"); code != 2 || !strings.Contains(errs, "RFC 3339") {
		t.Fatalf("audit --since yesterday: %d %q", code, errs)
	}
}
