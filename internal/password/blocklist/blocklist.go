// Package blocklist answers whether a password is one of the most common
// and breached passwords, without holding the list as text in memory.
//
// The list ships inside the binary as sorted 5-byte prefixes of SHA-256 over
// the case-folded password (blocklist.bin, about 500 KB for 100,000
// entries). A lookup is a binary search over that embedded byte slice, so it
// costs no heap at all. With 2^40 possible prefixes the chance that an
// ordinary password collides with one of 100,000 entries is below one in ten
// million — and a false hit only asks the holder to choose another password.
package blocklist

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"strings"

	"golang.org/x/text/unicode/norm"
)

// KeySize is the number of bytes kept of each entry's hash.
const KeySize = 5

//go:embed blocklist.bin
var data []byte

// Len reports how many passwords the shipped list holds.
func Len() int { return len(data) / KeySize }

// Key returns the lookup key of a password: the first KeySize bytes of the
// SHA-256 of its NFC, lower-cased form. Case is folded because "Password123"
// is no safer than "password123" against a guessing attacker.
func Key(password string) [KeySize]byte {
	sum := sha256.Sum256([]byte(strings.ToLower(norm.NFC.String(password))))
	var k [KeySize]byte
	copy(k[:], sum[:KeySize])
	return k
}

// Contains reports whether password is on the list.
func Contains(password string) bool {
	k := Key(password)
	lo, hi := 0, Len()
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		c := bytes.Compare(data[mid*KeySize:mid*KeySize+KeySize], k[:])
		switch {
		case c == 0:
			return true
		case c < 0:
			lo = mid + 1
		default:
			hi = mid
		}
	}
	return false
}
