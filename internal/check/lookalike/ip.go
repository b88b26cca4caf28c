package lookalike

import (
	"net/netip"
	"strings"
)

// isIP reports whether host is an IP literal as a browser would read it.
// IPv6 (with or without a zone) is parsed by netip. IPv4 follows the WHATWG
// URL host parser, which, like inet_aton, takes one to four dot-separated
// numbers, each decimal, octal (leading 0) or hex (0x), the last filling the
// remaining bytes: 3232235777, 0xC0A80001, 0300.0250.1.1 and 192.168.257 all
// reach a raw address, and phishing uses them precisely because they do not
// look like one.
func isIP(host string) bool {
	if strings.IndexByte(host, ':') >= 0 {
		_, err := netip.ParseAddr(host)
		return err == nil
	}
	n := strings.Count(host, ".") + 1
	if n > 4 {
		return false
	}
	for i := 1; host != ""; i++ {
		part := host
		if j := strings.IndexByte(host, '.'); j >= 0 {
			part, host = host[:j], host[j+1:]
			if host == "" {
				return false // "1.2.3." (trailing dots are trimmed before)
			}
		} else {
			host = ""
		}
		v, ok := ipv4Number(part)
		if !ok {
			return false
		}
		limit := uint64(255)
		if i == n {
			limit = 1<<(8*(5-n)) - 1
		}
		if v > limit {
			return false
		}
	}
	return true
}

// ipv4Number parses one part of a WHATWG IPv4 address. The value is capped
// just above 2³² so that overlong parts fail the range check rather than
// wrap.
func ipv4Number(s string) (uint64, bool) {
	if s == "" {
		return 0, false
	}
	base := uint64(10)
	switch {
	case len(s) >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'):
		base, s = 16, s[2:]
		if s == "" {
			return 0, true // "0x" is zero to WHATWG
		}
	case len(s) >= 2 && s[0] == '0':
		base, s = 8, s[1:]
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		var d uint64
		switch c := s[i]; {
		case '0' <= c && c <= '9':
			d = uint64(c - '0')
		case 'a' <= c && c <= 'f':
			d = uint64(c-'a') + 10
		case 'A' <= c && c <= 'F':
			d = uint64(c-'A') + 10
		default:
			return 0, false
		}
		if d >= base {
			return 0, false
		}
		if v = v*base + d; v > 1<<32 {
			v = 1<<32 + 1
		}
	}
	return v, true
}
