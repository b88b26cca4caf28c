package lookalike

import (
	"sort"
	"unicode"
	"unicode/utf8"
)

// script is one Unicode script table with its name.
type script struct {
	name  string
	table *unicode.RangeTable
}

// scripts lists the scripts a rune is looked up in: first those seen in
// domain names (so the usual lookup is short), then every other script in
// the unicode package, by name. Common (digits, hyphen, the katakana-hiragana
// prolonged sound mark ー) and Inherited (combining marks) belong to no
// script of their own and are never counted.
var scripts = func() []script {
	s := []script{
		{"Latin", unicode.Latin},
		{"Cyrillic", unicode.Cyrillic},
		{"Greek", unicode.Greek},
		{"Han", unicode.Han},
		{"Hiragana", unicode.Hiragana},
		{"Katakana", unicode.Katakana},
		{"Hangul", unicode.Hangul},
		{"Arabic", unicode.Arabic},
		{"Hebrew", unicode.Hebrew},
		{"Thai", unicode.Thai},
		{"Armenian", unicode.Armenian},
		{"Georgian", unicode.Georgian},
		{"Devanagari", unicode.Devanagari},
		{"Bopomofo", unicode.Bopomofo},
		{"Cherokee", unicode.Cherokee},
	}
	seen := map[string]bool{"Common": true, "Inherited": true}
	for _, x := range s {
		seen[x.name] = true
	}
	var rest []string
	for name := range unicode.Scripts {
		if !seen[name] {
			rest = append(rest, name)
		}
	}
	sort.Strings(rest)
	for _, name := range rest {
		s = append(s, script{name, unicode.Scripts[name]})
	}
	return s
}()

// scriptsOf returns the scripts label mixes in order of first appearance, or
// nil when it uses one script (or none). It allocates only in the mixed case.
func scriptsOf(label string) []string {
	var buf [4]int
	found := buf[:0]
	for i := 0; i < len(label); {
		if c := label[i]; c < utf8.RuneSelf {
			i++
			if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' {
				found = addScript(found, 0) // Latin
			}
			continue
		}
		r, n := utf8.DecodeRuneInString(label[i:])
		i += n
		if r == utf8.RuneError || unicode.Is(unicode.Common, r) || unicode.Is(unicode.Inherited, r) {
			continue
		}
		for j := range scripts {
			if unicode.Is(scripts[j].table, r) {
				found = addScript(found, j)
				break
			}
		}
	}
	if len(found) < 2 {
		return nil
	}
	names := make([]string, len(found))
	for i, j := range found {
		names[i] = scripts[j].name
	}
	return names
}

func addScript(found []int, j int) []int {
	for _, k := range found {
		if k == j {
			return found
		}
	}
	return append(found, j)
}
