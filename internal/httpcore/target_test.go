package httpcore

import "testing"

// TestLocalTarget_RefusesWhatABrowserWouldTakeOffSite_V3_7_2 is the
// open-redirect regression: "/%09/evil.example/" used to come back as
// Location "/<TAB>/evil.example/", which browsers read as //evil.example/.
func TestLocalTarget_RefusesWhatABrowserWouldTakeOffSite_V3_7_2(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{
		"", "//evil.example/", "/\t/evil.example/", "/\n/evil.example", "/\r/evil.example", "\t//evil.example",
		"/\\evil.example", "\\\\evil.example", "/\\/evil.example", "https://evil.example/", "http:/evil.example",
		"javascript:alert(1)", "evil.example", " //evil.example", "/.//evil.example", "/x/..//evil.example",
		"/%2e//evil.example", "/a/./b", "/a/%2E%2E/b", "/\x00/evil", "/\x7f/evil", "/\u0085/evil", "/\xff", "///evil.example",
	} {
		if got := LocalTarget(bad, "/"); got != "/" {
			t.Errorf("LocalTarget(%q) = %q, want the fallback", bad, got)
		}
	}
	for in, want := range map[string]string{
		"/":                             "/",
		"/signup/confirm?c=abc&code=12": "/signup/confirm?c=abc&code=12",
		"/account":                      "/account",
		"/%2F/evil.example":             "/%2F/evil.example", // a path segment, never a host
		"/password/reset?c=x%26y":       "/password/reset?c=x%26y",
	} {
		if got := LocalTarget(in, "/fallback"); got != want {
			t.Errorf("LocalTarget(%q) = %q, want %q", in, got, want)
		}
	}
}
