package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzTypedCode: whatever is typed in a code field, typedCode either
// refuses it or returns exactly six ASCII digits — never panics, never
// lets anything else through to the code check.
func FuzzTypedCode(f *testing.F) {
	for _, s := range []string{"123456", "123 456", "123-456", "６２２２８９", "12345", "1234567", "", "abcdef", "\x00", "１２３ー４５６", strings.Repeat("9", 100)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, typed string) {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(url.Values{"code": {typed}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		c, ok := typedCode(r)
		if !ok {
			return
		}
		if len(c) != 6 || !utf8.ValidString(c) || strings.Trim(c, "0123456789") != "" {
			t.Fatalf("typedCode(%q) = %q", typed, c)
		}
	})
}
