package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gatehouse/internal/pgtest"
	"gatehouse/internal/totp"
)

// backupPassphrase is written to a passphrase file as an operator would.
const backupPassphrase = "a passphrase kept in the safe"

func passphraseFile(t *testing.T, pass string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "passphrase")
	if err := os.WriteFile(p, []byte(pass+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// backupEnv is the serve environment of the backup tests: cheap hashing,
// and the loopback proxy believed, so that each sign-up can come from a
// network of its own (the limits count codes per network).
func backupEnv() map[string]string {
	env := map[string]string{"GATEHOUSE_TRUSTED_PROXIES": "127.0.0.0/8,::1/128"}
	for k, v := range cheapArgon {
		env[k] = v
	}
	return env
}

// loadPost posts a form as a browser from ip would, for the load
// goroutines: errors are returned, not fatal.
func loadPost(c *http.Client, base, ip, path string, form url.Values) (int, string, error) {
	req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	req.Header.Set("X-Forwarded-For", ip)
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Location"), nil
}

// codeSentTo is latestCode for the load goroutines: the newest code in
// the dev mailbox for to, waiting a little for it.
func codeSentTo(base, to string) (string, error) {
	for range 50 {
		resp, err := http.Get(base + "/dev/messages.json")
		if err != nil {
			return "", err
		}
		var msgs []struct{ To, Text string }
		err = json.NewDecoder(resp.Body).Decode(&msgs)
		resp.Body.Close()
		if err != nil {
			return "", err
		}
		for _, m := range msgs {
			if m.To == to {
				if c := sixDigits.FindStringSubmatch(m.Text); c != nil {
					return c[1], nil
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return "", fmt.Errorf("no code for %s", to)
}

// loadSignUp signs up and confirms email from ip; nil once the account
// exists.
func loadSignUp(base, ip, email, pw string) error {
	jar, _ := cookiejar.New(nil)
	c := noRedirect()
	c.Jar, c.Timeout = jar, 30*time.Second
	st, loc, err := loadPost(c, base, ip, "/signup", url.Values{"email": {email}, "password": {pw}})
	if err != nil || st != http.StatusSeeOther {
		return fmt.Errorf("sign up %s: %d %v", email, st, err)
	}
	u, err := url.Parse(loc)
	if err != nil {
		return err
	}
	code, err := codeSentTo(base, email)
	if err != nil {
		return err
	}
	st, loc, err = loadPost(c, base, ip, "/signup/confirm", url.Values{"c": {u.Query().Get("c")}, "code": {code}})
	if err != nil || loc != "/account?notice=account_created" {
		return fmt.Errorf("confirm %s: %d %q %v", email, st, loc, err)
	}
	return nil
}

// loadSignIn signs email in from ip and out again.
func loadSignIn(base, ip, email, pw string) error {
	jar, _ := cookiejar.New(nil)
	c := noRedirect()
	c.Jar, c.Timeout = jar, 30*time.Second
	st, loc, err := loadPost(c, base, ip, "/signin", url.Values{"email": {email}, "password": {pw}})
	if err != nil || loc != "/account" {
		return fmt.Errorf("sign in %s: %d %q %v", email, st, loc, err)
	}
	_, _, err = loadPost(c, base, ip, "/signout", url.Values{})
	return err
}

// signInWithApp signs in with the password and the app's code for the
// next time step (the current one may have been used already: each is
// accepted once).
func signInWithApp(t *testing.T, n *netClient, email, pw, uri string) {
	t.Helper()
	a := n.post("/signin", url.Values{"email": {email}, "password": {pw}})
	if a.status != http.StatusSeeOther || !strings.HasPrefix(a.location, "/signin/verify") {
		t.Fatalf("%s's password: %d %s", email, a.status, a.location)
	}
	code, err := totp.Code(mustSecret(t, uri), totp.Step(time.Now())+1)
	if err != nil {
		t.Fatal(err)
	}
	if a := n.post("/signin/verify", url.Values{"c": {challengeOf(t, a.location)}, "method": {"app"}, "code": {code}}); a.location != "/account" {
		t.Fatalf("%s's app code: %d %s\n%s", email, a.status, a.location, a.body)
	}
}

// TestE2E_Backup_UnderLoadRestoreSignIn is the backup test: a
// real server on SQLite with holders (one with an authenticator app and
// backup codes) is kept busy signing holders in and up from four
// goroutines while `gatehouse backup` runs against its data directory.
// The server is stopped, the backup restored into an empty data
// directory, and a server started there: every holder whose account
// existed before the backup began signs in with their password; the app
// holder passes the second step with the app (its seed is sealed with
// the restored encryption key) and with a backup code (an HMAC under the
// restored key); a browser signed in before the backup is still signed
// in (its session, and the cookie's keys, came back); and the restored
// server generated no new secrets.
func TestE2E_Backup_UnderLoadRestoreSignIn(t *testing.T) {
	t.Parallel()
	env := backupEnv()
	data := t.TempDir()
	p := serve(t, data, env)
	const pw = "violet canoe at dawn"
	var holders []string
	for i := range 4 {
		email := fmt.Sprintf("holder%d@example.com", i)
		n := newNetClient(t, p.URL, fmt.Sprintf("192.0.2.%d", 10+i))
		signUpOver(t, n, email, pw)
		n.post("/signout", url.Values{})
		holders = append(holders, email)
	}
	const twoStep = "two-step@example.com"
	phone := newNetClient(t, p.URL, "192.0.2.30")
	signUpOver(t, phone, twoStep, pw)
	uri, codes := enrolAppOver(t, phone)
	phone.post("/signout", url.Values{})
	// A browser that stays signed in across the backup and restore.
	stays := newNetClient(t, p.URL, "192.0.2.31")
	signUpOver(t, stays, "stays@example.com", pw)
	if a := stays.get("/account"); a.status != http.StatusOK {
		t.Fatalf("account page before the backup: %d", a.status)
	}

	// The load: sign-ins of the holders and sign-ups of new ones, each
	// from a network of its own. A sign-up that finished before the
	// backup began must be in it.
	var (
		stop      = make(chan struct{})
		wg        sync.WaitGroup
		ops       atomic.Int64
		mu        sync.Mutex
		finished  = map[string]time.Time{} // sign-ups under load, when confirmed
		loadErrs  []error
		signedUps atomic.Int64
	)
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				ip := networkOf(4*i + w)
				var err error
				if i%3 == 2 {
					email := fmt.Sprintf("load%d-%d@example.com", w, i)
					if err = loadSignUp(p.URL, ip, email, pw); err == nil {
						mu.Lock()
						finished[email] = time.Now()
						mu.Unlock()
						signedUps.Add(1)
					}
				} else {
					err = loadSignIn(p.URL, ip, holders[(w+i)%len(holders)], pw)
				}
				if err != nil {
					mu.Lock()
					loadErrs = append(loadErrs, err)
					mu.Unlock()
				}
				ops.Add(1)
			}
		})
	}
	for deadline := time.Now().Add(30 * time.Second); ops.Load() < 12 || signedUps.Load() < 2; {
		if time.Now().After(deadline) {
			close(stop)
			wg.Wait()
			t.Fatalf("the load did not get going: %d requests, %d sign-ups, errors %v", ops.Load(), signedUps.Load(), loadErrs)
		}
		time.Sleep(5 * time.Millisecond)
	}
	backupFile := filepath.Join(t.TempDir(), "gatehouse.backup")
	pass := passphraseFile(t, backupPassphrase)
	began, opsBefore := time.Now(), ops.Load()
	out, errs, code := cli(t, nil, nil, "backup", "--data", data, "--to", backupFile, "--passphrase-file", pass)
	took, opsDuring := time.Since(began), ops.Load()-opsBefore
	time.Sleep(100 * time.Millisecond) // the load goes on after the backup too
	close(stop)
	wg.Wait()
	if code != 0 || !strings.Contains(out, "Backed up the database") {
		t.Fatalf("backup: %d\n%s%s", code, out, errs)
	}
	if len(loadErrs) > 0 {
		t.Fatalf("the load failed %d times, first: %v", len(loadErrs), loadErrs[0])
	}
	if opsDuring == 0 {
		t.Fatalf("nothing was signed in or up while the backup ran (%v)", took)
	}
	t.Logf("backup took %v while %d sign-ins and sign-ups were made (%d in all, %d sign-ups)", took.Round(time.Millisecond), opsDuring, ops.Load(), signedUps.Load())
	for email, at := range finished {
		if at.Before(began) {
			holders = append(holders, email)
		}
	}
	if st, err := os.Stat(backupFile); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v %v", err, st)
	}
	if c := p.stop(); c != 0 {
		t.Fatalf("the server stopped with %d", c)
	}

	restored := t.TempDir() // empty
	out, errs, code = cli(t, nil, nil, "restore", "--from", backupFile, "--passphrase-file", pass, "--data", restored)
	if code != 0 || !strings.Contains(out, "Restored the backup") {
		t.Fatalf("restore: %d\n%s%s", code, out, errs)
	}
	q := serve(t, restored, env)
	if strings.Contains(q.Output(), "generated a new secrets file") {
		t.Fatal("the restored server generated new secrets")
	}
	for i, email := range holders {
		n := newNetClient(t, q.URL, fmt.Sprintf("198.18.0.%d", 1+i))
		if a := n.post("/signin", url.Values{"email": {email}, "password": {pw}}); a.location != "/account" {
			t.Errorf("%s after the restore: %d %s", email, a.status, a.location)
		}
	}
	t.Logf("%d holders signed in on the restored server", len(holders))
	phone.base = q.URL
	signInWithApp(t, phone, twoStep, pw, uri)
	other := newNetClient(t, q.URL, "198.18.1.1")
	a := other.post("/signin", url.Values{"email": {twoStep}, "password": {pw}})
	if a = other.post("/signin/verify", url.Values{"c": {challengeOf(t, a.location)}, "method": {"backup"}, "code": {codes[0]}}); a.location != "/account" {
		t.Errorf("backup code after the restore: %d %s", a.status, a.location)
	}
	stays.base = q.URL // the same browser, cookies and all
	if a := stays.get("/account"); a.status != http.StatusOK || !strings.Contains(a.body, "stays@example.com") {
		t.Errorf("the browser signed in before the backup: %d %s", a.status, a.location)
	}
}

// secretKeys reads the keys of a secrets file.
func secretKeys(t *testing.T, path string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		HMAC       []byte `json:"hmac_key"`
		Encryption []byte `json:"encryption_key"`
		Pepper     []byte `json:"pepper"`
	}
	if err := json.Unmarshal(b, &s); err != nil || len(s.HMAC) == 0 || len(s.Encryption) == 0 || len(s.Pepper) == 0 {
		t.Fatalf("secrets file: %v", err)
	}
	return [][]byte{s.HMAC, s.Encryption, s.Pepper}
}

