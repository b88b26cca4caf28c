package check

import (
	"bytes"
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-msgauth/dkim"
	"golang.org/x/text/unicode/norm"

	"gatehouse/internal/check/kanji"
	"gatehouse/internal/check/lookalike"
	"gatehouse/internal/outbox"
	"gatehouse/internal/random"
	"gatehouse/internal/request"
)

// findReference returns the last thing in text written like one of our
// references: the stored form when it parses, else the text as found. The
// last, because a message's own reference is in its footer (or, in an
// SMS, after its code), and a message may name another one before it: the
// "this wasn't me" confirmation names the message that was answered.
func findReference(text string) (ref string, valid, found bool) {
	m := findLast(referenceInText, norm.NFKC.String(text))
	if m == "" {
		return "", false, false
	}
	if r, ok := random.ParseReference(m); ok {
		return r, true, true
	}
	return m, false, true
}

// byReference looks up the reference a message carries and says so.
func (j *judge) byReference(ref string, valid bool) (*outbox.Message, error) {
	j.res.Reference = ref
	if !valid {
		j.add(Bad, "reference_format", ref)
		return nil, nil
	}
	m, err := j.lookup(ref)
	if err != nil || m == nil {
		return nil, err
	}
	j.res.Message = m
	return m, nil
}

// text checks a pasted text: an email body as a mail program shows it, or
// an SMS.
func (j *judge) text(s string) error {
	body, links := s, []link(nil)
	if looksLikeHTML(s) {
		body, links = readHTML(s)
	}
	links = append(links, linksInText(body)...)
	j.claims = j.claimsUs(body)
	ref, valid, found := findReference(body)
	if !found {
		j.signals(body, links)
		switch {
		case !j.claims:
			j.add(Note, "not_claiming", j.c.ServiceName)
		case j.looksWhole(body):
			j.add(Bad, "reference_missing", j.c.ServiceName)
		default:
			// Most likely the body of a message copied without its end.
			j.add(Note, "reference_missing_partial", j.c.ServiceName)
		}
		return nil
	}
	m, err := j.byReference(ref, valid)
	if err != nil {
		return err
	}
	if m == nil {
		if valid {
			j.add(Bad, "reference_unknown", ref)
		}
		j.signals(body, links)
		return nil
	}
	tm := newPasteTemplate(m.Text, channelOf(m) == request.Email)
	pm := tm.comparePaste(body)
	if pm.whole && len(pm.extra) > 0 && m.HTML != "" {
		// Copied from the HTML rendering, whose header (our name above
		// the message) the text part does not have.
		ht, _ := readHTML(m.HTML)
		if ph := newPasteTemplate(ht, false).comparePaste(body); ph.whole && len(strings.Join(ph.extra, "")) < len(strings.Join(pm.extra, "")) {
			pm = ph
		}
	}
	if !pm.whole {
		// A paste from a message whose links a mail security service
		// rewrote.
		if b, vias := unwrapLinks(body, false); len(vias) > 0 {
			if pw := tm.comparePaste(b); pw.whole {
				pm, body = pw, b
				j.rewrittenBy = vias
			}
		}
	}
	extra := strings.Join(pm.extra, "\n")
	// Only what the paste adds to our message can be a trick: our own
	// words are not judged.
	j.japanese = m.Language == "ja" || kanji.Japanese(body)
	j.addedOnly = true
	j.signals(extra, append(linksInText(extra), foreignLinks(links, extra)...))
	j.addedOnly = false
	switch {
	case pm.whole:
		j.matched = true
		j.matchArgs = []any{ref, j.when(m.CreatedAt), j.purpose(m)}
		j.add(Good, "content_matches", j.matchArgs...)
		if len(j.rewrittenBy) > 0 {
			j.add(Note, "links_rewritten", strings.Join(j.rewrittenBy, ", "))
		}
		if extra != "" {
			j.add(Note, "content_extra", quote(extra))
		}
	case len(pm.extra) == 0:
		j.add(Note, "reference_ours", ref, j.when(m.CreatedAt), j.purpose(m))
		j.add(Note, "content_partial")
	default:
		j.add(Note, "reference_ours", ref, j.when(m.CreatedAt), j.purpose(m))
		j.add(Note, "content_differs", quote(pm.extra[0]))
	}
	return nil
}

