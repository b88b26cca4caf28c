package crypt

import (
	"bytes"
	"errors"
	"testing"
)

func TestSealOpen(t *testing.T) {
	t.Parallel()
	b, _ := New(bytes.Repeat([]byte{7}, 32))
	s1 := b.Seal([]byte("123456"), []byte("msg-1"))
	s2 := b.Seal([]byte("123456"), []byte("msg-1"))
	if bytes.Equal(s1, s2) || bytes.Contains(s1, []byte("123456")) {
		t.Fatal("sealing must be randomised and hide the plaintext")
	}
	if got, err := b.Open(s1, []byte("msg-1")); err != nil || string(got) != "123456" {
		t.Fatalf("open: %q %v", got, err)
	}
	if _, err := b.Open(s1, []byte("msg-2")); !errors.Is(err, ErrOpen) {
		t.Fatal("a value moved to another record must not open")
	}
	other, _ := New(bytes.Repeat([]byte{8}, 32))
	if _, err := other.Open(s1, []byte("msg-1")); !errors.Is(err, ErrOpen) {
		t.Fatal("another key must not open it")
	}
	s1[len(s1)-1] ^= 1
	if _, err := b.Open(s1, []byte("msg-1")); !errors.Is(err, ErrOpen) {
		t.Fatal("an altered value must not open")
	}
	if _, err := New([]byte("short")); err == nil {
		t.Fatal("short key accepted")
	}
}