// TestE2E_Backup_RefusesWhatWouldHurt: the backup file is mode 0600 and
// holds no key of the secrets file, raw or base64; a short passphrase is
// refused; a wrong passphrase is refused with a clear message and exit 1,
// writing nothing; a restore over the installation is refused without
// --force, and with --force while its server runs; once the server is
// stopped --force restores, and the holder signs in.
func TestE2E_Backup_RefusesWhatWouldHurt(t *testing.T) {
	t.Parallel()
	env := backupEnv()
	data := t.TempDir()
	p := serve(t, data, env)
	const email, pw = "holder@example.com", "violet canoe at dawn"
	signUpOver(t, newNetClient(t, p.URL, "192.0.2.10"), email, pw)
	backupFile := filepath.Join(t.TempDir(), "gatehouse.backup")
	pass := passphraseFile(t, backupPassphrase)

	if _, errs, code := cli(t, nil, nil, "backup", "--data", data, "--to", backupFile, "--passphrase-file", passphraseFile(t, "too short")); code != 1 || !strings.Contains(errs, "at least 12 characters") {
		t.Fatalf("short passphrase: %d %q", code, errs)
	}
	if _, err := os.Stat(backupFile); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a refused backup wrote %s", backupFile)
	}
	if out, errs, code := cli(t, nil, nil, "backup", "--data", data, "--to", backupFile, "--passphrase-file", pass); code != 0 {
		t.Fatalf("backup: %d\n%s%s", code, out, errs)
	}
	st, err := os.Stat(backupFile)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v %v", err, st.Mode())
	}
	raw, _ := os.ReadFile(backupFile)
	for _, k := range secretKeys(t, filepath.Join(data, "secrets.json")) {
		if bytes.Contains(raw, k) || bytes.Contains(raw, []byte(base64.StdEncoding.EncodeToString(k))) {
			t.Fatal("the backup file holds a key of the secrets file in clear")
		}
	}
	if bytes.Contains(raw, []byte(email)) || bytes.Contains(raw, []byte("SQLite format 3")) {
		t.Fatal("the backup file holds the database in clear")
	}

	empty := filepath.Join(t.TempDir(), "new")
	_, errs, code := cli(t, nil, nil, "restore", "--from", backupFile, "--passphrase-file", passphraseFile(t, "not the passphrase we chose"), "--data", empty)
	if code != 1 || !strings.Contains(errs, "the passphrase does not open this backup") || !strings.Contains(errs, "nothing was written") {
		t.Fatalf("wrong passphrase: %d %q", code, errs)
	}
	if _, err := os.Stat(empty); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a wrong passphrase wrote %s", empty)
	}
	_, errs, code = cli(t, nil, nil, "restore", "--from", backupFile, "--passphrase-file", pass, "--data", data)
	if code != 1 || !strings.Contains(errs, "an installation is already there") {
		t.Fatalf("over the installation without --force: %d %q", code, errs)
	}
	_, errs, code = cli(t, nil, nil, "restore", "--from", backupFile, "--passphrase-file", pass, "--data", data, "--force")
	if code != 1 || !strings.Contains(errs, "a server is running") {
		t.Fatalf("--force while the server runs: %d %q", code, errs)
	}
	if a := newNetClient(t, p.URL, "192.0.2.11").post("/signin", url.Values{"email": {email}, "password": {pw}}); a.location != "/account" {
		t.Fatalf("the running server after the refusals: %d %s", a.status, a.location)
	}
	if c := p.stop(); c != 0 {
		t.Fatalf("the server stopped with %d", c)
	}
	if out, errs, code := cli(t, nil, nil, "restore", "--from", backupFile, "--passphrase-file", pass, "--data", data, "--force"); code != 0 {
		t.Fatalf("--force on the stopped installation: %d\n%s%s", code, out, errs)
	}
	q := serve(t, data, env)
	if a := newNetClient(t, q.URL, "192.0.2.12").post("/signin", url.Values{"email": {email}, "password": {pw}}); a.location != "/account" {
		t.Fatalf("after the forced restore: %d %s", a.status, a.location)
	}
}

