package deploy_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// No container engine runs here, so the tests read deploy/Dockerfile the
// way one would — just the instructions it uses — and do by hand what
// the engine would do with them.

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	Cmd  string // upper case: FROM, RUN, COPY…
	Args string
	Line int
}

// stage is one FROM and the instructions under it.
type stage struct {
	From, Name string
	Instr      []instruction
}

// dockerfile is a parsed Dockerfile.
type dockerfile struct {
	Path   string
	Stages []*stage
}

func readDockerfile(path string) (*dockerfile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	df := &dockerfile{Path: path}
	var cur *stage
	var pending strings.Builder
	start := 0
	for i, line := range strings.Split(string(b), "\n") {
		trimmed := strings.TrimSpace(line)
		// A comment is a line that starts with #, also between
		// continuation lines.
		if strings.HasPrefix(trimmed, "#") || (trimmed == "" && pending.Len() == 0) {
			continue
		}
		if pending.Len() == 0 {
			start = i + 1
		}
		if cont, ok := strings.CutSuffix(trimmed, `\`); ok {
			pending.WriteString(cont + " ")
			continue
		}
		pending.WriteString(trimmed)
		text := pending.String()
		pending.Reset()
		cmd, args, _ := strings.Cut(text, " ")
		in := instruction{Cmd: strings.ToUpper(cmd), Args: strings.TrimSpace(args), Line: start}
		if in.Cmd == "FROM" {
			f := strings.Fields(in.Args)
			cur = &stage{From: f[0]}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				cur.Name = f[2]
			}
			df.Stages = append(df.Stages, cur)
			continue
		}
		if cur == nil {
			return nil, fmt.Errorf("%s:%d: %s before FROM", path, start, in.Cmd)
		}
		cur.Instr = append(cur.Instr, in)
	}
	if len(df.Stages) == 0 {
		return nil, fmt.Errorf("%s: no FROM", path)
	}
	return df, nil
}

// stage returns the stage named name ("" for the last one, the image).
func (df *dockerfile) stage(name string) *stage {
	if name == "" {
		return df.Stages[len(df.Stages)-1]
	}
	for _, s := range df.Stages {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// all returns the stage's instructions of one kind.
func (s *stage) all(cmd string) []instruction {
	var out []instruction
	for _, in := range s.Instr {
		if in.Cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

// env is the environment a RUN of the stage sees from the Dockerfile: its
// ARG defaults and ENV values, as NAME=VALUE (only that form is used).
func (s *stage) env() ([]string, error) {
	var out []string
	for _, in := range s.Instr {
		if in.Cmd != "ARG" && in.Cmd != "ENV" {
			continue
		}
		if !regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=\S*$`).MatchString(in.Args) {
			return nil, fmt.Errorf("line %d: %s %s: the tests read only %s NAME=VALUE", in.Line, in.Cmd, in.Args, in.Cmd)
		}
		out = append(out, in.Args)
	}
	return out, nil
}

// jsonOrWords reads an exec-form (JSON array) argument, or plain words.
func jsonOrWords(args string) []string {
	var list []string
	if json.Unmarshal([]byte(args), &list) == nil {
		return list
	}
	return strings.Fields(args)
}

// buildRecipe is the go build of the Dockerfile's build stage.
type buildRecipe struct {
	Stage  string   // the build stage's name
	Env    []string // the stage's ARG and ENV, then the RUN line's own assignments
	Assign []string // the RUN line's assignments alone (CGO_ENABLED=0)
	Args   []string // go's arguments: build, flags, -o OUT, the package
	Out    string   // the -o path in the build stage
	Mkdirs map[string]os.FileMode
}

