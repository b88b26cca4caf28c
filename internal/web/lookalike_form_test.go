package web

import "testing"

// TestHostBothForms: a look-alike host reads as people see it, with the
// ASCII form registrars act on, whichever form it was stored in.
func TestHostBothForms(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"gatehоuse.com":           "gatehоuse.com (xn--gatehuse-rbh.com)", // a Cyrillic о
		"xn--gatehuse-rbh.com":    "gatehоuse.com (xn--gatehuse-rbh.com)",
		"gatehouse-login.example": "gatehouse-login.example",
		"xn--zz":                  "xn--zz", // not a valid label: as it is
	} {
		if got := hostBothForms(in); got != want {
			t.Errorf("hostBothForms(%q) = %q, want %q", in, got, want)
		}
	}
}
