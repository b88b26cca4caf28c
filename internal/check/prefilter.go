package check

import (
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"sync"
	"unicode"
)

// pattern is a content pattern with the literals every match contains,
// derived from the expression itself. Most sentences of a long message
// hold none of them, and a substring search is far cheaper than running
// the expression: on a 50 KB message the gate more than halves the check.
//
// A pattern is compiled on first use: the checker's few dozen expressions
// took a millisecond of every start (the package's initialisation), for a
// page most starts never serve. The expressions are constants, compiled by
// the tests; get still panics on one that does not compile.
type pattern struct {
	get func() compiledPattern
}

// compiledPattern is a pattern ready to run.
type compiledPattern struct {
	re *regexp.Regexp
	// needles, case-folded (fold); nil when the expression promises no
	// literal, and then it is always run.
	needles []string
}

func mustPattern(expr string) pattern {
	return pattern{get: sync.OnceValue(func() compiledPattern {
		return compiledPattern{re: regexp.MustCompile(expr), needles: requiredLiterals(expr)}
	})}
}

func mustPatterns(exprs ...string) []pattern {
	out := make([]pattern, len(exprs))
	for i, e := range exprs {
		out[i] = mustPattern(e)
	}
	return out
}

// find returns the first match of p in s, whose folded form is folded.
func (p pattern) find(s, folded string) string {
	if !p.gated(folded) {
		return ""
	}
	return p.get().re.FindString(s)
}

// gated reports whether folded holds one of p's needles (or p has none).
func (p pattern) gated(folded string) bool {
	return p.get().needles == nil || slices.ContainsFunc(p.get().needles, func(n string) bool { return strings.Contains(folded, n) })
}

// lines calls fn with each line of text that holds one of p's needles,
// until fn returns false. For expressions that never span a line break,
// matching line by line finds the same matches, and on short lines Go's
// regexp runs its fast backtracker.
func (p pattern) lines(text string, fn func(line string) bool) {
	for line := range strings.Lines(text) {
		if p.gated(fold(line)) && !fn(line) {
			return
		}
	}
}

// findFirst returns p's first match in text, for a p that never spans a
// line break.
func findFirst(p pattern, text string) string {
	var m string
	p.lines(text, func(line string) bool {
		m = p.get().re.FindString(line)
		return m == ""
	})
	return m
}

// findLast returns the last match of p in text, line by line, or "".
func findLast(p pattern, text string) string {
	var m string
	p.lines(text, func(line string) bool {
		if all := p.get().re.FindAllString(line, -1); len(all) > 0 {
			m = all[len(all)-1]
		}
		return true
	})
	return m
}

// findAll is find for up to n matches.
func (p pattern) findAll(s, folded string, n int) []string {
	if !p.gated(folded) {
		return nil
	}
	return p.get().re.FindAllString(s, n)
}

// fold maps every rune to the smallest rune that case-folds to it, the
// way (?i) compares: "K", "k" and the Kelvin sign all become "K". Folding
// both the needles and the text keeps the gate from ever refusing a
// sentence the expression would match.
func fold(s string) string {
	return strings.Map(foldRune, s)
}

func foldRune(r rune) rune {
	if r < 0x80 {
		// ASCII's orbits ({k, K, U+212A}, {s, S, U+017F}) start at the
		// upper-case letter.
		if 'a' <= r && r <= 'z' {
			return r - 'a' + 'A'
		}
		return r
	}
	m := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		m = min(m, f)
	}
	return m
}

// requiredLiterals returns strings of which every match of expr contains
// at least one (folded), or nil when it cannot tell.
func requiredLiterals(expr string) []string {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil
	}
	set := required(re.Simplify())
	for i := range set {
		set[i] = fold(set[i])
	}
	if shortest(set) < 2 {
		return nil // a needle of one letter gates almost nothing
	}
	return set
}

// maxExact bounds the sets of strings exact enumerates.
const maxExact = 64

