package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// TestCLI_ClientAddListRemove is the contract: client add --json
// prints exactly {"client_id", "client_secret"}, and no secret for a
// public client; list never shows a secret.
func TestCLI_ClientAddListRemove(t *testing.T) {
	data := t.TempDir()
	code, out, errs := runCLI(t, "", "client", "add", "--data", data, "--name", "Example Shop",
		"--redirect-uri", "https://shop.example/cb", "--redirect-uri", "http://localhost:3000/cb", "--first-party", "--json")
	if code != 0 {
		t.Fatalf("add: %d %q %q", code, out, errs)
	}
	var conf map[string]any
	if err := json.Unmarshal([]byte(out), &conf); err != nil {
		t.Fatalf("add --json: %v %q", err, out)
	}
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range conf {
			if !yield(k) {
				return
			}
		}
	})
	if !slices.Equal(keys, []string{"client_id", "client_secret"}) || conf["client_id"] == "" || len(conf["client_secret"].(string)) < 43 {
		t.Fatalf("add --json printed %s", out)
	}
	secret := conf["client_secret"].(string)

	code, out, errs = runCLI(t, "", "client", "add", "--data", data, "--name", "Phone app", "--redirect-uri", "com.example.app:/cb", "--public", "--json")
	var pub map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &pub) != nil || len(pub) != 1 || pub["client_id"] == "" {
		t.Fatalf("add --public: %d %q %q", code, out, errs)
	}

	for _, bad := range [][]string{
		{"--name", "x", "--redirect-uri", "http://shop.example/cb"},
		{"--name", "x", "--redirect-uri", "https://shop.example/cb#f"},
		{"--name", "x", "--redirect-uri", "com.example.app:/cb"},
	} {
		if code, out, errs := runCLI(t, "", append([]string{"client", "add", "--data", data}, bad...)...); code != 1 || out != "" || !strings.Contains(errs, "redirect URI") {
			t.Errorf("add %v: %d %q %q", bad, code, out, errs)
		}
	}
	if code, _, _ := runCLI(t, "", "client", "add", "--data", data, "--name", "x"); code != 2 {
		t.Errorf("add without a redirect URI: %d", code)
	}

	for _, args := range [][]string{{"client", "list", "--data", data}, {"client", "list", "--data", data, "--json"}} {
		code, out, _ = runCLI(t, "", args...)
		if code != 0 || !strings.Contains(out, conf["client_id"].(string)) || !strings.Contains(out, "Phone app") || strings.Contains(out, secret) ||
			strings.Contains(out, "secret") {
			t.Fatalf("%v: %d %q", args, code, out)
		}
	}
	if code, out, errs = runCLI(t, "", "client", "remove", conf["client_id"].(string), "--data", data); code != 0 {
		t.Fatalf("remove: %d %q %q", code, out, errs)
	}
	if _, out, _ = runCLI(t, "", "client", "list", "--data", data); strings.Contains(out, conf["client_id"].(string)) {
		t.Fatalf("list after remove: %q", out)
	}
	if code, _, errs = runCLI(t, "", "client", "remove", "--data", data, conf["client_id"].(string)); code != 1 || !strings.Contains(errs, "no client") {
		t.Fatalf("remove twice: %d %q", code, errs)
	}
}

func TestCLI_KeysRotateSigningAndList(t *testing.T) {
	data := t.TempDir()
	var keys []struct{ KID, State string }
	list := func() {
		t.Helper()
		code, out, errs := runCLI(t, "", "keys", "list", "--data", data, "--json")
		keys = nil
		if code != 0 {
			t.Fatalf("list: %d %q %q", code, out, errs)
		}
		if err := json.Unmarshal([]byte(out), &keys); err != nil {
			t.Fatalf("list --json: %v %q", err, out)
		}
	}
	list()
	if len(keys) != 1 || keys[0].State != "current" {
		t.Fatalf("a new installation's keys: %+v", keys)
	}
	code, out, errs := runCLI(t, "", "keys", "rotate-signing", "--data", data, "--publish-ahead", "15m")
	if code != 0 || !strings.Contains(out, "published now") {
		t.Fatalf("rotate-signing: %d %q %q", code, out, errs)
	}
	list()
	if len(keys) != 2 || keys[0].State != "current" || keys[1].State != "next" || !strings.Contains(out, keys[1].KID) {
		t.Fatalf("after rotate-signing: %+v\n%s", keys, out)
	}
	code, out, _ = runCLI(t, "", "keys", "list", "--data", data)
	if code != 0 || !strings.Contains(out, "KID") || !strings.Contains(out, "next") || !strings.Contains(out, keys[0].KID) {
		t.Fatalf("list: %q", out)
	}
	if code, _, _ := runCLI(t, "", "keys", "rotate-signing", "--data", data, "--overlap", "-1h"); code != 2 {
		t.Fatalf("negative overlap: %d", code)
	}
	if code, _, _ := runCLI(t, "", "keys"); code != 2 {
		t.Fatalf("keys without a subcommand: %d", code)
	}
}
