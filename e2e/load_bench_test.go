package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"gatehouse/internal/password"
	"gatehouse/internal/pgtest"
)

// BenchmarkSignInLoad drives password sign-ins at a real `gatehouse serve`
// process with the default argon2id parameters, from 2, 8 and 64 clients
// that honour Retry-After on a 503, and from 64 "eager" clients that retry a
// 503 at once. Each configuration gets a fresh server and database. It
// reports
//
//   - signins/s: 303s to /account per second;
//   - hashbound/s: the most any password sign-in can reach on this machine,
//     hashing workers (one per CPU, as serve defaults to) ÷ the median time
//     of one verification, measured in this process before and after the
//     load, as internal/web's BenchmarkSignIn_EndToEnd does;
//   - ratio: signins/s ÷ hashbound/s;
//   - 503/s: refusals per second;
//   - peak-MiB: the highest VmRSS of the serve process, sampled every 50 ms
//     during the load;
//   - idle-MiB: its VmRSS at rest after start-up, before any sign-in;
//   - rest-MiB: its VmRSS at rest 3 s after the load ended.
//
// It runs on SQLite, and also on PostgreSQL when GATEHOUSE_TEST_POSTGRES is
// set (see internal/pgtest; scripts/pg-test-cluster starts a cluster).
// GATEHOUSE_LOAD_SECONDS sets the length of each load (default 4).
// GATEHOUSE_LOAD_ENV adds space-separated NAME=VALUE pairs to the serve
// process's environment only, to compare collector settings (GOGC=400
// GOMEMLIMIT=off is the collector before its memory was bounded);
// GATEHOUSE_LOAD_OUTPUT names a file that gets the serve process's output
// (with GODEBUG=gctrace=1 in GATEHOUSE_LOAD_ENV, its collections):
//
//	go test ./e2e -run '^$' -bench SignInLoad -benchtime 1x
func BenchmarkSignInLoad(b *testing.B) {
	cases := []struct {
		name    string
		clients int
		eager   bool
	}{
		{"clients=2", 2, false},
		{"clients=8", 8, false},
		{"clients=64", 64, false},
		{"clients=64-eager", 64, true},
	}
	for _, db := range []string{"sqlite", "postgres"} {
		b.Run(db, func(b *testing.B) {
			for _, c := range cases {
				b.Run(c.name, func(b *testing.B) {
					// Sign-ins that start sessions: the new-device check (on by
					// default) would stop each new client at its code.
					env := map[string]string{"GATEHOUSE_SIGNIN_NEW_DEVICE_CHECK": "off"}
					if db == "postgres" {
						env["GATEHOUSE_DATABASE"] = pgtest.NewDatabase(b)
					}
					benchLoad(b, env, c.clients, c.eager)
				})
			}
		})
	}
}

const loadPassword = "benchmark violet canoe"

func benchLoad(b *testing.B, env map[string]string, clients int, eager bool) {
	data := b.TempDir()
	accounts := min(clients, 8)
	for i := range accounts {
		createAccount(b, data, env, fmt.Sprintf("runner%d@example.com", i))
	}
	serveEnv := maps.Clone(env)
	for _, kv := range strings.Fields(os.Getenv("GATEHOUSE_LOAD_ENV")) {
		k, v, _ := strings.Cut(kv, "=")
		serveEnv[k] = v
	}
	srv := serveBench(b, data, serveEnv)

	hashTime := probeHash(b, 16)
	time.Sleep(3 * time.Second) // at rest, as after the load
	idle := rss(b, srv.pid)

	dur := 4 * time.Second
	if s := os.Getenv("GATEHOUSE_LOAD_SECONDS"); s != "" {
		n, err := strconv.ParseFloat(s, 64)
		if err != nil || n <= 0 {
			b.Fatalf("GATEHOUSE_LOAD_SECONDS=%q", s)
		}
		dur = time.Duration(n * float64(time.Second))
	}

	var signins, refused int64
	var elapsed time.Duration
	var peak, faults int64
	for b.Loop() {
		stop := sampleRSS(srv.pid)
		f0 := minorFaults(srv.pid)
		s, r, e := drive(b, srv.url, clients, accounts, eager, dur)
		peak = max(peak, stop())
		faults += minorFaults(srv.pid) - f0
		signins += s
		refused += r
		elapsed += e
	}
	time.Sleep(3 * time.Second)
	rest := rss(b, srv.pid)
	hashTime = append(hashTime, probeHash(b, 16)...)
	slices.Sort(hashTime)
	perHash := hashTime[len(hashTime)/2]
	bound := float64(runtime.NumCPU()) / perHash.Seconds()
	rate := float64(signins) / elapsed.Seconds()

	b.ReportMetric(rate, "signins/s")
	b.ReportMetric(bound, "hashbound/s")
	b.ReportMetric(rate/bound, "ratio")
	b.ReportMetric(float64(refused)/elapsed.Seconds(), "503/s")
	b.ReportMetric(float64(peak)/1024, "peak-MiB")
	b.ReportMetric(float64(idle)/1024, "idle-MiB")
	b.ReportMetric(float64(rest)/1024, "rest-MiB")
	b.ReportMetric(float64(perHash.Microseconds())/1000, "ms/hash")
	if signins > 0 {
		// Pages the server faulted in per sign-in: memory handed back to
		// the system during the load and taken again costs a fault a page.
		b.ReportMetric(float64(faults)/float64(signins), "faults/signin")
	}
	if signins == 0 {
		b.Fatal("no sign-in succeeded")
	}
}

