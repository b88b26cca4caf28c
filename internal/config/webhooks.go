package config

import (
	"fmt"
	"net/netip"
	"net/url"
	"strings"
)

// WebhookReceiver is one entry of webhooks.set_receivers or
// webhooks.json_receivers.
type WebhookReceiver struct {
	URL string
	// Audience is a SET receiver's aud (its URL when the entry names none).
	Audience string
	// Secret is a JSON receiver's HMAC key.
	Secret string
}

// MinWebhookSecret is the shortest secret a JSON receiver may have.
const MinWebhookSecret = 16

// SETReceivers lists webhooks.set_receivers (checked by Load).
func (c *Config) SETReceivers() []WebhookReceiver {
	list, _ := parseReceivers("webhooks.set_receivers", c.values["webhooks.set_receivers"], false)
	return list
}

// JSONReceivers lists webhooks.json_receivers (checked by Load).
func (c *Config) JSONReceivers() []WebhookReceiver {
	list, _ := parseReceivers("webhooks.json_receivers", c.values["webhooks.json_receivers"], true)
	return list
}

func (c *Config) checkWebhooks() []error {
	_, errs := parseReceivers("webhooks.set_receivers", c.values["webhooks.set_receivers"], false)
	_, more := parseReceivers("webhooks.json_receivers", c.values["webhooks.json_receivers"], true)
	return append(errs, more...)
}

// parseReceivers reads space-separated URL|AUDIENCE (or URL alone) entries,
// or, with secret set, URL|SECRET entries.
func parseReceivers(key, v string, secret bool) ([]WebhookReceiver, []error) {
	var list []WebhookReceiver
	var errs []error
	seen := map[string]bool{}
	for _, f := range strings.Fields(v) {
		u, rest, has := strings.Cut(f, "|")
		if err := receiverURL(u); err != nil {
			errs = append(errs, fmt.Errorf("%s: %q: %v", key, redactEntry(f, secret), err))
			continue
		}
		if seen[u] {
			errs = append(errs, fmt.Errorf("%s: %s is listed twice", key, u))
			continue
		}
		seen[u] = true
		r := WebhookReceiver{URL: u}
		switch {
		case secret && len(rest) < MinWebhookSecret:
			errs = append(errs, fmt.Errorf("%s: %s needs |SECRET after it, at least %d characters", key, u, MinWebhookSecret))
			continue
		case secret:
			r.Secret = rest
		case has && rest == "":
			errs = append(errs, fmt.Errorf("%s: %s has an empty audience after |", key, u))
			continue
		case has:
			r.Audience = rest
		default:
			r.Audience = u
		}
		list = append(list, r)
	}
	return list, errs
}

// redactEntry hides a JSON receiver's secret in an error message.
func redactEntry(f string, secret bool) string {
	if u, _, ok := strings.Cut(f, "|"); ok && secret {
		return u + "|…"
	}
	return f
}

// receiverURL checks a receiver's URL: https, or plain http to this
// machine (a receiver on loopback); no user or password, no fragment.
func receiverURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return fmt.Errorf("not an absolute https URL")
	}
	if u.User != nil || u.Fragment != "" {
		return fmt.Errorf("a receiver URL carries no user, password or fragment")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if loopbackHost(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("plain http only to a loopback address (127.0.0.1, [::1], localhost); use https")
	}
	return fmt.Errorf("not an https URL")
}

func loopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(h)
	return err == nil && ip.IsLoopback()
}
