// Package check answers "is this message really from us?" for a reference,
// a pasted text (an email body or an SMS) or a raw email (.eml).
//
// The verdict is one of three, always with its reasons:
//
//   - Genuine: our own records hold this message and what was checked is
//     what we sent — compared with the stored message, not merely its
//     reference. For a raw email the DKIM signatures add certainty.
//   - NotOurs: something shows we did not send it as it is: a reference we
//     never issued, text that differs from what we sent, a look-alike
//     sender or link, a request for a code, password or card number (we
//     never ask), an SMS bound to another site, Chinese ideographs in
//     "Japanese" text.
//   - CannotTell: neither can be shown, e.g. a reference alone, part of a
//     message, or a message that does not claim to be from us.
//
// Two rules hold whatever the input: a message that matches our records is
// never called phishing, and a message that is not in our records is never
// called genuine, however clean it looks.
//
// The page (/check), the API (POST /api/check) and the CLI (gatehouse
// verify-message) all call Checker.Check.
package check

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"gatehouse/internal/check/lookalike"
	"gatehouse/internal/dkimkeys"
	"gatehouse/internal/i18n"
	"gatehouse/internal/outbox"
	"gatehouse/internal/random"
	"gatehouse/internal/request"
)

// Verdict is the checker's answer.
type Verdict string

// Verdicts; the strings are the API's and the CLI's.
const (
	Genuine    Verdict = "genuine"
	NotOurs    Verdict = "not_ours"
	CannotTell Verdict = "cannot_tell"
)

// ExitCode is the verdict as gatehouse verify-message's exit status.
func (v Verdict) ExitCode() int {
	switch v {
	case Genuine:
		return 0
	case NotOurs:
		return 1
	}
	return 2
}

// Level says which way a reason points.
type Level int

// Levels of a reason.
const (
	// Note is information that decides nothing by itself.
	Note Level = iota
	// Good supports "genuine".
	Good
	// Bad shows the message is not ours as it is.
	Bad
)

// Reason is one finding, in the reader's language.
type Reason struct {
	Code  string `json:"code"`
	Text  string `json:"text"`
	Level Level  `json:"-"`
}

// Result is a verdict with its reasons, the decisive ones first.
type Result struct {
	Verdict Verdict  `json:"verdict"`
	Reasons []Reason `json:"reasons"`
	// Kind is what was checked: "eml", "text" or "reference".
	Kind string `json:"-"`
	// Reference is the reference the input carried, if any.
	Reference string `json:"-"`
	// Message is our stored message with that reference, when there is
	// one (never a withheld one). Callers show it only to its holder.
	Message *outbox.Message `json:"-"`
	// Lookalikes are the hosts found imitating ours — the sender's domain
	// or a link's, each once, as written (punycode stays punycode): what
	// a report keeps for the operators' takedown list.
	Lookalikes []string `json:"-"`
}

// lookalike notes a host found imitating ours, once.
func (r *Result) lookalike(host string) {
	if host != "" && !slices.Contains(r.Lookalikes, host) {
		r.Lookalikes = append(r.Lookalikes, host)
	}
}

// Has reports whether the result has a reason with the code.
func (r *Result) Has(code string) bool {
	for _, x := range r.Reasons {
		if x.Code == code {
			return true
		}
	}
	return false
}

// Input is what a person asks about: a reference, a pasted text, or a raw
// email. Raw wins over Text, and Text over Reference.
type Input struct {
	Reference string
	Text      string
	Raw       []byte
}

// Limits on what is checked. A raw email above MaxRaw or a text above
// MaxText is refused (ErrTooLarge) before any parsing.
const (
	MaxRaw  = 10 << 20
	MaxText = 256 << 10
)

// Errors of Check.
var (
	ErrTooLarge = errors.New("check: input too large")
	ErrEmpty    = errors.New("check: nothing to check")
	// ErrNotEmail is a raw input (Input.Raw) that is not an email: a
	// picture, a PDF, a text file given as the .eml.
	ErrNotEmail = errors.New("check: not an email")
)

