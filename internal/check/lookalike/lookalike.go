// Package lookalike judges whether a host name is ours, or merely looks like
// ours. The phishing checker ("is this message genuine?") runs it on the host
// of every link in a message and on the sender domain of mail that claims to
// come from us, so it must be cheap, must not allocate much, and must never
// panic on hostile input.
//
// A host is compared, label by label, with our domains and our brand:
//
//   - Exact / Subdomain: the host is one of ours or lies under one of ours.
//   - Confusable: its Unicode TR39 skeleton equals ours but the bytes differ
//     (Cyrillic "е" for Latin "e", "rn" for "m", "0" for "o", "1" for "l").
//   - Swap / Edit: the registrable label is one typo away from ours.
//   - Embedded: our brand or label is buried in somebody else's domain.
//
// Independently of the Kind, a Finding flags raw IP literals (including the
// decimal, hex and octal IPv4 spellings that browsers accept) and known URL
// shorteners, because both hide where a link really goes.
package lookalike

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"
)

// Ours is what a host is compared with: our own domains (mail domain, public
// URL host; registrable or full names, lower case) and our brand (service
// name, e.g. "Gatehouse").
//
// A full name such as "mail.gatehouse.example" trusts that host and its
// sub-domains only, not its siblings (www.gatehouse.example): list the
// registrable domain to trust all of it. That keeps a tenant on a shared
// domain the public suffix list does not know from vouching for its
// neighbours.
type Ours struct {
	Domains []string
	Brand   string
}

// Kind says how a host relates to ours.
type Kind string

// The kinds. When several apply, Check reports the first in this order:
// Exact > Subdomain > Confusable > Swap > Edit > Embedded > Other. The more
// precise description wins: a confusable that also embeds our brand is
// reported as a confusable, and gatehouses.com (one letter added) as an
// Edit although it also contains "gatehouse".
const (
	Exact      Kind = "exact"      // one of our domains
	Subdomain  Kind = "subdomain"  // a sub-domain of one of ours (mail.gatehouse.example)
	Confusable Kind = "confusable" // same Unicode TR39 skeleton as ours (gatеhouse with Cyrillic е, rn/m, 0/o, l/1 …), but not ours
	Edit       Kind = "edit"       // registrable label within edit distance 1 of ours (gatehose, gatehousse, gatehovse), or our very label under another public suffix (gatehouse.co)
	Swap       Kind = "swap"       // two adjacent letters swapped (gatehuose)
	Embedded   Kind = "embedded"   // our brand or our domain embedded in someone else's domain: gatehouse-login.example.net, gatehouse.example.evil.net, login-gatehouse.com, secure.gatehouse.example.com.evil.jp
	Other      Kind = "other"      // unrelated
)

// Finding describes one host.
type Finding struct {
	Host      string   // as given, lower-cased, without a trailing dot, port or IPv6 brackets
	Unicode   string   // the host decoded from punycode (idna ToUnicode) for showing; equal to Host when ASCII-only or when idna refuses the host
	Punycode  bool     // some label is xn--
	Scripts   []string // scripts the (decoded) registrable label mixes, e.g. ["Latin","Cyrillic"], in order of first appearance; nil when a single script
	Kind      Kind
	Like      string // which of our domains (or the brand) it is, lies under, resembles or embeds; empty for Other
	IP        bool   // a raw IPv4/IPv6 literal (also decimal/hex/octal IPv4 forms like 3232235777 or 0xC0A80001 or 0300.0250.1.1)
	Shortener bool   // a known URL shortener (see shorteners.go)
}

// MixedScript reports whether the registrable label mixes scripts in a way
// that Unicode TR39's "Highly Restrictive" level refuses. Scripts alone is not
// enough to judge: a perfectly ordinary Japanese name mixes Han, Hiragana and
// Katakana (and Latin), Chinese mixes Han and Bopomofo, Korean Han and Hangul.
// Latin with Cyrillic or Greek is the classic spoof and is refused.
func (f Finding) MixedScript() bool {
	if len(f.Scripts) < 2 {
		return false
	}
	for _, allowed := range allowedMixes {
		if subset(f.Scripts, allowed) {
			return false
		}
	}
	return true
}

