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
	"net/mail"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // time zones work on machines without a zoneinfo database

	"github.com/nyaruka/phonenumbers"
	"gopkg.in/yaml.v3"
)

// Kind is the type of an option's value; Load checks every value against
// its option's kind and range, so that no setting is silently wrapped,
// clamped or ignored further on.
type Kind int

const (
	// Text is any string; a few keys check more in validate.
	Text Kind = iota
	// Int is a whole number from Min to Max.
	Int
	// Bool is true or false.
	Bool
	// Duration is a Go duration (30s, 10m, 24h) from Min to Max nanoseconds.
	Duration
	// Days is a whole number of days written with a d, like 400d, from Min
	// to Max days. Used where hours would be an awkward unit.
	Days
	// Choice is one of Choices, exactly as written.
	Choice
	// TimeZone is an IANA time zone name such as Asia/Tokyo or UTC.
	TimeZone
)

// Option describes one configuration key.
type Option struct {
	Key     string // dotted YAML path, e.g. "smtp.host"
	Default string
	Help    string
	Kind    Kind
	// Min and Max bound an Int (the number), a Duration (nanoseconds) or
	// Days (days), both ends included.
	Min, Max int64
	// Choices are the values a Choice accepts.
	Choices []string
}

// Env returns the option's environment variable, e.g. GATEHOUSE_SMTP_HOST.
func (o Option) Env() string {
	return "GATEHOUSE_" + strings.ToUpper(strings.NewReplacer(".", "_", "-", "_").Replace(o.Key))
}

// Range describes the values the option accepts ("" for free text).
func (o Option) Range() string {
	switch o.Kind {
	case Int:
		return fmt.Sprintf("%d to %d", o.Min, o.Max)
	case Duration:
		return shortDuration(time.Duration(o.Min)) + " to " + shortDuration(time.Duration(o.Max))
	case Days:
		return fmt.Sprintf("%dd to %dd", o.Min, o.Max)
	case Bool:
		return "true or false"
	case Choice:
		return strings.Join(o.Choices[:len(o.Choices)-1], ", ") + " or " + o.Choices[len(o.Choices)-1]
	case TimeZone:
		return "an IANA time zone name"
	}
	return ""
}

// Doc is the option's help followed by its range, as the README shows it.
// Choices and time zones are named in the help itself.
func (o Option) Doc() string {
	switch o.Kind {
	case Int, Duration, Days:
		return o.Help + " Allowed: " + o.Range() + "."
	}
	return o.Help
}

// shortDuration writes d the way a person would type it: 24h, not 24h0m0s.
func shortDuration(d time.Duration) string {
	switch {
	case d == 0:
		return "0s"
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	case d%time.Second == 0:
		return fmt.Sprintf("%ds", d/time.Second)
	}
	return d.String()
}

func text(key, def, help string) Option {
	return Option{Key: key, Default: def, Help: help, Kind: Text}
}

func whole(key, def string, lo, hi int64, help string) Option {
	return Option{Key: key, Default: def, Help: help, Kind: Int, Min: lo, Max: hi}
}

func duration(key, def string, lo, hi time.Duration, help string) Option {
	return Option{Key: key, Default: def, Help: help, Kind: Duration, Min: int64(lo), Max: int64(hi)}
}

func choice(key, def string, choices []string, help string) Option {
	return Option{Key: key, Default: def, Help: help, Kind: Choice, Choices: choices}
}

const day = 24 * time.Hour

// plainURL reports whether u is an http(s) URL fit to print in messages
// as it is: a host, no user or password, nothing a reader could take for
// the end of the link (spaces, quotes, angle brackets).
func plainURL(u string) bool {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" || p.User != nil || p.Opaque != "" {
		return false
	}
	return !strings.ContainsAny(u, " \t\r\n\"'<>`\\")
}

// plainAddress reports whether a is a bare email address at a domain name
// with a dot (not an IP address, not a name without a dot).
func plainAddress(a string) bool {
	m, err := mail.ParseAddress(a)
	if err != nil || m.Address != a {
		return false
	}
	domain := a[strings.LastIndexByte(a, '@')+1:]
	if net.ParseIP(strings.Trim(domain, "[]")) != nil || !strings.Contains(domain, ".") {
		return false
	}
	return !strings.ContainsAny(a, " \"'<>")
}

