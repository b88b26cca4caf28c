package argon2

import (
	"bytes"
	"crypto/rand"
	"testing"

	upstream "golang.org/x/crypto/argon2"
)

// TestIDKey_SameAsUpstreamWithFreshAndUsedMemory: every derivation equals
// golang.org/x/crypto/argon2's, whether m is new, holds the last hash's
// blocks, holds random bytes, or is larger than the memory asked for.
func TestIDKey_SameAsUpstreamWithFreshAndUsedMemory(t *testing.T) {
	var m Memory
	for _, c := range []struct {
		time, memory uint32
		threads      uint8
		keyLen       uint32
	}{
		{1, 64, 1, 32}, {2, 64, 1, 32}, {3, 256, 2, 16}, {2, 19 * 1024, 1, 32}, {1, 8192, 4, 64}, {2, 100, 3, 32}, {1, 8, 1, 32},
	} {
		for _, dirt := range []string{"fresh", "used", "random"} {
			pw, salt := make([]byte, 20), make([]byte, 16)
			rand.Read(pw)
			rand.Read(salt)
			switch dirt {
			case "fresh":
				m = Memory{}
			case "random":
				for i := range m.blocks {
					for j := range m.blocks[i] {
						m.blocks[i][j] = uint64(i*131+j) * 0x9e3779b97f4a7c15
					}
				}
			}
			got := m.IDKey(pw, salt, c.time, c.memory, c.threads, c.keyLen)
			want := upstream.IDKey(pw, salt, c.time, c.memory, c.threads, c.keyLen)
			if !bytes.Equal(got, want) {
				t.Errorf("t=%d m=%d p=%d (%s memory): %x, upstream %x", c.time, c.memory, c.threads, dirt, got, want)
			}
			if got := IDKey(pw, salt, c.time, c.memory, c.threads, c.keyLen); !bytes.Equal(got, want) {
				t.Errorf("IDKey t=%d m=%d p=%d: %x, upstream %x", c.time, c.memory, c.threads, got, want)
			}
		}
	}
	if got, want := Key([]byte("pw"), []byte("saltsaltsalt"), 3, 64, 2, 32), upstream.Key([]byte("pw"), []byte("saltsaltsalt"), 3, 64, 2, 32); !bytes.Equal(got, want) {
		t.Errorf("Key: %x, upstream %x", got, want)
	}
}

// TestIDKey_RFC9106: the test vector of RFC 9106 §5.3 (Argon2id, with its
// secret and associated data), in used memory.
func TestIDKey_RFC9106(t *testing.T) {
	rep := func(b byte, n int) []byte { return bytes.Repeat([]byte{b}, n) }
	var m Memory
	m.take(64)
	for i := range m.blocks {
		m.blocks[i][0] = ^uint64(0)
	}
	got := deriveKey(argon2id, &m, rep(1, 32), rep(2, 16), rep(3, 8), rep(4, 12), 3, 32, 4, 32)
	want := []byte{0x0d, 0x64, 0x0d, 0xf5, 0x8d, 0x78, 0x76, 0x6c, 0x08, 0xc0, 0x37, 0xa3, 0x4a, 0x8b, 0x53, 0xc9,
		0xd0, 0x1e, 0xf0, 0x45, 0x2d, 0x75, 0xb6, 0x5e, 0xb5, 0x25, 0x20, 0xe9, 0x6b, 0x01, 0xe6, 0x59}
	if !bytes.Equal(got, want) {
		t.Fatalf("RFC 9106 Argon2id: %x, want %x", got, want)
	}
}
