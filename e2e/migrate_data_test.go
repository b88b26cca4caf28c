package e2e

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gatehouse/internal/pgtest"
)

// TestMigrateData_SQLiteToPostgreSQLRoundTrip moves a populated embedded
// installation into PostgreSQL, twice, and signs in on a PostgreSQL node
// with every account's existing password and existing session.
func TestMigrateData_SQLiteToPostgreSQLRoundTrip(t *testing.T) {
	pg := pgtest.NewDatabase(t)
	data := t.TempDir()
	lite := serve(t, data, cheapArgon)
	passwords := map[string]string{}
	var keep = jarClient()
	for i := range 3 {
		email := fmt.Sprintf("mover-%d@example.com", i)
		pw := fmt.Sprintf("violet canoe number %d", i)
		c := jarClient()
		_, loc := lite.form(c, "/signup", map[string]string{"email": email, "password": pw})
		if st, _ := lite.form(c, "/signup/confirm", map[string]string{"c": mustQuery(t, loc, "c"), "code": latestCode(t, lite.URL, email)}); st != 303 {
			t.Fatalf("confirm %s: %d", email, st)
		}
		if i == 0 { // one password change, so there is history to move
			newPW := "a changed violet canoe"
			if st, _ := lite.form(c, "/account/password", map[string]string{"current_password": pw, "new_password": newPW}); st != 303 {
				t.Fatalf("change password: %d", st)
			}
			pw = newPW
			keep = c
		}
		passwords[email] = pw
	}
	lite.stop()

	migrate := func() string {
		out, err := exec.Command(binary, "migrate-data", "--from", "sqlite:"+filepath.Join(data, "gatehouse.db"), "--to", pg).CombinedOutput()
		if err != nil {
			t.Fatalf("migrate-data: %v\n%s", err, out)
		}
		return string(out)
	}
	first := migrate()
	second := migrate() // running it again must not duplicate anything
	counts := regexp.MustCompile(`(?m)^  (\w+)\s+(\d+)$`)
	if a, b := counts.FindAllString(first, -1), counts.FindAllString(second, -1); strings.Join(a, "|") != strings.Join(b, "|") || len(a) < 8 {
		t.Fatalf("counts changed on the second run:\n%s\n---\n%s", first, second)
	}
	if !strings.Contains(first, "accounts           3") || !strings.Contains(first, "password_history   1") {
		t.Fatalf("unexpected counts:\n%s", first)
	}

	node := serve(t, t.TempDir(), nodeEnv(pg, filepath.Join(data, "secrets.json")))
	for email, pw := range passwords {
		if st, loc := node.form(jarClient(), "/signin", map[string]string{"email": email, "password": pw}); st != 303 || loc != "/account" {
			t.Fatalf("sign in %s on PostgreSQL: %d %s", email, st, loc)
		}
	}
	moveCookies(keep, lite.URL, node.URL)
	if s := status(t, keep, node.URL+"/account"); s != 200 {
		t.Fatalf("a session from the SQLite installation on the PostgreSQL node: %d", s)
	}
	// Another installation's database is refused.
	other := pgtest.NewDatabase(t)
	otherNode := serve(t, t.TempDir(), nodeEnv(other, filepath.Join(t.TempDir(), "other-secrets.json")))
	otherNode.stop()
	out, err := exec.Command(binary, "migrate-data", "--from", "sqlite:"+filepath.Join(data, "gatehouse.db"), "--to", other).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "other secrets") {
		t.Fatalf("merging into another installation: %v\n%s", err, out)
	}
}