// looksWhole reports whether a pasted text without a reference is a whole
// message — an email's text down to its footer's last line, or an SMS (a short text of one
// paragraph; an SMS is copied whole) — rather than part of one. A whole
// message of ours always carries its reference.
func (j *judge) looksWhole(body string) bool {
	// Our email's text ends with the sender line: a paste that has it was
	// copied to the end, where the reference would have been above it. A
	// paste cut anywhere before it is part of a message.
	b0 := strings.Join(strings.Fields(norm.NFKC.String(body)), " ")
	for _, lang := range []string{"en", "ja"} {
		var tail string
		for _, piece := range strings.Split(j.c.Catalog.T(lang, "mail.footer.sender", "\x00", "\x00"), "\x00") {
			if piece = strings.TrimSpace(piece); len(piece) > len(tail) {
				tail = piece
			}
		}
		if len(tail) >= 8 && strings.Contains(b0, tail) {
			return true
		}
	}
	b := strings.TrimSpace(strings.ReplaceAll(body, "\r\n", "\n"))
	return !strings.Contains(b, "\n\n") && utf8.RuneCountInString(b) <= 400
}

// foreignLinks are the HTML links whose URL is not written in our text
// (a paste of HTML can hide a link behind our own words).
func foreignLinks(links []link, extra string) []link {
	var out []link
	for _, l := range links {
		if l.text != l.href || strings.Contains(extra, l.href) {
			out = append(out, l)
		}
	}
	return out
}

func looksLikeHTML(s string) bool {
	l := strings.ToLower(s)
	return strings.Contains(l, "<a ") && strings.Contains(l, "href") || strings.Contains(l, "<html") || strings.Contains(l, "<body")
}

// email checks a raw email.
func (j *judge) email(raw []byte) error {
	p, err := parseEmail(raw)
	if err != nil || p == nil {
		// Not readable as an email: judge its bytes as text.
		j.res.Kind = "text"
		return j.text(strings.ToValidUTF8(string(raw), "\uFFFD"))
	}
	var body strings.Builder
	var links []link
	for _, t := range p.texts {
		body.WriteString(t)
		body.WriteString("\n")
		links = append(links, linksInText(t)...)
	}
	for _, h := range p.htmls {
		t, ls := readHTML(h)
		links = append(links, ls...)
		if len(p.texts) == 0 {
			body.WriteString(t)
			links = append(links, linksInText(t)...)
		}
	}
	all := p.subject + "\n" + body.String()
	fromFinding := j.ours.Check(domainOf(p.fromAddr))
	j.claims = j.claimsUs(p.fromName+"\n"+all) || fromFinding.Kind != lookalike.Other || p.reference != ""

	ourSig := j.dkim(raw)
	if len(p.twice) > 0 {
		j.add(Bad, "header_twice", strings.Join(p.twice, ", "))
		if ourSig == sigValid {
			// Mail signed before we oversigned: the signature covers
			// only the last of the repeated fields, not the one shown.
			j.drop("dkim_ours")
			j.add(Note, "dkim_valid_header_added", j.c.MailDomain)
		}
	}

	ref, valid, found := p.reference, false, p.reference != ""
	if found {
		ref, valid = random.ParseReference(ref)
		if !valid {
			ref = p.reference
		}
	} else {
		ref, valid, found = findReference(body.String())
	}
	var m *outbox.Message
	if found {
		if m, err = j.byReference(ref, valid); err != nil {
			return err
		}
	}
	if m != nil {
		j.compareEmail(p, m)
	}
	j.sender(p, fromFinding)
	switch {
	case j.matched:
		// Exactly what we sent: its links and words are ours.
	case m == nil && found && valid && ourSig == sigValid:
		j.add(Note, "reference_expired", ref)
	case m == nil && found && valid:
		j.add(Bad, "reference_unknown", ref)
		j.signals(all, links)
	case !found && j.claims:
		j.add(Bad, "reference_missing", j.c.ServiceName)
		j.signals(all, links)
	case !found && ourSig == sigNone:
		// A whole email with no signature of ours, not from our address
		// and with no reference of ours is not ours: say so, rather than
		// send the reader away with "cannot tell" (on real phishing
		// corpora most mail is of this kind). Whether it is genuine from
		// whoever it claims to be is not ours to judge.
		j.add(Bad, "not_ours_foreign", j.c.ServiceName)
		j.signals(all, links)
	case !found:
		j.add(Note, "not_claiming", j.c.ServiceName)
		j.signals(all, links)
	default:
		j.signals(all, links)
	}
	switch {
	case ourSig == sigBroken && !j.matched:
		j.add(Bad, "dkim_broken", j.c.MailDomain)
	case ourSig == sigBroken && len(j.rewrittenBy) > 0:
		// The service that rewrote the links broke the signature: what
		// it covers — the code among it — is no longer vouched for.
		j.blockGood = true
		j.add(Note, "dkim_broken_rewritten", j.c.MailDomain, strings.Join(j.rewrittenBy, ", "))
	case ourSig == sigBroken:
		// The words are ours, but something the signature covers changed
		// (the code, a header) — or a mail program re-encoded the message.
		// Not phishing, and not provably what we sent.
		j.blockGood = true
		j.add(Note, "dkim_broken_matching", j.c.MailDomain)
	}
	if len(j.rewrittenBy) > 0 && ourSig != sigBroken {
		j.add(Note, "links_rewritten", strings.Join(j.rewrittenBy, ", "))
	}
	if ourSig == sigNone && j.matched && m != nil && j.weSigned(m.CreatedAt) {
		// Every email we sent since we have had keys is signed: this
		// one's signatures were removed, and with them what vouched for
		// its code and headers.
		j.blockGood = true
		j.drop("dkim_missing")
		j.add(Note, "dkim_missing_matching", j.c.MailDomain)
	}
	if p.truncated {
		j.add(Note, "truncated")
	}
	return nil
}

