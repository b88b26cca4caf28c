package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"database/sql"
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

// TestErase runs the account deletion suite on SQLite, counting rows
// through a connection of its own.
func TestErase(t *testing.T) {
	storetest.RunErase(t, func(t *testing.T) (storetest.EraseStore, storetest.Inspect) {
		path := filepath.Join(t.TempDir(), "t.db")
		db, err := sqlite.Open(context.Background(), path, true)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		raw, err := sql.Open("sqlite", "file:"+path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { raw.Close() })
		return db, storetest.Inspect{
			Tables: func(t *testing.T) map[string][]string {
				rows, err := raw.Query(`SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'`)
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
				if err := raw.QueryRow(`SELECT count(*) FROM `+table+` WHERE `+column+` = ?`, value).Scan(&n); err != nil {
					t.Fatalf("count %s: %v", table, err)
				}
				return n
			},
		}
	})
}

// TestOperatorStore runs the operators and audit trail suite on SQLite.
func TestOperatorStore(t *testing.T) {
	storetest.RunOperators(t, func(t *testing.T) storetest.OperatorStore {
		db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"), true)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}
