package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"gatehouse/internal/password"
	"gatehouse/internal/pgtest"
)

// The benchmarks in this file are issue 20's closing figures: the account
// page over HTTP (requests per second, and database transactions per view
// on PostgreSQL), cold start with an existing data directory, and the CPU a
// sign-in costs the server outside the password hash. Each measures this
// tree's binary and, when GATEHOUSE_BENCH_BASELINE names another gatehouse
// binary, that one too, alternated round by round in the same run so that
// a busy machine slows both alike. scripts/bench-compare builds a1df8b0's
// binary and runs them:
//
//	scripts/bench-compare                   # against a1df8b0
//	GATEHOUSE_BENCH_BASELINE=/path/to/old/gatehouse GATEHOUSE_BENCH_ROUNDS=5 \
//	  go test ./e2e -run '^$' -bench 'AccountPage|ColdStartExisting|SignInCPU' -benchtime 1x -v
//
// Each reports new-* and old-* metrics (the median of the rounds; every
// round is logged with -v) and the ratio new ÷ old where it matters.

// contender is one binary being measured.
type contender struct{ name, bin string }

// contenders returns this tree's binary and the baseline, if any.
func contenders() []contender {
	cs := []contender{{"new", binary}}
	if old := os.Getenv("GATEHOUSE_BENCH_BASELINE"); old != "" {
		cs = append(cs, contender{"old", old})
	}
	return cs
}

// benchRounds is how many times each contender is measured
// (GATEHOUSE_BENCH_ROUNDS, default 3).
func benchRounds(b *testing.B) int {
	if s := os.Getenv("GATEHOUSE_BENCH_ROUNDS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			b.Fatalf("GATEHOUSE_BENCH_ROUNDS=%q", s)
		}
		return n
	}
	return 3
}

// alternate runs measure for every contender, rounds times, switching the
// order every round, and returns each contender's results.
func alternate(b *testing.B, cs []contender, measure func(round int, c contender) float64) map[string][]float64 {
	out := map[string][]float64{}
	for r := range benchRounds(b) {
		order := slices.Clone(cs)
		if r%2 == 1 {
			slices.Reverse(order)
		}
		for _, c := range order {
			out[c.name] = append(out[c.name], measure(r, c))
		}
	}
	return out
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}

// reportSides reports each contender's median as name-unit, logs every
// round with its spread, and, with a baseline, the ratio new ÷ old.
func reportSides(b *testing.B, res map[string][]float64, unit string) {
	for _, name := range []string{"new", "old"} {
		xs := res[name]
		if len(xs) == 0 {
			continue
		}
		b.ReportMetric(median(xs), name+"-"+unit)
		b.Logf("%s %s: rounds %s (spread %.0f%%)", name, unit, fmtRounds(xs), 100*(slices.Max(xs)-slices.Min(xs))/max(median(xs), 1e-9))
	}
	if len(res["old"]) > 0 && median(res["old"]) > 0 {
		b.ReportMetric(median(res["new"])/median(res["old"]), "new/old-"+unit)
	}
}

func fmtRounds(xs []float64) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = strconv.FormatFloat(x, 'f', 2, 64)
	}
	return strings.Join(parts, " ")
}

