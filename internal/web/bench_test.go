package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gatehouse/internal/app"
	"gatehouse/internal/pgtest"
	"gatehouse/internal/request"
	"gatehouse/internal/totp"
)

// BenchmarkSignIn_EndToEnd signs in through the HTTP handler and the SQLite
// database, in parallel, with the default argon2id parameters. It reports
// sign-ins per second and their ratio to the hash-bound limit (CPUs ÷ the
// time of one verification, measured in the same run), which is the most
// any password sign-in can reach. Target: ratio ≥ 0.9.
func BenchmarkSignIn_EndToEnd(b *testing.B) { benchSignIn(b, nil) }

// BenchmarkSignIn_EndToEnd_PostgreSQL is the same on PostgreSQL.
func BenchmarkSignIn_EndToEnd_PostgreSQL(b *testing.B) {
	benchSignIn(b, map[string]string{"database": pgtest.NewDatabase(b)})
}

// BenchmarkSignIn_PasswordAndApp is a sign-in with two-step verification:
// the password, then the authenticator app's code on the second-step page
// (two requests, one argon2 verification, three HMACs for the TOTP window).
// Each sign-in uses its own account, because an account accepts each TOTP
// step once. Target: ratio ≥ 0.85 of the hash-bound limit.
func BenchmarkSignIn_PasswordAndApp(b *testing.B) { benchSignInApp(b, nil) }

func benchSignIn(b *testing.B, extra map[string]string) {
	cfg := map[string]string{"argon2.memory_kib": "19456", "argon2.iterations": "2", "argon2.queue": "1024"}
	for k, v := range extra {
		cfg[k] = v
	}
	h := newHarness(b, cfg)
	const pw = "benchmark violet canoe"
	ctx := context.Background()
	if _, err := h.app.Accounts.Create(ctx, "runner@example.com", pw, "en"); err != nil {
		b.Fatal(err)
	}
	acc, _ := h.app.DB.AccountByEmail(ctx, "runner@example.com")

	app.TuneMemory(0, 19456) // as serve does
	// The hash-bound limit, measured on this machine in this run: the median
	// of single verifications before and after the parallel run (a shared
	// machine is noisy; the median ignores the outliers).
	var probes []time.Duration
	probe := func(n int) {
		for range n {
			t0 := time.Now()
			if ok, _, _ := h.app.Hasher.Verify(ctx, pw, acc.PasswordHash); !ok {
				b.Fatal("verify")
			}
			probes = append(probes, time.Since(t0))
		}
	}
	probe(4)
	probes = probes[:0] // the first runs pay for fresh memory
	probe(24)

	handler := h.app.Web.Handler()
	body := url.Values{"email": {"runner@example.com"}, "password": {pw}}.Encode()
	b.SetParallelism(2) // enough requests in flight to keep every hashing worker busy
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		var device *http.Cookie
		for pb.Next() {
			req := httptest.NewRequest("POST", "/signin", strings.NewReader(body))
			req.RemoteAddr = "127.0.0.1:50000"
			req.Host = "127.0.0.1"
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", "http://"+req.Host)
			req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0.0.0 Safari/537.36")
			if device != nil {
				req.AddCookie(device)
			}
			w := httptest.NewRecorder()
			handler.ServeHTTP(w, req)
			if w.Code != http.StatusSeeOther {
				b.Errorf("sign-in answered %d", w.Code)
				return
			}
			for _, c := range w.Result().Cookies() {
				if c.Name == "__Host-gh_device" {
					device = c
				}
			}
		}
	})
	elapsed := time.Since(start)
	b.StopTimer()
	probe(24)
	slices.Sort(probes)
	perHash := probes[len(probes)/2]
	limit := float64(runtime.NumCPU()) / perHash.Seconds()
	rate := float64(b.N) / elapsed.Seconds()
	b.ReportMetric(rate, "signins/s")
	b.ReportMetric(limit, "hashbound/s")
	b.ReportMetric(rate/limit, "ratio")
	b.ReportMetric(float64(perHash.Microseconds())/1000, "ms/verify")
	if h.app.Pool.Refused() > 0 {
		b.Fatalf("%d sign-ins refused as busy", h.app.Pool.Refused())
	}
}