// weSigned reports whether an email of ours sent at t was signed: we had a
// key by then. (Mail sent before an installation had keys was not.)
func (j *judge) weSigned(t time.Time) bool {
	if j.c.Keys == nil {
		return false
	}
	for _, k := range j.c.Keys.Keys() {
		if !k.Created.After(t) {
			return true
		}
	}
	return false
}

func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, x := range b {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

// compareEmail compares a raw email with the stored message it names.
func (j *judge) compareEmail(p *parsed, m *outbox.Message) {
	if channelOf(m) != request.Email {
		j.add(Bad, "content_differs", quote(p.subject))
		return
	}
	subject := p.subject == m.Subject
	to := len(p.to) == 1 && strings.EqualFold(p.to[0], m.To)
	textT, htmlT := newTemplate(m.Text, false), newTemplate(m.HTML, false)
	textOK := len(p.texts) == 1 && textT.matchesExactly(p.texts[0])
	htmlOK := len(p.htmls) == 1 && htmlT.matchesExactly(p.htmls[0])
	if len(p.texts) == 1 && len(p.htmls) == 1 && (!textOK || !htmlOK) {
		// A mail security service may have rewritten its links.
		t, v1 := unwrapLinks(p.texts[0], false)
		h, v2 := unwrapLinks(p.htmls[0], true)
		if vias := union(v1, v2); len(vias) > 0 && textT.matchesExactly(t) && htmlT.matchesExactly(h) {
			textOK, htmlOK = true, true
			j.rewrittenBy = vias
		}
	}
	switch {
	case !subject:
		j.add(Bad, "subject_differs", quote(p.subject), m.Subject)
	case !textOK || !htmlOK:
		j.add(Bad, "body_differs")
	case !to:
		j.add(Bad, "recipient_differs")
	default:
		j.matched = true
		j.matchArgs = []any{m.Reference, j.when(m.CreatedAt), j.purpose(m)}
		j.add(Good, "content_matches", j.matchArgs...)
	}
}

// sender judges From, Reply-To and Return-Path.
func (j *judge) sender(p *parsed, f lookalike.Finding) {
	brand := strings.ToLower(j.c.ServiceName)
	nameClaims := brand != "" && strings.Contains(strings.ToLower(norm.NFKC.String(p.fromName)), brand)
	switch f.Kind {
	case lookalike.Exact:
		if p.fromAddr != "" && j.matched {
			j.add(Good, "sender_ours", p.fromAddr)
		}
	case lookalike.Subdomain:
		j.add(Note, "sender_subdomain", p.fromAddr, j.c.MailDomain)
	case lookalike.Confusable, lookalike.Edit, lookalike.Swap, lookalike.Embedded:
		j.addAs(Bad, "sender_lookalike", lookalikeKey("sender_lookalike", f), showAddr(p.fromAddr, f), f.Like, j.t("kind."+string(f.Kind)))
		j.res.lookalike(f.Host)
	default:
		switch {
		case nameClaims:
			j.add(Bad, "display_name_brand", p.fromName, showAddr(p.fromAddr, f))
		case j.claims:
			j.add(Bad, "sender_other", showAddr(p.fromAddr, f))
		case p.fromAddr != "":
			j.add(Note, "sender_other", showAddr(p.fromAddr, f))
		}
	}
	if f.Punycode || f.MixedScript() {
		j.addAs(Bad, "sender_punycode", punycodeKey("sender_punycode", f), f.Host, f.Unicode, scripts(f.Scripts))
	}
	for _, r := range p.replyTo {
		// We never set a reply address: one elsewhere on our words was
		// added, to have replies (with the code) go there.
		if k := j.ours.Check(domainOf(r)).Kind; k != lookalike.Exact && k != lookalike.Subdomain {
			j.add(Bad, "reply_to_elsewhere", r)
			break
		}
	}
	if rp := p.returnPath; rp != "" {
		if k := j.ours.Check(domainOf(rp)).Kind; k != lookalike.Exact && k != lookalike.Subdomain {
			j.add(Note, "return_path_elsewhere", rp)
		}
	}
}

// lookalikeKey words a look-alike reason for what is imitated: one of our
// domains, or our name (the brand, which is not a domain).
func lookalikeKey(code string, f lookalike.Finding) string {
	if !strings.Contains(f.Like, ".") {
		return code + "_name"
	}
	return code
}

// punycodeKey words a punycode reason: with the scripts it mixes, or —
// one script, accented or look-alike letters — without.
func punycodeKey(code string, f lookalike.Finding) string {
	if len(f.Scripts) == 0 {
		return code + "_letters"
	}
	return code
}

func showAddr(addr string, f lookalike.Finding) string {
	if f.Unicode != "" && f.Unicode != f.Host {
		local, _, _ := strings.Cut(addr, "@")
		return local + "@" + f.Unicode + " (" + addr + ")"
	}
	return addr
}

func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return strings.ToLower(addr[i+1:])
	}
	return ""
}

