// Package config reads Gatehouse's configuration: built-in defaults, then an
// optional YAML file, then GATEHOUSE_* environment variables, then
// command-line flags, each overriding the one before.
//
// Options is the one table of every key; the README's configuration
// reference is checked against it by a test, so the two cannot drift apart.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Option describes one configuration key.
type Option struct {
	Key     string // dotted YAML path, e.g. "smtp.host"
	Default string
	Help    string
}

// Env returns the option's environment variable, e.g. GATEHOUSE_SMTP_HOST.
func (o Option) Env() string {
	return "GATEHOUSE_" + strings.ToUpper(strings.NewReplacer(".", "_", "-", "_").Replace(o.Key))
}

// Options lists every configuration key with its default.
var Options = []Option{
	{"listen", "127.0.0.1:8080", "Address to listen on. Plain HTTP is allowed only on a loopback address unless public_url is https (TLS terminated by a proxy) or tls.cert is set."},
	{"data", "./gatehouse-data", "Data directory: the SQLite database and the generated secrets file live here."},
	{"database", "", "Database. Empty means SQLite at DATA/gatehouse.db; `sqlite:PATH` picks another file; `postgres://USER:PASSWORD@HOST:PORT/DB` uses PostgreSQL."},
	{"database_pool_size", "20", "Most connections one node opens to PostgreSQL."},
	{"public_url", "", "The URL holders use to reach Gatehouse, used in messages. Empty means http://LISTEN."},
	{"trusted_proxies", "", "Comma-separated addresses or CIDRs of reverse proxies / load balancers whose X-Forwarded-For is believed (e.g. 10.0.0.0/8). Empty: the TCP peer is the client."},
	{"secrets_file", "", "Secrets file (cookie/HMAC key, encryption key, pepper). Empty means DATA/secrets.json, generated with mode 0600 on first start."},
	{"service_name", "Gatehouse", "Name of the service shown in pages and messages; also refused as part of a password."},
	{"log.format", "text", "Log format: text or json."},
	{"log.level", "info", "Log level: debug, info, warn or error."},
	{"tls.cert", "", "TLS certificate file (PEM). With tls.key, Gatehouse serves HTTPS itself and sends HSTS."},
	{"tls.key", "", "TLS private key file (PEM)."},
	{"password.min_length", "12", "Shortest password accepted, in characters (8 to 64)."},
	{"password.pepper", "true", "Mix the secrets file's pepper into every password hash (HMAC before argon2id)."},
	{"password.history", "5", "Number of recent passwords (counting the current one) that a new password may not repeat."},
	{"argon2.memory_kib", "19456", "argon2id memory per hash in KiB (19 MiB)."},
	{"argon2.iterations", "2", "argon2id passes."},
	{"argon2.parallelism", "1", "argon2id lanes."},
	{"argon2.workers", "0", "Hashes computed at once; 0 means one per CPU."},
	{"argon2.queue", "0", "Hashes allowed to wait for a worker before requests get 503; 0 means 4 per worker."},
	{"session.idle_timeout", "1h", "A session ends after this long without use."},
	{"session.absolute_timeout", "24h", "A session ends this long after sign-in, used or not."},
	{"session.remember_timeout", "720h", "Lifetime of a \"keep me signed in\" session (30 days)."},
	{"session.cache_ttl", "30s", "With PostgreSQL: how long a node may answer a session check from memory. Revocations reach every node at once through LISTEN/NOTIFY; this only bounds a lost notification. 0s turns the cache off. (SQLite needs no cache.)"},
	{"code.ttl", "10m", "How long an emailed code is valid."},
	{"code.cooldown", "60s", "Minimum time between two codes for the same request."},
	{"code.max_failures", "5", "Wrong codes allowed before the request is locked."},
	{"phone.default_region", "JP", "Region for phone numbers typed without a country code (ISO 3166 code)."},
	{"mail.driver", "dev", "Delivery driver: dev (nothing leaves the machine; see /dev/messages) or smtp."},
	{"mail.from", "Gatehouse <no-reply@localhost>", "Sender of every email."},
	{"mail.max_attempts", "8", "Delivery attempts before a message is marked failed."},
	{"mail.lease", "2m", "How long a node's claim on a message lasts: a message whose node died is retried by another node (or after a restart) once it ends."},
	{"smtp.host", "", "SMTP submission server host."},
	{"smtp.port", "587", "SMTP port: 587 for STARTTLS, 465 for implicit TLS."},
	{"smtp.username", "", "SMTP user name (empty: no authentication)."},
	{"smtp.password", "", "SMTP password."},
	{"smtp.tls", "starttls", "starttls, tls (implicit) or none (only for a relay on this machine)."},
	{"smtp.ca_file", "", "PEM file of CA certificates to trust for the SMTP server (empty: the system's)."},
	{"shutdown_timeout", "15s", "How long a stop waits for in-flight requests and the message in hand."},
}

