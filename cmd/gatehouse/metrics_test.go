package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestCLI_ServeMetricsOnTheirOwnAddress: serve with metrics.listen opens a
// second listener that answers /metrics (and only it), while /metrics on
// the holders' address stays a 404; both stop on SIGTERM.
func TestCLI_ServeMetricsOnTheirOwnAddress(t *testing.T) {
	t.Setenv("GATEHOUSE_ARGON2_MEMORY_KIB", "8192")
	t.Setenv("GATEHOUSE_ARGON2_ITERATIONS", "1")
	t.Setenv("GATEHOUSE_METRICS_LISTEN", "127.0.0.1:0")
	data := filepath.Join(t.TempDir(), "data")
	var out, errs lockedBuffer
	done := make(chan int, 1)
	go func() { done <- run([]string{"serve", "--data", data, "--listen", "127.0.0.1:0"}, &out, &errs) }()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), "Gatehouse is running") {
		select {
		case code := <-done:
			t.Fatalf("serve exited %d: %s", code, errs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start: %s", errs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	stopped := false
	defer func() {
		if !stopped {
			syscall.Kill(os.Getpid(), syscall.SIGTERM)
			<-done
		}
	}()
	site := regexp.MustCompile(`Open (http://[^ ]+)/ in your browser`).FindStringSubmatch(out.String())
	mon := regexp.MustCompile(`Metrics are served at (http://[^ ]+)/metrics`).FindStringSubmatch(out.String())
	if site == nil || mon == nil {
		t.Fatalf("no addresses in %q", out.String())
	}
	if site[1] == mon[1] {
		t.Fatalf("metrics share the site's address %s", site[1])
	}
	get := func(u string) (int, string) {
		t.Helper()
		r, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		return r.StatusCode, string(b)
	}
	if code, _ := get(site[1] + "/healthz"); code != http.StatusOK {
		t.Fatalf("healthz: %d", code)
	}
	if code, _ := get(site[1] + "/metrics"); code != http.StatusNotFound {
		t.Fatalf("/metrics on the site: %d, want 404", code)
	}
	code, body := get(mon[1] + "/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d", code)
	}
	for _, want := range []string{
		`gatehouse_http_request_duration_seconds_count{route="GET /healthz"} 1`,
		`gatehouse_http_request_duration_seconds_count{route="unrouted"} 1`,
		`gatehouse_outbox_depth 0`,
		`gatehouse_signin_attempts_total{method="password",outcome="succeeded"} 0`,
		`go_goroutines `,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	// Only /metrics answers there: the pages are not on it.
	for _, path := range []string{"/healthz", "/signin", "/"} {
		if code, _ := get(mon[1] + path); code != http.StatusNotFound {
			t.Errorf("%s on the metrics address: %d, want 404", path, code)
		}
	}
	syscall.Kill(os.Getpid(), syscall.SIGTERM)
	stopped = true
	if code := <-done; code != 0 {
		t.Fatalf("serve: %d %s", code, errs.String())
	}
	if _, err := http.Get(mon[1] + "/metrics"); err == nil {
		t.Error("the metrics address still answers after the stop")
	}
}
