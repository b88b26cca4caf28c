package random

import "testing"

func TestParseReference_AsPeopleTypeIt(t *testing.T) {
	t.Parallel()
	ref := Reference()
	for _, typed := range []string{ref, " gh-" + ref[3:7] + " " + ref[8:] + " ", ref[3:7] + ref[8:], "ＧＨ－" + ref[3:]} {
		if got, ok := ParseReference(typed); !ok || got != ref {
			t.Errorf("ParseReference(%q) = %q %v, want %q", typed, got, ok, ref)
		}
	}
	for _, bad := range []string{"", "GH-1234-5678", "GH-ABCD", "GH-ABCD-EFGH-JK", "<script>", "GH-OOOO-IIII"} {
		if got, ok := ParseReference(bad); ok {
			t.Errorf("ParseReference(%q) = %q, want refused", bad, got)
		}
	}
}