// Config is the resolved configuration.
type Config struct {
	values map[string]string
	File   string // the YAML file read, if any
}

// Load resolves configuration from file (may be ""), the environment and
// flag overrides (key → value, already parsed by the caller).
func Load(file string, env func(string) string, flags map[string]string) (*Config, error) {
	known := map[string]bool{}
	c := &Config{values: map[string]string{}, File: file}
	for _, o := range Options {
		known[o.Key] = true
		c.values[o.Key] = o.Default
	}
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		var tree map[string]any
		if err := yaml.Unmarshal(b, &tree); err != nil {
			return nil, fmt.Errorf("config: %s: %w", file, err)
		}
		flat := map[string]string{}
		flatten("", tree, flat)
		for k, v := range flat {
			if !known[k] {
				return nil, fmt.Errorf("config: %s: unknown key %q", file, k)
			}
			c.values[k] = v
		}
	}
	for _, o := range Options {
		if v := env(o.Env()); v != "" {
			c.values[o.Key] = v
		}
	}
	for k, v := range flags {
		if !known[k] {
			return nil, fmt.Errorf("config: unknown key %q", k)
		}
		c.values[k] = v
	}
	return c, c.validate()
}

func flatten(prefix string, v any, out map[string]string) {
	switch t := v.(type) {
	case map[string]any:
		for k, vv := range t {
			key := k
			if prefix != "" {
				key = prefix + "." + k
			}
			flatten(key, vv, out)
		}
	case nil:
		out[prefix] = ""
	default:
		out[prefix] = fmt.Sprint(t)
	}
}

// Set overrides one key after loading; serve uses it to record the real
// address when listening on port 0.
func (c *Config) Set(key, value string) { c.values[key] = value }

// String returns the value of key.
func (c *Config) String(key string) string { return c.values[key] }

// Int returns key as an integer (validated by Load).
func (c *Config) Int(key string) int { n, _ := strconv.Atoi(c.values[key]); return n }

// Bool returns key as a boolean.
func (c *Config) Bool(key string) bool { b, _ := strconv.ParseBool(c.values[key]); return b }

// Duration returns key as a duration (validated by Load).
func (c *Config) Duration(key string) time.Duration {
	d, _ := time.ParseDuration(c.values[key])
	return d
}

var (
	intKeys      = []string{"database_pool_size", "password.min_length", "password.history", "argon2.memory_kib", "argon2.iterations", "argon2.parallelism", "argon2.workers", "argon2.queue", "code.max_failures", "smtp.port", "mail.max_attempts"}
	durationKeys = []string{"mail.lease", "session.idle_timeout", "session.absolute_timeout", "session.remember_timeout", "code.ttl", "code.cooldown", "shutdown_timeout"}
)

