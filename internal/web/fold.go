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

// Folding each language into the templates.
//
// Every page is parsed once per language, and in each language's copy
// what the templates compute from the language alone is computed at parse
// time, so that drawing a page does not: the catalog strings asked for
// with a constant key ({{t .Lang "key"}}), and the language switcher and
// select, which range over the languages. Those calls, each a reflected
// call followed by html/template's escaper (another), were most of the
// cost of executing the account page's template. It happens in two steps,
// so that html/template still decides how each string is escaped:
//
//  1. Before escaping (folder.list): t .Lang "key" becomes the string it
//     returns; {{range languages}} becomes one {{with "en"}}, {{with
//     "ja"}}… per language, in which dot is that constant; langName of a
//     constant becomes the name; eq of two constants (the page's Lang is
//     one: it is the language folded) becomes true or false, and an if on
//     a constant becomes the branch it takes. html/template escapes a
//     constant like any other string, for the context it finds it in, but
//     does not evaluate it: executing it still costs the escaper's call.
//  2. After escaping (folder.escaped): an action that is a constant followed
//     by escapers html/template also puts in one of the folder's probes
//     (HTML text, a quoted attribute, a <title>, a URL's query) becomes
//     the text that probe writes for it. Any other constant is left as its
//     pipeline.
//
// Every template is executed with a dot whose Lang is the page's language
// (the page itself, or an input made by the input function, which copies
// it), and a page is drawn from its language's templates (Server.page).
// TestFoldedPagesSameBytes and TestFoldedPagesSameBytesServed prove the
// pages' output byte for byte the same as the templates parsed without
// folding.

// folder folds one language into templates.
type folder struct {
	c    *i18n.Catalog
	lang string
	// known makes the calls of the server's own functions whose value is
	// fixed for its lifetime (the service's name, its look's URLs; see
	// Server.foldCall), given constant arguments; ok false: not one.
	known func(name string, args []string) (string, bool)
	// probes are the escaping contexts step 2 folds constants in, by the
	// escapers html/template puts there (see newFolder).
	probes map[string]probe
}

// probe is a template that writes its data in one escaping context,
// between prefix and suffix.
type probe struct {
	t              *template.Template
	prefix, suffix string
}

// newFolder returns a folder for lang. Each probe's escapers are read from
// its own escaped tree, so that a constant is folded only where
// html/template would apply exactly those escapers, and folded by them.
func newFolder(c *i18n.Catalog, lang string) (*folder, error) {
	f := &folder{c: c, lang: lang, probes: map[string]probe{}}
	for _, src := range []string{`{{.}}`, `<a title="{{.}}">`, `<title>{{.}}</title>`, `<a href="/?{{.}}">`} {
		t, err := template.New("probe").Parse(src)
		if err != nil {
			return nil, err
		}
		if err := t.Execute(io.Discard, ""); err != nil {
			return nil, err
		}
		var chain string
		for _, n := range t.Tree.Root.Nodes {
			if a, ok := n.(*parse.ActionNode); ok {
				chain, _ = escaperChain(a.Pipe.Cmds[1:])
			}
		}
		if chain == "" {
			return nil, errors.New("web: probe " + src + " has no escapers")
		}
		prefix, suffix, _ := strings.Cut(src, "{{.}}")
		f.probes[chain] = probe{t, prefix, suffix}
	}
	return f, nil
}

// escaperChain names a pipeline's commands when each is a bare function
// name: "a b c".
func escaperChain(cmds []*parse.CommandNode) (string, bool) {
	var names []string
	for _, cmd := range cmds {
		if len(cmd.Args) != 1 {
			return "", false
		}
		id, ok := cmd.Args[0].(*parse.IdentifierNode)
		if !ok {
			return "", false
		}
		names = append(names, id.Ident)
	}
	return strings.Join(names, " "), true
}

// dot is what the folder knows of dot where it folds: the template's own
// (root), a constant string (in a language's copy of a range over the
// languages), or neither.
type dot struct {
	root    bool
	isConst bool
	text    string
}

// literal returns n's value when it is a string the folder knows at d.
func (f *folder) literal(n parse.Node, d dot) (string, bool) {
	switch n := n.(type) {
	case *parse.StringNode:
		return n.Text, true
	case *parse.DotNode:
		return d.text, d.isConst
	case *parse.FieldNode:
		// .Lang with the template's own dot.
		return f.lang, d.root && len(n.Ident) == 1 && n.Ident[0] == "Lang"
	case *parse.VariableNode:
		// $.Lang
		return f.lang, len(n.Ident) == 2 && n.Ident[0] == "$" && n.Ident[1] == "Lang"
	}
	return "", false
}

