// Package backup is the backup-code method of two-step verification: ten
// single-use codes, shown once, for when the phone with the app is lost.
//
// Each code is 16 characters of an alphabet without look-alikes (Crockford's
// base32: no I, L, O or U), so 80 random bits, written in four groups of
// four. Only an HMAC of a code is stored, under the installation's key, so
// a copy of the database gives nobody a usable code; using one is a
// conditional update, so each works once, on any node. A new set replaces
// the old one whole.
package backup

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"time"

	"gatehouse/internal/clock"
)

// Count is how many codes a set has; Length how many characters a code has.
const (
	Count  = 10
	Length = 16
)

// alphabet is Crockford's base32: digits and letters without I, L, O, U.
const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// ErrNoMatch is returned for a code that is not an unused code of the
// account.
var ErrNoMatch = errors.New("backup: wrong or used code")

// Store keeps the hashes of each account's codes.
type Store interface {
	// ReplaceBackupCodes deletes the account's codes and stores hashes as
	// its new set, in one transaction.
	ReplaceBackupCodes(ctx context.Context, accountID string, hashes [][]byte, at time.Time) error
	// UseBackupCode marks the unused code with the hash used; it reports
	// whether this call was the one that used it.
	UseBackupCode(ctx context.Context, accountID string, hash []byte, at time.Time) (bool, error)
	// BackupCodesLeft counts the account's unused codes.
	BackupCodesLeft(ctx context.Context, accountID string) (int, error)
}

// Service makes and checks backup codes.
type Service struct {
	Store Store
	Key   []byte // HMAC key (the installation's)
	Clock clock.Clock
}

// New makes a fresh set for the account, replacing any earlier one, and
// returns the codes, formatted for showing once (XXXX-XXXX-XXXX-XXXX).
func (s *Service) New(ctx context.Context, accountID string) ([]string, error) {
	codes := make([]string, Count)
	hashes := make([][]byte, Count)
	for i := range codes {
		c, err := newCode()
		if err != nil {
			return nil, err
		}
		codes[i], hashes[i] = Format(c), s.hash(accountID, c)
	}
	if err := s.Store.ReplaceBackupCodes(ctx, accountID, hashes, s.Clock.Now()); err != nil {
		return nil, fmt.Errorf("backup: new set: %w", err)
	}
	return codes, nil
}

// Use checks a typed code and uses it up.
func (s *Service) Use(ctx context.Context, accountID, typed string) error {
	c, ok := Normalize(typed)
	if !ok {
		return ErrNoMatch
	}
	used, err := s.Store.UseBackupCode(ctx, accountID, s.hash(accountID, c), s.Clock.Now())
	if err != nil {
		return fmt.Errorf("backup: use: %w", err)
	}
	if !used {
		return ErrNoMatch
	}
	return nil
}

// Left counts the account's unused codes.
func (s *Service) Left(ctx context.Context, accountID string) (int, error) {
	return s.Store.BackupCodesLeft(ctx, accountID)
}

func (s *Service) hash(accountID, code string) []byte {
	m := hmac.New(sha256.New, s.Key)
	m.Write([]byte("backup\x00"))
	m.Write([]byte(accountID))
	m.Write([]byte{0})
	m.Write([]byte(code))
	return m.Sum(nil)
}

// newCode draws Length characters uniformly from the alphabet (32 symbols:
// five bits each, so no modulo bias).
func newCode() (string, error) {
	b := make([]byte, Length)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("backup: random: %w", err)
	}
	for i := range b {
		b[i] = alphabet[b[i]&31]
	}
	return string(b), nil
}

// Format writes a code in groups of four.
func Format(c string) string {
	var b strings.Builder
	for i := 0; i < len(c); i += 4 {
		if i > 0 {
			b.WriteByte('-')
		}
		b.WriteString(c[i:min(i+4, len(c))])
	}
	return b.String()
}

// Normalize reads a code as people type it: any case, with spaces or
// dashes (ASCII or the full-width and Japanese ones an IME gives), and the
// look-alikes Crockford's alphabet leaves out read as what they look like
// (O as 0, I and L as 1). ok is false when it is not a code's shape.
func Normalize(typed string) (string, bool) {
	var b strings.Builder
	for _, r := range typed {
		switch {
		case r == ' ' || r == '-' || r == '\u3000' || r == '\u30fc' || r == '\uff0d' || r == '\u2010' || r == '\u2212':
			continue
		case r >= '\uff01' && r <= '\uff5e': // full-width ASCII
			r -= 0xfee0
		}
		if r >= 'a' && r <= 'z' {
			r -= 'a' - 'A'
		}
		switch r {
		case 'O':
			r = '0'
		case 'I', 'L':
			r = '1'
		}
		if r > 127 || !strings.ContainsRune(alphabet, r) {
			return "", false
		}
		b.WriteRune(r)
	}
	if b.Len() != Length {
		return "", false
	}
	return b.String(), true
}