// signInCookies signs in over HTTP and returns the cookies the browser
// then holds (session and device).
func signInCookies(b *testing.B, base, email string, device *http.Cookie) []*http.Cookie {
	b.Helper()
	client := &http.Client{Timeout: time.Minute, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	form := url.Values{"email": {email}, "password": {loadPassword}}
	req, _ := http.NewRequest("POST", base+"/signin", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0.0.0 Safari/537.36")
	if device != nil {
		req.AddCookie(device)
	}
	resp, err := client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || !strings.HasSuffix(resp.Header.Get("Location"), "/account") {
		b.Fatalf("sign-in answered %d (Location %q)", resp.StatusCode, resp.Header.Get("Location"))
	}
	var out []*http.Cookie
	for _, c := range resp.Cookies() {
		out = append(out, &http.Cookie{Name: c.Name, Value: c.Value})
	}
	return out
}

// loadPage gets path with cookies from clients connections for dur and
// returns the 200s per second. Each connection writes the same request,
// serialised once, and reads the answer with http.ReadResponse: a client
// that costs a few microseconds a request, so that on a small machine the
// server, not the load generator, is what is measured.
func loadPage(b *testing.B, base, path string, cookies []*http.Cookie, clients int, dur time.Duration) float64 {
	u, err := url.Parse(base)
	if err != nil {
		b.Fatal(err)
	}
	req, _ := http.NewRequest("GET", base+path, nil)
	req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0.0.0 Safari/537.36")
	for _, c := range cookies {
		req.AddCookie(c)
	}
	var raw bytes.Buffer
	if err := req.Write(&raw); err != nil {
		b.Fatal(err)
	}
	var ok atomic.Int64
	var firstErr sync.Once
	start := time.Now()
	deadline := start.Add(dur)
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			conn, err := net.Dial("tcp", u.Host)
			if err != nil {
				firstErr.Do(func() { b.Errorf("GET %s: %v", path, err) })
				return
			}
			defer conn.Close()
			br := bufio.NewReaderSize(conn, 64<<10)
			for time.Now().Before(deadline) {
				if _, err := conn.Write(raw.Bytes()); err != nil {
					firstErr.Do(func() { b.Errorf("GET %s: %v", path, err) })
					return
				}
				resp, err := http.ReadResponse(br, req)
				if err != nil {
					firstErr.Do(func() { b.Errorf("GET %s: %v", path, err) })
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					firstErr.Do(func() { b.Errorf("GET %s answered %d", path, resp.StatusCode) })
					return
				}
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	return float64(ok.Load()) / time.Since(start).Seconds()
}

// pgStats reads a database's committed transactions from the cluster's
// statistics. Backends report theirs when they go idle, at most once a
// second, so a reading waits that long after the load.
type pgStats struct {
	conn *pgx.Conn
	db   string
}

func newPGStats(b *testing.B, dbURL string) *pgStats {
	u, err := url.Parse(dbURL)
	if err != nil {
		b.Fatal(err)
	}
	conn, err := pgx.Connect(context.Background(), pgtest.Admin(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close(context.Background()) })
	return &pgStats{conn: conn, db: strings.TrimPrefix(u.Path, "/")}
}

func (p *pgStats) commits(b *testing.B) int64 {
	time.Sleep(1500 * time.Millisecond) // see pgStats
	var n int64
	if err := p.conn.QueryRow(context.Background(), "SELECT xact_commit FROM pg_stat_database WHERE datname = $1", p.db).Scan(&n); err != nil {
		b.Fatal(err)
	}
	return n
}

// BenchmarkAccountPage measures GET /account over HTTP against a real
// `gatehouse serve` with four clients (two per CPU on the reference
// machine) keeping requests in flight, on SQLite and on PostgreSQL (with
// the session cache, on by default there): req/s, the server process's CPU
// time per view (the PostgreSQL server's is not in it), and on PostgreSQL the
// database transactions committed per view (pg_stat_database.xact_commit,
// less what the idle server commits in as long). Targets (issue 20): ≥ 3×
// a1df8b0's req/s, ≤ 1 transaction per view. GATEHOUSE_LOAD_SECONDS sets
// each round's length (default 3).
func BenchmarkAccountPage(b *testing.B) {
	dur := 3 * time.Second
	if s := os.Getenv("GATEHOUSE_LOAD_SECONDS"); s != "" {
		n, err := strconv.ParseFloat(s, 64)
		if err != nil || n <= 0 {
			b.Fatalf("GATEHOUSE_LOAD_SECONDS=%q", s)
		}
		dur = time.Duration(n * float64(time.Second))
	}
	for _, db := range []string{"sqlite", "postgres"} {
		b.Run(db, func(b *testing.B) {
			for b.Loop() {
				type side struct {
					srv     *benchServer
					cookies []*http.Cookie
					stats   *pgStats
					idle    float64 // transactions per second at rest
				}
				sides := map[string]*side{}
				cs := contenders()
				for _, c := range cs {
					env := map[string]string{"GATEHOUSE_SIGNIN_NEW_DEVICE_CHECK": "off"}
					s := &side{}
					if db == "postgres" {
						env["GATEHOUSE_DATABASE"] = pgtest.NewDatabase(b)
						s.stats = newPGStats(b, env["GATEHOUSE_DATABASE"])
					}
					data := b.TempDir()
					createAccountWith(b, c.bin, data, env, "holder@example.com")
					s.srv = serveBenchWith(b, c.bin, data, env)
					s.cookies = signInCookies(b, s.srv.url, "holder@example.com", nil)
					loadPage(b, s.srv.url, "/account", s.cookies, 1, 200*time.Millisecond) // warm up
					if s.stats != nil {
						x0 := s.stats.commits(b)
						time.Sleep(dur)
						s.idle = float64(s.stats.commits(b)-x0-0) / (dur + 1500*time.Millisecond).Seconds()
					}
					sides[c.name] = s
				}
				rates, cpu := map[string][]float64{}, map[string][]float64{}
				xacts := alternate(b, cs, func(round int, c contender) float64 {
					s := sides[c.name]
					var x0 int64
					if s.stats != nil {
						x0 = s.stats.commits(b)
					}
					t0, cpu0 := time.Now(), procCPU(b, s.srv.pid)
					rate := loadPage(b, s.srv.url, "/account", s.cookies, 4, dur)
					views := rate * dur.Seconds()
					rates[c.name] = append(rates[c.name], rate)
					cpu[c.name] = append(cpu[c.name], float64((procCPU(b, s.srv.pid)-cpu0).Microseconds())/views)
					if s.stats == nil {
						return 0
					}
					x := float64(s.stats.commits(b)-x0) - s.idle*time.Since(t0).Seconds()
					return max(x, 0) / views
				})
				reportSides(b, rates, "req/s")
				reportSides(b, cpu, "server-cpu-us/view")
				if db == "postgres" {
					reportSides(b, xacts, "xact/view")
				}
			}
		})
	}
}

// BenchmarkColdStartExisting measures `gatehouse serve` on a data directory
// used before (its database, secrets and keys made, an account in it):
// from exec to the first 200 from /healthz, the median of five starts per
// round. Target (issue 20): ≤ 15 ms.
func BenchmarkColdStartExisting(b *testing.B) {
	client := &http.Client{Timeout: time.Second}
	for b.Loop() {
		cs := contenders()
		dirs := map[string]string{}
		for _, c := range cs {
			data := b.TempDir()
			createAccountWith(b, c.bin, data, nil, "holder@example.com")
			srv := serveBenchWith(b, c.bin, data, nil) // the first start makes the keys
			srv.stop()
			dirs[c.name] = data
		}
		res := alternate(b, cs, func(round int, c contender) float64 {
			var starts []float64
			for range 5 {
				starts = append(starts, float64(coldStart(b, client, c.bin, dirs[c.name]).Microseconds())/1000)
			}
			return median(starts)
		})
		reportSides(b, res, "ms/start")
	}
}

// coldStart starts bin on data and returns the time to the first 200 from
// /healthz.
func coldStart(b *testing.B, client *http.Client, bin, data string) time.Duration {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	start := time.Now()
	cmd := exec.Command(bin, "serve", "--listen", addr, "--data", data)
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()
	for {
		resp, err := client.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return time.Since(start)
			}
		}
		if time.Since(start) > 10*time.Second {
			b.Fatal("no 200 from /healthz within 10 s")
		}
		time.Sleep(200 * time.Microsecond)
	}
}

// BenchmarkSignInCPU measures the CPU time the server process spends on
// one password sign-in (the 303 to /account, one client signing in again
// and again from its known browser) less the CPU time of the argon2id
// verification itself with the default parameters, measured in this
// process with the collector held off: what the rest of a sign-in costs —
// HTTP, the database driver, the queries, the collections the hashes'
// garbage triggers. On PostgreSQL (it also runs on SQLite). Target (issue
// 20): ≤ 3 ms on PostgreSQL. It also reports each server's peak RSS over
// the sign-ins and its RSS at rest after them.
func BenchmarkSignInCPU(b *testing.B) {
	for _, db := range []string{"postgres", "sqlite"} {
		b.Run(db, func(b *testing.B) {
			for b.Loop() {
				hash := hashCPU(b, 12)
				cs := contenders()
				type side struct {
					srv    *benchServer
					device *http.Cookie
				}
				sides := map[string]*side{}
				for _, c := range cs {
					env := map[string]string{"GATEHOUSE_SIGNIN_NEW_DEVICE_CHECK": "off"}
					if db == "postgres" {
						env["GATEHOUSE_DATABASE"] = pgtest.NewDatabase(b)
					}
					data := b.TempDir()
					createAccountWith(b, c.bin, data, env, "holder@example.com")
					s := &side{srv: serveBenchWith(b, c.bin, data, env)}
					for _, ck := range signInCookies(b, s.srv.url, "holder@example.com", nil) {
						if ck.Name == "__Host-gh_device" {
							s.device = ck
						}
					}
					sides[c.name] = s
				}
				const n = 100
				res := alternate(b, cs, func(round int, c contender) float64 {
					s := sides[c.name]
					t0 := procCPU(b, s.srv.pid)
					for range n {
						signInCookies(b, s.srv.url, "holder@example.com", s.device)
					}
					return (procCPU(b, s.srv.pid)-t0).Seconds()*1000/n - hash
				})
				b.ReportMetric(hash, "hash-cpu-ms")
				reportSides(b, res, "cpu-ms/signin")
				// Memory: the peak during the sign-ins, and what is left
				// once the server has been quiet long enough to hand
				// memory back (app.releaseWhenQuiet ticks every second).
				time.Sleep(3 * time.Second)
				for _, c := range cs {
					pid := sides[c.name].srv.pid
					b.ReportMetric(procMemMB(b, pid, "VmHWM"), c.name+"-peak-rss-MB")
					b.ReportMetric(procMemMB(b, pid, "VmRSS"), c.name+"-rest-rss-MB")
				}
			}
		})
	}
}

// hashCPU returns the median CPU time in ms of one verification with the
// default parameters in this process, with no collection during it.
func hashCPU(b *testing.B, n int) float64 {
	h := password.NewHasher(password.DefaultParams, []byte("a pepper for the benchmark, 32 bytes"), password.NewPool(1, 0))
	ctx := context.Background()
	stored, err := h.Hash(ctx, loadPassword)
	if err != nil {
		b.Fatal(err)
	}
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	var out []float64
	for i := range n + 2 {
		runtime.GC()
		t0 := selfCPU()
		if ok, _, _ := h.Verify(ctx, loadPassword, stored); !ok {
			b.Fatal("verify")
		}
		if i >= 2 {
			out = append(out, (selfCPU()-t0).Seconds()*1000)
		}
	}
	return median(out)
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// procMemMB returns a memory figure of /proc/PID/status (VmRSS, VmHWM) in
// MiB.
func procMemMB(b *testing.B, pid int, field string) float64 {
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.Lines(string(st)) {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			f := strings.Fields(rest) // "12345 kB"
			kb, _ := strconv.ParseFloat(f[0], 64)
			return kb / 1024
		}
	}
	b.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

// procCPU returns the user and system CPU time pid has used (fields 14
// and 15 of /proc/PID/stat, in clock ticks of 10 ms).
func procCPU(b *testing.B, pid int) time.Duration {
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	_, rest, _ := bytes.Cut(st, []byte(") "))
	f := strings.Fields(string(rest))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}