// allowedMixes are TR39 §5.2 "Highly Restrictive" script sets.
var allowedMixes = [][]string{
	{"Latin", "Han", "Hiragana", "Katakana"},
	{"Latin", "Han", "Bopomofo"},
	{"Latin", "Han", "Hangul"},
}

func subset(s, of []string) bool {
	for _, x := range s {
		found := false
		for _, y := range of {
			if x == y {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// Check classifies host (a bare host name, possibly with port, possibly
// Unicode or punycode, possibly an IP literal in brackets).
//
// The prepared form of o is cached, so calling Check repeatedly with the same
// Ours costs no more than Compile once and Matcher.Check after.
func (o Ours) Check(host string) Finding {
	return o.matcher().Check(host)
}

// minFuzzy is the shortest label or brand (in runes) that is matched fuzzily:
// by edit distance or swap, or as a substring of another label. One edit away
// from a three-letter name is a large share of all short names ("gh" is one
// edit from "go", "gd", "h"), and a short brand is a substring of countless
// innocent domains, so shorter names are only matched exactly, as a whole
// label or hyphen-separated word.
const minFuzzy = 4

// maxHostBytes bounds the work one hostile "host" can cause. A DNS name is at
// most 253 octets in its ASCII form, and each of those octets stands for at
// most one rune of at most 4 bytes in the Unicode form, so nothing longer can
// be looked up: a link to it goes nowhere, and it is reported as Other
// without comparison.
const maxHostBytes = 4 * 253

// Check classifies host; see Ours.Check.
func (m *Matcher) Check(host string) Finding {
	h := normalize(host)
	f := Finding{Host: h, Unicode: h, Kind: Other}
	if h == "" {
		return f
	}
	f.Punycode = hasPunycodeLabel(h)
	if len(h) > maxHostBytes {
		return f
	}

	ascii, uni := canonical(h, f.Punycode)
	f.Unicode = uni

	if isIP(ascii) {
		f.IP = true
		if d, ok := m.exact(ascii); ok {
			f.Kind, f.Like = Exact, d
		}
		return f
	}
	f.Shortener = isShortener(ascii)
	if d, ok := m.exact(ascii); ok {
		f.Kind, f.Like = Exact, d
		return f
	}
	if d, ok := m.under(ascii); ok {
		f.Kind, f.Like = Subdomain, d
		return f
	}

	p := split(ascii, uni)
	f.Scripts = scriptsOf(p.label)
	f.Kind, f.Like = m.resemble(&p)
	return f
}

// canonical returns the ASCII (punycode) form of h, which is what a resolver
// looks up and what ours are compared with for Exact and Subdomain (so
// fullwidth "ｇａｔｅｈｏｕｓｅ.example", which idna maps to
// gatehouse.example, is ours), and its Unicode form, which is what a person
// sees and what skeletons are taken of. idna is skipped for plain ASCII
// without xn-- labels, nearly every host, because it is slow and allocates.
// Where idna refuses h, both forms are h itself: the host is still judged,
// on its raw spelling.
func canonical(h string, punycode bool) (ascii, uni string) {
	ascii, uni = h, h
	if !punycode && isASCII(h) {
		return
	}
	u, err := idna.Lookup.ToUnicode(h)
	if err != nil {
		return h, h
	}
	uni = strings.TrimRight(u, ".")
	if isASCII(h) {
		// ASCII with xn-- labels: the host as given is already what is
		// looked up; ToUnicode has validated it.
		return h, uni
	}
	// Unicode input: ToUnicode has mapped and validated it, so all that is
	// left of ToASCII is the encoding.
	a, err := idna.Punycode.ToASCII(uni)
	if err != nil {
		return h, h
	}
	return a, uni
}

// parts is a host cut into what the comparisons need, all sub-strings of the
// normalised host so that none of it allocates.
type parts struct {
	uni    string // whole host, Unicode form
	rd     string // registrable domain, ASCII form ("" when there is none)
	rdUni  string // registrable domain, Unicode form
	label  string // registrable label, Unicode form ("gatehouse" of gatehouse.co.uk)
	suffix string // public suffix, Unicode form ("co.uk")
}

// split finds the registrable domain with the public suffix list. The list is
// keyed by ASCII (punycode) labels, so the lookup uses the ASCII form and the
// Unicode parts are found by counting the same number of labels from the end.
// A host with no registrable domain ("localhost", "co.uk", "a..b") is treated
// as if its first label were the registrable label and the rest the suffix,
// so that "gatehouse" alone still resembles gatehouse.example.
func split(ascii, uni string) parts {
	p := parts{uni: uni}
	rd, err := publicsuffix.EffectiveTLDPlusOne(ascii)
	if err == nil {
		p.rd = rd
		p.rdUni = lastLabels(uni, strings.Count(rd, ".")+1)
	} else {
		p.rdUni = uni
	}
	p.label, p.suffix = p.rdUni, ""
	if i := strings.IndexByte(p.rdUni, '.'); i >= 0 {
		p.label, p.suffix = p.rdUni[:i], p.rdUni[i+1:]
	}
	return p
}

// lastLabels returns the last n dot-separated labels of s (all of s when it
// has fewer).
func lastLabels(s string, n int) string {
	i := len(s)
	for ; n > 0; n-- {
		j := strings.LastIndexByte(s[:i], '.')
		if j < 0 {
			return s
		}
		i = j
	}
	return s[i+1:]
}

const (
	rankConfusable = iota
	rankSwap
	rankEdit
	rankEmbedded
	rankNone
)

var rankKind = [...]Kind{Confusable, Swap, Edit, Embedded, Other}

// resemble finds the strongest resemblance of a host that is not ours to any
// of our names. Targets are tried in order (domains before the brand), and
// the first target reaching the best rank names it in Like.
func (m *Matcher) resemble(p *parts) (Kind, string) {
	best, like := rankNone, ""
	var labelBuf, suffixBuf, fullBuf keyBuf
	labelKey := appendKey(&labelBuf, p.label)
	var suffixKey []byte
	suffixKeyDone := false
	brandLabel := m.isBrandForm(p.label)
	for i := range m.targets {
		t := &m.targets[i]
		r := rankNone
		switch {
		case same(labelKey, t.labelKey) && p.label != t.label:
			r = rankConfusable
		case !t.brand && p.label == t.label && p.suffix != t.suffix:
			// Our very label under another suffix: gatehouse.co for
			// gatehouse.com. A confusable suffix (exarnple) makes it
			// Confusable; any other is a change of one part, which is
			// reported as Edit rather than Embedded because the
			// registrable label is all ours, not ours plus something.
			if !suffixKeyDone {
				suffixKey, suffixKeyDone = appendKey(&suffixBuf, p.suffix), true
			}
			r = rankEdit
			if same(suffixKey, t.suffixKey) {
				r = rankConfusable
			}
		case !t.brand && p.label == t.label && p.suffix == t.suffix:
			// Our registrable domain, but not a host we named (else
			// it would be Exact or Subdomain): only a skeleton match
			// with the full name matters (rnail.gatehouse.example for
			// mail.gatehouse.example).
			if strings.Count(p.uni, ".") == strings.Count(t.fullUni, ".") &&
				same(appendKey(&fullBuf, p.uni), t.fullKey) {
				r = rankConfusable
			}
		case t.runes >= minFuzzy && !(t.brand && brandLabel):
			// (A label that spells the brand exactly, in any of its
			// forms, is the brand Embedded, not a typo of another
			// form: gate-house is not an edit of Gate House.)
			switch {
			case swapped(p.label, t.label) || swapped(labelKey, t.labelKey):
				r = rankSwap
			case editOne(p.label, t.label) || editOne(labelKey, t.labelKey):
				// One edit on the whole registrable domain is one
				// edit on the label (here) or on the suffix (the
				// same-label case above), or one at the dot, which
				// is not counted: gatehouse-example is not a typo of
				// gatehouse.example but a different name that
				// Embedded catches.
				r = rankEdit
			}
		}
		if r < best {
			best, like = r, t.like
			if best == rankConfusable {
				break
			}
		}
	}
	if best > rankEmbedded && !m.ownRegistrable(p.rd) {
		if t := m.embedded(p, labelKey); t != nil {
			best, like = rankEmbedded, t.like
		}
	}
	if best == rankNone {
		return Other, ""
	}
	return rankKind[best], like
}

// embedded returns the first target whose name appears, literally or by
// skeleton, in the registrable label or a sub-domain label of the host; nil
// if none. The public suffix is not searched: it is in the list because its
// operator put it there (or it is a TLD), so no attacker chose it.
func (m *Matcher) embedded(p *parts, labelKey []byte) *target {
	if t := m.embeddedIn(p.label, labelKey); t != nil {
		return t
	}
	sub := strings.TrimSuffix(p.uni, p.rdUni)
	var buf keyBuf
	for sub != "" {
		label := sub
		if i := strings.IndexByte(sub, '.'); i >= 0 {
			label, sub = sub[:i], sub[i+1:]
		} else {
			sub = ""
		}
		if label == "" {
			continue
		}
		if t := m.embeddedIn(label, appendKey(&buf, label)); t != nil {
			return t
		}
	}
	return nil
}

func (m *Matcher) embeddedIn(label string, key []byte) *target {
	for i := range m.targets {
		t := &m.targets[i]
		if t.runes >= minFuzzy {
			if strings.Contains(label, t.label) || bytes.Contains(key, t.labelKeyBytes) {
				return t
			}
		} else if hasWord(label, t.label) || hasWord(key, t.labelKey) {
			return t
		}
	}
	return nil
}

// isBrandForm reports whether label spells the brand in one of its forms.
func (m *Matcher) isBrandForm(label string) bool {
	for i := range m.targets {
		if m.targets[i].brand && m.targets[i].label == label {
			return true
		}
	}
	return false
}

// hasWord reports whether word is one of the hyphen-separated words of label.
func hasWord[A text](label A, word string) bool {
	if word == "" {
		return false
	}
	for start := 0; start <= len(label); {
		end := start
		for end < len(label) && label[end] != '-' {
			end++
		}
		if same(label[start:end], word) {
			return true
		}
		start = end + 1
	}
	return false
}

func (m *Matcher) exact(ascii string) (string, bool) {
	for i, d := range m.domains {
		if ascii == d {
			return m.likes[i], true
		}
	}
	return "", false
}

func (m *Matcher) under(ascii string) (string, bool) {
	for i, d := range m.domains {
		if len(ascii) > len(d) && ascii[len(ascii)-len(d)-1] == '.' && strings.HasSuffix(ascii, d) {
			return m.likes[i], true
		}
	}
	return "", false
}

// ownRegistrable reports whether rd is the registrable domain of one of ours.
// Such a host is never Embedded: it is ours in all but name (a sibling of a
// full name we listed), not somebody else's domain wearing our name.
func (m *Matcher) ownRegistrable(rd string) bool {
	if rd == "" {
		return false
	}
	for i := range m.targets {
		if !m.targets[i].brand && m.targets[i].rd == rd {
			return true
		}
	}
	return false
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func hasPunycodeLabel(h string) bool {
	for i := 0; i+4 <= len(h); i++ {
		if (i == 0 || h[i-1] == '.') && h[i:i+4] == "xn--" {
			return true
		}
	}
	return false
}

// normalize strips what is not part of the name (surrounding space, IPv6
// brackets, a port, trailing dots) and lower-cases it. Lower-casing is done
// before idna so that Host is lower case even when idna refuses the host.
func normalize(s string) string {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "[") {
		if i := strings.IndexByte(s, ']'); i > 0 {
			s = s[1:i]
		} else {
			s = s[1:]
		}
	} else if i := strings.IndexByte(s, ':'); i >= 0 && strings.IndexByte(s[i+1:], ':') < 0 {
		// Exactly one colon: host:port. Two or more: a bare IPv6
		// literal, left alone.
		s = s[:i]
	}
	s = strings.TrimRight(s, ".")
	return strings.ToLower(s)
}
