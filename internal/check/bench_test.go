package check_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"gatehouse/internal/check"
	"gatehouse/internal/notice"
	"gatehouse/internal/request"
)

// fiftyKB is a 50 KB HTML email of the kind the checker must read whole:
// a long phishing message with a hundred links, in Japanese and English,
// signed (by us, so the signatures are checked against our keys, not DNS).
func fiftyKB(b *testing.B, e *env) []byte {
	var h strings.Builder
	h.WriteString("<html><body><p>【Gatehouse】お客様のアカウントは一時的に停止されました。</p>")
	for i := 0; h.Len() < 46<<10; i++ {
		fmt.Fprintf(&h, `<p>Notice %d: please <a href="https://gatehouse-login%d.example.net/verify?id=%d">https://gatehouse.example/verify</a> 24時間以内にご確認ください。 Your account will be suspended.</p>`, i, i%7, i)
	}
	h.WriteString("</body></html>")
	raw := "From: Gatehouse <no-reply@gatehouse.example>\r\nTo: holder@example.com\r\nSubject: =?UTF-8?B?44CQR2F0ZWhvdXNl44CR?=\r\nDate: Wed, 02 Dec 2026 10:00:00 +0000\r\nMessage-Id: <bench@gatehouse.example>\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + h.String()
	signed, err := e.keys.Sign([]byte(raw), domain, e.now)
	if err != nil {
		b.Fatal(err)
	}
	return signed
}

// BenchmarkCheck_50KBEmail is the checker's throughput on a 50 KB .eml:
// messages per second (1/ns·op, or MB/s ÷ 0.05) and memory per check
// (B/op). Run: go test -run '^$' -bench Check_ -benchmem ./internal/check
func BenchmarkCheck_50KBEmail(b *testing.B) {
	e := newEnv(b)
	raw := fiftyKB(b, e)
	res, err := e.checker.Check(context.Background(), check.Input{Raw: raw}, "ja")
	if err != nil || res.Verdict != check.NotOurs {
		b.Fatalf("%v %v", res, err)
	}
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := e.checker.Check(context.Background(), check.Input{Raw: raw}, "ja"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkCheck_GenuineEmail is a genuine signed email of ours (about
// 6 KB): a lookup of its record, two signatures and the comparison.
func BenchmarkCheck_GenuineEmail(b *testing.B) {
	e := newEnv(b)
	_, raw := e.send(b, notice.Notice{Purpose: request.SecondStep, To: "holder@example.com", Language: "ja", AccountID: "a1", Cause: request.PasswordKnown})
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			res, err := e.checker.Check(context.Background(), check.Input{Raw: raw}, "ja")
			if err != nil || res.Verdict != check.Genuine {
				b.Fatalf("%v %v", res, err)
			}
		}
	})
}
