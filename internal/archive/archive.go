// Package archive is the backup file of `gatehouse backup` and
// `gatehouse restore`: an installation's SQLite database (a consistent copy
// taken while the server runs), its secrets file and its DKIM keys, in one
// file encrypted with a passphrase, and the restore of such a file into a
// data directory.
//
// The file is an age file (filippo.io/age, encrypted to an scrypt
// passphrase recipient) around a gzip-compressed tar stream. The stream's
// first member is manifest.json — the format version, the Gatehouse
// version and database schema version that made it, when, and every file
// with its size and SHA-256 — so that a restore can refuse a backup it
// cannot use before writing anything, and check each file as it is read.
// Age authenticates the whole stream, so a wrong passphrase or a damaged
// file is told apart from a good one, and nothing is trusted before the
// passphrase has opened it.
//
// (Backup codes, the two-step method, are internal/backup.)
package archive

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"filippo.io/age"
)

// FormatVersion is the version of the file layout this package writes; a
// file of a newer format is refused.
const FormatVersion = 1

// MinPassphrase is the shortest passphrase accepted, in characters. The
// file may be kept where others can copy it, and scrypt only slows
// guessing down; a short passphrase would still fall to it.
const MinPassphrase = 12

// Names of the members of a backup.
const (
	ManifestName = "manifest.json"
	DatabaseName = "gatehouse.db"
	SecretsName  = "secrets.json"
	DKIMPrefix   = "dkim/"
)

// Databases a manifest names.
const (
	// SQLite: the database is in the backup.
	SQLite = "sqlite"
	// Postgres: it is not; pg_dump backs it up.
	Postgres = "postgres"
)

// Errors a caller tells apart.
var (
	ErrWeakPassphrase  = fmt.Errorf("the passphrase must be at least %d characters", MinPassphrase)
	ErrWrongPassphrase = errors.New("the passphrase does not open this backup")
	ErrNotBackup       = errors.New("not a Gatehouse backup")
	ErrDamaged         = errors.New("the backup is damaged or incomplete")
	ErrFormatTooNew    = errors.New("the backup was made by a newer gatehouse (a newer backup format)")
)

// Manifest describes a backup: what made it and what it holds.
type Manifest struct {
	Format    int    `json:"format"`
	Gatehouse string `json:"gatehouse"`
	// Database is SQLite or Postgres; Schema its schema version when the
	// backup was made.
	Database  string    `json:"database"`
	Schema    int       `json:"schema"`
	CreatedAt time.Time `json:"created_at"`
	// Files are the members after the manifest, in their order.
	Files []Entry `json:"files"`
}

// Entry is one file of a backup.
type Entry struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Has reports whether the backup holds the file name.
func (m *Manifest) Has(name string) bool {
	for _, e := range m.Files {
		if e.Name == name {
			return true
		}
	}
	return false
}