// Messages is the message store the checker reads (outbox.Store has it).
type Messages interface {
	MessageByReference(ctx context.Context, ref string) (*outbox.Message, error)
}

// Checker checks messages against the installation's records and keys.
type Checker struct {
	Messages Messages
	// Keys are our DKIM keys, current and retired; nil checks no
	// signatures (all are then "not ours").
	Keys    *dkimkeys.Ring
	Catalog *i18n.Catalog
	// ServiceName is our brand, as messages name it.
	ServiceName string
	// MailDomain is the domain our mail signs as (DKIM d=).
	MailDomain string
	// FromDomain is the domain of our From address, when it is not
	// MailDomain (mail.domain set to another name): ours too.
	FromDomain string
	// PublicURL is where holders reach us; its host is ours too.
	PublicURL string
	// SupportURL is the operator's support page (support.url), which our
	// messages link to: its host is ours too.
	SupportURL string
	// LookupTXT resolves DNS TXT records for signatures of other domains;
	// nil uses the system resolver with a 3-second limit.
	LookupTXT func(ctx context.Context, name string) ([]string, error)
	// Zone formats times in reasons (the reader's zone); nil uses UTC.
	Zone func(lang string) *time.Location
	// Judged, when set, is told of every verdict with what was checked
	// (Result.Kind: eml, text or reference). Optional (metrics).
	Judged func(kind string, v Verdict)
}

// ours is what hosts are compared with.
func (c *Checker) ours() lookalike.Ours {
	domains := []string{strings.ToLower(c.MailDomain)}
	for _, d := range []string{c.FromDomain, hostOf(c.PublicURL), hostOf(c.SupportURL)} {
		if d = strings.ToLower(d); d != "" && !slices.Contains(domains, d) {
			domains = append(domains, d)
		}
	}
	return lookalike.Ours{Domains: domains, Brand: c.ServiceName}
}

// Check checks in and returns the verdict with its reasons in lang. The
// input is not kept.
func (c *Checker) Check(ctx context.Context, in Input, lang string) (*Result, error) {
	switch {
	case len(in.Raw) > MaxRaw:
		return nil, ErrTooLarge
	case len(in.Raw) == 0 && len(in.Text) > MaxText:
		return nil, ErrTooLarge
	}
	j := &judge{c: c, lang: lang, ours: c.ours(), ctx: ctx}
	raw := in.Raw
	if bytes.HasPrefix(raw, []byte("From ")) {
		// Saved from an mbox: its "From sender date" separator line is
		// not part of the message.
		if _, rest, ok := bytes.Cut(raw, []byte("\n")); ok {
			raw = rest
		}
	}
	if len(raw) > 0 && !LooksLikeEmail(raw) {
		return nil, ErrNotEmail
	}
	text := strings.TrimSpace(in.Text)
	if len(raw) == 0 && looksLikeEmail(text) {
		// The source of an email pasted as text ("show original").
		raw = []byte(text)
	}
	if _, ok := random.ParseReference(text); ok && len(raw) == 0 {
		// Only a reference was pasted: it is a lookup, not a message.
		in.Reference, text = text, ""
	}
	var err error
	switch {
	case len(raw) > 0:
		j.res.Kind = "eml"
		err = j.email(raw)
	case text != "":
		j.res.Kind = "text"
		if !utf8.ValidString(text) {
			text = strings.ToValidUTF8(text, "\uFFFD")
		}
		err = j.text(text)
	case strings.TrimSpace(in.Reference) != "":
		j.res.Kind = "reference"
		err = j.reference(in.Reference)
	default:
		return nil, ErrEmpty
	}
	if err != nil {
		return nil, err
	}
	res := j.finish()
	if c.Judged != nil {
		c.Judged(res.Kind, res.Verdict)
	}
	return res, nil
}

