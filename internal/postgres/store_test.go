package postgres_test

import (
	"context"
	"errors"
	"testing"

	"gatehouse/internal/method/methodtest"
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

// TestMethods runs the second-step methods' conformance suite
// (internal/method/methodtest) on PostgreSQL.
func TestMethods(t *testing.T) {
	methodtest.Run(t, func(t *testing.T) methodtest.Store {
		db, err := postgres.Open(context.Background(), pgtest.NewDatabase(t), 10, true)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}

// TestPrune runs the pruning suite (internal/retention) on PostgreSQL.
func TestPrune(t *testing.T) {
	storetest.RunPrune(t, func(t *testing.T) storetest.PruneStore {
		db, err := postgres.Open(context.Background(), pgtest.NewDatabase(t), 10, true)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}

func TestOpen_RefusesNewerSchemaAndMigratesOnce(t *testing.T) {
	url := pgtest.NewDatabase(t)
	ctx := context.Background()
	// Two nodes starting at once both migrate; the advisory lock serialises them.
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			db, err := postgres.Open(ctx, url, 2, true)
			if err == nil {
				db.Close()
			}
			errs <- err
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatalf("concurrent migrate: %v", err)
		}
	}
	db, err := postgres.Open(ctx, url, 2, false)
	if err != nil {
		t.Fatal(err)
	}
	applied, known, _ := db.Version(ctx)
	if applied != known {
		t.Fatalf("applied %d, known %d", applied, known)
	}
	db.Pool().Exec(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (999, now())`)
	db.Close()
	if _, err := postgres.Open(ctx, url, 2, false); !errors.Is(err, postgres.ErrSchemaTooNew) {
		t.Fatalf("newer schema: %v", err)
	}
	if _, err := postgres.Open(ctx, url, 2, true); !errors.Is(err, postgres.ErrSchemaTooNew) {
		t.Fatalf("migrate on a newer schema: %v", err)
	}
}

// TestActivityStore runs the activity, devices and answers suite on
// PostgreSQL.
func TestActivityStore(t *testing.T) {
	storetest.RunActivity(t, func(t *testing.T) storetest.ActivityStore {
		db, err := postgres.Open(context.Background(), pgtest.NewDatabase(t), 10, true)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}

// TestOIDCStore runs the OpenID Connect provider's suite on PostgreSQL.
func TestOIDCStore(t *testing.T) {
	storetest.RunOIDC(t, func(t *testing.T) storetest.OIDCStore {
		db, err := postgres.Open(context.Background(), pgtest.NewDatabase(t), 10, true)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}

// TestDeliveryStore runs the deliveries outbox suite on PostgreSQL.
func TestDeliveryStore(t *testing.T) {
	storetest.RunDeliveries(t, func(t *testing.T) storetest.DeliveryStore {
		db, err := postgres.Open(context.Background(), pgtest.NewDatabase(t), 10, true)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}

// TestErase runs the account deletion suite on PostgreSQL.
func TestErase(t *testing.T) {
	storetest.RunErase(t, func(t *testing.T) (storetest.EraseStore, storetest.Inspect) {
		db, err := postgres.Open(context.Background(), pgtest.NewDatabase(t), 10, true)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		ctx := context.Background()
		return db, storetest.Inspect{
			Tables: func(t *testing.T) map[string][]string {
				rows, err := db.Pool().Query(ctx, `
					SELECT table_name, column_name FROM information_schema.columns
					WHERE table_schema = current_schema()`)
				if err != nil {
					t.Fatal(err)
				}
				defer rows.Close()
				out := map[string][]string{}
				for rows.Next() {
					var table, col string
					if err := rows.Scan(&table, &col); err != nil {
						t.Fatal(err)
					}
					out[table] = append(out[table], col)
				}
				return out
			},
			Count: func(t *testing.T, table, column, value string) int {
				var n int
				if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM `+table+` WHERE `+column+`::text = $1`, value).Scan(&n); err != nil {
					t.Fatalf("count %s: %v", table, err)
				}
				return n
			},
		}
	})
}

// TestOperatorStore runs the operators and audit trail suite on PostgreSQL.
func TestOperatorStore(t *testing.T) {
	storetest.RunOperators(t, func(t *testing.T) storetest.OperatorStore {
		db, err := postgres.Open(context.Background(), pgtest.NewDatabase(t), 10, true)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}
