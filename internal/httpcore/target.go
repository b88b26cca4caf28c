package httpcore

import (
	"net/url"
	"strings"
	"unicode/utf8"
)

// targetBase resolves return targets; its host never leaves this file.
var targetBase = &url.URL{Scheme: "https", Host: "gatehouse.invalid", Path: "/"}

// LocalTarget returns target when it is a path on this site that stays one
// after a browser's URL parsing, normalised, and fallback otherwise. Every
// redirect that takes its destination from a request goes through it — the
// language switch now, step-up return paths and OIDC later — so none can be
// turned into an open redirect (ASVS v5.0.0-3.7.2).
//
// Browsers drop TAB, CR and LF anywhere in a URL, read a backslash as a
// slash, and treat "//host" as another site; so a target is refused when it
// has a control character or a backslash, is not UTF-8, does not start
// with exactly one slash, names a scheme, host or user, or resolves (after
// dot segments are removed) to a path starting with "//".
func LocalTarget(target, fallback string) string {
	if target == "" || len(target) > 2048 || !utf8.ValidString(target) {
		return fallback
	}
	for _, c := range target {
		if c < 0x20 || c == 0x7f || c == '\\' || (c >= 0x80 && c <= 0x9f) {
			return fallback
		}
	}
	if !strings.HasPrefix(target, "/") {
		return fallback
	}
	// No empty or dot segments in the path: "/x/..//host" and "/.//host"
	// become "//host" once a browser removes the dots.
	p, _, _ := strings.Cut(target, "?")
	p, _, _ = strings.Cut(p, "#")
	for i, seg := range strings.Split(p[1:], "/") {
		dec, err := url.PathUnescape(seg)
		if err != nil || dec == "." || dec == ".." || (seg == "" && i == 0 && len(p) > 1) || strings.Contains(p, "//") {
			return fallback
		}
	}
	u, err := url.Parse(target)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return fallback
	}
	ref := targetBase.ResolveReference(u)
	if ref.Host != targetBase.Host || ref.Scheme != targetBase.Scheme || strings.HasPrefix(ref.EscapedPath(), "//") ||
		!strings.HasPrefix(ref.EscapedPath(), "/") {
		return fallback
	}
	out := ref.EscapedPath()
	if ref.RawQuery != "" {
		out += "?" + ref.RawQuery
	}
	return out
}
