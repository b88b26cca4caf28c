package e2e

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/pgtest"
)

// nodeEnv is the environment of one node of a PostgreSQL installation: the
// shared database and the shared secrets file.
func nodeEnv(database, secrets string) map[string]string {
	env := map[string]string{"GATEHOUSE_DATABASE": database, "GATEHOUSE_SECRETS_FILE": secrets}
	for k, v := range cheapArgon {
		env[k] = v
	}
	return env
}

func jarClient() *http.Client {
	jar, _ := cookiejar.New(nil)
	c := noRedirect()
	c.Jar = jar
	return c
}

// moveCookies copies a browser's cookies from one node's URL to another's,
// as a load balancer in front of both makes them one site.
func moveCookies(c *http.Client, from, to string) {
	fu, _ := url.Parse(from)
	tu, _ := url.Parse(to)
	c.Jar.SetCookies(tu, c.Jar.Cookies(fu))
}

func status(t *testing.T, c *http.Client, u string) int {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestMultiNode_TwoProcessesOnOnePostgreSQL runs two real server processes
// on one database: a session signed out everywhere on B is refused by A
// within a second, a code used on A is refused on B, and a node with other
// secrets refuses to start.
func TestMultiNode_TwoProcessesOnOnePostgreSQL(t *testing.T) {
	db := pgtest.NewDatabase(t)
	secretsFile := filepath.Join(t.TempDir(), "secrets.json")
	a := serve(t, t.TempDir(), nodeEnv(db, secretsFile))
	b := serve(t, t.TempDir(), nodeEnv(db, secretsFile))

	// Sign up on A; the code arrives in the shared outbox; confirm on B.
	browser := jarClient()
	st, loc := a.form(browser, "/signup", map[string]string{"email": "nodes@example.com", "password": "violet canoe at dawn"})
	if st != 303 {
		t.Fatalf("signup on A: %d", st)
	}
	c := mustQuery(t, loc, "c")
	code := latestCode(t, b.URL, "nodes@example.com") // B's dev list reads the same database
	moveCookies(browser, a.URL, b.URL)
	if st, loc := b.form(browser, "/signup/confirm", map[string]string{"c": c, "code": code}); st != 303 || loc != "/account?notice=account_created" {
		t.Fatalf("confirm on B with A's code: %d %s", st, loc)
	}
	// The same code again, on A: refused — single use is decided by the database.
	if st, _ := a.form(jarClient(), "/signup/confirm", map[string]string{"c": c, "code": code}); st != 422 {
		t.Fatalf("the used code on A: %d, want 422", st)
	}

	// Sign in on A, sign out everywhere on B, the cookie dies on A.
	signedIn := jarClient()
	if st, _ := a.form(signedIn, "/signin", map[string]string{"email": "nodes@example.com", "password": "violet canoe at dawn"}); st != 303 {
		t.Fatalf("sign in on A: %d", st)
	}
	if s := status(t, signedIn, a.URL+"/account"); s != 200 {
		t.Fatalf("A's account page: %d", s)
	}
	other := jarClient()
	b.form(other, "/signin", map[string]string{"email": "nodes@example.com", "password": "violet canoe at dawn"})
	if st, _ := b.form(other, "/account/signout-everywhere", nil); st != 303 {
		t.Fatalf("sign out everywhere on B: %d", st)
	}
	start := time.Now()
	for status(t, signedIn, a.URL+"/account") != 303 {
		if time.Since(start) > time.Second {
			t.Fatal("A still accepts the session a second after B signed it out everywhere")
		}
		time.Sleep(20 * time.Millisecond)
	}

	// A third node without the secrets file refuses to start, generates
	// none, and says how to restore it.
	dir := t.TempDir()
	cmd := exec.Command(binary, "serve", "--listen", "127.0.0.1:0", "--data", dir)
	cmd.Env = append(cmd.Environ(), "GATEHOUSE_DATABASE="+db)
	out, _ := cmd.CombinedOutput()
	if cmd.ProcessState.ExitCode() == 0 || !strings.Contains(string(out), "secrets file") || !strings.Contains(string(out), "missing") {
		t.Fatalf("node without secrets: exit %d\n%s", cmd.ProcessState.ExitCode(), out)
	}
	if _, err := os.Stat(filepath.Join(dir, "secrets.json")); err == nil {
		t.Fatal("a secrets file was generated beside an existing installation")
	}
	// A third node with other secrets refuses to start, saying why.
	otherSecrets := filepath.Join(dir, "other-secrets.json")
	key := func() string { b := make([]byte, 32); rand.Read(b); return base64.StdEncoding.EncodeToString(b) }
	if err := os.WriteFile(otherSecrets, []byte(`{"hmac_key":"`+key()+`","encryption_key":"`+key()+`","pepper":"`+key()+`"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd = exec.Command(binary, "serve", "--listen", "127.0.0.1:0", "--data", dir)
	cmd.Env = append(cmd.Environ(), "GATEHOUSE_DATABASE="+db, "GATEHOUSE_SECRETS_FILE="+otherSecrets)
	out, _ = cmd.CombinedOutput()
	if cmd.ProcessState.ExitCode() == 0 || !strings.Contains(string(out), "secrets file does not match this database") {
		t.Fatalf("node with other secrets: exit %d\n%s", cmd.ProcessState.ExitCode(), out)
	}
	if code := a.stop(); code != 0 {
		t.Fatalf("A exit %d", code)
	}
	if code := b.stop(); code != 0 {
		t.Fatalf("B exit %d", code)
	}
}

func mustQuery(t *testing.T, location, key string) string {
	t.Helper()
	u, err := url.Parse(location)
	if err != nil || u.Query().Get(key) == "" {
		t.Fatalf("%q has no %s", location, key)
	}
	return u.Query().Get(key)
}
