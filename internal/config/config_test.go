package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoad_DefaultsFileEnvFlagsInOrder(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "gatehouse.yaml")
	os.WriteFile(file, []byte("listen: 127.0.0.1:9000\nsmtp:\n  host: mail.example\n  port: 465\nservice_name: Shop\n"), 0o600)
	c, err := Load(file, env(map[string]string{"GATEHOUSE_SMTP_PORT": "2525", "GATEHOUSE_SERVICE_NAME": "Env Shop"}), map[string]string{"service_name": "Flag Shop"})
	if err != nil {
		t.Fatal(err)
	}
	if c.String("listen") != "127.0.0.1:9000" || c.String("smtp.host") != "mail.example" {
		t.Fatal("file values not applied")
	}
	if c.Int("smtp.port") != 2525 {
		t.Fatal("environment must override the file")
	}
	if c.String("service_name") != "Flag Shop" {
		t.Fatal("flags must override the environment")
	}
	if c.String("data") != "./gatehouse-data" || c.DatabasePath() != "gatehouse-data/gatehouse.db" {
		t.Fatalf("defaults: %s %s", c.String("data"), c.DatabasePath())
	}
}

func TestLoad_RejectsBadValuesWithClearErrors(t *testing.T) {
	for _, tc := range []struct {
		flags map[string]string
		want  string
	}{
		{map[string]string{"password.min_length": "6"}, "outside 8..64"},
		{map[string]string{"session.idle_timeout": "soon"}, "not a positive duration"},
		{map[string]string{"mail.driver": "smtp"}, "smtp.host: required"},
		{map[string]string{"mail.driver": "pigeon"}, "neither dev nor smtp"},
		{map[string]string{"listen": "8080"}, "not host:port"},
		{map[string]string{"public_url": "ftp://x"}, "not an http(s) URL"},
		{map[string]string{"no.such.key": "1"}, "unknown key"},
	} {
		_, err := Load("", env(nil), tc.flags)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err %v, want %q", tc.flags, err, tc.want)
		}
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "c.yaml")
	os.WriteFile(file, []byte("smpt:\n  host: typo\n"), 0o600)
	if _, err := Load(file, env(nil), nil); err == nil || !strings.Contains(err.Error(), `unknown key "smpt.host"`) {
		t.Errorf("typo in file: %v", err)
	}
}

func TestCheckTransport_PlainHTTPOnlyOnLoopback(t *testing.T) {
	for _, tc := range []struct {
		flags map[string]string
		ok    bool
	}{
		{map[string]string{}, true},
		{map[string]string{"listen": "[::1]:8080"}, true},
		{map[string]string{"listen": "localhost:8080"}, true},
		{map[string]string{"listen": "0.0.0.0:8080"}, false},
		{map[string]string{"listen": "0.0.0.0:8080", "public_url": "https://id.example.com"}, true},
	} {
		c, err := Load("", env(nil), tc.flags)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.CheckTransport(); (err == nil) != tc.ok {
			t.Errorf("%v: %v", tc.flags, err)
		}
	}
}

// TestREADMEDocumentsEveryOption keeps the README's configuration reference
// in step with Options: each key, its environment variable and its default.
func TestREADMEDocumentsEveryOption(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var table strings.Builder
	missing := 0
	for _, o := range Options {
		def := "`" + o.Default + "`"
		if o.Default == "" {
			def = "(empty)"
		}
		row := "| `" + o.Key + "` | `" + o.Env() + "` | " + def + " | " + o.Help + " |"
		table.WriteString(row + "\n")
		if !strings.Contains(string(b), row) {
			missing++
		}
	}
	if missing > 0 {
		t.Fatalf("README.md lacks %d configuration rows; the table should read:\n\n| key | environment | default | meaning |\n|---|---|---|---|\n%s", missing, table.String())
	}
}