// Options lists every configuration key with its default, type and range.
var Options = []Option{
	text("listen", "127.0.0.1:8080", "Address to listen on. Plain HTTP is allowed only on a loopback address unless public_url is https (TLS terminated by a proxy) or tls.cert is set."),
	text("data", "./gatehouse-data", "Data directory: the SQLite database and the generated secrets file live here (created with mode 0700 if missing)."),
	text("database", "", "Database. Empty means SQLite at DATA/gatehouse.db; `sqlite:PATH` picks another file (its directory is created if missing); `postgres://USER:PASSWORD@HOST:PORT/DB` uses PostgreSQL."),
	whole("database_pool_size", "20", 1, 1000, "Most connections one node opens to PostgreSQL."),
	text("public_url", "", "The URL holders use to reach Gatehouse, used in messages. Empty means http://LISTEN."),
	text("trusted_proxies", "", "Comma-separated addresses or CIDRs of reverse proxies / load balancers whose X-Forwarded-For is believed (e.g. 10.0.0.0/8). Empty: the TCP peer is the client."),
	text("forward_auth.allowed_domains", "", "Comma-separated domains of the applications a reverse proxy protects with /auth/verify (forward-auth): a sign-in it starts (/auth/verify?rd=URL) returns to URL only when URL's host is one of them or below one. Empty: every rd is refused, and /auth/verify answers only 200, 401 or 403."),
	text("forward_auth.cookie_domain", "", "Parent domain (e.g. example.com) of Gatehouse and the applications behind the proxy: a sign-in that returns to one of them sets a cookie for this domain that only /auth/verify accepts, so that the browser is recognised on their hosts. public_url's host must be below it. Empty: only applications on Gatehouse's own host are recognised."),
	text("forward_auth.policy", "", "What a protected host (or a domain above it, the most specific entry winning) asks of the session beyond being signed in: space-separated HOST=mfa (a second step was passed) or HOST=phr (a passkey was used). /auth/verify answers 403 when the session has not proved it."),
	text("secrets_file", "", "Secrets file (cookie/HMAC key, encryption key, pepper). Empty means DATA/secrets.json. Generated with mode 0600 on the first start of a new installation only; if it is missing beside an existing database, Gatehouse stops and asks for the backup."),
	text("geoip.database", "", "A MaxMind-format IP geolocation database (.mmdb: MaxMind GeoLite2 City or Country, or DB-IP Lite) whose country and city the messages, the activity and the devices pages show as the approximate place. Empty: places are left out. None is bundled; see the README."),
	text("service_name", "Gatehouse", "Name of the service shown at the top of every page, in its title and in messages; also refused as part of a password."),
	text("support.url", "", "Where holders reach the service's support (an https:// or http:// page). Shown wherever a page or message tells the holder to contact us; with neither support key set, those sentences are left out."),
	text("support.email", "", "Address holders may write to for support, shown like support.url (both may be set)."),
	text("brand.logo", "", "An image file, PNG or SVG of at most 256 KiB, shown before service_name at the top of every page (served at /static/logo.png or /static/logo.svg). Read and checked at start: an SVG with a script, an event handler, a foreignObject or a reference outside itself is refused. Empty: no logo."),
	text("brand.color", "", "The service's colour on the pages in the light scheme, as #rrggbb: links, buttons, focus rings and the line under the header (and under the service's name in emails). Refused at start unless links on every background and button text on it read at 4.5:1 (WCAG AA). Empty: Gatehouse's blue."),
	text("brand.color_dark", "", "The same in the dark scheme (#rrggbb, checked the same way against the dark backgrounds). Empty: Gatehouse's own dark-scheme blue, whatever brand.color is."),
	text("brand.footer_links", "", "Links at the foot of every page (see \"Branding\"), separated by semicolons, each a label and a URL joined by a vertical bar, or an English label, a Japanese label and a URL; the URL https:// or a path on this site; at most 10. Empty: no footer."),
	text("brand.templates", "", "A directory of templates that replace the built-in ones: pages under the names of internal/web/templates (layout.html, signin.html…), the HTML part of every email as mail/message.html. Checked at start: an unknown file, a template that does not parse, a meta http-equiv or referrer policy, an email without its reference line and footer are refused. Empty: the built-in templates."),
	choice("log.format", "text", []string{"text", "json"}, "Log format: text or json."),
	choice("log.level", "info", []string{"debug", "info", "warn", "error"}, "Log level: debug, info, warn or error."),
	text("tls.cert", "", "TLS certificate file (PEM). With tls.key, Gatehouse serves HTTPS itself and sends HSTS."),
	text("tls.key", "", "TLS private key file (PEM)."),
	whole("password.min_length", "12", 8, 64, "Shortest password accepted, in characters."),
	{Key: "password.pepper", Default: "true", Kind: Bool, Help: "Mix the secrets file's pepper into every password hash (HMAC before argon2id): true or false."},
	whole("password.history", "5", 1, 24, "Number of recent passwords (counting the current one) that a new password may not repeat."),
	whole("argon2.memory_kib", "19456", 8*1024, 1024*1024, "argon2id memory per hash in KiB (19456 = 19 MiB; at most 1 GiB)."),
	whole("argon2.iterations", "2", 1, 64, "argon2id passes."),
	whole("argon2.parallelism", "1", 1, 255, "argon2id lanes."),
	whole("argon2.workers", "0", 0, 1024, "Hashes computed at once; 0 means one per CPU."),
	whole("argon2.queue", "0", 0, 100_000, "Hashes allowed to wait for a worker; 0 means 4 per worker."),
	duration("argon2.wait", "1s", 0, 30*time.Second, "When every worker and queue place is taken, how long a request that needs a hash waits for one (using no CPU) before it gets 503 with Retry-After; 0s refuses at once."),
	duration("console.fresh_within", "5m", time.Minute, time.Hour, "The operator console's changes need the operator's second step (an app's code or a passkey) proved within this long; otherwise the operator is asked to prove it again."),
	duration("console.reset_wait", "72h", time.Hour, 30*day, "After an operator resets a holder's two-step verification, a new method may be added only from a device the account used before the reset, for this long."),
	duration("session.idle_timeout", "1h", time.Second, 365*day, "A session ends after this long without use."),
	duration("session.step_up_within", "10m", time.Second, day, "Sensitive changes (password, two-step verification) need the password and second step proved again within this long; otherwise the holder is asked to."),
	duration("session.absolute_timeout", "24h", time.Second, 365*day, "A session ends this long after sign-in, used or not."),
	duration("session.remember_timeout", "720h", time.Second, 365*day, "Lifetime of a \"keep me signed in\" session (720h = 30 days)."),
	duration("session.remember_idle", "336h", time.Second, 365*day, "A \"keep me signed in\" session also ends after this long without use (336h = 14 days)."),
	duration("session.cache_ttl", "30s", 0, time.Hour, "How long the server may answer a session check, and the account page's facts (two-step state, trusted browsers, requests waiting for an answer), from memory. Revocations and changes reach the cache at once — with PostgreSQL every node's through LISTEN/NOTIFY; with SQLite the server's own as they commit, and a `gatehouse` command's on the same file within 5 ms (a change log its triggers keep) — so this only bounds a lost notification. 0s turns the cache off (SQLite then reads the session on every check)."),
	duration("code.ttl", "10m", time.Second, day, "How long an emailed code is valid."),
	duration("code.cooldown", "60s", 0, time.Hour, "Minimum time between two codes for the same request."),
	whole("code.max_failures", "5", 1, 100, "Wrong codes allowed before the request is locked."),
	whole("code.max_sends", "3", 1, 10, "Codes sent for one request at most, the first included; a resend after that is refused."),
	{Key: "signin.trust_days", Default: "30d", Kind: Days, Min: 1, Max: 365, Help: "How long \"don't ask again on this browser\" lets a browser skip the second step (the password is still asked), as a number of days such as 30d."},
	choice("signin.new_device_check", "email", []string{"email", "off"}, "When the right password comes from a browser this account has not been used on: email (ask for a code sent to the account's address) or off."),
	{Key: "signin.code_signin", Default: "false", Kind: Bool, Help: "Let holders whose account has two-step verification off sign in with a code sent to their email address instead of the password (at /signin/code): true or false. Whoever reads the mailbox can then sign in."},
	{Key: "signin.email_fallback", Default: "false", Kind: Bool, Help: "With two-step verification on, also accept a code sent to the account's email address as a last \"other way\": true or false. Off by default: an emailed code is not a second factor (NIST SP 800-63B-4 §3.1.3), whoever reads the mailbox has it. When on, it never earns \"don't ask again\" and never counts as a re-verification."},
	whole("limit.guess_free", "4", 1, 100, "Wrong guesses in a row at one secret (password, emailed or SMS codes, app codes, backup codes, passkeys) of one account or destination before every further guess is delayed. Counted apart for each browser the account has signed in on and for everyone else together."),
	duration("limit.guess_delay", "30s", time.Second, time.Hour, "The first delay after limit.guess_free wrong guesses; it doubles with each further wrong guess. A guess made while it runs is answered 429 before anything is hashed or compared."),
	duration("limit.guess_max_delay", "1h", time.Second, day, "The longest delay between guesses."),
	whole("limit.guess_budget", "1000", 10, 1000000, "Most wrong guesses evaluated per account (or destination), kind of secret and browser scope in any 30 days, whatever the delays allow (a right one is given back)."),
	whole("limit.guess_ceiling", "100", 10, 100000, "Wrong guesses in a row at which the holder is told on every channel and the security page says so (NIST SP 800-63B-4: at most 100)."),
	whole("limit.network_failures_ip", "100", 1, 1000000, "Wrong guesses per hour from one IPv4 address or IPv6 /64 before guesses from it wait for the next hour (the holder's own browsers are never slowed)."),
	whole("limit.network_failures", "300", 1, 1000000, "Wrong guesses per hour from one IPv4 /24 (an IPv6 /48: four times as many)."),
	whole("limit.network_accounts_ip", "20", 1, 1000000, "Different accounts or addresses guessed at per hour from one IPv4 address or IPv6 /64 (credential stuffing)."),
	whole("limit.network_accounts", "60", 1, 1000000, "Different accounts or addresses guessed at per hour from one IPv4 /24 (an IPv6 /48: four times as many)."),
	whole("limit.sends_per_10m", "3", 1, 1000, "Codes sent to one address or number in any 10 minutes (or code.ttl, if longer: so at most this many requests to one address or number have a live code at once), whatever asked for them."),
	whole("limit.sends_per_day", "10", 1, 10000, "Codes sent to one address or number in any 24 hours."),
	whole("limit.sends_per_network", "30", 1, 1000000, "Codes asked for per hour from one IPv4 /24 or IPv6 /64 (not counting a browser's own sign-in to an account it signed in to before)."),
	whole("limit.sms_per_country", "1000", 1, 100000000, "Texts per day to the numbers of one country calling code (SMS cost fraud)."),
	whole("limit.sms_per_day", "10000", 1, 100000000, "Texts per day in all."),
	text("limit.sms_countries", "", "Country calling codes texts may go to, comma-separated (e.g. 81,1); empty allows every country."),
	whole("limit.anonymous_per_minute", "30", 1, 1000000, "Requests per minute from one IPv4 /24 or IPv6 /64 that write without any credential (a passkey sign-in ceremony)."),
	text("phone.default_region", "JP", "Region for phone numbers typed without a country code (ISO 3166 code)."),
	{Key: "time_zone.ja", Default: "Asia/Tokyo", Kind: TimeZone, Help: "Time zone for holders who read Japanese, until they choose their own (an IANA name such as Asia/Tokyo)."},
	{Key: "time_zone.en", Default: "UTC", Kind: TimeZone, Help: "Time zone for holders who read English, until they choose their own (an IANA name such as Europe/London)."},
	choice("mail.driver", "dev", []string{"dev", "smtp"}, "Delivery driver: dev (nothing leaves the machine; see /dev/messages) or smtp."),
	text("mail.from", "Gatehouse <no-reply@localhost>", "Sender of every email."),
	text("mail.domain", "", "The mail domain: the d= of every DKIM signature, the domain gatehouse dns-records writes records for, and the domain the checker calls ours. Empty means the domain of mail.from."),
	text("dkim.dir", "", "Directory of the DKIM keys (an RSA-2048 and an Ed25519 key, made on the first start; gatehouse dkim rotate adds a new pair). Empty means DATA/dkim. Every node must share it, like the secrets file."),
	whole("check.lookups_per_minute", "30", 1, 10000, "How many checks (on /check, /check/report, POST /api/check and /why/REFERENCE) one network (an IPv4 /24 or IPv6 /64) may make per minute: references must not be guessable by trying."),
	whole("mail.max_attempts", "8", 1, 100, "Delivery attempts before a message is marked failed."),
	duration("mail.lease", "2m", time.Second, day, "How long a node's claim on a message lasts: a message whose node died is retried by another node (or after a restart) once it ends."),
	{Key: "dev.public_url", Default: "false", Kind: Bool, Help: "Let the dev mail or SMS driver run with a public_url that is not on this machine (a test server on a private network): true or false. The dev drivers keep every code readable at /dev/messages, so by default Gatehouse refuses to start with them behind a public address."},
	choice("sms.driver", "dev", []string{"dev", "http", "twilio"}, "SMS driver: dev (nothing leaves the machine; see /dev/messages), http (a signed JSON POST to sms.http.url, for any gateway) or twilio. SMS carry the codes for phone numbers of two-step verification."),
	text("sms.http.url", "", "The gateway URL the http SMS driver posts {\"to\",\"text\",\"reference\"} to."),
	text("sms.http.secret", "", "Shared secret of the http SMS driver: each request carries X-Gatehouse-Signature: sha256=<hex HMAC-SHA256 of the body>."),
	text("sms.twilio.base_url", "https://api.twilio.com", "Base URL of Twilio's REST API (a regional endpoint, or a test server)."),
	text("sms.twilio.account_sid", "", "Twilio account SID."),
	text("sms.twilio.auth_token", "", "Twilio auth token."),
	text("sms.twilio.from", "", "The Twilio number (E.164) SMS are sent from."),
	text("smtp.host", "", "SMTP submission server host."),
	whole("smtp.port", "587", 1, 65535, "SMTP port: 587 for STARTTLS, 465 for implicit TLS."),
	text("smtp.username", "", "SMTP user name (empty: no authentication)."),
	text("smtp.password", "", "SMTP password."),
	choice("smtp.tls", "starttls", []string{"starttls", "tls", "none"}, "starttls, tls (implicit) or none (only for a relay on this machine)."),
	text("smtp.ca_file", "", "PEM file of CA certificates to trust for the SMTP server (empty: the system's)."),
	{Key: "retention.history", Default: "400d", Kind: Days, Min: 1, Max: 3650, Help: "How long sign-in attempts and messages are kept, as a number of days such as 400d. Devices with no session that were not seen for this long go too; codes, withheld messages and ended sessions go a day after they end."},
	text("metrics.listen", "", "Address (host:port) of a second, plain-HTTP listener that serves only /metrics, in the Prometheus format (sign-ins, codes sent, \"this wasn't me\", checker verdicts, limit refusals, outbox backlog, hashing pool, request latency by route). Empty: no metrics are served. It asks for no credential: keep it on loopback or a network only the monitoring reaches. /metrics is never served on listen."),
	text("webhooks.set_receivers", "", "Receivers of Security Event Tokens (RFC 8417, pushed per RFC 8935: session revoked, credential change, account disabled, credential compromise; see \"Security-event webhooks\"), space-separated, each a URL, followed by a vertical bar and the audience when the tokens' aud is not the URL itself. https, or plain http only to a loopback address. Empty: none."),
	text("webhooks.json_receivers", "", "Receivers of the same events as plain JSON signed with HMAC-SHA256 (header Gatehouse-Signature), space-separated, each a URL, a vertical bar and the receiver's secret (at least 16 characters). https, or plain http only to a loopback address. Empty: none."),
	whole("webhooks.max_attempts", "12", 1, 100, "Attempts at delivering one event to one receiver (10 s apart, doubling to an hour) before it is marked failed."),
	duration("shutdown_timeout", "15s", time.Second, time.Hour, "How long a stop waits for in-flight requests and the message in hand."),
}

