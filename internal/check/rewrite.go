package check

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// Mail security services of organisations (Microsoft Defender's Safe
// Links, Proofpoint's URL Defense) rewrite every link of an incoming
// message to pass through their servers, keeping the original in the new
// URL. A genuine message of ours that went through one no longer matches
// what we sent, and its signature no longer verifies; and a phish behind
// one shows only the service's host. Both are judged by the link put back.
// Google's redirector (google.com/url?q=) is put back too: phishers use it
// to show a trusted host.

// maxUnwrap bounds nested rewriting (Safe Links around URL Defense).
const maxUnwrap = 3

// unwrapLink returns the URL a rewritten link stands for, and the host of
// the service that rewrote it; ok is false when raw is not a rewritten
// link (or its original cannot be recovered exactly).
func unwrapLink(raw string) (inner, via string, ok bool) {
	for range maxUnwrap {
		in, v, found := unwrapOnce(raw)
		if !found {
			break
		}
		raw, ok = in, true
		if via == "" {
			via = v
		}
	}
	return raw, via, ok
}

// rewriterMark is in every link unwrapOnce can put back: most links are
// passed over without being parsed.
var rewriterMarks = []string{"safelinks.protection.outlook.com", "urldefense.", "google.com/url"}

func unwrapOnce(raw string) (inner, via string, ok bool) {
	l := strings.ToLower(raw)
	if !slices.ContainsFunc(rewriterMarks, func(m string) bool { return strings.Contains(l, m) }) {
		return "", "", false
	}
	u, err := url.Parse(strings.ReplaceAll(raw, "&amp;", "&"))
	if err != nil || u.Host == "" {
		return "", "", false
	}
	host := strings.ToLower(u.Hostname())
	switch {
	case strings.HasSuffix(host, ".safelinks.protection.outlook.com"):
		inner = u.Query().Get("url")
	case host == "urldefense.proofpoint.com" && strings.HasPrefix(u.Path, "/v2/url"):
		// v2 writes the URL with "-" for "%" and "_" for "/".
		s := strings.NewReplacer("-", "%", "_", "/").Replace(u.Query().Get("u"))
		if inner, err = url.PathUnescape(s); err != nil {
			return "", "", false
		}
	case host == "urldefense.com" && strings.HasPrefix(u.EscapedPath(), "/v3/__"):
		// v3 keeps the URL between "__" and "__;"; characters it had to
		// encode are "*" with their bytes in the tail, which is not
		// reproduced here: such a link stays as it is.
		rest := raw[strings.Index(raw, "/v3/__")+len("/v3/__"):]
		end := strings.Index(rest, "__;")
		if end < 0 || strings.Contains(rest[:end], "*") {
			return "", "", false
		}
		inner = rest[:end]
	case (host == "www.google.com" || host == "google.com") && u.Path == "/url":
		inner = u.Query().Get("q")
		if inner == "" {
			inner = u.Query().Get("url")
		}
	}
	l = strings.ToLower(inner)
	if !strings.HasPrefix(l, "https://") && !strings.HasPrefix(l, "http://") {
		return "", "", false
	}
	return inner, host, true
}

// anyURL finds URLs for putting rewritten ones back.
var anyURL = regexp.MustCompile(`(?i)https?://[^\s"'<>]+`)

// unwrapLinks puts every rewritten link in s back, for comparing a part of
// a message with what we sent; in HTML the put-back URL is escaped as our
// templates escape it. It returns the rewriting services' hosts, none when
// s is unchanged.
func unwrapLinks(s string, html bool) (string, []string) {
	if !strings.Contains(strings.ToLower(s), "http") {
		return s, nil
	}
	var vias []string
	out := anyURL.ReplaceAllStringFunc(s, func(m string) string {
		// Sentence punctuation and a closing parenthesis after a link
		// are not part of it: "(see https://…)".
		url, tail := trimURLTail(m)
		inner, via, ok := unwrapLink(url)
		if !ok {
			return m
		}
		if !slices.Contains(vias, via) {
			vias = append(vias, via)
		}
		if html {
			inner = strings.ReplaceAll(inner, "&", "&amp;")
		}
		return inner + tail
	})
	return out, vias
}

// trimURLTail splits a URL found in text from the punctuation after it: a
// final ".", ",", ";", ":", "!" or "?", and a ")" that closes nothing in
// the URL.
func trimURLTail(m string) (url, tail string) {
	end := len(m)
	for end > 0 {
		c := m[end-1]
		if strings.IndexByte(".,;:!?", c) >= 0 || c == ')' && strings.Count(m[:end], "(") < strings.Count(m[:end], ")") {
			end--
			continue
		}
		break
	}
	return m[:end], m[end:]
}
