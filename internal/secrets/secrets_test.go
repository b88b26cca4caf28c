package secrets

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestCreate_NewFileIsMode0600InANewDirectoryAndNeverOverwritten(t *testing.T) {
	// A umask that would leave the file world-readable must not matter.
	// (The umask is the process's: this test is not parallel.)
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	path := filepath.Join(t.TempDir(), "etc", "gatehouse", "secrets.json")
	s, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("file mode %v %v", st.Mode(), err)
	}
	if dst, _ := os.Stat(filepath.Dir(path)); dst.Mode().Perm() != 0o700 {
		t.Fatalf("directory mode %v", dst.Mode())
	}
	got, err := Load(path)
	if err != nil || string(got.Pepper) != string(s.Pepper) || len(got.HMACKey) != KeySize {
		t.Fatalf("load: %v", err)
	}
	if _, err := Create(path); err == nil {
		t.Fatal("Create overwrote an existing secrets file")
	}
}

func TestLoad_MissingFileIsErrMissingAndCreatesNothing(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "secrets.json")
	_, err := Load(path)
	if !errors.Is(err, ErrMissing) || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err %v", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("Load created a file")
	}
}

func TestLoad_RefusesEmptyOrShortPepper(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, pepper := range map[string][]byte{"empty": nil, "short": []byte("0123456789abcdef0123456789abcde")} {
		path := filepath.Join(dir, name+".json")
		b, _ := json.Marshal(&Secrets{HMACKey: key(), EncryptionKey: key(), Pepper: pepper})
		os.WriteFile(path, b, 0o600)
		_, err := Load(path)
		if err == nil || !strings.Contains(err.Error(), "pepper") || !strings.Contains(err.Error(), "at least 32") {
			t.Errorf("%s pepper: %v", name, err)
		}
	}
}

func TestLoad_RefusesShortKeysAndFilesOthersCanRead(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	short := filepath.Join(dir, "short.json")
	b, _ := json.Marshal(&Secrets{HMACKey: []byte("k"), EncryptionKey: key(), Pepper: key()})
	os.WriteFile(short, b, 0o600)
	if _, err := Load(short); err == nil || !strings.Contains(err.Error(), "hmac_key") {
		t.Fatalf("short hmac key: %v", err)
	}
	open := filepath.Join(dir, "open.json")
	b, _ = json.Marshal(&Secrets{HMACKey: key(), EncryptionKey: key(), Pepper: key()})
	os.WriteFile(open, b, 0o600)
	os.Chmod(open, 0o644)
	if _, err := Load(open); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("mode 0644: %v", err)
	}
}
