// Package secrets creates and loads the server's secret keys.
//
// On first start Gatehouse writes a secrets file with mode 0600; every node
// of an installation must share it. Losing it signs everybody out, and —
// with the pepper enabled — makes every password unverifiable, so it belongs
// in the backup, kept apart from the database.
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

func key() []byte {
	b := make([]byte, 32)
	rand.Read(b)
	return b
}

// LoadOrCreate reads the secrets file at path, creating it (and its
// directory) with fresh keys when it does not exist. It refuses a file that
// others can read.
func LoadOrCreate(path string) (*Secrets, bool, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		s := &Secrets{HMACKey: key(), EncryptionKey: key(), Pepper: key()}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, false, err
		}
		out, _ := json.MarshalIndent(s, "", "  ")
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, false, fmt.Errorf("secrets: create %s: %w", path, err)
		}
		if _, err := f.Write(append(out, '\n')); err != nil {
			f.Close()
			return nil, false, err
		}
		return s, true, f.Close()
	}
	if err != nil {
		return nil, false, fmt.Errorf("secrets: %w", err)
	}
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
		return nil, false, fmt.Errorf("secrets: %s is readable by other users (mode %v); run chmod 600 %s", path, st.Mode().Perm(), path)
	}
	var s Secrets
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, false, fmt.Errorf("secrets: %s: %w", path, err)
	}
	if len(s.HMACKey) < 32 || len(s.EncryptionKey) != 32 {
		return nil, false, fmt.Errorf("secrets: %s: hmac_key and encryption_key must be 32 bytes (base64)", path)
	}
	return &s, false, nil
}
