package account

import (
	"errors"
	"strings"
	"testing"
)

// TestNormalizeEmail_OneRule_HTMLValidEmailWithIDN is the address rule as a
// table: what <input type=email> accepts, plus Unicode domains; nothing
// else (ASVS v5.0.0-2.2.1 input validation).
func TestNormalizeEmail_OneRule_HTMLValidEmailWithIDN(t *testing.T) {
	for in, want := range map[string]string{
		"  Alice@Example.COM ":             "Alice@example.com",
		"bob@bücher.example":               "bob@xn--bcher-kva.example",
		"carol@ÉXAMPLE.jp":                 "carol@xn--xample-9ua.jp",
		"d.e+tag@sub.example.org":          "d.e+tag@sub.example.org",
		"taro@例え.jp":                       "taro@xn--r8jz45g.jp",
		"o'neil@example.ie":                "o'neil@example.ie",
		"a!#$%&*+/=?^_`{|}~-z@example.com": "a!#$%&*+/=?^_`{|}~-z@example.com",
		"x@a-b.example":                    "x@a-b.example",
		"x@123.example":                    "x@123.example",
	} {
		got, err := NormalizeEmail(in)
		if err != nil || got != want {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for name, bad := range map[string]string{
		"empty": "", "no at": "plain", "no local part": "@example.com", "no domain": "a@",
		"single-label domain": "a@localhost", "space in local part": "a b@example.com", "space in domain": "a@exa mple.com",
		"NUL": "a\x00@example.com", "trailing dot": "a@example.com.", "local part over 64": strings.Repeat("a", 65) + "@example.com",
		"huge": strings.Repeat("a", 10000) + "@example.com", "invalid UTF-8": "a\xff@example.com",
		"bidi override":               "a\u202e@example.com",
		"bidi override in domain":     "a@exa\u202emple.com",
		"zero-width space":            "a\u200b@example.com",
		"zero-width joiner in domain": "a@exam\u200dple.com",
		"comment":                     "a(comment)@example.com",
		"quoted local part":           "\"a b\"@example.com",
		"unquoted specials":           "a<b>@example.com",
		"comma":                       "a,b@example.com",
		"two ats":                     "a@b@example.com",
		"bracketed IP literal":        "a@[192.0.2.1]",
		"bare IPv4 domain":            "a@192.0.2.1",
		"IPv6 literal":                "a@[IPv6:2001:db8::1]",
		"unicode local part":          "名前@例え.jp",
		"label starts with hyphen":    "a@-example.com",
		"empty label":                 "a@example..com",
		"underscore in domain":        "a@ex_ample.com",
	} {
		if got, err := NormalizeEmail(bad); !errors.Is(err, ErrInvalidEmail) {
			t.Errorf("%s: NormalizeEmail(%q) = %q, want refused", name, bad, got)
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

func TestDisplayEmail_UnicodeDomainAsTyped(t *testing.T) {
	for in, want := range map[string]string{
		"taro@xn--r8jz45g.jp":       "taro@例え.jp",
		"bob@xn--bcher-kva.example": "bob@bücher.example",
		"Plain@example.com":         "Plain@example.com",
		"no-at-sign":                "no-at-sign",
	} {
		if got := DisplayEmail(in); got != want {
			t.Errorf("DisplayEmail(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMaskEmail_ShowsFirstCharacterAndDomain(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"taro@example.com":        "t***@example.com",
		"Ü@xn--bcher-kva.example": "Ü***@bücher.example",
		"花子@example.jp":           "花***@example.jp",
		"nobody":                  "***",
	} {
		if got := MaskEmail(in); got != want {
			t.Errorf("MaskEmail(%q) = %q, want %q", in, got, want)
		}
	}
}