// sigState is what the signatures say about our domain.
type sigState int

const (
	sigNone   sigState = iota // no signature claims our domain
	sigValid                  // one of ours verifies
	sigBroken                 // one claims our domain and none verifies
)

// dkim verifies the email's signatures: ours against our keys (current
// and retired, never DNS — the checker must answer for mail signed with a
// key since retired), others' against their DNS.
func (j *judge) dkim(raw []byte) sigState {
	domain := strings.ToLower(j.c.MailDomain)
	// go-msgauth verifies several signatures in parallel goroutines.
	var mu sync.Mutex
	retired := map[string]bool{}
	foreign := 0
	lookup := func(name string) ([]string, error) {
		sel, d, ok := strings.Cut(strings.ToLower(strings.TrimSuffix(name, ".")), "._domainkey.")
		if !ok {
			return nil, errors.New("check: not a DKIM key name")
		}
		if d == domain {
			if j.c.Keys == nil {
				return nil, errors.New("check: no keys")
			}
			k, ok := j.c.Keys.Lookup(sel)
			if !ok {
				return nil, errors.New("check: not one of our selectors")
			}
			if !k.Signs(time.Now()) {
				mu.Lock()
				retired[sel] = true
				mu.Unlock()
			}
			return []string{k.Record()}, nil
		}
		// A visitor chooses these names: a few per check, no more.
		mu.Lock()
		foreign++
		n := foreign
		mu.Unlock()
		if n > maxForeignLookups {
			return nil, errors.New("check: no more lookups of other domains' keys in this check")
		}
		return j.foreignTXT(name)
	}
	if !bytes.Contains(raw, crlf) {
		// Saved by a Unix mail program with bare newlines: the message
		// travelled, and was signed, with CRLF.
		raw = bytes.ReplaceAll(raw, []byte("\n"), crlf)
	}
	// Ours are verified first, whatever sits above them: junk signatures
	// must not use up the verifications (the probe's W9).
	known := func(sel string) bool {
		if j.c.Keys == nil {
			return false
		}
		_, ok := j.c.Keys.Lookup(sel)
		return ok
	}
	raw, ours, claimed := ourSignaturesFirst(raw, domain, known)
	vs, err := dkim.VerifyWithOptions(bytes.NewReader(raw), &dkim.VerifyOptions{LookupTXT: lookup,
		MaxVerifications: ours + maxForeignLookups})
	if err != nil && !errors.Is(err, dkim.ErrTooManySignatures) {
		return sigNone
	}
	state := sigNone
	seenOther := map[string]bool{}
	for _, v := range vs {
		d := strings.ToLower(v.Domain)
		switch {
		case d == domain && v.Err == nil:
			if state != sigValid {
				j.add(Good, "dkim_ours", domain)
			}
			state = sigValid
		case d == domain:
			if state == sigNone {
				state = sigBroken
			}
		case v.Err == nil && !seenOther[d]:
			seenOther[d] = true
			j.add(Note, "dkim_other_domain", d)
		case d != "" && !seenOther[d]:
			seenOther[d] = true
			j.add(Note, "dkim_other_unverified", d)
		}
	}
	mu.Lock()
	anyRetired := len(retired) > 0
	mu.Unlock()
	if state == sigNone && claimed {
		// A signature in our name with a selector we never had, left
		// unverified: as broken as one that fails.
		state = sigBroken
	}
	if anyRetired && state == sigValid {
		j.add(Note, "dkim_retired_key")
	}
	if state == sigNone {
		j.add(Note, "dkim_missing", domain)
	}
	return state
}

