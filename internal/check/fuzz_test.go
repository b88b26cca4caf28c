package check_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/check"
	"gatehouse/internal/notice"
	"gatehouse/internal/request"
)

// FuzzCheck feeds the checker anything, as a raw email and as pasted text:
// it must never panic, and must answer one of the three verdicts.
func FuzzCheck(f *testing.F) {
	e := newEnv(f)
	// A mutated signature names any domain; its key is not looked up in
	// DNS here (that is bounded by a timeout in production).
	e.checker.LookupTXT = func(context.Context, string) ([]string, error) { return nil, errors.New("no DNS in the fuzz test") }
	_, raw := e.send(f, notice.Notice{Purpose: request.SecondStep, To: "h@example.com", Language: "ja", AccountID: "a"})
	f.Add(raw)
	for _, p := range []string{"en/07-suspended-ip-link.eml", "ja/01-usage-limit-omitted-letter-iso2022jp.eml"} {
		if b, err := os.ReadFile(filepath.Join("testdata/phishing", p)); err == nil {
			f.Add(b)
		}
	}
	if ms, _ := filepath.Glob("testdata/phishing/ja/*.eml"); len(ms) > 0 {
		b, _ := os.ReadFile(ms[0])
		f.Add(b)
	}
	f.Add([]byte("Content-Type: multipart/mixed; boundary=x\r\nFrom: a@b\r\nSubject: s\r\n\r\n--x\r\nContent-Type: multipart/mixed; boundary=y\r\n\r\n--y\r\n"))
	f.Add([]byte("GH-2345-6789-ABCD https://xn--80ak6aa92e.com/ @gatehouse.example #123456"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, in := range []check.Input{{Raw: b}, {Text: string(b)}, {Reference: string(b)}} {
			res, err := e.checker.Check(context.Background(), in, "en")
			if err != nil {
				if err == check.ErrEmpty || err == check.ErrTooLarge || err == check.ErrNotEmail && in.Raw != nil {
					continue
				}
				t.Fatalf("error %v", err)
			}
			if res.Verdict != check.Genuine && res.Verdict != check.NotOurs && res.Verdict != check.CannotTell {
				t.Fatalf("verdict %q", res.Verdict)
			}
		}
	})
}

// A 10 MB email and a deeply nested one are checked within bounds: the
// parser caps nesting and parts, so both finish quickly and say they were
// truncated rather than reading everything.
func TestCheck_HugeAndDeeplyNestedEmailsAreBounded(t *testing.T) {
	e := newEnv(t)
	var nested bytes.Buffer
	nested.WriteString("From: Gatehouse <no-reply@gatehouse.example>\r\nSubject: deep\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n")
	const depth = 5000
	for i := range depth {
		nested.WriteString("--b" + itoa(i) + "\r\nContent-Type: multipart/mixed; boundary=b" + itoa(i+1) + "\r\n\r\n")
	}
	nested.WriteString("--b" + itoa(depth) + "\r\nContent-Type: text/plain\r\n\r\nhello\r\n")
	big := []byte("From: Gatehouse <no-reply@gatehouse.example>\r\nSubject: big\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" +
		strings.Repeat("至急 https://bit.ly/x ", (check.MaxRaw-200)/26))
	many := bytes.NewBufferString("From: x@y.example\r\nSubject: parts\r\nContent-Type: multipart/mixed; boundary=p\r\n\r\n")
	for many.Len() < check.MaxRaw-100 {
		many.WriteString("--p\r\nContent-Type: text/plain\r\n\r\nGatehouse\r\n")
	}
	for name, raw := range map[string][]byte{"nested": nested.Bytes(), "10 MB text": big, "many parts": many.Bytes()} {
		if len(raw) > check.MaxRaw {
			t.Fatalf("%s: %d bytes, over the limit", name, len(raw))
		}
		start := time.Now()
		res, err := e.checker.Check(context.Background(), check.Input{Raw: raw}, "en")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if res.Verdict == check.Genuine {
			t.Errorf("%s: genuine", name)
		}
		if name != "10 MB text" && !res.Has("truncated") {
			t.Errorf("%s: not truncated: %s", name, codes(res))
		}
		t.Logf("%s (%d bytes): %s in %v", name, len(raw), res.Verdict, time.Since(start))
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