// judge is one check in progress.
type judge struct {
	c    *Checker
	lang string
	ours lookalike.Ours
	ctx  context.Context
	res  Result

	claims    bool // the message presents itself as ours
	matched   bool // its content is what we sent
	decisive  bool // a Bad reason was found
	blockGood bool // something keeps a matching message from "genuine" (cannot tell)
	// addedOnly is set while signals judges only what a paste adds to a
	// message of ours.
	addedOnly bool
	// matchArgs are content_matches' arguments, for rewording it when
	// the verdict cannot be genuine (finish).
	matchArgs []any
	// japanese is set when what signals judges is a piece (the lines
	// added to a message of ours) of a Japanese text.
	japanese bool
	// rewrittenBy are the mail security services whose rewritten links
	// were put back for the message to match (rewrite.go).
	rewrittenBy []string
}

func (j *judge) t(key string, args ...any) string {
	return j.c.Catalog.T(j.lang, "check.reason."+key, args...)
}

// addAs is add with the text of another catalog key: one reason code,
// worded for its case.
func (j *judge) addAs(level Level, code, key string, args ...any) {
	j.addText(level, code, key, args)
}

func (j *judge) add(level Level, code string, args ...any) {
	j.addText(level, code, code, args)
}

func (j *judge) addText(level Level, code, key string, args []any) {
	for _, r := range j.res.Reasons {
		if r.Code == code && level != Note {
			return // one reason per code; its text names the first case
		}
	}
	if level == Bad {
		j.decisive = true
	}
	j.res.Reasons = append(j.res.Reasons, Reason{Code: code, Text: j.t(key, args...), Level: level})
}

// drop removes the reasons with the code.
func (j *judge) drop(code string) {
	j.res.Reasons = slices.DeleteFunc(j.res.Reasons, func(r Reason) bool { return r.Code == code })
}

func (j *judge) when(t time.Time) string {
	loc := time.UTC
	if j.c.Zone != nil {
		if z := j.c.Zone(j.lang); z != nil {
			loc = z
		}
	}
	return j.c.Catalog.Time(j.lang, t, loc)
}

// purpose names what a stored message was for, as a visitor may learn it.
func (j *judge) purpose(m *outbox.Message) string {
	if m.Purpose.HasCode() {
		return j.c.Catalog.T(j.lang, "purpose."+string(m.Purpose))
	}
	return j.c.Catalog.T(j.lang, "check.purpose_notice")
}

// lookup finds our message with the reference; a withheld message (never
// sent) is answered exactly like an unknown reference.
func (j *judge) lookup(ref string) (*outbox.Message, error) {
	m, err := j.c.Messages.MessageByReference(j.ctx, ref)
	if errors.Is(err, outbox.ErrNotFound) || (err == nil && m.Status == outbox.Withheld) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("check: %w", err)
	}
	return m, nil
}

func (j *judge) reference(typed string) error {
	ref, ok := random.ParseReference(typed)
	if !ok {
		j.claims = true
		j.res.Reference = strings.TrimSpace(typed)
		j.add(Bad, "reference_format", strings.TrimSpace(typed))
		j.add(Note, "reference_typo")
		return nil
	}
	j.res.Reference = ref
	j.claims = true
	m, err := j.lookup(ref)
	if err != nil {
		return err
	}
	if m == nil {
		j.add(Bad, "reference_unknown", ref)
		j.add(Note, "reference_typo")
		return nil
	}
	j.res.Message = m
	j.add(Note, "reference_ours", ref, j.when(m.CreatedAt), j.purpose(m))
	j.add(Note, "reference_only")
	return nil
}

