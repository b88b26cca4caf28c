package web

import (
	"errors"
	"html/template"
	"io"
	"strconv"
	"strings"
	"text/template/parse"

	"gatehouse/internal/i18n"
)

// Folding the catalog into the templates.
//
// Every page is parsed once per language, and in each language's copy the
// catalog strings the templates ask for with a constant key — {{t .Lang
// "key"}} — are written in at parse time, so that drawing a page does not
// call the catalog (and html/template's escaper after it) for each of
// them: those calls were half the cost of executing the account page's
// template. It happens in two steps, so that html/template still decides
// how each string is escaped:
//
//  1. Before escaping, each such call becomes the constant pipeline
//     {{"text"}} (foldCatalog). html/template escapes a constant like any
//     other string, for the context it finds it in, but does not evaluate
//     it: executing it still costs the escaper's call.
//  2. After escaping (escapeNow), an action that is a constant followed by
//     escapers for HTML text, a quoted attribute or RCDATA (a <title>),
//     and nothing else, becomes the text the escaper would have written
//     (foldEscaped). A constant anywhere else (a URL, a script, an
//     unquoted attribute) is left as its pipeline.
//
// TestFoldedPagesSameBytes proves the pages' output byte for byte the
// same as the templates parsed without folding.

// langDot reports whether arg is .Lang with dot the template's own (root
// dot: root), or $.Lang. Every template is executed with a dot whose Lang
// is the page's language: the page itself, or (the "input" template) an
// input made by the input function, which copies the page's Lang.
func langDot(arg parse.Node, root bool) bool {
	switch a := arg.(type) {
	case *parse.FieldNode:
		return root && len(a.Ident) == 1 && a.Ident[0] == "Lang"
	case *parse.VariableNode:
		return len(a.Ident) == 2 && a.Ident[0] == "$" && a.Ident[1] == "Lang"
	}
	return false
}

// catalogConstant returns the text of cmd when it is a call of t with the
// page's language and a constant key, and nothing else: t .Lang "key".
func catalogConstant(cmd *parse.CommandNode, root bool, c *i18n.Catalog, lang string) (*parse.StringNode, bool) {
	if len(cmd.Args) != 3 {
		return nil, false
	}
	if id, ok := cmd.Args[0].(*parse.IdentifierNode); !ok || id.Ident != "t" || !langDot(cmd.Args[1], root) {
		return nil, false
	}
	key, ok := cmd.Args[2].(*parse.StringNode)
	if !ok {
		return nil, false
	}
	text := c.T(lang, key.Text)
	return &parse.StringNode{NodeType: parse.NodeString, Pos: key.Pos, Quoted: strconv.Quote(text), Text: text}, true
}

// foldPipe rewrites the catalog calls of p: its first command (a later one
// is given the value before it as one more argument, so it is no constant
// call) and its commands' parenthesised arguments, in full.
func foldPipe(p *parse.PipeNode, root bool, c *i18n.Catalog, lang string) {
	if p == nil {
		return
	}
	for i, cmd := range p.Cmds {
		if i == 0 {
			if s, ok := catalogConstant(cmd, root, c, lang); ok {
				cmd.Args = []parse.Node{s}
				continue
			}
		}
		for j, arg := range cmd.Args {
			sub, ok := arg.(*parse.PipeNode)
			if !ok {
				continue
			}
			if len(sub.Decl) == 0 && len(sub.Cmds) == 1 {
				if s, ok := catalogConstant(sub.Cmds[0], root, c, lang); ok {
					cmd.Args[j] = s
					continue
				}
			}
			foldPipe(sub, root, c, lang)
		}
	}
}

// foldCatalog rewrites the catalog calls with constant keys under n (see
// the top of this file); root reports whether dot is still the template's
// own there (with and range change it, in their bodies).
func foldCatalog(n parse.Node, root bool, c *i18n.Catalog, lang string) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, m := range n.Nodes {
			foldCatalog(m, root, c, lang)
		}
	case *parse.ActionNode:
		foldPipe(n.Pipe, root, c, lang)
	case *parse.TemplateNode:
		foldPipe(n.Pipe, root, c, lang)
	case *parse.IfNode:
		foldBranch(&n.BranchNode, root, root, c, lang)
	case *parse.WithNode:
		foldBranch(&n.BranchNode, false, root, c, lang)
	case *parse.RangeNode:
		foldBranch(&n.BranchNode, false, root, c, lang)
	}
}

