package check

import (
	"bytes"
	"io"
	"strings"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // ISO-2022-JP, Shift_JIS, EUC-JP…: what Japanese mail (and phishing) is written in
	"github.com/emersion/go-message/mail"
	"golang.org/x/net/html"
)

// Bounds on what a raw email may make the parser do: an attacker controls
// the input, so nesting, part count and decoded text are all capped, and
// the parse is linear in the input.
const (
	maxDepth     = 8
	maxParts     = 64
	maxPartBytes = 1 << 20
	maxLinks     = 200
)

// parsed is what the checker reads from an email.
type parsed struct {
	fromName, fromAddr string
	replyTo            []string // addresses
	returnPath         string
	to                 []string
	subject            string
	reference          string // X-Gatehouse-Reference
	texts              []string
	htmls              []string
	truncated          bool // a bound was hit: not everything was read
	// twice are the header fields a message may have once (RFC 5322
	// §3.6) that it has more than once: one was added on top.
	twice []string
}

// singleFields are the fields RFC 5322 allows once, that a reader reads.
var singleFields = []string{"From", "To", "Subject", "Date", "Message-Id", "Reply-To", "X-Gatehouse-Reference"}

// link is one URL of a message, with the text a reader sees for it.
type link struct {
	href, text string
}

func parseEmail(raw []byte) (*parsed, error) {
	e, err := message.Read(bytes.NewReader(raw))
	if e == nil {
		return nil, err
	}
	// An unknown charset still leaves a readable entity.
	p := &parsed{}
	h := mail.Header{Header: e.Header}
	if as, err := h.AddressList("From"); err == nil && len(as) > 0 {
		p.fromName, p.fromAddr = as[0].Name, strings.ToLower(as[0].Address)
	} else if v := h.Get("From"); v != "" {
		p.fromAddr = strings.ToLower(strings.Trim(lastField(v), "<>"))
	}
	if as, err := h.AddressList("Reply-To"); err == nil {
		for _, a := range as {
			p.replyTo = append(p.replyTo, strings.ToLower(a.Address))
		}
	}
	if as, err := h.AddressList("To"); err == nil {
		for _, a := range as {
			p.to = append(p.to, strings.ToLower(a.Address))
		}
	}
	p.returnPath = strings.ToLower(strings.Trim(strings.TrimSpace(h.Get("Return-Path")), "<>"))
	if s, err := h.Text("Subject"); err == nil {
		p.subject = s
	} else {
		p.subject = h.Get("Subject")
	}
	p.reference = strings.TrimSpace(h.Get("X-Gatehouse-Reference"))
	for _, f := range singleFields {
		if len(e.Header.Values(f)) > 1 {
			p.twice = append(p.twice, f)
		}
	}
	parts := 0
	p.walk(e, 0, &parts)
	return p, nil
}

func lastField(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return ""
	}
	return f[len(f)-1]
}

func (p *parsed) walk(e *message.Entity, depth int, parts *int) {
	*parts++
	if depth > maxDepth || *parts > maxParts {
		p.truncated = true
		return
	}
	if mr := e.MultipartReader(); mr != nil {
		for {
			part, err := mr.NextPart()
			if err != nil {
				if err != io.EOF {
					p.truncated = true
				}
				return
			}
			p.walk(part, depth+1, parts)
			if *parts > maxParts {
				p.truncated = true
				return
			}
		}
	}
	typ, _, _ := e.Header.ContentType()
	if disp, _, _ := e.Header.ContentDisposition(); disp == "attachment" {
		return
	}
	if typ != "text/plain" && typ != "text/html" && typ != "" {
		return
	}
	b, err := io.ReadAll(io.LimitReader(e.Body, maxPartBytes+1))
	if len(b) > maxPartBytes {
		b, p.truncated = b[:maxPartBytes], true
	}
	if err != nil && len(b) == 0 {
		return
	}
	s := strings.ToValidUTF8(string(normalizeNewlines(b)), "\uFFFD")
	if typ == "text/html" {
		p.htmls = append(p.htmls, s)
	} else {
		p.texts = append(p.texts, s)
	}
}

// readHTML returns an HTML part's visible text and its links.
func readHTML(s string) (string, []link) {
	z := html.NewTokenizer(strings.NewReader(s))
	var text strings.Builder
	var links []link
	var cur *link
	var anchorText strings.Builder
	skip := 0
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			if cur != nil {
				cur.text = strings.TrimSpace(anchorText.String())
				links = append(links, *cur)
			}
			return text.String(), links
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			switch string(name) {
			case "script", "style", "head", "title":
				if tt == html.StartTagToken {
					skip++
				}
			case "a":
				if cur != nil { // an unclosed anchor
					cur.text = strings.TrimSpace(anchorText.String())
					links = append(links, *cur)
					cur = nil
				}
				for hasAttr {
					var k, v []byte
					k, v, hasAttr = z.TagAttr()
					if string(k) == "href" && len(links) < maxLinks {
						cur = &link{href: strings.TrimSpace(string(v))}
						anchorText.Reset()
					}
				}
			case "br", "p", "div", "tr", "li", "hr", "h1", "h2", "h3", "table":
				text.WriteByte('\n')
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "script", "style", "head", "title":
				if skip > 0 {
					skip--
				}
			case "a":
				if cur != nil {
					cur.text = strings.TrimSpace(anchorText.String())
					links = append(links, *cur)
					cur = nil
				}
			case "p", "div", "tr", "li":
				text.WriteByte('\n')
			}
		case html.TextToken:
			if skip > 0 {
				continue
			}
			t := string(z.Text())
			text.WriteString(t)
			if cur != nil && anchorText.Len() < 2048 {
				anchorText.WriteString(t)
			}
		}
	}
}
