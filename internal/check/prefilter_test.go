package check

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestRequiredLiterals(t *testing.T) {
	for _, c := range []struct {
		expr string
		want []string // nil: no gate
	}{
		{`(?i)\b(reply|respond)\b[^.]{0,60}\b(code|pin)\b`, []string{"reply", "respond"}}, // the longer of two
		{`至急|緊急|[0-9０-９]+時間以内`, []string{"至急", "緊急", "時間以内"}},
		{`(?i)lock(ed)? (out|down)`, []string{"lock out", "lock down", "locked out", "locked down"}},
		{`(?i)(\S+)\s*<((?:https?://)[^>\s]+)>`, []string{"<http://", "<https://"}},
		{`[a-z]+`, nil},
		{`(?i)(x?)`, nil},
		{`a|[^b]`, nil},
	} {
		got := requiredLiterals(c.expr)
		var want []string
		for _, w := range c.want {
			want = append(want, fold(w))
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("requiredLiterals(%q) = %q, want %q", c.expr, got, want)
		}
	}
}

// The gate never hides a match: for every content pattern, every sentence
// of the phishing corpus, in its own case and in upper and title case (the
// patterns are case-insensitive), is matched with the gate exactly as
// without it.
func TestPrefilterNeverHidesAMatch(t *testing.T) {
	groups := [][]pattern{asksCode, asksPassword, asksCard, pressure}
	var lines []string
	for _, s := range corpusSentences(t) {
		lines = append(lines, s, strings.ToUpper(s), strings.ToTitle(s), strings.ReplaceAll(s, "k", "\u212a"))
	}
	matched := 0
	for _, g := range groups {
		for _, p := range g {
			if p.get().needles == nil {
				t.Errorf("%s has no literal gate", p.get().re)
			}
			for _, l := range lines {
				want := p.get().re.FindString(l)
				if got := p.find(l, fold(l)); got != want {
					t.Fatalf("%s on %q: gated %q, ungated %q", p.get().re, l, got, want)
				}
				if want != "" {
					matched++
				}
			}
		}
	}
	if matched < 40 {
		t.Fatalf("only %d corpus sentences match a pattern: the test would not notice a gate that hides matches", matched)
	}
}

// corpusSentences are the sentences of the phishing corpus's files.
func corpusSentences(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, dir := range []string{"testdata/phishing/en", "testdata/phishing/ja"} {
		files, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			b, err := os.ReadFile(filepath.Join(dir, f.Name()))
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range sentences(string(b)) {
				out = append(out, s.text)
			}
		}
	}
	return out
}

// TestPatternsCompile compiles every content pattern: they compile on
// first use, so a broken expression must fail here rather than in a
// holder's check.
func TestPatternsCompile(t *testing.T) {
	all := []pattern{urlInText, referenceInText, renderedLink}
	for _, g := range [][]pattern{asksCode, asksPassword, asksCard, asksCall, asksPersonal, pressure} {
		all = append(all, g...)
	}
	for i, p := range all {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("pattern %d: %v", i, r)
				}
			}()
			if p.get().re == nil {
				t.Errorf("pattern %d: no expression", i)
			}
		}()
	}
}