// foldBranch is foldCatalog for an if, with or range: its pipeline and
// else are evaluated with the dot outside it, its body with body's.
func foldBranch(b *parse.BranchNode, body, root bool, c *i18n.Catalog, lang string) {
	foldPipe(b.Pipe, root, c, lang)
	foldCatalog(b.List, body, c, lang)
	foldCatalog(b.ElseList, root, c, lang)
}

// escapeNow has html/template escape the page's templates (it does so on
// the first execution otherwise), so that their escaped trees can be
// folded before the first request. Executing with no data fails at its
// first field, after the escaping: only an escaping error is one.
func escapeNow(t *template.Template) error {
	err := t.ExecuteTemplate(io.Discard, "layout", nil)
	if e := (*template.Error)(nil); errors.As(err, &e) {
		return err
	}
	return nil
}

// textEscapers are html/template's escapers (as it names them in escaped
// templates) for HTML text, a quoted attribute's value and RCDATA: for a
// string that is not template.HTML, all three write the same escaped text,
// that of {{.}} in HTML text (htmlEscaped).
var textEscapers = map[string]bool{
	"_html_template_htmlescaper":   true,
	"_html_template_attrescaper":   true,
	"_html_template_rcdataescaper": true,
}

// htmlEscaped returns s as html/template writes a string in HTML text.
func htmlEscaped(s string) string {
	var b strings.Builder
	if err := htmlText.Execute(&b, s); err != nil {
		panic(err) // a constant template over a string
	}
	return b.String()
}

// htmlText writes its data as HTML text: see htmlEscaped.
var htmlText = template.Must(template.New("text").Parse("{{.}}"))

// foldEscaped turns the escaped constants under list into text, and joins
// text that then follows text (see the top of this file).
func foldEscaped(list *parse.ListNode) {
	if list == nil {
		return
	}
	out := list.Nodes[:0]
	for _, n := range list.Nodes {
		switch n := n.(type) {
		case *parse.IfNode:
			foldEscaped(n.List)
			foldEscaped(n.ElseList)
		case *parse.WithNode:
			foldEscaped(n.List)
			foldEscaped(n.ElseList)
		case *parse.RangeNode:
			foldEscaped(n.List)
			foldEscaped(n.ElseList)
		}
		if a, ok := n.(*parse.ActionNode); ok {
			if text, ok := escapedConstant(a.Pipe); ok {
				n = &parse.TextNode{NodeType: parse.NodeText, Pos: a.Pos, Text: []byte(text)}
			}
		}
		if t, ok := n.(*parse.TextNode); ok && len(out) > 0 {
			if prev, ok := out[len(out)-1].(*parse.TextNode); ok {
				// A fresh node: the parser's text may be shared.
				joined := append(append([]byte(nil), prev.Text...), t.Text...)
				out[len(out)-1] = &parse.TextNode{NodeType: parse.NodeText, Pos: prev.Pos, Text: joined}
				continue
			}
		}
		out = append(out, n)
	}
	list.Nodes = out
}

// escapedConstant returns what p writes when it is a string constant
// followed only by text escapers.
func escapedConstant(p *parse.PipeNode) (string, bool) {
	if p == nil || len(p.Decl) > 0 || len(p.Cmds) < 2 || len(p.Cmds[0].Args) != 1 {
		return "", false
	}
	s, ok := p.Cmds[0].Args[0].(*parse.StringNode)
	if !ok {
		return "", false
	}
	text := s.Text
	for _, cmd := range p.Cmds[1:] {
		if len(cmd.Args) != 1 {
			return "", false
		}
		id, ok := cmd.Args[0].(*parse.IdentifierNode)
		if !ok || !textEscapers[id.Ident] {
			return "", false
		}
		text = htmlEscaped(text)
	}
	return text, true
}

// foldPage folds the catalog's constant strings in lang into t, a page's
// template set freshly parsed (see the top of this file).
func foldPage(t *template.Template, c *i18n.Catalog, lang string) error {
	for _, x := range t.Templates() {
		if x.Tree != nil {
			foldCatalog(x.Tree.Root, true, c, lang)
		}
	}
	if err := escapeNow(t); err != nil {
		return err
	}
	for _, x := range t.Templates() {
		if x.Tree != nil {
			foldEscaped(x.Tree.Root)
		}
	}
	return nil
}
