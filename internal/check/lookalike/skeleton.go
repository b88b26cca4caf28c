package lookalike

import (
	"strings"
	"unicode/utf8"

	"github.com/mtibben/confusables"
)

// asciiKey holds the skeleton of each ASCII byte, or "" where the byte is its
// own skeleton. Nearly all hosts are ASCII, and confusables.Skeleton always
// allocates (NFD twice plus a buffer), so ASCII strings are mapped with this
// table instead, into a caller's buffer. That is exact, not an
// approximation: for ASCII input NFD is the identity and the TR39 mapping is
// rune by rune, so the skeleton of a string is the concatenation of the
// skeletons of its bytes (a test checks every pair against the library).
var asciiKey [utf8.RuneSelf]string

func init() {
	for c := 0; c < utf8.RuneSelf; c++ {
		if k := slowSkeleton(string(rune(c))); k != string(rune(c)) {
			asciiKey[c] = k
		}
	}
}

// keyBuf is room for the skeleton of one DNS label (at most 63 bytes, each
// ASCII byte mapping to at most 6); longer input falls back to the library.
type keyBuf [63 * 6]byte

// appendKey appends the skeleton of s to buf, which it returns; when s is
// not ASCII, or too long for buf, the result is freshly allocated instead.
func appendKey(buf *keyBuf, s string) []byte {
	k := buf[:0]
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return []byte(slowSkeleton(s))
		}
		m := asciiKey[c]
		if m == "" {
			if len(k) == len(buf) {
				return []byte(slowSkeleton(s))
			}
			k = append(k, c)
			continue
		}
		if len(k)+len(m) > len(buf) {
			return []byte(slowSkeleton(s))
		}
		k = append(k, m...)
	}
	return k
}

// skeleton returns the case-folded TR39 skeleton of s, the form in which two
// confusable strings become equal. It is used when preparing ours, where
// allocation does not matter.
func skeleton(s string) string {
	var buf keyBuf
	return string(appendKey(&buf, s))
}

// slowSkeleton folds case on both sides of the TR39 mapping. Before, because
// hosts are compared in lower case (the DNS ignores case and browsers show
// lower case, so a capital I never reaches the address bar to pass for an l).
// After, because TR39 maps the digit 0 to capital O (and o to itself): without
// it g0tehouse and gotehouse would differ.
func slowSkeleton(s string) string {
	return strings.ToLower(confusables.Skeleton(strings.ToLower(s)))
}

// text is what the comparisons accept: host parts are strings, their
// skeletons are built in stack buffers as byte slices.
type text interface{ ~string | ~[]byte }

func same[A, B text](a A, b B) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// runes counts the runes of a (each byte of invalid UTF-8 that is not a
// continuation byte counts as one; continuation bytes never start a rune).
func runes[A text](a A) int {
	n := 0
	for i := 0; i < len(a); i++ {
		if utf8.RuneStart(a[i]) {
			n++
		}
	}
	return n
}

// firstRune returns the byte length of the first rune of a.
func firstRune[A text](a A) int {
	n := 1
	for n < len(a) && !utf8.RuneStart(a[n]) {
		n++
	}
	return n
}

// editOne reports whether a and b are exactly one rune insertion, deletion or
// substitution apart (Levenshtein distance 1). With the longest common prefix
// and suffix removed, that holds exactly when what is left of each is at most
// one rune and not both empty; so it runs in linear time without the usual
// table.
func editOne[A, B text](a A, b B) bool {
	if same(a, b) {
		return false
	}
	i, j := trimCommon(a, b)
	return runes(a[i:len(a)-j]) <= 1 && runes(b[i:len(b)-j]) <= 1
}

// swapped reports whether b is a with two adjacent, different runes
// exchanged (gatehuose for gatehouse). Levenshtein counts that as two edits,
// but it is the commonest typo and typosquat, so it has its own Kind.
func swapped[A, B text](a A, b B) bool {
	if len(a) != len(b) || same(a, b) {
		return false
	}
	i, j := trimCommon(a, b)
	a, b = a[i:len(a)-j], b[i:len(b)-j]
	if len(a) != len(b) || len(a) == 0 {
		return false
	}
	n := firstRune(a)
	m := firstRune(b)
	if n == len(a) || m == len(b) || firstRune(a[n:]) != len(a)-n || firstRune(b[m:]) != len(b)-m {
		return false // not two runes each
	}
	return same(a[:n], b[m:]) && same(a[n:], b[:m]) && !same(a[:n], a[n:])
}

// trimCommon measures the longest common prefix of a and b and then the
// longest common suffix of what is left, cutting only at rune boundaries so
// that a multi-byte rune is never split between them.
func trimCommon[A, B text](a A, b B) (prefix, suffix int) {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	for i > 0 && (i < len(a) && !utf8.RuneStart(a[i]) || i < len(b) && !utf8.RuneStart(b[i])) {
		i--
	}
	j := 0
	for j < len(a)-i && j < len(b)-i && a[len(a)-1-j] == b[len(b)-1-j] {
		j++
	}
	for j > 0 && !utf8.RuneStart(a[len(a)-j]) {
		j--
	}
	return i, j
}