func benchSignInApp(b *testing.B, extra map[string]string) {
	cfg := map[string]string{"argon2.memory_kib": "19456", "argon2.iterations": "2", "argon2.queue": "1024"}
	for k, v := range extra {
		cfg[k] = v
	}
	h := newHarness(b, cfg)
	const pw = "benchmark violet canoe"
	ctx := context.Background()
	type holder struct{ email, secret string }
	holders := make([]holder, b.N)
	var mu sync.Mutex
	var wg sync.WaitGroup
	work := make(chan int)
	for range runtime.NumCPU() {
		wg.Go(func() {
			for i := range work {
				email := fmt.Sprintf("runner%d@example.com", i)
				a, err := h.app.Accounts.Create(ctx, email, pw, "en")
				if err != nil {
					b.Error(err)
					continue
				}
				app, key, err := h.app.TwoStep.Apps.Begin(ctx, a.ID, email)
				if err != nil {
					b.Error(err)
					continue
				}
				c, _ := totp.Code(key.Secret, totp.Step(time.Now()))
				if _, err := h.app.TwoStep.ConfirmApp(ctx, a, app.ID, "Phone", c, request.Origin{Time: time.Now()}); err != nil {
					b.Error(err)
					continue
				}
				mu.Lock()
				holders[i] = holder{email, key.Secret}
				mu.Unlock()
			}
		})
	}
	for i := range b.N {
		work <- i
	}
	close(work)
	wg.Wait()
	acc, _ := h.app.DB.AccountByEmail(ctx, "runner0@example.com")

	app.TuneMemory(0, 19456)
	var probes []time.Duration
	probe := func(n int) {
		for range n {
			t0 := time.Now()
			if ok, _, _ := h.app.Hasher.Verify(ctx, pw, acc.PasswordHash); !ok {
				b.Fatal("verify")
			}
			probes = append(probes, time.Since(t0))
		}
	}
	probe(4)
	probes = probes[:0]
	probe(24)

	handler := h.app.Web.Handler()
	var next atomic.Int64
	do := func(path, body string, device *http.Cookie) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", path, strings.NewReader(body))
		req.RemoteAddr = "127.0.0.1:50000"
		req.Host = "127.0.0.1"
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "http://"+req.Host)
		req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0.0.0 Safari/537.36")
		if device != nil {
			req.AddCookie(device)
		}
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, req)
		return w
	}
	b.SetParallelism(2)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			hd := holders[next.Add(1)-1]
			w := do("/signin", url.Values{"email": {hd.email}, "password": {pw}}.Encode(), nil)
			loc, _ := url.Parse(w.Header().Get("Location"))
			var device *http.Cookie
			for _, c := range w.Result().Cookies() {
				if c.Name == "__Host-gh_device" {
					device = c
				}
			}
			if w.Code != http.StatusSeeOther || loc == nil || loc.Path != "/signin/verify" || device == nil {
				b.Errorf("password step answered %d %q", w.Code, w.Header().Get("Location"))
				return
			}
			// The app's next code: the current step was spent confirming it.
			c, _ := totp.Code(hd.secret, totp.Step(time.Now())+1)
			w = do("/signin/verify", url.Values{"c": {loc.Query().Get("c")}, "method": {"app"}, "code": {c}}.Encode(), device)
			if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/account" {
				b.Errorf("app step answered %d %q", w.Code, w.Header().Get("Location"))
				return
			}
		}
	})
	elapsed := time.Since(start)
	b.StopTimer()
	probe(24)
	slices.Sort(probes)
	perHash := probes[len(probes)/2]
	limit := float64(runtime.NumCPU()) / perHash.Seconds()
	rate := float64(b.N) / elapsed.Seconds()
	b.ReportMetric(rate, "signins/s")
	b.ReportMetric(limit, "hashbound/s")
	b.ReportMetric(rate/limit, "ratio")
}
