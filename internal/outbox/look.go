package outbox

import (
	"fmt"
	"html/template"
	"regexp"
	"strings"

	"golang.org/x/net/html"

	"gatehouse/internal/i18n"
)

// The operator's template for the HTML part of emails (brand.templates'
// mail/message.html). It may change how a message looks, not what it
// carries: a template that does not show the message's text, its code,
// its reference line and the rest of its footer is refused at start, and
// a message it would draw without them (a template that tells the check's
// sample from a real message) gets the built-in HTML part instead.

// sampleReference is the reference of the messages a template is checked
// with: a real one's form, so a template that looks for it finds one.
const sampleReference = "GH-7K3P-Q9XW-2MRC"

// UseHTMLTemplate has the outbox draw the HTML part of every email with
// the template src instead of the built-in one, once it has drawn sample
// messages in every language, with and without a code, each with its text,
// its code, its reference line and the rest of its footer where a reader
// sees them. name names the file in errors.
func (o *Outbox) UseHTMLTemplate(name, src string) error {
	t, err := template.New("message.html").Parse(src)
	if err != nil {
		return fmt.Errorf("%s: %v", name, err)
	}
	for _, lang := range i18n.Languages {
		for _, code := range []string{CodeMask, ""} {
			d := Draft{Language: lang, Subject: "Subject", Code: code,
				Paragraphs: []string{"The message's first paragraph.", "The message's second paragraph."}}
			footer := o.footer(lang, sampleReference, code != "")
			var b strings.Builder
			if err := t.Execute(&b, o.htmlData(d, footer)); err != nil {
				return fmt.Errorf("%s: %v", name, err)
			}
			if err := o.carries(b.String(), d, footer, sampleReference); err != nil {
				which := i18n.Name(lang)
				if code != "" {
					which += ", a message with a code"
				}
				return fmt.Errorf("%s: %v (in %s); every message must carry its text, code, reference line and footer where its reader sees them: write {{range .Paragraphs}}<p>{{.}}</p>{{end}}, {{.Code}} and {{range .Footer}}<p>{{.}}</p>{{end}}",
					name, err, which)
			}
		}
	}
	o.html = t
	return nil
}

func (o *Outbox) htmlData(d Draft, footer []string) map[string]any {
	color := o.Color
	if color == "" {
		color = defaultColor
	}
	return map[string]any{
		"Lang": d.Language, "Subject": d.Subject, "Paragraphs": d.Paragraphs, "Code": d.Code, "Footer": footer,
		"Service": o.ServiceName, "Color": color,
	}
}

// renderHTML draws the HTML part of an email: with the operator's
// template when it draws everything the message carries, else with the
// built-in one.
func (o *Outbox) renderHTML(d Draft, ref string, footer []string) string {
	data := o.htmlData(d, footer)
	if o.html != nil {
		var b strings.Builder
		err := o.html.Execute(&b, data)
		if err == nil {
			err = o.carries(b.String(), d, footer, ref)
		}
		if err == nil {
			return b.String()
		}
		if o.Log != nil {
			o.Log.Error("outbox: the email template's HTML part leaves out what a message carries; this message has the built-in one", "purpose", d.Purpose, "err", err)
		}
	}
	var b strings.Builder
	htmlMail.Execute(&b, data)
	return b.String()
}

// carries reports what of the message an HTML part does not show: its
// paragraphs, its code (written as it is, for Reveal to put the real one
// in its place), each footer line — the reference line first.
func (o *Outbox) carries(h string, d Draft, footer []string, ref string) error {
	text := visibleText(h)
	for _, p := range d.Paragraphs {
		if !strings.Contains(text, collapse(p)) {
			return fmt.Errorf("the message's text (%q) is missing or hidden", p)
		}
	}
	if d.Code != "" && (!strings.Contains(h, d.Code) || !strings.Contains(text, d.Code)) {
		return fmt.Errorf("the code (%q) is missing or hidden", d.Code)
	}
	if refLine := o.reference(d.Language, ref); !strings.Contains(text, collapse(refLine)) {
		return fmt.Errorf("the message's reference line (%q) is missing or hidden", refLine)
	}
	for _, line := range footer {
		if !strings.Contains(text, collapse(line)) {
			return fmt.Errorf("the footer line %q is missing or hidden", line)
		}
	}
	return nil
}

// collapse writes s with every run of white space as one space.
func collapse(s string) string { return strings.Join(strings.Fields(s), " ") }

// hiddenStyle matches an inline style that hides its element.
var hiddenStyle = regexp.MustCompile(`(?i)(?:^|;)\s*(?:display\s*:\s*none|visibility\s*:\s*hidden|opacity\s*:\s*0(?:\.0*)?\s*(?:;|$|!)|font-size\s*:\s*0(?:\.0*)?(?:px|pt|em|rem|%)?\s*(?:;|$|!)|(?:max-)?height\s*:\s*0(?:px)?\s*(?:;|$|!))`)

// voidElements have no end tag: they open no element to close.
var voidElements = map[string]bool{"area": true, "base": true, "br": true, "col": true, "embed": true, "hr": true, "img": true,
	"input": true, "link": true, "meta": true, "param": true, "source": true, "track": true, "wbr": true}

// unseen are the elements whose text a reader does not see in the message.
var unseen = map[string]bool{"head": true, "title": true, "script": true, "style": true, "template": true, "noscript": true}

// breaks are the elements that start a new line of text.
var breaks = map[string]bool{"p": true, "div": true, "br": true, "tr": true, "td": true, "th": true, "li": true, "hr": true,
	"table": true, "h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true, "blockquote": true, "pre": true}

// visibleText is the text of an HTML document a reader sees, white space
// collapsed: none of the head, scripts and styles, nor of an element
// hidden by its hidden attribute or an inline style that hides it.
func visibleText(doc string) string {
	z := html.NewTokenizer(strings.NewReader(doc))
	type open struct {
		name   string
		hidden bool
	}
	var stack []open
	hidden := func() bool { return len(stack) > 0 && stack[len(stack)-1].hidden }
	var b strings.Builder
	for {
		switch z.Next() {
		case html.ErrorToken:
			return collapse(b.String())
		case html.TextToken:
			if !hidden() {
				b.Write(z.Text())
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			if breaks[tok.Data] {
				b.WriteByte(' ')
			}
			if voidElements[tok.Data] {
				continue
			}
			h := hidden() || unseen[tok.Data]
			for _, a := range tok.Attr {
				if a.Key == "hidden" || a.Key == "style" && hiddenStyle.MatchString(a.Val) {
					h = true
				}
			}
			stack = append(stack, open{tok.Data, h})
		case html.EndTagToken:
			name, _ := z.TagName()
			if breaks[string(name)] {
				b.WriteByte(' ')
			}
			for i := len(stack) - 1; i >= 0; i-- {
				if stack[i].name == string(name) {
					stack = stack[:i]
					break
				}
			}
		}
	}
}
