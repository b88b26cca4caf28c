package check

import (
	"regexp"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"gatehouse/internal/outbox"
)

// codeRun matches the code a delivered message carries where the stored
// one shows outbox.CodeMask. Codes are digits today; letters are allowed so
// that a future code alphabet does not make genuine mail unmatchable.
const codeRun = `([0-9A-Za-z]{4,12})`

// template is a stored message prepared for comparison: its text with the
// code slot as a wildcard.
type template struct {
	// parts is the trimmed text split at each CodeMask: a delivered part
	// is parts[0], a code, parts[1], the same code, … parts[n].
	parts []string
	// stripped is the text without whitespace, with the code slot kept as
	// CodeMask, for finding pasted pieces; strippedRE finds the whole of
	// it (code slot wildcarded) inside a stripped paste.
	stripped   string
	strippedRE *regexp.Regexp
	email      bool
}

// newTemplate prepares text (stored, CodeMask in the code's place) for
// matchesExactly, the comparison of a raw email's decoded parts.
func newTemplate(text string, email bool) *template {
	return &template{parts: strings.Split(strings.TrimSpace(text), outbox.CodeMask), email: email}
}

// newPasteTemplate prepares text for comparePaste as well. An email's text
// has a "--" line before its footer, which an HTML rendering does not: it
// is left out of the stripped form, so a paste from either matches.
func newPasteTemplate(text string, email bool) *template {
	t := newTemplate(text, email)
	s := text
	if email {
		s = strings.Replace(s, "\n--\n", "\n", 1)
	}
	t.stripped = strip(s)
	t.strippedRE = regexp.MustCompile(wildcard(t.stripped))
	return t
}

// wildcard quotes s for a regexp, with every CodeMask a code run.
func wildcard(s string) string {
	parts := strings.Split(s, outbox.CodeMask)
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return strings.Join(parts, codeRun)
}

// sameCode reports whether every captured code slot holds the same code (a
// message carries one code, printed once or twice).
func sameCode(m []string) bool {
	for _, c := range m[1:] {
		if c != m[1] {
			return false
		}
	}
	return true
}

// matchesExactly reports whether a decoded part is the stored text (line
// endings and surrounding whitespace aside), with one code in every slot.
// A direct walk rather than a regexp: it runs for every raw email of ours
// checked, on texts of several kilobytes.
func (t *template) matchesExactly(part string) bool {
	return matchParts(strings.TrimSpace(strings.ReplaceAll(part, "\r\n", "\n")), t.parts, "")
}

// matchParts reports whether s is parts joined by one code (code, once
// the first slot chose it): every length a code can have is tried, since
// the text after a slot may itself begin with letters or digits.
func matchParts(s string, parts []string, code string) bool {
	rest, ok := strings.CutPrefix(s, parts[0])
	switch {
	case !ok:
		return false
	case len(parts) == 1:
		return rest == ""
	case code != "":
		rest, ok = strings.CutPrefix(rest, code)
		return ok && matchParts(rest, parts[1:], code)
	}
	n := 0
	for n < len(rest) && n < maxCode && isCodeByte(rest[n]) {
		n++
	}
	for l := n; l >= minCode; l-- {
		if matchParts(rest[l:], parts[1:], rest[:l]) {
			return true
		}
	}
	return false
}

// The lengths a code in a slot may have (codeRun's).
const minCode, maxCode = 4, 12

func isCodeByte(c byte) bool {
	return '0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z'
}

// strip removes whitespace and applies NFKC, so that a paste whose lines a
// mail program wrapped differently, or whose spaces it changed, still
// compares. Japanese has no spaces between words, so nothing is lost.
func strip(s string) string {
	s = norm.NFKC.String(s)
	// NFKC would turn the mask's bullets into themselves; it keeps them.
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if !unicode.IsSpace(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// stripMapped is strip for a text already in NFKC, with where each byte of
// the result came from: at[i] is the offset in s of the stripped text's
// byte i, and at[len] is len(s).
func stripMapped(s string) (string, []int32) {
	var b strings.Builder
	b.Grow(len(s))
	at := make([]int32, 0, len(s)+1)
	for i, r := range s {
		if unicode.IsSpace(r) {
			continue
		}
		n := b.Len()
		b.WriteRune(r)
		for range b.Len() - n {
			at = append(at, int32(i))
		}
	}
	return b.String(), append(at, int32(len(s)))
}

// pasteMatch is how a pasted text compares with a stored one.
type pasteMatch struct {
	whole bool // the paste holds the whole stored text
	// extra is what the paste holds that the stored text does not: the
	// text around the whole match, or the lines not found in it.
	extra []string
}

// comparePaste compares a pasted text with the template.
func (t *template) comparePaste(paste string) pasteMatch {
	// A browser sends a textarea's lines with CRLF.
	paste = strings.ReplaceAll(paste, "\r\n", "\n")
	if t.email {
		// The text part's signature separator, which the stripped form
		// leaves out.
		paste = sigSeparator.ReplaceAllString(paste, "\n")
	}
	n := norm.NFKC.String(paste)
	p, at := stripMapped(n)
	if loc := t.strippedRE.FindStringSubmatchIndex(p); loc != nil {
		codes := make([]string, 0, len(loc)/2)
		for i := 0; i+1 < len(loc); i += 2 {
			codes = append(codes, p[loc[i]:loc[i+1]])
		}
		if sameCode(codes) {
			// What surrounds the match is taken from the paste as it
			// was, spaces and lines kept: it is judged on its own, and
			// "reply with the code" must still read as words.
			var extra []string
			if pre := strings.TrimSpace(n[:at[loc[0]]]); pre != "" {
				extra = append(extra, pre)
			}
			if post := strings.TrimSpace(n[at[loc[1]]:]); post != "" {
				extra = append(extra, post)
			}
			return pasteMatch{whole: true, extra: extra}
		}
	}
	var extra []string
	for _, line := range strings.Split(paste, "\n") {
		l := strip(line)
		if l == "" || strings.Contains(t.stripped, l) || t.lineWithCode(l) {
			continue
		}
		extra = append(extra, strings.TrimSpace(line))
	}
	return pasteMatch{extra: extra}
}

var sigSeparator = regexp.MustCompile(`(?m)^--[ \t]*$`)

var digitRun = regexp.MustCompile(`[0-9]{4,12}`)

// lineWithCode reports whether a pasted line is in the stored text once
// the code it shows is put back as the mask.
func (t *template) lineWithCode(l string) bool {
	if !digitRun.MatchString(l) || !strings.Contains(t.stripped, outbox.CodeMask) {
		return false
	}
	locs := digitRun.FindAllStringIndex(l, 4)
	for _, loc := range locs {
		if strings.Contains(t.stripped, l[:loc[0]]+outbox.CodeMask+l[loc[1]:]) {
			return true
		}
	}
	return false
}