// pgTool finds a PostgreSQL client program: on the PATH, or beside the
// server binaries scripts/test uses. Without it the test skips, or fails
// under CI.
func pgTool(t *testing.T, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, v := range []string{"17", "16", "15"} {
		p := filepath.Join("/usr/lib/postgresql", v, "bin", name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if inCI() {
		t.Fatalf("%s not found under CI=true (Debian package postgresql-client)", name)
	}
	t.Skipf("%s not found", name)
	return ""
}

// TestE2E_Backup_PostgresRecipe runs the README's PostgreSQL recipe: a
// holder signs up (and adds an authenticator app) on a server on
// PostgreSQL; pg_dump dumps the database while it runs and `gatehouse
// backup` packs the secrets file and DKIM keys; the server goes away;
// pg_restore fills a fresh database, `gatehouse restore` fills a fresh
// data directory, and a server started on both lets the holder sign in
// with the password and the app.
func TestE2E_Backup_PostgresRecipe(t *testing.T) {
	t.Parallel()
	pgDump, pgRestore := pgTool(t, "pg_dump"), pgTool(t, "pg_restore")
	env := backupEnv()
	env["GATEHOUSE_DATABASE"] = pgtest.NewDatabase(t)
	data := t.TempDir()
	p := serve(t, data, env)
	const email, pw = "holder@example.com", "violet canoe at dawn"
	n := newNetClient(t, p.URL, "192.0.2.10")
	signUpOver(t, n, email, pw)
	uri, _ := enrolAppOver(t, n)

	dir := t.TempDir()
	dump, backupFile, pass := filepath.Join(dir, "gatehouse.pgdump"), filepath.Join(dir, "gatehouse-keys.backup"), passphraseFile(t, backupPassphrase)
	if out, err := exec.Command(pgDump, "--format=custom", "--file="+dump, "--dbname="+env["GATEHOUSE_DATABASE"]).CombinedOutput(); err != nil {
		t.Fatalf("pg_dump: %v\n%s", err, out)
	}
	out, errs, code := cli(t, nil, nil, "backup", "--database", env["GATEHOUSE_DATABASE"], "--data", data, "--to", backupFile, "--passphrase-file", pass)
	if code != 0 || !strings.Contains(out, "pg_dump") || strings.Contains(out, "the database (") {
		t.Fatalf("backup: %d\n%s%s", code, out, errs)
	}
	if c := p.stop(); c != 0 {
		t.Fatalf("the server stopped with %d", c)
	}

	fresh := pgtest.NewDatabase(t)
	if out, err := exec.Command(pgRestore, "--no-owner", "--exit-on-error", "--dbname="+fresh, dump).CombinedOutput(); err != nil {
		t.Fatalf("pg_restore: %v\n%s", err, out)
	}
	restored := t.TempDir()
	out, errs, code = cli(t, nil, nil, "restore", "--from", backupFile, "--passphrase-file", pass, "--data", restored)
	if code != 0 || !strings.Contains(out, "holds no database") {
		t.Fatalf("restore: %d\n%s%s", code, out, errs)
	}
	env["GATEHOUSE_DATABASE"] = fresh
	q := serve(t, restored, env)
	n.base = q.URL
	n.post("/signout", url.Values{})
	signInWithApp(t, n, email, pw, uri)
}
