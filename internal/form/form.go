// Package form names what is wrong with the fields of a form: a flow that
// refuses its input says which field and why, as a message key the page
// shows in the holder's language beside that field. It is its own package
// because every capability that takes input needs it, and none of them
// should have to import another capability for it.
package form

import (
	"sort"
	"strings"
)

// Errors maps a form field to the i18n key of what is wrong with it.
type Errors map[string]string

// Error lists the fields and their message keys, sorted (for logs; pages
// show each message next to its field).
func (f Errors) Error() string {
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("invalid input:")
	for _, k := range keys {
		b.WriteString(" " + k + "=" + f[k])
	}
	return b.String()
}
