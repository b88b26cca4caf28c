package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"gatehouse/internal/account"
	"gatehouse/internal/random"
	"gatehouse/internal/session"
)

// seedSessions stores n live sessions spread over n/10 accounts in one
// transaction and returns their tokens.
func seedSessions(tb testing.TB, db *DB, n int) []string {
	tb.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	tokens := make([]string, n)
	err := db.tx(ctx, func(tx *sql.Tx) error {
		for i := range n / 10 {
			a := &account.Account{ID: fmt.Sprintf("acc%06d", i), Email: fmt.Sprintf("u%06d@example.com", i), PasswordHash: "x",
				Language: "en", Status: account.Active, CreatedAt: now, PasswordChangedAt: now}
			if err := insertAccount(ctx, tx, a); err != nil {
				return err
			}
		}
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO sessions (id, token_hash, account_id, device_id, created_at, last_seen_at, authenticated_at, idle_timeout_us, absolute_expires_at, remember, ip)
			VALUES (?, ?, ?, 'dev', ?, ?, ?, ?, ?, 0, '127.0.0.1')`)
		if err != nil {
			return err
		}
		for i := range n {
			tokens[i] = random.Token()
			if _, err := stmt.ExecContext(ctx, random.ID(), session.HashToken(tokens[i]), fmt.Sprintf("acc%06d", i/10),
				us(now), us(now), us(now), time.Hour.Microseconds(), us(now.Add(24*time.Hour))); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return tokens
}

// BenchmarkSessionCheck measures the work behind every signed-in request —
// cookie token → session → account — with 100,000 sessions stored, from
// parallel goroutines. Target: ≥ 50,000 checks/s on 2 cores.
func BenchmarkSessionCheck(b *testing.B) {
	db, err := Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"), true)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	tokens := seedSessions(b, db, 100_000)
	m := &session.Manager{Store: db, Lifetimes: session.Lifetimes{Idle: time.Hour, Absolute: 24 * time.Hour, Remember: 720 * time.Hour}}
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		r := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
		for pb.Next() {
			s, err := m.Check(ctx, tokens[r.IntN(len(tokens))])
			if err != nil || s.Account == nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "checks/s")
}

// BenchmarkOpenFresh is the database's share of a cold start: opening a new
// file and running every migration.
func BenchmarkOpenFresh(b *testing.B) {
	dir := b.TempDir()
	for i := 0; b.Loop(); i++ {
		db, err := Open(context.Background(), filepath.Join(dir, fmt.Sprintf("fresh%d.db", i)), true)
		if err != nil {
			b.Fatal(err)
		}
		db.Close()
	}
}
