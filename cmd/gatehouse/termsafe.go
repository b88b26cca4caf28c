package main

import (
	"fmt"
	"io"
	"unicode/utf8"
)

// termSafe is a writer for the operator's terminal: every command but
// serve writes through it, because what they print can carry text an
// attacker wrote — a message's subject in verify-message, a reported
// message in reports --show, an address in user list. A control character
// there can clear the screen, move the cursor to rewrite a verdict
// ("Not from us" → "Genuine"), set the title or the clipboard (the second
// probe's D8). So C0 controls but tab and newline, DEL, C1 controls and
// the bidirectional overrides are written as a visible \uXXXX escape — one
// that also stays valid inside a JSON string, so --json output is still
// JSON. A CR before LF is dropped (a CRLF line end); any other CR is
// escaped, since it would return to the line's start.
type termSafe struct {
	w       io.Writer
	partial []byte // an incomplete UTF-8 sequence kept for the next Write
	cr      bool   // a CR was held back to see what follows it
}

func newTermSafe(w io.Writer) *termSafe { return &termSafe{w: w} }

func (t *termSafe) Write(p []byte) (int, error) {
	n := len(p)
	buf := make([]byte, 0, len(p)+16)
	data := append(t.partial, p...)
	t.partial = nil
	for len(data) > 0 {
		r, size := utf8.DecodeRune(data)
		if r == utf8.RuneError && size <= 1 && !utf8.FullRune(data) {
			t.partial = append([]byte(nil), data...)
			break
		}
		if t.cr {
			t.cr = false
			if r != '\n' {
				buf = append(buf, `\u000d`...)
			}
		}
		switch {
		case r == '\r':
			t.cr = true
		case r == utf8.RuneError && size == 1:
			buf = fmt.Appendf(buf, `\x%02x`, data[0])
		case unsafeRune(r):
			buf = fmt.Appendf(buf, `\u%04x`, r)
		default:
			buf = append(buf, data[:size]...)
		}
		data = data[size:]
	}
	if _, err := t.w.Write(buf); err != nil {
		return 0, err
	}
	return n, nil
}

// Close writes what was held back: a lone CR, an incomplete sequence.
func (t *termSafe) Close() error {
	var buf []byte
	if t.cr {
		buf = append(buf, `\u000d`...)
	}
	for _, b := range t.partial {
		buf = fmt.Appendf(buf, `\x%02x`, b)
	}
	t.cr, t.partial = false, nil
	if len(buf) == 0 {
		return nil
	}
	_, err := t.w.Write(buf)
	return err
}

// unsafeRune reports whether r would act on a terminal rather than show:
// a control character (but tab and newline), or a bidirectional control
// that reorders what follows it on the line.
func unsafeRune(r rune) bool {
	switch {
	case r == '\t' || r == '\n':
		return false
	case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f):
		return true
	case r == 0x061c || r == 0x200e || r == 0x200f || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069):
		return true
	}
	return false
}