// createAccount runs `gatehouse user create` against the data directory.
func createAccount(b *testing.B, data string, env map[string]string, email string) {
	b.Helper()
	createAccountWith(b, binary, data, env, email)
}

// createAccountWith is createAccount with another gatehouse binary.
func createAccountWith(b *testing.B, bin, data string, env map[string]string, email string) {
	b.Helper()
	cmd := exec.Command(bin, "user", "create", "--data", data, "--email", email, "--password-stdin")
	cmd.Env = benchEnv(env)
	cmd.Stdin = strings.NewReader(loadPassword + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("user create %s: %v\n%s", email, err, out)
	}
}

func benchEnv(env map[string]string) []string {
	e := os.Environ()
	for k, v := range env {
		e = append(e, k+"="+v)
	}
	return e
}

// benchServer is one `gatehouse serve` at its default log level (the
// process tests' serve logs at debug, which a load would pay for).
type benchServer struct {
	url  string
	pid  int
	stop func() // ends the process and waits for it (also done at cleanup)
}

func serveBench(b *testing.B, data string, env map[string]string) *benchServer {
	b.Helper()
	return serveBenchWith(b, binary, data, env)
}

// serveBenchWith is serveBench with another gatehouse binary. Its stop
// function ends the process (also done at cleanup, once).
func serveBenchWith(b *testing.B, bin, data string, env map[string]string) *benchServer {
	b.Helper()
	cmd := exec.Command(bin, "serve", "--listen", "127.0.0.1:0", "--data", data)
	cmd.Env = benchEnv(env)
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout // one pipe, drained below
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	var keep io.Writer = io.Discard
	if name := os.Getenv("GATEHOUSE_LOAD_OUTPUT"); name != "" {
		f, err := os.OpenFile(name, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { f.Close() })
		fmt.Fprintf(f, "=== %s\n", b.Name())
		keep = f
	}
	var mu sync.Mutex
	var tail bytes.Buffer // the last output, for a failure message
	found := make(chan string, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(keep, line)
			if m := urlLine.FindStringSubmatch(line); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
			mu.Lock()
			if tail.Len() > 64<<10 {
				rest := tail.Bytes()[32<<10:]
				tail.Reset()
				tail.Write(rest)
			}
			tail.WriteString(line + "\n")
			mu.Unlock()
		}
		io.Copy(io.Discard, out) // after an over-long line: keep draining
	}()
	output := func() string { mu.Lock(); defer mu.Unlock(); return tail.String() }
	s := &benchServer{pid: cmd.Process.Pid}
	select {
	case s.url = <-found:
	case <-done:
		cmd.Wait()
		b.Fatalf("gatehouse exited before serving:\n%s", output())
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		b.Fatalf("gatehouse did not start:\n%s", output())
	}
	var once sync.Once
	s.stop = func() {
		once.Do(func() {
			cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				cmd.Process.Kill()
				<-done
			}
			cmd.Wait()
			if b.Failed() {
				b.Logf("gatehouse output (tail):\n%s", output())
			}
		})
	}
	b.Cleanup(s.stop)
	return s
}