// Config is the resolved configuration.
type Config struct {
	values    map[string]string
	locations map[string]*time.Location // time zone keys, loaded once by validate
	File      string                    // the YAML file read, if any
}

// Load resolves configuration from file (may be ""), the environment and
// flag overrides (key → value, already parsed by the caller), and checks
// every value against its option's type and range.
func Load(file string, env func(string) string, flags map[string]string) (*Config, error) {
	known := map[string]bool{}
	c := &Config{values: map[string]string{}, locations: map[string]*time.Location{}, File: file}
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
func (c *Config) Set(key, value string) {
	c.value(key)
	c.values[key] = value
}

// value returns the value of key, read as one of kinds (any kind when none
// is given). A key that is not in Options, or read as a kind it is not,
// panics: it is a typo or a mistake in the code, which the first test that
// reaches it must catch, not a setting that silently reads as 0 or "".
func (c *Config) value(key string, kinds ...Kind) string {
	o, ok := optionByKey[key]
	if !ok {
		panic(fmt.Sprintf("config: no option %q (a typo?)", key))
	}
	if len(kinds) > 0 && !slices.Contains(kinds, o.Kind) {
		panic(fmt.Sprintf("config: option %q is not read that way (its kind is %d)", key, o.Kind))
	}
	return c.values[key]
}

// optionByKey indexes Options; it is derived from the table and never
// changes.
var optionByKey = func() map[string]Option {
	m := make(map[string]Option, len(Options))
	for _, o := range Options {
		m[o.Key] = o
	}
	return m
}()

// String returns the value of key (any kind, as written).
func (c *Config) String(key string) string { return c.value(key) }

// Int returns key as an integer. Load has checked it against the option's
// range, which for every Int fits an int32, so callers may convert it to
// the narrower type they need (argon2's uint32 and uint8) without wrapping.
func (c *Config) Int(key string) int { n, _ := strconv.Atoi(c.value(key, Int)); return n }

// Bool returns key as a boolean.
func (c *Config) Bool(key string) bool { b, _ := strconv.ParseBool(c.value(key, Bool)); return b }

// Duration returns key as a duration (validated by Load); a Days option
// such as retention.history is converted to whole days.
func (c *Config) Duration(key string) time.Duration {
	v := c.value(key, Duration, Days)
	if n, ok := strings.CutSuffix(v, "d"); ok {
		days, _ := strconv.ParseInt(n, 10, 32)
		return time.Duration(days) * day
	}
	d, _ := time.ParseDuration(v)
	return d
}

// Location returns a time-zone key (time_zone.ja, time_zone.en) as a
// location; UTC if the key is not a time zone.
func (c *Config) Location(key string) *time.Location {
	v := c.value(key, TimeZone)
	if loc, ok := c.locations[key]; ok && v == loc.String() {
		return loc
	}
	if loc, err := loadLocation(v); err == nil {
		return loc
	}
	return time.UTC
}

// loadLocation is time.LoadLocation without its two spellings that do not
// name a zone: "" (UTC) and "Local" (whatever the machine is set to, which
// may differ between the nodes of one installation).
func loadLocation(name string) (*time.Location, error) {
	if name == "" || name == "Local" {
		return nil, errors.New("not a zone name")
	}
	return time.LoadLocation(name)
}

// checkOption checks one value against its option's kind and range. Whole
// numbers are parsed at 32 bits: nothing larger is ever meant, and a value
// such as 4294967296 must be refused, not wrapped to 0 further on.
func checkOption(o Option, v string) (*time.Location, error) {
	switch o.Kind {
	case Int:
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil || n < o.Min || n > o.Max {
			return nil, fmt.Errorf("%s: %q is not a whole number from %s", o.Key, v, o.Range())
		}
	case Duration:
		d, err := time.ParseDuration(v)
		if err != nil || int64(d) < o.Min || int64(d) > o.Max {
			return nil, fmt.Errorf("%s: %q is not a duration from %s (written like 30s, 10m or 24h)", o.Key, v, o.Range())
		}
	case Days:
		n, ok := strings.CutSuffix(v, "d")
		days, err := strconv.ParseInt(n, 10, 32)
		if !ok || err != nil || days < o.Min || days > o.Max {
			return nil, fmt.Errorf("%s: %q is not a number of days from %s (written like 400d)", o.Key, v, o.Range())
		}
	case Bool:
		if _, err := strconv.ParseBool(v); err != nil {
			return nil, fmt.Errorf("%s: %q is not %s", o.Key, v, o.Range())
		}
	case Choice:
		for _, ch := range o.Choices {
			if v == ch {
				return nil, nil
			}
		}
		return nil, fmt.Errorf("%s: %q is not %s", o.Key, v, o.Range())
	case TimeZone:
		loc, err := loadLocation(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not a time zone name such as Asia/Tokyo, Europe/London or UTC", o.Key, v)
		}
		return loc, nil
	}
	return nil, nil
}

func (c *Config) validate() error {
	var errs []error
	for _, o := range Options {
		loc, err := checkOption(o, c.values[o.Key])
		if err != nil {
			errs = append(errs, err)
		}
		if loc != nil {
			c.locations[o.Key] = loc
		}
	}
	if c.values["data"] == "" {
		errs = append(errs, errors.New("data: must name a directory"))
	}
	// A postgres:// URL is checked by the driver when it connects.
	if db := c.values["database"]; !IsPostgres(db) && (strings.Contains(db, "://") || db == "sqlite:") {
		errs = append(errs, fmt.Errorf("database: %q is neither sqlite:PATH nor a postgres:// URL", redact(db)))
	}
	if strings.TrimSpace(c.values["service_name"]) == "" {
		errs = append(errs, errors.New("service_name: must not be empty"))
	}
	if r := c.values["phone.default_region"]; phonenumbers.GetCountryCodeForRegion(r) == 0 {
		errs = append(errs, fmt.Errorf("phone.default_region: %q is not a region code such as JP or US", r))
	}
	if _, err := mail.ParseAddress(c.values["mail.from"]); err != nil {
		errs = append(errs, fmt.Errorf("mail.from: %q is not an address such as \"Shop <no-reply@shop.example>\"", c.values["mail.from"]))
	}
	for _, cc := range c.SMSCountries() {
		if n, err := strconv.Atoi(cc); err != nil || n < 1 || n > 999 || strconv.Itoa(n) != cc {
			errs = append(errs, fmt.Errorf("limit.sms_countries: %q is not a country calling code such as 81 or 1", cc))
		}
	}
	errs = append(errs, c.checkForwardAuth()...)
	errs = append(errs, c.checkWebhooks()...)
	errs = append(errs, c.checkBrand()...)
	if d := c.values["mail.domain"]; d != "" && !hostName(d) {
		errs = append(errs, fmt.Errorf("mail.domain: %q is not a domain name such as shop.example", d))
	}
	for _, k := range []string{"sms.http.url", "sms.twilio.base_url"} {
		if v := c.values[k]; v != "" {
			if u, err := url.Parse(v); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				errs = append(errs, fmt.Errorf("%s: %q is not an http(s) URL", k, v))
			}
		}
	}
	switch c.values["sms.driver"] {
	case "http":
		for _, k := range []string{"sms.http.url", "sms.http.secret"} {
			if c.values[k] == "" {
				errs = append(errs, fmt.Errorf("%s: required when sms.driver is http", k))
			}
		}
	case "twilio":
		for _, k := range []string{"sms.twilio.account_sid", "sms.twilio.auth_token", "sms.twilio.from"} {
			if c.values[k] == "" {
				errs = append(errs, fmt.Errorf("%s: required when sms.driver is twilio", k))
			}
		}
	}
	if c.values["mail.driver"] == "smtp" && c.values["smtp.host"] == "" {
		errs = append(errs, errors.New("smtp.host: required when mail.driver is smtp"))
	}
	if _, _, err := net.SplitHostPort(c.values["listen"]); err != nil {
		errs = append(errs, fmt.Errorf("listen: %q is not host:port", c.values["listen"]))
	}
	if a := c.values["metrics.listen"]; a != "" {
		if _, port, err := net.SplitHostPort(a); err != nil {
			errs = append(errs, fmt.Errorf("metrics.listen: %q is not host:port", a))
		} else if a == c.values["listen"] && port != "0" { // port 0: each picks a free one
			errs = append(errs, fmt.Errorf("metrics.listen: %q is listen's address; metrics need an address of their own", a))
		}
	}
	if u := c.values["public_url"]; u != "" {
		if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			errs = append(errs, fmt.Errorf("public_url: %q is not an http(s) URL", u))
		}
	}
	if u := c.values["support.url"]; u != "" && !plainURL(u) {
		errs = append(errs, fmt.Errorf("support.url: %q is not a plain http(s) URL (no user or password, spaces, quotes or angle brackets)", u))
	}
	if a := c.values["support.email"]; a != "" && !plainAddress(a) {
		errs = append(errs, fmt.Errorf("support.email: %q is not a plain email address at a domain name (such as help@example.jp)", a))
	}
	if _, err := c.TrustedProxies(); err != nil {
		errs = append(errs, err)
	}
	if p := c.values["geoip.database"]; p != "" {
		// Checked here so that a mistyped path stops the start with the
		// key's name, not later with a file error.
		if st, err := os.Stat(p); err != nil || st.IsDir() {
			errs = append(errs, fmt.Errorf("geoip.database: %q is not a readable file", p))
		}
	}
	switch {
	case c.values["tls.cert"] != "" && c.values["tls.key"] == "":
		errs = append(errs, errors.New("tls.cert: set without tls.key; give both or neither"))
	case c.values["tls.cert"] == "" && c.values["tls.key"] != "":
		errs = append(errs, errors.New("tls.key: set without tls.cert; give both or neither"))
	}
	return errors.Join(errs...)
}

