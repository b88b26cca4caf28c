// Package brand is the service's own look: its name, logo, colours and
// footer links, and the operator's templates that replace the built-in
// pages and the HTML part of every email. It reads the files the
// configuration names and checks what can be checked of them alone, so
// that a mistake stops the start with the file named instead of showing
// on a holder's screen.
//
// None of it reaches what the server enforces: the security headers, the
// Content-Security-Policy (no inline script) and the cross-origin rule are
// set by package httpcore on every response whatever a template writes;
// package web refuses a page template that would set a header's
// equivalent in the page (a meta http-equiv, a referrer policy), and
// package outbox an email template that leaves out a message's reference
// line or footer.
package brand

import (
	"bytes"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Look is the service's own look, as configured, besides its name
// (service_name, which more than the look uses). The zero Look is
// Gatehouse's own.
type Look struct {
	// Logo is shown before the name at the top of every page; nil: none.
	Logo *Logo
	// Color and ColorDark are the pages' accent colour (links, buttons,
	// focus rings) in the light and the dark scheme, #rrggbb in lower
	// case, or "" for the built-in one.
	Color, ColorDark string
	// Links are shown at the foot of every page.
	Links []Link
	// Templates are the operator's templates replacing the built-in ones.
	Templates Templates
}

// Link is one footer link: its label in each language and where it goes
// (an https URL or a path on this site).
type Link struct {
	Labels map[string]string
	URL    string
}

// Label returns the link's label in lang (the English one when it has
// none in lang).
func (l Link) Label(lang string) string {
	if s := l.Labels[lang]; s != "" {
		return s
	}
	return l.Labels["en"]
}

// Templates are the files of brand.templates: page templates by their
// file name (layout.html, signin.html…) and the email's HTML template.
type Templates struct {
	// Dir is the directory they were read from, for naming a file in an
	// error.
	Dir string
	// Pages maps a page template's file name to its source.
	Pages map[string]string
	// Mail is the source of mail/message.html, or "" when the built-in
	// email template stays.
	Mail string
}

// MailTemplate is the name, within brand.templates, of the HTML part of
// every email.
const MailTemplate = "mail/message.html"

// maxTemplate bounds a template file: a page is a few kilobytes.
const maxTemplate = 1 << 20

// Path returns the path of a file of the directory (a page's file name,
// or MailTemplate), for naming it in an error.
func (t Templates) Path(name string) string {
	return filepath.Join(t.Dir, filepath.FromSlash(name))
}

// ReadTemplates reads the template overrides in dir. pages are the file
// names a page template may take (package web's). Files and directories
// whose names begin with a dot (.git, an editor's swap file) are passed
// over; any other name that is not a template Gatehouse has is refused,
// so that a misspelt override does not silently leave the built-in page
// in place.
func ReadTemplates(dir string, pages []string) (Templates, error) {
	t := Templates{Dir: dir, Pages: map[string]string{}}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return t, fmt.Errorf("brand.templates: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		isDir := e.IsDir()
		if e.Type()&fs.ModeSymlink != 0 {
			// A link to a directory is one.
			st, err := os.Stat(t.Path(name))
			isDir = err == nil && st.IsDir()
		}
		switch {
		case strings.HasPrefix(name, "."):
			continue
		case isDir && name == "mail":
			if err := t.readMail(); err != nil {
				return t, err
			}
		case !isDir && slices.Contains(pages, name):
			src, err := readTemplate(t.Path(name))
			if err != nil {
				return t, err
			}
			t.Pages[name] = src
		default:
			return t, fmt.Errorf("brand.templates: %s is not a template Gatehouse has: a page template takes the name of one in internal/web/templates (%s), the email's is %s", t.Path(name), strings.Join(examples(pages), ", "), MailTemplate)
		}
	}
	return t, nil
}

// examples names a few page templates for an error: layout.html and the
// first others.
func examples(pages []string) []string {
	out := []string{}
	if slices.Contains(pages, "layout.html") {
		out = append(out, "layout.html")
	}
	for _, p := range pages {
		if len(out) == 4 {
			return append(out, "…")
		}
		if p != "layout.html" {
			out = append(out, p)
		}
	}
	return out
}

func (t *Templates) readMail() error {
	dir := t.Path("mail")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("brand.templates: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		switch {
		case strings.HasPrefix(name, "."):
		case "mail/"+name == MailTemplate && !e.IsDir():
			src, err := readTemplate(t.Path(MailTemplate))
			if err != nil {
				return err
			}
			t.Mail = src
		default:
			return fmt.Errorf("brand.templates: %s is not a template Gatehouse has: the email's HTML part is %s", filepath.Join(dir, name), MailTemplate)
		}
	}
	return nil
}

func readTemplate(path string) (string, error) {
	b, err := os.ReadFile(path)
	switch {
	case err != nil:
		return "", fmt.Errorf("brand.templates: %w", err)
	case len(b) > maxTemplate:
		return "", fmt.Errorf("brand.templates: %s is %d KiB; a template may be at most %d KiB", path, len(b)>>10, maxTemplate>>10)
	case !utf8.Valid(b):
		return "", fmt.Errorf("brand.templates: %s is not UTF-8 text", path)
	}
	// A byte-order mark would be written out before <!doctype html>.
	return string(bytes.TrimPrefix(b, []byte("\uFEFF"))), nil
}

// ParseColor reads #rrggbb.
func ParseColor(c string) (r, g, b uint8, ok bool) {
	if len(c) != 7 || c[0] != '#' {
		return 0, 0, 0, false
	}
	var v [3]uint8
	for i := range v {
		n, err := strconv.ParseUint(c[1+2*i:3+2*i], 16, 8)
		if err != nil {
			return 0, 0, 0, false
		}
		v[i] = uint8(n)
	}
	return v[0], v[1], v[2], true
}

// Contrast is WCAG 2's contrast ratio of two #rrggbb colours, from 1 to
// 21 (0 when either is not a colour).
func Contrast(a, b string) float64 {
	la, oka := luminance(a)
	lb, okb := luminance(b)
	if !oka || !okb {
		return 0
	}
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// luminance is WCAG 2's relative luminance of a #rrggbb colour.
func luminance(c string) (float64, bool) {
	r, g, b, ok := ParseColor(c)
	if !ok {
		return 0, false
	}
	lin := func(v uint8) float64 {
		s := float64(v) / 255
		if s <= 0.04045 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b), true
}