func (c *Config) validate() error {
	var errs []error
	for _, k := range intKeys {
		if _, err := strconv.Atoi(c.values[k]); err != nil {
			errs = append(errs, fmt.Errorf("%s: %q is not a whole number", k, c.values[k]))
		}
	}
	for _, k := range durationKeys {
		if d, err := time.ParseDuration(c.values[k]); err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("%s: %q is not a positive duration like 30s, 10m or 24h", k, c.values[k]))
		}
	}
	if d, err := time.ParseDuration(c.values["session.cache_ttl"]); err != nil || d < 0 {
		errs = append(errs, fmt.Errorf("session.cache_ttl: %q is not a duration like 30s (0s: no cache)", c.values["session.cache_ttl"]))
	}
	if _, err := strconv.ParseBool(c.values["password.pepper"]); err != nil {
		errs = append(errs, fmt.Errorf("password.pepper: %q is not true or false", c.values["password.pepper"]))
	}
	if n := c.Int("password.min_length"); n < 8 || n > 64 {
		errs = append(errs, fmt.Errorf("password.min_length: %d is outside 8..64", n))
	}
	if n := c.Int("password.history"); n < 1 || n > 24 {
		errs = append(errs, fmt.Errorf("password.history: %d is outside 1..24", n))
	}
	if c.Int("argon2.memory_kib") < 8*1024 || c.Int("argon2.iterations") < 1 || c.Int("argon2.parallelism") < 1 || c.Int("argon2.parallelism") > 255 {
		errs = append(errs, errors.New("argon2: memory_kib must be at least 8192, iterations and parallelism at least 1"))
	}
	switch c.values["mail.driver"] {
	case "dev":
	case "smtp":
		if c.values["smtp.host"] == "" {
			errs = append(errs, errors.New("smtp.host: required when mail.driver is smtp"))
		}
	default:
		errs = append(errs, fmt.Errorf("mail.driver: %q is neither dev nor smtp", c.values["mail.driver"]))
	}
	switch c.values["smtp.tls"] {
	case "starttls", "tls", "none":
	default:
		errs = append(errs, fmt.Errorf("smtp.tls: %q is not starttls, tls or none", c.values["smtp.tls"]))
	}
	switch c.values["log.format"] {
	case "text", "json":
	default:
		errs = append(errs, fmt.Errorf("log.format: %q is neither text nor json", c.values["log.format"]))
	}
	if _, _, err := net.SplitHostPort(c.values["listen"]); err != nil {
		errs = append(errs, fmt.Errorf("listen: %q is not host:port", c.values["listen"]))
	}
	if u := c.values["public_url"]; u != "" {
		if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			errs = append(errs, fmt.Errorf("public_url: %q is not an http(s) URL", u))
		}
	}
	if _, err := c.TrustedProxies(); err != nil {
		errs = append(errs, err)
	}
	if (c.values["tls.cert"] == "") != (c.values["tls.key"] == "") {
		errs = append(errs, errors.New("tls.cert and tls.key must be set together"))
	}
	return errors.Join(errs...)
}

// TrustedProxies parses trusted_proxies.
func (c *Config) TrustedProxies() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(c.values["trusted_proxies"], ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("trusted_proxies: %q is neither an address nor a CIDR", f)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// DatabasePath returns the SQLite file to use.
func (c *Config) DatabasePath() string {
	if db := c.values["database"]; db != "" {
		return strings.TrimPrefix(db, "sqlite:")
	}
	return filepath.Join(c.values["data"], "gatehouse.db")
}

// SecretsPath returns the secrets file to use.
func (c *Config) SecretsPath() string {
	if p := c.values["secrets_file"]; p != "" {
		return p
	}
	return filepath.Join(c.values["data"], "secrets.json")
}

// TLS reports whether Gatehouse terminates TLS itself.
func (c *Config) TLS() bool { return c.values["tls.cert"] != "" }

// PublicURL returns the configured public URL, or one derived from listen.
func (c *Config) PublicURL() string {
	if u := c.values["public_url"]; u != "" {
		return strings.TrimRight(u, "/")
	}
	scheme := "http"
	if c.TLS() {
		scheme = "https"
	}
	return scheme + "://" + c.values["listen"]
}

// Loopback reports whether the listen address is a loopback address.
func (c *Config) Loopback() bool {
	host, _, _ := net.SplitHostPort(c.values["listen"])
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// CheckTransport refuses to serve session cookies over plain HTTP to the
// network: cookies are Secure, and browsers accept Secure cookies over plain
// HTTP only from loopback addresses.
func (c *Config) CheckTransport() error {
	if c.TLS() || c.Loopback() || strings.HasPrefix(c.values["public_url"], "https://") {
		return nil
	}
	return fmt.Errorf("listen: %s is not a loopback address; set tls.cert/tls.key, or public_url to the https:// URL of the TLS proxy in front of gatehouse", c.values["listen"])
}
