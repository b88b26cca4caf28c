package password

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"gatehouse/internal/password/blocklist"
)

// MaxBytes is the longest password accepted, in bytes after NFC. Long enough
// for any passphrase (NIST asks for at least 64 characters), short enough
// that hashing it costs nothing extra.
const MaxBytes = 1000

// Reason says why a password was refused. Each one is shown to the holder
// (NIST 800-63B-4 §3.1.1.2 requires the reason to be stated).
type Reason string

// The reasons a password can be refused.
const (
	TooShort      Reason = "too_short"
	TooLong       Reason = "too_long"
	InvalidText   Reason = "invalid_text"
	Common        Reason = "common"
	ContainsEmail Reason = "contains_email"
	ContainsName  Reason = "contains_service"
	Reused        Reason = "reused"
	// Repetitive: only whitespace, fewer than three different characters,
	// or a unit of up to four characters repeated. Length is what makes a
	// password strong, and such a password has none of it.
	Repetitive Reason = "repetitive"
)

// Policy is the password rule: a length range and a blocklist, with no
// composition rules (ASVS v5.0.0-6.2.5).
type Policy struct {
	MinLength   int    // in characters (code points); 8 to 64
	ServiceName string // refused as part of a password, e.g. "Gatehouse"
}

// Check returns the first reason pw is unacceptable for the account with the
// given email, or "" when it is acceptable. Length is counted in code points
// after NFC normalisation, so "é" typed either way counts once.
func (p Policy) Check(pw, email string) Reason {
	if !utf8.ValidString(pw) {
		return InvalidText
	}
	for _, r := range pw {
		// Spaces are fine; control characters are never typed on purpose and
		// break how the password is shown and stored elsewhere.
		if unicode.IsControl(r) {
			return InvalidText
		}
	}
	n := norm.NFC.String(pw)
	if len(n) > MaxBytes {
		return TooLong
	}
	if utf8.RuneCountInString(n) < p.MinLength {
		return TooShort
	}
	if repetitive(n) {
		return Repetitive
	}
	lower := strings.ToLower(n)
	if local, _, ok := strings.Cut(strings.ToLower(email), "@"); ok && len([]rune(local)) >= 3 && strings.Contains(lower, local) {
		return ContainsEmail
	}
	if name := strings.ToLower(p.ServiceName); name != "" && strings.Contains(lower, name) {
		return ContainsName
	}
	if blocklist.Contains(n) {
		return Common
	}
	return ""
}

// repetitive reports whether pw, leaving its whitespace aside, is empty,
// uses fewer than three different characters, or is one short unit (up to
// four characters) repeated: "            ", "aaaaaaaaaaaa", "abababababab",
// "a a a a a a a", "abcabcabcabc". Its length is then no strength at all.
func repetitive(pw string) bool {
	var rs []rune
	distinct := map[rune]bool{}
	for _, r := range pw {
		if !unicode.IsSpace(r) {
			rs = append(rs, r)
			distinct[r] = true
		}
	}
	if len(distinct) < 3 {
		return true
	}
	for unit := 3; unit <= 4 && unit < len(rs); unit++ {
		if len(rs)%unit != 0 && len(rs) < 3*unit {
			continue
		}
		periodic := true
		for i := unit; i < len(rs); i++ {
			if rs[i] != rs[i-unit] {
				periodic = false
				break
			}
		}
		if periodic {
			return true
		}
	}
	return false
}
