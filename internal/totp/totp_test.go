package totp

import (
	"encoding/base32"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"
)

func b32(s string) string {
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString([]byte(s))
}

// TestHOTP_RFC4226AppendixD: the published HOTP values for the secret
// "12345678901234567890", counters 0 to 9.
func TestHOTP_RFC4226AppendixD(t *testing.T) {
	t.Parallel()
	want := []string{"755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"}
	for counter, w := range want {
		got, err := hotp.GenerateCodeCustom(b32("12345678901234567890"), uint64(counter), hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err != nil || got != w {
			t.Errorf("counter %d: %s %v, want %s", counter, got, err, w)
		}
	}
}

// TestTOTP_RFC6238AppendixB: the published 8-digit TOTP values for SHA1,
// SHA256 and SHA512 (their seeds are 20, 32 and 64 bytes), including the
// time 20000000000, past 2038.
func TestTOTP_RFC6238AppendixB(t *testing.T) {
	t.Parallel()
	seeds := map[otp.Algorithm]string{
		otp.AlgorithmSHA1:   "12345678901234567890",
		otp.AlgorithmSHA256: "12345678901234567890123456789012",
		otp.AlgorithmSHA512: "1234567890123456789012345678901234567890123456789012345678901234",
	}
	vectors := []struct {
		unix int64
		want map[otp.Algorithm]string
	}{
		{59, map[otp.Algorithm]string{otp.AlgorithmSHA1: "94287082", otp.AlgorithmSHA256: "46119246", otp.AlgorithmSHA512: "90693936"}},
		{1111111109, map[otp.Algorithm]string{otp.AlgorithmSHA1: "07081804", otp.AlgorithmSHA256: "68084774", otp.AlgorithmSHA512: "25091201"}},
		{1111111111, map[otp.Algorithm]string{otp.AlgorithmSHA1: "14050471", otp.AlgorithmSHA256: "67062674", otp.AlgorithmSHA512: "99943326"}},
		{1234567890, map[otp.Algorithm]string{otp.AlgorithmSHA1: "89005924", otp.AlgorithmSHA256: "91819424", otp.AlgorithmSHA512: "93441116"}},
		{2000000000, map[otp.Algorithm]string{otp.AlgorithmSHA1: "69279037", otp.AlgorithmSHA256: "90698825", otp.AlgorithmSHA512: "38618901"}},
		{20000000000, map[otp.Algorithm]string{otp.AlgorithmSHA1: "65353130", otp.AlgorithmSHA256: "77737706", otp.AlgorithmSHA512: "47863826"}},
	}
	for _, v := range vectors {
		for alg, want := range v.want {
			got, err := totp.GenerateCodeCustom(b32(seeds[alg]), time.Unix(v.unix, 0).UTC(), totp.ValidateOpts{
				Period: 30, Digits: otp.DigitsEight, Algorithm: alg,
			})
			if err != nil || got != want {
				t.Errorf("%s at %d: %s %v, want %s", alg, v.unix, got, err, want)
			}
		}
	}
	// Our own parameters (6 digits, SHA1) give the last 6 digits of the
	// same values.
	if got, _ := Code(b32(seeds[otp.AlgorithmSHA1]), Step(time.Unix(59, 0))); got != "287082" {
		t.Errorf("Code at 59: %s, want 287082", got)
	}
}

// TestNewKey_160BitSecretInAnOtpauthURI: a fresh key is 160 random bits,
// different each time, carried in an otpauth:// URI that names the issuer
// and account.
func TestNewKey_160BitSecretInAnOtpauthURI(t *testing.T) {
	t.Parallel()
	a, err := NewKey("Shop", "taro@example.com")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewKey("Shop", "taro@example.com")
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(a.Secret)
	if err != nil || len(raw) != 20 {
		t.Fatalf("secret %q decodes to %d bytes (%v), want 20", a.Secret, len(raw), err)
	}
	if a.Secret == b.Secret {
		t.Fatal("two keys share a secret")
	}
	if !strings.HasPrefix(a.URI, "otpauth://totp/Shop:taro@example.com?") || !strings.Contains(a.URI, "secret="+a.Secret) ||
		!strings.Contains(a.URI, "issuer=Shop") {
		t.Fatalf("URI %q", a.URI)
	}
}

// TestMatch_OneStepEitherSideAndNeverAStepTwice_V6_5_1: the current step and
// one either side are accepted; two steps away is not; a step at or before
// the last one used is refused as replayed, and the newest acceptable step
// is never passed over for an older one.
func TestMatch_OneStepEitherSideAndNeverAStepTwice_V6_5_1(t *testing.T) {
	t.Parallel()
	secret := b32("12345678901234567890")
	now := time.Unix(1_800_000_015, 0)
	cur := Step(now)
	code := func(step int64) string { c, _ := Code(secret, step); return c }
	for _, d := range []int64{-1, 0, 1} {
		if step, err := Match(secret, code(cur+d), now, 0); err != nil || step != cur+d {
			t.Errorf("step %+d: %d %v", d, step, err)
		}
	}
	for _, d := range []int64{-2, 2} {
		if _, err := Match(secret, code(cur+d), now, 0); err != ErrNoMatch {
			t.Errorf("step %+d accepted: %v", d, err)
		}
	}
	if _, err := Match(secret, code(cur), now, cur); err != ErrReplayed {
		t.Errorf("the used step again: %v, want ErrReplayed", err)
	}
	if _, err := Match(secret, code(cur-1), now, cur); err != ErrReplayed {
		t.Errorf("an older step after a newer one: %v, want ErrReplayed", err)
	}
	if step, err := Match(secret, code(cur+1), now, cur); err != nil || step != cur+1 {
		t.Errorf("the next step after the current was used: %d %v", step, err)
	}
	for _, bad := range []string{"", "12345", "1234567", "abcdef"} {
		if _, err := Match(secret, bad, now, 0); err != ErrNoMatch {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func BenchmarkMatch(b *testing.B) {
	secret := b32("12345678901234567890")
	now := time.Now()
	c, _ := Code(secret, Step(now))
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := Match(secret, c, now, 0); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
