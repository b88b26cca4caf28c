package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// TestTermSafe_NoControlCharacterReachesTheTerminal (the second probe's
// D8): what a command prints carries no byte below 0x20 but newline and
// tab, no ESC, DEL, C1 control or bidirectional override — however the
// text is split across writes — and JSON stays JSON.
func TestTermSafe_NoControlCharacterReachesTheTerminal(t *testing.T) {
	attack := "x\x1b[1A\r\x1b[2KGenuine\x1b[1B\r\x1b[2K ✓ \x1b]0;PWNED\x07\x1b]52;c;ZWNobyBwd25lZA==\x07 \u009b2J \u202egnp.exe\u202c\x7f end\r\nnext line\ttab"
	for _, chunk := range []int{1, 2, 3, 7, len(attack)} {
		var out bytes.Buffer
		w := newTermSafe(&out)
		for i := 0; i < len(attack); i += chunk {
			w.Write([]byte(attack[i:min(i+chunk, len(attack))]))
		}
		w.Close()
		got := out.String()
		for i, r := range got {
			if (r < 0x20 && r != '\n' && r != '\t') || r == 0x7f || (r >= 0x80 && r <= 0x9f) || (r >= 0x202a && r <= 0x202e) {
				t.Fatalf("chunk %d: control %U at %d in %q", chunk, r, i, got)
			}
		}
		if !strings.Contains(got, `\u001b[1A`) || !strings.Contains(got, "✓") || !strings.Contains(got, "end\nnext line\ttab") || !strings.Contains(got, `\u000d`) {
			t.Fatalf("chunk %d: %q", chunk, got)
		}
	}
	// A JSON document passed through stays valid, with the escapes as text.
	var out bytes.Buffer
	w := newTermSafe(&out)
	json.NewEncoder(w).Encode(map[string]string{"text": "a\u009bb\u202ec"})
	var back map[string]string
	if err := json.Unmarshal(out.Bytes(), &back); err != nil || back["text"] != "a\u009bb\u202ec" {
		t.Fatalf("JSON through the filter: %q → %v %q", out.String(), err, back["text"])
	}
}
