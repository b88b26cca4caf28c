// Package e2e holds the tests that run Gatehouse as a user or operator
// meets it: the real binary in its own process, a real SMTP server, and real
// headless Chromium. They need no mocks and no network beyond loopback.
package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var binary string // the gatehouse binary built once for the whole package

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gatehouse-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "gatehouse")
	build := exec.Command("go", "build", "-o", binary, "../cmd/gatehouse")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build gatehouse:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is one running `gatehouse serve`.
type proc struct {
	t      *testing.T
	cmd    *exec.Cmd
	URL    string
	Data   string
	mu     sync.Mutex
	output strings.Builder
	done   chan struct{}
	err    error
}

var urlLine = regexp.MustCompile(`Open (http://\S+)/ in your browser`)

// cheapArgon keeps hashing fast in process tests; the benchmarks use the defaults.
var cheapArgon = map[string]string{"GATEHOUSE_ARGON2_MEMORY_KIB": "8192", "GATEHOUSE_ARGON2_ITERATIONS": "1"}

// serve starts the binary on a free loopback port with the data directory
// and extra environment, and waits until it prints its URL.
func serve(t *testing.T, data string, env map[string]string) *proc {
	t.Helper()
	return serveOn(t, data, "127.0.0.1:0", env)
}

// serveOn is serve on the given listen address.
func serveOn(t *testing.T, data, listen string, env map[string]string) *proc {
	t.Helper()
	cmd := exec.Command(binary, "serve", "--listen", listen, "--data", data)
	// The new-device check (on by default) is off unless a test turns it
	// on: most tests sign in from a client the account has not used.
	cmd.Env = append(os.Environ(), "GATEHOUSE_LOG_LEVEL=debug", "GATEHOUSE_SIGNIN_NEW_DEVICE_CHECK=off")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	stdout, _ := cmd.StdoutPipe()
	stderr, _ := cmd.StderrPipe()
	p := &proc{t: t, cmd: cmd, Data: data, done: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	found := make(chan string, 1)
	var wg sync.WaitGroup
	copyOut := func(r io.Reader) {
		defer wg.Done()
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.output.WriteString(line + "\n")
			p.mu.Unlock()
			if m := urlLine.FindStringSubmatch(line); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
	}
	wg.Add(2)
	go copyOut(stdout)
	go copyOut(stderr)
	go func() { wg.Wait(); p.err = cmd.Wait(); close(p.done) }()
	select {
	case p.URL = <-found:
	case <-p.done:
		t.Fatalf("gatehouse exited before serving:\n%s", p.Output())
	case <-time.After(20 * time.Second):
		p.cmd.Process.Kill()
		t.Fatalf("gatehouse did not start:\n%s", p.Output())
	}
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("gatehouse output:\n%s", p.Output())
		}
	})
	return p
}

// Output returns everything the process printed.
func (p *proc) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.output.String()
}

// stop sends SIGTERM and returns the exit code.
func (p *proc) stop() int {
	p.t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		p.t.Fatalf("gatehouse did not stop on SIGTERM:\n%s", p.Output())
	}
	return p.cmd.ProcessState.ExitCode()
}

// form posts a form the way a browser on the site's own page does and
// returns the status and Location without following redirects.
func (p *proc) form(c *http.Client, path string, values map[string]string) (int, string) {
	p.t.Helper()
	var sb strings.Builder
	for k, v := range values {
		if sb.Len() > 0 {
			sb.WriteByte('&')
		}
		sb.WriteString(k + "=" + urlEscape(v))
	}
	req, _ := http.NewRequest("POST", p.URL+path, strings.NewReader(sb.String()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", p.URL)
	resp, err := c.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Location")
}

func urlEscape(s string) string {
	r := strings.NewReplacer("%", "%25", "&", "%26", "+", "%2B", " ", "+", "=", "%3D", "@", "%40")
	return r.Replace(s)
}

func noRedirect() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// inCI reports whether the tests run under CI, where a missing component
// fails the run instead of skipping the test.
func inCI() bool { return os.Getenv("CI") == "true" }

// createUser makes an account with the gatehouse command, as an operator
// does.
func createUser(t *testing.T, data string, env map[string]string, email, password string) {
	t.Helper()
	cmd := exec.Command(binary, "user", "create", "--data", data, "--email", email, "--password-stdin")
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdin = strings.NewReader(password + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("user create %s: %v\n%s", email, err, out)
	}
}

// formWith posts a form to base+path as a browser on the site's page
// (base: the address the browser uses), with c's cookies.
func (p *proc) formWith(c *http.Client, base, path string, values map[string]string) (int, string) {
	p.t.Helper()
	var sb strings.Builder
	for k, v := range values {
		if sb.Len() > 0 {
			sb.WriteByte('&')
		}
		sb.WriteString(k + "=" + urlEscape(v))
	}
	req, _ := http.NewRequest("POST", base+path, strings.NewReader(sb.String()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	resp, err := c.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Location")
}
