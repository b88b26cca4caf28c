package dkimkeys

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"
)

const testMail = "From: Gatehouse <no-reply@gatehouse.example>\r\nTo: a@example.com\r\nSubject: Your code\r\nDate: Wed, 02 Dec 2026 10:00:00 +0000\r\nMessage-Id: <x@gatehouse.example>\r\nX-Other: not signed\r\n\r\nHello,\r\nyour code.\r\n"

// verify checks msg's signatures against the ring, as the checker does.
func verify(t *testing.T, r *Ring, msg []byte) map[string]error {
	t.Helper()
	vs, err := dkim.VerifyWithOptions(bytes.NewReader(msg), &dkim.VerifyOptions{LookupTXT: func(name string) ([]string, error) {
		sel, _, _ := strings.Cut(name, "._domainkey.")
		if k, ok := r.Lookup(sel); ok {
			return []string{k.Record()}, nil
		}
		return nil, os.ErrNotExist
	}})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]error{}
	for i, v := range vs {
		out[fmt.Sprintf("%d:%s/%s", i, v.Domain, strings.Join(v.HeaderKeys, ":"))] = v.Err
	}
	return out
}

func TestOpen_FirstStartMakesAnRSAAndAnEd25519KeyThatSign(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "dkim")
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	r, err := Open(dir, now)
	if err != nil {
		t.Fatal(err)
	}
	keys := r.Signing(now)
	if len(keys) != 2 {
		t.Fatalf("%d signing keys, want 2", len(keys))
	}
	algs := map[string]string{}
	for _, k := range keys {
		algs[k.Algorithm] = k.Selector
		st, err := os.Stat(filepath.Join(dir, k.Selector+".key"))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("private key of %s: %v %v, want mode 0600", k.Selector, st.Mode(), err)
		}
	}
	if algs[RSA] != "gh20261202a-rsa" || algs[Ed25519] != "gh20261202a-ed25519" {
		t.Errorf("selectors %v", algs)
	}
	// A second Open reads the same keys rather than making new ones.
	r2, err := Open(dir, now)
	if err != nil || len(r2.Keys()) != 2 {
		t.Fatalf("reopen: %v keys, %v", len(r2.Keys()), err)
	}

	signed, err := r.Sign([]byte(testMail), "gatehouse.example", now)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(signed, []byte("DKIM-Signature: a=ed25519-sha256;")) || !bytes.Contains(signed, []byte("a=rsa-sha256")) {
		t.Fatalf("signatures:\n%s", signed[:bytes.Index(signed, []byte("From:"))])
	}
	for _, tag := range []string{"c=relaxed/relaxed", "d=gatehouse.example", "h=From:From:To:To:Subject:Subject:Date:Date:Message-Id:Message-Id:Reply-To:Cc:"} {
		if bytes.Count(signed, []byte(tag)) != 2 {
			t.Errorf("want %s in both signatures", tag)
		}
	}
	got := verify(t, r2, signed)
	if len(got) != 2 {
		t.Fatalf("verifications %v", got)
	}
	for k, err := range got {
		if err != nil {
			t.Errorf("%s: %v", k, err)
		}
	}
	// An unsigned header may change; a signed one may not.
	if errs := verify(t, r, bytes.Replace(signed, []byte("not signed"), []byte("changed"), 1)); firstErr(errs) != nil {
		t.Errorf("changing an unsigned header broke the signatures: %v", errs)
	}
	for _, change := range [][2]string{{"Your code", "Your cod3"}, {"your code.", "your c0de."}, {"a@example.com", "b@example.com"}} {
		errs := verify(t, r, bytes.Replace(signed, []byte(change[0]), []byte(change[1]), 1))
		for k, err := range errs {
			if err == nil {
				t.Errorf("%q → %q: signature %s still verifies", change[0], change[1], k)
			}
		}
	}
}

func firstErr(m map[string]error) error {
	for _, err := range m {
		if err != nil {
			return err
		}
	}
	return nil
}

