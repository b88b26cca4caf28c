package random

import (
	"strings"
	"testing"
)

func TestParseReference_AsPeopleTypeIt(t *testing.T) {
	t.Parallel()
	ref := Reference()
	if len(ref) != len("GH-XXXX-XXXX-XXXX") {
		t.Fatalf("reference %q", ref)
	}
	for _, typed := range []string{ref, " gh-" + ref[3:7] + " " + ref[8:12] + " " + ref[13:] + " ", ref[3:7] + ref[8:12] + ref[13:], "ＧＨ－" + ref[3:], strings.ToLower(ref)} {
		if got, ok := ParseReference(typed); !ok || got != ref {
			t.Errorf("ParseReference(%q) = %q %v, want %q", typed, got, ok, ref)
		}
	}
	// A reference whose first group starts with GH, typed without the
	// prefix, keeps its GH (it once lost it, 1 time in ~1,000).
	for _, typed := range []string{"GHSP 4CSQ-CSMA", "ghsp4csqcsma", "GH-GHSP-4CSQ-CSMA", "GHGHSP4CSQCSMA"} {
		if got, ok := ParseReference(typed); !ok || got != "GH-GHSP-4CSQ-CSMA" {
			t.Errorf("ParseReference(%q) = %q %v, want GH-GHSP-4CSQ-CSMA", typed, got, ok)
		}
	}
	// References issued before issue 10 had 8 characters; they still read.
	if got, ok := ParseReference("gh 7k3p q9xw"); !ok || got != "GH-7K3P-Q9XW" {
		t.Errorf("old reference: %q %v", got, ok)
	}
	for _, bad := range []string{"", "GH-1234-5678", "GH-ABCD", "GH-ABCD-EFGH-JK", "GH-ABCD-EFGH-JKMN-P", "<script>", "GH-OOOO-IIII", "GH-ABCD-EFGH-JKM0"} {
		if got, ok := ParseReference(bad); ok {
			t.Errorf("ParseReference(%q) = %q, want refused", bad, got)
		}
	}
}