// foreignTXT resolves another domain's key, within a few seconds: a slow
// DNS server must not hold the check.
func (j *judge) foreignTXT(name string) ([]string, error) {
	ctx, cancel := context.WithTimeout(j.ctx, 3*time.Second)
	defer cancel()
	if j.c.LookupTXT != nil {
		return j.c.LookupTXT(ctx, name)
	}
	return net.DefaultResolver.LookupTXT(ctx, name)
}

// Signatures a check verifies: at most maxOwnSignatures claiming our
// domain with one of our selectors (we sign with two keys; a rotation adds
// two), then at most maxForeignLookups of other domains, each a DNS lookup
// of a name the visitor chose.
const (
	maxOwnSignatures  = 8
	maxForeignLookups = 2
)

// ourSignaturesFirst puts first the DKIM-Signature fields that claim
// domain with a selector we have (known), bottom-up — junk is added above
// a message's fields, and signers add theirs above the fields they sign —
// at most maxOwnSignatures of them; it reports how many, and whether any
// field claims domain at all. Every other field keeps its order. Each
// signature is verified on its own field and the fields its h= names,
// found from the bottom up among fields of those names, so moving
// DKIM-Signature fields changes no verification — except of a signature
// that names DKIM-Signature in its h=, which ours never do.
func ourSignaturesFirst(raw []byte, domain string, known func(selector string) bool) ([]byte, int, bool) {
	end := bytes.Index(raw, []byte("\r\n\r\n"))
	if end < 0 || domain == "" {
		return raw, 0, false
	}
	head := raw[:end+2]
	var fields [][]byte
	for len(head) > 0 {
		// A field runs to a CRLF not followed by white space (folding).
		i := 0
		for {
			k := bytes.Index(head[i:], crlf)
			if k < 0 {
				i = len(head)
				break
			}
			i += k + 2
			if i >= len(head) || (head[i] != ' ' && head[i] != '\t') {
				break
			}
		}
		fields = append(fields, head[:i])
		head = head[i:]
	}
	var ours, rest [][]byte
	claimed := false
	for k := len(fields) - 1; k >= 0; k-- {
		f := fields[k]
		d, sel := signatureTags(f)
		if d == domain {
			claimed = true
			if known(sel) && len(ours) < maxOwnSignatures {
				ours = append(ours, f)
				continue
			}
		}
		rest = append(rest, f)
	}
	if len(ours) == 0 {
		return raw, 0, claimed
	}
	slices.Reverse(rest)
	out := make([]byte, 0, len(raw))
	for _, f := range append(ours, rest...) {
		out = append(out, f...)
	}
	return append(out, raw[end+2:]...), len(ours), claimed
}

// signatureTags returns the d= (lower-cased) and s= of a DKIM-Signature
// field; both "" for any other field.
func signatureTags(field []byte) (domain, selector string) {
	name, value, ok := bytes.Cut(field, []byte(":"))
	if !ok || !strings.EqualFold(strings.TrimSpace(string(name)), "DKIM-Signature") {
		return "", ""
	}
	for _, tag := range strings.Split(string(value), ";") {
		k, v, ok := strings.Cut(tag, "=")
		switch strings.TrimSpace(k) {
		case "d":
			if ok {
				domain = strings.ToLower(strings.Join(strings.Fields(v), ""))
			}
		case "s":
			if ok {
				selector = strings.ToLower(strings.Join(strings.Fields(v), ""))
			}
		}
	}
	return domain, selector
}
