package backup

import (
	"strings"
	"testing"
)

// FuzzNormalize: a typed backup code is either refused or read as sixteen
// characters of the code alphabet, and reading it again changes nothing.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"ABCD-EFGH-JKMN-PQRS", "abcd efgh jkmn pqrs", "ＡＢＣＤーＥＦＧＨ－ＪＫＭＮ　ＰＱＲＳ", "OIL0-OIL0-OIL0-OIL0", "", "ÜÜÜÜ", strings.Repeat("A", 17)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, typed string) {
		c, ok := Normalize(typed)
		if !ok {
			return
		}
		if len(c) != Length || strings.Trim(c, alphabet) != "" {
			t.Fatalf("Normalize(%q) = %q", typed, c)
		}
		if again, ok := Normalize(c); !ok || again != c {
			t.Fatalf("Normalize is not stable on %q: %q", c, again)
		}
	})
}
