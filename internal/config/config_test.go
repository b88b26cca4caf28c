package config

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoad_DefaultsFileEnvFlagsInOrder(t *testing.T) {
	t.Parallel()
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
	t.Parallel()
	for _, tc := range []struct {
		flags map[string]string
		want  string
	}{
		{map[string]string{"password.min_length": "6"}, "password.min_length: \"6\" is not a whole number from 8 to 64"},
		{map[string]string{"session.idle_timeout": "soon"}, "session.idle_timeout: \"soon\" is not a duration from 1s to 8760h"},
		{map[string]string{"mail.driver": "smtp"}, "smtp.host: required"},
		{map[string]string{"mail.driver": "pigeon"}, "mail.driver: \"pigeon\" is not dev or smtp"},
		{map[string]string{"log.level": "loud"}, "log.level: \"loud\" is not debug, info, warn or error"},
		{map[string]string{"password.pepper": "maybe"}, "password.pepper: \"maybe\" is not true or false"},
		{map[string]string{"listen": "8080"}, "not host:port"},
		{map[string]string{"public_url": "ftp://x"}, "not an http(s) URL"},
		{map[string]string{"database": "mysql://x/y"}, "neither sqlite:PATH nor a postgres:// URL"},
		{map[string]string{"phone.default_region": "XX"}, "phone.default_region: \"XX\" is not a region code"},
		{map[string]string{"mail.from": "not an address"}, "mail.from:"},
		{map[string]string{"service_name": " "}, "service_name: must not be empty"},
		{map[string]string{"time_zone.ja": "Mars/Olympus_Mons"}, "time_zone.ja: \"Mars/Olympus_Mons\" is not a time zone"},
		{map[string]string{"time_zone.en": "Local"}, "time_zone.en: \"Local\" is not a time zone"},
		{map[string]string{"time_zone.en": ""}, "time_zone.en: \"\" is not a time zone"},
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

// TestLoad_OutOfRangeArgon2IsRefusedNotWrapped is the regression for
// argon2.iterations=4294967296 (wrapped to 0 in uint32: every sign-up
// panicked) and argon2.memory_kib=4294975488 (silently 8 MiB).
func TestLoad_OutOfRangeArgon2IsRefusedNotWrapped(t *testing.T) {
	t.Parallel()
	for key, v := range map[string]string{"argon2.iterations": "4294967296", "argon2.memory_kib": "4294975488", "argon2.parallelism": "256"} {
		_, err := Load("", env(nil), map[string]string{key: v})
		if err == nil || !strings.Contains(err.Error(), key+": \""+v+"\" is not a whole number from ") {
			t.Errorf("%s=%s: %v", key, v, err)
		}
	}
	// The same through the environment and a YAML file, where YAML reads
	// the value as a number before it reaches Load.
	if _, err := Load("", env(map[string]string{"GATEHOUSE_ARGON2_ITERATIONS": "4294967296"}), nil); err == nil || !strings.Contains(err.Error(), "argon2.iterations") {
		t.Errorf("environment: %v", err)
	}
	file := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(file, []byte("argon2:\n  memory_kib: 4294975488\n"), 0o600)
	if _, err := Load(file, env(nil), nil); err == nil || !strings.Contains(err.Error(), "argon2.memory_kib: \"4294975488\" is not a whole number from 8192 to 1048576") {
		t.Errorf("file: %v", err)
	}
}

// TestOptions_EveryOptionHasATypeAndItsRangeIsEnforced walks the options
// table: every numeric option refuses a value just below and just above its
// range and a non-number, naming the key and the range, and accepts both
// ends; every other kind refuses a value of the wrong shape.
func TestOptions_EveryOptionHasATypeAndItsRangeIsEnforced(t *testing.T) {
	t.Parallel()
	// Options whose text is checked beyond its kind, with a value refused.
	textRefused := map[string]string{
		"support.url": "https://user:pw@help.example.jp/", "support.email": "help@192.168.0.1",
		"listen": "8080", "data": "", "database": "sqlite:", "public_url": "ftp://x", "trusted_proxies": "not-a-cidr",
		"service_name": "", "phone.default_region": "XX", "mail.from": "nobody", "tls.cert": "cert.pem",
		"geoip.database": "no-such-dir/GeoLite2-City.mmdb", "metrics.listen": "9090",
		"forward_auth.allowed_domains": "example.com,not a domain", "forward_auth.cookie_domain": "elsewhere.example",
		"forward_auth.policy": "admin.example.com=root",
	}
	// Free text: anything goes (or, for smtp.host, is checked with mail.driver).
	freeText := map[string]bool{"secrets_file": true, "dkim.dir": true, "tls.key": true, "smtp.host": true, "smtp.username": true, "smtp.password": true, "smtp.ca_file": true,
		"sms.http.secret": true, "sms.twilio.account_sid": true, "sms.twilio.auth_token": true, "sms.twilio.from": true}
	textRefused["sms.http.url"] = "gateway.example/send"
	textRefused["limit.sms_countries"] = "81,JP"
	textRefused["mail.domain"] = "shop example"
	textRefused["sms.twilio.base_url"] = "ftp://api.example"
	textRefused["webhooks.set_receivers"] = "http://rp.example/events"
	textRefused["webhooks.json_receivers"] = "https://rp.example/hooks|short"
	textRefused["brand.logo"] = "no-such-dir/logo.svg"
	textRefused["brand.color"] = "blue"
	textRefused["brand.color_dark"] = "#12345"
	textRefused["brand.footer_links"] = "Privacy|http://shop.example/privacy"
	textRefused["brand.templates"] = "no-such-dir/templates"
	for _, o := range Options {
		t.Run(o.Key, func(t *testing.T) {
			if _, err := Load("", env(nil), map[string]string{o.Key: o.Default}); err != nil {
				t.Fatalf("default %q refused: %v", o.Default, err)
			}
			refuse := func(v, want string) {
				t.Helper()
				_, err := Load("", env(nil), map[string]string{o.Key: v})
				if err == nil || !strings.Contains(err.Error(), o.Key+": ") || !strings.Contains(err.Error(), want) {
					t.Errorf("%s=%q: err %v, want it to name the key and %q", o.Key, v, err, want)
				}
			}
			accept := func(v string) {
				t.Helper()
				if _, err := Load("", env(nil), map[string]string{o.Key: v}); err != nil {
					t.Errorf("%s=%q refused: %v", o.Key, v, err)
				}
			}
			switch o.Kind {
			case Int:
				if o.Max > math.MaxInt32 || o.Min > o.Max {
					t.Fatalf("range %d..%d", o.Min, o.Max)
				}
				rng := fmt.Sprintf("from %d to %d", o.Min, o.Max)
				refuse(strconv.FormatInt(o.Min-1, 10), rng)
				refuse(strconv.FormatInt(o.Max+1, 10), rng)
				refuse("many", rng)
				refuse("1.5", rng)
				refuse("4294967296", rng)
				accept(strconv.FormatInt(o.Min, 10))
				accept(strconv.FormatInt(o.Max, 10))
			case Duration:
				lo, hi := time.Duration(o.Min), time.Duration(o.Max)
				rng := "from " + shortDuration(lo) + " to " + shortDuration(hi)
				if lo == 0 {
					refuse("-1s", rng)
				} else {
					refuse((lo - time.Millisecond).String(), rng)
				}
				refuse((hi + time.Second).String(), rng)
				refuse("soon", rng)
				refuse("10", rng)
				refuse("9999999999h", rng)
				accept(lo.String())
				accept(hi.String())
			case Days:
				rng := fmt.Sprintf("from %dd to %dd", o.Min, o.Max)
				refuse(fmt.Sprintf("%dd", o.Min-1), rng)
				refuse(fmt.Sprintf("%dd", o.Max+1), rng)
				refuse("forever", rng)
				refuse("400", rng)
				refuse("4294967697d", rng)
				accept(fmt.Sprintf("%dd", o.Min))
				accept(fmt.Sprintf("%dd", o.Max))
			case Bool:
				refuse("maybe", "true or false")
				accept("false")
			case Choice:
				refuse("something-else", o.Range())
				for _, c := range o.Choices {
					if c == "smtp" || c == "http" || c == "twilio" {
						continue // needs smtp.host, or the SMS driver's keys, too
					}
					accept(c)
				}
			case TimeZone:
				refuse("Nowhere/Special", "time zone")
				refuse("Local", "time zone")
				accept("Europe/Paris")
			case Text:
				if v, ok := textRefused[o.Key]; ok {
					refuse(v, "")
				} else if !freeText[o.Key] {
					t.Errorf("text option %s has no check and is not listed as free text", o.Key)
				}
			default:
				t.Errorf("unknown kind %d", o.Kind)
			}
		})
	}
}

func TestLoad_ConvertsDaysAndTimeZones(t *testing.T) {
	t.Parallel()
	c, err := Load("", env(map[string]string{"GATEHOUSE_RETENTION_HISTORY": "30d", "GATEHOUSE_TIME_ZONE_EN": "America/New_York"}), nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Duration("retention.history") != 30*24*time.Hour {
		t.Fatalf("retention.history: %v", c.Duration("retention.history"))
	}
	if c.Location("time_zone.en").String() != "America/New_York" || c.Location("time_zone.ja").String() != "Asia/Tokyo" {
		t.Fatalf("locations: %v %v", c.Location("time_zone.en"), c.Location("time_zone.ja"))
	}
	// Zones come from the embedded database, so they work on machines
	// without /usr/share/zoneinfo.
	tokyo := time.Date(2026, 11, 28, 1, 26, 0, 0, time.UTC).In(c.Location("time_zone.ja"))
	if tokyo.Hour() != 10 {
		t.Fatalf("Tokyo time: %v", tokyo)
	}
	if d, _ := Load("", env(nil), nil); d.Duration("retention.history") != 400*24*time.Hour || d.Location("time_zone.en") != time.UTC {
		t.Fatalf("defaults: %v %v", d.Duration("retention.history"), d.Location("time_zone.en"))
	}
}

func TestCheckTransport_PlainHTTPOnlyOnLoopback(t *testing.T) {
	t.Parallel()
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
	t.Parallel()
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
		row := "| `" + o.Key + "` | `" + o.Env() + "` | " + def + " | " + o.Doc() + " |"
		table.WriteString(row + "\n")
		if !strings.Contains(string(b), row) {
			missing++
		}
	}
	if missing > 0 {
		t.Fatalf("README.md lacks %d configuration rows; the table should read:\n\n| key | environment | default | meaning |\n|---|---|---|---|\n%s", missing, table.String())
	}
}

// TestRead_UnknownKeyOrWrongKindPanics: reading a key that is not an
// option, or reading an option as a kind it is not, is a mistake in the
// code; it must stop the first test that reaches it, not read as 0 or "".
func TestRead_UnknownKeyOrWrongKindPanics(t *testing.T) {
	t.Parallel()
	cfg, err := Load("", func(string) string { return "" }, map[string]string{"data": t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	for name, read := range map[string]func(){
		"unknown key":            func() { cfg.String("argon2.worker") },
		"unknown key, Int":       func() { cfg.Int("code.max_failure") },
		"duration read as Int":   func() { cfg.Int("code.ttl") },
		"int read as Duration":   func() { cfg.Duration("argon2.workers") },
		"text read as Bool":      func() { cfg.Bool("service_name") },
		"text read as time zone": func() { cfg.Location("service_name") },
		"set an unknown key":     func() { cfg.Set("listen_addr", "x") },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			read()
		}()
	}
	if cfg.Int("code.max_failures") != 5 || cfg.Duration("retention.history") != 400*24*time.Hour {
		t.Error("the right reads stopped working")
	}
}

// TestLoad_SMSDriversNeedTheirSettings: an SMS driver without the keys it
// needs is refused at start, naming them.
func TestLoad_SMSDriversNeedTheirSettings(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		flags map[string]string
		want  []string
	}{
		{map[string]string{"sms.driver": "http"}, []string{"sms.http.url", "sms.http.secret"}},
		{map[string]string{"sms.driver": "twilio"}, []string{"sms.twilio.account_sid", "sms.twilio.auth_token", "sms.twilio.from"}},
	} {
		_, err := Load("", env(nil), c.flags)
		for _, k := range c.want {
			if err == nil || !strings.Contains(err.Error(), k+": required") {
				t.Errorf("%v: %v, want %s named", c.flags, err, k)
			}
		}
	}
	if _, err := Load("", env(nil), map[string]string{"sms.driver": "http", "sms.http.url": "https://gw.example/send", "sms.http.secret": "s"}); err != nil {
		t.Errorf("complete http settings refused: %v", err)
	}
	if _, err := Load("", env(nil), map[string]string{"sms.driver": "twilio", "sms.twilio.account_sid": "AC1", "sms.twilio.auth_token": "t", "sms.twilio.from": "+15005550006"}); err != nil {
		t.Errorf("complete twilio settings refused: %v", err)
	}
}

// TestSupport_OnlyPlainContactsAreAccepted: the support contact is printed
// as it is in every message that says to contact us, so it must be a plain
// http(s) URL or a plain address at a domain name.
func TestSupport_OnlyPlainContactsAreAccepted(t *testing.T) {
	t.Parallel()
	for key, cases := range map[string]map[string]bool{
		"support.url": {
			"https://help.example.jp/": true, "http://help.example.jp/faq?id=1": true,
			"https://user:pw@help.example.jp/": false, "https://help.example.jp/a b": false, `https://help.example.jp/"><script>`: false,
			"javascript:alert(1)": false, "ftp://help.example.jp/": false, "help.example.jp": false, "//help.example.jp": false,
		},
		"support.email": {
			"help@example.jp": true,
			"a@b":             false, "help@192.168.0.1": false, "Help <help@example.jp>": false, "help@[127.0.0.1]": false, "mailto:help@example.jp": false,
		},
	} {
		for v, ok := range cases {
			_, err := Load("", func(string) string { return "" }, map[string]string{key: v})
			if (err == nil) != ok {
				t.Errorf("%s %q: accepted %v, want %v (%v)", key, v, err == nil, ok, err)
			}
		}
	}
}

// TestLoad_MetricsNeedAnAddressOfTheirOwn: metrics.listen may not be the
// holders' address (the second listener could never open); port 0 on
// both is two free ports.
func TestLoad_MetricsNeedAnAddressOfTheirOwn(t *testing.T) {
	t.Parallel()
	_, err := Load("", env(nil), map[string]string{"listen": "127.0.0.1:8080", "metrics.listen": "127.0.0.1:8080"})
	if err == nil || !strings.Contains(err.Error(), "metrics.listen: ") {
		t.Fatalf("same address: %v", err)
	}
	for _, flags := range []map[string]string{
		{"listen": "127.0.0.1:0", "metrics.listen": "127.0.0.1:0"},
		{"listen": "127.0.0.1:8080", "metrics.listen": "127.0.0.1:9090"},
	} {
		if _, err := Load("", env(nil), flags); err != nil {
			t.Errorf("%v: %v", flags, err)
		}
	}
}
