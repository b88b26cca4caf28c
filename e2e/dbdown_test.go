package e2e

import (
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/pgtest"
)

// privateCluster starts a PostgreSQL cluster of the test's own, which it may
// stop and start without disturbing the other tests.
func privateCluster(t *testing.T) (url, dir string) {
	t.Helper()
	pgtest.Admin(t) // skip, or fail under CI, when PostgreSQL is not available
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(filepath.Join("..", "scripts", "pg-test-cluster"))
	cmd.Env = append(cmd.Environ(), "GATEHOUSE_TEST_PG_PORT="+strconv.Itoa(port))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("start a private cluster: %v\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(line, "dir="); ok {
			dir = v
		}
		if v, ok := strings.CutPrefix(line, "url="); ok {
			url = v
		}
	}
	t.Cleanup(func() { exec.Command(filepath.Join("..", "scripts", "pg-test-cluster"), "stop", dir).Run() })
	return url, dir
}

func cluster(t *testing.T, verb, dir string) {
	t.Helper()
	if out, err := exec.Command(filepath.Join("..", "scripts", "pg-test-cluster"), verb, dir).CombinedOutput(); err != nil {
		t.Fatalf("%s cluster: %v\n%s", verb, err, out)
	}
}

// TestDatabaseGoesAwayAndReturns: with PostgreSQL stopped under a running
// node, /readyz goes red and requests answer 503 quickly; when it returns,
// service resumes by itself.
func TestDatabaseGoesAwayAndReturns(t *testing.T) {
	db, dir := privateCluster(t)
	p := serve(t, t.TempDir(), nodeEnv(db, filepath.Join(t.TempDir(), "secrets.json")))
	client := &http.Client{Timeout: 10 * time.Second}
	ready := func() int {
		resp, err := client.Get(p.URL + "/readyz")
		if err != nil {
			t.Fatalf("readyz: %v", err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := ready(); s != 200 {
		t.Fatalf("readyz before: %d", s)
	}
	cluster(t, "pause", dir)
	if s := ready(); s != 503 {
		t.Fatalf("readyz with the database stopped: %d", s)
	}
	start := time.Now()
	st, _ := p.form(noRedirect(), "/signin", map[string]string{"email": "a@example.com", "password": "violet canoe at dawn"})
	if st != 503 || time.Since(start) > 5*time.Second {
		t.Fatalf("sign-in with the database stopped: %d after %v, want a quick 503", st, time.Since(start))
	}
	cluster(t, "resume", dir)
	deadline := time.Now().Add(15 * time.Second)
	for ready() != 200 {
		if time.Now().After(deadline) {
			t.Fatal("readyz did not turn green after the database came back")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if st, _ := p.form(noRedirect(), "/signin", map[string]string{"email": "a@example.com", "password": "violet canoe at dawn"}); st != 422 {
		t.Fatalf("sign-in after the database returned: %d, want 422 (unknown account)", st)
	}
	if code := p.stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}
}