// finish decides the verdict and orders the reasons.
func (j *judge) finish() *Result {
	r := &j.res
	switch {
	case j.matched && !j.decisive && !j.blockGood:
		r.Verdict = Genuine
	case j.decisive:
		r.Verdict = NotOurs
	default:
		r.Verdict = CannotTell
	}
	for i := range r.Reasons {
		x := &r.Reasons[i]
		switch {
		case x.Code == "pressure" && j.decisive:
			x.Level = Bad
		case x.Code == "content_matches" && r.Verdict != Genuine && j.matchArgs != nil:
			// "Exactly what we sent" would overstate a message whose
			// signature does not vouch for it, or that something else
			// shows is not ours as it is.
			x.Text = j.t("content_matches_words", j.matchArgs...)
		}
	}
	// Decisive reasons first, then what supports genuineness — the
	// comparison with our records before the signature, which says the
	// same in words fewer people know — then notes.
	rank := func(x Reason) int {
		switch {
		case x.Level == Bad:
			return 0
		case x.Level == Good && x.Code == "content_matches":
			return 1
		case x.Level == Good:
			return 2
		}
		return 3
	}
	slices.SortStableFunc(r.Reasons, func(a, b Reason) int { return rank(a) - rank(b) })
	return r
}

// Advice is what the reader should do about a result, in lang.
func (c *Checker) Advice(res *Result, lang string) string {
	v := res.Verdict
	if v == CannotTell && res.Kind == "eml" {
		// The whole email was given: "upload its .eml" cannot be the way on.
		return c.Catalog.T(lang, "check.verdict_advice.cannot_tell_eml")
	}
	if v == NotOurs {
		// Typing our address is the way back that a phishing message
		// cannot fake: the advice prints it.
		return c.Catalog.T(lang, "check.verdict_advice."+string(v), strings.TrimRight(c.PublicURL, "/"))
	}
	return c.Catalog.T(lang, "check.verdict_advice."+string(v))
}

// hostOf returns the lower-cased host of a URL, or "".
func hostOf(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		u = u[i+3:]
	}
	if i := strings.IndexAny(u, "/?#"); i >= 0 {
		u = u[:i]
	}
	if i := strings.LastIndex(u, "@"); i >= 0 {
		u = u[i+1:]
	}
	if h, _, err := net.SplitHostPort(u); err == nil {
		u = h
	}
	return strings.TrimSuffix(strings.ToLower(strings.Trim(u, "[]")), ".")
}

// LooksLikeEmail reports whether b is an email's source (RFC 5322 header
// lines, a From and a Subject, Date or the like among them) rather than a
// text someone copied out of a message.
func LooksLikeEmail(b []byte) bool {
	head := b
	if len(head) > 64<<10 {
		head = head[:64<<10]
	}
	// Only up to the first blank line is read: copy no more than that.
	if i := bytes.Index(head, []byte("\n\n")); i >= 0 {
		head = head[:i+2]
	} else if i := bytes.Index(head, []byte("\n\r\n")); i >= 0 {
		head = head[:i+3]
	}
	return looksLikeEmail(string(head))
}

// looksLikeEmail reports whether a pasted text is an email's source: header
// lines first, a From and a Subject or Date among them.
func looksLikeEmail(s string) bool {
	// Only the header is read (and copied): up to the first blank line.
	end := strings.Index(s, "\n\n")
	if i := strings.Index(s, "\r\n\r\n"); i >= 0 && (end < 0 || i < end) {
		end = i
	}
	if end < 0 {
		return false
	}
	head := strings.ReplaceAll(s[:end], "\r\n", "\n")
	var from, other bool
	for i, line := range strings.Split(head, "\n") {
		if line == "" {
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			if i == 0 {
				return false
			}
			continue
		}
		name, _, ok := strings.Cut(line, ":")
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return false
		}
		switch strings.ToLower(name) {
		case "from":
			from = true
		case "subject", "date", "message-id", "received", "return-path", "dkim-signature":
			other = true
		}
	}
	return from && other
}

// channelOf says whether a stored message was an email or an SMS.
func channelOf(m *outbox.Message) request.Channel {
	if m.Channel == "" {
		return request.Email
	}
	return m.Channel
}

var crlf = []byte("\r\n")

func normalizeNewlines(b []byte) []byte {
	if !bytes.Contains(b, crlf) {
		return b
	}
	return bytes.ReplaceAll(b, crlf, []byte("\n"))
}
