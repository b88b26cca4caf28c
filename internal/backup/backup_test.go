package backup_test

import (
	"context"
	"errors"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/account"
	"gatehouse/internal/backup"
	"gatehouse/internal/sqlite"
)

func newService(t *testing.T) (*backup.Service, string) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "t.db"), true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	now := time.Now()
	a := &account.Account{ID: "acc", Email: "b@example.com", PasswordHash: "x", Status: account.Active, CreatedAt: now, PasswordChangedAt: now}
	if err := db.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	return &backup.Service{Store: db, Key: []byte("0123456789abcdef0123456789abcdef")}, a.ID
}

var shape = regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$`)

// TestNew_TenDistinct80BitCodesInGroups_V6_5_2: a set is ten distinct codes
// of sixteen characters without look-alikes (80 bits each), grouped by four.
func TestNew_TenDistinct80BitCodesInGroups_V6_5_2(t *testing.T) {
	t.Parallel()
	s, acc := newService(t)
	codes, err := s.New(context.Background(), acc)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, c := range codes {
		if !shape.MatchString(c) || seen[c] {
			t.Fatalf("code %q: wrong shape or repeated", c)
		}
		seen[c] = true
	}
	if len(codes) != backup.Count {
		t.Fatalf("%d codes", len(codes))
	}
	if n, _ := s.Left(context.Background(), acc); n != backup.Count {
		t.Fatalf("%d left", n)
	}
}

// TestUse_OnceEachAsTypedAndOldSetsDie_V6_5_1: a code works once, typed in
// any case, with spaces or full-width characters; a new set ends the old.
func TestUse_OnceEachAsTypedAndOldSetsDie_V6_5_1(t *testing.T) {
	t.Parallel()
	s, acc := newService(t)
	ctx := context.Background()
	codes, _ := s.New(ctx, acc)
	typed := strings.ToLower(strings.ReplaceAll(codes[0], "-", " "))
	if err := s.Use(ctx, acc, typed); err != nil {
		t.Fatalf("%q as typed: %v", typed, err)
	}
	if err := s.Use(ctx, acc, codes[0]); !errors.Is(err, backup.ErrNoMatch) {
		t.Fatalf("used twice: %v", err)
	}
	fw := strings.Map(func(r rune) rune {
		if r == '-' {
			return 'ー'
		}
		return r + 0xfee0
	}, codes[1])
	if err := s.Use(ctx, acc, fw); err != nil {
		t.Fatalf("full-width %q: %v", fw, err)
	}
	if n, _ := s.Left(ctx, acc); n != backup.Count-2 {
		t.Fatalf("%d left", n)
	}
	if err := s.Use(ctx, "another", codes[2]); !errors.Is(err, backup.ErrNoMatch) {
		t.Fatalf("another account's code: %v", err)
	}
	if _, err := s.New(ctx, acc); err != nil {
		t.Fatal(err)
	}
	if err := s.Use(ctx, acc, codes[2]); !errors.Is(err, backup.ErrNoMatch) {
		t.Fatalf("a code of the replaced set: %v", err)
	}
}

func TestNormalize_ReadsLookAlikesAndRefusesOtherShapes(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"abcd-efgh-jkmn-pqrs": "ABCDEFGHJKMNPQRS",
		"OOOO IIII LLLL 0000": "0000111111110000",
		"ＡＢＣＤーＥＦＧＨ－ＪＫＭＮ　ＰＱＲＳ": "ABCDEFGHJKMNPQRS",
	} {
		if got, ok := backup.Normalize(in); !ok || got != want {
			t.Errorf("Normalize(%q) = %q %v, want %q", in, got, ok, want)
		}
	}
	for _, bad := range []string{"", "ABCD-EFGH-JKMN", "ABCD-EFGH-JKMN-PQRSU", "ABCD-EFGH-JKMN-PQR!", "ABCD-EFGH-JKMN-PQRÜ"} {
		if got, ok := backup.Normalize(bad); ok {
			t.Errorf("Normalize(%q) accepted as %q", bad, got)
		}
	}
}
