// Package random makes the unguessable values Gatehouse hands out: ids that
// appear in URLs, bearer tokens, one-time codes and message references. All
// of them come from crypto/rand; ids are random rather than sequential so
// that a URL or a message reveals nothing about how many others exist.
package random

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"golang.org/x/text/unicode/norm"
	"math/big"
	"strings"
)

var idEncoding = base32.NewEncoding("abcdefghijkmnpqrstuvwxyz23456789").WithPadding(base32.NoPadding)

// ID returns a 128-bit random identifier, 26 lower-case characters, safe in
// URLs and file names.
func ID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return idEncoding.EncodeToString(b)
}

// Token returns a 256-bit random bearer token, base64url without padding.
func Token() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Digits returns n uniformly random decimal digits.
func Digits(n int) string {
	var sb strings.Builder
	ten := big.NewInt(10)
	for range n {
		d, _ := rand.Int(rand.Reader, ten)
		sb.WriteByte(byte('0' + d.Int64()))
	}
	return sb.String()
}

// referenceAlphabet leaves out characters that are easily confused when read
// aloud or typed from paper: 0/O, 1/I/L, U/V.
const referenceAlphabet = "23456789ABCDEFGHJKMNPQRSTWXYZ"

// Reference returns a human-typable message reference like
// GH-7K3P-Q9XW-M4RT: 12 characters of a 29-letter alphabet, about 58 bits.
// That is enough that a reference cannot be guessed — someone trying
// references at the checker's rate limit would find one of ten million
// stored messages about once in a million years — and that two messages
// practically never draw the same one (uniqueness is still enforced by the
// store). Installations before issue 10 issued 8-character references
// (GH-XXXX-XXXX, about 39 bits); ParseReference still reads them.
func Reference() string {
	var sb strings.Builder
	sb.WriteString("GH-")
	n := big.NewInt(int64(len(referenceAlphabet)))
	for i := range 12 {
		if i == 4 || i == 8 {
			sb.WriteByte('-')
		}
		d, _ := rand.Int(rand.Reader, n)
		sb.WriteByte(referenceAlphabet[d.Int64()])
	}
	return sb.String()
}

// ParseReference reads a reference as a person types it — any case,
// full-width characters, spaces or dashes anywhere, with or without the
// "GH" prefix ("gh 7k3p q9xw", "７Ｋ３Ｐ－Ｑ９ＸＷ") — and returns its
// stored form GH-XXXX-XXXX-XXXX (or the older GH-XXXX-XXXX), or false when
// it cannot be one.
func ParseReference(s string) (string, bool) {
	s = strings.ToUpper(norm.NFKC.String(strings.TrimSpace(s)))
	if len(s) > 64 {
		return "", false
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case isSeparator(r):
		default:
			b.WriteRune(r)
		}
	}
	typed := s
	s = b.String()
	// "GH" is the prefix when it stands apart ("GH-…", "GH …"), or when the
	// length says so (10 or 14 characters with it, 8 or 12 without): a
	// reference whose first group itself starts with GH ("GH-GHSP-…",
	// typed "GHSP 4CSQ…") keeps it.
	if strings.HasPrefix(s, "GH") && (len(s) == 10 || len(s) == 14 || strings.IndexFunc(typed[2:], isSeparator) == 0) {
		s = s[2:]
	}
	if (len(s) != 8 && len(s) != 12) || strings.Trim(s, referenceAlphabet) != "" {
		return "", false
	}
	if len(s) == 8 {
		return "GH-" + s[:4] + "-" + s[4:], true
	}
	return "GH-" + s[:4] + "-" + s[4:8] + "-" + s[8:], true
}

// isSeparator reports whether r is one of the characters people type
// between a reference's groups (spaces, hyphens and their look-alikes).
func isSeparator(r rune) bool {
	return r == ' ' || r == '-' || r == '\u2010' || r == '\u2212' || r == '\u30fc'
}
