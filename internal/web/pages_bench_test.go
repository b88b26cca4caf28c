package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/app"
	"gatehouse/internal/code"
	"gatehouse/internal/outbox"
	"gatehouse/internal/random"
	"gatehouse/internal/request"
)

// BenchmarkHolderPages measures the account page, the activity page and
// the message center of one holder, p50 and p99, on a seeded database. With
// GATEHOUSE_BENCH_DATABASE set (a database filled by `gatehouse seed`, e.g.
// 100,000 accounts × 50 attempts and 50 messages: 10,000,000 rows) it
// measures there; otherwise it seeds a small SQLite database itself (2,000
// accounts × 50) so that it runs anywhere. The target is p99 ≤ 10 ms.
//
//	go run ./cmd/gatehouse seed --database sqlite:/tmp/seed.db --data /tmp/seed
//	GATEHOUSE_BENCH_DATABASE=sqlite:/tmp/seed.db GATEHOUSE_BENCH_DATA=/tmp/seed \
//	  go test ./internal/web -run '^$' -bench HolderPages -benchtime 2000x
func BenchmarkHolderPages(b *testing.B) {
	// The 25 codes below go to one address at once: above the send limits.
	cfg := map[string]string{"limit.sends_per_10m": "1000", "limit.sends_per_day": "10000"}
	if db := os.Getenv("GATEHOUSE_BENCH_DATABASE"); db != "" {
		cfg["database"] = db
		if d := os.Getenv("GATEHOUSE_BENCH_DATA"); d != "" {
			cfg["data"] = d
		}
	}
	h := newHarness(b, cfg)
	if cfg["database"] == "" {
		if err := h.app.Seed(context.Background(), 0, 2000, 50, false, nil); err != nil {
			b.Fatal(err)
		}
	}
	// The holder: a seeded account in the middle, signed in once.
	br := h.browser("en")
	email := app.SeedEmail(1000)
	if r := br.post("/signin", url.Values{"email": {email}, "password": {app.SeedPassword}}); r.status != http.StatusSeeOther || r.location != "/account" {
		b.Fatalf("sign in as %s: %d %s", email, r.status, r.location)
	}
	// The holder's newest messages are codes for requests, so the message
	// center's first page reads every row's request and answers (the
	// seeded messages mostly carry none): its worst case.
	acc, err := h.app.DB.AccountByEmail(context.Background(), email)
	if err != nil {
		b.Fatal(err)
	}
	for range 25 {
		ch, _, err := h.app.Web.Codes.Issue(context.Background(), code.Challenge{Purpose: request.ResetPassword, AccountID: acc.ID,
			Destination: email, Origin: request.Origin{DeviceID: "bench", IP: "203.0.113.9", UserAgent: "Mozilla/5.0 Chrome/156.0.0.0"}}, false)
		if err != nil {
			b.Fatal(err)
		}
		now := time.Now()
		if err := h.app.DB.EnqueueMessage(context.Background(), &outbox.Message{ID: random.ID(), Reference: random.Reference(), AccountID: acc.ID,
			Purpose: request.ResetPassword, Cause: ch.Cause, ChallengeID: ch.ID, Channel: request.Email, To: email, Language: "en",
			Subject: "reset", Text: "reset code", CreatedAt: now, SentAt: now, Status: outbox.Sent, NextAttemptAt: now}); err != nil {
			b.Fatal(err)
		}
	}
	u, _ := url.Parse(h.base)
	cookies := br.client.Jar.Cookies(u)
	handler := h.app.Handler()
	// Another holder, with nothing waiting: the account page as most see it.
	quiet := h.browser("en")
	if r := quiet.post("/signin", url.Values{"email": {app.SeedEmail(1001)}, "password": {app.SeedPassword}}); r.status != http.StatusSeeOther {
		b.Fatalf("sign in as %s: %d", app.SeedEmail(1001), r.status)
	}
	quietCookies := quiet.client.Jar.Cookies(u)
	// /account puts the 25 unanswered resets above at its top (five of
	// them): its worst case too.
	for _, page := range []string{"/account#quiet", "/account", "/account/activity", "/account/messages", "/account/activity?failed=1"} {
		b.Run(strings.NewReplacer("/", "_", "?", "_", "=", "_", "#", "_").Replace(page), func(b *testing.B) {
			cookies := cookies
			if p, ok := strings.CutSuffix(page, "#quiet"); ok {
				page, cookies = p, quietCookies
			}
			lat := make([]time.Duration, 0, b.N)
			for b.Loop() {
				req := httptest.NewRequest("GET", page, nil)
				req.RemoteAddr = "127.0.0.1:50000"
				req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0.0.0 Safari/537.36")
				req.Host = u.Host
				for _, c := range cookies {
					req.AddCookie(c)
				}
				w := httptest.NewRecorder()
				t0 := time.Now()
				handler.ServeHTTP(w, req)
				lat = append(lat, time.Since(t0))
				if w.Code != 200 {
					b.Fatalf("%s: %d", page, w.Code)
				}
			}
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			if len(lat) > 0 {
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
			}
		})
	}
}
