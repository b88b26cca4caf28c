package transfer

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"gatehouse/internal/pgtest"
	"gatehouse/internal/postgres"
	"gatehouse/internal/sqlite"
)

// pgOnly are the columns only the PostgreSQL schema has, with the reason:
// SQLite gives every table a rowid, PostgreSQL needs an explicit key.
var pgOnly = map[string]string{
	"password_history.id": "SQLite orders by rowid",
}

// sqliteSchema returns table → sorted columns of a freshly migrated SQLite
// database (without the migration bookkeeping).
func sqliteSchema(t *testing.T) map[string][]string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "schema.db")
	db, err := sqlite.Open(context.Background(), path, true)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	// The session change log (migration 0025, and SQLite's own table of
	// its sequence) is how one SQLite server hears of another process's
	// writes; PostgreSQL's nodes are notified instead, and a copy has no
	// use for it.
	rows, err := raw.Query(`SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p
		WHERE m.type = 'table' AND m.name NOT IN ('schema_migrations', 'session_changes', 'sqlite_sequence')`)
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
	for k := range out {
		slices.Sort(out[k])
	}
	return out
}

// TestSchemas_BothDialectsHaveTheSameTablesAndColumns: a table or column
// added to one dialect's migrations and forgotten in the other fails here,
// not in production.
func TestSchemas_BothDialectsHaveTheSameTablesAndColumns(t *testing.T) {
	t.Parallel()
	lite := sqliteSchema(t)
	url := pgtest.NewDatabase(t)
	db, err := postgres.Open(context.Background(), url, 2, true)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	rows, err := pool.Query(context.Background(), `SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = 'public' AND table_name <> 'schema_migrations'`)
	if err != nil {
		t.Fatal(err)
	}
	pg := map[string][]string{}
	for rows.Next() {
		var table, col string
		if err := rows.Scan(&table, &col); err != nil {
			t.Fatal(err)
		}
		if _, ok := pgOnly[table+"."+col]; ok {
			continue
		}
		pg[table] = append(pg[table], col)
	}
	rows.Close()
	for k := range pg {
		slices.Sort(pg[k])
	}
	for table, cols := range lite {
		if !slices.Equal(cols, pg[table]) {
			t.Errorf("table %s: SQLite has %v, PostgreSQL has %v", table, cols, pg[table])
		}
	}
	for table := range pg {
		if _, ok := lite[table]; !ok {
			t.Errorf("table %s exists only in PostgreSQL", table)
		}
	}
}

// TestCopy_CoversEveryTableAndColumnOfTheSchema: migrate-data must copy
// every table the schema has, every column of it, so that a table added
// later (two-step verification's) cannot be left behind.
func TestCopy_CoversEveryTableAndColumnOfTheSchema(t *testing.T) {
	t.Parallel()
	lite := sqliteSchema(t)
	copied := map[string]bool{}
	for _, tb := range tables {
		copied[tb.name] = true
		want := lite[tb.name]
		if want == nil {
			t.Errorf("migrate-data copies %s, which the schema does not have", tb.name)
			continue
		}
		got := slices.Clone(tb.columns)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("table %s: migrate-data copies %v, the schema has %v", tb.name, got, want)
		}
	}
	var missing []string
	for table := range lite {
		if !copied[table] {
			missing = append(missing, table)
		}
	}
	if len(missing) > 0 {
		t.Errorf("migrate-data does not copy: %s", strings.Join(missing, ", "))
	}
}