// buildRecipe finds the build stage's `RUN … go build …` line and reads
// it as /bin/sh would: leading NAME=VALUE assignments, then the command,
// with the stage's ARG and ENV values expanded; and the stage's mkdirs.
func (df *dockerfile) buildRecipe() (*buildRecipe, error) {
	for _, s := range df.Stages[:len(df.Stages)-1] {
		env, err := s.env()
		if err != nil {
			return nil, err
		}
		r := &buildRecipe{Stage: s.Name, Mkdirs: map[string]os.FileMode{}}
		for _, in := range s.all("RUN") {
			words, err := shellWords(in.Args, env)
			if err != nil {
				return nil, fmt.Errorf("line %d: %v", in.Line, err)
			}
			if len(words) > 0 && words[0] == "mkdir" {
				if err := r.mkdir(words[1:]); err != nil {
					return nil, fmt.Errorf("line %d: %v", in.Line, err)
				}
				continue
			}
			i := 0
			for i < len(words) && regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`).MatchString(words[i]) {
				i++
			}
			if len(words) < i+2 || words[i] != "go" || words[i+1] != "build" {
				continue
			}
			if r.Args != nil {
				return nil, fmt.Errorf("line %d: a second go build: the tests build one binary", in.Line)
			}
			r.Assign = words[:i]
			r.Env = append(env, r.Assign...)
			r.Args = words[i+1:]
			for j, a := range r.Args {
				if a == "-o" && j+1 < len(r.Args) {
					r.Out = r.Args[j+1]
				}
			}
			if r.Out == "" {
				return nil, fmt.Errorf("line %d: go build without -o", in.Line)
			}
		}
		if r.Args != nil {
			return r, nil
		}
	}
	return nil, errors.New("no `RUN go build` line in a build stage")
}

// mkdir records a `mkdir [-p] [-m MODE] DIR…` of the build stage.
func (r *buildRecipe) mkdir(args []string) error {
	mode := os.FileMode(0o755)
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		switch args[0] {
		case "-p":
			args = args[1:]
		case "-m":
			if len(args) < 2 {
				return errors.New("mkdir -m without a mode")
			}
			m, err := strconv.ParseUint(args[1], 8, 32)
			if err != nil {
				return fmt.Errorf("mkdir -m %s: the tests read only octal modes", args[1])
			}
			mode, args = os.FileMode(m), args[2:]
		default:
			return fmt.Errorf("mkdir %s: the tests read only -p and -m", args[0])
		}
	}
	for _, d := range args {
		r.Mkdirs[d] = mode
	}
	return nil
}

// argsWithOutput is go's arguments with -o's value replaced by out.
func (r *buildRecipe) argsWithOutput(out string) []string {
	args := append([]string(nil), r.Args...)
	for i := range args {
		if args[i] == "-o" && i+1 < len(args) {
			args[i+1] = out
		}
	}
	return args
}

// flag returns the value of -name=value or -name value in go's arguments.
func (r *buildRecipe) flag(name string) (string, bool) {
	for i, a := range r.Args {
		if v, ok := strings.CutPrefix(a, "-"+name+"="); ok {
			return v, true
		}
		if a == "-"+name {
			if i+1 < len(r.Args) && !strings.HasPrefix(r.Args[i+1], "-") {
				return r.Args[i+1], true
			}
			return "", true
		}
	}
	return "", false
}

// shellWords splits a RUN line as /bin/sh does for a simple command:
// single and double quotes, backslashes, $NAME and ${NAME} from env
// (outside single quotes). Anything more (pipes, &&, ;, globs, command
// substitution) is refused: the tests could not do what the shell does.
func shellWords(s string, env []string) ([]string, error) {
	lookup := func(name string) string {
		for i := len(env) - 1; i >= 0; i-- {
			if v, ok := strings.CutPrefix(env[i], name+"="); ok {
				return v
			}
		}
		return ""
	}
	var words []string
	var w strings.Builder
	inWord := false
	expand := func(i int) (int, error) { // s[i] == '$'
		if i+1 < len(s) && s[i+1] == '{' {
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				return 0, errors.New("unclosed ${")
			}
			w.WriteString(lookup(s[i+2 : i+end]))
			return i + end + 1, nil
		}
		j := i + 1
		for j < len(s) && (s[j] == '_' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= '0' && s[j] <= '9') {
			j++
		}
		if j == i+1 {
			return 0, fmt.Errorf("a $ the tests cannot expand in %q", s)
		}
		w.WriteString(lookup(s[i+1 : j]))
		return j, nil
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			if inWord {
				words, inWord = append(words, w.String()), false
				w.Reset()
			}
			i++
		case c == '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return nil, errors.New("unclosed '")
			}
			w.WriteString(s[i+1 : i+1+end])
			inWord, i = true, i+end+2
		case c == '"':
			inWord = true
			i++
			for {
				if i >= len(s) {
					return nil, errors.New(`unclosed "`)
				}
				if s[i] == '"' {
					i++
					break
				}
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte(`"\$`+"`", s[i+1]) >= 0 {
					w.WriteByte(s[i+1])
					i += 2
					continue
				}
				if s[i] == '$' {
					var err error
					if i, err = expand(i); err != nil {
						return nil, err
					}
					continue
				}
				if s[i] == '`' {
					return nil, errors.New("command substitution")
				}
				w.WriteByte(s[i])
				i++
			}
		case c == '\\' && i+1 < len(s):
			w.WriteByte(s[i+1])
			inWord, i = true, i+2
		case c == '$':
			var err error
			if i, err = expand(i); err != nil {
				return nil, err
			}
			inWord = true
		case strings.IndexByte("|&;<>()`*?[", c) >= 0:
			return nil, fmt.Errorf("%q in %q: keep each RUN a simple command the tests can read", c, s)
		default:
			w.WriteByte(c)
			inWord = true
			i++
		}
	}
	if inWord {
		words = append(words, w.String())
	}
	return words, nil
}
