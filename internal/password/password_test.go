package password

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"gatehouse/internal/password/blocklist"
)

// cheap parameters keep the unit tests fast; the benchmarks use the defaults.
var cheap = Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1}

func TestPolicy_V6_2_ReasonsAreStated_NIST_800_63B_4_3_1_1_2(t *testing.T) {
	t.Parallel()
	p := Policy{MinLength: 12, ServiceName: "Gatehouse"}
	cases := []struct {
		name, pw, email string
		want            Reason
	}{
		{"too short", "short pass", "a@example.com", TooShort},
		{"12 chars ok", "violet-canoe", "a@example.com", ""},
		{"64 chars ok", strings.Repeat("river stone ", 6)[:64], "a@example.com", ""},
		{"1000 bytes ok", strings.Repeat("river stone ", 84)[:1000], "x@example.com", ""},
		{"1001 bytes too long", strings.Repeat("a", 1001), "a@example.com", TooLong},
		{"control character", "violet-canoe\x00x", "a@example.com", InvalidText},
		{"invalid utf-8", "violet-canoe\xff\xfe", "a@example.com", InvalidText},
		{"common (blocklist)", "password1234", "a@example.com", Common},
		{"common, other case", "PassWord1234", "a@example.com", Common},
		{"contains email local part", "xx-margaret-xx-42", "Margaret@example.com", ContainsEmail},
		{"contains service name", "my gatehouse pass", "a@example.com", ContainsName},
		{"any unicode, no composition rules", "すべての文字を使えるパスワード", "a@example.com", ""},
		{"spaces allowed", "a quiet violet canoe", "a@example.com", ""},
		{"only spaces", strings.Repeat(" ", 16), "a@example.com", Repetitive},
		{"only ideographic spaces and tabs-free whitespace", strings.Repeat("\u3000", 12), "a@example.com", Repetitive},
		{"one character repeated", strings.Repeat("z", 20), "a@example.com", Repetitive},
		{"one kana repeated", strings.Repeat("あ", 12), "a@example.com", Repetitive},
		{"two characters alternate", strings.Repeat("zq", 8), "a@example.com", Repetitive},
		{"one character between spaces", "  a a a a a a a a ", "a@example.com", Repetitive},
		{"spaces and one character", strings.Repeat(" ", 11) + "a", "a@example.com", Repetitive},
		{"three-character unit repeated", strings.Repeat("xyz", 5), "a@example.com", Repetitive},
		{"four-character unit repeated, cut short", strings.Repeat("wxyz", 3) + "wx", "a@example.com", Repetitive},
		{"three different characters, not periodic: allowed", "zzqxqzxqqzxzqqxz", "a@example.com", ""},
		{"five-character unit: allowed", strings.Repeat("vwxyz", 3), "a@example.com", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := p.Check(c.pw, c.email); got != c.want {
				t.Fatalf("Check(%q) = %q, want %q", c.pw, got, c.want)
			}
		})
	}
}

func TestPolicy_LengthCountsCodePointsAfterNFC(t *testing.T) {
	t.Parallel()
	p := Policy{MinLength: 8}
	// "é" typed as e + combining acute (2 code points) is one character after NFC.
	decomposed := "e\u0301ab" + "e\u0301cd" + "e\u0301" // 7 characters after NFC
	if got := p.Check(decomposed, "a@example.com"); got != TooShort {
		t.Fatalf("7 composed characters: got %q, want too_short", got)
	}
	if got := p.Check(decomposed+"x", "a@example.com"); got != "" {
		t.Fatalf("8 composed characters: got %q, want accepted", got)
	}
}

func TestBlocklist_HoldsAtLeast100000CompactEntries(t *testing.T) {
	t.Parallel()
	if n := blocklist.Len(); n < 100000 {
		t.Fatalf("blocklist has %d entries, want >= 100000", n)
	}
	for _, pw := range []string{"password", "iloveyou", "qwertyuiop", "1234567890", "sunshine"} {
		if !blocklist.Contains(pw) {
			t.Errorf("%q should be on the blocklist", pw)
		}
	}
	for _, pw := range []string{"violet canoe under the bridge", "zq8-vr2-kk9-tt4"} {
		if blocklist.Contains(pw) {
			t.Errorf("%q should not be on the blocklist", pw)
		}
	}
}

func TestHash_NFCNormalisedBeforeHashing(t *testing.T) {
	t.Parallel()
	h := NewHasher(cheap, nil, NewPool(1, 1))
	ctx := context.Background()
	composed := "caf\u00e9 au lait, s'il vous pla\u00eet"
	decomposed := "cafe\u0301 au lait, s'il vous plai\u0302t"
	stored, err := h.Hash(ctx, composed)
	if err != nil {
		t.Fatal(err)
	}
	ok, _, err := h.Verify(ctx, decomposed, stored)
	if err != nil || !ok {
		t.Fatalf("decomposed form must verify against the composed one: ok=%v err=%v", ok, err)
	}
	if ok, _, _ := h.Verify(ctx, "Caf\u00e9 au lait, s'il vous pla\u00eet", stored); ok {
		t.Fatal("verification must be case-sensitive (ASVS v5.0.0-6.2.8)")
	}
}

