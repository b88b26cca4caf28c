// Package random makes the unguessable values Gatehouse hands out: ids that
// appear in URLs, bearer tokens, one-time codes and message references. All
// of them come from crypto/rand; ids are random rather than sequential so
// that a URL or a message reveals nothing about how many others exist.
package random

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
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

// Reference returns a human-typable message reference like GH-7K3P-Q9XW
// (about 39 bits of randomness; uniqueness is enforced by the store).
func Reference() string {
	var sb strings.Builder
	sb.WriteString("GH-")
	n := big.NewInt(int64(len(referenceAlphabet)))
	for i := range 8 {
		if i == 4 {
			sb.WriteByte('-')
		}
		d, _ := rand.Int(rand.Reader, n)
		sb.WriteByte(referenceAlphabet[d.Int64()])
	}
	return sb.String()
}

// NormalizeReference upper-cases a typed reference, so "gh-7k3p-q9xw" and
// " GH 7K3P Q9XW " find the same message.
func NormalizeReference(s string) string {
	return strings.ReplaceAll(strings.ToUpper(strings.TrimSpace(s)), " ", "-")
}
