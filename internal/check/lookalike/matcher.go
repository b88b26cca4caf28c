package lookalike

import (
	"hash/maphash"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"
)

// Matcher is Ours prepared for checking: names canonicalised, registrable
// parts found and skeletons taken once rather than on every link. It is
// immutable and safe for concurrent use.
type Matcher struct {
	ours    Ours     // a copy, to recognise the same Ours in the cache
	domains []string // ours, ASCII (punycode) form, for Exact/Subdomain
	likes   []string // ours as given (lower-cased), parallel to domains
	targets []target // what resemblance is measured against: domains, then the brand
}

// target is one of our names as the resemblance tests need it.
type target struct {
	like          string // reported in Finding.Like
	brand         bool   // the brand, which has no suffix or registrable domain
	fullUni       string // whole domain, Unicode form
	fullKey       string // skeleton of fullUni
	rd            string // registrable domain, ASCII form
	label         string // registrable label (or folded brand), Unicode form
	labelKey      string // skeleton of label
	labelKeyBytes []byte // the same, for bytes.Contains
	suffix        string // public suffix, Unicode form
	suffixKey     string // skeleton of suffix
	runes         int    // length of label in runes, for the minFuzzy guard
}

// Compile prepares o for checking many hosts. Ours.Check does this itself
// (and caches it); Compile is for callers that would rather hold the result.
func (o Ours) Compile() *Matcher {
	m := &Matcher{ours: Ours{Domains: append([]string(nil), o.Domains...), Brand: o.Brand}}
	for _, d := range o.Domains {
		h := normalize(d)
		if h == "" {
			continue
		}
		ascii, uni := canonical(h, hasPunycodeLabel(h))
		m.domains = append(m.domains, ascii)
		m.likes = append(m.likes, h)
		if isIP(ascii) {
			// An IP literal can only be matched exactly.
			continue
		}
		p := split(ascii, uni)
		m.targets = append(m.targets, target{
			like:          h,
			fullUni:       uni,
			fullKey:       skeleton(uni),
			rd:            p.rd,
			label:         p.label,
			labelKey:      skeleton(p.label),
			labelKeyBytes: []byte(skeleton(p.label)),
			suffix:        p.suffix,
			suffixKey:     skeleton(p.suffix),
			runes:         utf8.RuneCountInString(p.label),
		})
	}
	for _, b := range brandForms(o.Brand) {
		m.targets = append(m.targets, target{
			like:          o.Brand,
			brand:         true,
			label:         b,
			labelKey:      skeleton(b),
			labelKeyBytes: []byte(skeleton(b)),
			runes:         utf8.RuneCountInString(b),
		})
	}
	return m
}

// brandForms folds a brand into the label forms a domain could spell it in:
// lower case, and, for a brand of several words, run together and
// hyphenated ("Gate House" → gatehouse, gate-house).
func brandForms(brand string) []string {
	words := strings.Fields(strings.ToLower(brand))
	switch len(words) {
	case 0:
		return nil
	case 1:
		return words
	}
	return []string{strings.Join(words, ""), strings.Join(words, "-")}
}

// The cache maps a hash of an Ours to its Matcher. It is copy-on-write
// behind an atomic pointer so the hit path takes no lock and allocates
// nothing; it is bounded because a caller building a fresh Ours per call
// with different contents would otherwise grow it without end (past the
// bound such callers simply compile every time).
var (
	cacheSeed = maphash.MakeSeed()
	cache     atomic.Pointer[map[uint64]*Matcher]
	cacheMu   sync.Mutex // serialises writers
)

const cacheMax = 32

func (o Ours) matcher() *Matcher {
	var h maphash.Hash
	h.SetSeed(cacheSeed)
	for _, d := range o.Domains {
		h.WriteString(d)
		h.WriteByte(0)
	}
	h.WriteByte(1)
	h.WriteString(o.Brand)
	k := h.Sum64()
	if c := cache.Load(); c != nil {
		if m, ok := (*c)[k]; ok && m.ours.equal(o) {
			return m
		}
	}
	m := o.Compile()
	cacheMu.Lock()
	defer cacheMu.Unlock()
	old := cache.Load()
	if old == nil || len(*old) < cacheMax {
		next := make(map[uint64]*Matcher, 1+lenOf(old))
		if old != nil {
			for k, v := range *old {
				next[k] = v
			}
		}
		next[k] = m
		cache.Store(&next)
	}
	return m
}

func lenOf(c *map[uint64]*Matcher) int {
	if c == nil {
		return 0
	}
	return len(*c)
}

func (o Ours) equal(p Ours) bool {
	if o.Brand != p.Brand || len(o.Domains) != len(p.Domains) {
		return false
	}
	for i := range o.Domains {
		if o.Domains[i] != p.Domains[i] {
			return false
		}
	}
	return true
}
