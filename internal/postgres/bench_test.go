package postgres_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"gatehouse/internal/pgtest"
	"gatehouse/internal/postgres"
	"gatehouse/internal/random"
	"gatehouse/internal/session"
)

// seed stores n live sessions over n/10 accounts with COPY and returns the
// tokens of the first `active` of them (the working set requests come from).
func seed(b *testing.B, db *postgres.DB, n, active int) []string {
	ctx := context.Background()
	now := time.Now().UTC()
	accounts := make([][]any, n/10)
	for i := range accounts {
		id := fmt.Sprintf("acc%07d", i)
		accounts[i] = []any{id, id + "@example.com", id + "@example.com", "", "x", "en", "active", now, now, now}
	}
	if _, err := db.Pool().CopyFrom(ctx, pgx.Identifier{"accounts"},
		[]string{"id", "email", "email_key", "phone", "password_hash", "language", "status", "created_at", "confirmed_at", "password_changed_at"},
		pgx.CopyFromRows(accounts)); err != nil {
		b.Fatal(err)
	}
	tokens := make([]string, active)
	rows := make([][]any, n)
	for i := range rows {
		tok := random.Token()
		if i < active {
			tokens[i] = tok
		}
		rows[i] = []any{random.ID(), session.HashToken(tok), fmt.Sprintf("acc%07d", i/10), "dev", now, now, now, time.Hour.Microseconds(), now.Add(24 * time.Hour), false, "127.0.0.1"}
	}
	if _, err := db.Pool().CopyFrom(ctx, pgx.Identifier{"sessions"},
		[]string{"id", "token_hash", "account_id", "device_id", "created_at", "last_seen_at", "authenticated_at", "idle_timeout_us", "absolute_expires_at", "remember", "ip"},
		pgx.CopyFromRows(rows)); err != nil {
		b.Fatal(err)
	}
	db.Pool().Exec(ctx, "ANALYZE")
	rand.Shuffle(len(tokens), func(i, j int) { tokens[i], tokens[j] = tokens[j], tokens[i] })
	return tokens
}

// BenchmarkSessionCheck_1M measures cookie → session → account on
// PostgreSQL with 1,000,000 sessions stored, requests coming from 50,000
// active sessions, with and without the node's cache. Targets on 2 cores:
// ≥ 50,000/s with the cache, ≥ 5,000/s without.
func BenchmarkSessionCheck_1M(b *testing.B) {
	db, err := postgres.Open(context.Background(), pgtest.NewDatabase(b), 32, true)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	tokens := seed(b, db, 1_000_000, 50_000)
	lt := session.Lifetimes{Idle: time.Hour, Absolute: 24 * time.Hour, Remember: 720 * time.Hour}
	for _, tc := range []struct {
		name  string
		cache *session.Cache
	}{
		{"nocache", nil},
		{"cache", session.NewCache(30*time.Second, 100_000)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			m := &session.Manager{Store: db, Lifetimes: lt, Cache: tc.cache}
			var mu sync.Mutex
			var lat []time.Duration
			b.SetParallelism(8)
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				ctx := context.Background()
				r := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
				local := make([]time.Duration, 0, 1024)
				for pb.Next() {
					t0 := time.Now()
					s, err := m.Check(ctx, tokens[r.IntN(len(tokens))])
					if err != nil || s.Account == nil {
						b.Error(err)
						return
					}
					local = append(local, time.Since(t0))
				}
				mu.Lock()
				lat = append(lat, local...)
				mu.Unlock()
			})
			elapsed := time.Since(start)
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "checks/s")
			if len(lat) > 0 {
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50_µs")
				b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99_µs")
			}
		})
	}
}
