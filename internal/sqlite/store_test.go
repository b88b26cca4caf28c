package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"gatehouse/internal/method/methodtest"
	"gatehouse/internal/sqlite"
	"gatehouse/internal/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store {
		db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"), true)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}

// TestMethods runs the second-step methods' conformance suite
// (internal/method/methodtest) on SQLite.
func TestMethods(t *testing.T) {
	methodtest.Run(t, func(t *testing.T) methodtest.Store {
		db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"), true)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}

// TestPrune runs the pruning suite (internal/retention) on SQLite.
func TestPrune(t *testing.T) {
	storetest.RunPrune(t, func(t *testing.T) storetest.PruneStore {
		db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"), true)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}

// TestActivityStore runs the activity, devices and answers suite on SQLite.
func TestActivityStore(t *testing.T) {
	storetest.RunActivity(t, func(t *testing.T) storetest.ActivityStore {
		db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"), true)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}

// TestOIDCStore runs the OpenID Connect provider's suite on SQLite.
func TestOIDCStore(t *testing.T) {
	storetest.RunOIDC(t, func(t *testing.T) storetest.OIDCStore {
		db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"), true)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}

// TestDeliveryStore runs the deliveries outbox suite on SQLite.
func TestDeliveryStore(t *testing.T) {
	storetest.RunDeliveries(t, func(t *testing.T) storetest.DeliveryStore {
		db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"), true)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}
