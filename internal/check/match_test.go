package check

import (
	"testing"

	"gatehouse/internal/outbox"
)

func TestMatchesExactly(t *testing.T) {
	m := outbox.CodeMask
	for _, c := range []struct {
		stored, part string
		want         bool
	}{
		{"Your code is " + m + ".\nIt expires.", "Your code is 123456.\nIt expires.", true},
		{"Your code is " + m + ".\nIt expires.", "Your code is 123456.\r\nIt expires.\r\n", true},
		{"Your code is " + m + ".\nIt expires.", "Your code is 123456.\nIt expired.", false},
		{"Your code is " + m + ".\nIt expires.", "Your code is 123.\nIt expires.", false},           // too short for a code
		{"Your code is " + m + ".\nIt expires.", "Your code is 1234567890123.\nIt expires.", false}, // too long
		{"Code " + m + " and again " + m + ".", "Code 482913 and again 482913.", true},
		{"Code " + m + " and again " + m + ".", "Code 482913 and again 482914.", false}, // one message, one code
		// The text after the slot begins with letters: every length is tried.
		{"Code " + m + "abc end", "Code 4829abc end", true},
		{"Code " + m + "abc end", "Code 4829ab end", false},
		{"No code here.", "No code here.", true},
		{"No code here.", "No code here!", false},
	} {
		if got := newTemplate(c.stored, false).matchesExactly(c.part); got != c.want {
			t.Errorf("stored %q, part %q: matchesExactly = %v, want %v", c.stored, c.part, got, c.want)
		}
	}
}