// exact returns every string re can match, when that is a small finite
// set; ok is false otherwise. Zero-width assertions (\b, ^) match "".
func exact(re *syntax.Regexp) (set []string, ok bool) {
	switch re.Op {
	case syntax.OpLiteral:
		return []string{string(re.Rune)}, true
	case syntax.OpEmptyMatch, syntax.OpWordBoundary, syntax.OpNoWordBoundary,
		syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText:
		return []string{""}, true
	case syntax.OpCapture:
		return exact(re.Sub[0])
	case syntax.OpCharClass:
		// A small class ([ae]) is a few one-rune strings.
		var out []string
		for i := 0; i+1 < len(re.Rune); i += 2 {
			for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
				if out = append(out, string(r)); len(out) > maxExact {
					return nil, false
				}
			}
		}
		return out, true
	case syntax.OpQuest:
		s, ok := exact(re.Sub[0])
		if !ok {
			return nil, false
		}
		return append(s, ""), true
	case syntax.OpAlternate:
		var out []string
		for _, sub := range re.Sub {
			s, ok := exact(sub)
			if !ok || len(out)+len(s) > maxExact {
				return nil, false
			}
			out = append(out, s...)
		}
		return out, true
	case syntax.OpConcat:
		out := []string{""}
		for _, sub := range re.Sub {
			s, ok := exact(sub)
			if !ok || len(out)*len(s) > maxExact {
				return nil, false
			}
			out = product(out, s)
		}
		return out, true
	}
	return nil, false
}

func product(a, b []string) []string {
	out := make([]string, 0, len(a)*len(b))
	for _, x := range a {
		for _, y := range b {
			out = append(out, x+y)
		}
	}
	return out
}

// required returns strings of which every match of re contains one, or
// nil. For a concatenation it takes the best of its parts: each maximal
// run of exactly-known parts gives the products of their sets, and any
// other part gives its own required set.
func required(re *syntax.Regexp) []string {
	if s, ok := exact(re); ok {
		return s
	}
	switch re.Op {
	case syntax.OpCapture, syntax.OpPlus:
		return required(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return required(re.Sub[0])
		}
	case syntax.OpAlternate:
		var out []string
		for _, sub := range re.Sub {
			s := required(sub)
			if s == nil {
				return nil
			}
			out = append(out, s...)
		}
		return out
	case syntax.OpConcat:
		var best []string
		consider := func(s []string) {
			if s != nil && (best == nil || shortest(s) > shortest(best)) {
				best = s
			}
		}
		run := []string{""}
		for _, sub := range re.Sub {
			if s, ok := exact(sub); ok && len(run)*len(s) <= maxExact {
				run = product(run, s)
				continue
			}
			// The run is followed by sub's match, which begins with one
			// of its prefixes: "<" then "http://" is "<http://".
			if p := prefixes(sub); len(run)*len(p) <= maxExact {
				consider(product(run, p))
			}
			consider(run)
			run = []string{""}
			if s, ok := exact(sub); ok {
				run = s
			} else {
				consider(required(sub))
			}
		}
		consider(run)
		if shortest(best) == 0 {
			return nil
		}
		return best
	}
	return nil
}

// prefixes returns strings of which every match of re begins with one
// ({""} when it cannot tell).
func prefixes(re *syntax.Regexp) []string {
	if s, ok := exact(re); ok {
		return s
	}
	switch re.Op {
	case syntax.OpCapture, syntax.OpPlus:
		return prefixes(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return prefixes(re.Sub[0])
		}
	case syntax.OpAlternate:
		var out []string
		for _, sub := range re.Sub {
			if out = append(out, prefixes(sub)...); len(out) > maxExact {
				return []string{""}
			}
		}
		return out
	case syntax.OpConcat:
		run := []string{""}
		for _, sub := range re.Sub {
			if s, ok := exact(sub); ok && len(run)*len(s) <= maxExact {
				run = product(run, s)
				continue
			}
			if p := prefixes(sub); len(run)*len(p) <= maxExact {
				return product(run, p)
			}
			return run
		}
		return run
	}
	return []string{""}
}

func shortest(set []string) int {
	if len(set) == 0 {
		return 0
	}
	n := len(set[0])
	for _, s := range set[1:] {
		n = min(n, len(s))
	}
	return n
}
