// Package secrets creates and loads the server's secret keys.
//
// The first start of a new installation writes a secrets file with mode
// 0600; every node of an installation must share it. Losing it signs
// everybody out, and — with the pepper enabled — makes every password
// unverifiable, so it belongs in the backup, kept apart from the database.
//
// Loading and creating are separate on purpose: only the caller knows
// whether a database already exists, and a missing file beside an existing
// database must be restored from the backup, never quietly replaced.
package secrets

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Secrets are the keys the server uses.
type Secrets struct {
	// HMACKey signs cookies and keys the hashes of one-time codes.
	HMACKey []byte `json:"hmac_key"`
	// EncryptionKey encrypts secrets at rest (authenticator seeds).
	EncryptionKey []byte `json:"encryption_key"`
	// Pepper is mixed into password hashes when password.pepper is on.
	Pepper []byte `json:"pepper"`
}

// KeySize is the length of every generated key, and the shortest HMAC key
// and pepper a secrets file may hold: anything shorter is below the
// 256-bit strength the rest of the design assumes.
const KeySize = 32

// ErrMissing is returned by Load when the secrets file does not exist. It
// wraps fs.ErrNotExist.
var ErrMissing = fmt.Errorf("secrets file missing: %w", fs.ErrNotExist)

func key() []byte {
	b := make([]byte, KeySize)
	rand.Read(b)
	return b
}

// Load reads and checks the secrets file at path. It returns an error
// wrapping ErrMissing when there is none, and refuses a file that others
// can read or whose keys are missing or short.
func Load(path string) (*Secrets, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("secrets: %s: %w", path, ErrMissing)
	}
	if err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("secrets: %s is readable by other users (mode %v); run chmod 600 %s", path, st.Mode().Perm(), path)
	}
	var s Secrets
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("secrets: %s: %w", path, err)
	}
	if len(s.HMACKey) < KeySize || len(s.EncryptionKey) != KeySize {
		return nil, fmt.Errorf("secrets: %s: hmac_key must be at least %d bytes and encryption_key exactly %d (base64)", path, KeySize, KeySize)
	}
	// A short pepper would be used without complaint by HMAC and weaken
	// every password hash; an empty one would silently turn peppering off.
	if len(s.Pepper) < KeySize {
		return nil, fmt.Errorf("secrets: %s: the pepper is %d bytes, and must be at least %d (base64); if this file was edited by hand, restore the original from the backup — the pepper cannot be changed without making every password unverifiable", path, len(s.Pepper), KeySize)
	}
	return &s, nil
}

// Create writes a new secrets file with fresh keys at path, mode 0600,
// creating its directory (mode 0700) if needed. It never overwrites a file.
func Create(path string) (*Secrets, error) {
	s := &Secrets{HMACKey: key(), EncryptionKey: key(), Pepper: key()}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	out, _ := json.MarshalIndent(s, "", "  ")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("secrets: create %s: %w", path, err)
	}
	// The umask can only take bits away from 0600, but say it outright.
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return nil, fmt.Errorf("secrets: %w", err)
	}
	if _, err := f.Write(append(out, '\n')); err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("secrets: write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("secrets: write %s: %w", path, err)
	}
	return s, f.Close()
}