func TestHash_PHCFormatCarriesParameters(t *testing.T) {
	t.Parallel()
	h := NewHasher(cheap, []byte("pepper-pepper-pepper-pepper-1234"), NewPool(1, 1))
	s, err := h.Hash(context.Background(), "a long test password")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s, "$argon2id$v=19$m=64,t=1,p=1,k=") {
		t.Fatalf("hash %q does not carry its parameters and pepper id", s)
	}
	p, pep, salt, key, err := parse(s)
	if err != nil || p != cheap || pep == "" || len(salt) != 16 || len(key) != 32 {
		t.Fatalf("parse: %+v %q %d %d %v", p, pep, len(salt), len(key), err)
	}
	s2, _ := h.Hash(context.Background(), "a long test password")
	if s == s2 {
		t.Fatal("two hashes of one password must differ (random salt)")
	}
}

func TestVerify_RehashWhenParametersOrPepperChange(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := NewPool(1, 1)
	old := NewHasher(cheap, nil, pool)
	stored, _ := old.Hash(ctx, "a long test password")

	if ok, rehash, _ := old.Verify(ctx, "a long test password", stored); !ok || rehash {
		t.Fatalf("same parameters: ok=%v rehash=%v, want true false", ok, rehash)
	}
	stronger := NewHasher(Params{MemoryKiB: 128, Iterations: 2, Parallelism: 1}, nil, pool)
	if ok, rehash, _ := stronger.Verify(ctx, "a long test password", stored); !ok || !rehash {
		t.Fatalf("new parameters: ok=%v rehash=%v, want true true", ok, rehash)
	}
	peppered := NewHasher(cheap, []byte("0123456789abcdef0123456789abcdef"), pool)
	if ok, rehash, _ := peppered.Verify(ctx, "a long test password", stored); !ok || !rehash {
		t.Fatalf("pepper turned on: ok=%v rehash=%v, want true true", ok, rehash)
	}
	if ok, rehash, _ := stronger.Verify(ctx, "wrong password here", stored); ok || rehash {
		t.Fatalf("wrong password: ok=%v rehash=%v, want false false", ok, rehash)
	}
	// A hash made with a pepper cannot be checked without it.
	pstored, _ := peppered.Hash(ctx, "a long test password")
	if _, _, err := old.Verify(ctx, "a long test password", pstored); err == nil {
		t.Fatal("verifying a peppered hash without the pepper must fail loudly")
	}
}

func TestVerify_UnknownAccountCostsOneHashAndNeverMatches_V6_3_8(t *testing.T) {
	t.Parallel()
	pool := NewPool(1, 1)
	h := NewHasher(cheap, nil, pool)
	before := pool.Hashes()
	ok, rehash, err := h.Verify(context.Background(), "", "")
	if ok || rehash || err != nil {
		t.Fatalf("dummy verify: %v %v %v", ok, rehash, err)
	}
	if n := pool.Hashes() - before; n != 1 {
		t.Fatalf("dummy verify ran %d hashes, want 1", n)
	}
}

func TestPool_RefusesWhenFull(t *testing.T) {
	t.Parallel()
	p := NewPool(1, 1)
	release := make(chan struct{})
	started := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { p.Do(context.Background(), func() { close(started); <-release }) }) // running
	<-started
	queued := make(chan error, 1)
	go func() { queued <- p.Do(context.Background(), func() {}) }() // waiting in the queue
	// Wait until the queued call holds its admission slot.
	waitFor(t, func() bool { p.mu.Lock(); defer p.mu.Unlock(); return p.held == 2 })
	if err := p.Do(context.Background(), func() { t.Error("must not run") }); !errors.Is(err, ErrBusy) {
		t.Fatalf("third call: err=%v, want ErrBusy", err)
	}
	close(release)
	wg.Wait()
	if err := <-queued; err != nil {
		t.Fatalf("queued call: %v", err)
	}
	if p.Refused() != 1 || p.Hashes() != 2 {
		t.Fatalf("refused=%d hashes=%d, want 1 and 2", p.Refused(), p.Hashes())
	}
}

func TestParse_RejectsMalformed(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "$argon2i$v=19$m=1,t=1,p=1$AA$AA", "$argon2id$v=19$m=x,t=1,p=1$AA$AA", "$argon2id$v=19$m=1,t=1$AA", "$argon2id$v=19$m=0,t=1,p=1$AA$AA"} {
		if _, _, _, _, err := parse(s); !errors.Is(err, ErrMalformedHash) {
			t.Errorf("parse(%q) = %v, want ErrMalformedHash", s, err)
		}
	}
}

func BenchmarkVerifyDefaultParams(b *testing.B) {
	h := NewHasher(DefaultParams, nil, NewPool(1, 0))
	ctx := context.Background()
	stored, _ := h.Hash(ctx, "a long benchmark password")
	b.ReportAllocs()
	for b.Loop() {
		if ok, _, _ := h.Verify(ctx, "a long benchmark password", stored); !ok {
			b.Fatal("verify failed")
		}
	}
}

// BenchmarkVerifyDefaultParamsParallel runs verifications on every CPU at
// once: the real ceiling of password sign-ins on this machine, which is
// below CPUs ÷ single-verify time when the CPUs share caches or cores.
func BenchmarkVerifyDefaultParamsParallel(b *testing.B) {
	h := NewHasher(DefaultParams, nil, NewPool(64, 64))
	ctx := context.Background()
	stored, _ := h.Hash(ctx, "a long benchmark password")
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if ok, _, _ := h.Verify(ctx, "a long benchmark password", stored); !ok {
				b.Fatal("verify failed")
			}
		}
	})
}
