package account

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalizeEmail(t *testing.T) {
	for in, want := range map[string]string{
		"  Alice@Example.COM ":    "Alice@example.com",
		"bob@bücher.example":      "bob@xn--bcher-kva.example",
		"carol@ÉXAMPLE.jp":        "carol@xn--xample-9ua.jp",
		"d.e+tag@sub.example.org": "d.e+tag@sub.example.org",
		"名前@例え.jp":                "名前@xn--r8jz45g.jp",
	} {
		got, err := NormalizeEmail(in)
		if err != nil || got != want {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "plain", "@example.com", "a@", "a@localhost", "a b@example.com", "a@exa mple.com",
		"a\x00@example.com", "a@example.com.", strings.Repeat("a", 65) + "@example.com", strings.Repeat("a", 10000) + "@example.com", "a\xff@example.com"} {
		if _, err := NormalizeEmail(bad); !errors.Is(err, ErrInvalidEmail) {
			t.Errorf("NormalizeEmail(%q) accepted", bad)
		}
	}
}

func TestNormalizePhone_E164(t *testing.T) {
	for in, want := range map[string]string{
		"090-1234-5678":    "+819012345678",
		"+81 90 1234 5678": "+819012345678",
		"+1 415 555 2671":  "+14155552671",
		"(03) 1234-5678":   "+81312345678",
	} {
		got, err := NormalizePhone(in, "JP")
		if err != nil || got != want {
			t.Errorf("NormalizePhone(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"12", "not a number", "+999 1234", strings.Repeat("9", 100)} {
		if _, err := NormalizePhone(bad, "JP"); !errors.Is(err, ErrInvalidPhone) {
			t.Errorf("NormalizePhone(%q) accepted", bad)
		}
	}
}
