package dkimkeys

import (
	"strings"
	"testing"
	"time"
)

// BenchmarkSign is the cost DKIM adds to every email the outbox delivers:
// both signatures (rsa-sha256 2048-bit, ed25519-sha256) over a 6 KB
// message. It is paid in the outbox's delivery workers, not in the request
// that queued the message. Run:
// go test -run '^$' -bench Sign -benchmem ./internal/dkimkeys
func BenchmarkSign(b *testing.B) {
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	r, err := Open(b.TempDir(), now)
	if err != nil {
		b.Fatal(err)
	}
	msg := []byte("From: Gatehouse <no-reply@gatehouse.example>\r\nTo: holder@example.com\r\nSubject: Your code\r\nDate: Wed, 02 Dec 2026 10:00:00 +0000\r\nMessage-Id: <bench@gatehouse.example>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" +
		strings.Repeat("Someone is signing in to your account with your password.\r\n", 100))
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Sign(msg, "gatehouse.example", now); err != nil {
			b.Fatal(err)
		}
	}
}