// constCmd returns what cmd evaluates to when it is a call the folder can
// make now: t with a known language and a constant key (and nothing
// else), langName of a constant, eq of two constants. It must be a pipe's
// first command (a later one is given the value before it as one more
// argument).
func (f *folder) constCmd(cmd *parse.CommandNode, d dot) (parse.Node, bool) {
	id, ok := cmd.Args[0].(*parse.IdentifierNode)
	if !ok {
		return nil, false
	}
	var args []string
	for _, a := range cmd.Args[1:] {
		s, ok := f.literal(a, d)
		if !ok {
			return nil, false
		}
		args = append(args, s)
	}
	switch {
	case id.Ident == "t" && len(args) == 2:
		return newString(cmd.Args[2].Position(), f.c.T(args[0], args[1])), true
	case id.Ident == "langName" && len(args) == 1:
		return newString(id.Pos, i18n.Name(args[0])), true
	case id.Ident == "eq" && len(args) == 2:
		return &parse.BoolNode{NodeType: parse.NodeBool, Pos: id.Pos, True: args[0] == args[1]}, true
	}
	if f.known != nil {
		if v, ok := f.known(id.Ident, args); ok {
			return newString(id.Pos, v), true
		}
	}
	return nil, false
}

func newString(pos parse.Pos, s string) *parse.StringNode {
	return &parse.StringNode{NodeType: parse.NodeString, Pos: pos, Quoted: strconv.Quote(s), Text: s}
}

// constPipe returns p's only command's only argument when it is a
// constant (a string or a boolean) and p declares nothing.
func constPipe(p *parse.PipeNode) (parse.Node, bool) {
	if p == nil || len(p.Decl) > 0 || len(p.Cmds) != 1 || len(p.Cmds[0].Args) != 1 {
		return nil, false
	}
	switch n := p.Cmds[0].Args[0].(type) {
	case *parse.StringNode, *parse.BoolNode:
		return n, true
	}
	return nil, false
}

// pipe folds what it can of p (see the top of this file): a constant dot
// in its arguments, its parenthesised arguments, its first command.
func (f *folder) pipe(p *parse.PipeNode, d dot) {
	if p == nil {
		return
	}
	for i, cmd := range p.Cmds {
		for j, arg := range cmd.Args {
			switch a := arg.(type) {
			case *parse.DotNode:
				if d.isConst {
					cmd.Args[j] = newString(a.Pos, d.text)
				}
			case *parse.PipeNode:
				f.pipe(a, d)
				if c, ok := constPipe(a); ok {
					cmd.Args[j] = c
				}
			}
		}
		if i == 0 {
			if c, ok := f.constCmd(cmd, d); ok {
				cmd.Args = []parse.Node{c}
			}
		}
	}
}

// list folds what it can under l (see the top of this file), with dot d.
func (f *folder) list(l *parse.ListNode, d dot) {
	if l == nil {
		return
	}
	out := make([]parse.Node, 0, len(l.Nodes))
	for _, n := range l.Nodes {
		switch n := n.(type) {
		case *parse.ActionNode:
			f.pipe(n.Pipe, d)
		case *parse.TemplateNode:
			f.pipe(n.Pipe, d)
		case *parse.IfNode:
			f.pipe(n.Pipe, d)
			f.list(n.List, d)
			f.list(n.ElseList, d)
			if c, ok := constPipe(n.Pipe); ok {
				if b, ok := c.(*parse.BoolNode); ok {
					taken := n.ElseList
					if b.True {
						taken = n.List
					}
					if taken == nil {
						continue
					}
					if !declares(taken) {
						out = append(out, taken.Nodes...)
						continue
					}
				}
			}
		case *parse.WithNode:
			f.pipe(n.Pipe, d)
			body := dot{}
			if c, ok := constPipe(n.Pipe); ok {
				if s, ok := c.(*parse.StringNode); ok {
					body = dot{isConst: true, text: s.Text}
					if s.Text == "" && (n.ElseList == nil || !declares(n.ElseList)) {
						// An empty constant: the with is never taken (no
						// logo, no footer links).
						f.list(n.ElseList, d)
						if n.ElseList != nil {
							out = append(out, n.ElseList.Nodes...)
						}
						continue
					}
				}
			}
			f.list(n.List, body)
			f.list(n.ElseList, d)
		case *parse.RangeNode:
			if languageRange(n) {
				for _, lang := range i18n.Languages {
					w := &parse.WithNode{BranchNode: parse.BranchNode{NodeType: parse.NodeWith, Pos: n.Pos, Line: n.Line,
						Pipe: &parse.PipeNode{NodeType: parse.NodePipe, Pos: n.Pipe.Pos, Line: n.Line, Cmds: []*parse.CommandNode{
							{NodeType: parse.NodeCommand, Pos: n.Pipe.Pos, Args: []parse.Node{newString(n.Pipe.Pos, lang)}}}},
						List: n.List.CopyList()}}
					f.list(w.List, dot{isConst: true, text: lang})
					out = append(out, w)
				}
				continue
			}
			f.pipe(n.Pipe, d)
			f.list(n.List, dot{})
			f.list(n.ElseList, d)
		}
		out = append(out, n)
	}
	l.Nodes = out
}

