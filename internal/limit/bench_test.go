package limit_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"gatehouse/internal/limit"
	"gatehouse/internal/pgtest"
	"gatehouse/internal/postgres"
	"gatehouse/internal/request"
	"gatehouse/internal/sqlite"
)

// BenchmarkSignInLimits is what the limits add to one password sign-in
// that is right, from a browser the account has not used: the device
// look-up, the network's counts, the guess counted before the hash, and
// the count given back after it (which a sign-in does inside its own
// transaction; here on its own). Goal (issue 18): at most 1 ms per
// sign-in. Sequential, so ns/op is the time one sign-in spends on them.
//
//	go test ./internal/limit -run '^$' -bench SignInLimits -benchtime 2000x
func BenchmarkSignInLimits(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) {
		db, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "b.db"), true)
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		benchLimits(b, db, db)
	})
	b.Run("postgres", func(b *testing.B) {
		db, err := postgres.Open(context.Background(), pgtest.NewDatabase(b), 4, true)
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		benchLimits(b, db, db)
	})
}

func benchLimits(b *testing.B, store limit.Store, devices limit.Devices) {
	l := limit.New(store, devices, limit.Defaults(), nil, nil)
	ctx := context.Background()
	i := 0
	for b.Loop() {
		i++
		g := limit.Guess{Secret: limit.Password, AccountID: fmt.Sprintf("acc%d", i%1000),
			Origin: request.Origin{DeviceID: fmt.Sprintf("dev%d", i), IP: fmt.Sprintf("198.51.%d.%d", i%200, i%250)}}
		t, err := l.Take(ctx, g)
		if err != nil {
			b.Fatal(err)
		}
		if err := t.Right(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