// IsPostgres reports whether a database setting names PostgreSQL.
func IsPostgres(database string) bool {
	return strings.HasPrefix(database, "postgres://") || strings.HasPrefix(database, "postgresql://")
}

// redact hides a password in a database URL quoted in an error.
func redact(db string) string {
	if u, err := url.Parse(db); err == nil && u.User != nil {
		return u.Redacted()
	}
	return db
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

// MailDomain returns the mail domain: mail.domain, or the domain of
// mail.from.
func (c *Config) MailDomain() string {
	if d := c.values["mail.domain"]; d != "" {
		return strings.ToLower(strings.TrimSuffix(d, "."))
	}
	if a, err := mail.ParseAddress(c.values["mail.from"]); err == nil {
		if i := strings.LastIndexByte(a.Address, '@'); i >= 0 {
			return strings.ToLower(a.Address[i+1:])
		}
	}
	return "localhost"
}

// DKIMDir returns the directory of the DKIM keys.
func (c *Config) DKIMDir() string {
	if d := c.values["dkim.dir"]; d != "" {
		return d
	}
	return filepath.Join(c.values["data"], "dkim")
}

// hostName reports whether s is a DNS name: dot-separated labels of
// letters, digits and hyphens (an IDN in its xn-- form).
func hostName(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	for _, l := range strings.Split(s, ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' || strings.Trim(strings.ToLower(l), "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
			return false
		}
	}
	return true
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

// SMSCountries returns limit.sms_countries as a list of calling codes
// (empty: every country).
func (c *Config) SMSCountries() []string {
	var out []string
	for _, f := range strings.Split(c.values["limit.sms_countries"], ",") {
		if f = strings.TrimPrefix(strings.TrimSpace(f), "+"); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// PublicURLOnThisMachine reports whether the public URL (or, when it is
// unset, the listen address) names this machine: localhost or a loopback
// address.
func (c *Config) PublicURLOnThisMachine() bool {
	u, err := url.Parse(c.PublicURL())
	if err != nil {
		return false
	}
	host := u.Hostname()
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// CheckDevDrivers refuses to serve with a dev driver behind a public
// address: the dev drivers keep every code readable at /dev/messages, and
// a proxy on the same machine that forwards without X-Forwarded-For would
// hand them to anyone (the second probe's W11). dev.public_url lets a test
// server on a private network run anyway.
func (c *Config) CheckDevDrivers() error {
	if (c.values["mail.driver"] != "dev" && c.values["sms.driver"] != "dev") || c.PublicURLOnThisMachine() || c.Bool("dev.public_url") {
		return nil
	}
	return fmt.Errorf("mail.driver, sms.driver: the dev driver keeps every code readable at /dev/messages, and public_url %s is not on this machine: choose mail.driver smtp and an SMS driver (sms.driver http or twilio), or set dev.public_url true for a test server no one else can reach", c.PublicURL())
}

// checkForwardAuth checks the forward-auth settings: domain names, a
// policy of HOST=mfa or HOST=phr entries, and a cookie domain that
// public_url's host is below (a browser refuses a cookie for any other).
func (c *Config) checkForwardAuth() []error {
	var errs []error
	for _, d := range c.ForwardAuthDomains() {
		if !hostName(d) {
			errs = append(errs, fmt.Errorf("forward_auth.allowed_domains: %q is not a domain name such as example.com", d))
		}
	}
	if d := c.ForwardAuthCookieDomain(); d != "" {
		host := ""
		if u, err := url.Parse(c.PublicURL()); err == nil {
			host = strings.ToLower(u.Hostname())
		}
		switch {
		case !hostName(d):
			errs = append(errs, fmt.Errorf("forward_auth.cookie_domain: %q is not a domain name such as example.com", d))
		case host != strings.ToLower(d) && !strings.HasSuffix(host, "."+strings.ToLower(d)):
			errs = append(errs, fmt.Errorf("forward_auth.cookie_domain: public_url's host %s is not below %s, so browsers would refuse its cookie", host, d))
		}
	}
	for _, f := range strings.Fields(strings.ReplaceAll(c.values["forward_auth.policy"], ",", " ")) {
		host, req, ok := strings.Cut(f, "=")
		if !ok || !hostName(host) || (req != "mfa" && req != "phr") {
			errs = append(errs, fmt.Errorf("forward_auth.policy: %q is not HOST=mfa or HOST=phr", f))
		}
	}
	return errs
}

// ForwardAuthDomains lists forward_auth.allowed_domains.
func (c *Config) ForwardAuthDomains() []string {
	var out []string
	for _, d := range strings.Split(c.values["forward_auth.allowed_domains"], ",") {
		if d = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(d), "."), "."); d != "" {
			out = append(out, d)
		}
	}
	return out
}

// ForwardAuthCookieDomain is forward_auth.cookie_domain without a leading
// dot.
func (c *Config) ForwardAuthCookieDomain() string {
	return strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(c.values["forward_auth.cookie_domain"]), "."), ".")
}
