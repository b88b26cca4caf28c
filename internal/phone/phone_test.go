package phone

import (
	"strings"
	"testing"
)

// TestNormalize_MobileNumbersOnly: numbers typed the ways people type them
// become E.164; what does not parse, and numbers that cannot receive SMS
// (landline, toll-free, internet telephony), are refused with the reason.
func TestNormalize_MobileNumbersOnly(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		typed, region, want string
		err                 error
	}{
		{"090-1234-5678", "JP", "+819012345678", nil},
		{"０９０－１２３４－５６７８", "JP", "+819012345678", nil},
		{"+81 80 9876 5432", "US", "+818098765432", nil},
		{"(415) 555-2671", "US", "+14155552671", nil}, // fixed line or mobile: North America cannot tell
		{"07400 123456", "GB", "+447400123456", nil},
		{"03-1234-5678", "JP", "", ErrNotMobile},  // Tokyo landline
		{"0120-123-456", "JP", "", ErrNotMobile},  // toll-free
		{"050-1234-5678", "JP", "", ErrNotMobile}, // internet telephony
		{"020 7946 0018", "GB", "", ErrNotMobile}, // London landline
		{"hello", "JP", "", ErrInvalid},
		{"12", "JP", "", ErrInvalid},
		{"", "JP", "", ErrInvalid},
		{strings.Repeat("9", 65), "JP", "", ErrInvalid},
	} {
		got, err := Normalize(tc.typed, tc.region)
		if got != tc.want || err != tc.err {
			t.Errorf("Normalize(%q, %s) = %q, %v; want %q, %v", tc.typed, tc.region, got, err, tc.want, tc.err)
		}
	}
}

func TestMask_LastTwoDigits(t *testing.T) {
	t.Parallel()
	if got := Mask("+819012345678"); got != "78" {
		t.Errorf("Mask = %q", got)
	}
}

// FuzzNormalize: the phone form's number is either refused or accepted as
// E.164 that reads back as itself, and accepted numbers are mobile.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"090-1234-5678", "+81 90 1234 5678", "０９０１２３４５６７８", "+1 415 555 2671", "", "abc", "+", "03-1234-5678", "050-1234-5678", "+999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, typed string) {
		p, err := Normalize(typed, "JP")
		if err != nil {
			if err != ErrInvalid && err != ErrNotMobile {
				t.Fatalf("Normalize(%q): unexpected error %v", typed, err)
			}
			return
		}
		if !strings.HasPrefix(p, "+") || len(p) > 16 || len(p) < 3 || strings.Trim(p[1:], "0123456789") != "" {
			t.Fatalf("Normalize(%q) = %q, not E.164", typed, p)
		}
		if again, err := Normalize(p, "JP"); err != nil || again != p {
			t.Fatalf("E.164 %q reads back as %q (%v)", p, again, err)
		}
	})
}
