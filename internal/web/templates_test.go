package web_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var (
	templateAction = regexp.MustCompile(`(?s)\{\{.*?\}\}`)
	templateTag    = regexp.MustCompile(`(?s)<[^>]*>`)
)

// templateText is the text a template writes of its own: what is left
// once its actions (catalog strings, values) and its tags are taken out.
func templateText(src string) string {
	return templateTag.ReplaceAllString(templateAction.ReplaceAllString(src, " "), " ")
}

// templateTextOK reports whether a template's own text is only what reads
// the same in every language: spaces and the separators "·" and "—".
// Anything else — a colon after a label, brackets around a value — is
// punctuation of one language, and belongs in the catalog ("場所：%s",
// punct.colon), or the Japanese pages read 「場所: 不明」.
func templateTextOK(text string) bool {
	return !strings.ContainsFunc(text, func(r rune) bool {
		return !strings.ContainsRune(" \t\r\n·—", r)
	})
}

func TestTemplates_AddNoPunctuationOfTheirOwn(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		src string
		ok  bool
	}{
		{`<p>{{.When}} · {{t $.Lang "activity.place" .Place}}</p>`, true},
		{`<p><strong>{{.What}}</strong> — <span>{{.Outcome}}</span></p>`, true},
		{`<p>{{t $.Lang "activity.place"}}: {{.Place}}</p>`, false},
		{`<dd>{{.Title}}{{with .Purpose}} ({{.}}){{end}}</dd>`, false},
		{`<p>{{t $.Lang "messages.why"}}：{{.}}</p>`, false},
		{`<a href="/why?ref={{.R}}&amp;x=1" title="{{t .Lang "x"}}">{{t .Lang "y"}}</a>`, true},
	} {
		if got := templateTextOK(templateText(tc.src)); got != tc.ok {
			t.Errorf("%s: ok=%v, want %v", tc.src, got, tc.ok)
		}
	}
	files, err := filepath.Glob("templates/*.html")
	if err != nil || len(files) == 0 {
		t.Fatalf("no templates: %v", err)
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(src), "\n") {
			if text := templateText(line); !templateTextOK(text) {
				t.Errorf("%s:%d writes %q of its own: %s", f, i+1, strings.Join(strings.Fields(text), " "), line)
			}
		}
	}
}
