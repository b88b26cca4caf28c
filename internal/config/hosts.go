package config

import (
	"net"
	"net/netip"
	"net/url"
	"strings"
)

// Hosts returns the host names the server answers to: the host of
// public_url, the listen address's host when it is a specific address, and
// the loopback names when listening on loopback. A Host header naming
// anything else is a DNS-rebinding page or a misconfigured proxy (421).
func (c *Config) Hosts() []string {
	var out []string
	add := func(h string) {
		h = strings.ToLower(strings.TrimSuffix(strings.Trim(h, "[]"), "."))
		if h == "" {
			return
		}
		for _, x := range out {
			if x == h {
				return
			}
		}
		out = append(out, h)
	}
	if u, err := url.Parse(c.PublicURL()); err == nil {
		add(u.Hostname())
	}
	if host, _, err := net.SplitHostPort(c.values["listen"]); err == nil {
		if a, err := netip.ParseAddr(host); err == nil && !a.IsUnspecified() {
			add(host)
		}
	}
	if c.Loopback() {
		for _, h := range []string{"localhost", "127.0.0.1", "::1"} {
			add(h)
		}
	}
	return out
}
