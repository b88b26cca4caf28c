package postgres_test

import (
	"context"
	"testing"

	"gatehouse/internal/pgtest"
	"gatehouse/internal/postgres"
	"gatehouse/internal/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store {
		db, err := postgres.Open(context.Background(), pgtest.NewDatabase(t), 10, true)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}
