package e2e

import (
	"net"
	"net/http"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// BenchmarkColdStart measures `gatehouse serve` on an empty data directory
// from exec to the first 200 from /healthz: creating the secrets file and
// the database, migrating, and starting to listen. Target: ≤ 300 ms.
func BenchmarkColdStart(b *testing.B) {
	client := &http.Client{Timeout: time.Second}
	var total time.Duration
	for b.Loop() {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		data := b.TempDir()
		start := time.Now()
		cmd := exec.Command(binary, "serve", "--listen", addr, "--data", data)
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		for {
			resp, err := client.Get("http://" + addr + "/healthz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					break
				}
			}
			if time.Since(start) > 10*time.Second {
				cmd.Process.Kill()
				b.Fatal("no 200 from /healthz within 10 s")
			}
			time.Sleep(500 * time.Microsecond)
		}
		total += time.Since(start)
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/start")
}
