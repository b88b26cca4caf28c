package account

import (
	"strings"
	"testing"
)

// FuzzNormalizePhone: a typed phone number is either refused or stored as
// E.164 (+ and up to fifteen digits), and the stored form reads back as
// itself.
func FuzzNormalizePhone(f *testing.F) {
	for _, s := range []string{"090-1234-5678", "+81 90 1234 5678", "０９０１２３４５６７８", "+1 415 555 0100", "", "abc", "+", "+999999999999999999", "03-1234-5678"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, typed string) {
		p, err := NormalizePhone(typed, "JP")
		if err != nil {
			return
		}
		if !strings.HasPrefix(p, "+") || len(p) > 16 || len(p) < 3 || strings.Trim(p[1:], "0123456789") != "" {
			t.Fatalf("NormalizePhone(%q) = %q, not E.164", typed, p)
		}
		if again, err := NormalizePhone(p, "JP"); err != nil || again != p {
			t.Fatalf("E.164 %q reads back as %q (%v)", p, again, err)
		}
	})
}
