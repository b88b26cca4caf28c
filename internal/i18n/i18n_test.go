package i18n

import (
	"regexp"
	"strings"
	"testing"
)

var verb = regexp.MustCompile(`%[-+# 0]*\d*(\.\d+)?[a-zA-Z%]`)

func TestEveryStringExistsInBothLanguagesWithTheSameVerbs(t *testing.T) {
	for _, m := range messages {
		if strings.TrimSpace(m.en) == "" || strings.TrimSpace(m.ja) == "" {
			t.Errorf("%s: missing a language", m.key)
		}
		ve, vj := verb.FindAllString(m.en, -1), verb.FindAllString(m.ja, -1)
		if strings.Join(ve, " ") != strings.Join(vj, " ") {
			t.Errorf("%s: verbs differ: en %v, ja %v", m.key, ve, vj)
		}
	}
}

func TestMatch(t *testing.T) {
	c := New()
	for _, tc := range []struct{ choice, accept, want string }{
		{"", "ja-JP,ja;q=0.9", "ja"},
		{"", "en-GB,en;q=0.8", "en"},
		{"", "fr-FR", "en"},
		{"", "", "en"},
		{"", "garbage;;;q=x", "en"},
		{"en", "ja", "en"},
		{"ja", "en", "ja"},
		{"xx", "ja", "ja"},
	} {
		if got := c.Match(tc.choice, tc.accept); got != tc.want {
			t.Errorf("Match(%q, %q) = %q, want %q", tc.choice, tc.accept, got, tc.want)
		}
	}
	if got := c.T("ja", "error.code_wrong", 3); got != "コードが正しくありません。あと 3 回試せます。" {
		t.Errorf("T ja: %q", got)
	}
	if got := c.T("en", "no.such.key"); !strings.HasPrefix(got, "!(") {
		t.Errorf("a missing key must be visible, got %q", got)
	}
}