// dkimFile is what a DKIM key directory holds: keys.json and
// SELECTOR.key (dkimkeys). Nothing else is packed or unpacked, so a name
// from a backup can never climb out of the directory it is restored to.
var dkimFile = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`)

// ValidName reports whether name may be a file of a backup.
func ValidName(name string) bool {
	if name == DatabaseName || name == SecretsName {
		return true
	}
	base, ok := strings.CutPrefix(name, DKIMPrefix)
	return ok && dkimFile.MatchString(base)
}

// ReadPassphrase reads a passphrase: the first line of r, without its line
// ending. It refuses an empty or short one.
func ReadPassphrase(r io.Reader) (string, error) {
	line, err := bufio.NewReaderSize(io.LimitReader(r, 4096), 4096).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", err
	}
	p := strings.TrimRight(line, "\r\n")
	if !utf8.ValidString(p) || utf8.RuneCountInString(p) < MinPassphrase {
		if p == "" {
			return "", fmt.Errorf("%w, and the first line is empty", ErrWeakPassphrase)
		}
		return "", ErrWeakPassphrase
	}
	return p, nil
}

// Source is a file to pack: its name in the backup and where it is.
type Source struct {
	Name, Path string
}

// Write packs m and the files into w, encrypted with passphrase. It fills
// in m.Files, reading each file once to hash it and once to pack it (the
// manifest comes first, so that a restore can refuse before writing). The
// files must not change meanwhile: the database is a private copy, the
// secrets never change, and DKIM keys only on a rotation. workFactor is
// scrypt's log2(N); 0 means age's default (18: about a second, 256 MiB).
func Write(w io.Writer, passphrase string, m *Manifest, files []Source, workFactor int) error {
	m.Format = FormatVersion
	m.Files = m.Files[:0]
	for _, f := range files {
		if !ValidName(f.Name) {
			return fmt.Errorf("archive: %q cannot be a file of a backup", f.Name)
		}
		e, err := hashFile(f)
		if err != nil {
			return err
		}
		m.Files = append(m.Files, e)
	}
	manifest, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}

	rcpt, err := age.NewScryptRecipient(passphrase)
	if err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	if workFactor > 0 {
		rcpt.SetWorkFactor(workFactor)
	}
	enc, err := age.Encrypt(w, rcpt)
	if err != nil {
		return fmt.Errorf("archive: encrypt: %w", err)
	}
	zw := gzip.NewWriter(enc)
	tw := tar.NewWriter(zw)
	hdr := func(name string, size int64) *tar.Header {
		return &tar.Header{Name: name, Size: size, Mode: 0o600, ModTime: m.CreatedAt, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
	}
	if err := tw.WriteHeader(hdr(ManifestName, int64(len(manifest)))); err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	if _, err := tw.Write(manifest); err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	for i, f := range files {
		if err := tw.WriteHeader(hdr(f.Name, m.Files[i].Size)); err != nil {
			return fmt.Errorf("archive: %w", err)
		}
		if err := packFile(tw, f, m.Files[i]); err != nil {
			return err
		}
	}
	if err := errors.Join(tw.Close(), zw.Close(), enc.Close()); err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	return nil
}

func hashFile(f Source) (Entry, error) {
	in, err := os.Open(f.Path)
	if err != nil {
		return Entry{}, fmt.Errorf("archive: %w", err)
	}
	defer in.Close()
	h := sha256.New()
	n, err := io.Copy(h, in)
	if err != nil {
		return Entry{}, fmt.Errorf("archive: read %s: %w", f.Path, err)
	}
	return Entry{Name: f.Name, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// packFile copies the file into the tar stream and checks that it is still
// what was hashed: a file that changed in between would make a backup
// that every restore refuses.
func packFile(tw *tar.Writer, f Source, e Entry) error {
	in, err := os.Open(f.Path)
	if err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	defer in.Close()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tw, h), io.LimitReader(in, e.Size))
	if err != nil {
		return fmt.Errorf("archive: pack %s: %w", f.Path, err)
	}
	if n != e.Size || hex.EncodeToString(h.Sum(nil)) != e.SHA256 {
		return fmt.Errorf("archive: %s changed while the backup was made; run the backup again", f.Path)
	}
	return nil
}

// Reader reads a backup opened with Open.
type Reader struct {
	m    Manifest
	zr   *gzip.Reader
	tr   *tar.Reader
	next int
}

// Open decrypts a backup with passphrase and reads its manifest. It
// returns ErrWrongPassphrase when the passphrase does not open it,
// ErrNotBackup when it is not a backup (or not one encrypted with a
// passphrase), ErrDamaged when it is cut short or altered, and
// ErrFormatTooNew when a newer gatehouse made it.
func Open(r io.Reader, passphrase string) (*Reader, error) {
	id, err := age.NewScryptIdentity(passphrase)
	if err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	dec, err := age.Decrypt(r, id)
	var nomatch *age.NoIdentityMatchError
	switch {
	case errors.As(err, &nomatch):
		for _, t := range nomatch.StanzaTypes {
			if t == "scrypt" {
				return nil, ErrWrongPassphrase
			}
		}
		return nil, fmt.Errorf("%w: it is not encrypted with a passphrase", ErrNotBackup)
	case err != nil && strings.Contains(err.Error(), "failed to read header"):
		return nil, fmt.Errorf("%w: it is not an age-encrypted file", ErrNotBackup)
	case err != nil:
		return nil, fmt.Errorf("archive: %w", err)
	}
	// The passphrase opened the file, so what it holds is ours: a read
	// that fails now is a file cut short or altered (age authenticates
	// every chunk), unless what it holds is not a tar stream at all.
	zr, err := gzip.NewReader(dec)
	if errors.Is(err, gzip.ErrHeader) {
		return nil, fmt.Errorf("%w: %v", ErrNotBackup, err)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDamaged, err)
	}
	tr := tar.NewReader(zr)
	h, err := tr.Next()
	if err != nil && !errors.Is(err, tar.ErrHeader) {
		return nil, fmt.Errorf("%w: %v", ErrDamaged, err)
	}
	if err != nil || h.Name != ManifestName || h.Size > 1<<20 {
		return nil, fmt.Errorf("%w: it does not start with a manifest", ErrNotBackup)
	}
	b, err := io.ReadAll(tr)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDamaged, err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%w: its manifest: %v", ErrNotBackup, err)
	}
	if m.Format > FormatVersion {
		return nil, fmt.Errorf("%w (format %d; this one reads up to %d): upgrade gatehouse", ErrFormatTooNew, m.Format, FormatVersion)
	}
	if m.Format < 1 || (m.Database != SQLite && m.Database != Postgres) {
		return nil, fmt.Errorf("%w: its manifest names format %d and database %q", ErrNotBackup, m.Format, m.Database)
	}
	seen := map[string]bool{}
	for _, e := range m.Files {
		if !ValidName(e.Name) || seen[e.Name] || e.Size < 0 {
			return nil, fmt.Errorf("%w: its manifest lists %q", ErrNotBackup, e.Name)
		}
		seen[e.Name] = true
	}
	if (m.Database == SQLite) != seen[DatabaseName] || !seen[SecretsName] {
		return nil, fmt.Errorf("%w: it lacks the database or the secrets file", ErrDamaged)
	}
	return &Reader{m: m, zr: zr, tr: tr}, nil
}

// Manifest returns the backup's manifest.
func (r *Reader) Manifest() Manifest { return r.m }

// Next returns the next file of the backup and its content, in the
// manifest's order, and io.EOF after the last. The content reader checks
// the size and SHA-256 the manifest gives, and returns an error wrapping
// ErrDamaged instead of io.EOF when they differ.
func (r *Reader) Next() (Entry, io.Reader, error) {
	h, err := r.tr.Next()
	if r.next == len(r.m.Files) {
		if err == io.EOF {
			// Read to the end: the gzip checksum and age's last chunk
			// are what tell a file cut short after the tar trailer.
			if _, err := io.Copy(io.Discard, r.zr); err != nil {
				return Entry{}, nil, fmt.Errorf("%w: %v", ErrDamaged, err)
			}
			return Entry{}, nil, io.EOF
		}
		if err == nil {
			return Entry{}, nil, fmt.Errorf("%w: it holds %q, which its manifest does not list", ErrDamaged, h.Name)
		}
		return Entry{}, nil, fmt.Errorf("%w: %v", ErrDamaged, err)
	}
	e := r.m.Files[r.next]
	if err != nil {
		return Entry{}, nil, fmt.Errorf("%w: %s is missing (%v)", ErrDamaged, e.Name, err)
	}
	if h.Name != e.Name || h.Size != e.Size {
		return Entry{}, nil, fmt.Errorf("%w: found %q where %s was expected", ErrDamaged, h.Name, e.Name)
	}
	r.next++
	return e, &checked{r: r.tr, e: e, h: sha256.New()}, nil
}

// checked reads a member and compares its hash with the manifest's at
// the end.
type checked struct {
	r io.Reader
	e Entry
	h interface {
		io.Writer
		Sum([]byte) []byte
	}
	n int64
}

func (c *checked) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.h.Write(p[:n])
	c.n += int64(n)
	if err == io.EOF && (c.n != c.e.Size || hex.EncodeToString(c.h.Sum(nil)) != c.e.SHA256) {
		return n, fmt.Errorf("%w: %s does not match its manifest", ErrDamaged, c.e.Name)
	}
	if err != nil && err != io.EOF {
		return n, fmt.Errorf("%w: %s: %v", ErrDamaged, c.e.Name, err)
	}
	return n, err
}