// drive runs clients sign-in loops for dur and returns the sign-ins, the
// 503s and the time taken (until the last request in flight answered).
func drive(b *testing.B, base string, clients, accounts int, eager bool, dur time.Duration) (signins, refused int64, elapsed time.Duration) {
	tr := &http.Transport{MaxIdleConnsPerHost: clients, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{
		Transport:     tr,
		Timeout:       time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	var ok, busy, other atomic.Int64
	var firstErr sync.Once
	start := time.Now()
	deadline := start.Add(dur)
	var wg sync.WaitGroup
	for i := range clients {
		body := fmt.Sprintf("email=runner%d%%40example.com&password=%s", i%accounts, strings.ReplaceAll(loadPassword, " ", "+"))
		wg.Go(func() {
			var device *http.Cookie
			for time.Now().Before(deadline) {
				req, _ := http.NewRequest("POST", base+"/signin", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("Origin", base)
				req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0.0.0 Safari/537.36")
				if device != nil {
					req.AddCookie(device)
				}
				resp, err := client.Do(req)
				if err != nil {
					other.Add(1)
					firstErr.Do(func() { b.Errorf("sign-in: %v", err) })
					time.Sleep(10 * time.Millisecond)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				switch {
				case resp.StatusCode == http.StatusSeeOther && strings.HasSuffix(resp.Header.Get("Location"), "/account"):
					ok.Add(1)
					for _, c := range resp.Cookies() {
						if c.Name == "__Host-gh_device" {
							device = &http.Cookie{Name: c.Name, Value: c.Value}
						}
					}
				case resp.StatusCode == http.StatusServiceUnavailable:
					busy.Add(1)
					if !eager {
						// A polite client waits as long as it is told
						// (with a little jitter so that clients spread out).
						wait, err := strconv.Atoi(resp.Header.Get("Retry-After"))
						if err != nil || wait < 1 {
							wait = 1
						}
						d := time.Duration(wait)*time.Second + time.Duration(i)*time.Duration(wait)*time.Second/time.Duration(4*clients)
						if left := time.Until(deadline); d > left {
							d = max(left, 0)
						}
						time.Sleep(d)
					}
				default:
					other.Add(1)
					firstErr.Do(func() { b.Errorf("sign-in answered %d (Location %q)", resp.StatusCode, resp.Header.Get("Location")) })
				}
			}
		})
	}
	wg.Wait()
	return ok.Load(), busy.Load(), time.Since(start)
}

// probeHash times n verifications with the default parameters in this
// process, after two to warm up.
func probeHash(b *testing.B, n int) []time.Duration {
	h := password.NewHasher(password.DefaultParams, []byte("a pepper for the benchmark, 32 bytes"), password.NewPool(1, 0))
	ctx := context.Background()
	stored, err := h.Hash(ctx, loadPassword)
	if err != nil {
		b.Fatal(err)
	}
	var out []time.Duration
	for i := range n + 2 {
		t0 := time.Now()
		if ok, _, _ := h.Verify(ctx, loadPassword, stored); !ok {
			b.Fatal("verify")
		}
		if i >= 2 {
			out = append(out, time.Since(t0))
		}
	}
	return out
}

var vmRSS = regexp.MustCompile(`(?m)^VmRSS:\s+(\d+) kB`)

// rss returns the resident set of pid in KiB.
func rss(b *testing.B, pid int) int64 {
	n, err := rssKiB(pid)
	if err != nil {
		b.Fatal(err)
	}
	return n
}

func rssKiB(pid int) (int64, error) {
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	m := vmRSS.FindSubmatch(st)
	if m == nil {
		return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
	}
	return strconv.ParseInt(string(m[1]), 10, 64)
}

// sampleRSS samples pid's VmRSS every 50 ms until the returned function is
// called, which returns the highest sample in KiB.
func sampleRSS(pid int) (stop func() int64) {
	quit := make(chan struct{})
	res := make(chan int64)
	go func() {
		sample := func() int64 { n, _ := rssKiB(pid); return n }
		peak := sample()
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				peak = max(peak, sample())
			case <-quit:
				res <- max(peak, sample())
				return
			}
		}
	}()
	return func() int64 { close(quit); return <-res }
}

// minorFaults returns the minor page faults pid has taken (field 10 of
// /proc/PID/stat), or 0 if it cannot be read.
func minorFaults(pid int) int64 {
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	_, rest, _ := bytes.Cut(st, []byte(") "))
	f := strings.Fields(string(rest))
	if len(f) < 8 {
		return 0
	}
	n, _ := strconv.ParseInt(f[7], 10, 64) // field 10 is the 8th after ") "
	return n
}
