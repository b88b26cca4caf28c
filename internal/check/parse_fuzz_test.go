package check

import (
	"strings"
	"testing"
)

// FuzzParseEmail feeds the .eml parser and the HTML reader anything: no
// panic, and every bound holds (parts, links, decoded text per part).
func FuzzParseEmail(f *testing.F) {
	f.Add([]byte("From: =?ISO-2022-JP?B?GyRCJT0lUyU5GyhC?= <a@b.example>\r\nSubject: =?UTF-8?B?44CQ?=\r\nContent-Type: multipart/alternative; boundary=x\r\n\r\n--x\r\nContent-Type: text/html; charset=shift_jis\r\nContent-Transfer-Encoding: base64\r\n\r\nPGEgaHJlZj0iaHR0cDovLzEuMi4zLjQvIj54PC9hPg==\r\n--x--\r\n"))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: message/rfc822\r\n\r\nFrom: x\r\n"))
	f.Add([]byte("<html><a href=x>y<a href=z><script>w</script>"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, _ := parseEmail(b)
		if p != nil {
			if len(p.texts)+len(p.htmls) > maxParts {
				t.Fatalf("%d parts", len(p.texts)+len(p.htmls))
			}
			for _, s := range append(append([]string{}, p.texts...), p.htmls...) {
				if len(s) > 4*maxPartBytes {
					t.Fatalf("a part of %d bytes", len(s))
				}
			}
		}
		text, links := readHTML(string(b))
		if len(links) > maxLinks+1 || len(text) > 2*len(b)+1024 {
			t.Fatalf("%d links, %d bytes of text from %d", len(links), len(text), len(b))
		}
		_ = strings.ToValidUTF8(text, "")
	})
}