func TestRotate_TheOldPairSignsThroughTheOverlapThenOnlyItsPublicKeyStays(t *testing.T) {
	dir := t.TempDir()
	day := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	server, err := Open(dir, day)
	if err != nil {
		t.Fatal(err)
	}
	old, _ := server.Lookup("gh20261202a-rsa")
	signedBefore, err := server.Sign([]byte(testMail), "gatehouse.example", day)
	if err != nil {
		t.Fatal(err)
	}

	// Another process rotates, the same day: a "b" generation.
	time.Sleep(10 * time.Millisecond) // a different mtime for the index
	added, err := Rotate(dir, day.Add(time.Hour), 48*time.Hour)
	if err != nil || len(added) != 2 || added[0].Selector != "gh20261202b-rsa" {
		t.Fatalf("rotate: %v %v", added, err)
	}
	// The running ring notices without a restart; during the overlap all
	// four keys sign.
	if n := len(server.Signing(day.Add(2 * time.Hour))); n != 4 {
		t.Errorf("%d signing keys during the overlap, want 4", n)
	}
	if n := len(server.Signing(day.Add(50 * time.Hour))); n != 2 {
		t.Errorf("%d signing keys after the overlap, want 2", n)
	}
	recs := server.DNSRecords(Publish{Domain: "gatehouse.example"}, day.Add(2*time.Hour))
	if n := countDKIM(recs); n != 4 {
		t.Errorf("%d DKIM records during the overlap, want 4", n)
	}

	// A later rotation, after the overlap, deletes the retired private keys.
	time.Sleep(10 * time.Millisecond)
	if _, err := Rotate(dir, day.Add(72*time.Hour), 48*time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "gh20261202a-rsa.key")); !os.IsNotExist(err) {
		t.Errorf("retired private key still there: %v", err)
	}
	r, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	k, ok := r.Lookup("gh20261202a-rsa")
	if !ok || !bytes.Equal(k.Public, old.Public) || k.Signs(day.Add(72*time.Hour)) {
		t.Fatalf("retired key: %v %v", k, ok)
	}
	// Old mail still verifies with the retired public key.
	for name, err := range verify(t, r, signedBefore) {
		if err != nil {
			t.Errorf("old mail, %s: %v", name, err)
		}
	}
	if len(r.Keys()) != 6 {
		t.Errorf("%d keys, want all 6 kept", len(r.Keys()))
	}
}

func countDKIM(recs []Record) int {
	n := 0
	for _, r := range recs {
		if strings.Contains(r.Name, "._domainkey.") {
			n++
		}
	}
	return n
}

func TestLoad_RefusesAPrivateKeyOthersCanReadOrThatIsNotTheListedOne(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	if _, err := Open(dir, now); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "gh"+now.UTC().Format("20060102")+"a-rsa.key")
	os.Chmod(path, 0o644)
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "readable by other users") {
		t.Errorf("world-readable key: %v", err)
	}
	os.Chmod(path, 0o600)
	other := t.TempDir()
	if _, err := Open(other, now); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(other, filepath.Base(path)))
	os.WriteFile(path, b, 0o600)
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Errorf("mismatched key: %v", err)
	}
	if _, err := Load(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no keys") {
		t.Errorf("empty dir: %v", err)
	}
}

func TestDNSRecords_OneZoneLinePerRecordLongValuesSplit(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	r, err := Open(dir, now)
	if err != nil {
		t.Fatal(err)
	}
	recs := r.DNSRecords(Publish{Domain: "Gatehouse.Example.", SPFHosts: []string{"smtp.relay.example", "192.0.2.25"}}, now)
	var lines []string
	for _, rec := range recs {
		lines = append(lines, rec.ZoneLine())
	}
	all := strings.Join(lines, "\n")
	for _, want := range []string{
		`gatehouse.example. IN TXT "v=spf1 a:smtp.relay.example ip4:192.0.2.25 -all"`,
		`gh20261202a-ed25519._domainkey.gatehouse.example. IN TXT "v=DKIM1; k=ed25519; p=`,
		`gh20261202a-rsa._domainkey.gatehouse.example. IN TXT "v=DKIM1; k=rsa; p=`,
		`_dmarc.gatehouse.example. IN TXT "v=DMARC1; p=quarantine; adkim=r; aspf=r;`,
		`default._bimi.gatehouse.example. IN TXT "v=BIMI1; l=https://gatehouse.example/brand/logo.svg; a=`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("missing %s in\n%s", want, all)
		}
	}
	for _, l := range lines {
		if strings.Contains(l, "\n") {
			t.Errorf("record spans lines: %q", l)
		}
		if strings.Contains(l, "k=rsa") {
			// 2048-bit key: about 400 characters, so two strings, each ≤ 255.
			parts := strings.Split(strings.SplitN(l, " IN TXT ", 2)[1], `" "`)
			if len(parts) != 2 {
				t.Errorf("RSA record in %d strings, want 2: %s", len(parts), l)
			}
			for _, p := range parts {
				if len(strings.Trim(p, `"`)) > 255 {
					t.Errorf("string of %d bytes", len(p))
				}
			}
			joined := strings.ReplaceAll(strings.Trim(strings.SplitN(l, " IN TXT ", 2)[1], `"`), `" "`, "")
			k, _ := r.Lookup("gh20261202a-rsa")
			if joined != k.Record() {
				t.Errorf("joined strings are not the record")
			}
		}
	}
}