// declares reports whether l declares a variable of its own (which an if
// taken for granted would leak into the list around it).
func declares(l *parse.ListNode) bool {
	for _, n := range l.Nodes {
		if a, ok := n.(*parse.ActionNode); ok && len(a.Pipe.Decl) > 0 {
			return true
		}
	}
	return false
}

// languageRange reports whether r is {{range languages}}…{{end}}: no
// variables, no else, no break or continue (a with runs its body once).
func languageRange(r *parse.RangeNode) bool {
	p := r.Pipe
	if len(p.Decl) > 0 || r.ElseList != nil || len(p.Cmds) != 1 || len(p.Cmds[0].Args) != 1 {
		return false
	}
	if id, ok := p.Cmds[0].Args[0].(*parse.IdentifierNode); !ok || id.Ident != "languages" {
		return false
	}
	return !breaks(r.List)
}

// breaks reports whether a break or continue is anywhere under n.
func breaks(n parse.Node) bool {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return false
		}
		for _, m := range n.Nodes {
			if breaks(m) {
				return true
			}
		}
	case *parse.BreakNode, *parse.ContinueNode:
		return true
	case *parse.IfNode:
		return breaks(n.List) || breaks(n.ElseList)
	case *parse.WithNode:
		return breaks(n.List) || breaks(n.ElseList)
	case *parse.RangeNode:
		return breaks(n.List) || breaks(n.ElseList)
	}
	return false
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

// escapedConstant returns what p writes when it is a string constant
// followed by the escapers of one of the probes.
func (f *folder) escapedConstant(p *parse.PipeNode) (string, bool) {
	if p == nil || len(p.Decl) > 0 || len(p.Cmds) < 2 || len(p.Cmds[0].Args) != 1 {
		return "", false
	}
	s, ok := p.Cmds[0].Args[0].(*parse.StringNode)
	if !ok {
		return "", false
	}
	chain, ok := escaperChain(p.Cmds[1:])
	if !ok {
		return "", false
	}
	pr, ok := f.probes[chain]
	if !ok {
		return "", false
	}
	var b strings.Builder
	if err := pr.t.Execute(&b, s.Text); err != nil {
		return "", false
	}
	out, ok := strings.CutPrefix(b.String(), pr.prefix)
	if !ok {
		return "", false
	}
	return strings.CutSuffix(out, pr.suffix)
}

// escaped turns the escaped constants under list into text, and joins
// text that then follows text (see the top of this file).
func (f *folder) escaped(list *parse.ListNode) {
	if list == nil {
		return
	}
	out := list.Nodes[:0]
	for _, n := range list.Nodes {
		switch n := n.(type) {
		case *parse.IfNode:
			f.escaped(n.List)
			f.escaped(n.ElseList)
		case *parse.WithNode:
			f.escaped(n.List)
			f.escaped(n.ElseList)
		case *parse.RangeNode:
			f.escaped(n.List)
			f.escaped(n.ElseList)
		}
		if a, ok := n.(*parse.ActionNode); ok {
			if text, ok := f.escapedConstant(a.Pipe); ok {
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

// foldPage folds lang into t, a page's template set freshly parsed (see
// the top of this file).
func foldPage(t *template.Template, c *i18n.Catalog, lang string, known func(name string, args []string) (string, bool)) error {
	f, err := newFolder(c, lang)
	if err != nil {
		return err
	}
	f.known = known
	for _, x := range t.Templates() {
		if x.Tree != nil {
			f.list(x.Tree.Root, dot{root: true})
		}
	}
	if err := escapeNow(t); err != nil {
		return err
	}
	for _, x := range t.Templates() {
		if x.Tree != nil {
			f.escaped(x.Tree.Root)
		}
	}
	return nil
}
