package bench

import (
	"path/filepath"
	"testing"

	"gatehouse/internal/config"
)

// The throw-away installation takes the operator's settings that decide
// the figures, and nothing that would reach the operator's installation
// or the world.
func TestBenchConfig(t *testing.T) {
	op, err := config.Load("", func(string) string { return "" }, map[string]string{
		"argon2.memory_kib": "65536", "argon2.iterations": "3", "argon2.workers": "3",
		"session.cache_ttl": "5s", "limit.guess_free": "7", "database_pool_size": "9",
		// The operator's installation and its ways out:
		"data": "/var/lib/gatehouse", "database": "postgres://gh@db.example/prod",
		"secrets_file": "/etc/gatehouse/secrets.json", "dkim.dir": "/etc/gatehouse/dkim",
		"public_url": "https://id.example.com", "mail.driver": "smtp", "smtp.host": "mail.example.com",
		"webhooks.json_receivers": "https://hooks.example.com/gh|0123456789abcdef0123", "metrics.listen": "127.0.0.1:9100",
		"sms.driver": "http", "sms.http.url": "https://sms.example.com", "sms.http.secret": "s3cret-s3cret",
	})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg, err := benchConfig(op, dir, "", "127.0.0.1:4321")
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{
		"argon2.memory_kib": "65536", "argon2.iterations": "3", "argon2.workers": "3",
		"session.cache_ttl": "5s", "limit.guess_free": "7", "database_pool_size": "9",
		"database": "", "public_url": "", "mail.driver": "dev", "sms.driver": "dev",
		"webhooks.json_receivers": "", "metrics.listen": "", "secrets_file": "", "dkim.dir": "",
		"signin.new_device_check": "off",
	} {
		if got := cfg.String(key); got != want {
			t.Errorf("%s = %q, want %q", key, got, want)
		}
	}
	if cfg.SecretsPath() != filepath.Join(dir, "secrets.json") || cfg.DKIMDir() != filepath.Join(dir, "dkim") ||
		cfg.DatabasePath() != filepath.Join(dir, "gatehouse.db") || cfg.PublicURL() != "http://127.0.0.1:4321" {
		t.Errorf("files outside the throw-away directory: %s %s %s %s", cfg.SecretsPath(), cfg.DKIMDir(), cfg.DatabasePath(), cfg.PublicURL())
	}
}
